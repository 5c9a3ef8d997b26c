/**
 * The index's storage, behind one interface: the indexer writes a block's records through it, the portal's views read
 * through it. SQLite (`node:sqlite`, sqlite.ts) is the embedded default; an alliance-wide deployment can implement the
 * same interface on a server database without touching the indexer or the views.
 *
 * Amounts are decimal strings in the token's smallest unit (they exceed 64 bits); times are seconds since the epoch.
 */
import type { EventRecord, LoanRecord } from "../client/index.js";
import type { IndexedRecord } from "./records.js";

/** A block as the index committed it. */
export interface IndexedBlock {
  number: number;
  hash: string;
  /** Seconds since the epoch. */
  timestamp: number;
}

/** Which chain and contracts an index follows, and how far it has committed. */
export interface IndexState {
  chainId: string;
  contracts: Record<string, string>;
  fromBlock: number;
  /** The last block whose events are all committed (fromBlock - 1 before the first). */
  last: IndexedBlock | null;
}

export type SortDirection = "asc" | "desc";
export const LOAN_SORTS = ["anchoredAt", "principal", "outstanding", "status", "platform", "nextDueAt"] as const;
export type LoanSort = (typeof LOAN_SORTS)[number];

export interface LoanQuery {
  platform?: string;
  status?: number;
  /** Anchored at or after / before (seconds). */
  from?: number;
  to?: number;
  /** A prefix of the loan id (0x…). */
  idPrefix?: string;
  sort?: LoanSort;
  direction?: SortDirection;
  offset?: number;
  limit?: number;
}

/** A loan as the index derives it from its events. */
export interface LoanRow {
  loanId: string;
  platform: string;
  servicer: string;
  borrowerRef: string;
  documentHash: string;
  documentVersion: number;
  principal: string;
  annualRateBps: number;
  scheduleKind: number;
  installments: number;
  period: number;
  status: number;
  anchoredAt: number;
  activatedAt: number | null;
  installmentsPaid: number;
  /** When the next installment falls due (activation + (paid + 1) × period), for an active or late loan. */
  nextDueAt: number | null;
  outstanding: string;
  repaid: string;
  committed: string;
  lendersIn: string;
  insurer: string | null;
  funded: boolean;
  entries: number;
  head: string;
  terms: Record<string, string | number>;
}

export interface PositionRow {
  loanId: string;
  lender: string;
  shares: string;
  committed: string;
  received: string;
}

export interface PayoutRow {
  loanId: string;
  lender: string;
  to: string;
  amount: string;
  kind: "payout" | "claim";
  blockNumber: number;
  transactionHash: string;
  at: number;
}

export interface AssetRow {
  assetId: string;
  owner: string;
  registrar: string;
  assetClass: number;
  appraisalValue: string;
  documentHash: string;
  status: string;
}

export interface LienRow {
  assetId: string;
  loanId: string;
  securedAmount: string;
  priority: number;
  status: string;
  allocated: string;
  asset: AssetRow | null;
}

export interface LossRow {
  loanId: string;
  loss: string;
  recoveredBefore: string;
  insurerBore: string;
  reserveBore: string;
  lendersBore: string;
  recovered: string;
  toInsurer: string;
  toReserve: string;
  toLenders: string;
  transactionHash: string;
}

export interface DisclosureRow {
  platform: string;
  period: number;
  version: number;
  contentHash: string;
  figures: Record<string, string | number>;
  publishedAt: number;
  attestedBy: string | null;
  transactionHash: string;
}

export interface ReserveRow {
  platform: string;
  accrued: string;
  collected: string;
  deposited: string;
  compensated: string;
  reimbursed: string;
}

export interface InsurerRow {
  insurer: string;
  capitalIn: string;
  capitalOut: string;
  premiums: string;
  claimsPaid: string;
  reimbursed: string;
  policies: number;
}

export interface BookRow {
  platform: string;
  status: number;
  loans: number;
  principal: string;
  outstanding: string;
}

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
