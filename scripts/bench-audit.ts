/**
 * Audit benchmark: builds a chain of 10 000 loans (AUDIT_BENCH_LOANS) with 12 repayments each on the embedded network,
 * one loan in ten funded through the splitter by two lenders and paid out to them (so that the money events and every
 * lender's position are verified too), then times what `loanledger audit verify` does on it (read the whole ledger
 * from the chain at one block, verify every history), the export written, and the export verified by the CLI in a
 * process of its own (its time and peak memory: targets under 60 s and 2 GiB on the project's 2-core machine), proven
 * against the chain at its block, and the platform's disclosure figures.
 *
 * With AUDIT_BENCH_SYNTHETIC=<loans> and AUDIT_BENCH_OUT=<dir> it builds no chain: it writes an export of that many
 * registry-serviced loans with 12 repayments each, in chain order with valid hash chains, to measure the export files
 * at a platform's scale; verify it with `loanledger audit verify --from-export <dir>` (under /usr/bin/time -v for
 * its peak memory).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { id, ZeroHash } from "ethers";
import { deployLocalSuite } from "../deploy/local.js";
import { BENCH_INSTALLMENTS, benchBook } from "./bench-ledger.js";
import {
  NO_BANK_REF,
  borrowerRef,
  factHash,
  formatLoanId,
  GENESIS_HEAD,
  loanIdOf,
  LoanStatus,
  nextHead,
  type LoanFact,
  type LoanId,
  schedule,
  ScheduleKind,
  toAddress,
  toHash32,
  type LoanTerms,
} from "../src/client/index.js";
import { ExportWriter, exportLedger, verifyChain, verifyExport, SUITE_CONTRACTS } from "../src/audit/index.js";

const LOANS = Number(process.env.AUDIT_BENCH_LOANS ?? 10_000);
const INSTALLMENTS = BENCH_INSTALLMENTS;
const TARGET_SECONDS = 60;
const TARGET_MIB = 2_048;
/** Every this many loans, one is funded through the splitter rather than serviced by the registry alone. */
const FUNDED_EVERY = 10;
const DAY = 86_400;

const SYNTHETIC = process.env.AUDIT_BENCH_SYNTHETIC;
if (SYNTHETIC) await writeSyntheticExport(Number(SYNTHETIC), process.env.AUDIT_BENCH_OUT ?? "audit-bench-export");
else await chainBench();

/** An export of `count` loans anchored, activated and repaid in 12 installments, as the chain would record them. */
async function writeSyntheticExport(count: number, dir: string): Promise<void> {
  const started = performance.now();
  const writer = await ExportWriter.open(dir);
  const key = new Uint8Array(32).fill(3);
  const platform = toAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  const heads = new Map<string, string>();
  let block = 1;
  const start = 1_800_000_000;
  const terms = (i: number): LoanTerms => ({
    platform,
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
    fundingDeadline: start + 30 * DAY,
  });
  const record = async (loanId: LoanId, fact: LoanFact, logIndex: number, extra: Record<string, unknown> = {}) => {
    const key = formatLoanId(loanId);
    const head = nextHead(toHash32(heads.get(key) ?? GENESIS_HEAD), factHash(loanId, fact));
    heads.set(key, head);
    await writer.loan({
      loanId: key,
      fact: JSON.parse(JSON.stringify(fact, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))),
      head,
      ...(extra as object),
      blockNumber: block,
      transactionHash: "0x" + block.toString(16).padStart(64, "0"),
      logIndex,
    });
  };
  const ids: LoanId[] = [];
  const plan = schedule(terms(0));
  for (let i = 0; i < count; i += 1) {
    const t = terms(i);
    const loanId = loanIdOf(t);
    ids.push(loanId);
    const json = JSON.parse(JSON.stringify(t, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
    await record(loanId, { kind: "Anchored", at: start }, 0, { terms: json });
    block += 1;
  }
  for (const loanId of ids) {
    await record(
      loanId,
      { kind: "StatusChanged", from: LoanStatus.Funding, to: LoanStatus.Active, at: start + DAY },
      0,
    );
    block += 1;
  }
  for (let k = 0; k < INSTALLMENTS; k += 1) {
    const at = start + DAY + (k + 1) * 30 * DAY;
    const due = plan[k];
    for (const loanId of ids) {
      const fact: LoanFact = {
        kind: "RepaymentRecorded",
        installment: k + 1,
        amount: due.total,
        lateInterest: 0n,
        interest: due.interest,
        principal: due.principal,
        prepayment: 0n,
        outstandingAfter: due.balanceAfter,
        bankRef: NO_BANK_REF,
        at,
      };
      await record(loanId, fact, 0);
      if (k === INSTALLMENTS - 1) {
        await record(loanId, { kind: "StatusChanged", from: LoanStatus.Active, to: LoanStatus.Repaid, at }, 1);
      }
      block += 1;
    }
  }
  const manifest = await writer.close({
    chainId: "31337",
    block: { number: block, hash: "0x" + "5e".repeat(32), timestamp: start + 400 * DAY },
    fromBlock: 0,
    // A suite of stand-in addresses, so that the export names every contract as a real one does and every check runs.
    contracts: Object.fromEntries(
      SUITE_CONTRACTS.map((name, i) => [name, toAddress("0x" + (i + 1).toString(16).padStart(40, "0"))]),
    ),
    heads: Object.fromEntries(heads),
  });
  const seconds = (performance.now() - started) / 1000;
  const entries = manifest.files["loans.jsonl"].records;
  console.log(
    `synthetic export: ${count} loans, ${entries} history entries, ` +
      `${(manifest.files["loans.jsonl"].bytes / 2 ** 20).toFixed(0)} MiB of loans.jsonl, written to ${dir} in ` +
      `${seconds.toFixed(1)} s (${Math.round(entries / seconds)} entries/s), peak memory ` +
      `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; load average ${loadavg()[0].toFixed(2)}`,
  );
}

async function chainBench(): Promise<void> {
  const { network } = await import("hardhat");

  const { ethers, ignition, networkHelpers } = await network.create();
  const [, platform, auditor, payer, borrower, lenderA, lenderB] = await ethers.getSigners();
  const deployed = await deployLocalSuite(ignition);
  const suite = deployed.contracts;
  await suite.alliance.admitMember(platform, 1, id("bench platform"));
  const loans = suite.loans.connect(platform);
  const splitter = suite.splitter;
  const lenders = [lenderA, lenderB];
  const kycExpiry = (await networkHelpers.time.latest()) + 3 * 365 * DAY;
  for (const account of [...lenders, payer]) {
    if (account !== payer) await suite.alliance.connect(platform).allowLender(account, kycExpiry);
    await suite.token.mint(account, 10n ** 12n * 10n ** 18n);
    await suite.token.connect(account).approve(splitter, ethers.MaxUint256);
  }
  const config = {
    borrowerPayout: borrower.address,
    insurer: ethers.ZeroAddress,
    platformFeeBps: 100,
    premiumBps: 0,
    reserveBps: 50,
  };

  const deadline = (await networkHelpers.time.latest()) + 30 * DAY;
  const book = benchBook(toAddress(platform.address), LOANS, deadline);

  const started = Date.now();
  const funded = (i: number) => i % FUNDED_EVERY === 0;
  for (let i = 0; i < LOANS; i += 100) await loans.anchorLoans(book.slice(i, i + 100));
  for (const [i, terms] of book.entries()) {
    if (!funded(i)) {
      await loans.activateLoan(terms);
      continue;
    }
    // Two lenders in unequal parts: the second commitment completes the funding and activates the loan.
    await splitter.connect(platform).openFunding(terms, config);
    await splitter.connect(lenderA).fund(terms, (terms.principal * 2n) / 3n);
    await splitter.connect(lenderB).fund(terms, terms.principal);
  }
  // Every loan pays each installment on time, exactly as the TypeScript mirror of the schedule says; a funded loan
  // pays through the splitter what it quotes (the installment with its fees), and is paid out after its sixth and last.
  const plans = book.map((terms) => schedule(terms));
  for (let k = 0; k < INSTALLMENTS; k += 1) {
    await networkHelpers.time.increase(30 * DAY);
    for (const [i, terms] of book.entries()) {
      if (!funded(i)) {
        await loans.recordPayment(terms, plans[i][k].total, ZeroHash);
        continue;
      }
      const [, total] = await splitter.amountDue(terms);
      await splitter.connect(payer).repayLoan(terms, total, ZeroHash);
      if (k === 5 || k === INSTALLMENTS - 1) {
        await splitter.payout(loanIdOf(terms), [lenderA.address, lenderB.address]);
      }
    }
  }
  console.log(
    `built ${LOANS} loans with ${INSTALLMENTS} repayments each (${Math.ceil(LOANS / FUNDED_EVERY)} through the ` +
      `splitter, two lenders each, paid out twice) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );

  const asAuditor = deployed.connect(auditor);
  const sources = asAuditor.auditSources;
  const dir = await mkdtemp(join(tmpdir(), "loanledger-bench-audit-"));
  const seconds = (from: number, to: number) => ((to - from) / 1000).toFixed(2);

  // The live verification: read the ledger at one block, verify it against the heads read there.
  // `audit verify`: the chain verified as it is read, at one block.
  const t0 = performance.now();
  const { report, header } = await verifyChain(sources);
  const t2 = performance.now();
  // `audit export`: the same read, written record by record.
  const { manifest } = await exportLedger(sources, dir);
  const t3 = performance.now();
  const events = Object.entries(manifest.files)
    .filter(([file]) => file.endsWith(".jsonl"))
    .reduce((sum, [, f]) => sum + f.records, 0);

  // The auditor's archive, verified later without a chain by the CLI in a process of its own (its time and peak
  // memory are the verification's alone), then proven against the node at the export's block.
  const offline = await verifyInOwnProcess(dir);
  const t4 = performance.now();
  const proven = await verifyExport(dir, { provider: ethers.provider });
  const t5 = performance.now();

  // The platform's month as `disclosure check` computes it.
  const disclosures = asAuditor.clients.disclosures;
  // The month the book was originated in: originations, activations and the first repayments.
  const period = new Date((deadline - 30 * DAY) * 1000).toISOString().slice(0, 7);
  const t6 = performance.now();
  const figures = await disclosures.ledgerFigures(toAddress(platform.address), period);
  const t7 = performance.now();

  const total = (t2 - t0) / 1000;
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(
    `audit verify: ${report.loans.length} loans, ${report.entries} history entries, ${report.findings.length} finding(s), ` +
      `as of block ${header.block.number}\n` +
      `  reading and verifying the chain:   ${total.toFixed(2)} s\n` +
      `  exporting it:                      ${seconds(t2, t3)} s (${Math.round(events / ((t3 - t2) / 1000))} events/s)\n` +
      `  verifying the export (no chain):   ${offline.seconds.toFixed(2)} s (target < ${TARGET_SECONDS} s), ` +
      `peak ${offline.peakMiB === undefined ? "not measured (no /usr/bin/time)" : `${offline.peakMiB.toFixed(0)} MiB (target < ${TARGET_MIB} MiB)`}, ` +
      `${offline.findings} finding(s), by \`loanledger audit verify --from-export\` in its own process\n` +
      `  proving every file at its block:   ${seconds(t4, t5)} s, ${proven.findings.length} finding(s), ` +
      `${proven.heads.proven.length} head(s) proven\n` +
      `  disclosure figures for ${period}:  ${seconds(t6, t7)} s (${figures.loansOriginated} loans originated)\n` +
      `  peak memory (this process, with the chain): ${peak.toFixed(0)} MiB; load average ${loadavg()[0].toFixed(2)}`,
  );
  await rm(dir, { recursive: true, force: true });
  const slow = offline.seconds >= TARGET_SECONDS || (offline.peakMiB ?? 0) >= TARGET_MIB;
  if (!report.ok || offline.findings !== 0 || !proven.ok || slow) process.exitCode = 1;
}

/**
 * Runs `loanledger audit verify --from-export dir` in a process of its own, under /usr/bin/time where there is one for
 * the peak memory, and returns its wall time, peak resident memory and findings.
 */
async function verifyInOwnProcess(dir: string): Promise<{ seconds: number; peakMiB?: number; findings: number }> {
  const out = await mkdtemp(join(tmpdir(), "loanledger-bench-report-"));
  const cli = join(import.meta.dirname, "..", "bin", "loanledger.mjs");
  const run = (args: string[]) =>
    new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const time = existsSync("/usr/bin/time");
      const [file, argv] = time
        ? ["/usr/bin/time", ["-f", "peak-kib %M", process.execPath, cli, ...args]]
        : [process.execPath, [cli, ...args]];
      // Exit code 1 means findings; the report says which.
      execFile(file, argv, { maxBuffer: 1 << 26 }, (_error, stdout, stderr) => resolve({ stdout, stderr }));
    });
  await run(["--version"]); // compiles the CLI's bundle if a source changed, outside the timing
  const started = performance.now();
  const { stdout, stderr } = await run(["audit", "verify", "--from-export", dir, "--out", out, "--json"]);
  const seconds = (performance.now() - started) / 1000;
  const peak = /peak-kib (\d+)/.exec(stderr);
  let findings: number;
  try {
    findings = (JSON.parse(stdout) as { findings: unknown[] }).findings.length;
  } catch {
    throw new Error(`audit verify --from-export failed: ${stderr.trim().split("\n").slice(-3).join(" ")}`);
  }
  await rm(out, { recursive: true, force: true });
  return { seconds, peakMiB: peak ? Number(peak[1]) / 1024 : undefined, findings };
}
