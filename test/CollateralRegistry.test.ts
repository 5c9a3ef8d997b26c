import { expect } from "chai";
import { id, MaxUint256, Signature, ZeroHash } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { CollateralRegistry, MockToken } from "../typechain-types/index.js";
import {
  AssetClass,
  AssetStatus,
  assetKey,
  CollateralClient,
  LienStatus,
  loanIdOf,
  LoanRegistryClient,
  LoanStatus,
  normaliseOfficialId,
  PLEDGE_TYPES,
  toHash32,
  type LoanTerms,
} from "../src/client/index.js";
import {
  ALLIANCE_KEY,
  DAY,
  deployAllianceFixture,
  ethers,
  loadFixture,
  pinNextBlock,
  proposeSale as readySale,
  termsFor,
  time,
} from "./fixtures.js";
import { loanHistory } from "../src/audit/index.js";

const UNIT = 10n ** 18n;
const VIN = "LSVAU2180N2183294";
const APPRAISAL = 80_000n * UNIT;

/** Platform A registers a car for its owner; A has a loan in Funding, B has another. */
async function collateralFixture() {
  const f = await deployAllianceFixture();
  const [owner, buyer, custodian] = (await ethers.getSigners()).slice(7, 10);
  await f.alliance.admitMember(custodian, 8, id("custodian licence"));
  const car = assetKey(AssetClass.Vehicle, VIN, ALLIANCE_KEY);
  await f.collateral
    .connect(f.platformA)
    .registerCollateral(car, owner, AssetClass.Vehicle, APPRAISAL, id("appraisal"));
  const loanA = await termsFor(f.platformA, { principal: 50_000n * UNIT });
  const loanB = await termsFor(f.platformB, { principal: 20_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(loanA);
  await f.loans.connect(f.platformB).anchorLoan(loanB);
  return { ...f, owner, buyer, custodian, car, loanA, loanB };
}
type Fixture = Awaited<ReturnType<typeof collateralFixture>>;

function ownerClient(f: Fixture, signer: HardhatEthersSigner = f.owner) {
  return new CollateralClient(
    String(f.collateral.target),
    signer,
    new LoanRegistryClient(String(f.loans.target), signer),
  );
}

/** The owner's consent, as the platform sends it (64-byte signature). */
async function consent(f: Fixture, terms: LoanTerms, secured: bigint, priority = 1, signer = f.owner) {
  const deadline = (await time.latest()) + DAY;
  const signed = await ownerClient(f, signer).consent(
    { assetId: f.car, loanId: loanIdOf(terms), securedAmount: secured, priority },
    deadline,
  );
  const sig = Signature.from(signed.signature);
  return { deadline, r: sig.r, vs: sig.yParityAndS };
}

async function pledgeByPlatform(f: Fixture, terms: LoanTerms, secured: bigint, priority = 1) {
  const c = await consent(f, terms, secured, priority);
  const platform = terms.platform === f.platformA.address ? f.platformA : f.platformB;
  return f.collateral.connect(platform).pledge(f.car, terms, secured, priority, c.deadline, c.r, c.vs);
}

/** The car pledged first-priority to loan A (40 000) and second-priority to loan B (20 000). */
async function pledgedFixture() {
  const f = await loadFixture(collateralFixture);
  await pledgeByPlatform(f, f.loanA, 40_000n * UNIT, 1);
  await pledgeByPlatform(f, f.loanB, 20_000n * UNIT, 2);
  return f;
}

/** Loan A of the pledged car, funded through the splitter by the lender (20 000) and a second lender (30 000). */
async function fundedFixture() {
  const f = await loadFixture(pledgedFixture);
  const [lender2] = (await ethers.getSigners()).slice(10, 11);
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 365 * DAY);
  await f.splitter.connect(f.platformA).openFunding(f.loanA, {
    borrowerPayout: f.owner.address,
    insurer: ethers.ZeroAddress,
    platformFeeBps: 0,
    premiumBps: 0,
    reserveBps: 0,
  });
  for (const [lender, amount] of [
    [f.lender, 20_000n * UNIT],
    [lender2, 30_000n * UNIT],
  ] as const) {
    await f.token.mint(lender, amount);
    await f.token.connect(lender).approve(f.splitter, MaxUint256);
    await f.splitter.connect(lender).fund(f.loanA, amount);
  }
  return { ...f, lender2 };
}

/** Loan A funded through the splitter, loan B disbursed by platform B off chain; both defaulted. */
async function defaultedFixture() {
  const f = await loadFixture(fundedFixture);
  await f.loans.connect(f.platformB).activateLoan(f.loanB);
  await time.increase(34 * DAY);
  for (const [platform, terms] of [
    [f.platformA, f.loanA],
    [f.platformB, f.loanB],
  ] as const) {
    await f.loans.connect(platform).markLate(terms);
  }
  await time.increase(90 * DAY);
  await f.loans.connect(f.platformA).markDefaulted(f.loanA);
  await f.loans.connect(f.platformB).markDefaulted(f.loanB);
  return f;
}

/** Readies the sale of the car (or `asset`) as its seller, confirmed by the custodian unless told otherwise. */
function proposeSale(
  f: Fixture,
  price: bigint,
  {
    seller = f.platformA,
    enforcing = f.loanA,
    asset = f.car,
    collateral = f.collateral,
    buyer = ethers.ZeroAddress,
    confirm = true,
  }: {
    seller?: HardhatEthersSigner;
    enforcing?: LoanTerms;
    asset?: bigint;
    collateral?: CollateralRegistry;
    buyer?: string;
    confirm?: boolean;
  } = {},
) {
  return readySale(collateral, seller, asset, enforcing, price, {
    buyer,
    custodian: confirm ? f.custodian : undefined,
  });
}

async function seizedFixture() {
  const f = await loadFixture(defaultedFixture);
  await f.collateral.connect(f.platformA).seize(f.car, f.loanA);
  await f.token.mint(f.platformA, 1_000_000n * UNIT);
  await f.token.connect(f.platformA).approve(f.collateral, MaxUint256);
  return f;
}

describe("CollateralRegistry", function () {
  describe("registering assets", function () {
    it("mints the asset to its owner with class, appraisal and document hash", async function () {
      const f = await loadFixture(collateralFixture);
      expect(await f.collateral.ownerOf(f.car)).to.equal(f.owner.address);
      const asset = await f.collateral.assetOf(f.car);
      expect(asset.assetClass).to.equal(BigInt(AssetClass.Vehicle));
      expect(asset.status).to.equal(BigInt(AssetStatus.Registered));
      expect(asset.appraisalValue).to.equal(APPRAISAL);
      expect(asset.registrar).to.equal(f.platformA.address);
      expect((await ownerClient(f).asset(f.car)).appraisalDocHash).to.equal(id("appraisal"));
    });

    it("rejects the same asset under a differently written id, by any platform", async function () {
      const f = await loadFixture(collateralFixture);
      expect(normaliseOfficialId("lsvau-2180 n2183294")).to.equal(VIN);
      for (const written of ["lsvau 2180-n2183294", "ＬＳＶＡＵ２１８０Ｎ２１８３２９４", " LSVAU.2180/N2183294 "]) {
        const again = assetKey(AssetClass.Vehicle, written, ALLIANCE_KEY);
        expect(again).to.equal(f.car);
        await expect(
          f.collateral
            .connect(f.platformB)
            .registerCollateral(again, f.buyer, AssetClass.Vehicle, APPRAISAL, id("another appraisal")),
        )
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryAlreadyRegistered")
          .withArgs(f.car);
      }
      // The class is part of the key: a land-registry number that happens to read the same is another asset.
      expect(assetKey(AssetClass.RealEstate, VIN, ALLIANCE_KEY)).to.not.equal(f.car);
    });

    it("is for active platform and custodian members only, with a sound appraisal", async function () {
      const f = await loadFixture(collateralFixture);
      const house = assetKey(AssetClass.RealEstate, "京(2024)朝阳区不动产权第0001234号", ALLIANCE_KEY);
      for (const caller of [f.outsider, f.auditor, f.lender, f.owner, f.governance]) {
        await expect(
          f.collateral.connect(caller).registerCollateral(house, f.owner, AssetClass.RealEstate, APPRAISAL, id("a")),
        )
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
          .withArgs(caller.address);
      }
      await f.alliance.suspendMember(f.platformB);
      await expect(
        f.collateral.connect(f.platformB).registerCollateral(house, f.owner, AssetClass.RealEstate, APPRAISAL, id("a")),
      ).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized");
      await expect(
        f.collateral.connect(f.custodian).registerCollateral(house, f.owner, AssetClass.RealEstate, 0, id("a")),
      )
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidAppraisal")
        .withArgs(0, id("a"));
      await expect(
        f.collateral
          .connect(f.custodian)
          .registerCollateral(house, f.owner, AssetClass.RealEstate, APPRAISAL, ZeroHash),
      ).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidAppraisal");
      await expect(
        f.collateral.connect(f.custodian).registerCollateral(house, f.owner, AssetClass.RealEstate, APPRAISAL, id("a")),
      ).to.emit(f.collateral, "CollateralRegistered");
    });

    it("records revaluations by the registrar of record, custodians and governance only", async function () {
      const f = await loadFixture(collateralFixture);
      await expect(f.collateral.connect(f.custodian).revalue(f.car, 70_000n * UNIT, id("new appraisal"), []))
        .to.emit(f.collateral, "CollateralRevalued")
        .withArgs(f.car, f.custodian.address, 70_000n * UNIT, id("new appraisal"));
      await expect(f.collateral.connect(f.platformA).revalue(f.car, 71_000n * UNIT, id("registrar"), [])).to.emit(
        f.collateral,
        "CollateralRevalued",
      );
      await expect(f.collateral.connect(f.governance).revalue(f.car, 72_000n * UNIT, id("governance"), [])).to.emit(
        f.collateral,
        "CollateralRevalued",
      );
      // Platform B did not register the car: it may not rewrite its appraisal, whatever its stake in the car's loans.
      for (const caller of [f.owner, f.outsider, f.auditor, f.platformB]) {
        await expect(f.collateral.connect(caller).revalue(f.car, 1n, id("x"), []))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
          .withArgs(caller.address);
      }
      await expect(f.collateral.connect(f.platformA).revalue(42n, 1n, id("x"), []))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnknownAsset")
        .withArgs(42n);
    });

    it("lets an expelled registrar revalue nothing", async function () {
      const f = await loadFixture(collateralFixture);
      await f.alliance.expelMember(f.platformA);
      await expect(f.collateral.connect(f.platformA).revalue(f.car, 1n, id("x"), []))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
        .withArgs(f.platformA.address);
    });

    it("records a revaluation in the history of every loan the asset secures, all of which it must name", async function () {
      const f = await loadFixture(pledgedFixture);
      await expect(f.collateral.connect(f.custodian).revalue(f.car, 1n, id("x"), [f.loanA]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLiensIncomplete")
        .withArgs(f.car, 1, 2);
      await expect(f.collateral.connect(f.custodian).revalue(f.car, 1n, id("x"), [f.loanA, f.loanA]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLiensIncomplete")
        .withArgs(f.car, 1, 2);
      await ownerClient(f, f.custodian).revalue(f.car, 60_000n * UNIT, toHash32(id("lower appraisal")));
      for (const terms of [f.loanA, f.loanB]) {
        const history = await loanHistory(f.clientFor(f.auditor).loans, loanIdOf(terms));
        expect(history.entries.at(-1)?.fact).to.include({ kind: "External", source: f.collateral.target });
        expect(history.verified).to.equal(true);
      }
    });
  });

  describe("pledging", function () {
    it("pledges with the owner's signed consent and records the lien in the loan's history", async function () {
      const f = await loadFixture(collateralFixture);
      await expect(pledgeByPlatform(f, f.loanA, 40_000n * UNIT))
        .to.emit(f.collateral, "CollateralPledged")
        .withArgs(f.car, loanIdOf(f.loanA), f.owner.address, 40_000n * UNIT, 1);
      const lien = await f.collateral.lienOf(f.car, loanIdOf(f.loanA));
      expect(lien.status).to.equal(BigInt(LienStatus.Active));
      expect((await f.collateral.assetOf(f.car)).firstPrioritySecured).to.equal(40_000n * UNIT);
      const history = await loanHistory(f.clientFor(f.auditor).loans, loanIdOf(f.loanA));
      expect(history.entries.at(-1)?.fact).to.include({ kind: "External", source: f.collateral.target });
      expect(history.verified).to.equal(true);
    });

    it("takes no lien by the owner alone: the loan's platform must take it", async function () {
      const f = await loadFixture(collateralFixture);
      await expect(f.collateral.connect(f.owner).pledge(f.car, f.loanB, 10_000n * UNIT, 1, 0, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotLienholder")
        .withArgs(loanIdOf(f.loanB), f.owner.address);
    });

    it("takes a lien from a platform that owns the asset itself without a signature", async function () {
      const f = await loadFixture(collateralFixture);
      const truck = assetKey(AssetClass.Vehicle, "LSVAU2180N2189999", ALLIANCE_KEY);
      await f.collateral
        .connect(f.custodian)
        .registerCollateral(truck, f.platformB, AssetClass.Vehicle, APPRAISAL, id("t"));
      await expect(
        f.collateral.connect(f.platformB).pledge(truck, f.loanB, 10_000n * UNIT, 1, 0, ZeroHash, ZeroHash),
      ).to.emit(f.collateral, "CollateralPledged");
    });

    it("voids a previous owner's unused consents when the asset changes hands", async function () {
      const f = await loadFixture(collateralFixture);
      const c = await consent(f, f.loanA, UNIT);
      await f.collateral.connect(f.owner).transferFrom(f.owner, f.buyer, f.car);
      await f.collateral.connect(f.buyer).transferFrom(f.buyer, f.owner, f.car);
      // The asset is back with the signer, yet the consent it gave before the sale is void.
      await expect(f.collateral.connect(f.platformA).pledge(f.car, f.loanA, UNIT, 1, c.deadline, c.r, c.vs))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidConsent")
        .withArgs(f.car, f.owner.address);
      expect((await f.collateral.assetOf(f.car)).consentNonce).to.equal(2n);
    });

    it("refuses a consent signed before the platform was expelled, and a suspended platform's new lien", async function () {
      const f = await loadFixture(collateralFixture);
      const c = await consent(f, f.loanA, UNIT);
      await f.alliance.suspendMember(f.platformA);
      await expect(f.collateral.connect(f.platformA).pledge(f.car, f.loanA, UNIT, 1, c.deadline, c.r, c.vs))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotLienholder")
        .withArgs(loanIdOf(f.loanA), f.platformA.address);
      await f.alliance.expelMember(f.platformA);
      await expect(f.collateral.connect(f.platformA).pledge(f.car, f.loanA, UNIT, 1, c.deadline, c.r, c.vs))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotLienholder")
        .withArgs(loanIdOf(f.loanA), f.platformA.address);
    });

    it("rejects first-priority liens stacked beyond the appraisal value, even with the first lien's consent", async function () {
      const f = await loadFixture(collateralFixture);
      const loanB = await termsFor(f.platformB, { principal: 60_000n * UNIT });
      await f.loans.connect(f.platformB).anchorLoan(loanB);
      await pledgeByPlatform(f, f.loanA, 50_000n * UNIT, 1);
      await f.collateral.connect(f.platformA).consentToRank(f.car, f.loanA, loanIdOf(loanB), 1);
      const c = await consent(f, loanB, 30_000n * UNIT + 1n, 1);
      await expect(
        f.collateral
          .connect(f.platformB)
          .pledgeWithRankConsent(f.car, loanB, 30_000n * UNIT + 1n, 1, c.deadline, c.r, c.vs, [f.loanA]),
      )
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryFirstLiensExceedAppraisal")
        .withArgs(f.car, APPRAISAL + 1n, APPRAISAL);
      // A junior lien is not bounded by the appraisal.
      await expect(pledgeByPlatform(f, loanB, 60_000n * UNIT, 2)).to.emit(f.collateral, "CollateralPledged");
    });

    it("ranks a new lien beside or ahead of existing ones only with the consent of each lien it joins or jumps", async function () {
      const f = await loadFixture(collateralFixture);
      await pledgeByPlatform(f, f.loanA, 20_000n * UNIT, 2);
      const c = await consent(f, f.loanB, 10_000n * UNIT, 1);
      const jump = () =>
        f.collateral
          .connect(f.platformB)
          .pledgeWithRankConsent(f.car, f.loanB, 10_000n * UNIT, 1, c.deadline, c.r, c.vs, [f.loanA]);
      await expect(jump())
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryRankConsentMissing")
        .withArgs(f.car, loanIdOf(f.loanA), loanIdOf(f.loanB), 1);
      // Only the jumped lien's servicer may agree, and only to the rank it names.
      for (const caller of [f.platformB, f.owner, f.outsider]) {
        await expect(f.collateral.connect(caller).consentToRank(f.car, f.loanA, loanIdOf(f.loanB), 1))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
          .withArgs(caller.address);
      }
      await f.collateral.connect(f.platformA).consentToRank(f.car, f.loanA, loanIdOf(f.loanB), 2);
      await expect(jump()).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryRankConsentMissing");
      await expect(f.collateral.connect(f.platformA).consentToRank(f.car, f.loanA, loanIdOf(f.loanB), 1))
        .to.emit(f.collateral, "RankConsented")
        .withArgs(f.car, loanIdOf(f.loanA), loanIdOf(f.loanB), 1);
      // Every lien must be named, so that none is jumped unseen.
      await expect(
        f.collateral
          .connect(f.platformB)
          .pledgeWithRankConsent(f.car, f.loanB, 10_000n * UNIT, 1, c.deadline, c.r, c.vs, []),
      ).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLiensIncomplete");
      await expect(jump()).to.emit(f.collateral, "CollateralPledged");
      expect((await f.collateral.assetOf(f.car)).lastRank).to.equal(2n);
    });

    it("starts ranks afresh once the asset is free of liens", async function () {
      const f = await loadFixture(collateralFixture);
      await pledgeByPlatform(f, f.loanB, 10_000n * UNIT, 3);
      await f.loans.connect(f.platformB).cancelLoan(f.loanB);
      await f.collateral.release(f.car, loanIdOf(f.loanB));
      expect((await f.collateral.assetOf(f.car)).lastRank).to.equal(0n);
      await expect(pledgeByPlatform(f, f.loanA, 10_000n * UNIT, 1)).to.emit(f.collateral, "CollateralPledged");
    });

    it("accepts the consent of an owner that is a contract wallet (ERC-1271), and not once the wallet refuses", async function () {
      const f = await loadFixture(collateralFixture);
      // A company's multisig owns a second car; its signer (here the outsider's key) signs for it.
      const wallet = await ethers.deployContract("MockContractWallet", [f.outsider.address]);
      const truck = assetKey(AssetClass.Vehicle, "LFV2A21K7A4102856", ALLIANCE_KEY);
      await f.collateral
        .connect(f.platformA)
        .registerCollateral(truck, wallet, AssetClass.Vehicle, APPRAISAL, id("truck appraisal"));
      const secured = 10_000n * UNIT;
      const signed = await ownerClient(f, f.outsider).consent(
        { assetId: truck, loanId: loanIdOf(f.loanA), securedAmount: secured, priority: 1 },
        (await time.latest()) + DAY,
      );
      const sig = Signature.from(signed.signature);
      const pledge = () =>
        f.collateral.connect(f.platformA).pledge(truck, f.loanA, secured, 1, signed.deadline, sig.r, sig.yParityAndS);
      await wallet.setRefusing(true);
      await expect(pledge())
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidConsent")
        .withArgs(truck, await wallet.getAddress());
      await wallet.setRefusing(false);
      await expect(pledge()).to.emit(f.collateral, "CollateralPledged");
    });

    it("rejects a pledge without consent, or with a forged, replayed, expired or wrong-chain signature", async function () {
      const f = await loadFixture(collateralFixture);
      const secured = 10_000n * UNIT;
      const pledge = (c: { deadline: number; r: string; vs: string }, terms = f.loanA, caller = f.platformA) =>
        f.collateral.connect(caller).pledge(f.car, terms, secured, 1, c.deadline, c.r, c.vs);

      const none = { deadline: (await time.latest()) + DAY, r: ZeroHash, vs: ZeroHash };
      await expect(pledge(none))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidConsent")
        .withArgs(f.car, f.owner.address);
      const forged = await consent(f, f.loanA, secured, 1, f.outsider);
      await expect(pledge(forged)).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidConsent");
      // A consent names its amount: it does not cover a larger one.
      const smaller = await consent(f, f.loanA, secured - 1n);
      await expect(pledge(smaller)).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidConsent");

      const wrongChain = Signature.from(
        await f.owner.signTypedData(
          { name: "LoanLedger Collateral", version: "1", chainId: 1, verifyingContract: String(f.collateral.target) },
          PLEDGE_TYPES,

          {
            assetId: f.car,
            loanId: loanIdOf(f.loanA),
            securedAmount: secured,
            priority: 1,
            nonce: 0,
            deadline: none.deadline,
          },
        ),
      );
      await expect(pledge({ deadline: none.deadline, r: wrongChain.r, vs: wrongChain.yParityAndS }))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidConsent")
        .withArgs(f.car, f.owner.address);

      const expiring = await consent(f, f.loanA, secured);
      await time.increaseTo(expiring.deadline + 1);
      await expect(pledge(expiring)).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryConsentExpired");

      const good = await consent(f, f.loanA, secured);
      await pledge(good);
      await expect(pledge(good))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidConsent")
        .withArgs(f.car, f.owner.address);
    });

    it("lets the owner revoke consents it signed but nobody used", async function () {
      const f = await loadFixture(collateralFixture);
      const c = await consent(f, f.loanA, UNIT);
      await expect(f.collateral.connect(f.platformA).revokeConsents(f.car))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
        .withArgs(f.platformA.address);
      await expect(f.collateral.connect(f.owner).revokeConsents(f.car))
        .to.emit(f.collateral, "ConsentsRevoked")
        .withArgs(f.car, 1);
      await expect(
        f.collateral.connect(f.platformA).pledge(f.car, f.loanA, UNIT, 1, c.deadline, c.r, c.vs),
      ).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidConsent");
    });

    it("is for the owner or, with consent, the loan's own platform", async function () {
      const f = await loadFixture(collateralFixture);
      const c = await consent(f, f.loanA, UNIT);
      for (const caller of [f.platformB, f.outsider, f.lender, f.governance]) {
        await expect(f.collateral.connect(caller).pledge(f.car, f.loanA, UNIT, 1, c.deadline, c.r, c.vs))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotLienholder")
          .withArgs(loanIdOf(f.loanA), caller.address);
      }
    });

    it("rejects a lien on a loan that is not open, a second lien of one loan, and a bad amount or priority", async function () {
      const f = await loadFixture(collateralFixture);
      await f.loans.connect(f.platformB).cancelLoan(f.loanB);
      const own = async (terms: LoanTerms, secured: bigint, priority: number) => {
        const c = await consent(f, terms, secured, priority);
        const platform = terms.platform === f.platformA.address ? f.platformA : f.platformB;
        return f.collateral.connect(platform).pledge(f.car, terms, secured, priority, c.deadline, c.r, c.vs);
      };
      await expect(own(f.loanB, UNIT, 1))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryLoanNotOpen")
        .withArgs(loanIdOf(f.loanB), LoanStatus.Cancelled);
      await expect(own(f.loanA, 0n, 1))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidLien")
        .withArgs(0, 1, 8);
      await expect(own(f.loanA, UNIT, 0)).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidLien");
      await expect(own(f.loanA, UNIT, 9)).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidLien");
      await own(f.loanA, UNIT, 1);
      await expect(own(f.loanA, UNIT, 2))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLienExists")
        .withArgs(f.car, loanIdOf(f.loanA), LienStatus.Active);
    });

    it("keeps a pledged asset from being transferred", async function () {
      const f = await loadFixture(pledgedFixture);
      await expect(f.collateral.connect(f.owner).transferFrom(f.owner, f.buyer, f.car))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryPledgedAsset")
        .withArgs(f.car);
    });
  });

  describe("release", function () {
    it("releases a lien once its loan is Repaid, by anyone, and frees the asset", async function () {
      const f = await loadFixture(pledgedFixture);
      await f.loans.connect(f.platformB).activateLoan(f.loanB);
      await time.increase(DAY);
      const due = await f.loans.nextPayment(f.loanB);
      await f.loans.connect(f.platformB).recordPayment(f.loanB, due.interest + f.loanB.principal, ZeroHash);
      await expect(f.collateral.connect(f.outsider).release(f.car, loanIdOf(f.loanB)))
        .to.emit(f.collateral, "LienReleased")
        .withArgs(f.car, loanIdOf(f.loanB), f.outsider.address);
      await f.loans.connect(f.platformA).cancelLoan(f.loanA);
      await f.collateral.connect(f.owner).release(f.car, loanIdOf(f.loanA));
      const asset = await f.collateral.assetOf(f.car);
      expect(asset.lienCount).to.equal(0n);
      expect(asset.firstPrioritySecured).to.equal(0n);
      await expect(f.collateral.connect(f.owner).transferFrom(f.owner, f.buyer, f.car)).to.emit(
        f.collateral,
        "Transfer",
      );
    });

    it("rejects a release before the loan is repaid, whoever asks", async function () {
      const f = await loadFixture(pledgedFixture);
      for (const caller of [f.platformA, f.owner, f.governance]) {
        await expect(f.collateral.connect(caller).release(f.car, loanIdOf(f.loanA)))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLoanNotClosed")
          .withArgs(loanIdOf(f.loanA), LoanStatus.Funding);
      }
      await expect(f.collateral.release(f.car, 42n))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryWrongLienStatus")
        .withArgs(f.car, 42n, LienStatus.None);
    });
  });

  describe("seizure", function () {
    it("lets the lien's platform seize the asset of a Defaulted loan into custody", async function () {
      const f = await loadFixture(defaultedFixture);
      await expect(f.collateral.connect(f.platformA).seize(f.car, f.loanA))
        .to.emit(f.collateral, "CollateralSeized")
        .withArgs(f.car, loanIdOf(f.loanA), f.platformA.address, f.owner.address);
      expect(await f.collateral.ownerOf(f.car)).to.equal(f.collateral.target);
      expect((await f.collateral.assetOf(f.car)).status).to.equal(BigInt(AssetStatus.Seized));
    });

    it("rejects a seizure before default", async function () {
      const f = await loadFixture(pledgedFixture);
      await expect(f.collateral.connect(f.platformA).seize(f.car, f.loanA))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLoanNotDefaulted")
        .withArgs(loanIdOf(f.loanA), LoanStatus.Funding);
    });

    it("is for the lien's own platform only", async function () {
      const f = await loadFixture(defaultedFixture);
      for (const caller of [f.platformB, f.owner, f.outsider, f.governance]) {
        await expect(f.collateral.connect(caller).seize(f.car, f.loanA))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
          .withArgs(caller.address);
      }
    });

    it("rejects a release, a second seizure, a new pledge or a transfer once the asset is seized", async function () {
      const f = await loadFixture(seizedFixture);
      await expect(f.collateral.connect(f.platformB).seize(f.car, f.loanB))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryWrongAssetStatus")
        .withArgs(f.car, AssetStatus.Seized);
      await expect(f.collateral.connect(f.platformA).seize(f.car, f.loanA))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryWrongAssetStatus")
        .withArgs(f.car, AssetStatus.Seized);
      await expect(f.collateral.release(f.car, loanIdOf(f.loanB)))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryWrongAssetStatus")
        .withArgs(f.car, AssetStatus.Seized);
      const other = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(other);
      await expect(
        f.collateral.connect(f.platformA).pledge(f.car, other, UNIT, 3, 0, ZeroHash, ZeroHash),
      ).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryWrongAssetStatus");
      await expect(f.collateral.connect(f.owner).transferFrom(f.collateral, f.buyer, f.car))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryPledgedAsset")
        .withArgs(f.car);
    });
  });

  describe("every lien can end, and no member outside its business can touch one", function () {
    it("releases a lien of a Recovered loan: a loan made whole by selling another asset frees this one", async function () {
      const f = await loadFixture(defaultedFixture);
      const loss = await f.waterfall.recoverable(loanIdOf(f.loanA));
      await f.token.mint(f.outsider, loss);
      await f.token.connect(f.outsider).approve(f.waterfall, loss);
      await f.waterfall.connect(f.outsider).recover(f.loanA, loss);
      expect((await f.loans.loanState(loanIdOf(f.loanA))).status).to.equal(BigInt(LoanStatus.Recovered));
      await expect(f.collateral.connect(f.outsider).release(f.car, loanIdOf(f.loanA))).to.emit(
        f.collateral,
        "LienReleased",
      );
    });

    it("leaves a written-off loan's lien to its servicer, to enforce or waive: the owner cannot wait a silent platform out", async function () {
      const f = await loadFixture(defaultedFixture);
      await f.loans.connect(f.platformB).writeOff(f.loanB);
      await time.increase(365 * DAY);
      await expect(f.collateral.connect(f.owner).release(f.car, loanIdOf(f.loanB)))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLoanNotClosed")
        .withArgs(loanIdOf(f.loanB), LoanStatus.WrittenOff);
      for (const caller of [f.owner, f.outsider, f.platformA, f.governance]) {
        await expect(f.collateral.connect(caller).waive(f.car, f.loanB))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
          .withArgs(caller.address);
      }
      await expect(f.collateral.connect(f.platformA).waive(f.car, f.loanA))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLoanNotClosed")
        .withArgs(loanIdOf(f.loanA), LoanStatus.Defaulted);
      await expect(f.collateral.connect(f.platformB).waive(f.car, f.loanB))
        .to.emit(f.collateral, "LienReleased")
        .withArgs(f.car, loanIdOf(f.loanB), f.platformB.address);
    });

    it("lets the servicer of a written-off loan still seize the asset", async function () {
      const f = await loadFixture(defaultedFixture);
      await f.loans.connect(f.platformB).writeOff(f.loanB);
      await expect(f.collateral.connect(f.platformB).seize(f.car, f.loanB)).to.emit(f.collateral, "CollateralSeized");
    });

    it("gives a seized asset back to its owner once the seizing loan was made whole some other way", async function () {
      const f = await loadFixture(seizedFixture);
      await expect(f.collateral.connect(f.outsider).returnSeized(f.car))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLossNotMadeWhole")
        .withArgs(f.car, loanIdOf(f.loanA), LoanStatus.Defaulted);
      const loss = await f.waterfall.recoverable(loanIdOf(f.loanA));
      await f.token.mint(f.outsider, loss);
      await f.token.connect(f.outsider).approve(f.waterfall, loss);
      await f.waterfall.connect(f.outsider).recover(f.loanA, loss);
      await expect(f.collateral.connect(f.outsider).returnSeized(f.car))
        .to.emit(f.collateral, "SeizedAssetReturned")
        .withArgs(f.car, loanIdOf(f.loanA), f.owner.address);
      expect(await f.collateral.ownerOf(f.car)).to.equal(f.owner.address);
      // The return (which releases the lien too) is one fact of the loan's history, proven against its event.
      const history = await loanHistory(f.clientFor(f.auditor).loans, loanIdOf(f.loanA));
      expect(history.entries.at(-1)?.writerFact).to.deep.equal({ kind: "SeizedAssetReturned", assetId: f.car });
      expect(history.findings).to.deep.equal([]);
      const asset = await f.collateral.assetOf(f.car);
      expect([asset.status, asset.lienCount]).to.deep.equal([BigInt(AssetStatus.Registered), 1n]);
      // Loan B's lien stays: its platform may still enforce it.
      await expect(f.collateral.connect(f.platformB).seize(f.car, f.loanB)).to.emit(f.collateral, "CollateralSeized");
    });

    it("lets an expelled platform neither seize nor dispose, and its successor both", async function () {
      const f = await loadFixture(defaultedFixture);
      await f.alliance.expelMember(f.platformA);
      await expect(f.collateral.connect(f.platformA).seize(f.car, f.loanA))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
        .withArgs(f.platformA.address);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.succession.connect(f.outsider).takeOverLoans([f.loanA]);
      await f.collateral.connect(f.platformB).seize(f.car, f.loanA);
      await f.token.mint(f.platformA, 100_000n * UNIT);
      await f.token.connect(f.platformA).approve(f.collateral, MaxUint256);
      await expect(
        f.collateral.connect(f.platformA).proposeSale(f.car, f.loanA, UNIT, ethers.ZeroAddress, id("b"), id("s")),
      ).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryNotSeizingPlatform");
      await proposeSale(f, UNIT, { seller: f.platformB });
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB])).to.be.revertedWithCustomError(
        f.collateral,
        "CollateralRegistryNotSeizingPlatform",
      );
    });

    it("takes an expelled platform's book over end to end: the successor marks late, defaults, seizes, sells, and the lenders are paid", async function () {
      const f = await loadFixture(fundedFixture);
      const { lender2 } = f;
      // Platform A fails: governance expels it and names platform B its successor.
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      await f.clientFor(f.outsider).loans.takeOverLoans([loanIdOf(f.loanA)]);

      await time.increase(f.loanA.period + f.loanA.gracePeriod + 1);
      await f.loans.connect(f.platformB).markLate(f.loanA);
      await time.increase(f.loanA.defaultThreshold);
      await f.loans.connect(f.platformB).markDefaulted(f.loanA);
      await f.collateral.connect(f.platformB).seize(f.car, f.loanA);
      // Platform B gives up its own unfunded loan B, whose lien then takes nothing.
      await f.loans.connect(f.platformB).cancelLoan(f.loanB);
      const proceeds = 45_000n * UNIT;
      await f.token.mint(f.platformB, proceeds);
      await f.token.connect(f.platformB).approve(f.collateral, MaxUint256);
      await proposeSale(f, proceeds, { seller: f.platformB });
      await expect(f.collateral.connect(f.platformB).dispose(f.car, [f.loanA, f.loanB])).to.changeTokenBalance(
        ethers,
        f.token,
        f.owner,
        5_000n * UNIT,
      );
      // Loan A's 40 000 lien is paid in full to its lenders, pro rata 2:3; the owner gets the rest.
      const owed = [
        await f.splitter.owedTo(loanIdOf(f.loanA), f.lender),
        await f.splitter.owedTo(loanIdOf(f.loanA), lender2),
      ];
      expect(owed).to.deep.equal([16_000n * UNIT, 24_000n * UNIT]);
      await expect(f.splitter.payout(loanIdOf(f.loanA), [f.lender, lender2])).to.changeTokenBalances(
        ethers,
        f.token,
        [f.lender, lender2],
        owed,
      );
      const history = await loanHistory(f.clientFor(f.auditor).loans, loanIdOf(f.loanA));
      expect(history.entries.map((e) => e.fact.kind)).to.include("ServicerChanged");
      expect(history.verified).to.equal(true);
    });
  });

  describe("disposal", function () {
    it("pays the proceeds to the senior loan's lenders, then the junior lien's platform, then the owner, to the wei", async function () {
      const f = await loadFixture(seizedFixture);
      const proceeds = 65_000n * UNIT + 7n;
      const loanIdA = loanIdOf(f.loanA);
      const lendersInBefore = (await f.splitter.bookOf(loanIdA)).lendersIn;
      const accounts = [f.platformA, f.splitter, f.platformB, f.owner];
      const before = await Promise.all(accounts.map((a) => f.token.balanceOf(a)));
      // Through the client, which finds the liens from the chain and orders them by priority.
      const seller = new CollateralClient(
        String(f.collateral.target),
        f.platformA,
        new LoanRegistryClient(String(f.loans.target), f.platformA),
      );
      await seller.proposeSale(f.car, {
        price: proceeds,
        buyerRef: toHash32(id("buyer reference")),
        saleDocHash: toHash32(id("sale contract")),
      });
      await time.increaseTo((await seller.sale(f.car))!.completesAt);
      await seller.dispose(f.car);
      const after = await Promise.all(accounts.map((a) => f.token.balanceOf(a)));
      expect(after.map((b, i) => b - before[i])).to.deep.equal([
        -proceeds,
        40_000n * UNIT,
        20_000n * UNIT,
        5_000n * UNIT + 7n,
      ]);
      expect((await f.splitter.bookOf(loanIdA)).lendersIn - lendersInBefore).to.equal(40_000n * UNIT);
      // The lenders' part reaches them through the ordinary payouts, pro rata to their shares.
      const shares = [2n, 3n].map((n) => (40_000n * UNIT * n) / 5n);
      await expect(f.splitter.payout(loanIdA, [f.lender.address, f.lender2.address])).to.changeTokenBalances(
        ethers,
        f.token,
        [f.lender, f.lender2],
        shares,
      );
      expect((await f.collateral.assetOf(f.car)).status).to.equal(BigInt(AssetStatus.Disposed));
      await expect(f.collateral.ownerOf(f.car)).to.be.revertedWithCustomError(f.collateral, "ERC721NonexistentToken");
      for (const terms of [f.loanA, f.loanB]) {
        expect((await f.collateral.lienOf(f.car, loanIdOf(terms))).status).to.equal(BigInt(LienStatus.Discharged));
        expect((await loanHistory(f.clientFor(f.auditor).loans, loanIdOf(terms))).verified).to.equal(true);
      }
    });

    it("shares a shortfall within one priority pro rata, and leaves the owner nothing", async function () {
      const f = await loadFixture(seizedFixture);
      const proceeds = 30_000n * UNIT;
      await proposeSale(f, proceeds);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB])).to.changeTokenBalances(
        ethers,
        f.token,
        [f.splitter, f.platformB, f.owner],
        [proceeds, 0n, 0n],
      );
    });

    it("keeps a payment that fails (a blocked owner) for its recipient to withdraw elsewhere", async function () {
      const f = await loadFixture(collateralFixture);
      // A suite on a token that can block accounts, as a regulated deposit token can.
      const token = (await ethers.deployContract("MockToken", [0])) as unknown as MockToken;
      const splitter = await ethers.deployContract("RepaymentSplitter", [
        f.alliance,
        f.loans,
        token,
        f.governance,
        { platformFeeBps: 0, premiumBps: 0, reserveBps: 0 },
      ]);
      // The suite's waterfall is never reached here: the loan is funded off chain, not through this splitter.
      const collateral = (await ethers.deployContract(
        "CollateralRegistry",
        [f.alliance, f.loans, splitter, f.waterfall],
        {
          libraries: {
            CollateralSales: await ethers.deployContract("CollateralSales"),
            CollateralLiens: await ethers.deployContract("CollateralLiens"),
          },
        },
      )) as unknown as CollateralRegistry;
      await f.loans.setSystemPowers(splitter, 3);
      await f.loans.setSystemPowers(collateral, 2);
      const house = assetKey(AssetClass.RealEstate, "沪(2023)浦东新区不动产权第0123456号", ALLIANCE_KEY);
      await collateral
        .connect(f.platformB)
        .registerCollateral(house, f.owner, AssetClass.RealEstate, APPRAISAL, id("a"));
      const loans = new LoanRegistryClient(String(f.loans.target), f.platformB);
      await new CollateralClient(String(collateral.target), f.platformB, loans).pledge(
        { assetId: house, loanId: loanIdOf(f.loanB), securedAmount: 10_000n * UNIT, priority: 1 },
        await new CollateralClient(String(collateral.target), f.owner, loans).consent(
          { assetId: house, loanId: loanIdOf(f.loanB), securedAmount: 10_000n * UNIT, priority: 1 },
          (await time.latest()) + DAY,
        ),
      );
      await f.loans.connect(f.platformB).activateLoan(f.loanB);
      await time.increase(124 * DAY);
      await f.loans.connect(f.platformB).markLate(f.loanB);
      await f.loans.connect(f.platformB).markDefaulted(f.loanB);
      await collateral.connect(f.platformB).seize(house, f.loanB);

      await token.setBlocked(f.owner, true);
      await token.mint(f.platformB, 25_000n * UNIT);
      await token.connect(f.platformB).approve(collateral, MaxUint256);
      await proposeSale(f, 25_000n * UNIT, { seller: f.platformB, enforcing: f.loanB, asset: house, collateral });
      await expect(collateral.connect(f.platformB).dispose(house, [f.loanB]))
        .to.emit(collateral, "PaymentKept")
        .withArgs(f.owner.address, 15_000n * UNIT);
      expect(await token.balanceOf(f.platformB)).to.equal(10_000n * UNIT);
      expect(await collateral.keptFor(f.owner)).to.equal(15_000n * UNIT);
      // A token sent here by mistake can be swept to the reserve; what the registry keeps for the owner cannot.
      await token.mint(collateral, 7n);
      await expect(collateral.sweepMistakenTokens(token)).to.changeTokenBalance(ethers, token, f.governance, 7n);
      await expect(collateral.sweepMistakenTokens(token))
        .to.be.revertedWithCustomError(collateral, "TokenSweepNothingToSweep")
        .withArgs(token.target);
      await expect(collateral.connect(f.owner).withdraw(f.buyer)).to.changeTokenBalance(
        ethers,
        token,
        f.buyer,
        15_000n * UNIT,
      );
      await expect(collateral.connect(f.owner).withdraw(f.buyer))
        .to.be.revertedWithCustomError(collateral, "CollateralRegistryNothingToWithdraw")
        .withArgs(f.owner.address);
    });

    it("must list every lien, in priority order, and be recorded by the seizing platform", async function () {
      const f = await loadFixture(seizedFixture);
      await proposeSale(f, UNIT);
      const dispose = (liens: LoanTerms[], caller = f.platformA) => f.collateral.connect(caller).dispose(f.car, liens);
      await expect(dispose([f.loanA]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLiensIncomplete")
        .withArgs(f.car, 1, 2);
      await expect(dispose([f.loanB, f.loanA])).to.be.revertedWithCustomError(
        f.collateral,
        "CollateralRegistryLiensIncomplete",
      );
      await expect(dispose([f.loanA, f.loanA])).to.be.revertedWithCustomError(
        f.collateral,
        "CollateralRegistryWrongLienStatus",
      );
      for (const caller of [f.platformB, f.owner, f.outsider]) {
        await expect(dispose([f.loanA, f.loanB], caller))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryNotSeizingPlatform")
          .withArgs(f.car, caller.address, f.platformA.address);
      }
    });

    it("cannot dispose of an asset that is not seized, nor twice", async function () {
      const f = await loadFixture(defaultedFixture);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryWrongAssetStatus")
        .withArgs(f.car, AssetStatus.Registered);
      const s = await loadFixture(seizedFixture);
      await proposeSale(s, UNIT);
      await s.collateral.connect(s.platformA).dispose(s.car, [s.loanA, s.loanB]);
      await expect(s.collateral.connect(s.platformA).dispose(s.car, []))
        .to.be.revertedWithCustomError(s.collateral, "CollateralRegistryWrongAssetStatus")
        .withArgs(s.car, AssetStatus.Disposed);
    });

    it("lets a sold asset be registered again for its new owner", async function () {
      const f = await loadFixture(seizedFixture);
      await proposeSale(f, UNIT);
      await f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]);
      await f.collateral
        .connect(f.platformB)
        .registerCollateral(f.car, f.buyer, AssetClass.Vehicle, APPRAISAL, id("a2"));
      expect(await f.collateral.ownerOf(f.car)).to.equal(f.buyer.address);
    });
  });

  describe("a sale pays the loans in loss, and nothing else", function () {
    /** Loan A (funded through the splitter) defaulted and seized; loan B, disbursed off chain, only Late. */
    async function performingJuniorFixture() {
      const f = await loadFixture(fundedFixture);
      await f.loans.connect(f.platformB).activateLoan(f.loanB);
      await time.increase(124 * DAY);
      await f.loans.connect(f.platformA).markLate(f.loanA);
      await f.loans.connect(f.platformA).markDefaulted(f.loanA);
      await f.loans.connect(f.platformB).markLate(f.loanB);
      await f.collateral.connect(f.platformA).seize(f.car, f.loanA);
      await f.token.mint(f.platformA, 1_000_000n * UNIT);
      await f.token.connect(f.platformA).approve(f.collateral, MaxUint256);
      return f;
    }

    it("leaves a performing loan's lien on the asset, which passes to the buyer: its lenders take nothing, its borrower still owes it all", async function () {
      const f = await loadFixture(performingJuniorFixture);
      const loanIdB = loanIdOf(f.loanB);
      const owedB = (await f.loans.loanState(loanIdB)).outstandingPrincipal;
      // Without a buyer on the ledger the surviving lien would have no asset to follow.
      await proposeSale(f, 50_000n * UNIT);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryBuyerRequired")
        .withArgs(f.car, 1);

      // The buyer takes on loan B's 20 000 lien, so 48 000 (80% of the 60 000 left of the appraisal) needs nobody's
      // confirmation.
      await proposeSale(f, 48_000n * UNIT, { buyer: f.buyer.address, confirm: false });
      const sale = f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]);
      await expect(sale)
        .to.emit(f.collateral, "CollateralDisposed")
        .withArgs(f.car, loanIdOf(f.loanA), 48_000n * UNIT, id("buyer"), id("sale"), 8_000n * UNIT, f.buyer.address, 1);
      await expect(sale).to.changeTokenBalances(ethers, f.token, [f.platformB, f.owner], [0n, 8_000n * UNIT]);
      expect(await f.collateral.ownerOf(f.car)).to.equal(f.buyer.address);
      const asset = await f.collateral.assetOf(f.car);
      expect([asset.status, asset.lienCount, asset.lastRank, asset.firstPrioritySecured]).to.deep.equal([
        BigInt(AssetStatus.Registered),
        1n,
        2n,
        0n,
      ]);
      expect((await f.collateral.lienOf(f.car, loanIdB)).status).to.equal(BigInt(LienStatus.Active));
      expect((await f.loans.loanState(loanIdB)).outstandingPrincipal).to.equal(owedB);
      expect((await loanHistory(f.clientFor(f.auditor).loans, loanIdB)).verified).to.equal(true);
      // Should loan B default later, its servicer enforces its lien on the buyer's asset.
      await time.increase(f.loanB.defaultThreshold);
      await f.loans.connect(f.platformB).markDefaulted(f.loanB);
      await expect(f.collateral.connect(f.platformB).seize(f.car, f.loanB))
        .to.emit(f.collateral, "CollateralSeized")
        .withArgs(f.car, loanIdB, f.platformB.address, f.buyer.address);
    });

    it("waits while a lien's loan is still in Funding, which may yet lend; once it is cancelled, sells without it", async function () {
      const f = await loadFixture(pledgedFixture);
      // Loan A is disbursed off chain and defaults; loan B is still raising its funds.
      await f.loans.connect(f.platformA).activateLoan(f.loanA);
      await time.increase(124 * DAY);
      await f.loans.connect(f.platformA).markLate(f.loanA);
      await f.loans.connect(f.platformA).markDefaulted(f.loanA);
      await f.collateral.connect(f.platformA).seize(f.car, f.loanA);
      const price = 70_000n * UNIT;
      await f.token.mint(f.platformA, price);
      await f.token.connect(f.platformA).approve(f.collateral, MaxUint256);
      await proposeSale(f, price);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLoanInFunding")
        .withArgs(f.car, loanIdOf(f.loanB), f.loanB.fundingDeadline);
      // Its funding deadline passed long ago: anyone cancels it, and the sale releases its lien.
      await f.loans.connect(f.outsider).cancelLoan(f.loanB);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB])).to.changeTokenBalances(
        ethers,
        f.token,
        [f.platformA, f.platformB, f.owner],
        [40_000n * UNIT - price, 0n, 30_000n * UNIT],
      );
      expect((await f.collateral.lienOf(f.car, loanIdOf(f.loanB))).status).to.equal(BigInt(LienStatus.Released));
    });

    it("pays a loan serviced off the splitter no more than the loss it recorded, across every asset that secures it", async function () {
      const f = await loadFixture(collateralFixture);
      const van = assetKey(AssetClass.Vehicle, "LFV2A21K6E3012345", ALLIANCE_KEY);
      await f.collateral.connect(f.platformA).registerCollateral(van, f.owner, AssetClass.Vehicle, APPRAISAL, id("v"));
      // Loan A (50 000) is secured for 40 000 by each of two vehicles.
      const owner = ownerClient(f);
      const platform = f.clientFor(f.platformA).collateral;
      for (const assetId of [f.car, van]) {
        const request = { assetId, loanId: loanIdOf(f.loanA), securedAmount: 40_000n * UNIT, priority: 1 };
        await platform.pledge(request, await owner.consent(request, (await time.latest()) + DAY));
      }
      await f.loans.connect(f.platformA).activateLoan(f.loanA);
      await time.increase(124 * DAY);
      await f.loans.connect(f.platformA).markLate(f.loanA);
      await f.loans.connect(f.platformA).markDefaulted(f.loanA);
      const loss = await f.loans.lossOf(loanIdOf(f.loanA));
      const recorded = loss.principal + loss.interest;
      await f.token.mint(f.platformA, 200_000n * UNIT);
      await f.token.connect(f.platformA).approve(f.collateral, MaxUint256);
      const price = 70_000n * UNIT;
      await f.collateral.connect(f.platformA).seize(f.car, f.loanA);
      await proposeSale(f, price);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA])).to.changeTokenBalance(
        ethers,
        f.token,
        f.owner,
        price - 40_000n * UNIT,
      );
      await f.collateral.connect(f.platformA).seize(van, f.loanA);
      await proposeSale(f, price, { asset: van });
      // The second sale pays only what the loss has left; the owner gets the rest.
      await expect(f.collateral.connect(f.platformA).dispose(van, [f.loanA])).to.changeTokenBalance(
        ethers,
        f.token,
        f.owner,
        price - (recorded - 40_000n * UNIT),
      );
    });
  });

  describe("sale proposals", function () {
    it("are for the seizing loan's servicer only, on a seized asset, naming the sale document and buyer", async function () {
      const f = await loadFixture(defaultedFixture);
      const propose = (by: HardhatEthersSigner, terms = f.loanA, buyerRef = id("buyer"), doc = id("sale")) =>
        f.collateral.connect(by).proposeSale(f.car, terms, UNIT, ethers.ZeroAddress, buyerRef, doc);
      await expect(propose(f.platformA))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryWrongAssetStatus")
        .withArgs(f.car, AssetStatus.Registered);
      await f.collateral.connect(f.platformA).seize(f.car, f.loanA);
      for (const by of [f.platformB, f.owner, f.custodian, f.outsider, f.governance]) {
        await expect(propose(by))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryNotSeizingPlatform")
          .withArgs(f.car, by.address, f.platformA.address);
      }
      await expect(propose(f.platformB, f.loanB))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryNotEnforcingLoan")
        .withArgs(f.car, loanIdOf(f.loanB), loanIdOf(f.loanA));
      for (const [buyerRef, doc] of [
        [ethers.ZeroHash, id("sale")],
        [id("buyer"), ethers.ZeroHash],
      ]) {
        await expect(propose(f.platformA, f.loanA, buyerRef, doc))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryInvalidSale")
          .withArgs(UNIT, buyerRef, doc);
      }
      const [window] = await f.collateral.saleRules();
      const at = await pinNextBlock();
      await expect(propose(f.platformA))
        .to.emit(f.collateral, "SaleProposed")
        .withArgs(
          f.car,
          loanIdOf(f.loanA),
          f.platformA.address,
          UNIT,
          ethers.ZeroAddress,
          id("buyer"),
          id("sale"),
          APPRAISAL,
          at + Number(window),
        );
    });

    it("complete only once every lienholder had the window to see them, and a new proposal restarts it", async function () {
      const f = await loadFixture(seizedFixture);
      const price = 70_000n * UNIT;
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryNoSaleProposed")
        .withArgs(f.car);
      await f.collateral.connect(f.platformA).proposeSale(f.car, f.loanA, price, ethers.ZeroAddress, id("b"), id("s"));
      const [window] = await f.collateral.saleRules();
      expect(window).to.equal(3 * DAY);
      await time.increase(window - 10n);
      await f.collateral.connect(f.platformA).proposeSale(f.car, f.loanA, price, ethers.ZeroAddress, id("b"), id("s"));
      const proposedAt = BigInt(await time.latest());
      // The last second of the window, then its end: the first second a sale may complete.
      await pinNextBlock(Number(proposedAt + window) - 1);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistrySaleWindowOpen")
        .withArgs(f.car, proposedAt + window, proposedAt + window - 1n);
      await pinNextBlock(Number(proposedAt + window));
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB])).to.emit(
        f.collateral,
        "CollateralDisposed",
      );
      expect((await f.collateral.saleOf(f.car)).proposedAt).to.equal(0n);
    });

    it("below the appraisal floor need a custodian's confirmation of exactly that proposal, never the seller's own", async function () {
      const f = await loadFixture(seizedFixture);
      // The seller cannot record a sale for nothing and discharge the other platform's lien.
      await proposeSale(f, 0n, { confirm: false });
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistrySaleNeedsConfirmation")
        .withArgs(f.car, 0n, (APPRAISAL * 8n) / 10n);
      const hash = await f.collateral.saleProposalHash(f.car);
      // Only a custodian member confirms, and not one that proposed the sale itself.
      await f.alliance.setMemberRoles(f.platformA, 1 | 8);
      for (const by of [f.platformA, f.platformB, f.owner, f.outsider, f.governance]) {
        await expect(f.collateral.connect(by).confirmSale(f.car, hash))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
          .withArgs(by.address);
      }
      await expect(f.collateral.connect(f.custodian).confirmSale(f.car, id("another proposal")))
        .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryProposalChanged")
        .withArgs(f.car, id("another proposal"), hash);
      // A confirmation does not carry over to a proposal that replaced the one confirmed.
      await f.collateral.connect(f.custodian).confirmSale(f.car, hash);
      await f.collateral.connect(f.platformA).proposeSale(f.car, f.loanA, 1n, ethers.ZeroAddress, id("b"), id("s"));
      expect((await f.collateral.saleOf(f.car)).confirmer).to.equal(ethers.ZeroAddress);
      await proposeSale(f, 1n);
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]))
        .to.emit(f.collateral, "CollateralDisposed")
        .withArgs(f.car, loanIdOf(f.loanA), 1n, id("buyer"), id("sale"), 0n, ethers.ZeroAddress, 0);
    });

    it("follow rules governance sets within bounds, and governance alone may withdraw one", async function () {
      const f = await loadFixture(seizedFixture);
      for (const by of [f.platformA, f.custodian, f.outsider]) {
        await expect(f.collateral.connect(by).setSaleRules(DAY, 1_000))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
          .withArgs(by.address);
      }
      const max = await f.collateral.MAX_SALE_WINDOW();
      for (const [window, haircut] of [
        [max + 1n, 0n],
        [0n, 10_001n],
      ]) {
        await expect(f.collateral.setSaleRules(window, haircut))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistrySaleRulesOutOfRange")
          .withArgs(window, haircut, max);
      }
      await expect(f.collateral.setSaleRules(DAY, 5_000)).to.emit(f.collateral, "SaleRulesSet").withArgs(DAY, 5_000);
      // With a 50% haircut, 40 000 of the 80 000 appraisal needs nobody's confirmation.
      await proposeSale(f, 40_000n * UNIT, { confirm: false });
      for (const by of [f.platformA, f.custodian, f.outsider]) {
        await expect(f.collateral.connect(by).withdrawSale(f.car))
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryUnauthorized")
          .withArgs(by.address);
      }
      await expect(f.collateral.withdrawSale(f.car))
        .to.emit(f.collateral, "SaleWithdrawn")
        .withArgs(f.car, f.governance.address);
      for (const action of [
        f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]),
        f.collateral.connect(f.custodian).confirmSale(f.car, ethers.ZeroHash),
        f.collateral.withdrawSale(f.car),
      ]) {
        await expect(action)
          .to.be.revertedWithCustomError(f.collateral, "CollateralRegistryNoSaleProposed")
          .withArgs(f.car);
      }
      await proposeSale(f, 40_000n * UNIT, { confirm: false });
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB])).to.emit(
        f.collateral,
        "CollateralDisposed",
      );
    });
  });

  describe("locking (ERC-5192)", function () {
    const ERC5192 = "0xb45a3c0e";

    it("tells wallets a pledged asset is locked from its first lien to the end of its last, before they try to move it", async function () {
      const f = await loadFixture(collateralFixture);
      expect(await f.collateral.supportsInterface(ERC5192)).to.equal(true);
      expect(await f.collateral.supportsInterface("0x80ac58cd"), "still ERC-721").to.equal(true);
      expect(await f.collateral.locked(f.car)).to.equal(false);
      await expect(f.collateral.locked(42n))
        .to.be.revertedWithCustomError(f.collateral, "ERC721NonexistentToken")
        .withArgs(42n);

      await expect(pledgeByPlatform(f, f.loanA, 40_000n * UNIT, 1))
        .to.emit(f.collateral, "Locked")
        .withArgs(f.car);
      expect(await f.collateral.locked(f.car)).to.equal(true);
      await expect(pledgeByPlatform(f, f.loanB, 20_000n * UNIT, 2)).not.to.emit(f.collateral, "Locked");

      await f.loans.connect(f.platformA).cancelLoan(f.loanA);
      await expect(f.collateral.release(f.car, loanIdOf(f.loanA))).not.to.emit(f.collateral, "Unlocked");
      expect(await f.collateral.locked(f.car), "loan B's lien remains").to.equal(true);
      await f.loans.connect(f.platformB).cancelLoan(f.loanB);
      await expect(f.collateral.release(f.car, loanIdOf(f.loanB)))
        .to.emit(f.collateral, "Unlocked")
        .withArgs(f.car);
      expect(await f.collateral.locked(f.car)).to.equal(false);
      await expect(f.collateral.connect(f.owner).transferFrom(f.owner, f.buyer, f.car)).to.emit(
        f.collateral,
        "Transfer",
      );
    });

    it("writes a pledge's lien book in one store without touching the appraisal, class, status or registrar beside it", async function () {
      const f = await loadFixture(collateralFixture);
      // Every bit of the slot's other fields set: the largest appraisal a uint96 holds, the last asset class.
      const invoice = assetKey(AssetClass.Receivable, "INV-2027-0001", ALLIANCE_KEY);
      const appraisal = 2n ** 96n - 1n;
      await f.collateral
        .connect(f.platformA)
        .registerCollateral(invoice, f.platformA, AssetClass.Receivable, appraisal, id("invoice"));
      const loanC = await termsFor(f.platformA, { principal: 30_000n * UNIT });
      await f.loans.connect(f.platformA).anchorLoan(loanC);
      // The platform owns the asset: it consents by sending.
      await f.collateral.connect(f.platformA).pledge(invoice, f.loanA, 50_000n * UNIT, 1, 0, ZeroHash, ZeroHash);
      await f.collateral.connect(f.platformA).pledge(invoice, loanC, 30_000n * UNIT, 8, 0, ZeroHash, ZeroHash);
      const asset = await f.collateral.assetOf(invoice);
      expect([
        asset.appraisalValue,
        asset.firstPrioritySecured,
        asset.assetClass,
        asset.status,
        asset.lienCount,
        asset.consentNonce,
        asset.lastRank,
        asset.registrar,
      ]).to.deep.equal([
        appraisal,
        50_000n * UNIT,
        BigInt(AssetClass.Receivable),
        BigInt(AssetStatus.Registered),
        2n,
        2n,
        8n,
        f.platformA.address,
      ]);
    });

    it("keeps a seized asset locked, and unlocks it only when it leaves custody free of liens", async function () {
      const f = await loadFixture(seizedFixture);
      expect(await f.collateral.locked(f.car)).to.equal(true);
      // Sold to a buyer on the ledger with every lien discharged: the buyer holds a free asset.
      await proposeSale(f, 60_000n * UNIT, { buyer: f.buyer.address });
      await expect(f.collateral.connect(f.platformA).dispose(f.car, [f.loanA, f.loanB]))
        .to.emit(f.collateral, "Unlocked")
        .withArgs(f.car);
      expect(await f.collateral.locked(f.car)).to.equal(false);
      await f.collateral.connect(f.buyer).transferFrom(f.buyer, f.owner, f.car);
    });

    it("keeps an asset locked that goes back to its owner still carrying a lien; a burnt one is unlocked, and starts free when registered again", async function () {
      const f = await loadFixture(seizedFixture);
      const loss = await f.waterfall.recoverable(loanIdOf(f.loanA));
      await f.token.mint(f.outsider, loss);
      await f.token.connect(f.outsider).approve(f.waterfall, loss);
      await f.waterfall.connect(f.outsider).recover(f.loanA, loss);
      await expect(f.collateral.returnSeized(f.car)).not.to.emit(f.collateral, "Unlocked");
      expect(await f.collateral.locked(f.car), "loan B's lien remains").to.equal(true);

      // Loan B's servicer seizes and sells without a buyer on the ledger: the token is burnt.
      await f.collateral.connect(f.platformB).seize(f.car, f.loanB);
      await f.token.mint(f.platformB, 10_000n * UNIT);
      await f.token.connect(f.platformB).approve(f.collateral, MaxUint256);
      await proposeSale(f, 10_000n * UNIT, { seller: f.platformB, enforcing: f.loanB });
      // The burn unlocks it too, so that a wallet following the events sees the token free when the asset is
      // registered again under its id.
      await expect(f.collateral.connect(f.platformB).dispose(f.car, [f.loanB]))
        .to.emit(f.collateral, "Unlocked")
        .withArgs(f.car);
      await expect(f.collateral.locked(f.car)).to.be.revertedWithCustomError(f.collateral, "ERC721NonexistentToken");
      await f.collateral
        .connect(f.platformA)
        .registerCollateral(f.car, f.buyer, AssetClass.Vehicle, APPRAISAL, id("registered again"));
      expect(await f.collateral.locked(f.car)).to.equal(false);
    });
  });
});
