/** Everything `loanledger serve` starts, from a provider and the suite's contracts: index, proofs, API and server. */
import type { Provider } from "ethers";
import { Indexer, LoanProver, SqliteStore, type IndexProgress, type IndexSources } from "../indexer/index.js";
import { PortalApi, type TokenInfo } from "./api.js";
import { buildPortal } from "./build.js";
import { PortalServer } from "./server.js";

export interface PortalOptions {
  provider: Provider;
  sources: IndexSources;
  token: TokenInfo;
  /** The SQLite file of the index (created when missing). */
  db: string;
  fromBlock?: number;
  host?: string;
  port?: number;
  /** Empty the index and index again from the deployment block. */
  rebuild?: boolean;
  syncIntervalMs?: number;
  /** Follow the chain (the default); false serves the index as it is, without asking the node for new blocks. */
  follow?: boolean;
  /** The last audit report to show (audit-report.json written by `loanledger audit verify --out`). */
  auditReport?: string;
  /** A built front-end; built into cache/portal/ when not given. */
  staticDir?: string;
  onSync?: IndexProgress;
  /** The alliance's time zone, for the operations report's months (Asia/Shanghai by default). */
  timeZone?: string;
  /** Members' names by address (a directory kept off chain, each checked against the member's registered hash). */
  memberNames?: Record<string, string>;
}

export interface RunningPortal {
  url: string;
  store: SqliteStore;
  indexer: Indexer;
  server: PortalServer;
  api: PortalApi;
  close(): Promise<void>;
}

/** Blocks per log query while the portal serves pages (the reader's default, 2 000, suits a batch job). */
const SERVING_BLOCK_RANGE = 200;

export async function openPortal(options: PortalOptions): Promise<RunningPortal> {
  const staticDir = options.staticDir ?? (await buildPortal());
  const store = new SqliteStore(options.db);
  try {
    // Short ranges: each node answer is decoded in one piece, and the pages wait while it is (a set setting wins).
    const blockRange = process.env.LOANLEDGER_LOG_BLOCK_RANGE ? undefined : SERVING_BLOCK_RANGE;
    const indexer = new Indexer(store, options.provider, options.sources, { fromBlock: options.fromBlock, blockRange });
    if (options.rebuild) store.clear();
    const prover = new LoanProver(store, options.provider);
    let server: PortalServer | undefined;
    const api = new PortalApi(store, options.provider, prover, options.token, {
      health: () => ({
        syncError: server?.syncError ?? null,
        syncWarning: server?.syncWarning ?? null,
        indexing: server?.indexing ?? false,
      }),
      auditReport: options.auditReport,
      timeZone: options.timeZone,
      memberNames: options.memberNames,
    });
    server = new PortalServer(indexer, api, {
      host: options.host,
      port: options.port,
      staticDir,
      syncIntervalMs: options.follow === false ? 0 : options.syncIntervalMs,
      follow: options.follow,
      onSync: options.onSync,
    });
    const url = await server.start();
    const running = server;
    return {
      url,
      store,
      indexer,
      server: running,
      api,
      async close() {
        await running.stop();
        store.close();
      },
    };
  } catch (error) {
    store.close();
    throw error;
  }
}
