import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { keccak256, parseUnits } from "ethers";
import {
  borrowerRef,
  InputError,
  parseAllianceKey,
  ScheduleKind,
  textHash,
  schemaProblems,
  toBorrowerRef,
  toHash32,
  type Address,
  type Hash32,
  type LoanTerms,
} from "../client/index.js";
import { closest, didYouMean } from "./suggest.js";

/** Schedule kinds as written in terms files. */
export const SCHEDULE_NAMES: Record<string, ScheduleKind> = {
  "equal-installment": ScheduleKind.EqualInstallment,
  "equal-principal": ScheduleKind.EqualPrincipal,
  "interest-only": ScheduleKind.InterestOnly,
  bullet: ScheduleKind.Bullet,
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** Seconds from a number or a duration such as "30d", "12h". */
export function parseDuration(value: unknown, name: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  const match = typeof value === "string" ? /^(\d+)([smhdw])$/.exec(value.trim()) : null;
  if (!match) throw new InputError(`${name} must be seconds or a duration like "30d", not ${JSON.stringify(value)}`);
  return Number(match[1]) * UNIT_SECONDS[match[2]];
}

/** Unix seconds from an ISO date, unix seconds (a number, or digits as on a command line), or "+7d" from `now`. */
export function parseTime(value: unknown, name: string, now: number): number {
  if (typeof value === "string" && /^\d+$/.test(value)) value = Number(value);
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  if (typeof value === "string" && value.startsWith("+")) return now + parseDuration(value.slice(1), name);
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw new InputError(`${name} must be a date, unix seconds or "+7d", not ${JSON.stringify(value)}`);
  requireCalendarDate(value as string, name);
  return Math.floor(ms / 1000);
}

/** Refuses a day the calendar does not have: `Date.parse` rolls 2027-02-30 over to 2 March without a word. */
function requireCalendarDate(value: string, name: string): void {
  const match = /^\s*(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!match) return;
  const [year, month, day] = match.slice(1).map(Number);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > days) {
    const why = month < 1 || month > 12 ? "there is no month " + month : `${match[1]}-${match[2]} has ${days} days`;
    throw new InputError(`${name} is not a date: ${match[0].trim()} does not exist (${why})`);
  }
}

export function parseAmount(value: unknown, decimals: number, name = "amount"): bigint {
  if (typeof value !== "string" && typeof value !== "number") throw new InputError(`${name} is missing`);
  try {
    const amount = parseUnits(String(value), decimals);
    if (amount < 0n) throw new Error();
    return amount;
  } catch {
    throw new InputError(
      `${name} must be a non-negative number with at most ${decimals} decimals, not ${JSON.stringify(value)}`,
    );
  }
}

function integer(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new InputError(`${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
  }
  return value;
}

export { textHash };

function hashOf(value: unknown, name: string): Hash32 {
  if (typeof value !== "string" || value.length === 0) throw new InputError(`${name} is missing`);
  return textHash(value);
}

export async function documentHash(path: string): Promise<Hash32> {
  try {
    return toHash32(keccak256(await readFile(path)));
  } catch {
    throw new InputError(`cannot read document ${path}`);
  }
}

export interface TermsContext {
  platform: Address;
  now: number;
  decimals: number;
  /** Hex alliance key from the environment; needed only for entries that give a national id. */
  allianceKeyHex: string | undefined;
  /** Folder that relative document paths are resolved against. */
  baseDir: string;
}

/** The terms-file schema (schemas/loan-terms-v1.schema.json): one definition for JSON entries and CSV rows. */
export const TERMS_SCHEMA = JSON.parse(
  readFileSync(new URL("../../schemas/loan-terms-v1.schema.json", import.meta.url), "utf8"),
) as { properties: Record<string, unknown> };
export const TERMS_KEYS = Object.keys(TERMS_SCHEMA.properties).filter((key) => key !== "$schema");

type Validator = ReturnType<Ajv2020["compile"]>;
const validators: { entry?: Validator; csvRow?: Validator } = {};
/** The schema compiled on first use: a command that reads no terms file does not pay for it at start-up. */
function validator(kind: "entry" | "csvRow"): Validator {
  // A CSV cell is text: the same schema reads "12" as the integer 12 where it asks for an integer. Empty cells are
  // removed before this runs, so that coercion can never turn a blank into 0.
  validators[kind] ??= new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    verbose: true,
    coerceTypes: kind === "csvRow",
  }).compile(TERMS_SCHEMA);
  return validators[kind];
}

/** One sentence for what is wrong with an entry: unknown keys (with the key meant), then missing ones, then values. */
function schemaProblem(errors: readonly ErrorObject[]): string {
  const unknown = errors
    .filter((e) => e.keyword === "additionalProperties")
    .map((e) => String((e.params as { additionalProperty: string }).additionalProperty));
  const meant = new Set(unknown.map((key) => closest(key, TERMS_KEYS)));
  const missing = errors
    .filter((e) => e.keyword === "required" && e.schemaPath === "#/required")
    .map((e) => String((e.params as { missingProperty: string }).missingProperty))
    .filter((key) => !meant.has(key));
  const parts: string[] = [];
  if (unknown.length)
    parts.push(
      `unknown ${unknown.length === 1 ? "key" : "keys"} ${unknown.map((k) => `"${k}"${didYouMean(k, TERMS_KEYS)}`).join(", ")}`,
    );
  if (missing.length) parts.push(`missing ${missing.join(", ")} (no term that changes money or dates has a default)`);
  if (parts.length) return parts.join("; ");
  const choice = errors.find((e) => e.keyword === "oneOf");
  if (choice) return String((choice.parentSchema as { description: string }).description).replace(/^G/, "g");
  return schemaProblems(errors, "the entry").join("; ");
}

/**
 * Turns one terms-file entry into LoanTerms, after checking it against the schema. The borrower may be given by
 * national id, which is turned into its keyed reference here and never leaves this process.
 */
export async function termsFromEntry(
  entry: unknown,
  ctx: TermsContext,
  where: string,
  validate: Validator = validator("entry"),
): Promise<LoanTerms> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new InputError(`${where}: a loan is a JSON object`);
  }
  if (!validate(entry)) throw new InputError(`${where}: ${schemaProblem(validate.errors ?? [])}`);
  const e = entry as Record<string, unknown>;
  const at = (name: string) => `${where}: ${name}`;
  let ref;
  if (typeof e.borrowerNationalId === "string") {
    ref = borrowerRef(e.borrowerNationalId, parseAllianceKey(ctx.allianceKeyHex));
  } else {
    ref = toBorrowerRef(String(e.borrowerRef));
  }
  const docHash =
    typeof e.document === "string"
      ? await documentHash(resolve(ctx.baseDir, e.document))
      : hashOf(e.documentHash, at("documentHash"));
  return {
    platform: ctx.platform,
    borrowerRef: ref,
    documentHash: docHash,
    platformRef: hashOf(e.platformRef, at("platformRef")),
    principal: parseAmount(e.principal, ctx.decimals, at("principal")),
    annualRateBps: integer(e.annualRateBps, at("annualRateBps")),
    scheduleKind: SCHEDULE_NAMES[String(e.schedule)],
    installments: integer(e.installments, at("installments")),
    period: parseDuration(e.period, at("period")),
    gracePeriod: parseDuration(e.gracePeriod, at("gracePeriod")),
    lateFeeBps: integer(e.lateFeeBps, at("lateFeeBps")),
    defaultThreshold: parseDuration(e.defaultThreshold, at("defaultThreshold")),
    fundingDeadline: parseTime(e.fundingDeadline, at("fundingDeadline"), ctx.now),
  };
}

/** Rows of RFC 4180 CSV text: quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== "") rows.push({ line: rowLine, cells });
    cells = [];
    cell = "";
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    // Physical lines are counted, so that a row's number is the line an editor shows it on.
    const newline = c === "\n" || (c === "\r" && text[i + 1] !== "\n");
    if (newline) line += 1;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else if (newline) {
      endRow();
      rowLine = line;
    } else if (c !== "\r") cell += c;
  }
  if (quoted) throw new InputError(`a quoted field opened on line ${rowLine} is never closed`);
  if (cell !== "" || cells.length) endRow();
  return rows;
}

/** CSV rows as entries keyed by the header row; empty cells are left out, as if the key were not given. */
function csvEntries(text: string, path: string): { where: string; entry: Record<string, string> }[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new InputError(`${path} is empty: the first row names the keys`);
  const keys = header.cells.map((k) => k.trim());
  return rows.map(({ line, cells }) => {
    if (cells.length !== keys.length)
      throw new InputError(`${path} line ${line}: ${cells.length} cells, but the header names ${keys.length} keys`);
    const entry: Record<string, string> = {};
    keys.forEach((key, i) => {
      if (cells[i].trim() !== "") entry[key] = cells[i].trim();
    });
    return { where: `${path} line ${line}`, entry };
  });
}

/** One row of a loan book: where it is in the file, the platform's own reference as written, its terms or its fault. */
export interface BookRow {
  /** The line the row starts on, as an editor shows it. */
  line: number;
  /** The platform's reference as the file writes it ("" when the row gives none). */
  reference: string;
  terms?: LoanTerms;
  /** What is wrong with the row (its terms are then missing). */
  problem?: string;
  /** Whether its funding deadline counts from the import ("+7d"): another run gives it another deadline. */
  relativeDeadline?: boolean;
}

/**
 * Reads a loan book for `loan import`: CSV with a header row, or JSON Lines (one loan object a line). Unlike
 * {readTermsFile} it does not stop at the first bad row: every row comes back, with its terms or with what is wrong
 * with it, so that a dry run can name every bad row. A reference given twice is a fault of the later row, because the
 * import is idempotent by reference and would skip it silently.
 */
export async function readBook(path: string, ctx: Omit<TermsContext, "baseDir">): Promise<BookRow[]> {
  let text: string;
  try {
    text = (await readFile(path, "utf8")).replace(/^\uFEFF/, "");
  } catch (error) {
    throw new InputError(`cannot read loan book ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  const kind = extname(path).toLowerCase();
  const entries: { line: number; entry?: unknown; problem?: string }[] = [];
  if (kind === ".csv") {
    const [header, ...rows] = parseCsv(text);
    if (!header) throw new InputError(`${path} is empty: the first row names the keys`);
    const keys = header.cells.map((k) => k.trim());
    for (const { line, cells } of rows) {
      if (cells.length !== keys.length) {
        entries.push({ line, problem: `${cells.length} cells, but the header names ${keys.length} keys` });
        continue;
      }
      const entry: Record<string, string> = {};
      keys.forEach((key, i) => {
        if (cells[i].trim() !== "") entry[key] = cells[i].trim();
      });
      entries.push({ line, entry });
    }
  } else if (kind === ".jsonl" || kind === ".ndjson") {
    text.split(/\r?\n/).forEach((raw, i) => {
      if (raw.trim() === "") return;
      try {
        entries.push({ line: i + 1, entry: JSON.parse(raw) as unknown });
      } catch (error) {
        entries.push({ line: i + 1, problem: `not JSON: ${(error as Error).message.split("\n")[0]}` });
      }
    });
  } else {
    throw new InputError(`${path}: a loan book is CSV (.csv) or JSON Lines (.jsonl), one loan a row`);
  }
  if (entries.length === 0) throw new InputError(`${path} holds no loans`);
  const validate = validator(kind === ".csv" ? "csvRow" : "entry");
  const full = { ...ctx, baseDir: dirname(resolve(path)) };
  const rows = await Promise.all(
    entries.map(async ({ line, entry, problem }): Promise<BookRow> => {
      const given = (entry as { platformRef?: unknown } | undefined)?.platformRef;
      const reference = typeof given === "string" ? given : given === undefined ? "" : String(given);
      if (problem !== undefined) return { line, reference, problem };
      const where = `${path} line ${line}`;
      try {
        const deadline = (entry as { fundingDeadline?: unknown }).fundingDeadline;
        const relativeDeadline = typeof deadline === "string" && deadline.trim().startsWith("+");
        return { line, reference, relativeDeadline, terms: await termsFromEntry(entry, full, where, validate) };
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        return { line, reference, problem: error.message.replace(`${where}: `, "") };
      }
    }),
  );
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    if (!row.terms) continue;
    const earlier = firstLine.get(row.terms.platformRef);
    if (earlier === undefined) firstLine.set(row.terms.platformRef, row.line);
    else [row.terms, row.problem] = [undefined, `platformRef "${row.reference}" is on line ${earlier} too`];
  }
  return rows;
}

/** Reads a terms file: JSON holding one loan or an array of loans, or CSV (by its .csv name) with a header row. */
export async function readTermsFile(path: string, ctx: Omit<TermsContext, "baseDir">): Promise<LoanTerms[]> {
  let text: string;
  try {
    // Spreadsheets often save UTF-8 with a byte-order mark, which would otherwise become part of the first key.
    text = (await readFile(path, "utf8")).replace(/^\uFEFF/, "");
  } catch (error) {
    throw new InputError(`cannot read terms file ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  const baseDir = dirname(resolve(path));
  if (extname(path).toLowerCase() === ".csv") {
    const rows = csvEntries(text, path);
    if (rows.length === 0) throw new InputError(`${path} holds no loans`);
    return Promise.all(rows.map((r) => termsFromEntry(r.entry, { ...ctx, baseDir }, r.where, validator("csvRow"))));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`cannot read terms file ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  if (entries.length === 0) throw new InputError(`${path} holds no loans`);
  return Promise.all(entries.map((entry, i) => termsFromEntry(entry, { ...ctx, baseDir }, `${path}[${i}]`)));
}
