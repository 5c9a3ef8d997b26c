/**
 * The history writers' facts of one transaction: which of its events (the splitter's, the loss waterfall's, the
 * collateral registry's) stand for which External fact of which loan, as history.ts's table says, and which events
 * were left without their fact. The checker (check.ts) keeps one of these for the transaction being read.
 */
import {
  big,
  loanOf,
  needsFact,
  writerFactHash,
  writerFactOf,
  type WriterFact,
  type WriterName,
} from "../client/history.js";
import type { EventRecord } from "../records/index.js";

export { batchLenders, big, loanOf } from "../client/history.js";

/** What `compute` gives, or undefined where a forged record cannot even be encoded (the finding names it then). */
export function factOrNothing<T>(compute: () => T | undefined): T | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}

/** An event of a writer's that needed a fact in the history of `loanId` and got none. */
export interface MissingFact {
  event: EventRecord;
  loanId: string;
}

/** The writers' events of one transaction, in chain order, and the facts the loans' histories recorded for them. */
export class WriterTransaction {
  readonly events: EventRecord[] = [];
  /** "loanId|writer|factHash" of every fact proven in this transaction. */
  private readonly proven = new Set<string>();

  constructor(readonly hash: string) {}

  /**
   * The fact of `writer`'s events in this transaction that hashes to `factHash` in the history of `loanId` (and marks
   * it proven), or undefined when none of them does.
   */
  prove(loanId: string, writer: WriterName, factHash: string): WriterFact | undefined {
    const wanted = factHash.toLowerCase();
    for (const event of this.events) {
      if (event.contract !== writer) continue;
      const fact = factOrNothing(() => writerFactOf(event, this.events, loanId));
      if (fact && factOrNothing(() => writerFactHash(fact))?.toLowerCase() === wanted) {
        this.proven.add(`${loanId}|${writer}|${wanted}`);
        return fact;
      }
    }
    return undefined;
  }

  /**
   * Every event of the transaction that must have its fact in the history of the loan it names and has none: a sale's
   * allocation to a loan needs the sale's fact in that loan's history.
   */
  missing(): MissingFact[] {
    const missing: MissingFact[] = [];
    for (const event of this.events) {
      const loanId = loanOf(event);
      if (!loanId || !needsFact(event, this.events)) continue;
      const stands =
        event.event === "DisposalAllocated"
          ? this.events.find((e) => e.event === "CollateralDisposed" && big(e.args.assetId) === big(event.args.assetId))
          : event;
      const fact = stands && factOrNothing(() => writerFactOf(stands, this.events, loanId));
      const hash = fact && factOrNothing(() => writerFactHash(fact));
      if (hash && this.proven.has(`${loanId}|${stands.contract}|${hash.toLowerCase()}`)) continue;
      missing.push({ event, loanId });
    }
    return missing;
  }
}
