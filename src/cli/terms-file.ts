import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { isHexString, keccak256, parseUnits, toUtf8Bytes } from "ethers";
import {
  borrowerRef,
  InputError,
  parseAllianceKey,
  ScheduleKind,
  toBorrowerRef,
  toHash32,
  type Address,
  type Hash32,
  type LoanTerms,
} from "../client/index.js";

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
  return Math.floor(ms / 1000);
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

/** A 32-byte hash as given, or the keccak256 of the text (a reference, a title). */
export function textHash(value: string): Hash32 {
  return toHash32(isHexString(value, 32) ? value : keccak256(toUtf8Bytes(value)));
}

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

/**
 * Turns one terms-file entry into LoanTerms. The borrower may be given by national id, which is turned into its
 * keyed reference here and never leaves this process.
 */
export async function termsFromEntry(entry: unknown, ctx: TermsContext, where: string): Promise<LoanTerms> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new InputError(`${where}: a loan is a JSON object`);
  }
  const e = entry as Record<string, unknown>;
  const at = (name: string) => `${where}.${name}`;
  let ref;
  if (typeof e.borrowerNationalId === "string") {
    ref = borrowerRef(e.borrowerNationalId, parseAllianceKey(ctx.allianceKeyHex));
  } else if (typeof e.borrowerRef === "string") {
    try {
      ref = toBorrowerRef(e.borrowerRef);
    } catch {
      throw new InputError(`${at("borrowerRef")} must be a 32-byte hex reference`);
    }
  } else {
    throw new InputError(`${where}: give borrowerNationalId (hashed locally) or borrowerRef`);
  }
  const kind = SCHEDULE_NAMES[String(e.schedule)];
  if (kind === undefined) {
    throw new InputError(`${at("schedule")} must be one of ${Object.keys(SCHEDULE_NAMES).join(", ")}`);
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
    scheduleKind: kind,
    installments: integer(e.installments ?? 1, at("installments")),
    period: parseDuration(e.period, at("period")),
    gracePeriod: parseDuration(e.gracePeriod ?? 0, at("gracePeriod")),
    lateFeeBps: integer(e.lateFeeBps ?? 0, at("lateFeeBps")),
    defaultThreshold: parseDuration(e.defaultThreshold, at("defaultThreshold")),
    fundingDeadline: parseTime(e.fundingDeadline, at("fundingDeadline"), ctx.now),
  };
}

/** Reads a terms file holding one loan or an array of loans. */
export async function readTermsFile(path: string, ctx: Omit<TermsContext, "baseDir">): Promise<LoanTerms[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new InputError(`cannot read terms file ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  if (entries.length === 0) throw new InputError(`${path} holds no loans`);
  const baseDir = dirname(resolve(path));
  return Promise.all(entries.map((entry, i) => termsFromEntry(entry, { ...ctx, baseDir }, `${path}[${i}]`)));
}
