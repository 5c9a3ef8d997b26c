import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { keccak256, type Contract, type Log, type Provider } from "ethers";
import type {
  AllianceRegistry,
  CollateralRegistry,
  CreditInsurance,
  LossWaterfall,
  RepaymentSplitter,
  RiskReserveFund,
} from "../../typechain-types/index.js";
import { InputError, LoanLedgerError } from "./errors.js";
import { factHash, GENESIS_HEAD, nextHead, type LoanFact } from "./history.js";
import { formatLoanId, toAddress, toHash32, toLoanId } from "./ids.js";
import { HISTORY_EVENTS, type LoanRegistryClient } from "./loans.js";
import { isTransitionAllowed, LOAN_STATUS_NAMES, LoanStatus } from "./types.js";

/** A JSON value: what the export files hold (amounts as decimal strings). */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Where an event sits on chain. */
interface Position {
  blockNumber: number;
  transactionHash: string;
  logIndex: number;
}

/** One fact of a loan's history, as exported (loans.jsonl). */
export interface LoanRecord extends Position {
  loanId: string;
  fact: { [key: string]: Json };
  head: string;
  /** With the Anchored fact: the terms. */
  terms?: { [key: string]: Json };
}

/** Any other event, as exported (money.jsonl, assets.jsonl, members.jsonl). */
export interface EventRecord extends Position {
  contract: string;
  event: string;
  args: { [key: string]: Json };
}

/** A chain's ledger as an auditor archives it. */
export interface LedgerExport {
  chainId: string;
  loans: LoanRecord[];
  money: EventRecord[];
  assets: EventRecord[];
  members: EventRecord[];
  /** The on-chain history head of every loan when the export was taken. */
  heads: Record<string, string>;
}

/** The contracts an export reads. */
export interface AuditSources {
  loans: LoanRegistryClient;
  alliance: AllianceRegistry;
  splitter: RepaymentSplitter;
  collateral: CollateralRegistry;
  insurance: CreditInsurance;
  reserve: RiskReserveFund;
  waterfall: LossWaterfall;
}

export type Progress = (done: number, total: number, what: string) => void;

const BLOCK_CHUNK = 5_000;

function toJson(value: unknown): Json {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value as Json;
}

/** Every log of `contract` from `fromBlock` to the latest block, fetched in chunks (real nodes cap a query's range). */
async function logsOf(contract: Contract | { target: unknown }, provider: Provider, fromBlock: number): Promise<Log[]> {
  const latest = await provider.getBlockNumber();
  const logs: Log[] = [];
  for (let from = fromBlock; from <= latest; from += BLOCK_CHUNK) {
    const to = Math.min(latest, from + BLOCK_CHUNK - 1);
    logs.push(...(await provider.getLogs({ address: String(contract.target), fromBlock: from, toBlock: to })));
  }
  return logs;
}

function eventRecords(contract: { interface: Contract["interface"] }, name: string, logs: Log[]): EventRecord[] {
  const records: EventRecord[] = [];
  for (const log of logs) {
    const parsed = contract.interface.parseLog(log);
    if (!parsed) continue;
    records.push({
      contract: name,
      event: parsed.name,
      args: toJson(parsed.args.toObject(true)) as { [key: string]: Json },
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash,
      logIndex: log.index,
    });
  }
  return records;
}

const byChainOrder = (a: Position, b: Position) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;

/** Reads the whole ledger from the chain, in chain order. */
export async function collectLedger(sources: AuditSources, fromBlock = 0, progress?: Progress): Promise<LedgerExport> {
  const registry = sources.loans.contract;
  const provider = registry.runner?.provider;
  if (!provider) throw new LoanLedgerError("the loan registry client has no provider to read events from");
  const historyTopics = new Set(HISTORY_EVENTS.map((name) => registry.interface.getEvent(name).topicHash));
  const registryLogs = await logsOf(registry, provider, fromBlock);
  const loans: LoanRecord[] = registryLogs
    .filter((log) => historyTopics.has(log.topics[0]))
    .map((log) => {
      const entry = sources.loans.parseHistoryLog(log);
      return {
        loanId: formatLoanId(entry.loanId),
        fact: toJson(entry.fact) as { [key: string]: Json },
        head: entry.head,
        ...(entry.terms ? { terms: toJson(entry.terms) as { [key: string]: Json } } : {}),
        blockNumber: entry.blockNumber,
        transactionHash: entry.transactionHash,
        logIndex: entry.logIndex,
      };
    })
    .sort(byChainOrder);
  progress?.(1, 4, "loan history");

  const money = [
    ...eventRecords(sources.splitter, "RepaymentSplitter", await logsOf(sources.splitter, provider, fromBlock)),
    ...eventRecords(sources.waterfall, "LossWaterfall", await logsOf(sources.waterfall, provider, fromBlock)),
    ...eventRecords(sources.insurance, "CreditInsurance", await logsOf(sources.insurance, provider, fromBlock)),
    ...eventRecords(sources.reserve, "RiskReserveFund", await logsOf(sources.reserve, provider, fromBlock)),
  ].sort(byChainOrder);
  progress?.(2, 4, "money");
  const assets = eventRecords(
    sources.collateral,
    "CollateralRegistry",
    await logsOf(sources.collateral, provider, fromBlock),
  );
  const members = eventRecords(
    sources.alliance,
    "AllianceRegistry",
    await logsOf(sources.alliance, provider, fromBlock),
  );
  progress?.(3, 4, "assets and members");

  const heads: Record<string, string> = {};
  const ids = [...new Set(loans.map((r) => r.loanId))];
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    const found = await Promise.all(batch.map((loanId) => registry.historyHead(loanId)));
    batch.forEach((loanId, k) => (heads[loanId] = found[k]));
  }
  progress?.(4, 4, "history heads");
  const { chainId } = await provider.getNetwork();
  return { chainId: chainId.toString(), loans, money, assets, members, heads };
}

const FILES = { loans: "loans.jsonl", money: "money.jsonl", assets: "assets.jsonl", members: "members.jsonl" } as const;

/** Writes the ledger as JSON Lines, one file per kind, plus heads.json. */
export async function writeExport(dir: string, ledger: LedgerExport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [kind, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    const lines = ledger[kind].map((record) => JSON.stringify(record)).join("\n");
    await writeFile(join(dir, file), lines ? lines + "\n" : "");
    written.push(file);
  }
  await writeFile(
    join(dir, "heads.json"),
    JSON.stringify({ chainId: ledger.chainId, heads: ledger.heads }, null, 2) + "\n",
  );
  return [...written, "heads.json"];
}

/** Reads an export written by {writeExport}. */
export async function readExport(dir: string): Promise<LedgerExport> {
  const read = async (file: string) => {
    try {
      return await readFile(join(dir, file), "utf8");
    } catch {
      throw new InputError(`the export in ${dir} has no ${file}`);
    }
  };
  const lines = async <T>(file: string): Promise<T[]> =>
    (await read(file))
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line, i) => {
        try {
          return JSON.parse(line) as T;
        } catch {
          throw new InputError(`${file} line ${i + 1} is not JSON`);
        }
      });
  const heads = JSON.parse(await read("heads.json")) as { chainId: string; heads: Record<string, string> };
  return {
    chainId: heads.chainId,
    loans: await lines<LoanRecord>(FILES.loans),
    money: await lines<EventRecord>(FILES.money),
    assets: await lines<EventRecord>(FILES.assets),
    members: await lines<EventRecord>(FILES.members),
    heads: heads.heads,
  };
}

// ---------------------------------------------------------------- verification

export type CheckKind =
  "history" | "order" | "transition" | "repayment" | "split" | "document" | "payout" | "compensation";

/** Something that does not hold, with the loan and entry it is about. */
export interface Finding {
  check: CheckKind;
  loanId?: string;
  platform?: string;
  /** 1-based position of the entry in the loan's history, when the finding is about one entry. */
  entry?: number;
  blockNumber?: number;
  transactionHash?: string;
  logIndex?: number;
  message: string;
}

export interface PlatformSummary {
  loans: number;
  entries: number;
  repayments: number;
  findings: number;
}

export interface AuditReport {
  chainId: string;
  verifiedAt: string;
  loans: string[];
  entries: number;
  platforms: Record<string, PlatformSummary>;
  findings: Finding[];
  ok: boolean;
}

const big = (v: Json | undefined) => BigInt(String(v ?? 0));

/** The fact of an exported record, typed again (amounts back to bigint). */
function factOf(record: LoanRecord): LoanFact {
  const f = record.fact;
  const at = Number(f.at);
  switch (f.kind) {
    case "StatusChanged":
      return { kind: "StatusChanged", from: Number(f.from) as LoanStatus, to: Number(f.to) as LoanStatus, at };
    case "RepaymentRecorded":
      return {
        kind: "RepaymentRecorded",
        installment: Number(f.installment),
        amount: big(f.amount),
        lateInterest: big(f.lateInterest),
        interest: big(f.interest),
        principal: big(f.principal),
        prepayment: big(f.prepayment),
        outstandingAfter: big(f.outstandingAfter),
        at,
      };
    case "DocumentAmended":
      return {
        kind: "DocumentAmended",
        version: Number(f.version),
        documentHash: toHash32(String(f.documentHash)),
        at,
      };
    case "External":
      return { kind: "External", source: toAddress(String(f.source)), factHash: toHash32(String(f.factHash)), at };
    case "ServicingDelegated":
      return { kind: "ServicingDelegated", servicer: toAddress(String(f.servicer)), at };
    case "ServicerChanged":
      return { kind: "ServicerChanged", from: toAddress(String(f.from)), to: toAddress(String(f.to)), at };
    case "LossRecorded":
      return { kind: "LossRecorded", principal: big(f.principal), interest: big(f.interest), at };
    default:
      return { kind: "Anchored", at };
  }
}

/** keccak256 of every file under `dir`: the document index a loan's document hashes are looked up in. */
async function documentIndex(dir: string): Promise<Set<string>> {
  const hashes = new Set<string>();
  const walk = async (folder: string) => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      throw new InputError(`cannot read the documents folder ${folder}`);
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) hashes.add(keccak256(await readFile(path)).toLowerCase());
    }
  };
  await walk(dir);
  return hashes;
}

function where(record: Position): Pick<Finding, "blockNumber" | "transactionHash" | "logIndex"> {
  return { blockNumber: record.blockNumber, transactionHash: record.transactionHash, logIndex: record.logIndex };
}

/**
 * Verifies an exported (or freshly collected) ledger: every loan's hash chain entry by entry and against its on-chain
 * head, chain order, the transition table, that repayments add up, documents against files, and that payouts and
 * compensation are accounted for.
 */
export async function verifyLedger(
  ledger: LedgerExport,
  options: { loanId?: string; docsDir?: string; progress?: Progress } = {},
): Promise<AuditReport> {
  const findings: Finding[] = [];
  const documents = options.docsDir ? await documentIndex(options.docsDir) : undefined;
  const byLoan = new Map<string, LoanRecord[]>();
  for (const record of ledger.loans) {
    if (options.loanId && record.loanId !== options.loanId) continue;
    const list = byLoan.get(record.loanId) ?? [];
    list.push(record);
    byLoan.set(record.loanId, list);
  }
  if (options.loanId && !byLoan.has(options.loanId))
    throw new InputError(`loan ${options.loanId} is not in the ledger`);
  const money = groupMoney(ledger.money);
  const platforms: Record<string, PlatformSummary> = {};
  const lendersPartByTx = new Map<string, bigint>();
  let entries = 0;
  let done = 0;

  for (const [loanId, records] of byLoan) {
    const anchored = records.find((r) => r.fact.kind === "Anchored");
    const platform = String(anchored?.terms?.platform ?? "unknown");
    const summary = (platforms[platform] ??= { loans: 0, entries: 0, repayments: 0, findings: 0 });
    summary.loans += 1;
    summary.entries += records.length;
    entries += records.length;
    const found = (finding: Omit<Finding, "loanId" | "platform">) => {
      findings.push({ loanId, platform, ...finding });
      summary.findings += 1;
    };

    let head: string = GENESIS_HEAD;
    let status: LoanStatus = LoanStatus.None;
    records.forEach((record, i) => {
      const entry = i + 1;
      const fact = factOf(record);
      if (i > 0 && byChainOrder(records[i - 1], record) >= 0) {
        found({
          check: "order",
          entry,
          ...where(record),
          message: `entry ${entry} comes before entry ${i} on chain: the entries are out of order`,
        });
      }
      const replayed = nextHead(toHash32(head), factHash(toLoanId(loanId), fact));
      if (replayed !== record.head.toLowerCase()) {
        found({
          check: "history",
          entry,
          ...where(record),
          message: `entry ${entry} (${fact.kind}) does not produce its recorded head from the entry before it: it was altered, or an entry is missing just before it`,
        });
      }
      head = record.head.toLowerCase();
      if (fact.kind === "Anchored") status = LoanStatus.Funding;
      if (fact.kind === "StatusChanged") {
        if (fact.from !== status || !isTransitionAllowed(fact.from, fact.to)) {
          found({
            check: "transition",
            entry,
            ...where(record),
            message: `entry ${entry} moves the loan ${LOAN_STATUS_NAMES[fact.from]} → ${LOAN_STATUS_NAMES[fact.to]} while it was ${LOAN_STATUS_NAMES[status]}`,
          });
        }
        status = fact.to;
      }
      if (fact.kind === "RepaymentRecorded") {
        summary.repayments += 1;
        lendersPartByTx.set(`${record.transactionHash}:${loanId}`, fact.amount);
        const parts = fact.lateInterest + fact.interest + fact.principal + fact.prepayment;
        if (parts !== fact.amount) {
          found({
            check: "repayment",
            entry,
            ...where(record),
            message: `entry ${entry}: the repayment's parts add up to ${parts}, not its amount ${fact.amount}`,
          });
        }
      }
      if (documents) {
        const hash =
          fact.kind === "DocumentAmended"
            ? fact.documentHash
            : fact.kind === "Anchored"
              ? String(record.terms?.documentHash)
              : undefined;
        const version = fact.kind === "DocumentAmended" ? fact.version : 1;
        if (hash && !documents.has(hash.toLowerCase())) {
          found({
            check: "document",
            entry,
            ...where(record),
            message: `document version ${version} (${hash}) matches no file in ${options.docsDir}`,
          });
        }
      }
    });
    const onChain = ledger.heads[loanId];
    if (!onChain) {
      found({ check: "history", message: "the export holds no on-chain head for this loan" });
    } else if (head !== onChain.toLowerCase()) {
      found({
        check: "history",
        entry: records.length,
        message: `the last entry's head ${head} is not the on-chain head ${onChain}: entries are missing at the end, or the heads were rewritten`,
      });
    }
    checkMoney(money.get(loanId) ?? [], lendersPartByTx, loanId, found);
    done += 1;
    if (done % 100 === 0 || done === byLoan.size) options.progress?.(done, byLoan.size, "loans verified");
  }
  return {
    chainId: ledger.chainId,
    verifiedAt: new Date().toISOString(),
    loans: [...byLoan.keys()],
    entries,
    platforms,
    findings,
    ok: findings.length === 0,
  };
}

function groupMoney(records: EventRecord[]): Map<string, EventRecord[]> {
  const byLoan = new Map<string, EventRecord[]>();
  for (const record of records) {
    const raw = record.args.loanId;
    if (raw === undefined) continue;
    const loanId = formatLoanId(toLoanId(String(raw)));
    const list = byLoan.get(loanId) ?? [];
    list.push(record);
    byLoan.set(loanId, list);
  }
  return byLoan;
}

/** Repayment splits add up and match the registry; payouts never exceed what came in; compensation was paid. */
function checkMoney(
  records: EventRecord[],
  lendersPartByTx: Map<string, bigint>,
  loanId: string,
  found: (finding: Omit<Finding, "loanId" | "platform">) => void,
): void {
  let lendersIn = 0n;
  let paidOut = 0n;
  for (const record of records) {
    const a = record.args;
    if (record.event === "RepaymentSplit") {
      const s = a.split as { [key: string]: Json };
      const fees = big(s.platformFee) + big(s.premium) + big(s.reserve);
      const lenders = big(s.lateInterest) + big(s.interest) + big(s.principal) + big(s.prepayment);
      if (fees + lenders !== big(a.amount)) {
        found({
          check: "split",
          ...where(record),
          message: `a repayment of ${big(a.amount)} splits into ${fees + lenders}`,
        });
      }
      const recorded = lendersPartByTx.get(`${record.transactionHash}:${loanId}`);
      if (recorded !== undefined && recorded !== lenders) {
        found({
          check: "split",
          ...where(record),
          message: `the lenders' part ${lenders} is not the ${recorded} the registry recorded`,
        });
      }
      lendersIn += lenders;
    } else if (record.event === "RecoveryReceived" || record.event === "PremiumToLenders") {
      // A premium without cover goes to the lenders, like a recovery.
      lendersIn += big(a.amount);
    } else if (record.event === "FundingCancelled") {
      lendersIn += big(a.committed);
    } else if (record.event === "PayoutsPushed") {
      paidOut += big(a.paid);
    } else if (record.event === "Claimed") {
      paidOut += big(a.amount);
    } else if (record.event === "RemainderSwept") {
      paidOut += big(a.amount);
    } else if (record.event === "LossSettled") {
      const tx = records.filter((r) => r.transactionHash === record.transactionHash);
      const claim = tx.find((r) => r.event === "ClaimPaid");
      const compensation = tx.find((r) => r.event === "Compensated");
      if (big(claim?.args.paid) !== big(a.insurerBore) || big(compensation?.args.paid) !== big(a.reserveBore)) {
        found({
          check: "compensation",
          ...where(record),
          message: `the settlement says insurer ${big(a.insurerBore)} and reserve ${big(a.reserveBore)}, but ${big(claim?.args.paid)} and ${big(compensation?.args.paid)} were paid`,
        });
      }
    }
  }
  if (paidOut > lendersIn) {
    found({
      check: "payout",
      message: `the lenders were paid ${paidOut}, more than the ${lendersIn} that came in for them`,
    });
  }
}

/** The report as Markdown: a summary per platform, then the findings. */
export function reportMarkdown(report: AuditReport): string {
  const lines = [
    `# LoanLedger audit report`,
    "",
    `Chain ${report.chainId}, verified ${report.verifiedAt}: ${report.loans.length} loans, ${report.entries} history entries, ` +
      `${report.findings.length} finding(s). ${report.ok ? "Every history is complete and unaltered." : "**The ledger does not verify.**"}`,
    "",
    "| platform | loans | entries | repayments | findings |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...Object.entries(report.platforms).map(
      ([platform, s]) => `| ${platform} | ${s.loans} | ${s.entries} | ${s.repayments} | ${s.findings} |`,
    ),
    "",
    "## Findings",
    "",
    ...(report.findings.length
      ? report.findings.map(
          (f) =>
            `- **${f.check}** loan ${f.loanId ?? "-"}${f.entry ? `, entry ${f.entry}` : ""}` +
            `${f.blockNumber !== undefined ? ` (block ${f.blockNumber}, log ${f.logIndex})` : ""}: ${f.message}`,
        )
      : ["None."]),
    "",
    "## Loans",
    "",
    ...report.loans.map((loanId) => `- ${loanId}`),
    "",
  ];
  return lines.join("\n");
}

/** Writes audit-report.json and audit-report.md into `dir`. */
export async function writeReport(dir: string, report: AuditReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "audit-report.json"), JSON.stringify(report, null, 2) + "\n");
  await writeFile(join(dir, "audit-report.md"), reportMarkdown(report));
  return [join(dir, "audit-report.json"), join(dir, "audit-report.md")];
}
