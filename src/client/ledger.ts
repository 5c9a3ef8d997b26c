/**
 * The ledger reader: every event read of the client goes through here, in bounded block ranges (nodes such as Besu
 * refuse a log query over too many blocks), with retries on transient failures, and, for a reader pinned to a block,
 * every read (logs and calls) as of that one block, so that what is read together is consistent.
 */
import { JsonRpcProvider, Log, toQuantity, type Filter, type Provider } from "ethers";
import type { TypedContractEvent, TypedDeferredTopicFilter, TypedEventLog } from "../../typechain-types/common.js";
import { LoanLedgerError, toLoanLedgerError } from "./errors.js";
import { toHash32, type Hash32 } from "./ids.js";
import { checksummedAddress } from "./logs.js";

export interface LedgerReadOptions {
  /** The most blocks one log query spans. Default 2 000 (LOANLEDGER_LOG_BLOCK_RANGE), within Besu's default limit. */
  blockRange?: number;
  /** How often a query that failed transiently (timeout, connection reset, rate limit) is tried again. Default 4. */
  retries?: number;
  /** The wait before the first retry, doubled for each further one. Default 250 ms. */
  retryDelayMs?: number;
}

/** A log as a JSON-RPC node returns it. */
interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed?: boolean;
}

/**
 * The logs of one block range, as `provider.getLogs` gives them. From a JSON-RPC node they are read without ethers'
 * checks of each field of each log (a checksum, so a keccak, per log, and a validation per hex string), which cost a
 * third of reading a large book: the node's hex is taken as it comes, lowercased, and each contract's address is
 * checksummed once.
 */
export async function readLogs(
  provider: Provider,
  filter: LogFilter & { fromBlock: number; toBlock: number },
): Promise<Log[]> {
  if (!(provider instanceof JsonRpcProvider)) return provider.getLogs(filter as Filter);
  const query = { ...filter, fromBlock: toQuantity(filter.fromBlock), toBlock: toQuantity(filter.toBlock) };
  const raw = (await provider.send("eth_getLogs", [query])) as RpcLog[];
  return raw.map((log) => {
    return new Log(
      {
        address: checksummedAddress(log.address.slice(2).toLowerCase()),
        topics: log.topics.map((topic) => topic.toLowerCase()),
        data: log.data.toLowerCase(),
        blockNumber: Number(log.blockNumber),
        blockHash: log.blockHash.toLowerCase(),
        transactionHash: log.transactionHash.toLowerCase(),
        transactionIndex: Number(log.transactionIndex),
        index: Number(log.logIndex),
        removed: log.removed === true,
      },
      provider,
    );
  });
}

/** The block a reader reads at. */
export interface PinnedBlock {
  number: number;
  hash: Hash32;
  /** Seconds since the epoch. */
  timestamp: number;
}

const DEFAULT_BLOCK_RANGE = 2_000;

function settings(options: LedgerReadOptions): Required<LedgerReadOptions> {
  const fromEnv = Number(process.env.LOANLEDGER_LOG_BLOCK_RANGE);
  const blockRange =
    options.blockRange ?? (Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_BLOCK_RANGE);
  if (!Number.isSafeInteger(blockRange) || blockRange < 1) {
    throw new LoanLedgerError(`a log query's block range must be a whole number of blocks, not ${blockRange}`);
  }
  return { blockRange, retries: options.retries ?? 4, retryDelayMs: options.retryDelayMs ?? 250 };
}

/** Every message an ethers or JSON-RPC error carries, nested ones included. */
function messagesOf(error: unknown): string {
  const parts: string[] = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 4 || value === null || typeof value !== "object") return;
    const e = value as Record<string, unknown>;
    for (const key of ["code", "message", "shortMessage"]) if (e[key] !== undefined) parts.push(String(e[key]));
    for (const key of ["error", "info", "cause", "data"]) visit(e[key], depth + 1);
  };
  visit(error, 0);
  return parts.join(" | ");
}

/** Refusals a node gives when throttling a client: the same query passes later. */
const THROTTLED = /rate limit|too many requests|\b429\b|request rate|exceeded .*requests/i;
/** Failures of the connection or the node, not of the query. */
const TRANSIENT =
  /TIMEOUT|NETWORK_ERROR|SERVER_ERROR|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|socket hang up|bad gateway|service unavailable|gateway time-?out/i;
/** A log query refused for its size: too many blocks or too many logs (Besu, geth and hosted nodes word it so). */
const RANGE_REFUSED =
  /block range|range limit|range too|max(imum)? (rpc )?range|too many blocks|more than \d+ results|too many (results|logs)|response size|limit exceeded|exceeds? (the )?(max|limit)/i;

/** Whether a node refused a log query for its size (so a smaller range may pass). */
export function isRangeRefusal(error: unknown): boolean {
  const message = messagesOf(error);
  return !THROTTLED.test(message) && RANGE_REFUSED.test(message);
}

/** Whether a failure may pass if the same query is sent again. */
export function isTransient(error: unknown): boolean {
  const message = messagesOf(error);
  return THROTTLED.test(message) || (!RANGE_REFUSED.test(message) && TRANSIENT.test(message));
}

/** Failures of a call at an old block on a node that pruned that block's state. */
const STATE_UNAVAILABLE =
  /missing trie node|world ?state (is )?not available|state (is )?not available|historical state|pruned/i;

/** Whether a call failed because the node keeps no state that old (Besu's Bonsai storage keeps 512 blocks). */
export function isStateUnavailable(error: unknown): boolean {
  const e = error as { message?: unknown; shortMessage?: unknown; info?: unknown; error?: unknown } | undefined;
  return STATE_UNAVAILABLE.test([e?.message, e?.shortMessage, JSON.stringify(e?.info ?? e?.error ?? "")].join(" "));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fetch` over [from, to] in consecutive ranges of at most `blockRange` blocks, handing each range's results to
 * `onRange` in order. The next range is asked for while `onRange` works on the last, so that the node and this process
 * work at the same time (a large book is read twice as fast); at most two ranges are held. A range the node refuses
 * for its size is halved (and later ranges stay at the smaller size); a transient failure is retried with a growing
 * wait. Anything else fails at once, naming the range.
 */
export async function forEachBlockRange<T>(
  from: number,
  to: number,
  fetch: (fromBlock: number, toBlock: number) => Promise<T[]>,
  onRange: (items: T[], toBlock: number) => void | Promise<void>,
  options: LedgerReadOptions = {},
): Promise<void> {
  const { blockRange, retries, retryDelayMs } = settings(options);
  let span = blockRange;
  const read = async (start: number): Promise<{ items: T[]; end: number }> => {
    for (let attempt = 0; ;) {
      const end = Math.min(to, start + span - 1);
      try {
        return { items: await fetch(start, end), end };
      } catch (error) {
        if (isRangeRefusal(error) && end > start) {
          span = Math.max(1, Math.floor((end - start + 1) / 2));
        } else if (isTransient(error) && attempt < retries) {
          await sleep(retryDelayMs * 2 ** attempt);
          attempt += 1;
        } else {
          const reason = toLoanLedgerError(error).message.split("\n")[0];
          throw new LoanLedgerError(`reading events of blocks ${start}–${end} failed: ${reason}`);
        }
      }
    }
  };
  // A range asked for ahead may fail while `onRange` still works on the last: it is handled (so that it is not an
  // unhandled rejection, which ends the process) and thrown when its turn comes, or dropped if `onRange` fails first.
  const ahead = (start: number) => {
    const range = read(start);
    range.catch(() => undefined);
    return range;
  };
  let next = from <= to ? ahead(from) : undefined;
  while (next) {
    const { items, end } = await next;
    next = end < to ? ahead(end + 1) : undefined;
    await onRange(items, end);
  }
}

/** Everything `fetch` returns over [from, to], read as {forEachBlockRange} reads it. */
export async function inBlockRanges<T>(
  from: number,
  to: number,
  fetch: (fromBlock: number, toBlock: number) => Promise<T[]>,
  options: LedgerReadOptions = {},
): Promise<T[]> {
  const results: T[] = [];
  await forEachBlockRange(
    from,
    to,
    fetch,
    (items) => {
      for (const item of items) results.push(item);
    },
    options,
  );
  return results;
}

/** What a contract needs for its events to be read: TypeChain's `queryFilter`. */
export interface EventSource {
  queryFilter<E extends TypedContractEvent>(
    filter: TypedDeferredTopicFilter<E>,
    fromBlock?: number,
    toBlock?: number,
  ): Promise<TypedEventLog<E>[]>;
}

/** The chain-ordered events matching `filter` from `fromBlock` to the latest block, read in bounded ranges. */
export async function queryEvents<E extends TypedContractEvent>(
  contract: EventSource & { runner: { provider: Provider | null } | null },
  filter: TypedDeferredTopicFilter<E>,
  fromBlock: number,
  options: LedgerReadOptions = {},
): Promise<TypedEventLog<E>[]> {
  const provider = contract.runner?.provider;
  if (!provider) throw new LoanLedgerError("the contract has no provider to read events from");
  const latest = await readOnce(() => provider.getBlockNumber());
  return inBlockRanges(fromBlock, latest, (a, b) => contract.queryFilter(filter, a, b), options);
}

async function readOnce<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toLoanLedgerError(error);
  }
}

/** A log filter: contract addresses and topics, as in `eth_getLogs`. */
export interface LogFilter {
  address: string | string[];
  topics?: (string | string[] | null)[];
}

/**
 * Reads the ledger as of one block. Logs are read from `fromBlock` up to the pinned block in bounded ranges; contract
 * calls take `blockTag` so that they answer as of the same block.
 */
export class LedgerReader {
  private readonly options: Required<LedgerReadOptions>;
  private readonly times = new Map<number, number>();

  private constructor(
    readonly provider: Provider,
    readonly block: PinnedBlock,
    readonly fromBlock: number,
    options: LedgerReadOptions,
  ) {
    this.options = settings(options);
    this.times.set(block.number, block.timestamp);
  }

  /** A reader pinned to block `at` (the latest block by default). */
  static async pin(
    provider: Provider,
    {
      at = "latest",
      fromBlock = 0,
      ...options
    }: LedgerReadOptions & { at?: number | "latest"; fromBlock?: number } = {},
  ): Promise<LedgerReader> {
    const block = await readOnce(() => provider.getBlock(at));
    if (!block?.hash) throw new LoanLedgerError(`the node has no block ${at}`);
    if (fromBlock > block.number) {
      throw new LoanLedgerError(`the first block to read (${fromBlock}) is after the block read at (${block.number})`);
    }
    const pinned = { number: block.number, hash: toHash32(block.hash), timestamp: block.timestamp };
    return new LedgerReader(provider, pinned, fromBlock, options);
  }

  /** The block tag every call of this reader passes (`{ blockTag: reader.blockTag }`). */
  get blockTag(): number {
    return this.block.number;
  }

  /** Raw logs matching `filter` from `fromBlock` (the reader's by default) up to `toBlock` (at most the pinned block). */
  async logs(filter: LogFilter, range: { fromBlock?: number; toBlock?: number } = {}): Promise<Log[]> {
    const to = Math.min(range.toBlock ?? this.block.number, this.block.number);
    return inBlockRanges(
      range.fromBlock ?? this.fromBlock,
      to,
      (fromBlock, toBlock) => readLogs(this.provider, { ...filter, fromBlock, toBlock }),
      this.options,
    );
  }

  /** Hands the logs matching `filter` to `onRange` one bounded block range at a time, in chain order. */
  async eachRange(filter: LogFilter, onRange: (logs: Log[], toBlock: number) => void | Promise<void>): Promise<void> {
    await forEachBlockRange(
      this.fromBlock,
      this.block.number,
      (fromBlock, toBlock) => readLogs(this.provider, { ...filter, fromBlock, toBlock }),
      onRange,
      this.options,
    );
  }

  /** The typed events matching `filter`, up to the pinned block. */
  async events<E extends TypedContractEvent>(
    contract: EventSource,
    filter: TypedDeferredTopicFilter<E>,
    range: { fromBlock?: number; toBlock?: number } = {},
  ): Promise<TypedEventLog<E>[]> {
    const to = Math.min(range.toBlock ?? this.block.number, this.block.number);
    return inBlockRanges(
      range.fromBlock ?? this.fromBlock,
      to,
      (fromBlock, toBlock) => contract.queryFilter(filter, fromBlock, toBlock),
      this.options,
    );
  }

  /** Calls `call` with the retries of a log query (for contract reads at `blockTag`). */
  async call<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (!isTransient(error) || attempt >= this.options.retries) throw toLoanLedgerError(error);
        await sleep(this.options.retryDelayMs * 2 ** attempt);
      }
    }
  }

  /** A block's time, each block asked for once. */
  async timestamp(blockNumber: number): Promise<number> {
    let time = this.times.get(blockNumber);
    if (time === undefined) {
      const block = await this.call(() => this.provider.getBlock(blockNumber));
      if (!block) throw new LoanLedgerError(`the node has no block ${blockNumber}`);
      time = block.timestamp;
      this.times.set(blockNumber, time);
    }
    return time;
  }

  /**
   * The last block, up to the pinned one, whose time is at or before `time`, or `fromBlock - 1` if none is. Block times
   * never decrease, so a binary search asks for about log2(blocks) block headers.
   */
  async lastBlockAtOrBefore(time: number): Promise<number> {
    let low = this.fromBlock - 1;
    let high = this.block.number;
    if (this.block.timestamp <= time) return high;
    // Invariant: block `low` is at or before `time` (or before the range), block `high` is after it.
    while (high - low > 1) {
      const mid = low + Math.floor((high - low) / 2);
      if ((await this.timestamp(mid)) <= time) low = mid;
      else high = mid;
    }
    return low;
  }

  /** Throws if the pinned block is no longer on the node's chain (a reorganisation while reading). */
  async confirmPin(): Promise<void> {
    const block = await this.call(() => this.provider.getBlock(this.block.number));
    if (block?.hash?.toLowerCase() !== this.block.hash.toLowerCase()) {
      throw new LoanLedgerError(
        `block ${this.block.number} changed while the ledger was read (${this.block.hash} became ${block?.hash}): read again`,
      );
    }
  }
}
