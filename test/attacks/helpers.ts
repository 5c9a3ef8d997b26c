import { id, MaxUint256, Signature, ZeroAddress } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  AssetClass,
  assetKey,
  CollateralClient,
  loanIdOf,
  LoanRegistryClient,
  type AssetId,
  type LoanTerms,
} from "../../src/client/index.js";
import { ALLIANCE_KEY, DAY, deployAllianceFixture, ethers, time, type AllianceFixture } from "../fixtures.js";

/** What the attack tests share: the members' own moves against each other, at the seams between contracts. */

export const UNIT = 10n ** 18n;
export const VIN = "LSVAU2180N2183294";
export const APPRAISAL = 80_000n * UNIT;
export const NO_FEES = {
  insurer: ZeroAddress,
  platformFeeBps: 0,
  premiumBps: 0,
  reserveBps: 0,
};

/**
 * A car registered by platform A (its registrar of record) for its owner; a buyer, a custodian and an insurer member,
 * a second lender vouched by platform A; lenders funded and approved for the splitter; the platforms, the owner and an
 * outsider funded and approved for the collateral registry and the loss waterfall.
 */
export async function membersFixture() {
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
    await f.token.mint(lender, 10_000_000n * UNIT);
    await f.token.connect(lender).approve(f.splitter, MaxUint256);
  }
  for (const payer of [f.platformA, f.platformB, owner, f.outsider]) {
    await f.token.mint(payer, 1_000_000n * UNIT);
    await f.token.connect(payer).approve(f.collateral, MaxUint256);
    await f.token.connect(payer).approve(f.waterfall, MaxUint256);
    await f.token.connect(payer).approve(f.splitter, MaxUint256);
  }
  return { ...f, owner, buyer, custodian, insurer, lender2, car };
}
export type MembersFixture = Awaited<ReturnType<typeof membersFixture>>;

export function platformOf(f: AllianceFixture, terms: LoanTerms): HardhatEthersSigner {
  return terms.platform === f.platformA.address ? f.platformA : f.platformB;
}

/** The owner's signed consent to a lien of `terms` on the car, pledged by `by` (the loan's platform unless told). */
export async function pledge(
  f: AllianceFixture & { owner: HardhatEthersSigner; car: AssetId },
  terms: LoanTerms,
  secured: bigint,
  priority: number,
  by = platformOf(f, terms),
) {
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

/** Anchors `terms`, opens funding through the splitter and has the lender fund it in full: the loan is Active. */
export async function anchorAndFund(
  f: MembersFixture,
  terms: LoanTerms,
  config: Partial<typeof NO_FEES> = {},
  securedBy?: { amount: bigint; priority: number },
) {
  const platform = platformOf(f, terms);
  await f.loans.connect(platform).anchorLoan(terms);
  if (securedBy) await pledge(f, terms, securedBy.amount, securedBy.priority);
  await f.splitter.connect(platform).openFunding(terms, { borrowerPayout: f.owner.address, ...NO_FEES, ...config });
  await f.splitter.connect(f.lender).fund(terms, terms.principal);
}

/** Takes an Active loan through Late to Defaulted, by its servicer. */
export async function defaultLoan(f: AllianceFixture, terms: LoanTerms, servicer = platformOf(f, terms)) {
  await time.increase(terms.period + terms.gracePeriod + 1);
  await f.loans.connect(servicer).markLate(terms);
  await time.increase(terms.defaultThreshold);
  await f.loans.connect(servicer).markDefaulted(terms);
}
