/**
 * `npm run portal`: starts a local node (hardhat node on 127.0.0.1, a free port), runs the demo's story on it, indexes
 * it and serves the portal until Ctrl-C, which stops the server and the node. PORTAL_PORT picks the portal's port
 * (default 8080, 0 for any free one); PORTAL_DB the index file (default: a fresh one in a temporary folder).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider } from "ethers";
import { SettlementToken__factory } from "../typechain-types/index.js";
import { indexSourcesAt } from "../src/indexer/index.js";
import { openPortal, runDemoOn, startLocalNode } from "../src/portal/index.js";

const node = await startLocalNode();
const dir = await mkdtemp(join(tmpdir(), "loanledger-portal-"));
let closing: (() => Promise<void>) | undefined;
const stop = async () => {
  await closing?.();
  await node.stop();
  await rm(dir, { recursive: true, force: true });
};
process.once("SIGINT", () => void stop().then(() => process.exit(0)));
process.once("SIGTERM", () => void stop().then(() => process.exit(0)));
try {
  console.log(`local node at ${node.url}; running the demo's story on it…`);
  const suite = await runDemoOn(node.url, (line: string) => console.log(`  ${line.replace(/\n/g, "\n  ")}`));
  const provider = new JsonRpcProvider(node.url, undefined, { batchStallTime: 0, staticNetwork: true });
  const token = SettlementToken__factory.connect(suite.token, provider);
  const started = performance.now();
  const portal = await openPortal({
    provider,
    sources: indexSourcesAt(suite, provider),
    token: { decimals: Number(await token.decimals()), symbol: await token.symbol() },
    db: process.env.PORTAL_DB ?? join(dir, "index.db"),
    port: Number(process.env.PORTAL_PORT ?? 8080),
    auditReport: "audit-out/audit-report.json",
  });
  closing = async () => {
    await portal.close();
    provider.destroy();
  };
  const { events, loans, bytes } = portal.store.counts();
  console.log(
    `indexed ${events} events of ${loans} loans in ${Math.round(performance.now() - started)} ms (${bytes} bytes)`,
  );
  const [lender] = portal.store.lenders(1);
  console.log(
    `\nthe portal serves ${portal.url}  (a lender's page: ${portal.url}/#/lender/${lender}); Ctrl-C stops it`,
  );
} catch (error) {
  await stop();
  throw error;
}
