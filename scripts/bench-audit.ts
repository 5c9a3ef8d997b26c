/**
 * Audit benchmark: builds a chain of 1000 loans with 12 repayments each on the embedded network, then times what
 * `loanledger audit verify` does on it (read the whole ledger from the chain at one block, verify every history) and
 * prints it, then times the export written, verified from disk, and proven against the chain at its block, and the
 * platform's disclosure figures. The target for the live verification is under 60 seconds on the project's 2-core
 * machine.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { id } from "ethers";
import { deployLocalSuite } from "../deploy/local.js";
import {
  borrowerRef,
  collectLedger,
  DisclosureClient,
  LoanRegistryClient,
  proveExport,
  readExport,
  SplitterClient,
  schedule,
  ScheduleKind,
  toAddress,
  toHash32,
  verifyLedger,
  writeExport,
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
const sources = {
  loans: auditorClient,
  alliance: suite.alliance,
  splitter: suite.splitter,
  collateral: suite.collateral,
  insurance: suite.insurance,
  reserve: suite.reserve,
  waterfall: suite.waterfall,
};
const dir = await mkdtemp(join(tmpdir(), "loanledger-bench-audit-"));
const seconds = (from: number, to: number) => ((to - from) / 1000).toFixed(2);

// The live verification: read the ledger at one block, verify it against the heads read there.
const t0 = performance.now();
const ledger = await collectLedger(sources);
const t1 = performance.now();
const report = await verifyLedger(ledger);
const t2 = performance.now();
const events = ledger.loans.length + ledger.money.length + ledger.assets.length + ledger.members.length;
await writeExport(dir, ledger);
const t3 = performance.now();

// The auditor's archive, verified later without a chain, then proven against the node at the export's block.
const archived = await readExport(dir);
const offline = await verifyLedger(archived);
const t4 = performance.now();
const proven = await verifyLedger(archived, { proof: await proveExport(archived, ethers.provider) });
const t5 = performance.now();

// The platform's month as `disclosure check` computes it.
const disclosures = new DisclosureClient(String(suite.disclosures.target), auditor, {
  loans: auditorClient,
  splitter: new SplitterClient(String(suite.splitter.target), auditor, auditorClient),
  insurance: String(suite.insurance.target),
});
const period = new Date((await networkHelpers.time.latest()) * 1000).toISOString().slice(0, 7);
const t6 = performance.now();
const figures = await disclosures.ledgerFigures(toAddress(platform.address), period);
const t7 = performance.now();

const total = (t2 - t0) / 1000;
const peak = process.resourceUsage().maxRSS / 1024;
console.log(
  `audit verify: ${report.loans.length} loans, ${report.entries} history entries, ${report.findings.length} finding(s), ` +
    `as of block ${ledger.block?.number}\n` +
    `  reading the ledger from the chain: ${seconds(t0, t1)} s (${Math.round(events / ((t1 - t0) / 1000))} events/s)\n` +
    `  verifying it:                      ${seconds(t1, t2)} s\n` +
    `  in all:                            ${total.toFixed(2)} s (target < ${TARGET_SECONDS} s)\n` +
    `  writing the export:                ${seconds(t2, t3)} s\n` +
    `  verifying the export (no chain):   ${seconds(t3, t4)} s, ${offline.findings.length} finding(s)\n` +
    `  proving its heads at its block:    ${seconds(t4, t5)} s, ${proven.findings.length} finding(s), ` +
    `${proven.heads.proven.length} head(s) proven\n` +
    `  disclosure figures for ${period}:  ${seconds(t6, t7)} s (${figures.loansOriginated} loans originated)\n` +
    `  peak memory (whole process):       ${peak.toFixed(0)} MiB`,
);
await rm(dir, { recursive: true, force: true });
if (!report.ok || !offline.ok || !proven.ok || total >= TARGET_SECONDS) process.exitCode = 1;
