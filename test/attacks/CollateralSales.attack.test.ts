import { expect } from "chai";
import { id, MaxUint256, Signature, ZeroAddress } from "ethers";
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
 * Attacks on the sale rules of seized collateral (proposal, window, confirmation, the disposal waterfall, surviving
 * liens, closed books) by the alliance's own members and by outsiders. Every test asserts the safe outcome, so each one
 * fails for as long as its attack works.
 */

const UNIT = 10n ** 18n;
const VIN = "LSVAU2180N2183294";
const APPRAISAL = 80_000n * UNIT;
const NO_FEES = {
  insurer: ZeroAddress,
  platformFeeBps: 0,
  premiumBps: 0,
  reserveBps: 0,
};
/** Asset statuses of ICollateralRegistry. */
const SEIZED = 2n;

/** A car registered by platform A (its registrar of record) for its owner; a buyer, a custodian and funded lenders. */
async function salesFixture() {
  const f = await deployAllianceFixture();
  const [owner, buyer, custodian] = (await ethers.getSigners()).slice(7, 10);
  await f.alliance.admitMember(custodian, 8, id("custodian licence"));
  const car = assetKey(AssetClass.Vehicle, VIN, ALLIANCE_KEY);
  await f.collateral
    .connect(f.platformA)
    .registerCollateral(car, owner, AssetClass.Vehicle, APPRAISAL, id("appraisal"));
  await f.token.mint(f.lender, 10_000_000n * UNIT);
  await f.token.connect(f.lender).approve(f.splitter, MaxUint256);
  for (const payer of [f.platformA, f.platformB, owner, f.outsider]) {
    await f.token.mint(payer, 1_000_000n * UNIT);
    await f.token.connect(payer).approve(f.collateral, MaxUint256);
    await f.token.connect(payer).approve(f.waterfall, MaxUint256);
  }
  return { ...f, owner, buyer, custodian, car };
}
type Fixture = Awaited<ReturnType<typeof salesFixture>>;

function platformOf(f: AllianceFixture, terms: LoanTerms): HardhatEthersSigner {
  return terms.platform === f.platformA.address ? f.platformA : f.platformB;
}

/** The owner's signed consent to a lien of `terms` on the car, pledged by the loan's platform. */
async function pledge(f: Fixture, terms: LoanTerms, secured: bigint, priority: number) {
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
  return f.collateral
    .connect(platformOf(f, terms))
    .pledge(f.car, terms, secured, priority, deadline, sig.r, sig.yParityAndS);
}

/** Anchors `terms`, has the owner pledge the car to it, and funds it in full through the splitter: the loan is Active. */
async function securedLoan(f: Fixture, terms: LoanTerms, secured: bigint, priority: number) {
  const platform = platformOf(f, terms);
  await f.loans.connect(platform).anchorLoan(terms);
  await pledge(f, terms, secured, priority);
  await f.splitter.connect(platform).openFunding(terms, { borrowerPayout: f.owner.address, ...NO_FEES });
  await f.splitter.connect(f.lender).fund(terms, terms.principal);
}

/** Waits until loans activated now may be declared in default, and has each loan's platform declare it. */
async function defaultAll(f: Fixture, loans: LoanTerms[]) {
  await time.increase(loans[0].period + loans[0].defaultThreshold + 1);
  for (const terms of loans) await f.loans.connect(platformOf(f, terms)).markDefaulted(terms);
}

describe("Collateral sales: attacks on the issue-11 sale rules", function () {
  describe("the lien list a disposal is proven against", function () {
    /**
     * Car: loan Q (platform B, first rank, 30 000), loan E (platform A, second rank, 30 000), loan P (platform B, third
     * rank, 10 000). Q and E default; P, funded later, still performs.
     */
    async function threeLiens(f: Fixture) {
      const q = await termsFor(f.platformB, { principal: 30_000n * UNIT });
      const e = await termsFor(f.platformA, { principal: 30_000n * UNIT });
      await securedLoan(f, q, 30_000n * UNIT, 1);
      await securedLoan(f, e, 30_000n * UNIT, 2);
      await time.increase(100 * DAY);
      const p = await termsFor(f.platformB, { principal: 10_000n * UNIT });
      await securedLoan(f, p, 10_000n * UNIT, 3);
      await time.increase(21 * DAY);
      for (const terms of [q, e]) await f.loans.connect(platformOf(f, terms)).markDefaulted(terms);
      expect((await f.loans.loanState(loanIdOf(p))).status).to.equal(BigInt(LoanStatus.Active));
      return { q, e, p };
    }

    it("a junior seizing platform cannot leave the senior defaulted lien out by naming a performing lien twice", async function () {
      // Rules: a disposal is proven against every lien of the asset, each named once; proceeds follow loss in rank
      // order. plan() rejects a repeated lien only by the status it has just written (Discharged, Released), and a
      // performing lien keeps its Active status: [E, P, P] has the asset's lien count, so the senior defaulted lien Q is
      // simply not named. E (junior) takes 30 000 ahead of Q, the owner takes the rest, Q's lenders take nothing.
      const f = await loadFixture(salesFixture);
      const { q, e, p } = await threeLiens(f);
      await f.collateral.connect(f.platformA).seize(f.car, e);
      await proposeSale(f.collateral, f.platformA, f.car, e, 60_000n * UNIT, { buyer: f.buyer.address });

      await expect(f.collateral.connect(f.platformA).dispose(f.car, [e, p, p])).to.be.revert(ethers);
      // The honest list still works, and pays the senior lien first.
      const before = await f.waterfall.recoverable(loanIdOf(q));
      await f.collateral.connect(f.platformA).dispose(f.car, [q, e, p]);
      expect(before - (await f.waterfall.recoverable(loanIdOf(q)))).to.equal(30_000n * UNIT);
    });

    it("nobody but the seizing platform completes a sale, and the enforcing lien cannot be left out of it", async function () {
      // Rules: only the servicer of the seizing loan sells; a sale pays the loan in loss; every lien can end. dispose()
      // checks its caller only while walking the enforcing lien; the owner names the performing lien twice instead
      // ([P, P]), pays the price in itself and gets all of it back as the "surplus": the enforcing loan's lenders take
      // nothing, and its lien stays Enforcing on a registered asset, counted in lienCount for ever, so the buyer's car
      // can never be freed or transferred.
      const f = await loadFixture(salesFixture);
      const e = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      await time.increase(100 * DAY);
      const p = await termsFor(f.platformB, { principal: 10_000n * UNIT });
      await securedLoan(f, p, 10_000n * UNIT, 2);
      await time.increase(21 * DAY);
      await f.loans.connect(f.platformA).markDefaulted(e);
      await f.collateral.connect(f.platformA).seize(f.car, e);
      await proposeSale(f.collateral, f.platformA, f.car, e, 60_000n * UNIT, { buyer: f.buyer.address });

      await expect(f.collateral.connect(f.owner).dispose(f.car, [p, p])).to.be.revert(ethers);
      expect((await f.collateral.assetOf(f.car)).status).to.equal(SEIZED);
      expect((await f.collateral.lienOf(f.car, loanIdOf(e))).status).to.equal(3n);
    });
  });

  describe("the sale window", function () {
    it("a seizing platform cannot sell an asset whose loss was made whole during the sale window", async function () {
      // Rule: a seized asset whose enforcing loan was made whole some other way (Recovered) goes back to its owner.
      // dispose() never looks at the enforcing loan's status: it releases the enforcing lien and sells the car anyway,
      // to the buyer the platform chose, if it completes before anyone calls returnSeized.
      const f = await loadFixture(salesFixture);
      const e = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      await defaultAll(f, [e]);
      await f.collateral.connect(f.platformA).seize(f.car, e);
      await f.collateral.connect(f.platformA).proposeSale(f.car, e, 70_000n * UNIT, f.buyer, id("buyer"), id("sale"));
      // A guarantor makes the loss whole inside the window.
      await f.waterfall.connect(f.outsider).recover(e, await f.waterfall.recoverable(loanIdOf(e)));
      expect((await f.loans.loanState(loanIdOf(e))).status).to.equal(BigInt(LoanStatus.Recovered));
      const [window] = await f.collateral.saleRules();
      await time.increase(window);

      await expect(f.collateral.connect(f.platformA).dispose(f.car, [e])).to.be.revert(ethers);
      await f.collateral.connect(f.owner).returnSeized(f.car);
      expect(await f.collateral.ownerOf(f.car)).to.equal(f.owner.address);
    });

    it("a proposal made for one seizure does not let a later seizure complete without its own window", async function () {
      // Rule: every lienholder sees the proposed sale for the sale window before it completes, and a custodian confirms
      // exactly the sale it read. returnSeized() leaves the old proposal (and its confirmation) in place, so when the
      // car is seized again for another loan, that seizure's servicer completes the stale sale at once: no window, no
      // new proposal, a confirmation given for a different seizure and a different set of liens.
      const f = await loadFixture(salesFixture);
      const e = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      const g = await termsFor(f.platformB, { principal: 40_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      await securedLoan(f, g, 40_000n * UNIT, 2);
      await defaultAll(f, [e, g]);
      await f.collateral.connect(f.platformA).seize(f.car, e);
      // A cheap sale, confirmed by the custodian for this seizure.
      await proposeSale(f.collateral, f.platformA, f.car, e, 10_000n * UNIT, {
        custodian: f.custodian,
        buyer: f.buyer.address,
      });
      await f.waterfall.connect(f.outsider).recover(e, await f.waterfall.recoverable(loanIdOf(e)));
      await f.collateral.connect(f.owner).returnSeized(f.car);

      await f.collateral.connect(f.platformB).seize(f.car, g);
      await expect(f.collateral.connect(f.platformB).dispose(f.car, [g])).to.be.revert(ethers);
      expect((await f.collateral.assetOf(f.car)).status).to.equal(SEIZED);
    });

    it("a sale does not complete before the end of the window its proposal announced", async function () {
      // Rule: every lienholder sees the proposed sale for the sale window before it completes. SaleProposed announces
      // proposedAt + window as the completion time, but settle() reads the window at completion: governance shortens it
      // to zero after the proposal, and the sale completes at once, days before the time the lienholders were shown.
      const f = await loadFixture(salesFixture);
      const e = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      await defaultAll(f, [e]);
      await f.collateral.connect(f.platformA).seize(f.car, e);
      await f.collateral.connect(f.platformA).proposeSale(f.car, e, 70_000n * UNIT, f.buyer, id("buyer"), id("sale"));
      const [window, haircut] = await f.collateral.saleRules();
      const announced = (await time.latest()) + Number(window);
      await f.collateral.connect(f.governance).setSaleRules(0, haircut);

      await expect(f.collateral.connect(f.platformA).dispose(f.car, [e])).to.be.revert(ethers);
      expect(await time.latest()).to.be.below(announced);
    });
  });

  describe("the appraisal a sale is judged by", function () {
    it("the seizing platform cannot lower the sale floor by revaluing the asset it is about to seize", async function () {
      // Rule: a price below the appraisal by more than the haircut needs a custodian's confirmation; an appraisal is
      // answered for by someone without a stake in the asset's loans. Platform A registered the car, so revalue()
      // lets it, the lienholder about to seize, mark the car down to 1 token; it then sells it for 1 token with no
      // custodian, and the owner's 40 000 of equity is gone.
      const f = await loadFixture(salesFixture);
      const e = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      await defaultAll(f, [e]);
      await f.collateral
        .connect(f.platformA)
        .revalue(f.car, UNIT, id("a friendly appraisal"), [e])
        .then(
          () => undefined,
          () => undefined,
        );
      await f.collateral.connect(f.platformA).seize(f.car, e);
      await proposeSale(f.collateral, f.platformA, f.car, e, UNIT, { buyer: f.buyer.address });

      await expect(f.collateral.connect(f.platformA).dispose(f.car, [e])).to.be.revert(ethers);
    });
  });

  describe("closing a book that still has value coming", function () {
    it("governance cannot close a written-off loan's book while its collateral is being sold", async function () {
      // Rules: proceeds follow loss; a book closes once its recovery efforts ended. closeWrittenOff() does not ask
      // whether the loan still holds a lien: once the book is Closed, recoverable() is 0, the enforcing lien takes
      // nothing, and the whole price goes to the defaulted owner instead of the lenders who bore the loss.
      const f = await loadFixture(salesFixture);
      const e = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      await defaultAll(f, [e]);
      await f.waterfall.connect(f.platformA).settle(e);
      await f.waterfall.connect(f.platformA).writeOff(e);
      await f.collateral.connect(f.platformA).seize(f.car, e);
      await f.collateral
        .connect(f.platformA)
        .proposeSale(f.car, e, 70_000n * UNIT, ZeroAddress, id("buyer"), id("sale"));
      await f.splitter
        .connect(f.governance)
        .closeWrittenOff(loanIdOf(e))
        .then(
          () => undefined,
          () => undefined,
        );
      const [window] = await f.collateral.saleRules();
      await time.increase(window);

      const ownerBefore = await f.token.balanceOf(f.owner);
      await f.collateral.connect(f.platformA).dispose(f.car, [e]);
      expect((await f.token.balanceOf(f.owner)) - ownerBefore).to.equal(30_000n * UNIT);
    });
  });

  describe("a platform that disappears mid-sale", function () {
    it("a successor that is also a custodian cannot confirm the below-floor sale it then completes itself", async function () {
      // Rule: a price below the floor needs a custodian's confirmation of exactly that proposal, never the seller's
      // own. confirmSale() only refuses the proposer; once the proposer is expelled and its loan handed over, the
      // successor (a platform that is also a custodian member) confirms the expelled platform's cheap sale and
      // completes it as the seller: the seller vouched for its own price.
      const f = await loadFixture(salesFixture);
      const [platformC] = (await ethers.getSigners()).slice(12, 13);
      await f.alliance.admitMember(platformC, 1 | 8, id("platform and custodian C licence"));
      await f.token.mint(platformC, 1_000_000n * UNIT);
      await f.token.connect(platformC).approve(f.collateral, MaxUint256);
      const e = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      await defaultAll(f, [e]);
      await f.collateral.connect(f.platformA).seize(f.car, e);
      await f.collateral
        .connect(f.platformA)
        .proposeSale(f.car, e, 10_000n * UNIT, ZeroAddress, id("buyer"), id("sale"));
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, platformC);
      await f.succession.takeOverLoans([e]);

      await f.collateral
        .connect(platformC)
        .confirmSale(f.car, await f.collateral.saleProposalHash(f.car))
        .then(
          () => undefined,
          () => undefined,
        );
      const [window] = await f.collateral.saleRules();
      await time.increase(window);
      await expect(f.collateral.connect(platformC).dispose(f.car, [e])).to.be.revert(ethers);
      expect((await f.collateral.assetOf(f.car)).status).to.equal(SEIZED);
    });

    it("a sale does not pay an expelled platform the share of its off-splitter loan", async function () {
      // Rule: expelled means gone; a successor takes over its loans, custody and disposals. _payLien() pays an
      // off-splitter loan's share to servicerOf(), which stays the expelled platform until a successor takes the loan
      // over: the money its loan's lenders are owed goes to a member the alliance threw out.
      const f = await loadFixture(salesFixture);
      const e = await termsFor(f.platformA, { principal: 40_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      const q = await termsFor(f.platformB, { principal: 30_000n * UNIT });
      await f.loans.connect(f.platformB).anchorLoan(q);
      await pledge(f, q, 30_000n * UNIT, 2);
      await f.loans.connect(f.platformB).activateLoan(q);
      await defaultAll(f, [e, q]);
      await f.collateral.connect(f.platformA).seize(f.car, e);
      await proposeSale(f.collateral, f.platformA, f.car, e, 70_000n * UNIT);
      await f.alliance.expelMember(f.platformB);

      const expelledBefore = await f.token.balanceOf(f.platformB);
      // Holding the sale until a successor takes the loan over would be safe too.
      await f.collateral
        .connect(f.platformA)
        .dispose(f.car, [e, q])
        .then(
          () => undefined,
          () => undefined,
        );
      expect(await f.token.balanceOf(f.platformB)).to.equal(expelledBefore);
      expect(await f.collateral.keptFor(f.platformB)).to.equal(0n);
    });
  });

  describe("every wei has an owner", function () {
    it("governance cannot call lenders' money in the splitter a mistake and sweep it", async function () {
      // Rule (issue 11, item 9): a mistaken transfer is swept to the reserve, never what a contract owes. The splitter
      // keeps no single total of what it owes (lenders, platforms, insurers, the reserve), so it sweeps no settlement
      // token at all: a borrower's installment sent to it by mistake stays there (a known limit, written in the
      // README), and governance cannot take what it owes either.
      const f = await loadFixture(salesFixture);
      const e = await termsFor(f.platformA, { principal: 50_000n * UNIT });
      await securedLoan(f, e, 40_000n * UNIT, 1);
      await f.token.connect(f.owner).transfer(f.splitter, 1_234n * UNIT);
      await expect(f.splitter.connect(f.governance).sweepMistakenTokens(f.token))
        .to.be.revertedWithCustomError(f.splitter, "TokenSweepNothingToSweep")
        .withArgs(f.token.target);
    });
  });
});
