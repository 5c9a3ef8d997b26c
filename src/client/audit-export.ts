/**
 * Reading the ledger for an audit, and the export an auditor archives: JSON Lines files written and read one line at a
 * time, with a manifest that names the chain, the block the ledger was read at, the contracts, the tool, and the
 * SHA-256 digest of every file.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Transform } from "node:stream";
import type { Contract, Interface, Log } from "ethers";
import type {
  AllianceRegistry,
  CollateralRegistry,
  CreditInsurance,
  LossWaterfall,
  RepaymentSplitter,
  RiskReserveFund,
} from "../../typechain-types/index.js";
import { InputError, LoanLedgerError } from "./errors.js";
import { formatLoanId } from "./ids.js";
import { LedgerReader, type LedgerReadOptions } from "./ledger.js";
import { HISTORY_EVENTS, type LoanRegistryClient } from "./loans.js";

/** A JSON value: what the export files hold (amounts as decimal strings). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Where an event sits on chain. */
export interface Position {
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

/** A block as the export names it. */
export interface BlockRef {
  number: number;
  hash: string;
  /** Seconds since the epoch. */
  timestamp?: number;
}

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
  /**
   * The block at which this process read `heads` from a chain itself. Only reading a chain sets it (never a file), so a
   * report can say which heads were proven and which were only taken from an export.
   */
  headsProvenAt?: BlockRef;
  /** From an export on disk: its manifest (if it has one) and the SHA-256 digest of each file as read. */
  manifest?: Manifest;
  digests?: Record<string, string>;
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

function toJson(value: unknown): Json {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value as Json;
}

function eventRecord(contract: { interface: Interface }, name: string, log: Log): EventRecord | undefined {
  const parsed = contract.interface.parseLog(log);
  if (!parsed) return undefined;
  return {
    contract: name,
    event: parsed.name,
    args: toJson(parsed.args.toObject(true)) as { [key: string]: Json },
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    logIndex: log.index,
  };
}

export const byChainOrder = (a: Position, b: Position) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;

/** How many `historyHead` calls are in flight at once. */
const HEAD_BATCH = 100;

/**
 * Reads the whole ledger from the chain, in chain order, as of one block (the latest by default, or `at`): every log
 * up to that block in bounded ranges, and every history head at that block, so an export taken while the chain is in
 * use is consistent.
 */
export async function collectLedger(
  sources: AuditSources,
  fromBlock = 0,
  progress?: Progress,
  options: LedgerReadOptions & { at?: number | "latest" } = {},
): Promise<LedgerExport> {
  const registry = sources.loans.contract;
  const provider = registry.runner?.provider;
  if (!provider) throw new LoanLedgerError("the loan registry client has no provider to read events from");
  const reader = await LedgerReader.pin(provider, { ...options, fromBlock });
  const { chainId } = await reader.call(() => provider.getNetwork());

  const named: [string, { target: Contract["target"]; interface: Interface }][] = [
    ["AllianceRegistry", sources.alliance],
    ["LoanRegistry", registry],
    ["RepaymentSplitter", sources.splitter],
    ["CollateralRegistry", sources.collateral],
    ["CreditInsurance", sources.insurance],
    ["RiskReserveFund", sources.reserve],
    ["LossWaterfall", sources.waterfall],
  ];
  const contracts = Object.fromEntries(named.map(([name, c]) => [name, String(c.target)]));
  const byAddress = new Map(named.map(([name, c]) => [String(c.target).toLowerCase(), { name, contract: c }]));
  // One pass over the suite's logs: every contract's events in the same bounded ranges.
  const logs = await reader.logs({ address: [...byAddress.keys()] });
  progress?.(1, 3, "events");

  const historyTopics = new Set<string>(HISTORY_EVENTS.map((name) => registry.interface.getEvent(name).topicHash));
  const loans: LoanRecord[] = [];
  const money: EventRecord[] = [];
  const assets: EventRecord[] = [];
  const members: EventRecord[] = [];
  for (const log of logs) {
    const source = byAddress.get(log.address.toLowerCase());
    if (!source) continue;
    if (source.name === "LoanRegistry") {
      if (!historyTopics.has(log.topics[0])) continue;
      const entry = sources.loans.parseHistoryLog(log);
      loans.push({
        loanId: formatLoanId(entry.loanId),
        fact: toJson(entry.fact) as { [key: string]: Json },
        head: entry.head,
        ...(entry.terms ? { terms: toJson(entry.terms) as { [key: string]: Json } } : {}),
        blockNumber: entry.blockNumber,
        transactionHash: entry.transactionHash,
        logIndex: entry.logIndex,
      });
      continue;
    }
    const record = eventRecord(source.contract, source.name, log);
    if (!record) continue;
    if (source.name === "AllianceRegistry") members.push(record);
    else if (source.name === "CollateralRegistry") assets.push(record);
    else money.push(record);
  }
  for (const list of [loans, money, assets, members]) list.sort(byChainOrder);
  progress?.(2, 3, "records");

  const heads: Record<string, string> = {};
  const ids = [...new Set(loans.map((r) => r.loanId))];
  for (let i = 0; i < ids.length; i += HEAD_BATCH) {
    const batch = ids.slice(i, i + HEAD_BATCH);
    const found = await Promise.all(
      batch.map((loanId) => reader.call(() => registry.historyHead(loanId, { blockTag: reader.blockTag }))),
    );
    batch.forEach((loanId, k) => (heads[loanId] = found[k]));
  }
  await reader.confirmPin();
  progress?.(3, 3, "history heads");
  return {
    chainId: chainId.toString(),
    block: reader.block,
    fromBlock,
    contracts,
    loans,
    money,
    assets,
    members,
    heads,
    headsProvenAt: reader.block,
  };
}

// ---------------------------------------------------------------- the export on disk

export const EXPORT_FORMAT = "loanledger-audit-export/1";
const FILES = { loans: "loans.jsonl", money: "money.jsonl", assets: "assets.jsonl", members: "members.jsonl" } as const;
const HEADS_FILE = "heads.json";
export const MANIFEST_FILE = "manifest.json";

/** What an export holds and where it comes from. Its own digest is what an auditor's attestation names. */
export interface Manifest {
  format: string;
  tool: { name: string; version: string };
  chainId: string;
  block: BlockRef | null;
  fromBlock: number | null;
  contracts: Record<string, string>;
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

/** Writes `lines` to `path` one at a time (no file is ever one string), returning its digest and size. */
async function writeLines(
  path: string,
  lines: Iterable<string>,
): Promise<{ sha256: string; bytes: number; records: number }> {
  const hash = createHash("sha256");
  const out = createWriteStream(path);
  let bytes = 0;
  let records = 0;
  try {
    for (const line of lines) {
      const text = line + "\n";
      hash.update(text);
      bytes += Buffer.byteLength(text);
      records += 1;
      if (!out.write(text)) await once(out, "drain");
    }
  } finally {
    out.end();
    await once(out, "close");
  }
  return { sha256: hash.digest("hex"), bytes, records };
}

function* jsonLines(records: readonly unknown[]): Generator<string> {
  for (const record of records) yield JSON.stringify(record);
}

/** Writes the ledger as JSON Lines, one file per kind, heads.json, and the manifest with every file's digest. */
export async function writeExport(dir: string, ledger: LedgerExport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: Manifest["files"] = {};
  for (const [kind, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    files[file] = await writeLines(join(dir, file), jsonLines(ledger[kind]));
  }
  const heads = JSON.stringify({ chainId: ledger.chainId, block: ledger.block ?? null, heads: ledger.heads }, null, 2);
  await writeFile(join(dir, HEADS_FILE), heads + "\n");
  files[HEADS_FILE] = {
    sha256: createHash("sha256")
      .update(heads + "\n")
      .digest("hex"),
    bytes: Buffer.byteLength(heads + "\n"),
    records: Object.keys(ledger.heads).length,
  };
  const manifest: Manifest = {
    format: EXPORT_FORMAT,
    tool,
    chainId: ledger.chainId,
    block: ledger.block ?? null,
    fromBlock: ledger.fromBlock ?? null,
    contracts: ledger.contracts ?? {},
    files,
  };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
  return [...Object.keys(files), MANIFEST_FILE];
}

/** Reads a JSON Lines file one line at a time, returning its records and the SHA-256 digest of its bytes. */
async function readLines<T>(dir: string, file: string): Promise<{ records: T[]; sha256: string }> {
  const hash = createHash("sha256");
  const input = createReadStream(join(dir, file));
  const opened = once(input, "open").catch(() => {
    throw new InputError(`the export in ${dir} has no ${file}`);
  });
  await opened;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const records: T[] = [];
  let n = 0;
  for await (const line of createInterface({ input: input.pipe(hashing), crlfDelay: Infinity })) {
    n += 1;
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      throw new InputError(`${file} line ${n} is not JSON`);
    }
  }
  return { records, sha256: hash.digest("hex") };
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

/** Reads an export written by {writeExport}, with the digest of every file as read (checked by the verifier). */
export async function readExport(dir: string): Promise<LedgerExport> {
  const heads = await readJsonFile<{ chainId: string; block?: BlockRef | null; heads: Record<string, string> }>(
    dir,
    HEADS_FILE,
  );
  if (!heads) throw new InputError(`the export in ${dir} has no ${HEADS_FILE}`);
  const manifest = await readJsonFile<Manifest>(dir, MANIFEST_FILE);
  const digests: Record<string, string> = { [HEADS_FILE]: heads.sha256 };
  const read = async <T>(file: string): Promise<T[]> => {
    const { records, sha256 } = await readLines<T>(dir, file);
    digests[file] = sha256;
    return records;
  };
  const loans = await read<LoanRecord>(FILES.loans);
  const money = await read<EventRecord>(FILES.money);
  const assets = await read<EventRecord>(FILES.assets);
  const members = await read<EventRecord>(FILES.members);
  return {
    chainId: String(heads.value.chainId),
    ...(manifest?.value.block ? { block: manifest.value.block } : {}),
    ...(manifest?.value.fromBlock != null ? { fromBlock: manifest.value.fromBlock } : {}),
    ...(manifest ? { contracts: manifest.value.contracts, manifest: manifest.value } : {}),
    loans,
    money,
    assets,
    members,
    heads: heads.value.heads,
    digests,
  };
}

/** SHA-256 of the manifest file: the one digest that pins the whole export, for a report or an attestation. */
export async function manifestDigest(dir: string): Promise<string | undefined> {
  return (await readJsonFile<Manifest>(dir, MANIFEST_FILE))?.sha256;
}
