import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, Signature, ZeroAddress, ZeroHash } from "ethers";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import {
  AppointmentStatus,
  AssetClass,
  assetKey,
  CollateralClient,
  CreditEvent,
  loanIdOf,
  LoanRegistryClient,
  LoanStatus,
  noKeyFigures,
  LienStatus,
  type LoanTerms,
} from "../../src/client/index.js";
import { LoanConsentModule__factory, LoanSuccessionModule__factory } from "../../typechain-types/index.js";
import { Indexer, indexSourcesAt, SqliteStore } from "../../src/indexer/index.js";
import { ALLIANCE_KEY, DAY, ethers, loadFixture, pinNextBlock, proposeSale, termsFor, time } from "../fixtures.js";
import { anchorAndFund, defaultLoan, membersFixture, NO_FEES, pledge, UNIT, type MembersFixture } from "./helpers.js";

/**
 * The outside review of the newest mechanisms (succession, sales, seasoning, premiums, consent): each rule tried as the
 * member who gains by breaking it. Every test asserts the safe outcome, so each one failed for as long as its attack
 * worked.
 */

/** The reserve's policy as it is, with the seasoning asked of a loan before it is compensated set anew. */
async function withSeasoning(f: MembersFixture, minLoanAge: number, minInstallmentsPaid: number) {
  const { coverageBps, capPerLoan, quotaMultipleBps } = await f.reserve.policy();
  await f.reserve.setPolicy({ coverageBps, capPerLoan, quotaMultipleBps, minLoanAge, minInstallmentsPaid });
}

/** Pays the next installment of `terms` as `amountDue` quotes it, from the owner (the borrower here). */
async function payNext(f: MembersFixture, terms: LoanTerms) {
  const [, total] = await f.splitter.amountDue(terms);
  return f.splitter.connect(f.owner).repayLoan(terms, total, ZeroHash);
}

describe("The newest mechanisms hold against members (issue 20)", function () {
  describe("rule 1: a successor appointment covers the book at the time, not the future", function () {
    it("lapses with the platform's reinstatement: no loan passes, old or anchored since, even once it fails again", async function () {
      const f = await loadFixture(membersFixture);
      const old = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(old);
      await f.alliance.suspendMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.alliance.reinstateMember(f.platformA);
      const fresh = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(fresh);
      // Suspended again, for any reason: the competitor named the first time takes nothing, fees included.
      await f.alliance.suspendMember(f.platformA);
      for (const terms of [old, fresh]) {
        await expect(f.succession.connect(f.platformB).takeOverLoans([terms]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNoSuccessor")
          .withArgs(loanIdOf(terms), f.platformA.address);
        expect(await f.loans.servicerOf(terms)).to.equal(f.platformA.address);
      }
      expect(await f.succession.successorOf(f.platformA)).to.equal(ZeroAddress);
      const [appointment, status] = await f.succession.appointmentOf(f.platformA);
      expect(status).to.equal(BigInt(AppointmentStatus.Lapsed));
      expect(appointment.successor).to.equal(f.platformB.address);
      // Governance decides anew, for the book as it stands now.
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.succession.connect(f.outsider).takeOverLoans([old, fresh]);
      expect(await f.loans.servicerOf(fresh)).to.equal(f.platformB.address);
    });

    it("can be withdrawn by governance, and by governance only", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(loan);
      await f.alliance.suspendMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      for (const caller of [f.platformA, f.platformB, f.auditor, f.outsider]) {
        await expect(f.succession.connect(caller).withdrawSuccessor(f.platformA))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotGovernance")
          .withArgs(caller.address);
      }
      await expect(f.succession.withdrawSuccessor(f.platformA))
        .to.emit(f.loans, "SuccessorWithdrawn")
        .withArgs(f.platformA.address, f.platformB.address);
      await expect(f.succession.connect(f.outsider).takeOverLoans([loan])).to.be.revertedWithCustomError(
        f.loans,
        "LoanRegistryNoSuccessor",
      );
      expect((await f.succession.appointmentOf(f.platformA))[1]).to.equal(BigInt(AppointmentStatus.None));
      await expect(f.succession.withdrawSuccessor(f.platformA))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNoAppointment")
        .withArgs(f.platformA.address);
    });

    it("keeps standing when a suspended platform is expelled: its book still passes", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(loan);
      await f.alliance.suspendMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.alliance.expelMember(f.platformA);
      await f.succession.connect(f.outsider).takeOverLoans([loan]);
      expect(await f.loans.servicerOf(loan)).to.equal(f.platformB.address);
    });
  });

  describe("rule 2: a loan in funding is alive, and no sale wipes its lien", function () {
    /**
     * The car: platform A's loan still raising its funds holds the first lien (40 000); platform B's short loan, second,
     * defaults within that funding window and B seizes the car.
     */
    async function juniorSeizure(f: MembersFixture, seniorPrincipal = 40_000n * UNIT) {
      const senior = await termsFor(f.platformA, {
        principal: seniorPrincipal,
        fundingDeadline: (await time.latest()) + 60 * DAY,
      });
      const junior = await termsFor(f.platformB, {
        principal: 20_000n * UNIT,
        period: DAY,
        gracePeriod: 0,
        defaultThreshold: DAY,
      });
      await f.loans.connect(f.platformA).anchorLoan(senior);
      await pledge(f, senior, seniorPrincipal, 1);
      await f.loans.connect(f.platformB).anchorLoan(junior);
      await pledge(f, junior, 20_000n * UNIT, 2);
      await f.loans.connect(f.platformB).activateLoan(junior);
      await time.increase(2 * DAY + 1);
      await f.loans.connect(f.platformB).markDefaulted(junior);
      await f.collateral.connect(f.platformB).seize(f.car, junior);
      return { senior, junior };
    }

    it("refuses a junior lienholder's sale while the first lien's loan raises its funds; once funded, its lien survives", async function () {
      const f = await loadFixture(membersFixture);
      const { senior, junior } = await juniorSeizure(f);
      const price = 60_000n * UNIT;
      await proposeSale(f.collateral, f.platformB, f.car, junior, price, {
        custodian: f.custodian,
        buyer: f.buyer.address,
      });
      await expect(f.collateral.connect(f.platformB).dispose(f.car, [senior, junior]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLoanInFunding")
        .withArgs(f.car, loanIdOf(senior), senior.fundingDeadline);
      // The senior loan completes its funding: its lenders' money goes out against a lien that still stands.
      await f.splitter.connect(f.platformA).openFunding(senior, { borrowerPayout: f.owner.address, ...NO_FEES });
      await f.splitter.connect(f.lender).fund(senior, senior.principal);
      await expect(f.collateral.connect(f.platformB).dispose(f.car, [senior, junior]))
        .to.emit(f.collateral, "DisposalAllocated")
        .withArgs(f.car, loanIdOf(junior), f.platformB.address, anyValue);
      expect((await f.collateral.lienOf(f.car, loanIdOf(senior))).status).to.equal(BigInt(LienStatus.Active));
      expect(await f.collateral.ownerOf(f.car)).to.equal(f.buyer.address);
      expect((await f.collateral.assetOf(f.car)).firstPrioritySecured).to.equal(40_000n * UNIT);
    });

    it("a seller cannot zero its sale's floor with the lien of a loan that never funds", async function () {
      // The owner signs a lien for a sham loan of the whole appraisal; counted against the floor it would let the
      // seller sell the car for a token. The sale waits instead, and the sham, unfunded at its deadline, is cancelled
      // by anyone: its lien takes nothing and counts for nothing, and the floor is the full equity again.
      const f = await loadFixture(membersFixture);
      const { senior: sham, junior } = await juniorSeizure(f, 80_000n * UNIT);
      await proposeSale(f.collateral, f.platformB, f.car, junior, UNIT, { buyer: f.owner.address });
      await expect(f.collateral.connect(f.platformB).dispose(f.car, [sham, junior])).to.be.revertedWithCustomError(
        f.collateral,
        "CollateralRegistryLoanInFunding",
      );
      await time.increaseTo(sham.fundingDeadline + 1);
      await f.loans.connect(f.outsider).cancelLoan(sham);
      // The floor: 80 000 × (1 − 20% haircut) = 64 000.
      await expect(f.collateral.connect(f.platformB).dispose(f.car, [sham, junior]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistrySaleNeedsConfirmation")
        .withArgs(f.car, UNIT, 64_000n * UNIT);
    });
  });

  describe("rule 3: a written-off loan made whole becomes Recovered", function () {
    it("takes a written-off loan whose loss is then paid in full to Recovered, and gives its seized asset back", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      const loanId = loanIdOf(loan);
      await anchorAndFund(f, loan, {}, { amount: 40_000n * UNIT, priority: 1 });
      await defaultLoan(f, loan);
      await f.collateral.connect(f.platformA).seize(f.car, loan);
      await f.waterfall.connect(f.platformA).settle(loan);
      await f.waterfall.connect(f.platformA).writeOff(loan);
      expect((await f.loans.loanState(loanId)).status).to.equal(BigInt(LoanStatus.WrittenOff));
      const exposure = await f.loans.exposureOf(loan.borrowerRef);

      // The owner pays the whole loss to get the car back.
      const left = await f.waterfall.recoverable(loanId);
      await expect(f.waterfall.connect(f.owner).recover(loan, left))
        .to.emit(f.loans, "LoanStatusChanged")
        .withArgs(loanId, LoanStatus.WrittenOff, LoanStatus.Recovered, anyValue, anyValue)
        .and.to.emit(f.loans, "CreditEventRecorded")
        .withArgs(loan.borrowerRef, loanId, f.platformA.address, CreditEvent.Recovered, anyValue);
      expect((await f.loans.loanState(loanId)).status).to.equal(BigInt(LoanStatus.Recovered));
      // The written-off loan left the borrower's exposure once; made whole, it does not leave it twice.
      const after = await f.loans.exposureOf(loan.borrowerRef);
      expect(after.openLoans).to.equal(exposure.openLoans);
      expect(after.outstandingPrincipal).to.equal(exposure.outstandingPrincipal);
      await f.collateral.connect(f.outsider).returnSeized(f.car);
      expect(await f.collateral.ownerOf(f.car)).to.equal(f.owner.address);
      expect((await f.collateral.lienOf(f.car, loanId)).status).to.equal(BigInt(LienStatus.Released));
    });

    it("lets the servicer of a loan financed off the ledger mark a written-off loss recovered", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(loan);
      await f.loans.connect(f.platformA).activateLoan(loan);
      await defaultLoan(f, loan);
      await f.loans.connect(f.platformA).writeOff(loan);
      await expect(f.loans.connect(f.platformB).markRecovered(loan))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
        .withArgs(loanIdOf(loan), f.platformB.address);
      await f.loans.connect(f.platformA).markRecovered(loan);
      expect((await f.loans.loanState(loanIdOf(loan))).status).to.equal(BigInt(LoanStatus.Recovered));
      expect((await f.loans.exposureOf(loan.borrowerRef)).openLoans).to.equal(0n);
    });
  });

  describe("rule 3, by its class: a loss paid in full frees its collateral whatever state the loan reached", function () {
    it("leaves the owner's other collateral alone once one sale paid a loan serviced off the ledger in full", async function () {
      const f = await loadFixture(membersFixture);
      const truck = assetKey(AssetClass.Vehicle, "LFV2A21K0N4123456", ALLIANCE_KEY);
      await f.collateral
        .connect(f.platformA)
        .registerCollateral(truck, f.owner, AssetClass.Vehicle, 80_000n * UNIT, id("truck appraisal"));
      // Interest-free and no late fee: the recorded loss is exactly the 40 000 principal.
      const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT, annualRateBps: 0, lateFeeBps: 0 });
      await f.loans.connect(f.platformA).anchorLoan(loan);
      await pledge(f, loan, 40_000n * UNIT, 1);
      await pledge({ ...f, car: truck }, loan, 40_000n * UNIT, 1);
      await f.loans.connect(f.platformA).activateLoan(loan);
      await defaultLoan(f, loan);
      await f.collateral.connect(f.platformA).seize(f.car, loan);
      await proposeSale(f.collateral, f.platformA, f.car, loan, 40_000n * UNIT, { custodian: f.custodian });
      await f.collateral.connect(f.platformA).dispose(f.car, [loan]);
      // The platform was paid the whole loss: the truck is not taken, and anyone frees it.
      await expect(f.collateral.connect(f.platformA).seize(truck, loan))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLossPaid")
        .withArgs(loanIdOf(loan));
      await f.collateral.connect(f.outsider).release(truck, loanIdOf(loan));
      expect((await f.collateral.assetOf(truck)).lienCount).to.equal(0n);
    });
  });

  describe("rule 4: reserve seasoning counts the time a loan performed, and contributions actually paid", function () {
    /** Platform A's 30-day-period loan, funded through the splitter with `reserveBps`; the fund holds A's deposit. */
    async function reserveLoan(f: MembersFixture, reserveBps: number) {
      await f.token.connect(f.platformA).approve(f.reserve, 50_000n * UNIT);
      await f.reserve.connect(f.platformA).deposit(50_000n * UNIT);
      const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      await anchorAndFund(f, loan, { reserveBps });
      return loan;
    }

    it("measures a loan's age to its first missed due date, which its platform cannot move by declaring late", async function () {
      const f = await loadFixture(membersFixture);
      await withSeasoning(f, 90 * DAY, 1);
      const loan = await reserveLoan(f, 50);
      await time.increase(loan.period);
      await payNext(f, loan);
      // One installment paid, then nothing: the platform waits out the default threshold before declaring.
      await defaultLoan(f, loan);
      await expect(f.waterfall.connect(f.platformA).settle(loan))
        .to.emit(f.reserve, "CompensationDeclined")
        .withArgs(loanIdOf(loan), f.platformA.address, 2 * loan.period, 1);
      expect((await f.waterfall.caseOf(loanIdOf(loan))).reserveBore).to.equal(0n);
    });

    it("counts only installments that paid their reserve contribution", async function () {
      const f = await loadFixture(membersFixture);
      await withSeasoning(f, 0, 1);
      const loan = await reserveLoan(f, 0);
      for (let i = 0; i < 2; i++) {
        await time.increase(loan.period);
        await payNext(f, loan);
      }
      await defaultLoan(f, loan);
      await expect(f.waterfall.connect(f.platformA).settle(loan))
        .to.emit(f.reserve, "CompensationDeclined")
        .withArgs(loanIdOf(loan), f.platformA.address, 3 * loan.period, 0);
    });

    it("compensates a loan that performed long enough and paid into the fund", async function () {
      const f = await loadFixture(membersFixture);
      await withSeasoning(f, 60 * DAY, 1);
      const loan = await reserveLoan(f, 50);
      await time.increase(loan.period);
      await payNext(f, loan);
      await defaultLoan(f, loan);
      await f.reserve.collect([f.platformA]);
      await expect(f.waterfall.connect(f.platformA).settle(loan)).to.emit(f.reserve, "Compensated");
      expect((await f.waterfall.caseOf(loanIdOf(loan))).reserveBore).to.be.greaterThan(0n);
    });
  });

  describe("rule 5: a premium follows its cover", function () {
    /** Platform A's loan of 100 000 with the insurer named at a 2% premium, funded; the insurer holds capital. */
    async function insuredLoan(f: MembersFixture) {
      const loan = await termsFor(f.platformA, { principal: 100_000n * UNIT });
      await anchorAndFund(f, loan, { insurer: f.insurer.address, premiumBps: 200 });
      await f.token.mint(f.insurer, 200_000n * UNIT);
      await f.token.connect(f.insurer).approve(f.insurance, 200_000n * UNIT);
      await f.insurance.connect(f.insurer).depositCapital(200_000n * UNIT);
      return loan;
    }

    it("pays an insurer that wrote a 1 bps policy after the lenders committed 1 bps of the premium, and the lenders the rest", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await insuredLoan(f);
      await f.insurance.connect(f.insurer).writePolicy(loan, 1, (await time.latest()) + 365 * DAY);
      await time.increase(loan.period);
      const [due] = await f.splitter.amountDue(loan);
      const toInsurer = (due.premium * 1n) / 10_000n;
      await expect(payNext(f, loan))
        .to.emit(f.splitter, "PremiumToLenders")
        .withArgs(loanIdOf(loan), due.premium - toInsurer);
      expect(await f.splitter.feesOwed(f.insurer)).to.equal(toInsurer);
    });

    it("routes a premium by its installment's due date, not by when the payment arrives", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await insuredLoan(f);
      const activatedAt = Number((await f.loans.loanState(loanIdOf(loan))).activatedAt);
      // Full cover for the first installment's due date (day 30), not the second's (day 60).
      await f.insurance.connect(f.insurer).writePolicy(loan, 10_000, activatedAt + 45 * DAY);
      // The second installment paid early, before the cover ends: its premium is the lenders'.
      await time.increaseTo(activatedAt + 30 * DAY);
      const [first] = await f.splitter.amountDue(loan);
      await payNext(f, loan);
      expect(await f.splitter.feesOwed(f.insurer)).to.equal(first.premium);
      const [second] = await f.splitter.amountDue(loan);
      await expect(payNext(f, loan)).to.emit(f.splitter, "PremiumToLenders").withArgs(loanIdOf(loan), second.premium);
      expect(await f.splitter.feesOwed(f.insurer)).to.equal(first.premium);
    });

    it("pays the insurer the premium of a covered installment paid late, after the cover ended", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await insuredLoan(f);
      const activatedAt = Number((await f.loans.loanState(loanIdOf(loan))).activatedAt);
      await f.insurance.connect(f.insurer).writePolicy(loan, 10_000, activatedAt + 45 * DAY);
      // An hour into a day, so that the quote and the payment a second later count the same days overdue.
      await time.increaseTo(activatedAt + 50 * DAY + 3600);
      const [due] = await f.splitter.amountDue(loan);
      await expect(payNext(f, loan)).not.to.emit(f.splitter, "PremiumToLenders");
      expect(await f.splitter.feesOwed(f.insurer)).to.equal(due.premium);
    });
  });

  describe("rule 5, as the index shows it", function () {
    let dir: string;
    let store: SqliteStore | undefined;
    beforeEach(async function () {
      dir = await mkdtemp(join(tmpdir(), "loanledger-premium-"));
    });
    afterEach(async function () {
      store?.close();
      store = undefined;
      await rm(dir, { recursive: true, force: true });
    });

    it("credits an insurer in the index with the premium it earned, not the whole premium of a partly covered installment", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA, { principal: 100_000n * UNIT });
      await anchorAndFund(f, loan, { insurer: f.insurer.address, premiumBps: 200 });
      await f.token.mint(f.insurer, 200_000n * UNIT);
      await f.token.connect(f.insurer).approve(f.insurance, 200_000n * UNIT);
      await f.insurance.connect(f.insurer).depositCapital(200_000n * UNIT);
      // A quarter of the loss covered: the insurer earns a quarter of each covered premium, the lenders the rest.
      await f.insurance.connect(f.insurer).writePolicy(loan, 2_500, (await time.latest()) + 365 * DAY);
      await time.increase(loan.period);
      await payNext(f, loan);
      const earned = await f.splitter.feesOwed(f.insurer);
      expect(earned).to.be.greaterThan(0n);
      store = new SqliteStore(join(dir, "index.db"));
      await new Indexer(store, ethers.provider, indexSourcesAt(f.suite.addresses, f.auditor)).sync();
      const row = store.insurers().find((r) => r.insurer === f.insurer.address.toLowerCase());
      expect(row?.premiums).to.equal(earned.toString());
    });
  });

  describe("rule 6: the consent policy has no side door", function () {
    it("refuses brand-new unsigned loans passed off as a legacy book, and a legacy loan's funding on the ledger", async function () {
      const f = await loadFixture(membersFixture);
      await f.loans.setConsentRequired(true);
      const consent = (signer: typeof f.platformA) => new LoanRegistryClient(String(f.loans.target), signer).consent;
      const fresh = await termsFor(f.platformA);
      await expect(consent(f.platformA).anchorLegacyLoans([fresh])).to.be.revertedWithCustomError(
        f.loans,
        "LoanRegistryLegacyImportClosed",
      );
      // Allowed to import its paper book, the platform still cannot raise money on the ledger with it.
      await consent(f.governance).allowLegacyImport(f.platformA, (await time.latest()) + DAY);
      await consent(f.platformA).anchorLegacyLoans([fresh]);
      await expect(f.splitter.connect(f.platformA).openFunding(fresh, { borrowerPayout: f.owner.address, ...NO_FEES }))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryLegacyLoanFunding")
        .withArgs(loanIdOf(fresh));
    });
  });

  describe("rule 7: the smaller rules", function () {
    it("lets only governance agree that a new lien ranks with or ahead of a loan in default", async function () {
      const f = await loadFixture(membersFixture);
      const defaulted = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      await anchorAndFund(f, defaulted, {}, { amount: 40_000n * UNIT, priority: 1 });
      await defaultLoan(f, defaulted);
      const newcomer = await termsFor(f.platformA, { principal: 30_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(newcomer);
      // Its own servicer would give the defaulted loan's lenders' rank away to its new loan.
      await expect(f.collateral.connect(f.platformA).consentToRank(f.car, defaulted, loanIdOf(newcomer), 1))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
        .withArgs(f.platformA.address);
      await expect(f.collateral.consentToRank(f.car, defaulted, loanIdOf(newcomer), 1)).to.emit(
        f.collateral,
        "RankConsented",
      );
    });

    it("lets no servicer's rank consent outlive its loan's fall into loss, declared or not", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      await anchorAndFund(f, loan, {}, { amount: 40_000n * UNIT, priority: 1 });
      // Overdue past its default threshold: in default in all but the mark, which its servicer holds back.
      await time.increase(loan.period + loan.gracePeriod + 1);
      await f.loans.connect(f.platformA).markLate(loan);
      await time.increase(loan.defaultThreshold);
      const newcomer = await termsFor(f.platformA, {
        principal: 30_000n * UNIT,
        fundingDeadline: (await time.latest()) + 60 * DAY,
      });
      await expect(f.collateral.connect(f.platformA).consentToRank(f.car, loan, loanIdOf(newcomer), 1))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
        .withArgs(f.platformA.address);
    });

    it("drops a servicer's rank consent once its loan falls into loss before the new lien is pledged", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      await anchorAndFund(f, loan, {}, { amount: 40_000n * UNIT, priority: 1 });
      const newcomer = await termsFor(f.platformA, {
        principal: 30_000n * UNIT,
        fundingDeadline: (await time.latest()) + 60 * DAY,
      });
      await f.loans.connect(f.platformA).anchorLoan(newcomer);
      // Given while the loan performed, then the loan defaults.
      await f.collateral.connect(f.platformA).consentToRank(f.car, loan, loanIdOf(newcomer), 1);
      await defaultLoan(f, loan);
      const request = { assetId: f.car, loanId: loanIdOf(newcomer), securedAmount: 30_000n * UNIT, priority: 1 };
      const owner = new CollateralClient(
        String(f.collateral.target),
        f.owner,
        new LoanRegistryClient(String(f.loans.target), f.owner),
      );
      const deadline = (await time.latest()) + DAY;
      const sig = Signature.from((await owner.consent(request, deadline)).signature);
      const pledgeAhead = () =>
        f.collateral
          .connect(f.platformA)
          .pledgeWithRankConsent(f.car, newcomer, request.securedAmount, 1, deadline, sig.r, sig.yParityAndS, [loan]);
      await expect(pledgeAhead())
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryRankConsentMissing")
        .withArgs(f.car, loanIdOf(loan), loanIdOf(newcomer), 1);
      // Governance's consent, given for the loan in loss, counts.
      await f.collateral.consentToRank(f.car, loan, loanIdOf(newcomer), 1);
      await expect(pledgeAhead()).to.emit(f.collateral, "CollateralPledged");
    });

    it("counts no sale confirmation by the custodian that buys the asset", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      await anchorAndFund(f, loan, {}, { amount: 40_000n * UNIT, priority: 1 });
      await defaultLoan(f, loan);
      await f.collateral.connect(f.platformA).seize(f.car, loan);
      await proposeSale(f.collateral, f.platformA, f.car, loan, 1_000n * UNIT, {
        custodian: f.custodian,
        buyer: f.custodian.address,
      });
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [loan])).to.be.revertedWithCustomError(
        f.collateral,
        "CollateralRegistrySaleNeedsConfirmation",
      );
    });

    it("answers the consent and succession functions only at the registry's address, never at a module's", async function () {
      const f = await loadFixture(membersFixture);
      const consentModule = LoanConsentModule__factory.connect(await f.loans.CONSENT_MODULE(), f.outsider);
      const successionModule = LoanSuccessionModule__factory.connect(await f.loans.SUCCESSION_MODULE(), f.outsider);
      const loanId = loanIdOf(await termsFor(f.platformA));
      for (const call of [
        () => consentModule.agreementDigest(loanId, 1n),
        () => consentModule.amendmentDigest(loanId, 2, id("doc"), 1n),
        () => consentModule.legacyImportUntil(f.platformA),
        () => successionModule.successorOf(f.platformA),
        () => successionModule.appointmentOf(f.platformA),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(consentModule, "LoanRegistryModuleNotDelegated");
      }
    });

    it("lets a suspended platform keep publishing its reports, as its interface says", async function () {
      const f = await loadFixture(membersFixture);
      await f.alliance.suspendMember(f.platformA);
      const figures = noKeyFigures();
      await expect(f.disclosures.connect(f.platformA).publish(202701, 1, id("report"), figures)).to.emit(
        f.disclosures,
        "ReportPublished",
      );
      await f.alliance.expelMember(f.platformA);
      await expect(f.disclosures.connect(f.platformA).correct(202701, 1, id("report 2"), figures))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryNotPlatform")
        .withArgs(f.platformA.address);
    });

    it("counts a custodian's confirmation of a sale only while the custodian is still an active custodian", async function () {
      const f = await loadFixture(membersFixture);
      const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      await anchorAndFund(f, loan, {}, { amount: 40_000n * UNIT, priority: 1 });
      await defaultLoan(f, loan);
      await f.collateral.connect(f.platformA).seize(f.car, loan);
      const cheap = 1_000n * UNIT;
      await proposeSale(f.collateral, f.platformA, f.car, loan, cheap, { custodian: f.custodian });
      await f.alliance.expelMember(f.custodian);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [loan])).to.be.revertedWithCustomError(
        f.collateral,
        "CollateralRegistrySaleNeedsConfirmation",
      );
    });

    it("refuses an audit attestation of block 0 or of the block being mined", async function () {
      const f = await loadFixture(membersFixture);
      await f.alliance.admitMember(f.outsider, 4, id("second auditor"));
      const next = (await time.latestBlock()) + 1;
      await pinNextBlock();
      for (const block of [0, next]) {
        await expect(f.disclosures.connect(f.outsider).attestAudit(id("report"), id("manifest"), block))
          .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidAuditReport")
          .withArgs(id("report"), block, next);
      }
    });
  });
});
