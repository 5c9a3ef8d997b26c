import { expect } from "chai";
import { AbiCoder, id, keccak256, MaxUint256, solidityPacked, ZeroAddress, ZeroHash } from "ethers";
import {
  FactKind,
  loanIdOf,
  LoanStatus,
  periodInterest,
  Role,
  SCHEDULE_KIND_NAMES,
  ScheduleKind,
} from "../src/client/index.js";
import type { MockLender, MockToken, RepaymentSplitter } from "../typechain-types/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, networkHelpers, termsFor, time } from "./fixtures.js";
import { loanHistory } from "../src/audit/index.js";

const UNIT = 10n ** 18n;
/** Mirrors `FundingPhase` and `FeeKind` in IRepaymentSplitter.sol. */
const Phase = { None: 0, Funding: 1, Funded: 2, Cancelled: 3, Repaid: 4, Recovered: 5 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];
const PHASE_NAMES = Object.keys(Phase) as (keyof typeof Phase)[];
const FeeKind = { PlatformFee: 0, InsurancePremium: 1, ReserveContribution: 2 } as const;
const TokenBehaviour = { Standard: 0, NoReturn: 1, ReturnFalse: 2, FeeOnTransfer: 3, Hook: 4 } as const;
const OnReceive = { Accept: 0, Revert: 1, ReenterAndBubble: 2, ReenterAndSwallow: 3 } as const;

/** The alliance with an insurer, three allowlisted lenders holding tokens, and platform A's loan anchored. */
async function splitterFixture() {
  const f = await deployAllianceFixture();
  const signers = await ethers.getSigners();
  const [insurer, lender2, lender3, borrower, payer] = signers.slice(7, 12);
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  const kycExpiry = (await time.latest()) + 365 * DAY;
  await f.alliance.connect(f.platformA).allowLender(lender2, kycExpiry);
  await f.alliance.connect(f.platformA).allowLender(lender3, kycExpiry);
  const lenders = [f.lender, lender2, lender3];
  for (const account of [...lenders, payer]) {
    await f.token.mint(account, 1_000_000n * UNIT);
    await f.token.connect(account).approve(f.splitter, MaxUint256);
  }
  const terms = await termsFor(f.platformA, { principal: 90_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(terms);
  const config = {
    borrowerPayout: borrower.address,
    insurer: insurer.address,
    platformFeeBps: 120,
    premiumBps: 60,
    reserveBps: 40,
  };
  return { ...f, insurer, lenders, borrower, payer, terms, loanId: loanIdOf(terms), config };
}
type SplitterFixture = Awaited<ReturnType<typeof splitterFixture>>;

/** Shares of the three lenders in the funded loan: 2/9, 3/9, 4/9 of 90 000. */
const COMMITMENTS = [20_000n * UNIT, 30_000n * UNIT, 40_000n * UNIT];

async function openFixture() {
  const f = await loadFixture(splitterFixture);
  await f.splitter.connect(f.platformA).openFunding(f.terms, f.config);
  await insure(f, f.terms);
  return f;
}

/** The named insurer writes a full-cover policy for two years, so that the loan's premium buys cover and reaches it. */
async function insure(f: SplitterFixture, terms: typeof f.terms) {
  await f.token.mint(f.insurer, terms.principal);
  await f.token.connect(f.insurer).approve(f.insurance, terms.principal);
  await f.insurance.connect(f.insurer).depositCapital(terms.principal);
  await f.insurance.connect(f.insurer).writePolicy(terms, 10_000, (await time.latest()) + 730 * DAY);
}

async function fundedFixture() {
  const f = await loadFixture(openFixture);
  for (const [i, lender] of f.lenders.entries()) await f.splitter.connect(lender).fund(f.terms, COMMITMENTS[i]);
  return f;
}

/** The funded loan one period on, with its first installment paid by the payer. */
async function repaidOnceFixture() {
  const f = await loadFixture(fundedFixture);
  await time.increase(30 * DAY);
  await repayDue(f);
  return f;
}

async function repayDue(f: SplitterFixture, extra = 0n) {
  const [, total] = await f.splitter.amountDue(f.terms);
  return f.splitter.connect(f.payer).repayLoan(f.terms, total + extra, ZeroHash);
}

/** Brings the fixture's loan to `phase` in the splitter. */
async function inPhase(phase: Phase): Promise<SplitterFixture> {
  if (phase === Phase.None) return loadFixture(splitterFixture);
  if (phase === Phase.Funding) return loadFixture(openFixture);
  if (phase === Phase.Cancelled) {
    const f = await loadFixture(openFixture);
    await f.splitter.connect(f.lender).fund(f.terms, COMMITMENTS[0]);
    await f.splitter.connect(f.platformA).cancelFunding(f.terms);
    return f;
  }
  const f = await loadFixture(fundedFixture);
  if (phase === Phase.Repaid) {
    await time.increase(DAY);
    await payOff(f);
  }
  return f;
}

/** Pays everything the loan owes now: the installment with its fees, and all remaining principal. */
async function payOff(f: SplitterFixture) {
  const [due, total] = await f.splitter.amountDue(f.terms);
  const state = await f.loans.loanState(f.loanId);
  return f.splitter.connect(f.payer).repayLoan(f.terms, total + state.outstandingPrincipal - due.principal, ZeroHash);
}

function feesOn(outstanding: bigint, f: SplitterFixture) {
  const fee = (bps: number) => periodInterest(outstanding, bps, f.terms.period);
  return {
    platformFee: fee(f.config.platformFeeBps),
    premium: fee(f.config.premiumBps),
    reserve: fee(f.config.reserveBps),
  };
}

/** A second splitter, over `token`, a funding delegate and history writer like the suite's own. */
async function splitterOn(f: SplitterFixture, token: MockToken): Promise<RepaymentSplitter> {
  const splitter = (await ethers.deployContract("RepaymentSplitter", [
    f.alliance,
    f.loans,
    token,
    f.governance,
    { platformFeeBps: 300, premiumBps: 200, reserveBps: 100 },
  ])) as unknown as RepaymentSplitter;
  await f.loans.setSystemPowers(splitter, 3);
  return splitter;
}

describe("RepaymentSplitter", function () {
  describe("opening a loan for funding", function () {
    it("records the configuration and takes over the loan's money path in the registry", async function () {
      const f = await loadFixture(splitterFixture);
      await expect(f.splitter.connect(f.platformA).openFunding(f.terms, f.config))
        .to.emit(f.splitter, "FundingOpened")
        .and.to.emit(f.loans, "LoanServicingDelegated")
        .withArgs(
          f.loanId,
          f.splitter.target,
          (v: unknown) => typeof v === "bigint",
          (v: unknown) => !!v,
        );
      const book = await f.splitter.bookOf(f.loanId);
      expect(book.phase).to.equal(Phase.Funding);
      expect(book.borrowerPayout).to.equal(f.config.borrowerPayout);
      expect((await f.loans.loanState(f.loanId)).servicingDelegated).to.equal(true);
      const history = await loanHistory(f.clientFor(f.auditor).loans, f.loanId);
      expect(history.verified).to.equal(true);
      expect(history.entries.map((e) => e.fact.kind)).to.deep.equal(["Anchored", "ServicingDelegated", "External"]);
    });

    it("leaves the platform unable to activate, cancel or record repayments itself", async function () {
      const f = await loadFixture(openFixture);
      const loans = f.loans.connect(f.platformA);
      for (const action of [() => loans.activateLoan(f.terms), () => loans.cancelLoan(f.terms)]) {
        await expect(action())
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryServicingDelegated")
          .withArgs(f.loanId, f.platformA.address, await f.splitter.getAddress());
      }
      const funded = await loadFixture(fundedFixture);
      await time.increase(30 * DAY);
      await expect(funded.loans.connect(funded.platformA).recordPayment(funded.terms, UNIT, ZeroHash))
        .to.be.revertedWithCustomError(funded.loans, "LoanRegistryServicingDelegated")
        .withArgs(funded.loanId, funded.platformA.address, await funded.splitter.getAddress());
      // Nor can another system contract, whatever powers it holds: the money path belongs to this loan's delegate.
      await expect(
        funded.system.execute(
          funded.loans,
          funded.loans.interface.encodeFunctionData("recordPayment", [funded.terms, UNIT, ZeroHash]),
        ),
      )
        .to.be.revertedWithCustomError(funded.loans, "LoanRegistryServicingDelegated")
        .withArgs(funded.loanId, await funded.system.getAddress(), await funded.splitter.getAddress());
    });

    it("is for the loan's own active platform only", async function () {
      const f = await loadFixture(splitterFixture);
      for (const caller of [f.platformB, f.outsider, f.lender, f.governance, f.insurer]) {
        await expect(f.splitter.connect(caller).openFunding(f.terms, f.config))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotPlatform")
          .withArgs(f.loanId, caller.address);
      }
      await f.alliance.suspendMember(f.platformA);
      await expect(f.splitter.connect(f.platformA).openFunding(f.terms, f.config))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotPlatform")
        .withArgs(f.loanId, f.platformA.address);
    });

    it("keeps every rate within the alliance's caps", async function () {
      const f = await loadFixture(splitterFixture);
      const caps = await f.splitter.feeCaps();
      const cases = [
        {
          change: { platformFeeBps: Number(caps.platformFeeBps) + 1 },
          kind: FeeKind.PlatformFee,
          cap: caps.platformFeeBps,
        },
        { change: { premiumBps: Number(caps.premiumBps) + 1 }, kind: FeeKind.InsurancePremium, cap: caps.premiumBps },
        {
          change: { reserveBps: Number(caps.reserveBps) + 1 },
          kind: FeeKind.ReserveContribution,
          cap: caps.reserveBps,
        },
      ];
      for (const c of cases) {
        const bps = Object.values(c.change)[0];
        await expect(f.splitter.connect(f.platformA).openFunding(f.terms, { ...f.config, ...c.change }))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterFeeAboveCap")
          .withArgs(c.kind, bps, c.cap);
      }
    });

    it("needs an active insurer member for a premium, and a payout account", async function () {
      const f = await loadFixture(splitterFixture);
      const open = (config: typeof f.config) => f.splitter.connect(f.platformA).openFunding(f.terms, config);
      await expect(open({ ...f.config, insurer: ZeroAddress }))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotInsurer")
        .withArgs(ZeroAddress);
      await expect(open({ ...f.config, insurer: f.platformB.address }))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotInsurer")
        .withArgs(f.platformB.address);
      await expect(open({ ...f.config, borrowerPayout: ZeroAddress })).to.be.revertedWithCustomError(
        f.splitter,
        "RepaymentSplitterZeroAddress",
      );
      // An uninsured loan carries no premium and names no insurer.
      await expect(open({ ...f.config, insurer: ZeroAddress, premiumBps: 0 })).to.emit(f.splitter, "FundingOpened");
    });

    it("opens a loan once, and only while the registry has it in Funding", async function () {
      const f = await loadFixture(openFixture);
      await expect(f.splitter.connect(f.platformA).openFunding(f.terms, f.config))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWrongPhase")
        .withArgs(f.loanId, Phase.Funding);
      const active = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(active);
      await f.loans.connect(f.platformA).activateLoan(active);
      await expect(f.splitter.connect(f.platformA).openFunding(active, f.config))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryCannotDelegate")
        .withArgs(loanIdOf(active), LoanStatus.Active, false);
    });
  });

  describe("funding", function () {
    it("disburses the principal to the borrower and activates the loan when the last commitment arrives", async function () {
      const f = await loadFixture(openFixture);
      await f.splitter.connect(f.lenders[0]).fund(f.terms, COMMITMENTS[0]);
      await expect(f.splitter.connect(f.lenders[1]).fund(f.terms, COMMITMENTS[1]))
        .to.emit(f.splitter, "Committed")
        .withArgs(f.loanId, f.lenders[1].address, COMMITMENTS[1], COMMITMENTS[0] + COMMITMENTS[1]);
      expect((await f.loans.loanState(f.loanId)).status).to.equal(LoanStatus.Funding);

      const tx = f.splitter.connect(f.lenders[2]).fund(f.terms, COMMITMENTS[2]);
      await expect(tx).to.emit(f.splitter, "Disbursed").withArgs(f.loanId, f.borrower.address, f.terms.principal);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [f.lenders[2], f.borrower, f.splitter],
        [-COMMITMENTS[2], f.terms.principal, -(COMMITMENTS[0] + COMMITMENTS[1])],
      );
      expect((await f.loans.loanState(f.loanId)).status).to.equal(LoanStatus.Active);
      expect((await f.splitter.bookOf(f.loanId)).phase).to.equal(Phase.Funded);
      for (const [i, lender] of f.lenders.entries()) {
        expect((await f.splitter.positionOf(f.loanId, lender)).shares).to.equal(COMMITMENTS[i]);
      }
      expect(await f.splitter.lendersOf(f.loanId, 0, 100)).to.deep.equal(f.lenders.map((l) => l.address));
    });

    it("adds a lender's second commitment to its position without listing it twice", async function () {
      const f = await loadFixture(openFixture);
      await f.splitter.connect(f.lender).fund(f.terms, UNIT);
      await f.splitter.connect(f.lender).fund(f.terms, 2n * UNIT);
      expect((await f.splitter.positionOf(f.loanId, f.lender)).shares).to.equal(3n * UNIT);
      expect(await f.splitter.lendersOf(f.loanId, 0, 100)).to.deep.equal([f.lender.address]);
    });

    it("takes commitments from allowlisted lenders only", async function () {
      const f = await loadFixture(openFixture);
      await f.token.mint(f.outsider, UNIT);
      await f.token.connect(f.outsider).approve(f.splitter, UNIT);
      for (const caller of [f.outsider, f.platformA, f.governance]) {
        await expect(f.splitter.connect(caller).fund(f.terms, UNIT))
          .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryUnknownLender")
          .withArgs(caller.address);
      }
      await f.alliance.connect(f.platformA).revokeLender(f.lender);
      await expect(f.splitter.connect(f.lender).fund(f.terms, UNIT))
        .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryUnknownLender")
        .withArgs(f.lender.address);
    });

    it("fills only what is left of the principal from a larger commitment, and completes the funding", async function () {
      const f = await loadFixture(openFixture);
      await f.splitter.connect(f.lender).fund(f.terms, COMMITMENTS[0]);
      const remaining = f.terms.principal - COMMITMENTS[0];
      await expect(f.splitter.connect(f.lenders[1]).fund(f.terms, remaining + 1n)).to.changeTokenBalance(
        ethers,
        f.token,
        f.lenders[1],
        -remaining,
      );
      expect((await f.splitter.bookOf(f.loanId)).phase).to.equal(Phase.Funded);
    });

    it("lets no dust commitment block the completing one, and refuses dust under the alliance's minimum", async function () {
      const f = await loadFixture(openFixture);
      await f.splitter.connect(f.lender).fund(f.terms, COMMITMENTS[0]);
      const remaining = f.terms.principal - COMMITMENTS[0];
      // Without a minimum, one wei slips in first; the completing commitment still goes through, for what is left.
      await f.splitter.connect(f.lenders[2]).fund(f.terms, 1n);
      await f.splitter.connect(f.lenders[1]).fund(f.terms, remaining);
      expect((await f.splitter.bookOf(f.loanId)).phase).to.equal(Phase.Funded);

      const g = await loadFixture(openFixture);
      await expect(g.splitter.connect(g.lender).setMinCommitment(UNIT))
        .to.be.revertedWithCustomError(g.splitter, "RepaymentSplitterNotGovernance")
        .withArgs(g.lender.address);
      await expect(g.splitter.setMinCommitment(UNIT)).to.emit(g.splitter, "MinCommitmentSet").withArgs(UNIT);
      await expect(g.splitter.connect(g.lenders[2]).fund(g.terms, 1n))
        .to.be.revertedWithCustomError(g.splitter, "RepaymentSplitterCommitmentTooSmall")
        .withArgs(g.loanId, 1n, UNIT, g.terms.principal);
      // Below the minimum is fine when it is exactly what completes the funding.
      await g.splitter.connect(g.lender).fund(g.terms, g.terms.principal - UNIT / 2n);
      await g.splitter.connect(g.lenders[1]).fund(g.terms, UNIT / 2n);
      expect((await g.splitter.bookOf(g.loanId)).phase).to.equal(Phase.Funded);
    });

    it("lists a loan's lenders page by page", async function () {
      const f = await loadFixture(fundedFixture);
      expect(await f.splitter.lenderCount(f.loanId)).to.equal(3n);
      expect(await f.splitter.lendersOf(f.loanId, 1, 5)).to.deep.equal([f.lenders[1].address, f.lenders[2].address]);
      expect(await f.splitter.lendersOf(f.loanId, 3, 5)).to.deep.equal([]);
      expect(await f.clientFor(f.auditor).splitter.lenders(f.loanId)).to.deep.equal(f.lenders.map((l) => l.address));
    });

    it("rejects a commitment of zero, or after the deadline", async function () {
      const f = await loadFixture(openFixture);
      await expect(f.splitter.connect(f.lenders[1]).fund(f.terms, 0)).to.be.revertedWithCustomError(
        f.splitter,
        "RepaymentSplitterZeroAmount",
      );
      await time.setNextBlockTimestamp(f.terms.fundingDeadline + 1);
      await expect(f.splitter.connect(f.lenders[1]).fund(f.terms, UNIT))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterFundingDeadlinePassed")
        .withArgs(f.loanId, f.terms.fundingDeadline, f.terms.fundingDeadline + 1);
    });

    for (const phase of [Phase.None, Phase.Funded, Phase.Cancelled, Phase.Repaid]) {
      it(`rejects a commitment to a loan that is ${PHASE_NAMES[phase]}`, async function () {
        const f = await inPhase(phase);
        await expect(f.splitter.connect(f.lender).fund(f.terms, UNIT))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWrongPhase")
          .withArgs(f.loanId, phase);
      });
    }
  });

  describe("cancelling funding", function () {
    it("owes nothing on a loan cancelled before anyone committed, without failing a claim or a payout", async function () {
      // Found by the whole-suite stateful property: claim and payout divided by a loan's zero commitments.
      const f = await loadFixture(fundedFixture);
      const empty = await termsFor(f.platformA, { principal: 1_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(empty);
      await f.splitter.connect(f.platformA).openFunding(empty, f.config);
      await f.splitter.connect(f.platformA).cancelFunding(empty);
      await time.increase(30 * DAY);
      await repayDue(f);
      const owed = await f.splitter.owedTo(f.loanId, f.lender);
      // A claim naming the empty loan beside a real one pays the real one.
      await expect(f.splitter.connect(f.lender).claim([loanIdOf(empty), f.loanId], f.lender)).to.changeTokenBalance(
        ethers,
        f.token,
        f.lender,
        owed,
      );
      await expect(f.splitter.payout(loanIdOf(empty), [f.lender.address]))
        .to.emit(f.splitter, "PayoutsPushed")
        .withArgs(loanIdOf(empty), f.governance.address, 1, 0, 0, f.lender.address.toLowerCase());
    });

    it("lets the platform cancel at any time and every lender take exactly its commitment back", async function () {
      const f = await loadFixture(openFixture);
      await f.splitter.connect(f.lenders[0]).fund(f.terms, COMMITMENTS[0]);
      await f.splitter.connect(f.lenders[1]).fund(f.terms, COMMITMENTS[1]);
      await expect(f.splitter.connect(f.platformA).cancelFunding(f.terms))
        .to.emit(f.splitter, "FundingCancelled")
        .withArgs(f.loanId, f.platformA.address, COMMITMENTS[0] + COMMITMENTS[1]);
      expect((await f.loans.loanState(f.loanId)).status).to.equal(LoanStatus.Cancelled);

      await expect(f.splitter.payout(f.loanId, [f.lenders[0].address])).to.changeTokenBalance(
        ethers,
        f.token,
        f.lenders[0],
        COMMITMENTS[0],
      );
      await expect(f.splitter.connect(f.lenders[1]).claim([f.loanId], f.lenders[1])).to.changeTokenBalance(
        ethers,
        f.token,
        f.lenders[1],
        COMMITMENTS[1],
      );
      expect(await f.token.balanceOf(f.splitter)).to.equal(0n);
      await expect(f.splitter.connect(f.lenders[1]).claim([f.loanId], f.lenders[1]))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNothingToClaim")
        .withArgs(f.lenders[1].address);
    });

    it("lets anyone cancel once the funding deadline has passed, and no one else before", async function () {
      const f = await loadFixture(openFixture);
      for (const caller of [f.outsider, f.lender, f.platformB]) {
        await expect(f.splitter.connect(caller).cancelFunding(f.terms)).to.be.revertedWithCustomError(
          f.splitter,
          "RepaymentSplitterFundingStillOpen",
        );
      }
      await time.increaseTo(f.terms.fundingDeadline + 1);
      await expect(f.splitter.connect(f.outsider).cancelFunding(f.terms))
        .to.emit(f.splitter, "FundingCancelled")
        .withArgs(f.loanId, f.outsider.address, 0);
    });

    for (const phase of [Phase.None, Phase.Funded, Phase.Cancelled, Phase.Repaid]) {
      it(`cannot cancel a loan that is ${PHASE_NAMES[phase]}`, async function () {
        const f = await inPhase(phase);
        await expect(f.splitter.connect(f.platformA).cancelFunding(f.terms))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWrongPhase")
          .withArgs(f.loanId, phase);
      });
    }
  });

  describe("member standing: expelled funds nothing, suspended opens nothing, no platform funds itself", function () {
    it("takes no commitment for an expelled platform's loan, and lets anyone cancel it at once to refund its lenders", async function () {
      const f = await loadFixture(openFixture);
      await f.splitter.connect(f.lender).fund(f.terms, COMMITMENTS[0]);
      await f.alliance.expelMember(f.platformA);
      // Not even the last commitment, which would disburse the principal for an expelled platform.
      await expect(f.splitter.connect(f.lenders[1]).fund(f.terms, COMMITMENTS[1]))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterServicerExpelled")
        .withArgs(f.loanId, f.platformA.address);
      await expect(f.splitter.connect(f.platformA).cancelFunding(f.terms)).to.be.revertedWithCustomError(
        f.splitter,
        "RepaymentSplitterFundingStillOpen",
      );
      await f.splitter.connect(f.lender).cancelFunding(f.terms);
      await expect(f.splitter.connect(f.lender).claim([f.loanId], f.lender)).to.changeTokenBalance(
        ethers,
        f.token,
        f.lender,
        COMMITMENTS[0],
      );
    });

    it("lets a suspended platform's open funding go on, but not open a new one", async function () {
      const f = await loadFixture(openFixture);
      await f.alliance.suspendMember(f.platformA);
      await f.splitter.connect(f.lender).fund(f.terms, COMMITMENTS[0]);
      const other = await termsFor(f.platformA);
      await f.alliance.reinstateMember(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(other);
      await f.alliance.suspendMember(f.platformA);
      await expect(f.splitter.connect(f.platformA).openFunding(other, f.config))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotPlatform")
        .withArgs(loanIdOf(other), f.platformA.address);
    });

    it("refuses a platform as lender or payout account of its own loan", async function () {
      const f = await loadFixture(splitterFixture);
      await expect(
        f.splitter.connect(f.platformA).openFunding(f.terms, { ...f.config, borrowerPayout: f.platformA.address }),
      )
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterOwnLoan")
        .withArgs(f.loanId, f.platformA.address);
      await f.splitter.connect(f.platformA).openFunding(f.terms, f.config);
      // Another platform may vouch for it as a lender; it still cannot fund its own loan.
      await f.alliance.connect(f.platformB).allowLender(f.platformA, (await time.latest()) + DAY);
      await f.token.mint(f.platformA, UNIT);
      await f.token.connect(f.platformA).approve(f.splitter, UNIT);
      await expect(f.splitter.connect(f.platformA).fund(f.terms, UNIT))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterOwnLoan")
        .withArgs(f.loanId, f.platformA.address);
    });

    it("names an expired KYC when a lender commits", async function () {
      const f = await loadFixture(openFixture);
      const kycExpiry = (await time.latest()) + DAY;
      await f.alliance.connect(f.platformA).allowLender(f.lender, kycExpiry);
      await time.setNextBlockTimestamp(kycExpiry);
      await expect(f.splitter.connect(f.lender).fund(f.terms, UNIT))
        .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryLenderKycExpired")
        .withArgs(f.lender.address, kycExpiry, kycExpiry);
    });

    it("pays the platform fee to the successor once the loan was handed over", async function () {
      const f = await loadFixture(fundedFixture);
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.succession.takeOverLoans([f.terms]);
      await time.increase(30 * DAY);
      const before = await f.splitter.feesOwed(f.platformB);
      await repayDue(f);
      const fee = feesOn(f.terms.principal, f).platformFee;
      expect(await f.splitter.feesOwed(f.platformB)).to.equal(before + fee);
      expect(await f.splitter.feesOwed(f.platformA)).to.equal(0n);
    });
  });

  describe("repayments", function () {
    it("settles only the next installment while a later one is due too, and gives the payer back the rest", async function () {
      const f = await loadFixture(fundedFixture);
      await time.increase(2 * f.terms.period + DAY);
      const [due, total] = await f.splitter.amountDue(f.terms);
      const outstanding = (await f.loans.loanState(f.loanId)).outstandingPrincipal;
      // Trying to pay everything at once, two installments behind: only the first installment is taken.
      const tx = f.splitter.connect(f.payer).repayLoan(f.terms, total + outstanding - due.principal, ZeroHash);
      await expect(tx).to.emit(f.splitter, "RepaymentSplit");
      const state = await f.loans.loanState(f.loanId);
      expect(state.installmentsPaid).to.equal(1n);
      const receipt = await (await tx).wait();
      const split = f.splitter.interface.parseLog(
        receipt!.logs.find((l) => l.topics[0] === f.splitter.interface.getEvent("RepaymentSplit").topicHash)!,
      )!.args;
      expect(split.split.prepayment).to.equal(0n);
      await expect(tx).to.changeTokenBalance(ethers, f.token, f.payer, -split.amount);
      expect(split.amount).to.be.at.least(total);
    });

    it("pays the premium to the lenders, not the named insurer, while no policy covers the loan", async function () {
      const f = await loadFixture(splitterFixture);
      await f.splitter.connect(f.platformA).openFunding(f.terms, f.config);
      for (const [i, lender] of f.lenders.entries()) await f.splitter.connect(lender).fund(f.terms, COMMITMENTS[i]);
      await time.increase(30 * DAY);
      const [due, total] = await f.splitter.amountDue(f.terms);
      expect(due.premium).to.be.greaterThan(0n);
      const lendersIn = (await f.splitter.bookOf(f.loanId)).lendersIn;
      await expect(f.splitter.connect(f.payer).repayLoan(f.terms, total, ZeroHash))
        .to.emit(f.splitter, "PremiumToLenders")
        .withArgs(f.loanId, due.premium);
      expect(await f.splitter.feesOwed(f.insurer)).to.equal(0n);
      expect((await f.splitter.bookOf(f.loanId)).lendersIn - lendersIn).to.equal(total - due.platformFee - due.reserve);
    });

    // Paying exactly what amountDue quotes always works, even when the installment is only fees (or nothing at all),
    // so a borrower who pays the quote can never be marked Late for it.
    for (const kind of [
      ScheduleKind.EqualInstallment,
      ScheduleKind.EqualPrincipal,
      ScheduleKind.InterestOnly,
      ScheduleKind.Bullet,
    ]) {
      for (const annualRateBps of [0, 720]) {
        for (const withFees of [true, false]) {
          const name = `${SCHEDULE_KIND_NAMES[kind]} loan at ${annualRateBps} bps ${withFees ? "with" : "without"} fees`;
          it(`accepts exactly the quoted amount on a ${name}`, async function () {
            const f = await loadFixture(splitterFixture);
            const installments = kind === ScheduleKind.Bullet ? 1 : 3;
            const terms = await termsFor(f.platformA, {
              scheduleKind: kind,
              annualRateBps,
              installments,
              principal: UNIT * 3n,
            });
            await f.loans.connect(f.platformA).anchorLoan(terms);
            const config = withFees
              ? f.config
              : { ...f.config, insurer: ZeroAddress, platformFeeBps: 0, premiumBps: 0, reserveBps: 0 };
            await f.splitter.connect(f.platformA).openFunding(terms, config);
            await f.splitter.connect(f.lender).fund(terms, terms.principal);
            await time.increase(terms.period);
            const [, total] = await f.splitter.amountDue(terms);
            await expect(f.splitter.connect(f.payer).repayLoan(terms, total, ZeroHash)).to.emit(
              f.splitter,
              "RepaymentSplit",
            );
            expect((await f.loans.loanState(loanIdOf(terms))).installmentsPaid).to.equal(1n);
          });
        }
      }
    }

    it("applies a payment in waterfall order and reports the whole breakdown in one event", async function () {
      const f = await loadFixture(fundedFixture);
      await time.increase(30 * DAY);
      const fees = feesOn(f.terms.principal, f);
      const due = await f.loans.nextPayment(f.terms);
      const [quoted, total] = await f.splitter.amountDue(f.terms);
      expect(quoted.platformFee).to.equal(fees.platformFee);
      expect(total).to.equal(fees.platformFee + fees.premium + fees.reserve + due.interest + due.principal);

      const prepayment = 1_000n * UNIT;
      const bankRef = id("end-to-end id of the borrower's transfer");
      const tx = f.splitter.connect(f.payer).repayLoan(f.terms, total + prepayment, bankRef);
      await expect(tx)
        .to.emit(f.splitter, "RepaymentSplit")
        .withArgs(f.loanId, f.payer.address, 1, total + prepayment, [
          0n,
          fees.platformFee,
          fees.premium,
          fees.reserve,
          due.interest,
          due.principal,
          prepayment,
        ]);
      // The registry records the lenders' part (the payment less the three fees) and the bank payment it names, in
      // the loan's history.
      await expect(tx)
        .to.emit(f.loans, "RepaymentRecorded")
        .withArgs(
          f.loanId,
          1,
          due.interest + due.principal + prepayment,
          0n,
          due.interest,
          due.principal,
          prepayment,
          f.terms.principal - due.principal - prepayment,
          bankRef,
          (v: unknown) => typeof v === "bigint",
          (v: unknown) => typeof v === "string",
        );
      expect(await f.splitter.feesOwed(f.platformA)).to.equal(fees.platformFee);
      expect(await f.splitter.feesOwed(f.insurer)).to.equal(fees.premium);
      // Reserve contributions are kept per originating platform, for the fund to account for them.
      expect(await f.splitter.reserveOwed(f.platformA)).to.equal(fees.reserve);
      expect((await f.splitter.bookOf(f.loanId)).lendersIn).to.equal(due.interest + due.principal + prepayment);
    });

    it("takes late interest first and passes it to the lenders", async function () {
      const f = await loadFixture(fundedFixture);
      // Mid-day, so that the next block (a second later) owes the same started days of late interest.
      await time.increase(40 * DAY + DAY / 2);
      const [due, total] = await f.splitter.amountDue(f.terms);
      expect(due.lateInterest).to.be.greaterThan(0n);
      await f.splitter.connect(f.payer).repayLoan(f.terms, total, ZeroHash);
      expect((await f.splitter.bookOf(f.loanId)).lendersIn).to.equal(due.lateInterest + due.interest + due.principal);
    });

    it("accepts payment from anyone: borrower, platform or a stranger", async function () {
      const f = await loadFixture(fundedFixture);
      await time.increase(30 * DAY);
      const [, total] = await f.splitter.amountDue(f.terms);
      await f.token.mint(f.outsider, total);
      await f.token.connect(f.outsider).approve(f.splitter, total);
      await expect(f.splitter.connect(f.outsider).repayLoan(f.terms, total, ZeroHash)).to.changeTokenBalance(
        ethers,
        f.token,
        f.outsider,
        -total,
      );
    });

    it("marks the loan Repaid when the last principal is paid", async function () {
      const f = await loadFixture(fundedFixture);
      await time.increase(10 * DAY);
      await payOff(f);
      expect((await f.loans.loanState(f.loanId)).status).to.equal(LoanStatus.Repaid);
      expect((await f.splitter.bookOf(f.loanId)).phase).to.equal(Phase.Repaid);
    });

    it("rejects a payment below the installment with its fees, or above what the loan can take, in the payer's figures", async function () {
      const f = await loadFixture(fundedFixture);
      await time.increase(30 * DAY);
      const [due, total] = await f.splitter.amountDue(f.terms);
      await expect(f.splitter.connect(f.payer).repayLoan(f.terms, total - 1n, ZeroHash))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterPaymentBelowDue")
        .withArgs(f.loanId, total - 1n, total);
      const fees = due.platformFee + due.premium + due.reserve;
      await expect(f.splitter.connect(f.payer).repayLoan(f.terms, fees, ZeroHash))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterPaymentBelowDue")
        .withArgs(f.loanId, fees, total);
      const maxPayable = total - due.principal + f.terms.principal;
      await expect(f.splitter.connect(f.payer).repayLoan(f.terms, maxPayable + 1n, ZeroHash))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterPaymentExceedsDue")
        .withArgs(f.loanId, maxPayable + 1n, maxPayable);
    });

    for (const phase of [Phase.None, Phase.Funding, Phase.Cancelled, Phase.Repaid]) {
      it(`rejects a repayment to a loan that is ${PHASE_NAMES[phase]} in the splitter`, async function () {
        const f = await inPhase(phase);
        await expect(f.splitter.connect(f.payer).repayLoan(f.terms, UNIT, ZeroHash))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWrongPhase")
          .withArgs(f.loanId, phase);
      });
    }

    it("rejects a repayment to a Defaulted loan with the registry's named error", async function () {
      const f = await loadFixture(fundedFixture);
      await time.increase(34 * DAY);
      await f.loans.connect(f.platformA).markLate(f.terms);
      await time.increase(90 * DAY);
      await f.loans.connect(f.platformA).markDefaulted(f.terms);
      await expect(f.splitter.connect(f.payer).repayLoan(f.terms, 10_000n * UNIT, ZeroHash))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotServiceable")
        .withArgs(f.loanId, LoanStatus.Defaulted);
    });
  });

  describe("payouts", function () {
    it("pushes each lender its pro-rata part, once", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const lendersIn = (await f.splitter.bookOf(f.loanId)).lendersIn;
      const expected = COMMITMENTS.map((c) => (lendersIn * c) / f.terms.principal);
      for (const [i, lender] of f.lenders.entries()) {
        expect(await f.splitter.owedTo(f.loanId, lender)).to.equal(expected[i]);
      }
      const addresses = f.lenders.map((l) => l.address);
      const tx = f.splitter.connect(f.outsider).payout(f.loanId, addresses);
      await expect(tx).to.changeTokenBalances(ethers, f.token, f.lenders, expected);
      // The event names the batch's lenders, 20 bytes each; what each got is its pro-rata part, replayable.
      const batch = solidityPacked(["address", "address", "address"], addresses);
      const paid = expected[0] + expected[1] + expected[2];
      await expect(tx).to.emit(f.splitter, "PayoutsPushed").withArgs(f.loanId, f.outsider.address, 3, paid, 0, batch);
      // The payout is a fact of the loan's history, so the history a chain proves fixes whom it paid.
      const history = await loanHistory(f.clientFor(f.auditor).loans, f.loanId);
      const fact = keccak256(
        AbiCoder.defaultAbiCoder().encode(
          ["uint8", "bytes32", "uint256", "uint256"],
          [FactKind.PayoutsPushed, keccak256(batch), paid, 0],
        ),
      );
      expect(history.entries.at(-1)?.fact).to.include({
        kind: "External",
        source: await f.splitter.getAddress(),
        factHash: fact,
      });
      // The verifier proves it against the payout's event, and `loan history` says what it was.
      expect(history.entries.at(-1)?.writerFact).to.deep.equal({ kind: "PayoutsPushed", batch, paid, skipped: 0n });
      expect(history.verified).to.equal(true);
      const entries = history.entries.length;
      // A batch that pays nobody changes nothing, and adds nothing to the history.
      await expect(f.splitter.payout(f.loanId, addresses)).to.changeTokenBalances(ethers, f.token, f.lenders, [
        0n,
        0n,
        0n,
      ]);
      expect((await loanHistory(f.clientFor(f.auditor).loans, f.loanId)).entries).to.have.length(entries);
    });

    it("pays a lender listed twice in one batch only once", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const owed = await f.splitter.owedTo(f.loanId, f.lender);
      await expect(f.splitter.payout(f.loanId, [f.lender.address, f.lender.address])).to.changeTokenBalance(
        ethers,
        f.token,
        f.lender,
        owed,
      );
    });

    for (const phase of [Phase.None, Phase.Funding]) {
      it(`has nothing to pay for a loan that is ${PHASE_NAMES[phase]}`, async function () {
        const f = await inPhase(phase);
        await expect(f.splitter.payout(f.loanId, [f.lender.address]))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWrongPhase")
          .withArgs(f.loanId, phase);
      });
    }

    it("lets each lender claim for many loans in one transfer, to an address of its choice", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const second = await termsFor(f.platformA, { principal: 1_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(second);
      await f.splitter.connect(f.platformA).openFunding(second, f.config);
      await f.splitter.connect(f.lender).fund(second, 1_000n * UNIT);
      await time.increase(30 * DAY);
      const [, total] = await f.splitter.amountDue(second);
      await f.splitter.connect(f.payer).repayLoan(second, total, ZeroHash);
      const ids = [f.loanId, loanIdOf(second)];
      const owed = (await f.splitter.owedTo(ids[0], f.lender)) + (await f.splitter.owedTo(ids[1], f.lender));
      await expect(f.splitter.connect(f.lender).claim(ids, f.outsider)).to.changeTokenBalances(
        ethers,
        f.token,
        [f.lender, f.outsider],
        [0n, owed],
      );
      await expect(f.splitter.connect(f.lender).claim(ids, f.lender))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNothingToClaim")
        .withArgs(f.lender.address);
      await expect(f.splitter.connect(f.lender).claim(ids, ZeroAddress)).to.be.revertedWithCustomError(
        f.splitter,
        "RepaymentSplitterZeroAddress",
      );
    });

    for (const phase of [Phase.None, Phase.Funding]) {
      it(`has nothing for a lender to claim from a loan that is ${PHASE_NAMES[phase]}`, async function () {
        const f = await inPhase(phase);
        if (phase === Phase.Funding) await f.splitter.connect(f.lender).fund(f.terms, UNIT);
        await expect(f.splitter.connect(f.lender).claim([f.loanId], f.lender))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNothingToClaim")
          .withArgs(f.lender.address);
      });
    }

    it("sends the rounding remainder of a repaid loan to the reserve once every lender is paid", async function () {
      const f = await loadFixture(fundedFixture);
      // Shares of 2/9, 3/9 and 4/9 leave remainders on amounts not divisible by 9.
      await time.increase(30 * DAY);
      await repayDue(f, 1n);
      await time.increase(30 * DAY);
      await payOff(f);
      const book = await f.splitter.bookOf(f.loanId);
      const reserve = await f.splitter.reserve();
      const reserveBefore = await f.splitter.remaindersOwed();
      await f.splitter.payout(f.loanId, [f.lenders[0].address, f.lenders[1].address]);
      const last = f.splitter.payout(f.loanId, [f.lenders[2].address]);
      const paid = COMMITMENTS.map((c) => (book.lendersIn * c) / f.terms.principal);
      const remainder = book.lendersIn - paid[0] - paid[1] - paid[2];
      expect(remainder).to.be.greaterThan(0n);
      await expect(last).to.emit(f.splitter, "RemainderSwept").withArgs(f.loanId, reserve, remainder);
      expect(await f.splitter.remaindersOwed()).to.equal(reserveBefore + remainder);
      // The reserve collects it with the contributions, into its balance and no platform's quota.
      const quota = await f.reserve.quotaRemaining(f.platformA);
      await expect(f.reserve.collect([]))
        .to.emit(f.reserve, "RemaindersCollected")
        .withArgs(reserveBefore + remainder);
      expect(await f.splitter.remaindersOwed()).to.equal(0n);
      expect(await f.reserve.quotaRemaining(f.platformA)).to.equal(quota);
      const after = await f.splitter.bookOf(f.loanId);
      expect(after.lendersPaid).to.equal(after.lendersIn);
      expect(after.openPositions).to.equal(0n);
    });
  });

  describe("lenders that cannot be paid", function () {
    /** A suite on a token in `behaviour` mode, with a contract lender and two EOA lenders funding a loan. */
    async function contractLenderFixture(behaviour: number) {
      const f = await loadFixture(splitterFixture);
      const token = (await ethers.deployContract("MockToken", [behaviour])) as unknown as MockToken;
      const splitter = await splitterOn(f, token);
      const contractLender = (await ethers.deployContract("MockLender")) as unknown as MockLender;
      await f.alliance.connect(f.platformA).allowLender(contractLender, (await time.latest()) + 365 * DAY);
      const eoaLenders = f.lenders.slice(0, 2);
      for (const account of [...eoaLenders, f.payer]) {
        await token.mint(account, 1_000_000n * UNIT);
        await token.connect(account).approve(splitter, MaxUint256);
      }
      await token.mint(contractLender, 1_000_000n * UNIT);
      await contractLender.execute(
        token,
        token.interface.encodeFunctionData("approve", [String(splitter.target), MaxUint256]),
      );

      await splitter.connect(f.platformA).openFunding(f.terms, f.config);
      await contractLender.execute(splitter, splitter.interface.encodeFunctionData("fund", [f.terms, COMMITMENTS[0]]));
      if (behaviour === TokenBehaviour.Hook) await token.setHooked(contractLender, true);
      await splitter.connect(eoaLenders[0]).fund(f.terms, COMMITMENTS[1]);
      await splitter.connect(eoaLenders[1]).fund(f.terms, COMMITMENTS[2]);
      await time.increase(30 * DAY);
      const [, total] = await splitter.amountDue(f.terms);
      await splitter.connect(f.payer).repayLoan(f.terms, total, ZeroHash);
      const everyone = [String(contractLender.target), ...eoaLenders.map((l) => l.address)];
      return { ...f, token, splitter, contractLender, eoaLenders, everyone };
    }

    it("skips a lender whose hook reverts, pays the others, and keeps its payout claimable", async function () {
      const f = await contractLenderFixture(TokenBehaviour.Hook);
      await f.contractLender.setOnReceive(OnReceive.Revert, ZeroAddress, "0x");
      const owed = await f.splitter.owedTo(f.loanId, f.contractLender);
      const others = await Promise.all(f.eoaLenders.map((l) => f.splitter.owedTo(f.loanId, l)));
      const tx = f.splitter.payout(f.loanId, f.everyone);
      await expect(tx).to.emit(f.splitter, "PayoutSkipped").withArgs(f.loanId, f.contractLender.target, owed);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.contractLender, ...f.eoaLenders], [0n, ...others]);
      expect(await f.splitter.owedTo(f.loanId, f.contractLender)).to.equal(owed);

      await f.contractLender.setOnReceive(OnReceive.Accept, ZeroAddress, "0x");
      await expect(
        f.contractLender.execute(
          f.splitter,
          f.splitter.interface.encodeFunctionData("claim", [[f.loanId], String(f.contractLender.target)]),
        ),
      ).to.changeTokenBalance(ethers, f.token, f.contractLender, owed);
    });

    it("skips a blocked lender without blocking the others; it can claim to another account", async function () {
      const f = await contractLenderFixture(TokenBehaviour.Standard);
      const blocked = f.eoaLenders[0];
      await f.token.setBlocked(blocked, true);
      const owed = await f.splitter.owedTo(f.loanId, blocked);
      const tx = f.splitter.payout(f.loanId, f.everyone);
      await expect(tx).to.emit(f.splitter, "PayoutSkipped").withArgs(f.loanId, blocked.address, owed);
      const [paid, skipped] = await f.splitter.payout.staticCall(f.loanId, f.everyone);
      expect(paid).to.equal(0n);
      expect(skipped).to.equal(1n);
      await expect(f.splitter.connect(blocked).claim([f.loanId], f.outsider)).to.changeTokenBalance(
        ethers,
        f.token,
        f.outsider,
        owed,
      );
    });

    for (const [mode, name] of [
      [OnReceive.ReenterAndBubble, "lets its re-entry fail the transfer"],
      [OnReceive.ReenterAndSwallow, "swallows its failed re-entry"],
    ] as const) {
      it(`gives a lender whose hook re-enters (and ${name}) nothing more than its share`, async function () {
        const f = await contractLenderFixture(TokenBehaviour.Hook);
        const reentry = f.splitter.interface.encodeFunctionData("payout", [
          f.loanId,
          [String(f.contractLender.target)],
        ]);
        await f.contractLender.setOnReceive(mode, f.splitter, reentry);
        const owed = await f.splitter.owedTo(f.loanId, f.contractLender);
        const others = await Promise.all(f.eoaLenders.map((l) => f.splitter.owedTo(f.loanId, l)));
        const expectedOwn = mode === OnReceive.ReenterAndSwallow ? owed : 0n;
        await expect(f.splitter.payout(f.loanId, f.everyone)).to.changeTokenBalances(
          ethers,
          f.token,
          [f.contractLender, ...f.eoaLenders],
          [expectedOwn, ...others],
        );
        if (mode === OnReceive.ReenterAndSwallow) {
          expect(await f.contractLender.reentryAttempts()).to.be.greaterThan(0n);
          expect(await f.contractLender.reentrySuccesses()).to.equal(0n);
        } else {
          // The failed re-entry reverted the lender's own transfer (its counters with it): the payout was skipped.
          expect(await f.splitter.queryFilter(f.splitter.filters.PayoutSkipped(f.loanId))).to.have.length(1);
        }
        expect(await f.splitter.owedTo(f.loanId, f.contractLender)).to.equal(owed - expectedOwn);
      });
    }

    it("works with a token whose transfers return nothing", async function () {
      const f = await contractLenderFixture(TokenBehaviour.NoReturn);
      const owed = await Promise.all(f.everyone.map((a) => f.splitter.owedTo(f.loanId, a)));
      await expect(f.splitter.payout(f.loanId, f.everyone)).to.changeTokenBalances(ethers, f.token, f.everyone, owed);
    });

    it("rejects a token that returns false, and one that takes a fee on transfer", async function () {
      const f = await loadFixture(splitterFixture);
      for (const [behaviour, error] of [
        [TokenBehaviour.ReturnFalse, "SafeERC20FailedOperation"],
        [TokenBehaviour.FeeOnTransfer, "ExactTransferShortfall"],
      ] as const) {
        const token = (await ethers.deployContract("MockToken", [behaviour])) as unknown as MockToken;
        const splitter = await splitterOn(f, token);
        const terms = await termsFor(f.platformA, { principal: 1_000n * UNIT });
        await f.loans.connect(f.platformA).anchorLoan(terms);
        await splitter.connect(f.platformA).openFunding(terms, f.config);
        await token.mint(f.lender, 1_000n * UNIT);
        await token.connect(f.lender).approve(splitter, MaxUint256);
        const attempt = splitter.connect(f.lender).fund(terms, 1_000n * UNIT);
        if (error === "ExactTransferShortfall") {
          await expect(attempt)
            .to.be.revertedWithCustomError(splitter, error)
            .withArgs(token.target, 1_000n * UNIT, 990n * UNIT);
        } else {
          await expect(attempt).to.be.revertedWithCustomError(splitter, error).withArgs(token.target);
        }
      }
    });
  });

  describe("recoveries and closing losses, from the loss waterfall only", function () {
    /** The loss waterfall's own account, to send what only it may send. */
    async function asWaterfall(f: SplitterFixture) {
      const address = await f.splitter.waterfall();
      await networkHelpers.impersonateAccount(address);
      await networkHelpers.setBalance(address, 10n ** 18n);
      return ethers.getSigner(address);
    }

    it("take money for a funded loan's lenders from the loss waterfall only", async function () {
      const f = await loadFixture(fundedFixture);
      for (const caller of [f.platformA, f.lender, f.outsider, f.governance]) {
        await expect(f.splitter.connect(caller).recover(f.loanId, UNIT))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotWaterfall")
          .withArgs(caller.address);
        await expect(f.splitter.connect(caller).closeLoss(f.terms, true))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotWaterfall")
          .withArgs(caller.address);
      }
      // A system contract with every power over loans is still not the splitter's waterfall.
      await expect(f.system.execute(f.splitter, f.splitter.interface.encodeFunctionData("recover", [f.loanId, UNIT])))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotWaterfall")
        .withArgs(await f.system.getAddress());
      const waterfall = await asWaterfall(f);
      await f.token.mint(waterfall, UNIT);
      await f.token.connect(waterfall).approve(f.splitter, UNIT);
      await expect(f.splitter.connect(waterfall).recover(f.loanId, UNIT))
        .to.emit(f.splitter, "RecoveryReceived")
        .withArgs(f.loanId, waterfall.address, UNIT);
      expect((await f.splitter.bookOf(f.loanId)).lendersIn).to.equal(UNIT);
      // The money that reached the loan is a fact of its history, even on a loan that is not in default.
      const history = await loanHistory(f.clientFor(f.auditor).loans, f.loanId);
      const recovery = keccak256(
        AbiCoder.defaultAbiCoder().encode(
          ["uint8", "address", "uint256"],
          [FactKind.RecoveryReceived, waterfall.address, UNIT],
        ),
      );
      expect(history.entries.at(-1)?.fact).to.include({
        kind: "External",
        source: await f.splitter.getAddress(),
        factHash: recovery,
      });
      expect(history.verified).to.equal(true);
      await expect(f.splitter.connect(waterfall).recover(f.loanId, 0)).to.be.revertedWithCustomError(
        f.splitter,
        "RepaymentSplitterZeroAmount",
      );
    });

    it("takes a loan's cover only from the credit insurance contract, which governance names once", async function () {
      const f = await loadFixture(fundedFixture);
      for (const caller of [f.insurer, f.platformA, f.governance]) {
        await expect(f.splitter.connect(caller).setCover(f.loanId, 1n, 10_000))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotInsurance")
          .withArgs(caller.address);
      }
      await expect(f.splitter.connect(f.outsider).setInsurance(f.outsider))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotGovernance")
        .withArgs(f.outsider.address);
      await expect(f.splitter.setInsurance(f.outsider))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterInsuranceSet")
        .withArgs(await f.insurance.getAddress());
    });

    it("names the waterfall once, a contract, by governance", async function () {
      const f = await loadFixture(splitterFixture);
      await expect(f.splitter.connect(f.outsider).setWaterfall(f.outsider))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotGovernance")
        .withArgs(f.outsider.address);
      await expect(f.splitter.setWaterfall(f.system))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWaterfallSet")
        .withArgs(await f.splitter.waterfall());
    });

    for (const phase of [Phase.None, Phase.Funding, Phase.Cancelled, Phase.Repaid]) {
      it(`refuse a recovery for a loan that is ${PHASE_NAMES[phase]}`, async function () {
        const f = await inPhase(phase);
        const waterfall = await asWaterfall(f);
        await expect(f.splitter.connect(waterfall).recover(f.loanId, UNIT))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWrongPhase")
          .withArgs(f.loanId, phase);
      });
    }
  });

  describe("share transfers", function () {
    it("keeps payouts accrued before the transfer with the seller and sends later ones to the buyer", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const [seller, buyer] = [f.lenders[2], f.lenders[0]];
      const sellerOwed = await f.splitter.owedTo(f.loanId, seller);
      const buyerOwed = await f.splitter.owedTo(f.loanId, buyer);
      const half = COMMITMENTS[2] / 2n;
      await expect(f.splitter.connect(seller).transferShare(f.loanId, buyer, half))
        .to.emit(f.splitter, "ShareTransferred")
        .withArgs(f.loanId, seller.address, buyer.address, half);
      expect(await f.splitter.owedTo(f.loanId, seller)).to.be.within(sellerOwed - 1n, sellerOwed);
      expect(await f.splitter.owedTo(f.loanId, buyer)).to.be.within(buyerOwed - 1n, buyerOwed);

      const before = (await f.splitter.bookOf(f.loanId)).lendersIn;
      await time.increase(30 * DAY);
      await repayDue(f);
      const part = (await f.splitter.bookOf(f.loanId)).lendersIn - before;
      const sellerLater = (await f.splitter.owedTo(f.loanId, seller)) - sellerOwed;
      const buyerLater = (await f.splitter.owedTo(f.loanId, buyer)) - buyerOwed;
      expect(sellerLater).to.be.within((part * half) / f.terms.principal - 1n, (part * half) / f.terms.principal + 1n);
      const buyerShares = COMMITMENTS[0] + half;
      expect(buyerLater).to.be.within(
        (part * buyerShares) / f.terms.principal - 1n,
        (part * buyerShares) / f.terms.principal + 1n,
      );
    });

    it("pays a seller that sold all its shares what it earned before, even after the loan is repaid", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const [seller, buyer] = [f.lenders[0], f.lenders[1]];
      const earned = await f.splitter.owedTo(f.loanId, seller);
      expect(earned).to.be.greaterThan(0n);
      await f.splitter.connect(seller).transferShare(f.loanId, buyer, COMMITMENTS[0]);
      await time.increase(DAY);
      await payOff(f);
      // Every shareholder is paid first; the seller, holding no shares, comes last.
      await f.splitter.payout(f.loanId, [f.lenders[1].address, f.lenders[2].address]);
      await expect(f.splitter.payout(f.loanId, [seller.address])).to.changeTokenBalance(
        ethers,
        f.token,
        seller,
        (paid: bigint) => paid >= earned - 1n && paid <= earned,
      );
      // Every wei the lenders were owed left, and what is still owed to payees is covered.
      const book = await f.splitter.bookOf(f.loanId);
      expect(book.lendersPaid).to.equal(book.lendersIn);
      const payees = [f.platformA, f.insurer];
      const feesOwed = (await Promise.all(payees.map((p) => f.splitter.feesOwed(p)))).reduce((a, b) => a + b, 0n);
      expect(await f.token.balanceOf(f.splitter)).to.equal(
        feesOwed + (await f.splitter.reserveOwed(f.platformA)) + (await f.splitter.remaindersOwed()),
      );
    });

    it("lists a new buyer among the loan's lenders", async function () {
      const f = await loadFixture(repaidOnceFixture);
      await f.alliance.connect(f.platformA).allowLender(f.outsider, (await time.latest()) + DAY);
      await f.splitter.connect(f.lender).transferShare(f.loanId, f.outsider, UNIT);
      expect(await f.splitter.lendersOf(f.loanId, 0, 100)).to.include(f.outsider.address);
      expect(await f.splitter.owedTo(f.loanId, f.outsider)).to.equal(0n);
    });

    it("moves shares only to another allowlisted lender, and no more than the seller holds", async function () {
      const f = await loadFixture(repaidOnceFixture);
      await expect(f.splitter.connect(f.lender).transferShare(f.loanId, f.outsider, UNIT))
        .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryUnknownLender")
        .withArgs(f.outsider.address);
      await expect(f.splitter.connect(f.lender).transferShare(f.loanId, f.lender, UNIT))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotAllowedLender")
        .withArgs(f.lender.address);
      await expect(f.splitter.connect(f.lender).transferShare(f.loanId, f.lenders[1], COMMITMENTS[0] + 1n))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterInsufficientShares")
        .withArgs(f.loanId, f.lender.address, COMMITMENTS[0], COMMITMENTS[0] + 1n);
      await expect(f.splitter.connect(f.outsider).transferShare(f.loanId, f.lenders[1], 1n))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterInsufficientShares")
        .withArgs(f.loanId, f.outsider.address, 0, 1n);
      await expect(f.splitter.connect(f.lender).transferShare(f.loanId, f.lenders[1], 0)).to.be.revertedWithCustomError(
        f.splitter,
        "RepaymentSplitterZeroAmount",
      );
    });

    for (const phase of [Phase.None, Phase.Funding, Phase.Cancelled, Phase.Repaid]) {
      it(`cannot move shares of a loan that is ${PHASE_NAMES[phase]}`, async function () {
        const f = await inPhase(phase);
        await expect(f.splitter.connect(f.lender).transferShare(f.loanId, f.lenders[1], 1n))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterWrongPhase")
          .withArgs(f.loanId, phase);
      });
    }
  });

  describe("fees and governance", function () {
    it("lets each payee withdraw its accrued fees, once, and the reserve fund collect its contributions", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const contributed = await f.splitter.reserveOwed(f.platformA);
      await expect(f.reserve.collect([f.platformA.address]))
        .to.emit(f.splitter, "ReserveCollected")
        .withArgs(f.platformA.address, contributed);
      expect((await f.reserve.positionOf(f.platformA)).contributed).to.equal(contributed);
      await expect(f.splitter.connect(f.platformA).withdrawReserve([f.platformA.address]))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotReserve")
        .withArgs(f.platformA.address);
      for (const payee of [f.platformA, f.insurer]) {
        const owed = await f.splitter.feesOwed(payee);
        expect(owed).to.be.greaterThan(0n);
        await expect(f.splitter.connect(payee).withdrawFees(payee)).to.changeTokenBalance(ethers, f.token, payee, owed);
        await expect(f.splitter.connect(payee).withdrawFees(payee))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNothingToClaim")
          .withArgs(payee.address);
      }
      await expect(f.splitter.connect(f.outsider).withdrawFees(f.outsider)).to.be.revertedWithCustomError(
        f.splitter,
        "RepaymentSplitterNothingToClaim",
      );
    });

    it("pays each payee, over withdrawals between repayments, exactly what it accrued, and the next repayment after a withdrawal costs what one without it does", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const payees = [f.platformA, f.insurer];
      const withdrawn = new Map<string, bigint>(payees.map((p) => [p.address, 0n]));
      let collected = 0n;
      const withdrawAll = async () => {
        for (const payee of payees) {
          const owed = await f.splitter.feesOwed(payee);
          await f.splitter.connect(payee).withdrawFees(payee);
          withdrawn.set(payee.address, withdrawn.get(payee.address)! + owed);
          expect(await f.splitter.feesOwed(payee)).to.equal(0n);
        }
        collected += await f.splitter.reserveOwed(f.platformA);
        await f.reserve.collect([f.platformA.address]);
        expect(await f.splitter.reserveOwed(f.platformA)).to.equal(0n);
      };
      await withdrawAll();
      // The same loan, the same installment size: one repayment right after the payees withdrew, the next without.
      await time.increase(30 * DAY);
      const afterWithdrawal = (await (await repayDue(f)).wait())!.gasUsed;
      await time.increase(30 * DAY);
      const without = (await (await repayDue(f)).wait())!.gasUsed;
      expect(afterWithdrawal).to.be.closeTo(without, 100n);
      await withdrawAll();
      // What they were paid is what the waterfall gave them, repayment by repayment.
      const splits = await f.splitter.queryFilter(f.splitter.filters.RepaymentSplit(f.loanId));
      const platformFees = splits.reduce((sum, e) => sum + e.args.split.platformFee, 0n);
      const reserve = splits.reduce((sum, e) => sum + e.args.split.reserve, 0n);
      expect(withdrawn.get(f.platformA.address)).to.equal(platformFees);
      expect(collected).to.equal(reserve);
      expect(withdrawn.get(f.insurer.address)).to.be.greaterThan(0n);
    });

    it("pays a platform named twice in one collection once, and credits the reserve's position once", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const contributed = await f.splitter.reserveOwed(f.platformA);
      expect(contributed).to.be.greaterThan(0n);
      await expect(f.reserve.collect([f.platformA.address, f.platformA.address])).to.changeTokenBalance(
        ethers,
        f.token,
        f.reserve,
        contributed,
      );
      expect((await f.reserve.positionOf(f.platformA)).contributed).to.equal(contributed);
      expect(await f.splitter.reserveOwed(f.platformA)).to.equal(0n);
    });

    it("keeps a platform's fees and its reserve contributions apart, though one slot holds both", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const fees = await f.splitter.feesOwed(f.platformA);
      const contributed = await f.splitter.reserveOwed(f.platformA);
      expect(fees).to.be.greaterThan(0n);
      expect(contributed).to.be.greaterThan(0n);
      // The platform's withdrawal takes its fees alone; the reserve's collection then takes the contributions alone.
      await expect(f.splitter.connect(f.platformA).withdrawFees(f.platformA)).to.changeTokenBalance(
        ethers,
        f.token,
        f.platformA,
        fees,
      );
      expect(await f.splitter.reserveOwed(f.platformA)).to.equal(contributed);
      await time.increase(30 * DAY);
      const receipt = await (await repayDue(f)).wait();
      const [split] = await f.splitter.queryFilter(f.splitter.filters.RepaymentSplit(f.loanId), receipt!.blockNumber);
      expect(await f.splitter.feesOwed(f.platformA)).to.equal(split.args.split.platformFee);
      await expect(f.reserve.collect([f.platformA.address])).to.changeTokenBalance(
        ethers,
        f.token,
        f.reserve,
        contributed + split.args.split.reserve,
      );
      expect(await f.splitter.feesOwed(f.platformA)).to.equal(split.args.split.platformFee);
    });

    it("credits a successor's fee to the successor and the contribution to the originating platform, in one repayment", async function () {
      const f = await loadFixture(repaidOnceFixture);
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.succession.takeOverLoans([f.terms]);
      const [feesA, reserveA, feesB, reserveB] = await Promise.all([
        f.splitter.feesOwed(f.platformA),
        f.splitter.reserveOwed(f.platformA),
        f.splitter.feesOwed(f.platformB),
        f.splitter.reserveOwed(f.platformB),
      ]);
      await time.increase(30 * DAY);
      const receipt = await (await repayDue(f)).wait();
      const [split] = await f.splitter.queryFilter(f.splitter.filters.RepaymentSplit(f.loanId), receipt!.blockNumber);
      expect(await f.splitter.feesOwed(f.platformA)).to.equal(feesA);
      expect(await f.splitter.reserveOwed(f.platformA)).to.equal(reserveA + split.args.split.reserve);
      expect(await f.splitter.feesOwed(f.platformB)).to.equal(feesB + split.args.split.platformFee);
      expect(await f.splitter.reserveOwed(f.platformB)).to.equal(reserveB);
    });

    it("credits the fee of a loan handed back to its own platform to that platform, leaving nothing unowed", async function () {
      const f = await loadFixture(repaidOnceFixture);
      // Away to B and back to A: A services its loan again, as a successor of record.
      await f.succession.transferServicing([f.terms], f.platformB);
      await f.succession.transferServicing([f.terms], f.platformA);
      const [fees, contributed] = await Promise.all([
        f.splitter.feesOwed(f.platformA),
        f.splitter.reserveOwed(f.platformA),
      ]);
      await time.increase(30 * DAY);
      const receipt = await (await repayDue(f)).wait();
      const [split] = await f.splitter.queryFilter(f.splitter.filters.RepaymentSplit(f.loanId), receipt!.blockNumber);
      expect(await f.splitter.feesOwed(f.platformA)).to.equal(fees + split.args.split.platformFee);
      expect(await f.splitter.reserveOwed(f.platformA)).to.equal(contributed + split.args.split.reserve);
      expect(await f.splitter.feesOwed(f.platformB)).to.equal(0n);
    });

    it("credits a platform that insures its own loan its premium, its fee and its contribution, in one slot and after a hand-over", async function () {
      const f = await loadFixture(splitterFixture);
      const both = (await ethers.getSigners())[12];
      await f.alliance.admitMember(both, Role.Platform | Role.Insurer, id("platform and insurer licence"));
      const terms = await termsFor(both, { principal: 90_000n * UNIT });
      const loanId = loanIdOf(terms);
      await f.loans.connect(both).anchorLoan(terms);
      await f.splitter.connect(both).openFunding(terms, { ...f.config, insurer: both.address });
      await f.token.mint(both, terms.principal);
      await f.token.connect(both).approve(f.insurance, terms.principal);
      await f.insurance.connect(both).depositCapital(terms.principal);
      await f.insurance.connect(both).writePolicy(terms, 10_000, (await time.latest()) + 730 * DAY);
      for (const [i, lender] of f.lenders.entries()) await f.splitter.connect(lender).fund(terms, COMMITMENTS[i]);
      const repay = async () => {
        await time.increase(30 * DAY);
        const [, total] = await f.splitter.amountDue(terms);
        const receipt = await (await f.splitter.connect(f.payer).repayLoan(terms, total, ZeroHash)).wait();
        const [split] = await f.splitter.queryFilter(f.splitter.filters.RepaymentSplit(loanId), receipt!.blockNumber);
        return split.args.split;
      };
      // Its own servicer: the premium (full cover), the fee and the contribution, all to it.
      const first = await repay();
      expect(await f.splitter.feesOwed(both)).to.equal(first.platformFee + first.premium);
      expect(await f.splitter.reserveOwed(both)).to.equal(first.reserve);
      // Handed to B: the premium and the contribution stay with it, the fee goes to B.
      await f.succession.transferServicing([terms], f.platformB);
      const second = await repay();
      expect(await f.splitter.feesOwed(both)).to.equal(first.platformFee + first.premium + second.premium);
      expect(await f.splitter.reserveOwed(both)).to.equal(first.reserve + second.reserve);
      expect(await f.splitter.feesOwed(f.platformB)).to.equal(second.platformFee);
    });

    it("lets a platform expelled after it earned fees withdraw them, and them alone, once", async function () {
      const f = await loadFixture(repaidOnceFixture);
      const owed = await f.splitter.feesOwed(f.platformA);
      expect(owed).to.be.greaterThan(0n);
      await f.alliance.expelMember(f.platformA);
      // Its expulsion neither seizes what it earned nor lets it take more than that.
      await expect(f.splitter.connect(f.platformA).withdrawFees(f.platformA)).to.changeTokenBalance(
        ethers,
        f.token,
        f.platformA,
        owed,
      );
      await expect(f.splitter.connect(f.platformA).withdrawFees(f.platformA))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNothingToClaim")
        .withArgs(f.platformA.address);
      expect(await f.splitter.feesOwed(f.platformA)).to.equal(0n);
    });

    it("lets only governance set the caps and the reserve", async function () {
      const f = await loadFixture(splitterFixture);
      const caps = { platformFeeBps: 500, premiumBps: 400, reserveBps: 200 };
      for (const caller of [f.platformA, f.outsider, f.auditor]) {
        await expect(f.splitter.connect(caller).setFeeCaps(caps))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotGovernance")
          .withArgs(caller.address);
        await expect(f.splitter.connect(caller).setReserve(caller))
          .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterNotGovernance")
          .withArgs(caller.address);
      }
      await expect(f.splitter.setFeeCaps(caps)).to.emit(f.splitter, "FeeCapsSet");
      expect((await f.splitter.feeCaps()).platformFeeBps).to.equal(500n);
      await expect(f.splitter.setReserve(f.auditor)).to.emit(f.splitter, "ReserveSet").withArgs(f.auditor.address);
      await expect(f.splitter.setReserve(ZeroAddress)).to.be.revertedWithCustomError(
        f.splitter,
        "RepaymentSplitterZeroAddress",
      );
      await expect(f.splitter.setFeeCaps({ ...caps, reserveBps: 10_001 }))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterFeeAboveCap")
        .withArgs(FeeKind.ReserveContribution, 10_001, 10_000);
    });
  });
});
