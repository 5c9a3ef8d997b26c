/**
 * Reading the ledger for an audit, and the export an auditor archives: JSON Lines files written and read one line at a
 * time, with a manifest that names the chain, the block the ledger was read at, the contracts, the tool, and the
 * SHA-256 digest of every file.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Transform } from "node:stream";
import { toBeHex, type Interface, type Log } from "ethers";
import {
  CollateralRegistry__factory,
  LossWaterfall__factory,
  RepaymentSplitter__factory,
} from "../../typechain-types/index.js";
import { InputError, LoanLedgerError } from "../client/errors.js";
import { formatLoanId, type LoanId } from "../client/ids.js";
import { LedgerReader, type LedgerReadOptions } from "../client/ledger.js";
import { decodeEvent } from "../client/logs.js";
import { readBalances, type TokenBalances } from "./balances.js";
import {
  banksOf,
  CUSTODY_CONTRACT,
  CUSTODY_EVENTS,
  custodyTokenAt,
  readCustodyFigures,
  type CustodyFigures,
} from "./custody/ledger.js";
import { HISTORY_EVENTS, type WriterName } from "../client/history.js";
import type { LoanRegistryClient } from "../client/loans.js";
import { auditedContracts, type AuditSources } from "../client/suite.js";
import {
  byChainOrder,
  positionOfRecord,
  toJson,
  type BlockRef,
  type CheckedRecord,
  type EventRecord,
  type Json,
  type LoanRecord,
} from "../records/index.js";

/** A chain's ledger as an auditor archives it. */
export interface LedgerExport {
  chainId: string;
  /** The block every read was made at. */
  block?: BlockRef;
  /** The first block read (the suite's deployment). */
  fromBlock?: number;
  /** The suite's contracts, by name. */
  contracts?: Record<string, string>;
  loans: LoanRecord[];
  money: EventRecord[];
  assets: EventRecord[];
  members: EventRecord[];
  /** The history head of every loan at `block`: read from the chain, or taken from an export's heads.json. */
  heads: Record<string, string>;
  /** The settlement token's balance of each contract at `block` (the manifest records it). */
  balances?: TokenBalances;
  /** The custody token's supply, books and escrow at `block`, when the ledger settles in one (the manifest records it). */
  custody?: CustodyFigures;
  /**
   * The block at which this process read `heads` from a chain itself. Only reading a chain sets it (never a file), so a
   * report can say which heads were proven and which were only taken from an export.
   */
  headsProvenAt?: BlockRef;
  /** From an export on disk: its manifest (if it has one) and the SHA-256 digest of each file as read. */
  manifest?: Manifest;
  /** SHA-256 of manifest.json: the one digest that pins the whole export, for a report or an attestation to name. */
  manifestSha256?: string;
  digests?: Record<string, string>;
}

export type Progress = (done: number, total: number, what: string) => void;

function eventRecord(contract: { interface: Interface }, name: string, log: Log): EventRecord | undefined {
  const parsed = decodeEvent(contract.interface, log);
  if (!parsed) return undefined;
  return {
    contract: name,
    event: parsed.name,
    args: toJson(parsed.args) as { [key: string]: Json },
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    logIndex: log.index,
  };
}

/** How many `historyHead` calls are in flight at once. */
const HEAD_BATCH = 100;

/** Where the records read from a chain go, one at a time and in chain order within each kind. */
export interface LedgerSink {
  loan(record: LoanRecord): void | Promise<void>;
  event(kind: "money" | "assets" | "members", record: EventRecord): void | Promise<void>;
}

/** What a ledger read says about itself: the chain, the block read at, the contracts, and every loan's head there. */
export interface LedgerHeader {
  chainId: string;
  block: BlockRef;
  fromBlock: number;
  contracts: Record<string, string>;
  heads: Record<string, string>;
  headsProvenAt: BlockRef;
  /** The settlement token's balance of each contract, read at `block`. */
  balances: TokenBalances;
  /** The custody token's figures at `block`, when the ledger settles in one. */
  custody?: CustodyFigures;
}

/**
 * Reads the whole ledger from the chain as of one block (the latest by default, or `at`), handing each record to
 * `sink` as its block range arrives (so nothing but the loans' ids is held), then reads every history head at that
 * block: an export taken while the chain is in use is consistent.
 */
export async function readLedger(
  sources: AuditSources,
  sink: LedgerSink,
  fromBlock = 0,
  progress?: Progress,
  options: LedgerReadOptions & {
    at?: number | "latest";
    /** false: read no history head (a proof re-reading the records compares heads by their own means). */
    heads?: boolean;
  } = {},
): Promise<LedgerHeader> {
  const registry = sources.loans.contract;
  const provider = registry.runner?.provider;
  if (!provider) throw new LoanLedgerError("the loan registry client has no provider to read events from");
  const reader = await LedgerReader.pin(provider, { ...options, fromBlock });
  const { chainId } = await reader.call(() => provider.getNetwork());

  const named = auditedContracts(sources);
  const contracts = Object.fromEntries(named.map(([name, c]) => [name, String(c.target)]));
  const byAddress = new Map(named.map(([name, c]) => [String(c.target).toLowerCase(), { name, contract: c }]));
  const historyTopics = new Set<string>(HISTORY_EVENTS.map((name) => registry.interface.getEvent(name).topicHash));
  const ids = new Set<string>();
  const span = Math.max(1, reader.block.number - fromBlock + 1);
  // The money itself, when it is the custody bank's token: its issues and redemptions are the ledger's edge.
  const token = String(await reader.call(() => sources.splitter.TOKEN({ blockTag: reader.blockTag })));
  const custody = await reader.call(() => custodyTokenAt(provider, token));
  const custodyTopics = new Set<string>(
    custody ? CUSTODY_EVENTS.map((name) => custody.contract.interface.getEvent(name).topicHash) : [],
  );
  const banks = new Set<string>();
  if (custody) byAddress.set(token.toLowerCase(), { name: CUSTODY_CONTRACT, contract: custody.contract });

  // One pass over the suite's logs: every contract's events in the same bounded ranges, in chain order.
  await reader.eachRange({ address: [...byAddress.keys()] }, async (logs, toBlock) => {
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    for (const log of logs) {
      const source = byAddress.get(log.address.toLowerCase());
      if (!source) continue;
      if (source.name === "LoanRegistry") {
        if (!historyTopics.has(log.topics[0])) continue;
        const record = loanRecordOf(sources.loans, log);
        ids.add(record.loanId);
        await sink.loan(record);
        continue;
      }
      if (source.name === CUSTODY_CONTRACT && !custodyTopics.has(log.topics[0])) continue;
      const record = eventRecord(source.contract, source.name, log);
      if (!record) continue;
      if (source.name === CUSTODY_CONTRACT) for (const bank of banksOf(record)) banks.add(bank);
      const kind =
        source.name === "AllianceRegistry" ? "members" : source.name === "CollateralRegistry" ? "assets" : "money";
      await sink.event(kind, record);
    }
    progress?.(toBlock - fromBlock + 1, span, "blocks read");
  });

  const heads: Record<string, string> = {};
  const list = options.heads === false ? [] : [...ids];
  for (let i = 0; i < list.length; i += HEAD_BATCH) {
    const batch = list.slice(i, i + HEAD_BATCH);
    const found = await Promise.all(
      batch.map((loanId) => reader.call(() => registry.historyHead(loanId, { blockTag: reader.blockTag }))),
    );
    batch.forEach((loanId, k) => (heads[loanId] = found[k]));
    if (list.length >= 1_000) progress?.(Math.min(i + HEAD_BATCH, list.length), list.length, "history heads");
  }
  // Totals are reconciled to what each contract holds at the same block (balances.ts).
  const balances = await readBalances(provider, token, contracts, reader.blockTag, (read) => reader.call(read));
  const custodyFigures = custody
    ? await readCustodyFigures(custody, banks, reader.block.number, (read) => reader.call(read))
    : undefined;
  await reader.confirmPin();
  return {
    chainId: chainId.toString(),
    block: reader.block,
    fromBlock,
    contracts,
    heads,
    headsProvenAt: reader.block,
    balances,
    ...(custodyFigures ? { custody: custodyFigures } : {}),
  };
}

/** A registry history event as an exported loan record. */
export function loanRecordOf(loans: LoanRegistryClient, log: Log): LoanRecord {
  const entry = loans.parseHistoryLog(log);
  return {
    loanId: formatLoanId(entry.loanId),
    fact: toJson(entry.fact) as { [key: string]: Json },
    head: entry.head,
    ...(entry.terms ? { terms: toJson(entry.terms) as { [key: string]: Json } } : {}),
    blockNumber: entry.blockNumber,
    transactionHash: entry.transactionHash,
    logIndex: entry.logIndex,
  };
}

/** The history writers' interfaces, by name: what a writer's events are decoded with. */
const WRITER_INTERFACES: readonly [WriterName, Interface][] = [
  ["RepaymentSplitter", RepaymentSplitter__factory.createInterface()],
  ["LossWaterfall", LossWaterfall__factory.createInterface()],
  ["CollateralRegistry", CollateralRegistry__factory.createInterface()],
];

/** One loan's ledger, read at one block: what the verifier needs to check that loan alone. */
export interface LoanLedger {
  /** No balances: they reconcile a whole book, not one loan. */
  header: Omit<LedgerHeader, "balances">;
  /** The loan's history entries and, for each External fact, its writer's events of that transaction, in chain order. */
  records: CheckedRecord[];
  /** The writers of the loan's External facts, as their events name them. */
  writers: Partial<Record<WriterName, string>>;
}

/**
 * Reads one loan's history as of one block (the latest by default), its head there, and for every External fact the
 * events its writer emitted in that transaction: the facts a writer adds summarise those events. A writer is known by
 * the events it emits (the registry lets only the writers governance named add facts).
 */
export async function readLoanLedger(
  loans: LoanRegistryClient,
  loanId: LoanId,
  options: LedgerReadOptions & { at?: number | "latest"; fromBlock?: number } = {},
): Promise<LoanLedger> {
  const registry = loans.contract;
  const provider = registry.runner?.provider;
  if (!provider) throw new LoanLedgerError("the client's runner has no provider to read events from");
  const reader = await LedgerReader.pin(provider, options);
  const topics = HISTORY_EVENTS.map((name) => registry.interface.getEvent(name).topicHash);
  const [{ chainId }, logs, head] = await Promise.all([
    reader.call(() => provider.getNetwork()),
    reader.logs({ address: String(registry.target), topics: [topics, toBeHex(loanId, 32)] }),
    reader.call(() => registry.historyHead(loanId, { blockTag: reader.blockTag })),
  ]);
  logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  const entries = logs.map((log) => loanRecordOf(loans, log));

  // The writers' events of each External fact's transaction: one log query per writer and block.
  const wanted = new Map<string, { source: string; block: number; txs: Set<string> }>();
  for (const record of entries) {
    if (record.fact.kind !== "External") continue;
    const source = String(record.fact.source).toLowerCase();
    const key = `${source}@${record.blockNumber}`;
    const query = wanted.get(key) ?? { source, block: record.blockNumber, txs: new Set<string>() };
    query.txs.add(record.transactionHash);
    wanted.set(key, query);
  }
  const writers: Partial<Record<WriterName, string>> = {};
  const events: EventRecord[] = [];
  for (const { source, block, txs } of wanted.values()) {
    const found = await reader.logs({ address: source }, { fromBlock: block, toBlock: block });
    for (const log of found) {
      if (!txs.has(log.transactionHash)) continue;
      for (const [name, iface] of WRITER_INTERFACES) {
        const record = eventRecord({ interface: iface }, name, log);
        if (!record) continue;
        writers[name] ??= source;
        events.push(record);
        break;
      }
    }
  }
  const records: CheckedRecord[] = [
    ...entries.map((loan) => ({ loan })),
    ...events.map((event) => (event.contract === "CollateralRegistry" ? { asset: event } : { money: event })),
  ];
  records.sort((a, b) => byChainOrder(positionOfRecord(a), positionOfRecord(b)));
  await reader.confirmPin();
  const id = formatLoanId(loanId);
  return {
    header: {
      chainId: chainId.toString(),
      block: reader.block,
      fromBlock: reader.fromBlock,
      contracts: { LoanRegistry: String(registry.target), ...writers },
      heads: { [id]: head },
      headsProvenAt: reader.block,
    },
    records,
    writers,
  };
}

/** Reads the whole ledger from the chain into memory, as of one block (see {readLedger}). */
export async function collectLedger(
  sources: AuditSources,
  fromBlock = 0,
  progress?: Progress,
  options: LedgerReadOptions & { at?: number | "latest" } = {},
): Promise<LedgerExport> {
  const loans: LoanRecord[] = [];
  const events: Record<"money" | "assets" | "members", EventRecord[]> = { money: [], assets: [], members: [] };
  const header = await readLedger(
    sources,
    { loan: (record) => void loans.push(record), event: (kind, record) => void events[kind].push(record) },
    fromBlock,
    progress,
    options,
  );
  return { ...header, loans, ...events };
}

/** Reads the ledger from the chain straight into an export in `dir`, one record at a time (see {readLedger}). */
export async function exportLedger(
  sources: AuditSources,
  dir: string,
  fromBlock = 0,
  progress?: Progress,
  options: LedgerReadOptions & { at?: number | "latest" } = {},
): Promise<{ header: LedgerHeader; files: string[]; manifest: Manifest }> {
  const writer = await ExportWriter.open(dir);
  try {
    const header = await readLedger(sources, writer, fromBlock, progress, options);
    const manifest = await writer.close(header);
    return { header, files: [...Object.keys(manifest.files), MANIFEST_FILE], manifest };
  } finally {
    await writer.abandon();
  }
}

// ---------------------------------------------------------------- the export on disk

export const EXPORT_FORMAT = "loanledger-audit-export/1";
/** The export's record files, by the kind of record each holds. */
export const RECORD_FILES = {
  loans: "loans.jsonl",
  money: "money.jsonl",
  assets: "assets.jsonl",
  members: "members.jsonl",
} as const;
const FILES = RECORD_FILES;
export const HEADS_FILE = "heads.json";
export const MANIFEST_FILE = "manifest.json";

/** What an export holds and where it comes from. Its own digest is what an auditor's attestation names. */
export interface Manifest {
  format: string;
  tool: { name: string; version: string };
  chainId: string;
  block: BlockRef | null;
  fromBlock: number | null;
  contracts: Record<string, string>;
  /** The settlement token's balance of each contract at `block` (absent from exports of earlier versions). */
  balances?: TokenBalances;
  /** The custody token's figures at `block`, when the ledger settles in one. */
  custody?: CustodyFigures;
  /** Every file of the export but the manifest: its SHA-256 digest (hex), size and number of records. */
  files: Record<string, { sha256: string; bytes: number; records: number }>;
}

const tool = (() => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    name: string;
    version: string;
  };
  return { name: pkg.name, version: pkg.version };
})();

/** A JSON Lines file written one line at a time (no file is ever one string), with its digest and size. */
class LineFile {
  private readonly hash = createHash("sha256");
  private readonly out: WriteStream;
  private closed = false;
  bytes = 0;
  records = 0;

  constructor(path: string) {
    this.out = createWriteStream(path);
  }

  async write(record: unknown): Promise<void> {
    const text = JSON.stringify(record) + "\n";
    this.hash.update(text);
    this.bytes += Buffer.byteLength(text);
    this.records += 1;
    if (!this.out.write(text)) await once(this.out, "drain");
  }

  async close(): Promise<{ sha256: string; bytes: number; records: number }> {
    if (!this.closed) {
      this.closed = true;
      this.out.end();
      await once(this.out, "close");
    }
    return { sha256: this.hash.digest("hex"), bytes: this.bytes, records: this.records };
  }

  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.out.destroy();
  }
}

/** Writes an export one record at a time: the four JSON Lines files, then heads.json and the manifest. */
export class ExportWriter implements LedgerSink {
  private constructor(
    private readonly dir: string,
    private readonly files: Record<keyof typeof FILES, LineFile>,
  ) {}

  static async open(dir: string): Promise<ExportWriter> {
    await mkdir(dir, { recursive: true });
    const files = Object.fromEntries(
      (Object.entries(FILES) as [keyof typeof FILES, string][]).map(([kind, file]) => [
        kind,
        new LineFile(join(dir, file)),
      ]),
    ) as Record<keyof typeof FILES, LineFile>;
    return new ExportWriter(dir, files);
  }

  loan(record: LoanRecord): Promise<void> {
    return this.files.loans.write(record);
  }

  event(kind: "money" | "assets" | "members", record: EventRecord): Promise<void> {
    return this.files[kind].write(record);
  }

  /** Closes the files and writes heads.json and the manifest naming each file's digest. */
  async close(
    header: Omit<LedgerHeader, "headsProvenAt" | "block" | "fromBlock" | "contracts" | "balances"> &
      Partial<LedgerHeader>,
  ): Promise<Manifest> {
    const files: Manifest["files"] = {};
    for (const [kind, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
      files[file] = await this.files[kind].close();
    }
    const heads =
      JSON.stringify({ chainId: header.chainId, block: header.block ?? null, heads: header.heads }, null, 2) + "\n";
    await writeFile(join(this.dir, HEADS_FILE), heads);
    files[HEADS_FILE] = {
      sha256: createHash("sha256").update(heads).digest("hex"),
      bytes: Buffer.byteLength(heads),
      records: Object.keys(header.heads).length,
    };
    const manifest: Manifest = {
      format: EXPORT_FORMAT,
      tool,
      chainId: header.chainId,
      block: header.block ?? null,
      fromBlock: header.fromBlock ?? null,
      contracts: header.contracts ?? {},
      ...(header.balances ? { balances: header.balances } : {}),
      ...(header.custody ? { custody: header.custody } : {}),
      files,
    };
    await writeFile(join(this.dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
    return manifest;
  }

  /** Stops writing after a failure (the export is left incomplete, without a manifest). */
  async abandon(): Promise<void> {
    for (const file of Object.values(this.files)) await file.abandon();
  }
}

/** Writes a ledger held in memory as an export (see {ExportWriter}). */
export async function writeExport(dir: string, ledger: LedgerExport): Promise<string[]> {
  const writer = await ExportWriter.open(dir);
  try {
    for (const record of ledger.loans) await writer.loan(record);
    for (const kind of ["money", "assets", "members"] as const) {
      for (const record of ledger[kind]) await writer.event(kind, record);
    }
    const manifest = await writer.close(ledger);
    return [...Object.keys(manifest.files), MANIFEST_FILE];
  } finally {
    await writer.abandon();
  }
}

/**
 * The records of a JSON Lines file, read one line at a time; `digests[file]` gets the SHA-256 of its bytes once the
 * last line has been read.
 */
export async function* recordsOf<T>(dir: string, file: string, digests: Record<string, string>): AsyncGenerator<T> {
  for await (const { record } of numberedRecordsOf<T>(dir, file, digests)) yield record;
}

/** The records of a JSON Lines file as {recordsOf} reads them, each with its 1-based line number in the file. */
export async function* numberedRecordsOf<T>(
  dir: string,
  file: string,
  digests: Record<string, string> = {},
): AsyncGenerator<{ line: number; record: T }> {
  const hash = createHash("sha256");
  const input = createReadStream(join(dir, file));
  try {
    await once(input, "open");
  } catch {
    throw new InputError(`the export in ${dir} has no ${file}`);
  }
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  let n = 0;
  for await (const line of createInterface({ input: input.pipe(hashing), crlfDelay: Infinity })) {
    n += 1;
    if (line.trim() === "") continue;
    let record: T;
    try {
      record = JSON.parse(line) as T;
    } catch {
      input.destroy();
      throw new InputError(`${file} line ${n} is not JSON`);
    }
    yield { line: n, record };
  }
  digests[file] = hash.digest("hex");
}

async function readJsonFile<T>(dir: string, file: string): Promise<{ value: T; sha256: string } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, file));
  } catch {
    return undefined;
  }
  try {
    return { value: JSON.parse(bytes.toString("utf8")) as T, sha256: createHash("sha256").update(bytes).digest("hex") };
  } catch {
    throw new InputError(`${file} in ${dir} is not JSON`);
  }
}

/** An export on disk, opened: what it says about itself, and its records as streams in chain order. */
export interface OpenedExport {
  facts: Omit<LedgerExport, "loans" | "money" | "assets" | "members">;
  /** Filled in as the files are read to their end. */
  digests: Record<string, string>;
  loans(): AsyncGenerator<LoanRecord>;
  money(): AsyncGenerator<EventRecord>;
  assets(): AsyncGenerator<EventRecord>;
  members(): AsyncGenerator<EventRecord>;
}

/** Opens an export written by {writeExport}: heads.json and the manifest are read, the record files streamed. */
export async function openExport(dir: string): Promise<OpenedExport> {
  const heads = await readJsonFile<{ chainId: string; block?: BlockRef | null; heads: Record<string, string> }>(
    dir,
    HEADS_FILE,
  );
  if (!heads) throw new InputError(`the export in ${dir} has no ${HEADS_FILE}`);
  const manifest = await readJsonFile<Manifest>(dir, MANIFEST_FILE);
  const digests: Record<string, string> = { [HEADS_FILE]: heads.sha256 };
  const m = manifest?.value;
  return {
    facts: {
      chainId: String(heads.value.chainId),
      ...(m?.block ? { block: m.block } : {}),
      ...(m?.fromBlock != null ? { fromBlock: m.fromBlock } : {}),
      ...(m ? { contracts: m.contracts, manifest: m, manifestSha256: manifest.sha256 } : {}),
      ...(m?.balances ? { balances: m.balances } : {}),
      ...(m?.custody ? { custody: m.custody } : {}),
      heads: heads.value.heads ?? {},
      digests,
    },
    digests,
    loans: () => recordsOf<LoanRecord>(dir, FILES.loans, digests),
    money: () => recordsOf<EventRecord>(dir, FILES.money, digests),
    assets: () => recordsOf<EventRecord>(dir, FILES.assets, digests),
    members: () => recordsOf<EventRecord>(dir, FILES.members, digests),
  };
}

/** Reads a whole export into memory, with the digest of every file as read (checked by the verifier). */
export async function readExport(dir: string): Promise<LedgerExport> {
  const opened = await openExport(dir);
  const all = async <T>(records: AsyncGenerator<T>) => {
    const list: T[] = [];
    for await (const record of records) list.push(record);
    return list;
  };
  return {
    ...opened.facts,
    loans: await all(opened.loans()),
    money: await all(opened.money()),
    assets: await all(opened.assets()),
    members: await all(opened.members()),
  };
}
