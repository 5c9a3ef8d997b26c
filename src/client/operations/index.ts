/**
 * The alliance's monthly operations report, computed from the ledger: the figures' table, the replay that computes them,
 * and the document and its forms. `readOperations` takes any source of the ledger's records (a node, the portal's index,
 * an export), so that every reader computes the same figures the same way.
 */
import { InputError } from "../errors.js";
import { operationsReplay, type MonthFigures, type MonthCutoff, type OperationsRecord } from "./compute.js";
import { addMonths, checkTimeZone, localIso, monthSpan, parseMonth } from "./months.js";

export * from "./figures.js";
export * from "./months.js";
export * from "./compute.js";
export * from "./report.js";
export * from "./html.js";

/** A block and its time (seconds since the epoch). */
export interface BlockTime {
  block: number;
  time: number;
}

/** Where the report reads the ledger from. */
export interface OperationsSource {
  /** The newest block the source holds. */
  head(): Promise<BlockTime>;
  /** Where the ledger begins: the first block with an event of the suite. */
  origin(): Promise<BlockTime>;
  /** The last block whose time is at or before `time`. */
  lastBlockAtOrBefore(time: number): Promise<number>;
  /** Feeds the records the report reads, up to `toBlock` and in chain order, to `push` until it returns false. */
  replay(toBlock: number, push: (item: OperationsRecord) => boolean): Promise<void>;
}

export interface OperationsOptions {
  /** YYYY-MM. */
  month: string;
  timeZone: string;
  /** How many months, this one included, the trend shows (12 by default). */
  months?: number;
}

/**
 * The figures of `month` and of the months before it (the trend) from `source`, or an InputError saying in one sentence
 * why the month cannot be reported: malformed, not ended yet, or ended before the ledger began.
 */
export async function readOperations(
  source: OperationsSource,
  options: OperationsOptions,
): Promise<{ months: MonthFigures[]; head: BlockTime }> {
  parseMonth(options.month);
  const timeZone = checkTimeZone(options.timeZone);
  const span = monthSpan(options.month, timeZone);
  const [head, origin] = await Promise.all([source.head(), source.origin()]);
  if (span.end > head.time) {
    throw new InputError(
      `${options.month} has not ended in ${timeZone}: the ledger's latest block (${head.block}) is at ` +
        `${localIso(head.time, timeZone)}, and a month is reported once it has ended`,
    );
  }
  if (span.end <= origin.time) {
    throw new InputError(
      `${options.month} ended before the ledger began (its first block, ${origin.block}, is at ` +
        `${localIso(origin.time, timeZone)})`,
    );
  }
  const cutoffs: MonthCutoff[] = [];
  // The month before the trend's first gives that month its roll rates.
  for (let back = options.months ?? 12; back >= 0; back--) {
    const s = monthSpan(addMonths(options.month, -back), timeZone);
    if (s.end <= origin.time) continue;
    cutoffs.push({ span: s, lastBlock: await source.lastBlockAtOrBefore(s.end - 1), full: back === 0 });
  }
  const replay = operationsReplay(cutoffs);
  await source.replay(cutoffs[cutoffs.length - 1].lastBlock, (item) => replay.push(item));
  const months = replay.finish();
  const trend = months.length > (options.months ?? 12) ? months.slice(1) : months;
  // Months before the first loan was anchored say nothing: whichever first block a source knows, the trend starts there.
  const first = trend.findIndex((m) => m.platforms.length > 0);
  return { months: first === -1 ? trend.slice(-1) : trend.slice(first), head };
}
