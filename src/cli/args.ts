/** The checks of arguments that commands share, before anything is sent. */
import { readFile } from "node:fs/promises";
import { ZeroAddress, ZeroHash } from "ethers";
import {
  InputError,
  ROLE_NAMES,
  toAddress,
  toHash32,
  toLoanId,
  type Address,
  type LoanId,
  type RoleName,
} from "../client/index.js";
import { type CliContext } from "./context.js";
import { toJson } from "./output.js";
import { SettingsError } from "./startup.js";
import { UsageError, type Print } from "./table.js";
import { textHash } from "./terms-file.js";

export function arg(words: readonly string[], index: number, name: string): string {
  const value = words[index];
  if (value === undefined)
    throw new UsageError(`missing <${name}>; run loanledger ${words.slice(0, 2).join(" ")} --help`);
  return value;
}

export function address(value: string) {
  try {
    return toAddress(value);
  } catch {
    throw new InputError(`not an address: ${value}`);
  }
}

export function loanIdArg(value: string): LoanId {
  try {
    return toLoanId(value);
  } catch {
    throw new InputError(`not a loan id: ${value}`);
  }
}

export function roles(list: string | undefined): RoleName[] {
  if (!list) throw new InputError(`--roles is required (${ROLE_NAMES.map((r) => r.toLowerCase()).join(",")})`);
  return list.split(",").map((raw) => {
    const name = ROLE_NAMES.find((r) => r.toLowerCase() === raw.trim().toLowerCase());
    if (!name)
      throw new InputError(`unknown role ${raw}; roles are ${ROLE_NAMES.map((r) => r.toLowerCase()).join(", ")}`);
    return name;
  });
}

export function wholeNumber(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max) throw new InputError(`${name} must be a whole number up to ${max}`);
  return Number(value);
}

export function metadataHash(value: string | undefined) {
  return value ? textHash(value) : toHash32(ZeroHash);
}

export async function latestTime(ctx: CliContext): Promise<number> {
  const block = await ctx.signer.provider?.getBlock("latest");
  return block?.timestamp ?? Math.floor(Date.now() / 1000);
}

/**
 * The account the CLI acts or reads as. Without a signing key or LOANLEDGER_ACCOUNT it is nobody (the zero address),
 * whose payouts, fees and loans are silently none: refused instead, naming what to give (`instead`, a flag or argument).
 */
export async function actingAs(ctx: CliContext, instead?: string): Promise<Address> {
  const me = toAddress(await ctx.signer.getAddress());
  if (me !== ZeroAddress) return me;
  throw new SettingsError(
    `no account to act or read as: give ${instead ? `${instead}, or ` : ""}--from <profile> (its key ` +
      "LOANLEDGER_PRIVATE_KEY_<PROFILE>), or set LOANLEDGER_ACCOUNT",
  );
}

export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new InputError(`${flag} is required`);
  return value;
}

export async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch {
    throw new InputError(`cannot read JSON from ${path}`);
  }
}

/** Prints `json` with --json, `text` otherwise. */
export function printer(p: { json: boolean }): Print {
  return (io, json, text) => io.out(p.json ? toJson(json) : text);
}
