/** Where the CLI writes; tests capture it. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Rewrites one line of progress in place; only where stdout is a terminal (a pipe or a file gets none). */
  status?: (line: string) => void;
}

let statusShown = false;
/** Clears a progress line before anything else is written, so that it never runs into a line of output. */
function clearStatus(): void {
  if (statusShown) process.stdout.write("\r\x1b[2K");
  statusShown = false;
}

export const processIo: CliIo = {
  out: (line) => {
    clearStatus();
    process.stdout.write(line + "\n");
  },
  err: (line) => {
    clearStatus();
    process.stderr.write(line + "\n");
  },
  ...(process.stdout.isTTY
    ? {
        status: (line: string) => {
          process.stdout.write(`\r\x1b[2K${line}`);
          statusShown = true;
        },
      }
    : {}),
};

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

type Cell = string | number | bigint | boolean;

/**
 * A plain text table: a header row, a rule, then rows, columns padded to width. The columns in `right` (amounts,
 * counts) are right-aligned, so that their digits line up as finance people read them.
 */
export function table(headers: string[], rows: Cell[][], options: { right?: readonly number[] } = {}): string {
  const text = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...text.map((r) => (r[c] ?? "").length)));
  const right = new Set(options.right ?? []);
  const line = (r: string[]) =>
    r
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  return [line(text[0]), widths.map((w) => "-".repeat(w)).join("  "), ...text.slice(1).map(line)].join("\n");
}

/**
 * An amount of the settlement token as people read it: whole units with thousands separators, at least `places`
 * decimals (the currency's minor unit, 2 by default) and more only where the amount has them (nothing is rounded
 * away), and the token's symbol: 1234567.891 → "1,234,567.891 CNY", 50000 → "50,000.00 CNY". Tables and messages
 * show this; `--json` keeps the exact amount in the token's smallest unit.
 */
export function formatAmount(value: bigint, decimals: number, symbol: string, places = 2): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  fraction = fraction.padEnd(Math.min(places, decimals), "0");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}${symbol ? ` ${symbol}` : ""}`;
}

/** {formatAmount} in the settlement token the context found. */
export function money(token: { decimals: number; symbol: string }, value: bigint): string {
  return formatAmount(value, token.decimals, token.symbol);
}

export function isoTime(seconds: number): string {
  return seconds === 0 ? "-" : new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}
