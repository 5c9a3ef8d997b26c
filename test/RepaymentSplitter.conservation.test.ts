import { expect } from "chai";
import fc from "fast-check";
import { id, MaxUint256, Wallet, ZeroHash } from "ethers";
import { loanIdOf, LoanStatus, Role, ScheduleKind } from "../src/client/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, networkHelpers, termsFor, time } from "./fixtures.js";

const MAX_LENDERS = 500;
const BATCH = 250;

/** The alliance with an insurer, a payer, and 500 allowlisted lenders that hold tokens and approved the splitter. */
async function manyLendersFixture() {
  const f = await deployAllianceFixture();
  const [insurer, payer] = (await ethers.getSigners()).slice(7, 9);
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  await f.token.mint(payer, 2n ** 120n);
  await f.token.connect(payer).approve(f.splitter, MaxUint256);
  const kycExpiry = (await time.latest()) + 3650 * DAY;
  const lenders = [];
  for (let i = 0; i < MAX_LENDERS; i += 1) {
    const address = Wallet.createRandom().address;
    await networkHelpers.setBalance(address, 10n ** 20n);
    const lender = await ethers.getImpersonatedSigner(address);
    await f.alliance.connect(f.platformA).allowLender(lender, kycExpiry);
    await f.token.mint(lender, 2n ** 100n);
    await f.token.connect(lender).approve(f.splitter, MaxUint256);
    lenders.push(lender);
  }
  return { ...f, insurer, payer, lenders };
}

/** One random loan life: who funds what, the rates, and a sequence of repayments, share transfers and payouts. */
const scenarioArb = fc
  .record({
    lenderCount: fc.integer({ min: 1, max: MAX_LENDERS }),
    unit: fc.bigInt({ min: 1n, max: 10n ** 18n }),
    weightSeed: fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: MAX_LENDERS, maxLength: MAX_LENDERS }),
    platformFeeBps: fc.integer({ min: 0, max: 300 }),
    premiumBps: fc.integer({ min: 0, max: 200 }),
    reserveBps: fc.integer({ min: 0, max: 100 }),
    annualRateBps: fc.integer({ min: 0, max: 3_000 }),
    scheduleKind: fc.constantFrom(...Object.values(ScheduleKind)),
    installments: fc.integer({ min: 1, max: 12 }),
    steps: fc.array(
      fc.record({
        lateDays: fc.integer({ min: 0, max: 20 }),
        prepaymentPermille: fc.constantFrom(0, 0, 0, 50, 400, 1_000),
        // A permille of 1 000 sells the whole share: the seller keeps only what it earned before.
        transfer: fc.option(
          fc.record({ from: fc.nat(), to: fc.nat(), permille: fc.constantFrom(1, 250, 500, 999, 1_000, 1_000) }),
        ),
        pushTo: fc.option(fc.nat()),
        // Governance hands the loan's servicing to platform B, or back to A, its originator, before the repayment.
        servicer: fc.option(fc.constantFrom("A", "B")),
        // Every payee withdraws what it is owed after the repayment (fees, the reserve's contributions).
        withdraw: fc.constantFrom(false, false, true),
      }),
      { minLength: 1, maxLength: 12 },
    ),
  })
  .map((s) => ({ ...s, weights: s.weightSeed.slice(0, s.lenderCount) }));

function withLenders(lenderCount: number, seed: number) {
  const sample = fc.sample(scenarioArb, { numRuns: 1, seed })[0];
  return { ...sample, lenderCount, weights: sample.weightSeed.slice(0, lenderCount) };
}

/** A loan handed to B and back to its originator, with withdrawals between its repayments. */
function handedBack() {
  const s = withLenders(3, 3);
  const step = { lateDays: 0, prepaymentPermille: 0, transfer: null, pushTo: null };
  const plan = [
    { servicer: null, withdraw: false },
    { servicer: "B" as const, withdraw: true },
    { servicer: "A" as const, withdraw: false },
    { servicer: null, withdraw: true },
  ];
  return {
    ...s,
    installments: 6,
    scheduleKind: ScheduleKind.EqualInstallment,
    platformFeeBps: 150,
    reserveBps: 50,
    steps: plan.map((p) => ({ ...step, ...p })),
  };
}

describe("RepaymentSplitter conservation (property)", function () {
  it("conserves every wei paid in, stays solvent, and pays no lender beyond its share", async function () {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const f = await loadFixture(manyLendersFixture);
        const lenders = f.lenders.slice(0, s.lenderCount);
        const commitments = s.weights.map((w) => BigInt(w) * s.unit);
        const principal = commitments.reduce((a, b) => a + b, 0n);
        const terms = await termsFor(f.platformA, {
          principal,
          annualRateBps: s.annualRateBps,
          scheduleKind: s.scheduleKind,
          // A bullet loan is one installment.
          installments: s.scheduleKind === ScheduleKind.Bullet ? 1 : s.installments,
          fundingDeadline: (await time.latest()) + 30 * DAY,
        });
        const loanId = loanIdOf(terms);
        await f.loans.connect(f.platformA).anchorLoan(terms);
        await f.splitter.connect(f.platformA).openFunding(terms, {
          borrowerPayout: f.outsider.address,
          insurer: f.insurer.address,
          platformFeeBps: s.platformFeeBps,
          premiumBps: s.premiumBps,
          reserveBps: s.reserveBps,
        });
        // The insurer covers the loan, so its premium is its fee (without cover it would go to the lenders).
        await f.token.mint(f.insurer, terms.principal);
        await f.token.connect(f.insurer).approve(f.insurance, terms.principal);
        await f.insurance.connect(f.insurer).depositCapital(terms.principal);
        await f.insurance.connect(f.insurer).writePolicy(terms, 10_000, (await time.latest()) + 3650 * DAY);
        for (const [i, lender] of lenders.entries()) await f.splitter.connect(lender).fund(terms, commitments[i]);

        // Fees owed: the platform's, the insurer's, the reserve fund's (rounding remainders) and the platform's reserve
        // contributions, which the fund collects per platform.
        const payees = [f.platformA, f.platformB, f.insurer];
        const owedToPayees = async () => [
          ...(await Promise.all(payees.map((p) => f.splitter.feesOwed(p)))),
          await f.splitter.reserveOwed(f.platformA),
          await f.splitter.reserveOwed(f.platformB),
          await f.splitter.remaindersOwed(),
        ];
        // What the payees withdrew along the way, each withdrawal checked against what it was owed.
        let withdrawn = 0n;
        let servicer = f.platformA;
        const feesBefore = await owedToPayees();
        const balancesBefore = await Promise.all(lenders.map((l) => f.token.balanceOf(l)));
        // The model: each lender's current shares, and its exact entitlement as a numerator over the principal.
        const shares = [...commitments];
        const entitled = lenders.map(() => 0n);
        let paidIn = 0n;

        for (const step of s.steps) {
          const state = await f.loans.loanState(loanId);
          if (Number(state.status) === LoanStatus.Repaid) break;
          // Half a day off the day boundary: late interest counts started days, and the payment lands a second after the quote.
          await time.increase(terms.period + step.lateDays * DAY + DAY / 2);
          const next = step.servicer === "B" ? f.platformB : step.servicer === "A" ? f.platformA : servicer;
          if (next !== servicer) {
            await f.succession.transferServicing([terms], next);
            servicer = next;
          }
          if (Number((await f.loans.loanState(loanId)).status) === LoanStatus.Active && step.lateDays > 3) {
            await f.loans.connect(servicer).markLate(terms);
          }
          const [due, total] = await f.splitter.amountDue(terms);
          const now = await f.loans.loanState(loanId);
          // Prepayment is taken only once no later installment has fallen due (the registry's rule).
          const laterDue = Number(now.activatedAt) + (Number(now.installmentsPaid) + 2) * terms.period;
          const permille = (await time.latest()) + 1 >= laterDue ? 0 : step.prepaymentPermille;
          const prepayment = ((now.outstandingPrincipal - due.principal) * BigInt(permille)) / 1_000n;
          const amount = total + prepayment;
          const receipt = await (await f.splitter.connect(f.payer).repayLoan(terms, amount, ZeroHash)).wait();
          paidIn += amount;
          const split = f.splitter.interface.parseLog(
            receipt!.logs.find((l) => l.topics[0] === f.splitter.interface.getEvent("RepaymentSplit").topicHash)!,
          )!.args.split;
          const lendersPart = split.lateInterest + split.interest + split.principal + split.prepayment;
          for (let i = 0; i < lenders.length; i += 1) entitled[i] += lendersPart * shares[i];

          if (step.transfer && lenders.length > 1) {
            const from = step.transfer.from % lenders.length;
            const to = (from + 1 + (step.transfer.to % (lenders.length - 1))) % lenders.length;
            const moved = (shares[from] * BigInt(step.transfer.permille)) / 1_000n;
            if (moved > 0n && (await f.splitter.bookOf(loanId)).phase === 2n) {
              await f.splitter.connect(lenders[from]).transferShare(loanId, lenders[to], moved);
              shares[from] -= moved;
              shares[to] += moved;
            }
          }
          if (step.withdraw) {
            for (const payee of payees) {
              const owed = await f.splitter.feesOwed(payee);
              if (owed === 0n) continue;
              await expect(f.splitter.connect(payee).withdrawFees(payee)).to.changeTokenBalance(
                ethers,
                f.token,
                payee,
                owed,
              );
              withdrawn += owed;
            }
            const toReserve = (await f.splitter.reserveOwed(f.platformA)) + (await f.splitter.remaindersOwed());
            await expect(f.reserve.collect([f.platformA.address])).to.changeTokenBalance(
              ethers,
              f.token,
              f.reserve,
              toReserve,
            );
            withdrawn += toReserve;
          }
          if (step.pushTo !== null) {
            const count = 1 + (step.pushTo % lenders.length);
            await f.splitter.payout(
              loanId,
              lenders.slice(0, Math.min(count, BATCH)).map((l) => l.address),
            );
          }
        }

        // Solvency before the final payouts: the balance covers everything owed to lenders and payees.
        const owedToLenders = await Promise.all(lenders.map((l) => f.splitter.owedTo(loanId, l)));
        const feesNow = await owedToPayees();
        const owedTotal = owedToLenders.reduce((a, b) => a + b, 0n) + feesNow.reduce((a, b) => a + b, 0n);
        expect(await f.token.balanceOf(f.splitter)).to.be.at.least(owedTotal);

        // Shareholders first, and lenders that sold every share last, in separate batches: the remainder must not be
        // swept before the sellers are paid what they earned.
        const ordered = [
          ...lenders.filter((_, i) => shares[i] > 0n),
          ...lenders.filter((_, i) => shares[i] === 0n),
        ].map((l) => l.address);
        const holders = shares.filter((v) => v > 0n).length;
        for (const batch of [ordered.slice(0, holders), ordered.slice(holders)]) {
          for (let i = 0; i < batch.length; i += BATCH) await f.splitter.payout(loanId, batch.slice(i, i + BATCH));
        }
        const received = await Promise.all(
          lenders.map(async (l, i) => (await f.token.balanceOf(l)) - balancesBefore[i]),
        );
        const fees = (await owedToPayees()).map((v, i) => v - feesBefore[i]);
        const book = await f.splitter.bookOf(loanId);
        const undistributed = book.lendersIn - book.lendersPaid;

        // Everything paid in left to a named party (or, on a loan still running, waits as its rounding remainder).
        const lendersReceived = received.reduce((a, b) => a + b, 0n);
        expect(fees.reduce((a, b) => a + b, 0n) + withdrawn + lendersReceived + undistributed).to.equal(paidIn);
        // Only the originating platform contributes to the reserve, whoever services the loan.
        expect(await f.splitter.reserveOwed(f.platformB)).to.equal(0n);
        expect(await f.token.balanceOf(f.splitter)).to.equal(
          (await owedToPayees()).reduce((a, b) => a + b, 0n) + undistributed,
        );
        // No lender beyond its exact pro-rata share; none short by more than rounding (a wei per payout and move).
        for (let i = 0; i < lenders.length; i += 1) {
          expect(received[i] * principal).to.be.at.most(entitled[i]);
          expect(received[i] * principal + principal * BigInt(2 + 2 * s.steps.length)).to.be.at.least(entitled[i]);
        }
        if (book.phase === 4n) {
          expect(undistributed).to.equal(0n);
          expect(book.openPositions).to.equal(0n);
        }
      }),
      {
        numRuns: 8,
        // The two ends of the range always run (a single lender, and the full 500), and a loan handed back to its
        // originator, whose fee and contribution land in one slot.
        examples: [[withLenders(1, 1)], [withLenders(MAX_LENDERS, 2)], [handedBack()]],
      },
    );
  });
});
