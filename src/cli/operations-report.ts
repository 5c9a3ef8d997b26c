/**
 * Reading the month's operations report for a command (`report`, `disclosure publish-month`, `disclosure check`): from
 * the node, or from the portal's index when one is given, always through the one replay of src/client/operations.
 */
import { existsSync } from "node:fs";
import { InputError, LoanLedgerError, operations, type Address } from "../client/index.js";
import { indexOperationsSource, nodeOperationsSource, SqliteStore } from "../indexer/index.js";
import type { CliContext } from "./context.js";

export interface ReportRequest {
  month: string;
  timeZone?: string;
  /** This platform only. */
  platform?: Address;
  /** The portal's index to read instead of the node. */
  db?: string;
}

/** Refuses an address that was never admitted as a platform member, naming it. */
export async function requirePlatform(ctx: CliContext, platform: Address): Promise<void> {
  const member = await ctx.alliance.member(platform);
  if (!member.roles.includes("Platform")) {
    throw new InputError(`${platform} is not a platform member of the alliance, so it has no operations to report`);
  }
}

export async function readOperationsReport(
  ctx: CliContext,
  request: ReportRequest,
): Promise<operations.OperationsReport> {
  const timeZone = operations.checkTimeZone(request.timeZone ?? ctx.timeZone);
  operations.parseMonth(request.month);
  if (request.platform) await requirePlatform(ctx, request.platform);
  const provider = ctx.signer.provider;
  if (!provider) throw new LoanLedgerError("the settings give no node to read from");
  const chainId = String((await provider.getNetwork()).chainId);
  const registry = String(ctx.loans.contract.target);
  let store: SqliteStore | undefined;
  let source: operations.OperationsSource;
  if (request.db) {
    if (!existsSync(request.db))
      throw new InputError(`there is no index at ${request.db} (loanledger serve builds it)`);
    store = new SqliteStore(request.db);
    const state = store.state();
    if (state?.chainId !== chainId || state.contracts.LoanRegistry?.toLowerCase() !== registry.toLowerCase()) {
      store.close();
      throw new InputError(
        `the index ${request.db} follows another chain or deployment: rebuild it with serve --rebuild`,
      );
    }
    source = indexOperationsSource(store);
  } else {
    const token = String((await ctx.splitter.token()).target);
    source = nodeOperationsSource(
      provider,
      { ...ctx.suite.auditSources, disclosures: ctx.disclosures.contract, token },
      ctx.fromBlock,
    );
  }
  try {
    const { months, head } = await operations.readOperations(source, { month: request.month, timeZone });
    return operations.buildReport(months, {
      timeZone,
      chainId,
      registry,
      token: { symbol: ctx.symbol, decimals: ctx.decimals },
      block: head.block,
      blockTime: head.time,
      platform: request.platform?.toLowerCase(),
    });
  } finally {
    store?.close();
  }
}
