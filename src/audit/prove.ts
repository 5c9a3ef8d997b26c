/**
 * Proof mode: an export proven against the chain file by file, record by record. The suite's contracts come from the
 * configured deployment or from the chain (never from the manifest alone), the ledger is read again at the export's
 * block from the first block of those contracts with the exporter's own reader ({readLedger}), and every record of
 * every export file is compared with the chain's as both stream past (memory does not grow with the records; per loan
 * only a count of entries is kept). The report then says, per file, whether it was proven and against what.
 */
import type { Provider } from "ethers";
import {
  AllianceRegistry__factory,
  CollateralRegistry__factory,
  CreditInsurance__factory,
  LoanRegistry__factory,
  LossWaterfall__factory,
  RepaymentSplitter__factory,
  RiskReserveFund__factory,
} from "../../typechain-types/index.js";
import type { AuditReport, CheckKind, Finding, LedgerFacts } from "./check.js";
import { CHECKS } from "./check.js";
import {
  HEADS_FILE,
  MANIFEST_FILE,
  numberedRecordsOf,
  readLedger,
  RECORD_FILES,
  type LedgerHeader,
  type Progress,
} from "./source.js";
import { InputError, LoanLedgerError } from "../client/errors.js";
import { formatLoanId, toLoanId } from "../client/ids.js";
import { isStateUnavailable, LedgerReader, type LedgerReadOptions } from "../client/ledger.js";
import { LoanRegistryClient } from "../client/loans.js";
import { auditedContracts } from "../client/suite.js";
import { SUITE_CONTRACTS, type FileStatement, type SuiteAddresses } from "./scope.js";
import {
  byChainOrder,
  type BlockRef,
  type EventRecord,
  type Json,
  type LoanRecord,
  type Position,
} from "../records/index.js";
import type { AuditSources } from "../client/suite.js";

/** The suite an export is proven against. */
export interface ProvenSuite {
  contracts: SuiteAddresses;
  source: "deployment" | "chain";
  /** The first block of the suite's contracts on chain (0 when the node keeps no state to find it). */
  firstBlock: number;
  firstBlockSource: "chain" | "genesis";
  /** Findings about the manifest's list of contracts. */
  findings: Finding[];
}

/** `setSystemPowers` bits (ILoanRegistry): the splitter is the registry's one funding delegate. */
const POWER_FUNDING_DELEGATE = 1n;

/** How many differences of one file are named one by one; the rest are counted. */
const NAMED_DIFFERENCES = 200;

const same = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** The contracts of `sources`, by the names an export gives them. */
export function suiteAddressesOf(sources: AuditSources): SuiteAddresses {
  return Object.fromEntries(
    auditedContracts(sources).map(([name, contract]) => [name, String(contract.target)]),
  ) as SuiteAddresses;
}

/** Clients of the contracts at `at`, reading through `provider`. */
function sourcesAt(at: SuiteAddresses, provider: Provider): AuditSources {
  return {
    loans: new LoanRegistryClient(at.LoanRegistry, provider),
    alliance: AllianceRegistry__factory.connect(at.AllianceRegistry, provider),
    splitter: RepaymentSplitter__factory.connect(at.RepaymentSplitter, provider),
    collateral: CollateralRegistry__factory.connect(at.CollateralRegistry, provider),
    insurance: CreditInsurance__factory.connect(at.CreditInsurance, provider),
    reserve: RiskReserveFund__factory.connect(at.RiskReserveFund, provider),
    waterfall: LossWaterfall__factory.connect(at.LossWaterfall, provider),
  };
}

/**
 * The block `address`'s code was created in, at or before the reader's block: a binary search over `getCode` (about
 * log2(blocks) calls). Undefined when the node keeps no state that old.
 */
async function creationBlock(reader: LedgerReader, address: string): Promise<number | undefined> {
  const hasCode = async (block: number) => (await reader.call(() => reader.provider.getCode(address, block))) !== "0x";
  try {
    if (!(await hasCode(reader.block.number))) {
      throw new InputError(`there is no contract at ${address} at block ${reader.block.number}`);
    }
    // Invariant: no code at `low` (or before the chain), code at `high`.
    let low = -1;
    let high = reader.block.number;
    while (high - low > 1) {
      const mid = low + Math.floor((high - low) / 2);
      if (await hasCode(mid)) high = mid;
      else low = mid;
    }
    return high;
  } catch (error) {
    if (isStateUnavailable(error)) return undefined;
    throw error;
  }
}

/**
 * The suite as the chain names it at the reader's block, from its loan registry: the alliance registry the registry
 * was built on, the splitter (the registry's one funding delegate), and the collateral registry, loss waterfall,
 * reserve and insurance the splitter was wired to (each set once, by an event).
 */
async function suiteOnChain(reader: LedgerReader, registryAddress: string, from: number): Promise<SuiteAddresses> {
  const provider = reader.provider;
  const registry = LoanRegistry__factory.connect(registryAddress, provider);
  let alliance: string;
  try {
    alliance = await reader.call(() => registry.ALLIANCE({ blockTag: reader.blockTag }));
  } catch (error) {
    // An immutable: the latest state says what the block's did.
    if (!isStateUnavailable(error)) throw error;
    alliance = await reader.call(() => registry.ALLIANCE());
  }
  const powers = new Map<string, bigint>();
  const powersSet = registry.interface.getEvent("SystemPowersSet");
  for (const log of await reader.logs(
    { address: registryAddress, topics: [powersSet.topicHash] },
    { fromBlock: from },
  )) {
    const parsed = registry.interface.parseLog(log)!;
    powers.set(String(parsed.args.account), BigInt(parsed.args.powers));
  }
  const delegates = [...powers].filter(([, p]) => (p & POWER_FUNDING_DELEGATE) !== 0n).map(([account]) => account);
  const suites: Record<string, string>[] = [];
  for (const candidate of delegates) {
    const wired = await wiringOf(reader, registryAddress, candidate, from);
    if (wired) suites.push({ RepaymentSplitter: candidate, ...wired });
  }
  if (suites.length !== 1) {
    throw new LoanLedgerError(
      `at block ${reader.block.number} the loan registry ${registryAddress} has ${suites.length} splitters wired to a ` +
        `loss waterfall and a collateral registry among its funding delegates (${delegates.join(", ") || "none"}), ` +
        "not one: set the deployment's addresses to prove this export",
    );
  }
  const suite = suites[0];
  return {
    AllianceRegistry: String(alliance),
    LoanRegistry: registryAddress,
    RepaymentSplitter: suite.RepaymentSplitter,
    CollateralRegistry: suite.CollateralSet,
    CreditInsurance: suite.InsuranceSet,
    RiskReserveFund: suite.ReserveSet,
    LossWaterfall: suite.WaterfallSet,
  };
}

/**
 * What `candidate`, a funding delegate of the registry, was wired to if it is a splitter (each address set once, by an
 * event): undefined unless the loss waterfall and the collateral registry it names were built on it in turn.
 */
async function wiringOf(
  reader: LedgerReader,
  registry: string,
  candidate: string,
  from: number,
): Promise<Record<string, string> | undefined> {
  const splitter = RepaymentSplitter__factory.connect(candidate, reader.provider);
  const wired: Record<string, string> = {};
  const names = ["CollateralSet", "WaterfallSet", "ReserveSet", "InsuranceSet"] as const;
  const topics = names.map((name) => splitter.interface.getEvent(name).topicHash);
  for (const log of await reader.logs({ address: candidate, topics: [topics] }, { fromBlock: from })) {
    const parsed = splitter.interface.parseLog(log);
    if (parsed) wired[parsed.name] = String(parsed.args[0]);
  }
  if (names.some((name) => !wired[name])) return undefined;
  const builtOn = async (read: () => Promise<string>, on = candidate) => {
    try {
      return same(await reader.call(read), on);
    } catch {
      return false;
    }
  };
  const waterfall = LossWaterfall__factory.connect(wired.WaterfallSet, reader.provider);
  const collateral = CollateralRegistry__factory.connect(wired.CollateralSet, reader.provider);
  // Immutables: the latest state answers for every block.
  const mutual =
    (await builtOn(() => splitter.LOANS(), registry)) &&
    (await builtOn(() => waterfall.SPLITTER())) &&
    (await builtOn(() => collateral.SPLITTER()));
  return mutual ? wired : undefined;
}

/**
 * The suite an export is to be proven against, at its block: the configured `deployment` when there is one (a manifest
 * naming any other contract is refused: it is another suite's export), or else the suite the chain names from the
 * manifest's loan registry. Every contract the manifest leaves out or names otherwise is a finding, and the first block
 * is the one the chain says the suite's first contract was created in.
 */
export async function suiteToProve(
  facts: Pick<LedgerFacts, "block" | "contracts">,
  provider: Provider,
  options: LedgerReadOptions & { deployment?: SuiteAddresses } = {},
): Promise<ProvenSuite> {
  const block = facts.block;
  if (!block) throw new InputError("the export's manifest does not name its block, so it cannot be proven");
  const manifest = facts.contracts ?? {};
  const reader = await LedgerReader.pin(provider, { ...options, at: block.number });
  let contracts: SuiteAddresses;
  const { deployment } = options;
  if (deployment) {
    const other = SUITE_CONTRACTS.filter((name) => manifest[name] && !same(manifest[name], deployment[name]));
    if (other.length) {
      throw new InputError(
        `the export's manifest names ${other.map((name) => `${name} ${manifest[name]}`).join(", ")}, but the ` +
          `deployment this auditor is set up for has ${other.map((name) => deployment[name]).join(", ")}: it is ` +
          "another suite's export (set the LOANLEDGER_* addresses of that deployment to verify it)",
      );
    }
    contracts = deployment;
  } else {
    const registry = manifest.LoanRegistry;
    if (!registry) {
      throw new InputError(
        "the export's manifest names no loan registry and no deployment is set: it cannot be proven",
      );
    }
    const created = await creationBlock(reader, registry);
    contracts = await suiteOnChain(reader, registry, created ?? 0);
  }
  const created = await Promise.all(SUITE_CONTRACTS.map((name) => creationBlock(reader, contracts[name])));
  const known = created.filter((b): b is number => b !== undefined);
  const whole = known.length === created.length;
  const whose = deployment ? "the configured deployment's" : "the chain's";
  const findings: Finding[] = [];
  for (const name of SUITE_CONTRACTS) {
    if (!manifest[name]) {
      findings.push({
        check: "manifest",
        file: MANIFEST_FILE,
        message: `the manifest names no ${name} (${whose} is ${contracts[name]}): an export leaves none of the suite's contracts out`,
      });
    } else if (!same(manifest[name], contracts[name])) {
      findings.push({
        check: "manifest",
        file: MANIFEST_FILE,
        message: `the manifest names ${manifest[name]} as ${name}, but ${whose} ${name} is ${contracts[name]}`,
      });
    }
  }
  return {
    contracts,
    source: deployment ? "deployment" : "chain",
    firstBlock: whole ? Math.min(...known) : 0,
    firstBlockSource: whole ? "chain" : "genesis",
    findings,
  };
}

/** The paths where two JSON values differ (at most `limit`), each with both values. */
function differences(mine: Json | undefined, theirs: Json | undefined, path = "", limit = 4): string[] {
  if (JSON.stringify(mine) === JSON.stringify(theirs)) return [];
  const isObject = (v: Json | undefined): v is { [key: string]: Json } | Json[] => v !== null && typeof v === "object";
  if (isObject(mine) && isObject(theirs) && Array.isArray(mine) === Array.isArray(theirs)) {
    const keys = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])];
    const found: string[] = [];
    for (const key of keys) {
      const at = path ? `${path}.${key}` : key;
      const a = (mine as Record<string, Json>)[key];
      const b = (theirs as Record<string, Json>)[key];
      found.push(...differences(a, b, at, limit - found.length));
      if (found.length >= limit) break;
    }
    if (found.length) return found;
  }
  const show = (v: Json | undefined) => (v === undefined ? "absent" : JSON.stringify(v));
  return [`${path || "the record"} is ${show(mine)} in the export, ${show(theirs)} on chain`];
}

type Kind = keyof typeof RECORD_FILES;
type AnyRecord = LoanRecord | EventRecord;

/** The loan a record is about, when it names one. */
function loanIdOf(kind: Kind, record: AnyRecord): string | undefined {
  try {
    if (kind === "loans") return formatLoanId(toLoanId(String((record as LoanRecord).loanId)));
    const raw = (record as EventRecord).args?.loanId;
    return raw === undefined ? undefined : formatLoanId(toLoanId(String(raw)));
  } catch {
    return undefined;
  }
}

const nameOf = (kind: Kind, record: AnyRecord) =>
  kind === "loans"
    ? `${String((record as LoanRecord).fact?.kind)} entry`
    : `${String((record as EventRecord).contract)} ${String((record as EventRecord).event)}`;

const at = (record: Position) => `block ${record.blockNumber}, log ${record.logIndex}`;

/** A position that orders: a forged record may carry anything where its block and log should be. */
function positionOf(record: AnyRecord): Position | undefined {
  const blockNumber = Number(record?.blockNumber);
  const logIndex = Number(record?.logIndex);
  if (!Number.isSafeInteger(blockNumber) || !Number.isSafeInteger(logIndex)) return undefined;
  return { blockNumber, logIndex, transactionHash: String(record.transactionHash) };
}

/** One export file read alongside the chain's records of its kind, both in chain order. */
class FileComparison {
  records = 0;
  differences = 0;
  private pending?: { line: number; record: AnyRecord };
  private done = false;

  constructor(
    readonly kind: Kind,
    private readonly lines: AsyncGenerator<{ line: number; record: AnyRecord }>,
    private readonly report: (finding: Omit<Finding, "check" | "file">) => void,
    private readonly wanted: (loanId: string | undefined) => boolean,
  ) {}

  private get file(): string {
    return RECORD_FILES[this.kind];
  }

  private async peek(): Promise<{ line: number; record: AnyRecord } | undefined> {
    if (!this.pending && !this.done) {
      const next = await this.lines.next();
      if (next.done) this.done = true;
      else {
        this.pending = next.value;
        this.records += 1;
      }
    }
    return this.pending;
  }

  private differ(loanId: string | undefined, finding: Omit<Finding, "check" | "file" | "loanId">): void {
    if (!this.wanted(loanId)) return;
    this.differences += 1;
    if (this.differences <= NAMED_DIFFERENCES) this.report({ ...(loanId ? { loanId } : {}), ...finding });
  }

  /** An export record the chain does not hold where the record says it is. */
  private extra(line: number, record: AnyRecord): void {
    const position = positionOf(record);
    this.differ(loanIdOf(this.kind, record), {
      line,
      ...(position ? { blockNumber: position.blockNumber, logIndex: position.logIndex } : {}),
      message:
        `${this.file} line ${line} (${nameOf(this.kind, record)}` +
        `${position ? `, ${at(position)}` : ""}) is not on chain: the chain holds no such record there`,
    });
  }

  /** Meets the chain's next record of this file's kind: the export's must be the same, at the same place. */
  async meet(chain: AnyRecord, entry: number | undefined): Promise<void> {
    for (;;) {
      const next = await this.peek();
      const position = next && positionOf(next.record);
      if (next && (!position || byChainOrder(position, chain) < 0)) {
        this.extra(next.line, next.record);
        this.pending = undefined;
        continue;
      }
      const loanId = loanIdOf(this.kind, chain);
      const where = {
        blockNumber: chain.blockNumber,
        transactionHash: chain.transactionHash,
        logIndex: chain.logIndex,
      };
      if (!next || byChainOrder(position!, chain) > 0) {
        this.differ(loanId, {
          ...(entry ? { entry } : {}),
          ...where,
          message:
            `${this.file} leaves out the chain's ${nameOf(this.kind, chain)} of ${at(chain)}` +
            (entry ? ` (entry ${entry} of the loan's history)` : ""),
        });
        return;
      }
      this.pending = undefined;
      const found = differences(next.record as unknown as Json, chain as unknown as Json);
      if (found.length) {
        this.differ(loanId, {
          line: next.line,
          ...(entry ? { entry } : {}),
          ...where,
          message: `${this.file} line ${next.line} (${nameOf(this.kind, chain)}, ${at(chain)}) is not the chain's: ${found.join("; ")}`,
        });
      }
      return;
    }
  }

  /** Stops reading the file (after a failure). */
  async close(): Promise<void> {
    await this.lines.return(undefined);
  }

  /** The export's records after the chain's last one. */
  async finish(): Promise<void> {
    for (let next = await this.peek(); next; next = await this.peek()) {
      this.extra(next.line, next.record);
      this.pending = undefined;
    }
    if (this.differences > NAMED_DIFFERENCES) {
      this.report({ message: `${this.file}: ${this.differences - NAMED_DIFFERENCES} more differences not listed` });
    }
  }
}

/** What proving the files found, and what the report then says of each. */
export interface FilesProof {
  block: BlockRef;
  fromBlock: number;
  findings: Finding[];
  files: Record<Kind, { records: number; differences: number }>;
  heads: { records: number; differences: number };
}

/**
 * Reads the suite's records again at the export's block, from the suite's first block, with the exporter's reader, and
 * compares each export file with them record by record as both stream: every record that differs, is not on chain, or
 * is left out is a finding naming the file, its line, the loan and the entry.
 */
export async function proveFiles(
  dir: string,
  facts: Pick<LedgerFacts, "block" | "heads">,
  suite: ProvenSuite,
  provider: Provider,
  options: LedgerReadOptions & { loanId?: string; progress?: Progress } = {},
): Promise<FilesProof> {
  const block = facts.block;
  if (!block) throw new InputError("the export's manifest does not name its block, so it cannot be proven");
  const findings: Finding[] = [];
  const wanted = (loanId: string | undefined) => !options.loanId || !loanId || loanId === options.loanId;
  const compare = (kind: Kind) =>
    new FileComparison(
      kind,
      numberedRecordsOf<AnyRecord>(dir, RECORD_FILES[kind]),
      (finding) => findings.push({ check: "proof", file: RECORD_FILES[kind], ...finding }),
      wanted,
    );
  const files = {
    loans: compare("loans"),
    money: compare("money"),
    assets: compare("assets"),
    members: compare("members"),
  };
  /** Per loan: its entries on chain so far, and the head of the last one. */
  const loans = new Map<string, { entries: number; head: string }>();
  let header: LedgerHeader;
  try {
    header = await readLedger(
      sourcesAt(suite.contracts, provider),
      {
        loan: (record) => {
          const entry = (loans.get(record.loanId)?.entries ?? 0) + 1;
          loans.set(record.loanId, { entries: entry, head: record.head });
          return files.loans.meet(record, entry);
        },
        event: (kind, record) => files[kind].meet(record, undefined),
      },
      suite.firstBlock,
      options.progress,
      { ...options, at: block.number, heads: false },
    );
  } catch (error) {
    // No export file is left open.
    await Promise.all(Object.values(files).map((file) => file.close()));
    throw error;
  }
  for (const file of Object.values(files)) await file.finish();
  const heads = compareHeads(facts.heads, loans, wanted);
  findings.push(...heads.findings);
  return {
    block: header.block,
    fromBlock: suite.firstBlock,
    findings,
    files: Object.fromEntries(
      Object.entries(files).map(([kind, file]) => [kind, { records: file.records, differences: file.differences }]),
    ) as FilesProof["files"],
    heads: { records: Object.keys(facts.heads).length, differences: heads.findings.length },
  };
}

/**
 * heads.json against the chain: each loan's head is its last history event's up to the block (so this holds on a node
 * that keeps no old state too), and the file names every loan the chain has, and no other.
 */
function compareHeads(
  stated: Record<string, string>,
  chain: ReadonlyMap<string, { entries: number; head: string }>,
  wanted: (loanId: string) => boolean,
): { findings: Finding[] } {
  const findings: Finding[] = [];
  const differ = (loanId: string, message: string) => {
    if (wanted(loanId)) findings.push({ check: "proof", file: HEADS_FILE, loanId, message });
  };
  for (const [loanId, { entries, head }] of chain) {
    const mine = stated[loanId];
    if (mine === undefined) differ(loanId, `${HEADS_FILE} leaves out the loan, whose head on chain is ${head}`);
    else if (!same(mine, head)) {
      differ(loanId, `${HEADS_FILE} gives the head ${mine}, but the chain's, after its ${entries} entries, is ${head}`);
    }
  }
  for (const loanId of Object.keys(stated)) {
    if (!chain.has(loanId)) differ(loanId, `${HEADS_FILE} names a loan that has no history on chain`);
  }
  return { findings };
}

const HEADS_NOT_PROVEN = "taken from the export: no chain vouches for them";
const NO_NODE = "no node was given to prove the export against (audit verify --from-export <dir> --rpc <url>)";
/** Why the records of an export whose heads alone were proven ({proveExport}) are not proven. */
export const PROOF_OF_HEADS_ONLY =
  "only the heads and the lenders' positions were compared with the chain, not the records (verifyExport with a " +
  "provider compares them)";

/**
 * Completes a report of an export proven against the chain (see {suiteToProve}, {proveFiles}): its scope from the
 * suite's first block, each file's statement, and the differences found, before the checker's findings.
 */
export function stateProven(report: AuditReport, suite: ProvenSuite, proof: FilesProof): AuditReport {
  const provenAt = proof.block;
  report.scope = {
    block: report.block,
    fromBlock: proof.fromBlock,
    fromBlockSource: suite.firstBlockSource,
    contracts: suite.contracts,
    contractsSource: suite.source,
  };
  const from =
    suite.firstBlockSource === "chain"
      ? `from block ${proof.fromBlock}, where the suite's first contract was created`
      : "from block 0 (the node keeps no state to find the suite's creation)";
  report.files = [
    ...(Object.keys(RECORD_FILES) as Kind[]).map((kind) => {
      const { records, differences } = proof.files[kind];
      return {
        file: RECORD_FILES[kind],
        source: "chain" as const,
        provenAt,
        fromBlock: proof.fromBlock,
        records,
        differences,
        how:
          `every record compared with the chain's, read again at block ${provenAt.number} ${from}: ` +
          (differences ? `${differences} difference(s)` : "all the chain's, none left out"),
      };
    }),
    {
      ...headsStatement(report),
      source: "chain",
      provenAt,
      fromBlock: proof.fromBlock,
      differences: proof.heads.differences,
      how:
        `every loan's head compared with the last history event of the loan on chain up to block ${provenAt.number}` +
        (report.heads.provenAt ? `, and with the registry's own head there` : ""),
    },
    {
      file: MANIFEST_FILE,
      source: "chain",
      provenAt,
      fromBlock: proof.fromBlock,
      records: SUITE_CONTRACTS.length,
      differences: suite.findings.length,
      how:
        `its contracts compared with ${suite.source === "deployment" ? "the configured deployment's" : "those the chain names from its loan registry"}` +
        `, its block with the node's block ${provenAt.number}, its digests with the files`,
    },
  ];
  report.checks.proof = CHECKS.proof;
  delete report.notRun.proof;
  report.findings.unshift(...suite.findings, ...proof.findings);
  report.ok = report.findings.length === 0;
  return report;
}

/** heads.json: proven when the chain's heads at the block were compared with it. */
function headsStatement(report: AuditReport): FileStatement {
  const { heads } = report;
  return {
    file: HEADS_FILE,
    source: heads.source,
    provenAt: heads.provenAt,
    fromBlock: null,
    records: heads.proven.length + heads.exportOnly.length,
    differences: report.findings.filter((f) => f.check === "history" && f.message.includes("the export gives the head"))
      .length,
    how: heads.provenAt
      ? `each loan's head compared with the chain's at block ${heads.provenAt.number}` +
        (heads.method === "events" ? " (from its history events: the node keeps no state that old)" : "")
      : HEADS_NOT_PROVEN,
  };
}

/**
 * Completes a report of an export verified without a chain: every file is taken from the export, the scope's first block
 * and contracts are the manifest's, and a manifest that leaves out a suite contract is a finding.
 */
export function stateUnproven(
  report: AuditReport,
  facts: Pick<LedgerFacts, "contracts" | "block"> & { fromBlock?: number; manifest?: { files?: object } },
  notProvenBecause = NO_NODE,
): AuditReport {
  const manifest = facts.contracts ?? {};
  report.scope = {
    block: report.block,
    fromBlock: facts.fromBlock ?? null,
    fromBlockSource: "export",
    contracts: manifest,
    contractsSource: "export",
  };
  const counts = (facts.manifest?.files ?? {}) as Record<string, { records?: number }>;
  report.files = [
    ...Object.values(RECORD_FILES).map((file) => ({
      file,
      source: "export" as const,
      provenAt: null,
      fromBlock: facts.fromBlock ?? null,
      records: Number(counts[file]?.records ?? 0),
      differences: 0,
      how: "taken from the export: checked for consistency only, not against a chain",
    })),
    headsStatement(report),
  ];
  report.notRun.proof = notProvenBecause;
  // Without a manifest at all, the checker's one finding says so.
  const missing = facts.contracts ? SUITE_CONTRACTS.filter((name) => !manifest[name]) : [];
  report.findings.unshift(
    ...missing.map((name) => ({
      check: "manifest" as CheckKind,
      file: MANIFEST_FILE,
      message: `the manifest names no ${name}: an export leaves none of the suite's contracts out`,
    })),
  );
  report.ok = report.findings.length === 0;
  return report;
}

/** Completes a report of a ledger read from the chain itself: its scope is what was read. */
export function stateRead(
  report: AuditReport,
  header: Partial<Pick<LedgerHeader, "fromBlock" | "contracts">>,
): AuditReport {
  report.scope = {
    block: report.block,
    fromBlock: header.fromBlock ?? 0,
    fromBlockSource: "setting",
    contracts: header.contracts ?? {},
    contractsSource: "deployment",
  };
  return report;
}

/** The report's files as table rows: file, proven or not (and how), records, differences. */
export function fileRows(report: AuditReport): string[][] {
  return (report.files ?? []).map((f) => [
    f.file,
    f.source === "chain"
      ? `proven at block ${f.provenAt?.number}${f.fromBlock !== null ? ` from block ${f.fromBlock}` : ""}`
      : "from the export only",
    String(f.records),
    String(f.differences),
    f.how,
  ]);
}

/** The scope, then one sentence per export file on whether the chain vouched for it, for a person to read. */
export function filesSentences(report: AuditReport): string[] {
  const scope = report.scope;
  const lines: string[] = [];
  if (scope) {
    lines.push(
      `Scope: as of block ${scope.block ? `${scope.block.number}` : "(not stated)"}, from block ` +
        `${scope.fromBlock ?? "(not stated)"} (${
          {
            chain: "the suite's creation, found on the chain",
            genesis: "the chain's first block: the node keeps no state to find the suite's creation",
            setting: "the reader's configured first block",
            export: "the export's own word, not proven",
          }[scope.fromBlockSource]
        }); contracts ${
          {
            deployment: "of the configured deployment",
            chain: "as the chain names them",
            export: "as the export names them, not proven",
          }[scope.contractsSource]
        }.`,
    );
  }
  for (const f of report.files ?? []) {
    lines.push(
      `${f.file}: ${f.source === "chain" ? `proven against the chain at block ${f.provenAt?.number}` : "from the export only"} (${f.records} record(s)): ${f.how}.`,
    );
  }
  return lines;
}
