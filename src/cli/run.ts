/** Runs a parsed command: expands shortened loan ids, plans it, builds the chain context it needs, reports failures. */
import {
  BorrowerReferenceError,
  ContractError,
  InputError,
  toLoanLedgerError,
  UnknownRevertError,
} from "../client/index.js";
import { printer } from "./args.js";
import { ZeroAddress } from "ethers";
import { contextFromEnv, ReadOnlySigner, type CliContext, type ContextFactory } from "./context.js";
import { expandLoanIds, isShortLoanId, shortLoanIdPlaces } from "./id-prefix.js";
import { type CliIo } from "./output.js";
import type { Selected } from "./parse.js";
import { PLAN_MODULES } from "./plans.js";
import { reason } from "./reason.js";
import { NoDeploymentError, NodeUnreachableError, SettingsError } from "./startup.js";
import { UsageError } from "./table.js";

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

function report(io: CliIo, thrown: unknown, json: boolean, ctx: CliContext | undefined): void {
  const error = thrown instanceof UsageError ? thrown : toLoanLedgerError(thrown);
  // Without a key or LOANLEDGER_ACCOUNT, a command is simulated as the zero address, whose refusal (not a lender, not a
  // member) would read as if the chain refused the user: the reason says so.
  const nobody = ctx?.signer instanceof ReadOnlySigner && ctx.signer.address === ZeroAddress;
  const asNobody =
    nobody && error instanceof ContractError && error.args.some((a) => a === ZeroAddress)
      ? " (no signing key is set, so this was tried as nobody: give --from <profile>)"
      : "";
  const message = thrown instanceof UsageError ? thrown.message : reason(error, ctx) + asNobody;
  if (!json) {
    io.err(`error: ${message}`);
    return;
  }
  const detail =
    error instanceof ContractError ? { contractError: error.errorName, args: error.jsonArgs() } : undefined;
  io.err(JSON.stringify({ error: { code: errorCode(thrown), message, ...detail } }));
}

/** Runs the command `selected` names and returns its exit code, reporting a failure in one line. */
export async function run(
  { words, row, input }: Selected,
  io: CliIo,
  context: ContextFactory = contextFromEnv(),
): Promise<number> {
  let ctx: CliContext | undefined;
  const connect = async () => (ctx ??= await context({ profile: input.from }));
  try {
    let p = input;
    // A loan id shortened as tables print it stands for the one anchored loan it matches: looked up before planning.
    const short = shortLoanIdPlaces(row, p.words);
    if (short.length) p = { ...p, words: await expandLoanIds(p.words, short, await connect()) };
    // A loan id given as a flag (`audit verify --loan`) is expanded the same way.
    const loanFlag = (p as { loan?: unknown }).loan;
    if (typeof loanFlag === "string" && isShortLoanId(loanFlag))
      p = { ...p, loan: (await expandLoanIds([loanFlag], [0], await connect()))[0] } as typeof p;
    const plan = (await PLAN_MODULES[row.in]()).plans[words];
    const command = plan(p, printer(p));
    const optional = () =>
      connect().catch((error: unknown) => {
        // Only settings that name no deployment at all: any other mistake (a bad key, a node down) is reported.
        if (error instanceof NoDeploymentError) return undefined;
        throw error;
      });
    const given = command.offline ? undefined : command.contextOptional ? await optional() : await connect();
    await command(p, given as CliContext, io);
    return 0;
  } catch (error) {
    report(io, error, input.json, ctx);
    return 1;
  }
}
