/**
 * Operations report benchmark, in two parts; it prints its figures and exits 1 when a target is missed.
 *
 * 1. From the portal's index: REPORT_BENCH_LOANS loans (default 100 000) of four platforms over a year, written in time
 *    order through the index's store (anchored, activated, each fifth funded by two lenders through the splitter,
 *    repaid three times, one in ten late and never paying again). The month's report (its twelve-month trend
 *    included) is then computed from the index: target under 5 s. The process's peak resident memory is printed
 *    before and after, so the report's own share shows.
 * 2. From a node: REPORT_BENCH_NODE_LOANS loans (default 1 000) with 12 repayments each built on a local `hardhat node`,
 *    and the report read from it over JSON-RPC. The rate (records per second) is printed with what it means for 100 000
 *    loans; REPORT_BENCH_NODE_LOANS=100000 measures that directly (it takes hours to build).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, JsonRpcProvider, keccak256 } from "ethers";
import { network } from "hardhat";
import { LoanStatus, operations, type EventRecord, type LoanRecord } from "../src/client/index.js";
import {
  indexOperationsSource,
  indexSourcesAt,
  nodeOperationsSource,
  SqliteStore,
  type IndexedRecord,
} from "../src/indexer/index.js";
import { startLocalNode } from "../src/portal/index.js";
import { buildBenchLedger } from "./bench-ledger.js";

const LOANS = Number(process.env.REPORT_BENCH_LOANS ?? 100_000);
const NODE_LOANS = Number(process.env.REPORT_BENCH_NODE_LOANS ?? 1_000);
const INDEX_TARGET_S = 5;
const NODE_TARGET_S = 60;
const DAY = 86_400;
const TIME_ZONE = operations.DEFAULT_TIME_ZONE;
const MiB = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const peak = () => process.resourceUsage().maxRSS;

let failed = false;
const dir = await mkdtemp(join(tmpdir(), "loanledger-bench-report-"));
try {
  // ---------------------------------------------------------------- 1. from the index
  const store = new SqliteStore(join(dir, "index.sqlite"));
  store.start("31337", { LoanRegistry: "0x" + "1".repeat(40) }, 0);
  const start = Date.UTC(2027, 0, 1) / 1000;
  const t0 = performance.now();
  const { events, end } = writeBook(store, LOANS, start);
  const written = (performance.now() - t0) / 1000;
  store.commitUpTo({ number: 10_000_000, hash: keccak256(Buffer.from("head")), timestamp: end + 40 * DAY });
  const month = operations.addMonths(operations.monthOf(end, TIME_ZONE), -1);
  const before = peak();
  console.log(
    `index: ${LOANS} loans, ${events} events written in ${written.toFixed(1)} s; peak memory so far ${MiB(before)}`,
  );
  const t1 = performance.now();
  const { months, head } = await operations.readOperations(indexOperationsSource(store), {
    month,
    timeZone: TIME_ZONE,
  });
  const report = operations.buildReport(months, {
    timeZone: TIME_ZONE,
    chainId: "31337",
    registry: "0x" + "1".repeat(40),
    token: { symbol: "LLST", decimals: 18 },
    block: head.block,
    blockTime: head.time,
  });
  const fromIndex = (performance.now() - t1) / 1000;
  store.close();
  const a = report.alliance.figures;
  console.log(
    `report for ${month} (${report.trend.length}-month trend) from the index: ${fromIndex.toFixed(2)} s ` +
      `(target < ${INDEX_TARGET_S} s: ${fromIndex < INDEX_TARGET_S ? "holds" : "MISSED"}); peak memory ${MiB(peak())} ` +
      `(${MiB(Math.max(0, peak() - before))} more than before the report)\n` +
      `  ${a.loansLentCount} loans lent, ${a.outstandingCount} outstanding, ${a.overdueCount} overdue, ` +
      `${a.lendersCumulative} lenders, ${a.borrowersCumulative} borrowers`,
  );
  if (fromIndex >= INDEX_TARGET_S) failed = true;

  // ---------------------------------------------------------------- 2. from a node
  if (NODE_LOANS > 0) {
    const node = await startLocalNode();
    const provider = new JsonRpcProvider(node.url, undefined, { batchStallTime: 0, staticNetwork: true });
    try {
      const connection = await network.create({ network: "localhost", override: { url: node.url } });
      const deployment = `local-bench-report-${process.pid}`;
      const { suite, seconds } = await buildBenchLedger(connection, NODE_LOANS, deployment);
      await rm(join("deploy", "deployments", deployment), { recursive: true, force: true });
      const latest = await provider.getBlock("latest");
      console.log(`node: built ${NODE_LOANS} loans with 12 repayments each in ${seconds.toFixed(0)} s`);
      const nodeMonth = operations.addMonths(operations.monthOf(latest!.timestamp, TIME_ZONE), -1);
      let records = 0;
      const source = nodeOperationsSource(provider, indexSourcesAt(suite.addresses, provider), 0);
      const counting: operations.OperationsSource = {
        ...source,
        replay: (toBlock, push) => source.replay(toBlock, (item) => (records++, push(item))),
      };
      const t2 = performance.now();
      await operations.readOperations(counting, { month: nodeMonth, timeZone: TIME_ZONE });
      const fromNode = (performance.now() - t2) / 1000;
      const perLoan = fromNode / NODE_LOANS;
      const projected = perLoan * 100_000;
      console.log(
        `report for ${nodeMonth} read from the node over JSON-RPC: ${fromNode.toFixed(2)} s for ${records} records ` +
          `(${Math.round(records / fromNode)} records/s); at this rate 100 000 such loans take about ` +
          `${projected.toFixed(0)} s (target < ${NODE_TARGET_S} s: ${projected < NODE_TARGET_S ? "holds" : "MISSED"})`,
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

/**
 * `count` loans of four platforms anchored evenly over a year from `start`, committed through the store in time order,
 * 50 events a block. Returns the events written and the last event's time.
 */
function writeBook(store: SqliteStore, count: number, start: number): { events: number; end: number } {
  const platforms = [1, 2, 3, 4].map((n) => getAddress("0x" + String(n).repeat(40)));
  const lenders = Array.from({ length: 500 }, (_, i) => getAddress("0x" + (i + 1).toString(16).padStart(40, "a")));
  const spacing = Math.floor((365 * DAY) / count);
  type Pending = { at: number; make: () => IndexedRecord };
  const all: Pending[] = [];
  for (let i = 0; i < count; i += 1) {
    const anchoredAt = start + i * spacing;
    const loanId = "0x" + (BigInt(i + 1) * 7919n).toString(16).padStart(64, "0");
    const decimalId = BigInt(loanId).toString();
    const principal = BigInt(1_000 + (i % 997) * 100) * 10n ** 18n;
    const terms = {
      platform: platforms[i % 4],
      borrowerRef: "0x" + (i % 20_000).toString(16).padStart(64, "c"),
      documentHash: "0x" + "d".repeat(64),
      platformRef: "0x" + "e".repeat(64),
      principal: principal.toString(),
      annualRateBps: 600 + (i % 7) * 100,
      scheduleKind: 1,
      installments: 12,
      period: 30 * DAY,
      gracePeriod: 3 * DAY,
      lateFeeBps: 1_500,
      defaultThreshold: 90 * DAY,
      fundingDeadline: anchoredAt + 7 * DAY,
    };
    const fact = (at: number, body: LoanRecord["fact"], extra: Partial<LoanRecord> = {}): Pending => ({
      at,
      make: () => ({ kind: "history", record: { loanId, fact: { ...body, at }, head: "0x", ...extra } as LoanRecord }),
    });
    const event = (at: number, contract: string, name: string, args: EventRecord["args"]): Pending => ({
      at,
      make: () => ({ kind: "event", record: { contract, event: name, args } as EventRecord }),
    });
    all.push(fact(anchoredAt, { kind: "Anchored" }, { terms }));
    if (i % 5 === 0) {
      for (const k of [0, 1]) {
        all.push(
          event(anchoredAt + 1, "RepaymentSplitter", "Committed", {
            loanId: decimalId,
            lender: lenders[(i + k * 7) % lenders.length],
            amount: (principal / 2n).toString(),
            committed: (principal / 2n).toString(),
          }),
        );
      }
    }
    const activatedAt = anchoredAt + DAY;
    all.push(fact(activatedAt, { kind: "StatusChanged", from: LoanStatus.Funding, to: LoanStatus.Active }));
    const paid = i % 10 === 0 ? 0 : 3;
    let outstanding = principal;
    for (let k = 0; k < paid; k += 1) {
      const part = principal / 12n;
      outstanding -= part;
      all.push(
        fact(activatedAt + (k + 1) * 30 * DAY, {
          kind: "RepaymentRecorded",
          installment: k + 1,
          amount: part.toString(),
          lateInterest: "0",
          interest: "0",
          principal: part.toString(),
          prepayment: "0",
          outstandingAfter: outstanding.toString(),
        }),
      );
    }
    if (paid === 0) {
      all.push(fact(activatedAt + 34 * DAY, { kind: "StatusChanged", from: LoanStatus.Active, to: LoanStatus.Late }));
    }
  }
  all.sort((x, y) => x.at - y.at);
  let block = 1;
  for (let i = 0; i < all.length; i += 50) {
    const slice = all.slice(i, i + 50);
    const at = slice[slice.length - 1].at;
    const records = slice.map((p, logIndex) => {
      const item = p.make();
      Object.assign(item.record, {
        blockNumber: block,
        transactionHash: "0x" + block.toString(16).padStart(64, "0"),
        logIndex,
      });
      return item;
    });
    store.commitBlock({ number: block, hash: keccak256(Buffer.from(`block ${block}`)), timestamp: at }, records);
    block += 1;
  }
  return { events: all.length, end: all[all.length - 1].at };
}
