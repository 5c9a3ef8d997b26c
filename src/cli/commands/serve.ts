/** `loanledger serve`: the indexer and the read-only portal, until interrupted. */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { InputError, LoanLedgerError } from "../../client/index.js";
import { openPortal } from "../../portal/index.js";
import { wholeNumber } from "../args.js";
import { serve } from "../nouns/serve.js";
import { plan, type Command, type Input, type Plan, type Print } from "../table.js";

/** Where `loanledger audit verify` leaves its report when run from the project (the portal shows the last one). */
const AUDIT_REPORTS = ["audit-report.json", "audit-out/audit-report.json"];

function planServe(p: Input<(typeof serve)[""]>, print: Print): Command {
  const port = wholeNumber(p.port, "--port", 8_080, 65_535);
  const host = p.host ?? "127.0.0.1";
  if (!/^[0-9a-zA-Z.:[\]-]+$/.test(host)) throw new InputError(`--host must be an address to listen on, not ${host}`);
  return async (_p, ctx, io) => {
    const memberNames = p.names === undefined ? undefined : await readNames(p.names);
    const provider = ctx.signer.provider;
    if (!provider) throw new LoanLedgerError("the settings give no node to read from");
    const chainId = (await provider.getNetwork()).chainId;
    const db = p.db ?? `cache/index-chain-${chainId}.sqlite`;
    await mkdir(dirname(db), { recursive: true });
    const token = String((await ctx.splitter.token()).target);
    const portal = await openPortal({
      provider,
      sources: { ...ctx.suite.auditSources, disclosures: ctx.disclosures.contract, token },
      token: { decimals: ctx.decimals, symbol: ctx.symbol },
      db,
      fromBlock: ctx.fromBlock,
      host,
      port,
      rebuild: p.rebuild,
      timeZone: ctx.timeZone,
      memberNames,
      auditReport: AUDIT_REPORTS.find((file) => existsSync(file)),
      onSync: (block, head, events) => {
        io.status?.(
          `indexed to block ${block.toLocaleString("en-US")} of ${head.toLocaleString("en-US")} (${events.toLocaleString("en-US")} events)`,
        );
      },
    });
    const { events, loans } = portal.store.counts();
    print(
      io,
      { url: portal.url, db, block: portal.store.state()?.last ?? null, events, loans },
      `serving the portal at ${portal.url} (index ${db}: ${loans} loans, ${events} events, to block ` +
        `${portal.store.state()?.last?.number}); Ctrl-C stops it`,
    );
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await portal.close();
  };
}

export const plans: Record<string, Plan> = { serve: plan(serve[""], planServe) };

/** A names directory: a JSON object of member address to name. */
async function readNames(file: string): Promise<Record<string, string>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch {
    throw new InputError(`--names ${file} is not a JSON file (an object of member address to name)`);
  }
  const entries = typeof value === "object" && value !== null && !Array.isArray(value) ? Object.entries(value) : null;
  const bad = entries?.find(([address, name]) => !/^0x[0-9a-fA-F]{40}$/.test(address) || typeof name !== "string");
  if (!entries || bad) {
    throw new InputError(
      `--names ${file} maps member addresses to names${bad ? `: ${JSON.stringify(bad[0])} is not an address with a name` : ""}`,
    );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
