import { expect } from "chai";
import { id, MaxUint256, Signature, ZeroHash } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  AssetClass,
  assetKey,
  CollateralClient,
  loanIdOf,
  LoanRegistryClient,
  LoanStatus,
  type LoanTerms,
} from "../../src/client/index.js";
import {
  ALLIANCE_KEY,
  DAY,
  deployAllianceFixture,
  ethers,
  loadFixture,
  proposeSale,
  termsFor,
  time,
  type AllianceFixture,
} from "../fixtures.js";

/**
 * Attacks on the issue-10 rules by the alliance's own members, at the seams where each contract keeps its own view of a
 * loan. Every test asserts the safe outcome, so each one fails for as long as its attack works.
 */

const UNIT = 10n ** 18n;
const VIN = "LSVAU2180N2183294";
const APPRAISAL = 80_000n * UNIT;
const NO_FEES = {
  insurer: ethers.ZeroAddress,
  platformFeeBps: 0,
  premiumBps: 0,
  reserveBps: 0,
};

/** A car registered by platform A for its owner, and a second lender vouched by platform A. */
async function attackFixture() {
  const f = await deployAllianceFixture();
  const [owner, buyer, custodian, insurer, lender2] = (await ethers.getSigners()).slice(7, 12);
  await f.alliance.admitMember(custodian, 8, id("custodian licence"));
  await f.alliance.admitMember(insurer, 2, id("insurer licence"));
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 365 * DAY);
  const car = assetKey(AssetClass.Vehicle, VIN, ALLIANCE_KEY);
  await f.collateral
    .connect(f.platformA)
    .registerCollateral(car, owner, AssetClass.Vehicle, APPRAISAL, id("appraisal"));
  for (const lender of [f.lender, lender2]) {
    await f.token.mint(lender, 1_000_000n * UNIT);
    await f.token.connect(lender).approve(f.splitter, MaxUint256);
  }
  return { ...f, owner, buyer, custodian, insurer, lender2, car };
}
type Fixture = Awaited<ReturnType<typeof attackFixture>>;

function platformOf(f: AllianceFixture, terms: LoanTerms): HardhatEthersSigner {
  return terms.platform === f.platformA.address ? f.platformA : f.platformB;
}

/** The owner's signed consent to a lien of `terms` on the car, pledged by the loan's platform. */
async function pledge(f: Fixture, terms: LoanTerms, secured: bigint, priority: number, by = platformOf(f, terms)) {
  const deadline = (await time.latest()) + DAY;
  const ownerClient = new CollateralClient(
    String(f.collateral.target),
    f.owner,
    new LoanRegistryClient(String(f.loans.target), f.owner),
  );
  const signed = await ownerClient.consent(
    { assetId: f.car, loanId: loanIdOf(terms), securedAmount: secured, priority },
    deadline,
  );
  const sig = Signature.from(signed.signature);
  return f.collateral.connect(by).pledge(f.car, terms, secured, priority, deadline, sig.r, sig.yParityAndS);
}

/** Platform A's loan of 10 000 opened for funding with the insurer named at a 2% premium; the insurer deposits
 * `capital`. */
async function insuredLoan(f: Fixture, capital: bigint) {
  const loan = await termsFor(f.platformA, { principal: 10_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(loan);
  await f.splitter.connect(f.platformA).openFunding(loan, {
    borrowerPayout: f.owner.address,
    ...NO_FEES,
    insurer: f.insurer.address,
    premiumBps: 200,
  });
  if (capital > 0n) {
    await f.token.mint(f.insurer, capital);
    await f.token.connect(f.insurer).approve(f.insurance, MaxUint256);
    await f.insurance.connect(f.insurer).depositCapital(capital);
  }
  return loan;
}

/** Anchors `terms`, opens funding through the splitter and has the lender fund it in full: the loan is Active. */
async function anchorAndFund(f: Fixture, terms: LoanTerms, config: Partial<typeof NO_FEES> = {}) {
  const platform = platformOf(f, terms);
  await f.loans.connect(platform).anchorLoan(terms);
  await f.splitter.connect(platform).openFunding(terms, { borrowerPayout: f.owner.address, ...NO_FEES, ...config });
  await f.splitter.connect(f.lender).fund(terms, terms.principal);
}

/** Takes an Active loan through Late to Defaulted, by its servicer. */
async function defaultLoan(f: Fixture, terms: LoanTerms, servicer = platformOf(f, terms)) {
  await time.increase(terms.period + terms.gracePeriod + 1);
  await f.loans.connect(servicer).markLate(terms);
  await time.increase(terms.defaultThreshold);
  await f.loans.connect(servicer).markDefaulted(terms);
}

describe("Member integrity: attacks on the issue-10 rules", function () {
  describe("succession", function () {
    it("a successor appointed while a platform was suspended cannot take loans the platform originates after its reinstatement", async function () {
      // Rule: a loan's servicer is its platform, or a successor governance hands it to; a member acts only on its own
      // business. Governance's appointment was about the failing platform's book at the time, not its future business.
      const f = await loadFixture(attackFixture);
      await f.alliance.suspendMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.alliance.reinstateMember(f.platformA);

      const fresh = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(fresh);
      // Platform B, a competitor, takes the reinstated platform's brand-new loan (and with it its platform fees).
      await expect(f.succession.connect(f.platformB).takeOverLoans([fresh])).to.be.revert(ethers);
      expect(await f.loans.servicerOf(fresh)).to.equal(f.platformA.address);
    });

    it("anyone cannot undo governance's portfolio transfer by re-applying the platform's standing successor", async function () {
      // Rule: the servicer is whoever governance hands the loan to. Governance moved loan X to platform C on purpose;
      // the public takeOverLoans must not move it back to the platform-wide successor B.
      const f = await loadFixture(attackFixture);
      const [platformC] = (await ethers.getSigners()).slice(12, 13);
      await f.alliance.admitMember(platformC, 1, id("platform C licence"));
      const x = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(x);
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.succession.transferServicing([x], platformC);

      await expect(f.succession.connect(f.platformB).takeOverLoans([x])).to.be.revert(ethers);
      expect(await f.loans.servicerOf(x)).to.equal(platformC.address);
    });

    it("takeOverLoans does not hand a loan to a successor that was expelled since its appointment", async function () {
      // Rule: expelled means gone. A successor expelled after its appointment must not receive (and earn the fees of)
      // more of the failed platform's loans.
      const f = await loadFixture(attackFixture);
      const x = await termsFor(f.platformA);
      await anchorAndFund(f, x, { platformFeeBps: 100 });
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.alliance.expelMember(f.platformB);

      await expect(f.succession.connect(f.outsider).takeOverLoans([x])).to.be.revert(ethers);
      expect(await f.loans.servicerOf(x)).to.not.equal(f.platformB.address);
    });
  });

  describe("a platform and its own loan", function () {
    it("a platform cannot hold a share of its own loan by buying one from a lender", async function () {
      // Rule: a platform can't fund its own loan (it could pay itself the reserve's compensation). fund() checks it;
      // transferShare() does not. Platform B vouches for platform A as a lender, which the registry allows.
      const f = await loadFixture(attackFixture);
      const loan = await termsFor(f.platformA, { principal: 10_000n * UNIT });
      await anchorAndFund(f, loan);
      await f.alliance.connect(f.platformB).allowLender(f.platformA, (await time.latest()) + 365 * DAY);

      await expect(
        f.splitter.connect(f.lender).transferShare(loanIdOf(loan), f.platformA, loan.principal),
      ).to.be.revert(ethers);
      expect((await f.splitter.positionOf(loanIdOf(loan), f.platformA)).shares).to.equal(0n);
    });

    it("a successor cannot hold a share of a loan it services by buying one from a lender", async function () {
      const f = await loadFixture(attackFixture);
      const loan = await termsFor(f.platformA, { principal: 10_000n * UNIT });
      await anchorAndFund(f, loan);
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.succession.takeOverLoans([loan]);
      const [platformC] = (await ethers.getSigners()).slice(12, 13);
      await f.alliance.admitMember(platformC, 1, id("platform C licence"));
      await f.alliance.connect(platformC).allowLender(f.platformB, (await time.latest()) + 365 * DAY);

      await expect(
        f.splitter.connect(f.lender).transferShare(loanIdOf(loan), f.platformB, loan.principal),
      ).to.be.revert(ethers);
      expect((await f.splitter.positionOf(loanIdOf(loan), f.platformB)).shares).to.equal(0n);
    });

    it("a successor is not disbursed the principal of a loan it took over as the payout", async function () {
      // Rule: a platform can't be its loan's payout. openFunding checks the servicer of the moment only; once the
      // payout's platform becomes the servicer, the lenders' money is disbursed to the loan's own servicer.
      const f = await loadFixture(attackFixture);
      const loan = await termsFor(f.platformA, { principal: 10_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(loan);
      await f.splitter.connect(f.platformA).openFunding(loan, { borrowerPayout: f.platformB.address, ...NO_FEES });
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.succession.takeOverLoans([loan]);

      await expect(f.splitter.connect(f.lender).fund(loan, loan.principal)).to.be.revert(ethers);
    });
  });

  describe("a borrower and its own loan", function () {
    it("the borrower's payout account cannot fund the loan and collect the reserve's compensation on its default", async function () {
      // Rules: money is conserved and nobody receives more than the rules grant; a platform can't fund its own loan or
      // be its payout, and the same circle through the borrower's side is open. The borrower's payout account is an
      // allowlisted lender: it funds its own loan (the principal comes straight back to it), never repays, and once the
      // loan defaults the alliance's risk reserve compensates it, as "lender", for a loss it never had.
      const f = await loadFixture(attackFixture);
      await f.token.mint(f.platformA, 20_000n * UNIT);
      await f.token.connect(f.platformA).approve(f.reserve, MaxUint256);
      await f.reserve.connect(f.platformA).deposit(20_000n * UNIT);

      const loan = await termsFor(f.platformA, { principal: 10_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(loan);
      await f.splitter.connect(f.platformA).openFunding(loan, { borrowerPayout: f.lender2.address, ...NO_FEES });
      await expect(f.splitter.connect(f.lender2).fund(loan, loan.principal))
        .to.be.revertedWithCustomError(f.splitter, "RepaymentSplitterOwnLoan")
        .withArgs(loanIdOf(loan), f.lender2.address);
    });
  });

  describe("collateral disposal across the loss waterfall", function () {
    it("a co-lien whose loan was made whole takes nothing from a sale and does not block it (owner gets the surplus)", async function () {
      // Rules: every lien can end (a seized asset can be disposed of); proceeds follow loss: none beyond what a loan
      // still owes, the owner gets the rest. LossWaterfall.recoverable() answers "unlimited" for a Recovered loan, so
      // the disposal allocates the Recovered loan its full secured amount and then reverts in LossWaterfall.recover().
      const f = await loadFixture(attackFixture);
      const loanA = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      const loanC = await termsFor(f.platformB, { principal: 20_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(loanA);
      await f.loans.connect(f.platformB).anchorLoan(loanC);
      await pledge(f, loanA, 40_000n * UNIT, 1);
      await pledge(f, loanC, 20_000n * UNIT, 2);
      for (const terms of [loanA, loanC]) {
        const platform = platformOf(f, terms);
        await f.splitter.connect(platform).openFunding(terms, { borrowerPayout: f.owner.address, ...NO_FEES });
        await f.splitter.connect(f.lender).fund(terms, terms.principal);
      }
      await time.increase(loanA.period + loanA.gracePeriod + 1);
      for (const terms of [loanA, loanC]) await f.loans.connect(platformOf(f, terms)).markLate(terms);
      await time.increase(loanA.defaultThreshold);
      for (const terms of [loanA, loanC]) await f.loans.connect(platformOf(f, terms)).markDefaulted(terms);

      await f.collateral.connect(f.platformA).seize(f.car, loanA);
      // Loan C is made whole some other way (a guarantor, another asset's sale): it is Recovered.
      const lossC = await f.waterfall.recoverable(loanIdOf(loanC));
      await f.token.mint(f.outsider, lossC);
      await f.token.connect(f.outsider).approve(f.waterfall, lossC);
      await f.waterfall.connect(f.outsider).recover(loanC, lossC);
      expect((await f.loans.loanState(loanIdOf(loanC))).status).to.equal(BigInt(LoanStatus.Recovered));

      const proceeds = 65_000n * UNIT;
      await f.token.mint(f.platformA, proceeds);
      await f.token.connect(f.platformA).approve(f.collateral, MaxUint256);
      const ownerBefore = await f.token.balanceOf(f.owner);
      await proposeSale(f.collateral, f.platformA, f.car, loanA, proceeds, { custodian: f.custodian });
      await f.collateral.connect(f.platformA).dispose(f.car, [loanA, loanC]);
      expect((await f.token.balanceOf(f.owner)) - ownerBefore).to.equal(25_000n * UNIT);
    });
  });

  describe("nobody can hide a loss from the collateral", function () {
    it("a silent servicer cannot let a defaulted loan's collateral go back to the owner unenforced", async function () {
      // Rule: nobody can stop a default from reaching the loss waterfall and the collateral. Only the loan's servicer
      // may seize, while anyone may default, settle and write the loan off after the public delay, and anyone may then
      // release a written-off loan's lien. A platform that stays silent (colluding with the owner, or just failing
      // without being expelled) hands the car back free; the lenders bear the whole loss.
      const f = await loadFixture(attackFixture);
      const loan = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(loan);
      await pledge(f, loan, 40_000n * UNIT, 1);
      await f.splitter.connect(f.platformA).openFunding(loan, { borrowerPayout: f.owner.address, ...NO_FEES });
      await f.splitter.connect(f.lender).fund(loan, loan.principal);
      const delay = Number((await f.loans.alliancePolicy()).publicDefaultDelay);

      await time.increase(loan.period + loan.defaultThreshold + delay + 1);
      await f.loans.connect(f.lender).markDefaulted(loan);
      await time.increase(delay);
      await f.waterfall.connect(f.lender).settle(loan);
      await f.waterfall.connect(f.owner).writeOff(loan);
      await time.increase(delay);

      await expect(f.collateral.connect(f.owner).release(f.car, loanIdOf(loan))).to.be.revert(ethers);
      expect((await f.collateral.assetOf(f.car)).lienCount).to.equal(1n);
    });
  });

  describe("liens and ranks", function () {
    it("a competitor and the owner cannot add an equal-rank lien that dilutes an existing first lien", async function () {
      // Rule: ranks cannot be diluted without the ranked lienholders' consent. Platform A holds a first lien of
      // 40 000; the owner and platform B try to add another first lien of 40 000 (it fits the 80 000 appraisal). A
      // sale of 40 000 would then pay loan A only 20 000.
      const f = await loadFixture(attackFixture);
      const loanA = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      const loanB = await termsFor(f.platformB, { principal: 50_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(loanA);
      await f.loans.connect(f.platformB).anchorLoan(loanB);
      await pledge(f, loanA, 40_000n * UNIT, 1);

      await expect(pledge(f, loanB, 40_000n * UNIT, 1))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryRankTaken")
        .withArgs(f.car, 1, 1);
    });

    it("a competitor and the owner cannot put a lien ahead of an existing junior lien", async function () {
      // Same rule, for a rank jump: A's second lien would be pushed behind B's new first lien without A's consent.
      const f = await loadFixture(attackFixture);
      const loanA = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      const loanB = await termsFor(f.platformB, { principal: 50_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(loanA);
      await f.loans.connect(f.platformB).anchorLoan(loanB);
      await pledge(f, loanA, 40_000n * UNIT, 2);

      await expect(pledge(f, loanB, 40_000n * UNIT, 1))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryRankTaken")
        .withArgs(f.car, 1, 2);
    });

    it("an owner who is also a lender cannot secure a tiny loan of its own for more than that loan lends", async function () {
      const f = await loadFixture(attackFixture);
      const loanB = await termsFor(f.platformB, { principal: 1_000n * UNIT });
      await f.loans.connect(f.platformB).anchorLoan(loanB);
      await expect(pledge(f, loanB, 40_000n * UNIT, 1))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistrySecuredAbovePrincipal")
        .withArgs(f.car, 40_000n * UNIT, 1_000n * UNIT);
    });
  });

  describe("fees buy something", function () {
    it("an insurer whose policy it released collects no further premium", async function () {
      // Rule: a premium accrues only while cover exists. The insurer writes a short policy, releases it once its term
      // ends (its capital unlocked), and the splitter keeps paying it the premium on every repayment.
      const f = await loadFixture(attackFixture);
      const loan = await insuredLoan(f, 10_000n * UNIT);
      await f.insurance.connect(f.insurer).writePolicy(loan, 10_000, (await time.latest()) + 20 * DAY);
      await f.splitter.connect(f.lender).fund(loan, loan.principal);

      await time.increase(25 * DAY);
      await f.insurance.connect(f.outsider).releasePolicy(loan);
      await f.insurance.connect(f.insurer).withdrawCapital(10_000n * UNIT, f.insurer);

      const [, total] = await f.splitter.amountDue(loan);
      await f.token.mint(f.owner, total);
      await f.token.connect(f.owner).approve(f.splitter, total);
      const before = await f.splitter.feesOwed(f.insurer);
      await f.splitter.connect(f.owner).repayLoan(loan, total, ZeroHash);
      expect(await f.splitter.feesOwed(f.insurer)).to.equal(before);
      expect((await f.splitter.bookOf(loanIdOf(loan))).coverEnd).to.equal(0n);
    });

    it("an insurer named on a loan that never wrote a policy collects no premium", async function () {
      const f = await loadFixture(attackFixture);
      const loan = await insuredLoan(f, 0n);
      await f.splitter.connect(f.lender).fund(loan, loan.principal);
      await time.increase(20 * DAY);

      const [, total] = await f.splitter.amountDue(loan);
      await f.token.mint(f.owner, total);
      await f.token.connect(f.owner).approve(f.splitter, total);
      await f.splitter.connect(f.owner).repayLoan(loan, total, ZeroHash);
      expect((await f.insurance.policyOf(loanIdOf(loan))).status).to.equal(0n);
      expect(await f.splitter.feesOwed(f.insurer)).to.equal(0n);
    });
  });

  describe("an insurer wants its capital back", function () {
    it("an insurer cannot walk away from a loan that was already defaultable within its policy's term", async function () {
      // Rule: nobody can stop a default from reaching the insurance claim. Cover is judged by when someone declared the
      // default (statusSince), and a policy past its term may be released while the loan is not yet Defaulted. The loan
      // misses its first installment and could be declared in default on day 120 of a 130-day policy; the platform
      // waits (it is entitled to until the public delay) and the insurer releases its cover on day 131 and withdraws
      // its capital. The lenders' claim is gone (and it would be even without the release: the default was declared
      // after the term ends, so payClaim pays nothing).
      const f = await loadFixture(attackFixture);
      const loan = await insuredLoan(f, 10_000n * UNIT);
      await f.splitter.connect(f.lender).fund(loan, loan.principal);
      const activatedAt = Number((await f.loans.loanState(loanIdOf(loan))).activatedAt);
      const termEnd = activatedAt + 130 * DAY;
      await f.insurance.connect(f.insurer).writePolicy(loan, 10_000, termEnd);
      // Defaultable from day 30 + 90 = 120, inside the term.
      expect(activatedAt + loan.period + loan.defaultThreshold).to.be.below(termEnd);

      await time.increaseTo(termEnd + 1);
      // The insurer's move; whether or not it is allowed, the lenders' cover must survive it.
      await f.insurance
        .connect(f.insurer)
        .releasePolicy(loan)
        .then(
          () => undefined,
          () => undefined,
        );
      const delay = Number((await f.loans.alliancePolicy()).publicDefaultDelay);
      await time.increaseTo(activatedAt + loan.period + loan.defaultThreshold + delay + 1);
      await f.loans.connect(f.platformA).markDefaulted(loan);
      await f.waterfall.connect(f.platformA).settle(loan);
      expect((await f.insurance.policyOf(loanIdOf(loan))).claimPaid).to.be.above(0n);
    });
  });

  describe("the splitter's view of a closed loss", function () {
    it("a Recovered loan's book closes: every lender settles and the rounding remainder goes to a named party", async function () {
      // Rule: money is conserved, every token a suite contract holds is owed to a named party. The registry closes the
      // loss (Recovered) through the splitter's closeLoss, but the splitter's own book stays Funded: its positions
      // never close and the rounding remainder of the recovery stays in the splitter, owed to nobody.
      const f = await loadFixture(attackFixture);
      const loan = await termsFor(f.platformA, { principal: 3n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(loan);
      await f.splitter.connect(f.platformA).openFunding(loan, { borrowerPayout: f.owner.address, ...NO_FEES });
      await f.splitter.connect(f.lender).fund(loan, 1n);
      await f.splitter.connect(f.lender2).fund(loan, loan.principal - 1n);
      await defaultLoan(f, loan);
      const loss = await f.waterfall.recoverable(loanIdOf(loan));
      await f.token.mint(f.outsider, loss);
      await f.token.connect(f.outsider).approve(f.waterfall, loss);
      await f.waterfall.connect(f.outsider).recover(loan, loss);
      expect((await f.loans.loanState(loanIdOf(loan))).status).to.equal(BigInt(LoanStatus.Recovered));
      await f.splitter.payout(loanIdOf(loan), [f.lender.address, f.lender2.address]);

      const book = await f.splitter.bookOf(loanIdOf(loan));
      expect([book.openPositions, book.lendersIn - book.lendersPaid]).to.deep.equal([0n, 0n]);
    });
  });

  describe("history is complete", function () {
    it("a recovery paid into a defaulted loan before settlement is a fact in the loan's history", async function () {
      // Rule: every movement of money is a fact in the loan's history. LossWaterfall.recover() records a fact only
      // after settlement; a payment before it reaches the lenders and leaves the history head untouched.
      const f = await loadFixture(attackFixture);
      const loan = await termsFor(f.platformA, { principal: 10_000n * UNIT });
      await anchorAndFund(f, loan);
      await defaultLoan(f, loan);
      const head = await f.loans.historyHead(loanIdOf(loan));
      const amount = 1_000n * UNIT;
      await f.token.mint(f.outsider, amount);
      await f.token.connect(f.outsider).approve(f.waterfall, amount);
      await f.waterfall.connect(f.outsider).recover(loan, amount);
      expect(await f.loans.historyHead(loanIdOf(loan))).to.not.equal(head);
    });
  });
});
