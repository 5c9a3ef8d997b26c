import { localIso } from "../client/operations/months.js";

/**
 * A time as a date people read: ISO 8601 in the alliance's time zone, its offset written ("-" for none). Apart from
 * output.ts, which `--help` loads: the time-zone arithmetic pulls in the client.
 */
export function isoTime(seconds: number, timeZone: string): string {
  return seconds === 0 ? "-" : localIso(seconds, timeZone);
}
