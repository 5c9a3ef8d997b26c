/**
 * One operations report read from an index, in a process of its own as `loanledger report --db` reads it: run by
 * `npm run bench:report`, which passes the index and the month, and reads the one JSON line this prints.
 */
import { operations } from "../src/client/index.js";
import { indexOperationsSource, SqliteStore } from "../src/indexer/index.js";

const [db, month] = process.argv.slice(2);
const store = new SqliteStore(db);
const started = performance.now();
const { months, head } = await operations.readOperations(indexOperationsSource(store), {
  month,
  timeZone: operations.DEFAULT_TIME_ZONE,
});
const report = operations.buildReport(months, {
  timeZone: operations.DEFAULT_TIME_ZONE,
  chainId: "31337",
  registry: "0x" + "1".repeat(40),
  token: { symbol: "LLST", decimals: 18 },
  block: head.block,
  blockTime: head.time,
});
const seconds = (performance.now() - started) / 1000;
store.close();
const a = report.alliance.figures;
console.log(
  JSON.stringify({
    seconds,
    peakKiB: process.resourceUsage().maxRSS,
    trend: report.trend.length,
    lent: a.loansLentCount,
    outstanding: a.outstandingCount,
    overdue: a.overdueCount,
    lenders: a.lendersCumulative,
    borrowers: a.borrowersCumulative,
  }),
);
