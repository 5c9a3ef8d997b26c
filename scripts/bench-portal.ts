/**
 * Portal benchmark, in two parts.
 *
 * 1. Indexing: the audit benchmark's ledger (PORTAL_BENCH_LOANS loans, default 1 000, with 12 repayments each) is
 *    built on a local `hardhat node` (127.0.0.1, a free port) and indexed from it over JSON-RPC: events indexed per
 *    second, the database's size, and the loan page's response time with its proof against that node.
 * 2. Pages at scale: an index of PORTAL_BENCH_INDEXED loans (default 100 000), each anchored, activated and repaid
 *    PORTAL_BENCH_REPAYMENTS times (default 3) with valid history hash chains, written through the same store, then
 *    served by the portal's HTTP server: the loan browser (pages, sorts, filters) and loan pages are timed over HTTP,
 *    median and 95th percentile, against a target of 200 ms each. Those loans are on no chain, so their pages report
 *    them unproven, after the same reads of the node and the same replay of the history that a proven page costs.
 *    PORTAL_BENCH_INDEXED=0 skips this part.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { join } from "node:path";
import { id, JsonRpcProvider, keccak256 } from "ethers";
import { network } from "hardhat";
import {
  NO_BANK_REF,
  borrowerRef,
  factHash,
  formatLoanId,
  GENESIS_HEAD,
  loanIdOf,
  LoanStatus,
  nextHead,
  schedule,
  ScheduleKind,
  toAddress,
  toHash32,
  type LoanFact,
  type LoanTerms,
} from "../src/client/index.js";
import { fastProvider } from "../src/cli/context.js";
import { indexSourcesAt, Indexer, SqliteStore, type IndexedRecord } from "../src/indexer/index.js";
import { openPortal, startLocalNode } from "../src/portal/index.js";
import { buildBenchLedger } from "./bench-ledger.js";

const LOANS = Number(process.env.PORTAL_BENCH_LOANS ?? 1_000);
const INDEXED = Number(process.env.PORTAL_BENCH_INDEXED ?? 100_000);
const REPAYMENTS = Number(process.env.PORTAL_BENCH_REPAYMENTS ?? 3);
const REQUESTS = Number(process.env.PORTAL_BENCH_REQUESTS ?? 200);
const TARGET_MS = 200;
const DAY = 86_400;

const MiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function percentiles(times: number[]): { median: number; p95: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { median: at(0.5), p95: at(0.95) };
}

async function timed(urls: string[]): Promise<{ median: number; p95: number }> {
  const times: number[] = [];
  for (const url of urls) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return percentiles(times);
}

const dir = await mkdtemp(join(tmpdir(), "loanledger-bench-portal-"));
const node = await startLocalNode();
// The provider `loanledger serve` reads through.
const provider = fastProvider(node.url, 31_337n);
let failed = false;
try {
  // ---------------------------------------------------------------- 1. indexing a chain
  const connection = await network.create({ network: "localhost", override: { url: node.url } });
  const { suite, seconds } = await buildBenchLedger(connection, LOANS, `local-bench-portal-${process.pid}`);
  await rm(join("deploy", "deployments", `local-bench-portal-${process.pid}`), { recursive: true, force: true });
  const head = await provider.getBlockNumber();
  console.log(
    `built ${LOANS} loans with 12 repayments each on hardhat node in ${seconds.toFixed(1)} s (${head} blocks)`,
  );

  const { addresses } = suite;
  const chainDb = join(dir, "chain.sqlite");
  const store = new SqliteStore(chainDb);
  const indexer = new Indexer(store, provider, indexSourcesAt(addresses, provider));
  const t0 = performance.now();
  const result = await indexer.sync();
  const indexSeconds = (performance.now() - t0) / 1000;
  const counts = store.counts();
  store.close();
  console.log(
    `indexing from the node over JSON-RPC: ${result.events} events in ${result.blocks} blocks, ${indexSeconds.toFixed(1)} s ` +
      `(${Math.round(result.events / indexSeconds)} events/s); database ${MiB(counts.bytes)} ` +
      `(${Math.round(counts.bytes / counts.events)} bytes/event)`,
  );

  // The portal indexes in its own process: its pages must keep answering while it commits.
  const busy = await openPortal({
    provider,
    sources: indexSourcesAt(addresses, provider),
    token: { decimals: 18, symbol: "LLST" },
    db: join(dir, "busy.sqlite"),
    port: 0,
    follow: false,
  });
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const indexing = busy.server.sync();
  let done = false;
  void indexing.then(() => (done = true));
  const during: number[] = [];
  while (!done) {
    // 50 requests in flight at a time, as the issue measured.
    const round = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const started = performance.now();
        await (await fetch(`${busy.url}/api/status`)).arrayBuffer();
        return performance.now() - started;
      }),
    );
    during.push(...round);
  }
  await indexing;
  lag.disable();
  // The same load once indexing is done: what the requests cost by themselves.
  const idle: number[] = [];
  for (let round = 0; round < 10; round++) {
    idle.push(
      ...(await Promise.all(
        Array.from({ length: 50 }, async () => {
          const started = performance.now();
          await (await fetch(`${busy.url}/api/status`)).arrayBuffer();
          return performance.now() - started;
        }),
      )),
    );
  }
  await busy.close();
  const idleTimes = percentiles(idle);
  console.log(
    `/api/status idle, 50 in flight: median ${idleTimes.median.toFixed(1)} ms, p95 ${idleTimes.p95.toFixed(1)} ms`,
  );
  const whileIndexing = percentiles(during);
  console.log(
    `/api/status while the portal indexes the chain (${during.length} requests, 50 in flight): median ` +
      `${whileIndexing.median.toFixed(1)} ms, p95 ${whileIndexing.p95.toFixed(1)} ms ` +
      `(target ${TARGET_MS} ms: ${whileIndexing.p95 < TARGET_MS ? "holds" : "MISSED"}); the event loop waited at most ` +
      `${(lag.max / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms`,
  );
  if (whileIndexing.p95 >= TARGET_MS) failed = true;

  const chainPortal = await openPortal({
    provider,
    sources: indexSourcesAt(addresses, provider),
    token: { decimals: 18, symbol: "LLST" },
    db: chainDb,
    port: 0,
    syncIntervalMs: 0,
  });
  const ids = chainPortal.store.loans({ limit: 200 }).rows.map((r) => r.loanId);
  const proven = await timed(ids.map((loanId) => `${chainPortal.url}/api/loans/${loanId}`));
  const sample = (await (await fetch(`${chainPortal.url}/api/loans/${ids[0]}`)).json()) as {
    proof: { proven: boolean };
  };
  await chainPortal.close();
  console.log(
    `loan page with its proof against the node (${ids.length} loans, 26 facts each): median ` +
      `${proven.median.toFixed(1)} ms, p95 ${proven.p95.toFixed(1)} ms; proven: ${sample.proof.proven}`,
  );
  if (!sample.proof.proven) failed = true;

  // ---------------------------------------------------------------- 2. pages over a large index
  if (INDEXED > 0) await pagesAtScale(provider, head, addresses, dir, chainPortal.indexer.contracts);
} finally {
  provider.destroy();
  await node.stop();
  await rm(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;

async function pagesAtScale(
  provider: JsonRpcProvider,
  head: number,
  addresses: Parameters<typeof indexSourcesAt>[0],
  dir: string,
  contracts: Record<string, string>,
): Promise<void> {
  const bigDb = join(dir, "large.sqlite");
  const big = new SqliteStore(bigDb);
  big.start(String((await provider.getNetwork()).chainId), contracts, 0);
  const t1 = performance.now();
  const events = writeSyntheticIndex(big, INDEXED, REPAYMENTS);
  const writeSeconds = (performance.now() - t1) / 1000;
  // The index ends at the node's head, so that a loan page reads the node as it would for a proven history.
  const last = await provider.getBlock(head);
  big.commitUpTo({ number: head, hash: last!.hash!, timestamp: last!.timestamp });
  const bigCounts = big.counts();
  big.close();
  console.log(
    `\nsynthetic index: ${INDEXED} loans, ${events} history events written through the store in ` +
      `${writeSeconds.toFixed(1)} s (${Math.round(events / writeSeconds)} events/s); database ${MiB(bigCounts.bytes)}`,
  );

  const portal = await openPortal({
    provider,
    sources: indexSourcesAt(addresses, provider),
    token: { decimals: 18, symbol: "LLST" },
    db: bigDb,
    port: 0,
    // The index is of loans no chain has: the portal serves it as it is, without following the node.
    follow: false,
  });
  const random = (n: number) => Math.floor(Math.random() * n);
  const pages = Math.floor(INDEXED / 25);
  const sorts = ["anchoredAt", "principal", "outstanding", "status", "nextDueAt"];
  const browser = Array.from({ length: REQUESTS }, (_, i) => {
    const q = new URLSearchParams({
      sort: sorts[i % sorts.length],
      dir: i % 2 ? "asc" : "desc",
      offset: String(random(Math.min(pages, 400)) * 25),
      limit: "25",
    });
    if (i % 4 === 1) q.set("status", String([LoanStatus.Active, LoanStatus.Late, LoanStatus.Repaid][random(3)]));
    if (i % 4 === 2) q.set("from", String(1_800_000_000 + random(INDEXED)));
    if (i % 4 === 3) q.set("id", "0x" + random(256).toString(16).padStart(2, "0"));
    return `${portal.url}/api/loans?${q.toString()}`;
  });
  const all = portal.store.loans({ limit: 1, offset: 0 });
  const picks = Array.from(
    { length: REQUESTS },
    () => portal.store.loans({ offset: random(all.total), limit: 1 }).rows[0].loanId,
  );
  const browse = await timed(browser);
  const loanPage = await timed(picks.map((loanId) => `${portal.url}/api/loans/${loanId}`));
  await portal.close();
  const verdict = (t: { p95: number }) => (t.p95 < TARGET_MS ? "holds" : "MISSED");
  console.log(
    `over ${INDEXED} indexed loans, ${REQUESTS} requests each, through the HTTP server:\n` +
      `  loan browser (pages, sorts, filters): median ${browse.median.toFixed(1)} ms, p95 ${browse.p95.toFixed(1)} ms ` +
      `(target < ${TARGET_MS} ms: ${verdict(browse)})\n` +
      `  loan page (history, replay, proof reads): median ${loanPage.median.toFixed(1)} ms, p95 ${loanPage.p95.toFixed(1)} ms ` +
      `(target < ${TARGET_MS} ms: ${verdict(loanPage)})`,
  );
  if (browse.p95 >= TARGET_MS || loanPage.p95 >= TARGET_MS) failed = true;
}

/**
 * `count` loans of four platforms, each anchored, activated and repaid `repayments` times on the schedule, with valid
 * history heads, committed through the store block by block (one block per 50 facts, as a busy chain would have them).
 */
function writeSyntheticIndex(store: SqliteStore, count: number, repayments: number): number {
  const platforms = [1, 2, 3, 4].map((n) => toAddress("0x" + String(n).repeat(40)));
  const key = new Uint8Array(32).fill(9);
  const start = 1_800_000_000;
  let block = 1;
  let events = 0;
  let logIndex = 0;
  let pending: IndexedRecord[] = [];
  const flush = (at: number) => {
    if (!pending.length) return;
    store.commitBlock({ number: block, hash: keccak256(Buffer.from(`block ${block}`)), timestamp: at }, pending);
    events += pending.length;
    pending = [];
    block += 1;
    logIndex = 0;
  };
  // Loans of one principal share a schedule, and 5 000 borrowers share the book: each is computed once.
  const plans = new Map<bigint, ReturnType<typeof schedule>>();
  const borrowers = new Map<number, ReturnType<typeof borrowerRef>>();
  const json = (value: unknown) =>
    JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
  for (let i = 0; i < count; i += 1) {
    const anchoredAt = start + i * 60;
    const terms: LoanTerms = {
      platform: platforms[i % 4],
      borrowerRef: borrowers.get(i % 5_000) ?? borrowerRef(`BENCH${String(i % 5_000).padStart(6, "0")}`, key),
      documentHash: toHash32(id(`document ${i}`)),
      platformRef: toHash32(id(`portal loan ${i}`)),
      principal: BigInt(1_000 + (i % 997) * 100) * 10n ** 18n,
      annualRateBps: 600 + (i % 7) * 100,
      scheduleKind: ScheduleKind.EqualPrincipal,
      installments: 12,
      period: 30 * DAY,
      gracePeriod: 3 * DAY,
      lateFeeBps: 1_500,
      defaultThreshold: 90 * DAY,
      fundingDeadline: anchoredAt + 7 * DAY,
    };
    const loanId = loanIdOf(terms);
    const formatted = formatLoanId(loanId);
    borrowers.set(i % 5_000, terms.borrowerRef);
    const plan = plans.get(terms.principal) ?? schedule(terms);
    plans.set(terms.principal, plan);
    let head = GENESIS_HEAD;
    const record = (fact: LoanFact, extra: Record<string, unknown> = {}) => {
      head = nextHead(head, factHash(loanId, fact));
      pending.push({
        kind: "history",
        record: {
          loanId: formatted,
          fact: json(fact),
          head,
          ...json(extra),
          blockNumber: block,
          transactionHash: "0x" + (block * 100 + logIndex).toString(16).padStart(64, "0"),
          logIndex: logIndex++,
        },
      });
      if (pending.length >= 50) flush(fact.at);
    };
    record({ kind: "Anchored", at: anchoredAt }, { terms });
    record({ kind: "StatusChanged", from: LoanStatus.Funding, to: LoanStatus.Active, at: anchoredAt + DAY });
    const paid = i % 10 === 0 ? 0 : repayments;
    for (let k = 0; k < paid; k += 1) {
      record({
        kind: "RepaymentRecorded",
        installment: k + 1,
        amount: plan[k].total,
        lateInterest: 0n,
        interest: plan[k].interest,
        principal: plan[k].principal,
        prepayment: 0n,
        outstandingAfter: plan[k].balanceAfter,
        bankRef: NO_BANK_REF,
        at: anchoredAt + DAY + (k + 1) * 30 * DAY,
      });
    }
    if (i % 10 === 0) {
      record({ kind: "StatusChanged", from: LoanStatus.Active, to: LoanStatus.Late, at: anchoredAt + 40 * DAY });
    }
  }
  flush(start + count * 60);
  return events;
}
