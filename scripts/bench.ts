/**
 * Gas benchmark: deploys the suite on the embedded network, measures each operation's gas, writes
 * reports/gas.json ({ operation: gas }) and prints the same as a table with the targets.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { network } from "hardhat";
import { id } from "ethers";
import LoanLedgerModule from "../deploy/modules/LoanLedger.js";
import { borrowerRef, ScheduleKind, toAddress, toHash32, type LoanTerms } from "../src/client/index.js";
import type { AllianceRegistry, LoanRegistry } from "../typechain-types/index.js";

const DAY = 86_400;
const TARGETS: Record<string, number> = { anchorLoan: 130_000, anchorLoanBatch100PerLoan: 85_000 };

const { ethers, ignition, networkHelpers } = await network.create();
const [, platform] = await ethers.getSigners();
const deployed = await ignition.deploy(LoanLedgerModule);
const alliance = deployed.alliance as unknown as AllianceRegistry;
const loans = (deployed.loans as unknown as LoanRegistry).connect(platform);
await alliance.admitMember(platform, 1, id("bench platform"));

const key = new Uint8Array(32).fill(1);
let serial = 0;
/** Every loan has its own borrower: the worst case, where each anchoring also opens a fresh exposure slot. */
async function terms(): Promise<LoanTerms> {
  serial += 1;
  // 18-digit test ids with a valid check character are not needed: any 6+ alphanumerics normalise.
  return {
    platform: toAddress(platform.address),
    borrowerRef: borrowerRef(`BENCH${String(serial).padStart(8, "0")}`, key),
    documentHash: toHash32(id(`document ${serial}`)),
    platformRef: toHash32(id(`loan ${serial}`)),
    principal: 50_000n * 10n ** 18n,
    annualRateBps: 860,
    scheduleKind: ScheduleKind.EqualInstallment,
    installments: 24,
    period: 30 * DAY,
    gracePeriod: 3 * DAY,
    lateFeeBps: 1_500,
    defaultThreshold: 90 * DAY,
    fundingDeadline: (await networkHelpers.time.latest()) + 14 * DAY,
  };
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

const report: Record<string, number> = {};
// Warm the registry's first write so the single-loan figure is that of a registry in use.
await loans.anchorLoan(await terms());
report.anchorLoan = await gasOf(loans.anchorLoan(await terms()));
const book = await Promise.all(Array.from({ length: 100 }, () => terms()));
report.anchorLoanBatch100PerLoan = Math.round((await gasOf(loans.anchorLoans(book))) / 100);

const lifecycleTerms = await terms();
await loans.anchorLoan(lifecycleTerms);
report.activateLoan = await gasOf(loans.activateLoan(lifecycleTerms));
await networkHelpers.time.increase(30 * DAY);
const due = await loans.nextPayment(lifecycleTerms);
report.recordRepayment = await gasOf(loans.recordRepayment(lifecycleTerms, due.principal + due.interest));
report.amendDocument = await gasOf(loans.amendDocument(lifecycleTerms, id("amendment")));

await mkdir("reports", { recursive: true });
await writeFile("reports/gas.json", JSON.stringify(report, null, 2) + "\n");

const rows = Object.entries(report).map(([operation, gas]) => {
  const target = TARGETS[operation];
  const verdict = target === undefined ? "" : gas <= target ? `≤ ${target} ok` : `> ${target} OVER`;
  return [operation, String(gas), verdict];
});
const widths = [0, 1, 2].map((c) => Math.max(...[["operation", "gas", "target"], ...rows].map((r) => r[c].length)));
const line = (r: string[]) =>
  r.map((cell, c) => (c === 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ");
console.log(line(["operation", "gas", "target"]));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
rows.forEach((r) => console.log(line(r)));
console.log("\nwritten to reports/gas.json");
if (rows.some((r) => r[2].includes("OVER"))) process.exitCode = 1;
