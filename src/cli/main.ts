import { readFileSync } from "node:fs";
import {
  BorrowerReferenceError,
  ContractError,
  InputError,
  toLoanLedgerError,
  UnknownRevertError,
} from "../client/index.js";
import { parse, printer, UsageError, type Command, type Parsed } from "./args.js";
import { planAudit } from "./commands/audit.js";
import { planBook } from "./commands/book.js";
import { planCollateral } from "./commands/collateral.js";
import { planConsent } from "./commands/consent.js";
import { planDisclosure } from "./commands/disclosure.js";
import { planFunding } from "./commands/funding.js";
import { planRegistry } from "./commands/registry.js";
import { planRisk } from "./commands/risk.js";
import { planServe } from "./commands/serve.js";
import { contextFromEnv, type CliContext, type ContextFactory } from "./context.js";
export { findEnvFile } from "./context.js";
import { processIo, toJson, type CliIo } from "./output.js";
import { expandLoanIds, shortLoanIdPlaces } from "./id-prefix.js";
import { NodeUnreachableError, SettingsError } from "./startup.js";
import { checkCommand, USAGE, usageOf } from "./usage.js";

/** Checks a command's arguments before anything connects to the chain. */
function plan(p: Parsed): Command {
  const print = printer(p);
  const command =
    planConsent(p, print) ??
    planRegistry(p, print) ??
    planFunding(p, print) ??
    planCollateral(p, print) ??
    planRisk(p, print) ??
    planDisclosure(p, print) ??
    planAudit(p, print) ??
    planServe(p, print) ??
    planBook(p, print);
  if (command) return command;
  throw new UsageError(`unknown command "${p.words.join(" ")}"; run loanledger --help`);
}

/**
 * Stable codes for errors under --json, by what the user must fix: the command line, an input, a setting, the node, or
 * what the contracts refused.
 */
export function errorCode(error: unknown): string {
  if (error instanceof UsageError) return "USAGE";
  if (error instanceof NodeUnreachableError) return "NODE_UNREACHABLE";
  if (error instanceof SettingsError) return "SETTINGS";
  if (error instanceof InputError || error instanceof BorrowerReferenceError) return "INVALID_INPUT";
  if (error instanceof ContractError) return "CONTRACT_ERROR";
  if (error instanceof UnknownRevertError) return "REVERTED";
  return "FAILED";
}

function report(io: CliIo, thrown: unknown, json: boolean): void {
  const error = toLoanLedgerError(thrown);
  const message = error.message.split("\n")[0];
  if (!json) {
    io.err(`error: ${message}`);
    return;
  }
  const detail =
    error instanceof ContractError ? { contractError: error.errorName, args: error.args.map(String) } : undefined;
  io.err(JSON.stringify({ error: { code: errorCode(thrown), message, ...detail } }));
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * Runs one CLI command and returns its exit code: 0 on success, 1 with a one-line reason on stderr otherwise (under
 * --json, a JSON object with a stable code). Never throws, never prints a stack trace.
 */
export async function main(
  argv: string[],
  io: CliIo = processIo,
  context: ContextFactory = contextFromEnv(),
): Promise<number> {
  const json = argv.includes("--json");
  try {
    // `--version` alone is the CLI's version; after a disclosure command it is the report's version.
    const rest = argv.filter((a) => a !== "--json");
    if (rest.length === 1 && (rest[0] === "--version" || rest[0] === "-V")) {
      io.out(json ? toJson({ version: version() }) : version());
      return 0;
    }
    const parsed = parse(argv);
    if (parsed.words.length === 0 || parsed.words[0] === "help") {
      io.out(USAGE);
      return parsed.words.length === 0 && !parsed.help ? 1 : 0;
    }
    if (parsed.help) {
      io.out(usageOf(parsed.words) ?? USAGE);
      return 0;
    }
    checkCommand(parsed.words, parsed.flags);
    // A loan id shortened as tables print it stands for the one anchored loan it matches: looked up before planning.
    let ctx: CliContext | undefined;
    const short = shortLoanIdPlaces(parsed.words);
    if (short.length) {
      ctx = await context({ profile: parsed.from });
      parsed.words = await expandLoanIds(parsed.words, short, ctx);
    }
    const command = plan(parsed);
    await command(
      parsed,
      command.offline ? (undefined as unknown as CliContext) : (ctx ?? (await context({ profile: parsed.from }))),
      io,
    );
    return 0;
  } catch (error) {
    report(io, error, json);
    return 1;
  }
}
