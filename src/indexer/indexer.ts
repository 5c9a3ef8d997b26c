/**
 * The indexer: follows the suite's events from the deployment block to the head, in the ledger reader's bounded block
 * ranges, and commits them block by block to an {IndexStore}. It resumes from the last block it committed, and refuses
 * to go on when the chain it indexed is no longer the node's (a development node that was reset, or another network).
 */
import type { Log, Provider } from "ethers";
import { forEachBlockRange, isTransient, LoanLedgerError, readLogs, type LedgerReadOptions } from "../client/index.js";
import { RecordDecoder, type IndexedRecord, type IndexSources } from "./records.js";
import type { IndexedBlock } from "./rows.js";
import type { IndexStore } from "./store.js";

/** The node's chain is not the one the index holds: its data must not be mixed with the index's. */
export class ChainChangedError extends LoanLedgerError {
  override readonly name = "ChainChangedError";
}

export interface SyncResult {
  /** The first and last block read in this sync (from > to when there was nothing new). */
  from: number;
  to: number;
  events: number;
  blocks: number;
}

export type IndexProgress = (block: number, head: number, events: number) => void;

/** How many block headers are asked for at once (for their times and hashes). */
const HEADER_BATCH = 100;

/** How long indexing works before it lets the event loop serve what waits (a portal's requests). */
const YIELD_AFTER_MS = 20;

export class Indexer {
  private readonly decoder: RecordDecoder;

  constructor(
    readonly store: IndexStore,
    readonly provider: Provider,
    sources: IndexSources,
    private readonly options: LedgerReadOptions & { fromBlock?: number } = {},
  ) {
    this.decoder = new RecordDecoder(sources);
  }

  get contracts(): Record<string, string> {
    return this.decoder.contracts;
  }

  private async header(number: number): Promise<IndexedBlock> {
    let block;
    // Retried like a log query: a node that is busy or briefly unreachable must not stop the index.
    for (let attempt = 0; ; attempt += 1) {
      try {
        block = await this.provider.getBlock(number);
        break;
      } catch (error) {
        if (!isTransient(error) || attempt >= 4) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
    if (!block?.hash) throw new LoanLedgerError(`the node has no block ${number}`);
    return { number, hash: block.hash, timestamp: block.timestamp };
  }

  /**
   * Checks that the index is of the node's chain and contracts, and that the last block it committed is still the
   * node's block of that number: otherwise the chain was reset or replaced, and this throws {ChainChangedError}.
   */
  async checkChain(): Promise<void> {
    const chainId = (await this.provider.getNetwork()).chainId.toString();
    const state = this.store.state();
    if (!state) return;
    if (state.chainId !== chainId) {
      throw new ChainChangedError(
        `the index holds chain ${state.chainId} but the node is on chain ${chainId}: rebuild the index for this chain`,
      );
    }
    for (const [name, address] of Object.entries(this.contracts)) {
      if (state.contracts[name]?.toLowerCase() !== address.toLowerCase()) {
        throw new ChainChangedError(
          `the index follows ${name} at ${state.contracts[name]}, not ${address}: rebuild the index for this deployment`,
        );
      }
    }
    if (!state.last) return;
    const block = await this.provider.getBlock(state.last.number);
    if (block?.hash?.toLowerCase() !== state.last.hash.toLowerCase()) {
      throw new ChainChangedError(
        `the node's block ${state.last.number} is ${block?.hash ?? "missing"}, but the index committed ` +
          `${state.last.hash}: the chain was reset or replaced, so the index no longer describes it; rebuild it`,
      );
    }
  }

  /** Indexes every block after the last committed one, up to `to` (the node's head by default). */
  async sync(to?: number, progress?: IndexProgress): Promise<SyncResult> {
    await this.checkChain();
    let state = this.store.state();
    if (!state) {
      const chainId = (await this.provider.getNetwork()).chainId.toString();
      this.store.start(chainId, this.contracts, this.options.fromBlock ?? 0);
      state = this.store.state()!;
    }
    const head = to ?? (await this.provider.getBlockNumber());
    const from = state.last ? state.last.number + 1 : state.fromBlock;
    const result: SyncResult = { from, to: head, events: 0, blocks: 0 };
    if (from > head) return result;
    const filters = this.decoder.filters();
    await forEachBlockRange(
      from,
      head,
      async (fromBlock, toBlock) =>
        (await Promise.all(filters.map((f) => readLogs(this.provider, { ...f, fromBlock, toBlock })))).flat(),
      async (logs, toBlock) => {
        await this.commitRange(logs, toBlock, result);
        progress?.(toBlock, head, result.events);
      },
      this.options,
    );
    return result;
  }

  private async commitRange(logs: Log[], toBlock: number, result: SyncResult): Promise<void> {
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const byBlock = new Map<number, IndexedRecord[]>();
    const hashes = new Map<number, string>();
    let decoded = performance.now();
    for (const log of logs) {
      if (performance.now() - decoded > YIELD_AFTER_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        decoded = performance.now();
      }
      const record = this.decoder.decode(log);
      if (!record) continue;
      let list = byBlock.get(log.blockNumber);
      if (!list) byBlock.set(log.blockNumber, (list = []));
      list.push(record);
      hashes.set(log.blockNumber, log.blockHash);
    }
    // A block's time is in every history fact it holds (the registry stamps each fact with block.timestamp, and the fact
    // is hashed into the loan's head): only blocks without one need their header asked for.
    const times = new Map<number, number>();
    for (const [number, records] of byBlock) {
      const fact = records.find((r) => r.kind === "history");
      if (fact?.kind === "history") times.set(number, Number(fact.record.fact.at));
    }
    const missing = [...byBlock.keys()].filter((n) => !times.has(n));
    for (let i = 0; i < missing.length; i += HEADER_BATCH) {
      const headers = await Promise.all(missing.slice(i, i + HEADER_BATCH).map((n) => this.header(n)));
      for (const block of headers) {
        // Logs and headers read a moment apart must describe one chain.
        if (block.hash.toLowerCase() !== hashes.get(block.number)?.toLowerCase()) {
          throw new ChainChangedError(
            `block ${block.number} changed while it was read: the chain was reorganised or reset`,
          );
        }
        times.set(block.number, block.timestamp);
      }
    }
    let since = performance.now();
    for (const [number, records] of byBlock) {
      this.store.commitBlock({ number, hash: hashes.get(number)!, timestamp: times.get(number)! }, records);
      result.events += records.length;
      result.blocks += 1;
      // Commits are synchronous: a server indexing in its own process answers its requests between them.
      if (performance.now() - since > YIELD_AFTER_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        since = performance.now();
      }
    }
    if (this.store.state()?.last?.number !== toBlock) this.store.commitUpTo(await this.header(toBlock));
  }

  /** Empties the index and indexes again from the deployment block. */
  async rebuild(to?: number, progress?: IndexProgress): Promise<SyncResult> {
    this.store.clear();
    return this.sync(to, progress);
  }
}
