/** Command-line arguments: parsing and the checks every command shares. */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ZeroHash } from "ethers";
import {
  InputError,
  LoanLedgerError,
  ROLE_NAMES,
  toAddress,
  toHash32,
  toLoanId,
  type LoanId,
  type RoleName,
} from "../client/index.js";
import { type CliContext } from "./context.js";
import { toJson, type CliIo } from "./output.js";
import { didYouMean } from "./suggest.js";
import { textHash } from "./terms-file.js";

/** The command line itself is wrong: an unknown command or flag, a flag of another command, a missing argument. */
export class UsageError extends LoanLedgerError {
  override readonly name = "UsageError";
}

export interface Parsed {
  words: string[];
  json: boolean;
  /** The long names of the flags given, to check that they belong to the command. */
  flags: string[];
  file?: string;
  roles?: string;
  metadata?: string;
  kycExpiry?: string;
  document?: string;
  payout?: string;
  insurer?: string;
  platformFeeBps?: string;
  premiumBps?: string;
  reserveBps?: string;
  lenders?: string;
  to?: string;
  fromBlock?: string;
  watch?: string;
  assetClass?: string;
  officialId?: string;
  owner?: string;
  value?: string;
  appraisal?: string;
  secured?: string;
  priority?: string;
  consent?: string;
  deadline?: string;
  proceeds?: string;
  buyer?: string;
  proposal?: string;
  coverageBps?: string;
  capPerLoan?: string;
  quotaMultipleBps?: string;
  termEnd?: string;
  withdraw: boolean;
  nationalId?: string;
  correction: boolean;
  version?: string;
  out?: string;
  /** Signature files (comma-separated): a borrower's consent to an agreement or amendment. */
  signatures?: string;
  loan?: string;
  fromExport?: string;
  docs?: string;
  rpc?: string;
  /** audit attest and check-attestation: on chain, in the disclosure registry. */
  onChain: boolean;
  db?: string;
  host?: string;
  port?: string;
  rebuild: boolean;
  help: boolean;
  // loan import, find, list and keeper
  dryRun: boolean;
  journal?: string;
  ref?: string;
  status?: string;
  offset?: string;
  limit?: string;
  platform?: string;
  /** The key profile to act as. */
  from?: string;
}

const OPTIONS = {
  json: { type: "boolean", default: false },
  file: { type: "string" },
  roles: { type: "string" },
  metadata: { type: "string" },
  "kyc-expiry": { type: "string" },
  document: { type: "string" },
  payout: { type: "string" },
  insurer: { type: "string" },
  "platform-fee-bps": { type: "string" },
  "premium-bps": { type: "string" },
  "reserve-bps": { type: "string" },
  lenders: { type: "string" },
  to: { type: "string" },
  "from-block": { type: "string" },
  watch: { type: "string" },
  class: { type: "string" },
  "official-id": { type: "string" },
  owner: { type: "string" },
  value: { type: "string" },
  appraisal: { type: "string" },
  secured: { type: "string" },
  priority: { type: "string" },
  consent: { type: "string" },
  deadline: { type: "string" },
  proceeds: { type: "string" },
  buyer: { type: "string" },
  proposal: { type: "string" },
  "coverage-bps": { type: "string" },
  "cap-per-loan": { type: "string" },
  "quota-multiple-bps": { type: "string" },
  "term-end": { type: "string" },
  withdraw: { type: "boolean", default: false },
  "national-id": { type: "string" },
  correction: { type: "boolean", default: false },
  version: { type: "string" },
  out: { type: "string" },
  signatures: { type: "string" },
  loan: { type: "string" },
  "from-export": { type: "string" },
  docs: { type: "string" },
  rpc: { type: "string" },
  "on-chain": { type: "boolean", default: false },
  db: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  rebuild: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  // loan import, find, list and keeper
  "dry-run": { type: "boolean", default: false },
  journal: { type: "string" },
  ref: { type: "string" },
  status: { type: "string" },
  offset: { type: "string" },
  limit: { type: "string" },
  platform: { type: "string" },
  from: { type: "string" },
} as const;

export function parse(argv: string[]): Parsed {
  // A first, lenient pass names every flag given, so that an unknown one is refused with the flag that was meant.
  const { tokens } = parseArgs({ args: argv, allowPositionals: true, strict: false, tokens: true, options: OPTIONS });
  const flags = tokens.filter((t) => t.kind === "option").map((t) => t.name);
  const known = Object.keys(OPTIONS);
  const unknown = flags.find((flag) => !known.includes(flag));
  if (unknown !== undefined) {
    const written = unknown.length === 1 ? `-${unknown}` : `--${unknown}`;
    throw new UsageError(
      `unknown flag ${written}${didYouMean(unknown, known).replace('"', '"--')}; run loanledger --help`,
    );
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
    return {
      words: positionals,
      json: values.json ?? false,
      flags,
      help: values.help ?? false,
      file: values.file,
      roles: values.roles,
      metadata: values.metadata,
      kycExpiry: values["kyc-expiry"],
      document: values.document,
      payout: values.payout,
      insurer: values.insurer,
      platformFeeBps: values["platform-fee-bps"],
      premiumBps: values["premium-bps"],
      reserveBps: values["reserve-bps"],
      lenders: values.lenders,
      to: values.to,
      fromBlock: values["from-block"],
      watch: values.watch,
      assetClass: values.class,
      officialId: values["official-id"],
      owner: values.owner,
      value: values.value,
      appraisal: values.appraisal,
      secured: values.secured,
      priority: values.priority,
      consent: values.consent,
      deadline: values.deadline,
      proceeds: values.proceeds,
      buyer: values.buyer,
      proposal: values.proposal,
      coverageBps: values["coverage-bps"],
      capPerLoan: values["cap-per-loan"],
      quotaMultipleBps: values["quota-multiple-bps"],
      termEnd: values["term-end"],
      withdraw: values.withdraw ?? false,
      nationalId: values["national-id"],
      correction: values.correction ?? false,
      version: values.version,
      signatures: values.signatures,
      out: values.out,
      loan: values.loan,
      fromExport: values["from-export"],
      docs: values.docs,
      rpc: values.rpc,
      onChain: values["on-chain"] ?? false,
      db: values.db,
      host: values.host,
      port: values.port,
      rebuild: values.rebuild ?? false,
      dryRun: values["dry-run"] ?? false,
      journal: values.journal,
      ref: values.ref,
      status: values.status,
      offset: values.offset,
      limit: values.limit,
      platform: values.platform,
      from: values.from,
    };
  } catch (error) {
    throw new UsageError((error as Error).message.split(". ")[0]);
  }
}

export function arg(words: string[], index: number, name: string): string {
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

export type Command = ((p: Parsed, ctx: CliContext, io: CliIo) => Promise<void>) & {
  /** Runs without a chain: no context is built (and no settings are needed). */
  offline?: boolean;
};

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
export type Print = (io: CliIo, json: unknown, text: string) => void;

export function printer(p: Parsed): Print {
  return (io, json, text) => io.out(p.json ? toJson(json) : text);
}
