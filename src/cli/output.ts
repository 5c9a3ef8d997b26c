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
 * An amount of the settlement token as people read it: whole units with thousands separators, `places` decimals (the
 * currency's minor unit, 2 by default) and the token's symbol: 1234567.5 → "1,234,567.50 CNY". An amount with more
 * digits than that is rounded half up and marked "≈" (1234567.891 → "≈1,234,567.89 CNY"), so that a reader never takes
 * a rounded figure for an exact one: a wei still owed reads "≈0.00", not "0.00". Tables and messages show this;
 * `--json` keeps the exact amount in the token's smallest unit.
 */
export function formatAmount(value: bigint, decimals: number, symbol: string, places = 2): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const shown = Math.min(places, decimals);
  const step = 10n ** BigInt(decimals - shown);
  const rounded = (magnitude + step / 2n) / step;
  const digits = rounded.toString().padStart(shown + 1, "0");
  const whole = digits.slice(0, digits.length - shown).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = digits.slice(digits.length - shown);
  const exact = rounded * step === magnitude;
  return (
    `${exact ? "" : "≈"}${negative && rounded > 0n ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}` +
    `${symbol ? ` ${symbol}` : ""}`
  );
}

/** {formatAmount} in the settlement token the context found. */
export function money(token: { decimals: number; symbol: string }, value: bigint): string {
  return formatAmount(value, token.decimals, token.symbol);
}
