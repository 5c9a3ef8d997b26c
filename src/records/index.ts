/**
 * The ledger's records as the audit reads and writes them and the index keeps them: the bottom layer, which imports
 * nothing of the project, so that the client, the audit and the indexer all speak of the same records.
 */

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

/** A decoded event's value as JSON: amounts as decimal strings. */
export function toJson(value: unknown): Json {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value as Json;
}

/** Orders records as the chain does: by block, then by position in the block. */
export const byChainOrder = (a: Position, b: Position) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;

/** A record of the export with the file it comes from: what the checker takes, in chain order. */
export type CheckedRecord = { loan: LoanRecord } | { money: EventRecord } | { asset: EventRecord };

/** The position of a checked record on chain. */
export const positionOfRecord = (item: CheckedRecord): Position =>
  "loan" in item ? item.loan : "money" in item ? item.money : item.asset;
