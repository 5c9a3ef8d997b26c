/**
 * Calendar months in the alliance's time zone: a report is as of a month's end there, not in UTC, so that a repayment
 * made at 07:00 in Shanghai on the 1st counts for the month it was made in.
 */
import { InputError } from "../errors.js";

/** The alliance's time zone unless the settings name another (LOANLEDGER_TIME_ZONE). */
export const DEFAULT_TIME_ZONE = "Asia/Shanghai";

/** A month, written YYYY-MM. */
export type Month = `${number}-${number}`;

/** A month's span in a time zone: from `start` (included) to `end` (excluded), seconds since the epoch. */
export interface MonthSpan {
  month: Month;
  timeZone: string;
  start: number;
  end: number;
}

/** Checks a time zone name against the runtime's IANA database, or throws an InputError. */
export function checkTimeZone(timeZone: string): string {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new InputError(`${timeZone} is not a time zone (write an IANA name such as ${DEFAULT_TIME_ZONE})`);
  }
}

/** "2027-06" → [2027, 6], or an InputError saying how a month is written. */
export function parseMonth(month: string): [number, number] {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) throw new InputError(`a month is written YYYY-MM (for example 2027-06), not ${month}`);
  return [Number(match[1]), Number(match[2])];
}

export function formatMonth(year: number, month: number): Month {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}` as Month;
}

/** The month `delta` months from `month` ("2027-01", -1 → "2026-12"). */
export function addMonths(month: string, delta: number): Month {
  const [y, m] = parseMonth(month);
  const index = y * 12 + (m - 1) + delta;
  return formatMonth(Math.floor(index / 12), (index % 12) + 1);
}

const formats = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();
const QUARTER_HOUR = 900_000;

/**
 * The offset of `timeZone` from UTC at `instant` (milliseconds), in milliseconds. Zones change their offset at whole
 * quarter hours of UTC (their offsets are multiples of 15 minutes, their changes at whole local hours or half hours), so
 * one answer serves a quarter hour: a book of 100 000 loans asks again for few of them (an Intl formatter per call
 * cost 50 µs a date).
 */
function offsetAt(timeZone: string, instant: number): number {
  const key = `${timeZone}@${Math.floor(instant / QUARTER_HOUR)}`;
  const known = offsets.get(key);
  if (known !== undefined) return known;
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(timeZone, format);
  }
  const start = Math.floor(instant / QUARTER_HOUR) * QUARTER_HOUR;
  const parts = format.formatToParts(new Date(start));
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const local = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"));
  const offset = local - start;
  if (offsets.size > 200_000) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

/** The instant (seconds) of local midnight starting the 1st of `year`-`month` in `timeZone`. */
function monthStart(year: number, month: number, timeZone: string): number {
  const local = Date.UTC(year, month - 1, 1);
  // Two steps settle the offset even when a daylight-saving change falls near midnight.
  const first = local - offsetAt(timeZone, local);
  return (local - offsetAt(timeZone, first)) / 1000;
}

/** The month's span in `timeZone`. */
export function monthSpan(month: string, timeZone: string = DEFAULT_TIME_ZONE): MonthSpan {
  const [y, m] = parseMonth(month);
  const next = parseMonth(addMonths(month, 1));
  return {
    month: formatMonth(y, m),
    timeZone,
    start: monthStart(y, m, timeZone),
    end: monthStart(next[0], next[1], timeZone),
  };
}

/** The month (in `timeZone`) holding the instant `seconds`. */
export function monthOf(seconds: number, timeZone: string = DEFAULT_TIME_ZONE): Month {
  const local = new Date(seconds * 1000 + offsetAt(timeZone, seconds * 1000));
  return formatMonth(local.getUTCFullYear(), local.getUTCMonth() + 1);
}

/** The instant `seconds` as an ISO 8601 time with `timeZone`'s offset, e.g. 2027-07-01T00:00:00+08:00. */
export function localIso(seconds: number, timeZone: string = DEFAULT_TIME_ZONE): string {
  const offset = offsetAt(timeZone, seconds * 1000);
  const local = new Date(seconds * 1000 + offset).toISOString().slice(0, 19);
  const minutes = Math.abs(offset / 60_000);
  const sign = offset < 0 ? "-" : "+";
  return `${local}${sign}${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}
