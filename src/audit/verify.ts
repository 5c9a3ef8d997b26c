/**
 * The auditor's verification: reading the ledger (source.ts, over the ledger reader), checking it (check.ts,
 * pure) and reporting it (report.ts). This module joins them where a check needs files or a chain.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { dataSlice, getAddress, keccak256, ZeroHash, type Provider } from "ethers";
import {
  LoanRegistry__factory,
  RepaymentSplitter__factory,
  type LoanRegistry,
  type RepaymentSplitter,
} from "../../typechain-types/index.js";
import {
  checkLedger,
  checkRecord,
  LedgerChecker,
  writersOf,
  type AuditReport,
  type ChainProof,
  type CheckedEntry,
  type Finding,
} from "./check.js";
import {
  openExport,
  readLedger,
  readLoanLedger,
  type LedgerExport,
  type LedgerHeader,
  type Progress,
} from "./source.js";
import { PROOF_OF_HEADS_ONLY, proveFiles, stateProven, stateRead, stateUnproven, suiteToProve } from "./prove.js";
import { heapBound } from "./heap.js";
import { InputError } from "../client/errors.js";
import { formatLoanId, toHash32, toLoanId, type Hash32, type LoanId } from "../client/ids.js";
import { isStateUnavailable, LedgerReader, type LedgerReadOptions } from "../client/ledger.js";
import { parseLog } from "../client/logs.js";
import { decodeLoanFact, HISTORY_EVENTS } from "../client/history.js";
import type { HistoryEntry, LoanRegistryClient } from "../client/loans.js";
import { readBalances, type TokenBalances } from "./balances.js";
import { custodyTokenAt, readCustodyFigures, type CustodyFigures } from "./custody/ledger.js";
import {
  type CheckedRecord,
  byChainOrder,
  type EventRecord,
  type LoanRecord,
  type Position,
} from "../records/index.js";
import type { AuditSources } from "../client/suite.js";
import type { SuiteAddresses } from "./scope.js";

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

/** The documents check's input, when a documents folder is given. */
async function documentsOf(docsDir: string | undefined) {
  return docsDir ? { hashes: await documentIndex(docsDir), folder: docsDir } : undefined;
}

/**
 * Verifies an exported (or freshly read) ledger with every check of {checkLedger}; documents are looked up in
 * `docsDir`, and with `proof` (from {proveExport}) the heads are the chain's at the export's block.
 */
export async function verifyLedger(
  ledger: LedgerExport,
  options: {
    loanId?: string;
    docsDir?: string;
    proof?: ChainProof;
    progress?: Progress;
    /** Contract wallets' approvals read from the chain ({readWalletApprovals}). */
    walletApprovals?: ReadonlySet<string>;
  } = {},
): Promise<AuditReport> {
  if (options.loanId && !ledger.loans.some((r) => r.loanId === options.loanId)) {
    throw new InputError(`loan ${options.loanId} is not in the ledger`);
  }
  const documents = await documentsOf(options.docsDir);
  const report = checkLedger(ledger, {
    loanId: options.loanId,
    documents,
    proof: options.proof,
    walletApprovals: options.walletApprovals,
  });
  options.progress?.(report.loans.length, report.loans.length, "loans verified");
  // ---- what the report can say of each file (prove.ts): records read from a chain, or taken from an export
  if (ledger.headsProvenAt && !ledger.digests) return stateRead(report, ledger);
  return stateUnproven(report, ledger, options.proof ? PROOF_OF_HEADS_ONLY : undefined);
}

/**
 * Reads from `provider` what the chain says at the export's block: the block's hash, the history head of every loan
 * in `ids` (by default those the export names), and every loan anchored by then (unless only `loanId` is verified).
 * Any node of the network can prove an export, long after it was taken, as long as it serves that block's state.
 */
export async function proveExport(
  exported: Pick<LedgerExport, "block" | "contracts" | "fromBlock" | "heads" | "balances" | "custody"> & {
    loans?: LoanRecord[];
    money?: EventRecord[];
  },
  provider: Provider,
  options: LedgerReadOptions & {
    loanId?: string;
    ids?: readonly string[];
    /** The loans whose lenders' positions to read (by default those the export's money events open for funding). */
    lenderLoans?: readonly string[];
    progress?: Progress;
  } = {},
): Promise<ChainProof> {
  const block = exported.block;
  const registryAddress = exported.contracts?.LoanRegistry;
  if (!block || !registryAddress) {
    throw new InputError("the export's manifest does not name its block and loan registry, so it cannot be proven");
  }
  const reader = await LedgerReader.pin(provider, { ...options, at: block.number, fromBlock: exported.fromBlock ?? 0 });
  const { chainId } = await reader.call(() => provider.getNetwork());
  const registry = LoanRegistry__factory.connect(registryAddress, provider);
  const ids = options.loanId
    ? [options.loanId]
    : [
        ...new Set([
          ...Object.keys(exported.heads),
          ...(options.ids ?? []),
          ...(exported.loans ?? []).map((r) => r.loanId),
        ]),
      ];
  let heads: Record<string, string>;
  let method: ChainProof["method"] = "historyHead";
  try {
    heads = await headsByCall(reader, registry, ids, options.progress);
  } catch (error) {
    if (!isStateUnavailable(error)) throw error;
    // A node that keeps no state that old (Besu's default Bonsai storage keeps 512 blocks) still serves the logs, and
    // every history event carries the head it produced: the last one of a loan up to the block is its head there.
    heads = await headsFromEvents(reader, registry, ids);
    method = "events";
  }
  let anchored: string[] | undefined;
  if (!options.loanId) {
    const topic = registry.interface.getEvent("LoanAnchored").topicHash;
    const logs = await reader.logs({ address: registryAddress, topics: [topic] });
    anchored = logs.map((log) => formatLoanId(toLoanId(BigInt(log.topics[1]))));
  }
  const funded =
    options.lenderLoans ??
    [
      ...new Set(
        (exported.money ?? [])
          .filter((r) => r.event === "FundingOpened")
          .map((r) => formatLoanId(toLoanId(String(r.args.loanId)))),
      ),
    ].filter((loanId) => !options.loanId || loanId === options.loanId);
  const splitterAddress = exported.contracts?.RepaymentSplitter;
  let lenders: ChainProof["lenders"];
  if (splitterAddress && method === "historyHead") {
    lenders = await lendersAt(reader, RepaymentSplitter__factory.connect(splitterAddress, provider), funded);
  }
  let balances: TokenBalances | undefined;
  let custody: CustodyFigures | undefined;
  if (splitterAddress && method === "historyHead" && !options.loanId) {
    const splitter = RepaymentSplitter__factory.connect(splitterAddress, provider);
    const token = String(await reader.call(() => splitter.TOKEN({ blockTag: reader.blockTag })));
    balances = await readBalances(provider, token, exported.contracts ?? {}, reader.blockTag, (read) =>
      reader.call(read),
    );
    const custodyToken = await reader.call(() => custodyTokenAt(provider, token));
    if (custodyToken) {
      // The banks the chain names (each issue, redemption and declared custody account), not the export: a bank left
      // out of the export is asked about all the same.
      const events = custodyToken.contract.interface;
      const [issued, redeemed, declared] = (["Issued", "Redeemed", "CustodyAccountSet"] as const).map(
        (name) => events.getEvent(name).topicHash,
      );
      const logs = await reader.logs({ address: token, topics: [[issued, redeemed, declared]] });
      const banks = logs.map((log) => getAddress(dataSlice(log.topics[log.topics[0] === redeemed ? 2 : 1], 12)));
      custody = await readCustodyFigures(custodyToken, banks, reader.block.number, (read) => reader.call(read));
    }
  }
  return {
    chainId: chainId.toString(),
    block: reader.block,
    registry: registryAddress,
    method,
    heads,
    anchored,
    ...(lenders ? { lenders } : {}),
    ...(balances ? { balances } : {}),
    ...(custody ? { custody } : {}),
  };
}

/** Each loan's lenders (in order of arrival) and their positions in the splitter at the reader's block. */
async function lendersAt(
  reader: LedgerReader,
  splitter: RepaymentSplitter,
  loanIds: readonly string[],
): Promise<NonNullable<ChainProof["lenders"]>> {
  const at = { blockTag: reader.blockTag };
  const result: NonNullable<ChainProof["lenders"]> = {};
  const one = async (loanId: string) => {
    const count = await reader.call(() => splitter.lenderCount(loanId, at));
    const lenders = (await reader.call(() => splitter.lendersOf(loanId, 0, count, at))).map(String);
    const found = await Promise.all(lenders.map((l) => reader.call(() => splitter.positionOf(loanId, l, at))));
    result[loanId] = {
      lenders,
      positions: Object.fromEntries(
        lenders.map((l, k) => [l.toLowerCase(), { shares: String(found[k].shares), debt: String(found[k].debt) }]),
      ),
    };
  };
  for (let i = 0; i < loanIds.length; i += 50) await Promise.all(loanIds.slice(i, i + 50).map(one));
  return result;
}

/** Every loan's `historyHead` at the reader's block, 100 calls at a time. */
async function headsByCall(
  reader: LedgerReader,
  registry: LoanRegistry,
  ids: readonly string[],
  progress?: Progress,
): Promise<Record<string, string>> {
  const heads: Record<string, string> = {};
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    const found = await Promise.all(
      batch.map((loanId) => reader.call(() => registry.historyHead(loanId, { blockTag: reader.blockTag }))),
    );
    batch.forEach((loanId, k) => (heads[loanId] = found[k]));
    if (ids.length >= 1_000) progress?.(Math.min(i + 100, ids.length), ids.length, "heads proven");
  }
  return heads;
}

/** Every loan's head at the reader's block, as the last history event of the loan up to that block carries it. */
async function headsFromEvents(
  reader: LedgerReader,
  registry: LoanRegistry,
  ids: readonly string[],
): Promise<Record<string, string>> {
  const wanted = new Set(ids);
  const heads: Record<string, string> = Object.fromEntries(ids.map((loanId) => [loanId, ZeroHash]));
  const topics = HISTORY_EVENTS.map((name) => registry.interface.getEvent(name).topicHash);
  await reader.eachRange({ address: String(registry.target), topics: [topics] }, (logs) => {
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    for (const log of logs) {
      const loanId = formatLoanId(toLoanId(BigInt(log.topics[1])));
      if (!wanted.has(loanId)) continue;
      // The head alone, as ethers reads it: the terms beside it are not read, so no value of theirs can stop this.
      const parsed = parseLog(registry.interface, log);
      if (parsed) heads[loanId] = String(parsed.args.toObject().head);
    }
  });
  return heads;
}

/** Loan, money and collateral records merged into chain order, each stream being in chain order already. */
async function* mergedInChainOrder(
  loans: AsyncIterator<LoanRecord>,
  money: AsyncIterator<EventRecord>,
  assets: AsyncIterator<EventRecord>,
): AsyncGenerator<CheckedRecord> {
  const streams: [AsyncIterator<LoanRecord | EventRecord>, (r: LoanRecord & EventRecord) => CheckedRecord][] = [
    [loans, (loan) => ({ loan })],
    [money, (money) => ({ money })],
    [assets, (asset) => ({ asset })],
  ];
  const heads = await Promise.all(streams.map(([stream]) => stream.next()));
  for (;;) {
    let next = -1;
    for (let k = 0; k < heads.length; k += 1) {
      if (heads[k].done) continue;
      if (next < 0 || byChainOrder(heads[k].value as Position, heads[next].value as Position) < 0) next = k;
    }
    if (next < 0) return;
    yield streams[next][1](heads[next].value as LoanRecord & EventRecord);
    heads[next] = await streams[next][0].next();
  }
}

/**
 * Verifies an export on disk without holding it: loans.jsonl and money.jsonl are streamed together in chain order
 * through the checker, the other files only hashed, so memory does not grow with the length of histories. With
 * `provider`, the export is proven against that node at its block.
 */
export async function verifyExport(
  dir: string,
  options: {
    loanId?: string;
    docsDir?: string;
    provider?: Provider;
    progress?: Progress;
    /** The auditor's configured deployment: a proven export naming other contracts is refused. */
    deployment?: SuiteAddresses;
  } = {},
): Promise<AuditReport> {
  const opened = await openExport(dir);
  // ---- proof mode (prove.ts): the suite and the first block from the chain or the deployment, not the manifest
  const suite = options.provider
    ? await suiteToProve(opened.facts, options.provider, { deployment: options.deployment })
    : undefined;
  const facts = suite ? { ...opened.facts, contracts: suite.contracts, fromBlock: suite.firstBlock } : opened.facts;
  // ----
  const documents = await documentsOf(options.docsDir);
  const checker = new LedgerChecker({
    loanId: options.loanId,
    documents,
    writers: writersOf(facts.contracts),
  });
  let records = 0;
  const bounded = heapBound();
  for await (const item of mergedInChainOrder(opened.loans(), opened.money(), opened.assets())) {
    checkRecord(checker, item);
    if (++records % 10_000 === 0) bounded();
    if (records % 100_000 === 0) options.progress?.(records, 0, "records verified");
  }
  for await (const _ of opened.members());
  const proof = options.provider
    ? await proveExport(facts, options.provider, {
        loanId: options.loanId,
        ids: checker.loanIds(),
        lenderLoans: checker.bookedLoans(),
        progress: options.progress,
      })
    : undefined;
  const registry = proof?.registry ?? facts.contracts?.LoanRegistry;
  if (options.provider && registry) {
    await checker.proveWalletSignatures(
      options.provider,
      BigInt(opened.facts.chainId),
      registry,
      opened.facts.block?.number,
    );
  }
  const report = checker.finish(opened.facts, proof);
  // ---- proof mode (prove.ts): every file compared with the chain's records, and each file's statement
  if (!suite) return stateUnproven(report, opened.facts);
  const files = await proveFiles(dir, opened.facts, suite, options.provider!, {
    loanId: options.loanId,
    progress: options.progress,
  });
  return stateProven(report, suite, files);
}

/** Verifies the ledger on the chain as it is read, at one block (see {readLedger}); its heads are proven there. */
export async function verifyChain(
  sources: AuditSources,
  options: { fromBlock?: number; loanId?: string; docsDir?: string; progress?: Progress } = {},
): Promise<{ report: AuditReport; header: LedgerHeader }> {
  const documents = await documentsOf(options.docsDir);
  const checker = new LedgerChecker({
    loanId: options.loanId,
    documents,
    writers: {
      RepaymentSplitter: String(sources.splitter.target),
      LossWaterfall: String(sources.waterfall.target),
      CollateralRegistry: String(sources.collateral.target),
    },
  });
  const header = await readLedger(
    sources,
    {
      loan: (record) => checker.loan(record),
      event: (kind, record) =>
        kind === "money" ? checker.money(record) : kind === "assets" ? checker.asset(record) : undefined,
    },
    options.fromBlock ?? 0,
    options.progress,
  );
  const provider = sources.splitter.runner?.provider;
  const registry = header.contracts.LoanRegistry;
  if (provider && registry) {
    await checker.proveWalletSignatures(provider, BigInt(header.chainId), registry, header.block.number);
  }
  return { report: stateRead(checker.finish(header), header), header };
}

/** A loan's history as the auditor's verifier checks it: what `loan history` prints. */
export interface LoanHistory {
  loanId: LoanId;
  entries: HistoryEntry[];
  onChainHead: Hash32;
  /** The block the history and the head were read at. */
  block: number;
  /** What the verifier's checks of one loan found (heads, order, transitions, terms, consent, writers' facts). */
  findings: Finding[];
  /** True when the checks found nothing: every head replays, the last is the on-chain head, and every fact holds. */
  verified: boolean;
}

/** The loan's history, rebuilt from its events at one block and checked as {verifyLoan} checks one loan. */
export function loanHistory(loans: LoanRegistryClient, loanId: LoanId): Promise<LoanHistory> {
  return verifyLoan(loans, loanId, { fromBlock: loans.fromBlock });
}

/**
 * Verifies one loan as the auditor's verifier does, on the chain as of one block: its history read ({readLoanLedger}),
 * checked by the verifier's own checks ({LedgerChecker}, for that loan) and reported entry by entry, each External
 * fact with the writer's fact it was proven to be. `loan history` and {loanHistory} are this.
 */
export async function verifyLoan(
  loans: LoanRegistryClient,
  loanId: LoanId,
  options: LedgerReadOptions & { at?: number | "latest"; fromBlock?: number } = {},
): Promise<LoanHistory> {
  const ledger = await readLoanLedger(loans, loanId, options);
  const id = formatLoanId(loanId);
  const onChainHead = toHash32(ledger.header.heads[id]);
  const loanRecords = ledger.records.flatMap((item) => ("loan" in item ? [item.loan] : []));
  if (loanRecords.length === 0) {
    return {
      loanId,
      entries: [],
      onChainHead,
      block: ledger.header.block.number,
      findings: [{ check: "history", loanId: id, message: `loan ${id} has no history on chain` }],
      verified: false,
    };
  }
  const checked: CheckedEntry[] = [];
  const checker = new LedgerChecker({
    loanId: id,
    writers: ledger.writers,
    onEntry: (_, entry) => void checked.push(entry),
  });
  // Only the writers' events of the loan's own transactions were read: they prove its External facts, while the
  // money checks across a whole book (positions, splits, payouts) are the full verification's.
  for (const item of ledger.records) {
    if ("loan" in item) checker.loan(item.loan);
    else checker.writerEvent("money" in item ? item.money : item.asset);
  }
  const provider = loans.contract.runner?.provider;
  if (provider) {
    await checker.proveWalletSignatures(
      provider,
      BigInt(ledger.header.chainId),
      loans.address,
      ledger.header.block.number,
    );
  }
  const report = checker.finish(ledger.header);
  const entries: HistoryEntry[] = loanRecords.map((record, i) => ({
    fact: checked[i].fact ?? decodeLoanFact(String(record.fact.kind), record.fact)!,
    blockNumber: record.blockNumber,
    transactionHash: toHash32(record.transactionHash),
    logIndex: record.logIndex,
    head: toHash32(record.head),
    replayedHead: toHash32(checked[i].replayedHead),
    ...(checked[i].writerFact ? { writerFact: checked[i].writerFact } : {}),
  }));
  return {
    loanId,
    entries,
    onChainHead,
    block: ledger.header.block.number,
    findings: report.findings,
    verified: report.ok,
  };
}
