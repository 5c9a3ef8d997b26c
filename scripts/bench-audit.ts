/**
 * Audit benchmark: builds a chain of 1000 loans with 12 repayments each on the embedded network, then times what
 * `loanledger audit verify` does on it (read the whole ledger from the chain, verify every history) and prints it.
 * The target is under 60 seconds on the project's 2-core machine.
 */
import { network } from "hardhat";
import { id } from "ethers";
import { deployLocalSuite } from "../deploy/local.js";
import {
  borrowerRef,
  collectLedger,
  LoanRegistryClient,
  schedule,
  ScheduleKind,
  toAddress,
  toHash32,
  verifyLedger,
  type LoanTerms,
} from "../src/client/index.js";

const LOANS = Number(process.env.AUDIT_BENCH_LOANS ?? 1000);
const INSTALLMENTS = 12;
const TARGET_SECONDS = 60;
const DAY = 86_400;

const { ethers, ignition, networkHelpers } = await network.create();
const [, platform, auditor] = await ethers.getSigners();
const suite = await deployLocalSuite(ignition);
await suite.alliance.admitMember(platform, 1, id("bench platform"));
const loans = suite.loans.connect(platform);

const key = new Uint8Array(32).fill(3);
const deadline = (await networkHelpers.time.latest()) + 30 * DAY;
const book: LoanTerms[] = Array.from({ length: LOANS }, (_, i) => ({
  platform: toAddress(platform.address),
  borrowerRef: borrowerRef(`AUDIT${String(i % 50).padStart(6, "0")}`, key),
  documentHash: toHash32(id(`document ${i}`)),
  platformRef: toHash32(id(`audit loan ${i}`)),
  principal: 12_000n * 10n ** 18n,
  annualRateBps: 900,
  scheduleKind: ScheduleKind.EqualPrincipal,
  installments: INSTALLMENTS,
  period: 30 * DAY,
  gracePeriod: 3 * DAY,
  lateFeeBps: 1_500,
  defaultThreshold: 90 * DAY,
  fundingDeadline: deadline,
}));

const started = Date.now();
for (let i = 0; i < LOANS; i += 100) await loans.anchorLoans(book.slice(i, i + 100));
for (const terms of book) await loans.activateLoan(terms);
// Every loan pays each installment on time, exactly as the TypeScript mirror of the schedule says.
const plans = book.map((terms) => schedule(terms));
for (let k = 0; k < INSTALLMENTS; k += 1) {
  await networkHelpers.time.increase(30 * DAY);
  for (const [i, terms] of book.entries()) await loans.recordRepayment(terms, plans[i][k].total);
}
console.log(
  `built ${LOANS} loans with ${INSTALLMENTS} repayments each in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);

const auditorClient = new LoanRegistryClient(String(suite.loans.target), auditor);
const t0 = performance.now();
const ledger = await collectLedger({
  loans: auditorClient,
  alliance: suite.alliance,
  splitter: suite.splitter,
  collateral: suite.collateral,
  insurance: suite.insurance,
  reserve: suite.reserve,
  waterfall: suite.waterfall,
});
const t1 = performance.now();
const report = await verifyLedger(ledger);
const t2 = performance.now();
const seconds = (t2 - t0) / 1000;
console.log(
  `audit verify: ${report.loans.length} loans, ${report.entries} history entries, ${report.findings.length} finding(s)\n` +
    `  reading the ledger from the chain: ${((t1 - t0) / 1000).toFixed(2)} s\n` +
    `  verifying it:                      ${((t2 - t1) / 1000).toFixed(2)} s\n` +
    `  in all:                            ${seconds.toFixed(2)} s (target < ${TARGET_SECONDS} s)`,
);
if (!report.ok || seconds >= TARGET_SECONDS) process.exitCode = 1;
