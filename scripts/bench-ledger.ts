/**
 * The portal benchmark's ledger on a chain, as the audit benchmark first built its own: `loans` loans of one platform,
 * anchored in batches of 100, activated, and repaid on time in 12 installments each, exactly as the TypeScript mirror
 * of the schedule says.
 */
import { id } from "ethers";
import type { network } from "hardhat";
import { deployLocalSuite } from "../deploy/local.js";
import {
  borrowerRef,
  schedule,
  ScheduleKind,
  toAddress,
  toHash32,
  type Address,
  type LoanTerms,
  type Suite,
} from "../src/client/index.js";

type Connection = Awaited<ReturnType<typeof network.create>>;

export const BENCH_INSTALLMENTS = 12;
const DAY = 86_400;

/**
 * The benchmarks' book of `count` equal-principal loans of 12 000 tokens by `platform`, 50 borrowers among them, each
 * with its own document and platform reference, open for funding until `deadline`.
 */
export function benchBook(platform: Address, count: number, deadline: number): LoanTerms[] {
  const key = new Uint8Array(32).fill(3);
  return Array.from({ length: count }, (_, i) => ({
    platform,
    borrowerRef: borrowerRef(`AUDIT${String(i % 50).padStart(6, "0")}`, key),
    documentHash: toHash32(id(`document ${i}`)),
    platformRef: toHash32(id(`audit loan ${i}`)),
    principal: 12_000n * 10n ** 18n,
    annualRateBps: 900,
    scheduleKind: ScheduleKind.EqualPrincipal,
    installments: BENCH_INSTALLMENTS,
    period: 30 * DAY,
    gracePeriod: 3 * DAY,
    lateFeeBps: 1_500,
    defaultThreshold: 90 * DAY,
    fundingDeadline: deadline,
  }));
}

export async function buildBenchLedger(
  { ethers, ignition, networkHelpers }: Pick<Connection, "ethers" | "ignition" | "networkHelpers">,
  loans: number,
  deploymentId?: string,
): Promise<{ suite: Suite; book: LoanTerms[]; deadline: number; seconds: number }> {
  const [, platform] = await ethers.getSigners();
  const suite = await deployLocalSuite(ignition, deploymentId);
  await (await suite.contracts.alliance.admitMember(platform, 1, id("bench platform"))).wait();
  const registry = suite.contracts.loans.connect(platform);

  const deadline = (await networkHelpers.time.latest()) + 30 * DAY;
  const book = benchBook(toAddress(platform.address), loans, deadline);

  const started = Date.now();
  for (let i = 0; i < loans; i += 100) await (await registry.anchorLoans(book.slice(i, i + 100))).wait();
  for (const terms of book) await registry.activateLoan(terms);
  const plans = book.map((terms) => schedule(terms));
  for (let k = 0; k < BENCH_INSTALLMENTS; k += 1) {
    await networkHelpers.time.increase(30 * DAY);
    for (const [i, terms] of book.entries()) await registry.recordRepayment(terms, plans[i][k].total);
  }
  return { suite, book, deadline, seconds: (Date.now() - started) / 1000 };
}
