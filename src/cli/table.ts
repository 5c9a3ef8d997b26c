/**
 * The shape of the command table: each noun (`loan`, `member`, …) is one table of rows in src/cli/nouns/, and each row
 * declares a command's arguments, flags, summary, example and the module that plans it, once. The parser (commander),
 * the usage text, each command's --help, the flag checks and the types a plan reads its flags with all derive from it.
 *
 * This module and the tables load nothing heavy (no ethers, no client): `--help`, `--version` and a mistyped command
 * are answered before anything that talks to a chain is loaded.
 */
import type { CliContext } from "./context.js";
import type { CliIo } from "./output.js";

/** The modules that plan commands (src/cli/commands/<module>.ts), which src/cli/plans.ts loads when one runs. */
export type PlanModule =
  | "registry"
  | "consent"
  | "book"
  | "funding"
  | "collateral"
  | "risk"
  | "disclosure"
  | "report"
  | "custody"
  | "audit"
  | "serve";

/** The command line itself is wrong: an unknown command or flag, a flag of another command, a missing argument. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface FlagSpec {
  /** How the usage writes the flag's value ("<address>", "N"); a flag without one is a switch. */
  readonly value?: string;
  /** Refused, before the chain is touched, when the flag is missing. */
  readonly required?: boolean;
  /** The only values the flag takes. */
  readonly choices?: readonly string[];
  readonly help: string;
}

export type Flags = Readonly<Record<string, FlagSpec>>;

export interface Row {
  /** Positional arguments as the usage shows them: "<loan id>", "[amount]", "<loan id...>" (the last may repeat). */
  readonly args?: readonly string[];
  readonly flags?: Flags;
  /** One line: what the command does, for whom, and what to know first. */
  readonly summary: string;
  /** Command lines as a user writes them (after `loanledger `). */
  readonly example: string | readonly string[];
  /** The module whose `plans` hold this command's plan (loaded only when the command runs). */
  readonly in: PlanModule;
}

export type Noun = Readonly<Record<string, Row>>;

/** Declares a noun's table, keeping each row's literal types (its flags' names) for the plans that read them. */
export function noun<const T extends Noun>(rows: T): T {
  return rows;
}

/** Flags every command takes. */
export const GLOBAL_FLAGS = {
  json: { help: "print JSON (amounts exact, in the token's smallest unit); errors as one JSON object on stderr" },
  from: { value: "<key profile>", help: "act with the key LOANLEDGER_PRIVATE_KEY_<PROFILE> of the settings" },
} as const satisfies Flags;

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** What a flag's declaration gives its plan: a switch is a boolean, a required value a string, any other value optional. */
type FlagValue<F extends FlagSpec> = F extends { value: string }
  ? F extends { required: true }
    ? F extends { choices: readonly (infer C)[] }
      ? C
      : string
    : (F extends { choices: readonly (infer C)[] } ? C : string) | undefined
  : boolean;

type FlagValues<F extends Flags | undefined> = F extends Flags
  ? { readonly [K in keyof F & string as Camel<K>]: FlagValue<F[K]> }
  : unknown;

/** What a command's plan receives: its words (`loan fund <id> <amount>`, each argument in place), and its flags by name. */
export type Input<R extends Row = Row> = {
  /** The command's words and then its arguments: `p.words[2]` is the first argument. */
  readonly words: string[];
  readonly json: boolean;
  /** The key profile to act as. */
  readonly from?: string;
} & FlagValues<R["flags"]>;

/** Prints `json` with --json, `text` otherwise. */
export type Print = (io: CliIo, json: unknown, text: string) => void;

/** A command ready to run: its arguments were checked when it was planned. */
export type Command = ((p: Input, ctx: CliContext, io: CliIo) => Promise<void>) & {
  /** Runs without a chain: no context is built (and no settings are needed). */
  offline?: boolean;
  /**
   * Uses the configured deployment when the settings name one, and runs without a context when they do not (a
   * missing LOANLEDGER_RPC_URL or deployment record is then no error).
   */
  contextOptional?: boolean;
};

/** Checks a command's arguments before anything connects to the chain, and returns what runs it. */
export type Plan<R extends Row = Row> = (p: Input<R>, print: Print) => Command;

/** A plan for `row`: its flags are typed as the row declares them, so a plan reads no flag its row does not have. */
export function plan<R extends Row>(_row: R, f: Plan<R>): Plan {
  return f as unknown as Plan;
}

/** One plan for several commands of one shape (`member suspend|reinstate|expel`), by their words. */
export function planEach<R extends Row>(words: readonly string[], row: R, f: Plan<R>): Record<string, Plan> {
  return Object.fromEntries(words.map((w) => [w, plan(row, f)]));
}

/** Camel-cases a flag name as its plan reads it: `--platform-fee-bps` is `platformFeeBps`. */
export function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function flagUsage(name: string, flag: FlagSpec): string {
  const text = flag.value ? `--${name} ${flag.value}` : `--${name}`;
  return flag.required ? text : `[${text}]`;
}

/** `loan fund <loan id> <amount>`: the command's words, arguments and flags as its usage line writes them. */
export function usageLine(words: string, row: Row): string {
  const flags = Object.entries(row.flags ?? {}).map(([name, flag]) => flagUsage(name, flag));
  return [words, ...(row.args ?? []), ...flags].join(" ");
}

/** The help of one command: its usage, what it does, its flags and an example. */
export function commandHelp(words: string, row: Row): string {
  const flags = Object.entries({ ...row.flags, ...GLOBAL_FLAGS }).map(
    ([name, flag]: [string, FlagSpec]) => [flag.value ? `--${name} ${flag.value}` : `--${name}`, flag.help] as const,
  );
  const width = Math.max(...flags.map(([left]) => left.length)) + 2;
  const examples = typeof row.example === "string" ? [row.example] : row.example;
  return [
    `usage: loanledger ${usageLine(words, row)}`,
    "",
    row.summary,
    "",
    "flags:",
    ...flags.map(([left, help]) => `  ${left.padEnd(width)}${help}`),
    "",
    examples.length === 1 ? "example:" : "examples:",
    ...examples.map((e) => `  loanledger ${e}`),
  ].join("\n");
}

/** One command of a noun's help: its usage, then what it does. */
export function overviewLine(words: string, row: Row): string {
  return `  ${usageLine(words, row)}\n      ${row.summary}`;
}
