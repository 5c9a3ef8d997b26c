/** How the portal writes amounts, dates and ids: in the viewer's locale and time zone. */
import type { Token } from "../../src/portal/wire.js";

export type { Token };

/** An amount in the token's smallest unit (a decimal string) as people read it: separators, two decimals, symbol. */
export function formatAmount(amount: string | null | undefined, token: Token, digits = 2): string {
  if (amount === null || amount === undefined) return "—";
  const value = BigInt(amount);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const shown = Math.min(digits, token.decimals);
  // Rounded half up to the digits shown, in integers: no float ever holds an amount.
  const step = 10n ** BigInt(token.decimals - shown);
  const rounded = (abs + step / 2n) / step;
  const whole = rounded / 10n ** BigInt(shown);
  const fraction = (rounded % 10n ** BigInt(shown)).toString().padStart(shown, "0");
  const parts = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1 }).formatToParts(1.5);
  const point = parts.find((p) => p.type === "decimal")?.value ?? ".";
  const text = new Intl.NumberFormat(undefined).format(whole) + (shown ? point + fraction : "");
  return `${negative ? "−" : ""}${text} ${token.symbol}`;
}

/** The exact amount, every digit, for a tooltip. */
export function exactAmount(amount: string, token: Token): string {
  const negative = amount.startsWith("-");
  const digits = (negative ? amount.slice(1) : amount).padStart(token.decimals + 1, "0");
  const whole = digits.slice(0, digits.length - token.decimals);
  const fraction = token.decimals ? digits.slice(-token.decimals).replace(/0+$/, "") : "";
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""} ${token.symbol}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** Seconds since the epoch, in the viewer's time zone. */
export function formatTime(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? "—" : dateTime.format(new Date(seconds * 1000));
}

export function formatDate(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? "—" : dateOnly.format(new Date(seconds * 1000));
}

/** The viewer's month of a time, as YYYY-MM (for grouping) and as words (for labels). */
export function monthOf(seconds: number): { key: string; label: string } {
  const d = new Date(seconds * 1000);
  const key = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
  return { key, label: new Intl.DateTimeFormat(undefined, { month: "short", year: "numeric" }).format(d) };
}

export function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** 0x1234…abcd */
export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id;
}

export function percent(bps: number): string {
  return `${(bps / 100).toLocaleString(undefined, { maximumFractionDigits: 2 })} %`;
}
