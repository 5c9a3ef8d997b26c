import { expect } from "chai";
import fc from "fast-check";
import { id, MaxUint256, ZeroHash } from "ethers";
import { FundingPhase, loanIdOf, LoanStatus, Role, type LoanTerms } from "../src/client/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, termsFor, time } from "./fixtures.js";
import type { RiskReserveFund } from "../typechain-types/index.js";
import { loanHistory } from "../src/audit/index.js";

const UNIT = 10n ** 18n;
const BPS = 10_000n;

/** An insurer with capital, a reserve with platform A's deposit, and a 100 000 loan of platform A in Funding. */
/** The reserve's policy as it is, with the seasoning asked of a loan before it is compensated set anew. */
async function withSeasoning(reserve: RiskReserveFund, minLoanAge: number, minInstallmentsPaid: number) {
  const p = await reserve.policy();
  const { coverageBps, capPerLoan, quotaMultipleBps } = p;
  await reserve.setPolicy({ coverageBps, capPerLoan, quotaMultipleBps, minLoanAge, minInstallmentsPaid });
}

async function lossFixture() {
  const f = await deployAllianceFixture();
  const [insurer, lender2, borrower, payer] = (await ethers.getSigners()).slice(7, 11);
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 3650 * DAY);
  for (const account of [insurer, f.platformA, f.lender, lender2, payer]) {
    await f.token.mint(account, 10_000_000n * UNIT);
    for (const spender of [f.insurance, f.reserve, f.splitter, f.waterfall, f.collateral]) {
      await f.token.connect(account).approve(spender, MaxUint256);
    }
  }
  await f.insurance.connect(insurer).depositCapital(200_000n * UNIT);
  // These tests are about the order of cover, on loans that default at once: no seasoning asked (its own tests follow).
  await withSeasoning(f.reserve, 0, 0);
  await f.reserve.connect(f.platformA).deposit(20_000n * UNIT);
  const terms = await termsFor(f.platformA, { principal: 100_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(terms);
  await f.splitter.connect(f.platformA).openFunding(terms, {
    borrowerPayout: borrower.address,
    insurer: insurer.address,
    platformFeeBps: 100,
    premiumBps: 80,
    reserveBps: 50,
  });
  return { ...f, insurer, lender2, borrower, payer, terms, loanId: loanIdOf(terms) };
}
type Fixture = Awaited<ReturnType<typeof lossFixture>>;

/** Insured at 60%, funded 40/60 by two lenders, then defaulted with no payment made. */
async function defaultedFixture() {
  const f = await loadFixture(lossFixture);
  await f.insurance.connect(f.insurer).writePolicy(f.terms, 6_000, (await time.latest()) + 365 * DAY);
  await f.splitter.connect(f.lender).fund(f.terms, 40_000n * UNIT);
  await f.splitter.connect(f.lender2).fund(f.terms, 60_000n * UNIT);
  await defaultLoan(f, f.terms);
  return f;
}

async function defaultLoan(f: Fixture, terms: LoanTerms) {
  await time.increase(terms.period + terms.gracePeriod + 1);
  await f.loans.connect(f.platformA).markLate(terms);
  await time.increase(terms.defaultThreshold);
  await f.loans.connect(f.platformA).markDefaulted(terms);
}

async function lossOf(f: Fixture) {
  const loss = await f.loans.lossOf(f.loanId);
  return loss.principal + loss.interest;
}

describe("LossWaterfall", function () {
  describe("settlement", function () {
    it("covers the loss by the insurance claim, then the reserve, and leaves the rest to the lenders", async function () {
      const f = await loadFixture(defaultedFixture);
      const loss = await lossOf(f);
      const min = (...v: bigint[]) => v.reduce((a, b) => (a < b ? a : b));
      // The claim: 60% of the loss, at most 60% of the principal (the capital the policy locked).
      const claim = min((loss * 6_000n) / BPS, 60_000n * UNIT);
      // The reserve: 50% of what is left, within the cap of 100 000, platform A's quota (its deposit of 20 000 counts
      // once) and the fund's balance of 20 000.
      const compensation = min(((loss - claim) * 5_000n) / BPS, 100_000n * UNIT, 20_000n * UNIT, 20_000n * UNIT);
      const lendersIn = (await f.splitter.bookOf(f.loanId)).lendersIn;
      await expect(f.waterfall.connect(f.platformA).settle(f.terms))
        .to.emit(f.waterfall, "LossSettled")
        .withArgs(f.loanId, loss, 0, claim, compensation, loss - claim - compensation);
      expect((await f.splitter.bookOf(f.loanId)).lendersIn - lendersIn).to.equal(claim + compensation);
      expect((await f.insurance.capitalOf(f.insurer)).capital).to.equal(200_000n * UNIT - claim);
      expect((await f.insurance.capitalOf(f.insurer)).locked).to.equal(0n);
      expect((await f.reserve.positionOf(f.platformA)).compensated).to.equal(compensation);
      expect((await loanHistory(f.clientFor(f.auditor).loans, f.loanId)).verified).to.equal(true);
    });

    it("counts what was recovered before settlement (collateral proceeds) against the loss first", async function () {
      const f = await loadFixture(defaultedFixture);
      const loss = await lossOf(f);
      const early = 30_000n * UNIT;
      await expect(f.waterfall.connect(f.payer).recover(f.terms, early))
        .to.emit(f.waterfall, "RecoveryApplied")
        .withArgs(f.loanId, f.payer.address, early, 0, 0, early);
      const net = loss - early;
      const claim = (net * 6_000n) / BPS < 60_000n * UNIT ? (net * 6_000n) / BPS : 60_000n * UNIT;
      await expect(f.waterfall.connect(f.platformA).settle(f.terms))
        .to.emit(f.waterfall, "LossSettled")
        .withArgs(f.loanId, loss, early, claim, ((net - claim) * 5_000n) / BPS, (v: bigint) => v > 0n);
    });

    it("is for the loan's platform, and for anyone once the public-default delay has passed", async function () {
      const f = await loadFixture(defaultedFixture);
      const since = Number((await f.loans.loanState(f.loanId)).statusSince);
      const publicAt = since + Number((await f.loans.alliancePolicy()).publicDefaultDelay);
      await time.setNextBlockTimestamp(publicAt - 1);
      await expect(f.waterfall.connect(f.outsider).settle(f.terms))
        .to.be.revertedWithCustomError(f.waterfall, "LossWaterfallNotYetPublic")
        .withArgs(f.loanId, publicAt, publicAt - 1);
      await time.setNextBlockTimestamp(publicAt);
      await expect(f.waterfall.connect(f.outsider).settle(f.terms)).to.emit(f.waterfall, "LossSettled");
      await expect(f.waterfall.connect(f.platformA).settle(f.terms))
        .to.be.revertedWithCustomError(f.waterfall, "LossWaterfallAlreadySettled")
        .withArgs(f.loanId);
    });

    it("settles only Defaulted loans funded through the splitter", async function () {
      const f = await loadFixture(lossFixture);
      await expect(f.waterfall.connect(f.platformA).settle(f.terms))
        .to.be.revertedWithCustomError(f.waterfall, "LossWaterfallNotFunded")
        .withArgs(f.loanId, FundingPhase.Funding);
      await f.splitter.connect(f.lender).fund(f.terms, 100_000n * UNIT);
      await expect(f.waterfall.connect(f.platformA).settle(f.terms))
        .to.be.revertedWithCustomError(f.waterfall, "LossWaterfallWrongLoanStatus")
        .withArgs(f.loanId, LoanStatus.Active);
    });
  });

  describe("recoveries after settlement", function () {
    it("shares a recovery pari passu by what each bore, and marks the loan Recovered when the loss is made whole", async function () {
      const f = await loadFixture(defaultedFixture);
      await f.waterfall.connect(f.platformA).settle(f.terms);
      const c = await f.waterfall.caseOf(f.loanId);
      const bore = c.insurerBore + c.reserveBore + c.lendersBore;
      const amount = 10_000n * UNIT;
      const capital = (await f.insurance.capitalOf(f.insurer)).capital;
      const tx = f.waterfall.connect(f.payer).recover(f.terms, amount);
      await expect(tx)
        .to.emit(f.waterfall, "RecoveryApplied")
        .withArgs(
          f.loanId,
          f.payer.address,
          amount,
          (amount * c.insurerBore) / bore,
          (amount * c.reserveBore) / bore,
          amount - (amount * c.insurerBore) / bore - (amount * c.reserveBore) / bore,
        );
      expect((await f.insurance.capitalOf(f.insurer)).capital - capital).to.equal((amount * c.insurerBore) / bore);

      // Paying far more than is left takes only what is left: nobody gets back more than it bore.
      const payerBefore = await f.token.balanceOf(f.payer);
      await f.waterfall.connect(f.payer).recover(f.terms, 10n ** 30n);
      const after = await f.waterfall.caseOf(f.loanId);
      expect(payerBefore - (await f.token.balanceOf(f.payer))).to.equal(bore - amount);
      expect([after.insurerRecovered, after.reserveRecovered, after.lendersRecovered]).to.deep.equal([
        c.insurerBore,
        c.reserveBore,
        c.lendersBore,
      ]);
      expect((await f.loans.loanState(f.loanId)).status).to.equal(BigInt(LoanStatus.Recovered));
      expect((await f.insurance.policyOf(f.loanId)).reimbursed).to.equal(c.insurerBore);

      // Made whole, the loan closes in the splitter too: once both lenders are paid, its last wei leaves to the reserve.
      expect((await f.splitter.bookOf(f.loanId)).phase).to.equal(5n);
      const remaindersBefore = await f.splitter.remaindersOwed();
      await f.splitter.payout(f.loanId, [f.lender.address, f.lender2.address]);
      const book = await f.splitter.bookOf(f.loanId);
      expect([book.lendersPaid, book.openPositions]).to.deep.equal([book.lendersIn, 0n]);
      expect(await f.splitter.owedTo(f.loanId, f.lender)).to.equal(0n);
      expect(await f.splitter.remaindersOwed()).to.be.at.least(remaindersBefore);
    });

    it("lets anyone but the platform write off only after the public-default delay, and the platform not directly", async function () {
      const f = await loadFixture(defaultedFixture);
      await f.waterfall.connect(f.platformA).settle(f.terms);
      await expect(f.waterfall.connect(f.outsider).writeOff(f.terms)).to.be.revertedWithCustomError(
        f.waterfall,
        "LossWaterfallNotYetPublic",
      );
      // The registry's own write-off is closed to the platform of a loan the splitter funded.
      await expect(f.loans.connect(f.platformA).writeOff(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryServicingDelegated")
        .withArgs(f.loanId, f.platformA.address, await f.splitter.getAddress());
      await expect(f.loans.connect(f.platformA).markRecovered(f.terms)).to.be.revertedWithCustomError(
        f.loans,
        "LoanRegistryServicingDelegated",
      );
    });

    it("keeps sharing recoveries after a write-off, and only a settled loan can be written off", async function () {
      const f = await loadFixture(defaultedFixture);
      await expect(f.waterfall.connect(f.platformA).writeOff(f.terms))
        .to.be.revertedWithCustomError(f.waterfall, "LossWaterfallNotSettled")
        .withArgs(f.loanId);
      await f.waterfall.connect(f.platformA).settle(f.terms);
      await f.waterfall.connect(f.platformA).writeOff(f.terms);
      expect((await f.loans.loanState(f.loanId)).status).to.equal(BigInt(LoanStatus.WrittenOff));
      await expect(f.waterfall.connect(f.payer).recover(f.terms, UNIT)).to.emit(f.waterfall, "RecoveryApplied");
    });
  });

  describe("closing a written-off loan's book", function () {
    it("is governance's call on a written-off loan: no more recoveries, every position settles, the remainder goes to the reserve", async function () {
      const f = await loadFixture(defaultedFixture);
      await f.waterfall.connect(f.platformA).settle(f.terms);
      for (const caller of [f.platformA, f.lender, f.outsider]) {
        await expect(f.splitter.connect(caller).closeWrittenOff(f.loanId))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotGovernance")
          .withArgs(caller.address);
      }
      await expect(f.splitter.closeWrittenOff(f.loanId))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotWrittenOff")
        .withArgs(f.loanId, LoanStatus.Defaulted);
      await f.waterfall.connect(f.platformA).writeOff(f.terms);
      // A late recovery of an odd amount leaves rounding between the two lenders' 40/60 shares.
      await f.waterfall.connect(f.payer).recover(f.terms, 1_000n * UNIT + 7n);
      await expect(f.splitter.closeWrittenOff(f.loanId))
        .to.emit(f.splitter, "BookClosed")
        .withArgs(f.loanId, f.governance.address);
      await expect(f.splitter.closeWrittenOff(f.loanId))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWrongPhase")
        .withArgs(f.loanId, FundingPhase.Closed);
      await expect(f.waterfall.connect(f.payer).recover(f.terms, UNIT))
        .to.be.revertedWithCustomError(f.waterfall, "LossWaterfallNotFunded")
        .withArgs(f.loanId, FundingPhase.Closed);

      const before = await f.splitter.bookOf(f.loanId);
      const owedBefore = await f.splitter.remaindersOwed();
      const lenders = [f.lender, f.lender2];
      const balances = await Promise.all(lenders.map((l) => f.token.balanceOf(l)));
      await f.splitter.payout(f.loanId, lenders);
      const paid = (await Promise.all(lenders.map((l) => f.token.balanceOf(l)))).reduce(
        (sum, b, i) => sum + b - balances[i],
        0n,
      );
      const after = await f.splitter.bookOf(f.loanId);
      expect([after.openPositions, after.lendersPaid]).to.deep.equal([0n, after.lendersIn]);
      // Every wei the lenders were not paid went to the reserve's account.
      expect((await f.splitter.remaindersOwed()) - owedBefore).to.equal(before.lendersIn - before.lendersPaid - paid);
    });
  });

  describe("credit insurance", function () {
    it("refuses a policy an insurer cannot back with free capital", async function () {
      const f = await loadFixture(lossFixture);
      await f.insurance.connect(f.insurer).withdrawCapital(150_000n * UNIT, f.insurer);
      await expect(f.insurance.connect(f.insurer).writePolicy(f.terms, 6_000, (await time.latest()) + DAY))
        .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceUnderCapitalised")
        .withArgs(f.insurer.address, 50_000n * UNIT, 60_000n * UNIT);
    });

    it("is written by the insurer the loan names, once, on a Funding or Active loan", async function () {
      const f = await loadFixture(lossFixture);
      const end = (await time.latest()) + 365 * DAY;
      await expect(f.insurance.connect(f.platformA).writePolicy(f.terms, 6_000, end))
        .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceNotInsurer")
        .withArgs(f.platformA.address);
      await f.alliance.admitMember(f.outsider, Role.Insurer, id("another insurer"));
      await expect(f.insurance.connect(f.outsider).writePolicy(f.terms, 6_000, end))
        .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceNotNamedInsurer")
        .withArgs(f.loanId, f.insurer.address, f.outsider.address);
      await expect(f.insurance.connect(f.insurer).writePolicy(f.terms, 0, end))
        .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceInvalidPolicy")
        .withArgs(0, end);
      await f.insurance.connect(f.insurer).writePolicy(f.terms, 6_000, end);
      await expect(f.insurance.connect(f.insurer).writePolicy(f.terms, 6_000, end))
        .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceWrongPolicyStatus")
        .withArgs(f.loanId, 1);
    });

    it("cannot insure a loan that has defaulted", async function () {
      const f = await loadFixture(lossFixture);
      await f.splitter.connect(f.lender).fund(f.terms, 100_000n * UNIT);
      await defaultLoan(f, f.terms);
      await expect(f.insurance.connect(f.insurer).writePolicy(f.terms, 6_000, (await time.latest()) + DAY))
        .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceWrongLoanStatus")
        .withArgs(f.loanId, LoanStatus.Defaulted);
    });

    it("locks the maximum claim and frees it when the loan is cancelled", async function () {
      const f = await loadFixture(lossFixture);
      await f.insurance.connect(f.insurer).writePolicy(f.terms, 6_000, (await time.latest()) + DAY);
      expect((await f.insurance.capitalOf(f.insurer)).locked).to.equal(60_000n * UNIT);
      await expect(f.insurance.connect(f.insurer).withdrawCapital(150_000n * UNIT, f.insurer))
        .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceCapitalLocked")
        .withArgs(f.insurer.address, 150_000n * UNIT, 140_000n * UNIT);
      await expect(f.insurance.releasePolicy(f.terms))
        .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceWrongLoanStatus")
        .withArgs(f.loanId, LoanStatus.Funding);
      await f.splitter.connect(f.platformA).cancelFunding(f.terms);
      await expect(f.insurance.releasePolicy(f.terms)).to.emit(f.insurance, "PolicyReleased");
      expect((await f.insurance.capitalOf(f.insurer)).locked).to.equal(0n);
    });

    it("pays claims and takes reimbursements from the loss waterfall only, which governance names once", async function () {
      const f = await loadFixture(lossFixture);
      for (const caller of [f.insurer, f.platformA, f.outsider]) {
        await expect(f.insurance.connect(caller).payClaim(f.loanId, UNIT, 0))
          .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceNotWaterfall")
          .withArgs(caller.address);
        await expect(f.insurance.connect(caller).reimburse(f.loanId, UNIT))
          .to.be.revertedWithCustomError(f.insurance, "CreditInsuranceNotWaterfall")
          .withArgs(caller.address);
      }
      await expect(f.insurance.setWaterfall(f.outsider)).to.be.revertedWithCustomError(
        f.insurance,
        "CreditInsuranceNotGovernance",
      );
    });
  });

  describe("risk reserve fund", function () {
    it("takes deposits from platforms, and compensation and reimbursements from the waterfall only", async function () {
      const f = await loadFixture(lossFixture);
      await expect(f.reserve.connect(f.insurer).deposit(UNIT))
        .to.be.revertedWithCustomError(f.reserve, "RiskReserveFundNotPlatform")
        .withArgs(f.insurer.address);
      for (const caller of [f.platformA, f.governance, f.outsider]) {
        await expect(f.reserve.connect(caller).compensate(f.loanId, f.platformA, UNIT, 365 * DAY, 12))
          .to.be.revertedWithCustomError(f.reserve, "RiskReserveFundNotWaterfall")
          .withArgs(caller.address);
        await expect(f.reserve.connect(caller).reimburse(f.loanId, f.platformA, UNIT))
          .to.be.revertedWithCustomError(f.reserve, "RiskReserveFundNotWaterfall")
          .withArgs(caller.address);
      }
      // A direct deposit counts once toward the quota; only contributions its borrowers paid are multiplied.
      expect(await f.reserve.quotaRemaining(f.platformA)).to.equal(20_000n * UNIT);
      expect(await f.reserve.balance()).to.equal(20_000n * UNIT);
    });

    it("compensates no unseasoned loan: a platform lending to itself on a fresh loan takes nothing from the others", async function () {
      const f = await loadFixture(lossFixture);
      await withSeasoning(f.reserve, 60 * DAY, 1);
      await f.insurance.connect(f.insurer).writePolicy(f.terms, 6_000, (await time.latest()) + 365 * DAY);
      await f.splitter.connect(f.lender).fund(f.terms, 100_000n * UNIT);
      await defaultLoan(f, f.terms);
      const balance = await f.reserve.balance();
      // It performed one period, from disbursement to its first missed due date, and paid nothing into the fund.
      await expect(f.waterfall.connect(f.platformA).settle(f.terms))
        .to.emit(f.reserve, "CompensationDeclined")
        .withArgs(f.loanId, f.platformA.address, f.terms.period, 0);
      expect(await f.reserve.balance()).to.equal(balance);
      expect((await f.waterfall.caseOf(f.loanId)).reserveBore).to.equal(0n);
    });

    it("compensates a seasoned loan: old enough, with enough installments repaid", async function () {
      const f = await loadFixture(lossFixture);
      await withSeasoning(f.reserve, 60 * DAY, 1);
      await f.insurance.connect(f.insurer).writePolicy(f.terms, 6_000, (await time.latest()) + 365 * DAY);
      await f.splitter.connect(f.lender).fund(f.terms, 100_000n * UNIT);
      await time.increase(f.terms.period);
      const [, total] = await f.splitter.amountDue(f.terms);
      await f.splitter.connect(f.payer).repayLoan(f.terms, total, ZeroHash);
      await defaultLoan(f, f.terms);
      await f.waterfall.connect(f.platformA).settle(f.terms);
      expect((await f.waterfall.caseOf(f.loanId)).reserveBore).to.be.greaterThan(0n);
    });

    it("has its policy set by governance only, with coverage at most 100%", async function () {
      const f = await loadFixture(lossFixture);
      const policy = {
        coverageBps: 8_000,
        capPerLoan: 10n * UNIT,
        quotaMultipleBps: 10_000,
        minLoanAge: 30 * DAY,
        minInstallmentsPaid: 2,
      };
      await expect(f.reserve.connect(f.platformA).setPolicy(policy))
        .to.be.revertedWithCustomError(f.reserve, "RiskReserveFundNotGovernance")
        .withArgs(f.platformA.address);
      await expect(f.reserve.setPolicy({ ...policy, coverageBps: 10_001 }))
        .to.be.revertedWithCustomError(f.reserve, "RiskReserveFundInvalidPolicy")
        .withArgs(10_001);
      await expect(f.reserve.setPolicy(policy)).to.emit(f.reserve, "ReservePolicySet");
      await expect(f.reserve.setWaterfall(f.outsider)).to.be.revertedWithCustomError(
        f.reserve,
        "RiskReserveFundNotGovernance",
      );
    });
  });

  describe("conservation (property)", function () {
    it("pays lenders only what insurer, reserve and recoveries paid in, and returns no payer more than it bore", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            coverageBps: fc.integer({ min: 1, max: 10_000 }),
            reserveCoverageBps: fc.integer({ min: 0, max: 10_000 }),
            capPerLoanK: fc.integer({ min: 0, max: 120 }),
            quotaMultipleBps: fc.integer({ min: 0, max: 50_000 }),
            depositK: fc.integer({ min: 0, max: 80 }),
            earlyK: fc.integer({ min: 0, max: 120 }),
            recoveriesK: fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 4 }),
          }),
          async (s) => {
            const f = await loadFixture(lossFixture);
            await f.reserve.setPolicy({
              coverageBps: s.reserveCoverageBps,
              capPerLoan: BigInt(s.capPerLoanK) * 1_000n * UNIT,
              quotaMultipleBps: s.quotaMultipleBps,
              minLoanAge: 0,
              minInstallmentsPaid: 0,
            });
            if (s.depositK > 0) await f.reserve.connect(f.platformA).deposit(BigInt(s.depositK) * 1_000n * UNIT);
            await f.insurance.connect(f.insurer).writePolicy(f.terms, s.coverageBps, (await time.latest()) + 365 * DAY);
            await f.splitter.connect(f.lender).fund(f.terms, 100_000n * UNIT);
            await defaultLoan(f, f.terms);
            const loss = await lossOf(f);
            const before = {
              capital: (await f.insurance.capitalOf(f.insurer)).capital,
              reserve: await f.reserve.balance(),
              lendersIn: (await f.splitter.bookOf(f.loanId)).lendersIn,
            };
            let paidIn = 0n;
            if (s.earlyK > 0) {
              const taken = await f.waterfall
                .connect(f.payer)
                .recover.staticCall(f.terms, BigInt(s.earlyK) * 1_000n * UNIT);
              await f.waterfall.connect(f.payer).recover(f.terms, BigInt(s.earlyK) * 1_000n * UNIT);
              paidIn += taken;
            }
            if (paidIn < loss) await f.waterfall.connect(f.platformA).settle(f.terms);
            const c = await f.waterfall.caseOf(f.loanId);
            // No payer beyond its policy or capital.
            expect(c.insurerBore).to.be.at.most((100_000n * UNIT * BigInt(s.coverageBps)) / BPS);
            expect(c.reserveBore).to.be.at.most(BigInt(s.capPerLoanK) * 1_000n * UNIT);
            expect(c.reserveBore).to.be.at.most(before.reserve);
            if (c.settled) expect(c.insurerBore + c.reserveBore + c.lendersBore + c.recoveredBefore).to.equal(loss);

            for (const k of s.recoveriesK) {
              if (Number((await f.loans.loanState(f.loanId)).status) === LoanStatus.Recovered) break;
              const amount = BigInt(k) * 1_000n * UNIT;
              const taken = await f.waterfall.connect(f.payer).recover.staticCall(f.terms, amount);
              await f.waterfall.connect(f.payer).recover(f.terms, amount);
              paidIn += taken;
            }
            const end = await f.waterfall.caseOf(f.loanId);
            expect(end.insurerRecovered).to.be.at.most(end.insurerBore);
            expect(end.reserveRecovered).to.be.at.most(end.reserveBore);
            expect(end.lendersRecovered).to.be.at.most(end.lendersBore);
            // Every wei the lenders received came from exactly one payer: the insurer, the reserve, or a recovery.
            const lendersGot = (await f.splitter.bookOf(f.loanId)).lendersIn - before.lendersIn;
            const insurerNet = before.capital - (await f.insurance.capitalOf(f.insurer)).capital;
            const reserveNet = before.reserve - (await f.reserve.balance());
            expect(lendersGot).to.equal(insurerNet + reserveNet + paidIn);
            expect(insurerNet).to.equal(end.insurerBore - end.insurerRecovered);
            expect(reserveNet).to.equal(end.reserveBore - end.reserveRecovered);
            expect(paidIn).to.be.at.most(loss);
          },
        ),
        { numRuns: 20 },
      );
    });
  });
});
