import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deployLocalSuite } from "../deploy/local.js";
import {
  borrowerRef,
  ScheduleKind,
  toAddress,
  toHash32,
  type LoanTerms,
  type Suite,
  type SuiteClients,
  type SuiteContracts,
} from "../src/client/index.js";
import {
  ILoanSuccession__factory,
  type CollateralRegistry,
  type ILoanSuccession,
  type MockSystemContract,
} from "../typechain-types/index.js";
import { ZeroAddress, id } from "ethers";

export const connection = await network.create();
export const { ethers, networkHelpers, ignition } = connection;
export const { loadFixture, time } = networkHelpers;

export const DAY = 86_400;
/** A test-only alliance key; production keys come from the environment. */
export const ALLIANCE_KEY = new Uint8Array(32).fill(7);
/** Valid PRC resident identity numbers (check characters correct), used only to derive references in tests. */
export const NATIONAL_IDS = ["11010519491231002X", "440524188001010014", "110101199003074477"];

/** The suite's typed contracts (`alliance`, `loans`, …, `token`), each sending as governance, and the actors. */
export interface AllianceFixture extends SuiteContracts {
  /** The deployment as governance sees it: `f.suite.connect(signer)` sees it as another account. */
  suite: Suite;
  /** The loan registry's succession functions ({ILoanSuccession}, served at its address), sending as governance. */
  succession: ILoanSuccession;
  governance: HardhatEthersSigner;
  platformA: HardhatEthersSigner;
  platformB: HardhatEthersSigner;
  auditor: HardhatEthersSigner;
  lender: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  /** A contract holding every system power over loans (funding delegate and history writer), acting through
   * `execute`: no plain account may hold one. */
  system: MockSystemContract;
  /** The suite's clients acting as `signer`. */
  clientFor: (signer: HardhatEthersSigner) => SuiteClients;
}

/** The suite deployed by its Ignition module, with two platforms, an auditor, a lender and a system contract. */
export async function deployAllianceFixture(): Promise<AllianceFixture> {
  const [governance, platformA, platformB, auditor, lender, outsider] = await ethers.getSigners();
  const suite = await deployLocalSuite(ignition);
  const { alliance, loans } = suite.contracts;

  await alliance.admitMember(platformA, 1, id("platform A licence"));
  await alliance.admitMember(platformB, 1, id("platform B licence"));
  await alliance.admitMember(auditor, 4, id("auditor licence"));
  const system = await ethers.deployContract("MockSystemContract");
  await loans.setSystemPowers(system, 3);
  const kycExpiry = (await time.latest()) + 365 * DAY;
  await alliance.connect(platformA).allowLender(lender, kycExpiry);

  return {
    ...suite.contracts,
    suite,
    succession: ILoanSuccession__factory.connect(await loans.getAddress(), governance),
    governance,
    platformA,
    platformB,
    auditor,
    lender,
    outsider,
    system,
    clientFor: (signer) => suite.connect(signer).clients,
  };
}

/**
 * Pins the next block's time (by default one second after the latest block) and returns it. Use it before every
 * transaction whose `block.timestamp` an assertion names: left alone, the node stamps the next block with the later of
 * the latest block's time plus one and its own clock, which a loaded machine moves on by more than a second.
 */
export async function pinNextBlock(at?: number): Promise<number> {
  const t = at ?? (await time.latest()) + 1;
  await time.setNextBlockTimestamp(t);
  return t;
}

let salt = 0;
/** Sensible terms for `platform`: a 12-month annuity of 120 000 tokens at 7.2%, unless overridden. */
export async function termsFor(platform: { address: string }, overrides: Partial<LoanTerms> = {}): Promise<LoanTerms> {
  salt += 1;
  return {
    platform: toAddress(platform.address),
    borrowerRef: borrowerRef(NATIONAL_IDS[0], ALLIANCE_KEY),
    documentHash: toHash32(id(`contract document ${salt}`)),
    platformRef: toHash32(id(`platform loan ${salt}`)),
    principal: 120_000n * 10n ** 18n,
    annualRateBps: 720,
    scheduleKind: ScheduleKind.EqualInstallment,
    installments: 12,
    period: 30 * DAY,
    gracePeriod: 3 * DAY,
    lateFeeBps: 1_800,
    defaultThreshold: 90 * DAY,
    fundingDeadline: (await time.latest()) + 7 * DAY,
    ...overrides,
  };
}

/** Awaits `promise` and checks that it rejects with an error of `type` whose message matches `pattern`. */
export async function expectRejection(
  promise: Promise<unknown>,
  pattern: RegExp,
  type: new (...args: never[]) => Error = Error,
): Promise<void> {
  let rejected: unknown;
  try {
    await promise;
  } catch (error) {
    rejected = error;
  }
  if (rejected === undefined) throw new Error(`expected a rejection matching ${pattern}`);
  if (!(rejected instanceof type)) throw rejected;
  if (!pattern.test((rejected as Error).message)) {
    throw new Error(`expected a rejection matching ${pattern}, got: ${(rejected as Error).message}`);
  }
}

/** Sends `method(args)` to `target` from the fixture's system contract, as a system contract of the suite would. */
export async function asSystem(
  f: Pick<AllianceFixture, "system">,
  target: {
    interface: { encodeFunctionData(method: string, args: readonly unknown[]): string };
    getAddress(): Promise<string>;
  },
  method: string,
  args: readonly unknown[],
) {
  return f.system.execute(await target.getAddress(), target.interface.encodeFunctionData(method, args));
}

/**
 * Readies a seized asset's sale as every disposal needs it: the servicer of the enforcing loan (`seller`) proposes it,
 * `custodian` (when given) confirms it, and the lienholders' window passes. `buyer` takes the asset and the liens of
 * performing loans with it (none: the token is burnt).
 */
export async function proposeSale(
  collateral: CollateralRegistry,
  seller: HardhatEthersSigner,
  assetId: bigint,
  enforcing: LoanTerms,
  price: bigint,
  { custodian, buyer = ZeroAddress }: { custodian?: HardhatEthersSigner; buyer?: string } = {},
) {
  await collateral.connect(seller).proposeSale(assetId, enforcing, price, buyer, id("buyer"), id("sale"));
  if (custodian) await collateral.connect(custodian).confirmSale(assetId, await collateral.saleProposalHash(assetId));
  const [window] = await collateral.saleRules();
  await time.increase(window);
}
