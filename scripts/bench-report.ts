/**
 * Operations report benchmark, in two parts; it prints its figures and exits 1 when a target is missed.
 *
 * 1. From the portal's index: REPORT_BENCH_LOANS loans (default 100 000) of four platforms over a year, written in time
 *    order through the index's store (anchored, activated, each fifth funded by two lenders through the splitter,
 *    repaid three times, one in ten late and never paying again). The month's report (its twelve-month trend
 *    included) is then computed from the index in a process of its own, as the command line does: target under
 *    5 s, with that process's peak resident memory.
 * 2. From a node: REPORT_BENCH_NODE_LOANS loans (default 1 000) with 12 repayments each built on a local `hardhat node`,
 *    and the report read from it over JSON-RPC through the provider the command line uses. The rate (records per
 *    second) is printed with what it means for 100 000 loans, beside the node's own floor: the same logs asked for
 *    and only parsed, not decoded. REPORT_BENCH_NODE_LOANS=100000 measures it directly (it takes hours to build).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toQuantity } from "ethers";
import { network } from "hardhat";
import { operations } from "../src/client/index.js";
import { fastProvider } from "../src/cli/context.js";
import { indexSourcesAt, nodeOperationsSource, operationsLogFilter, SqliteStore } from "../src/indexer/index.js";
import { startLocalNode } from "../src/portal/index.js";
import { buildBenchLedger, writeReportBook as writeBook } from "./bench-ledger.js";

const LOANS = Number(process.env.REPORT_BENCH_LOANS ?? 100_000);
const NODE_LOANS = Number(process.env.REPORT_BENCH_NODE_LOANS ?? 1_000);
const INDEX_TARGET_S = 5;
const NODE_TARGET_S = 60;
const DAY = 86_400;
const TIME_ZONE = operations.DEFAULT_TIME_ZONE;
const MiB = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

let failed = false;
const dir = await mkdtemp(join(tmpdir(), "loanledger-bench-report-"));
try {
  // ---------------------------------------------------------------- 1. from the index
  const db = join(dir, "index.sqlite");
  const store = new SqliteStore(db);
  store.start("31337", { LoanRegistry: "0x" + "1".repeat(40) }, 0);
  const start = Date.UTC(2027, 0, 1) / 1000;
  const t0 = performance.now();
  const { events, end } = writeBook(store, LOANS, start);
  const written = (performance.now() - t0) / 1000;
  store.commitUpTo({ number: 10_000_000, hash: keccak256(Buffer.from("head")), timestamp: end + 40 * DAY });
  const month = operations.addMonths(operations.monthOf(end, TIME_ZONE), -1);
  store.close();
  console.log(`index: ${LOANS} loans, ${events} events written in ${written.toFixed(1)} s`);
  // Read in a process of its own, as the command line reads it: the writing above leaves this one's heap full.
  const child = spawnSync(process.execPath, ["--import", "tsx", "scripts/bench-report-index.ts", db, month], {
    encoding: "utf8",
  });
  if (child.status !== 0) throw new Error(`the report failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split("\n").pop()!) as {
    seconds: number;
    peakKiB: number;
    trend: number;
    lent: number;
    outstanding: number;
    overdue: number;
    lenders: number;
    borrowers: number;
  };
  const fromIndex = r.seconds;
  console.log(
    `report for ${month} (${r.trend}-month trend) from the index: ${fromIndex.toFixed(2)} s ` +
      `(target < ${INDEX_TARGET_S} s: ${fromIndex < INDEX_TARGET_S ? "holds" : "MISSED"}); peak memory of the ` +
      `process ${MiB(r.peakKiB)}\n  ${r.lent} loans lent, ${r.outstanding} outstanding, ${r.overdue} overdue, ` +
      `${r.lenders} lenders, ${r.borrowers} borrowers`,
  );
  if (fromIndex >= INDEX_TARGET_S) failed = true;

  // ---------------------------------------------------------------- 2. from a node
  if (NODE_LOANS > 0) {
    const node = await startLocalNode();
    const provider = fastProvider(node.url, 31_337n);
    try {
      const connection = await network.create({ network: "localhost", override: { url: node.url } });
      const deployment = `local-bench-report-${process.pid}`;
      const { suite, seconds } = await buildBenchLedger(connection, NODE_LOANS, deployment);
      await rm(join("deploy", "deployments", deployment), { recursive: true, force: true });
      const latest = await provider.getBlock("latest");
      console.log(`node: built ${NODE_LOANS} loans with 12 repayments each in ${seconds.toFixed(0)} s`);
      const nodeMonth = operations.addMonths(operations.monthOf(latest!.timestamp, TIME_ZONE), -1);
      let records = 0;
      let replaying = 0;
      const source = nodeOperationsSource(provider, indexSourcesAt(suite.addresses, provider), 0);
      const counting: operations.OperationsSource = {
        ...source,
        replay: async (toBlock, push) => {
          const started = performance.now();
          await source.replay(toBlock, (item) => (records++, push(item)));
          replaying += (performance.now() - started) / 1000;
        },
      };
      const t2 = performance.now();
      await operations.readOperations(counting, { month: nodeMonth, timeZone: TIME_ZONE });
      const fromNode = (performance.now() - t2) / 1000;
      // The replay of the book's records grows with the book; the rest (the head, the first block, each month's last
      // block found by binary search over block times) grows with the logarithm of its blocks: counted twice over.
      const projected = (replaying * 100_000) / NODE_LOANS + 2 * (fromNode - replaying);
      // The node's part alone: the report's logs asked for in the reader's ranges and parsed, nothing decoded.
      const filter = operationsLogFilter(indexSourcesAt(suite.addresses, provider));
      const t3 = performance.now();
      let logs = 0;
      for (let from = 0; from <= latest!.number; from += 2_000) {
        const range = { fromBlock: toQuantity(from), toBlock: toQuantity(Math.min(from + 1_999, latest!.number)) };
        logs += ((await provider.send("eth_getLogs", [{ ...filter, ...range }])) as unknown[]).length;
      }
      const floor = (performance.now() - t3) / 1000;
      console.log(
        `report for ${nodeMonth} read from the node over JSON-RPC: ${fromNode.toFixed(2)} s for ${records} records ` +
          `(${replaying.toFixed(2)} s replaying them, ${Math.round(records / replaying)} records/s); at this rate 100 000 ` +
          `such loans take about ${projected.toFixed(0)} s (target < ${NODE_TARGET_S} s: ` +
          `${projected < NODE_TARGET_S ? "holds" : "MISSED"})\n` +
          `  the node alone hands over those ${logs} logs in ${floor.toFixed(2)} s (${Math.round(logs / floor)} logs/s): ` +
          `about ${((floor / NODE_LOANS) * 100_000).toFixed(0)} s for 100 000 loans, whatever the client does; ` +
          `load average ${loadavg()[0].toFixed(2)}`,
      );
      if (projected >= NODE_TARGET_S) failed = true;
    } finally {
      provider.destroy();
      await node.stop();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
