/**
 * The index's storage, behind one interface: the indexer writes a block's records through it, the portal's views read
 * through it. SQLite (`node:sqlite`, sqlite.ts) is the embedded default; an alliance-wide deployment can implement the
 * same interface on a server database without touching the indexer or the views.
 *
 * Amounts are decimal strings in the token's smallest unit (they exceed 64 bits); times are seconds since the epoch.
 */
import type { EventRecord, LoanRecord } from "../client/index.js";
import type { IndexedRecord } from "./records.js";
import type {
  IndexedBlock,
  IndexState,
  LoanQuery,
  LoanRow,
  PositionRow,
  PayoutRow,
  LienRow,
  LossRow,
  BookLine,
  MemberRow,
  DisclosureRow,
  ReserveRow,
  InsurerRow,
  BookRow,
} from "./rows.js";

/** An event of the suite as the index stored it, with its block's time. */
export interface StoredEvent {
  kind: IndexedRecord["kind"];
  record: LoanRecord | EventRecord;
  at: number;
}

export interface IndexStore {
  /** Undefined before the index was started. */
  state(): IndexState | undefined;
  /** Starts an empty index of `chainId`'s suite at `contracts`, from `fromBlock`. */
  start(chainId: string, contracts: Record<string, string>, fromBlock: number): void;
  /** Commits one block's records (in chain order) and the tables derived from them, all or nothing. */
  commitBlock(block: IndexedBlock, records: readonly IndexedRecord[]): void;
  /** Records that every block up to `block` is committed (the blocks in between had no events). */
  commitUpTo(block: IndexedBlock): void;
  /** The hash of a committed block the index holds (one with events, or the last committed). */
  blockHash(number: number): string | undefined;
  /** Empties the index (a rebuild). */
  clear(): void;
  close(): void;

  loans(query: LoanQuery): { total: number; rows: LoanRow[] };
  loan(loanId: string): LoanRow | undefined;
  /** The loan's history facts and every other event naming it, in chain order. */
  eventsOf(loanId: string): StoredEvent[];
  /**
   * The events named `Contract.Event` (a history fact is `LoanRegistry.<fact kind>`) up to block `toBlock`, in chain
   * order, read lazily so that a large book is never held whole.
   */
  recordsNamed(names: readonly string[], toBlock: number): Iterable<IndexedRecord>;
  /** The first committed block with events. */
  firstBlock(): IndexedBlock | undefined;
  /** The last committed block with events whose time is at or before `time`, or fromBlock - 1. */
  lastBlockAtOrBefore(time: number): number;
  /** Every event of one transaction, in order. */
  eventsInTx(transactionHash: string): StoredEvent[];
  positionsOf(lender: string): PositionRow[];
  positionsIn(loanId: string): PositionRow[];
  payoutsTo(lender: string): PayoutRow[];
  liensOf(loanId: string): LienRow[];
  lossOf(loanId: string): LossRow | undefined;
  disclosures(): DisclosureRow[];
  book(platform?: string): BookRow[];
  reserve(): ReserveRow[];
  insurers(): InsurerRow[];
  platforms(): string[];
  handedOver(platform?: string): LoanRow[];
  /** Every loan `platform` services now (every loan without it), oldest first. */
  bookLines(platform?: string): Iterable<BookLine>;
  members(): MemberRow[];
  /** Accounts that hold or held a share of a loan, up to `limit`. */
  lenders(limit: number): string[];
  /** Loans whose next installment falls due in [from, to], and every late loan. */
  dueLoans(from: number, to: number, platform?: string): LoanRow[];
  /** Loans still in funding, with what was committed so far. */
  funding(platform?: string): LoanRow[];
  counts(): { events: number; loans: number; bytes: number };
  /** Every row of every derived table in key order: what a rebuild must reproduce. */
  dump(): Record<string, unknown[]>;
}
