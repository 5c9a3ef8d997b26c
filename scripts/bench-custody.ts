/**
 * Custody reconciliation benchmark: a camt.053 statement of CUSTODY_BENCH_ENTRIES entries (default 100 000: nine
 * deposits for each withdrawal) is parsed, checked and matched against as many ledger movements, and its reports are
 * rendered, as `loanledger custody reconcile` does after it has read the node. Target: under 30 s; the process's peak
 * resident memory is printed beside it. Exits 1 when the target is missed or the statement does not reconcile.
 *
 * The ledger side is built in memory: reading 100 000 events from a node measures the node, not the reconciliation.
 */
import { createHash } from "node:crypto";
import { bankReference, operations, toAddress, toHash32, type CustodyMovement } from "../src/client/index.js";
import {
  parseStatement,
  reconcile,
  reconciliationMarkdown,
  writeCamt053,
  type Statement,
  type StatementEntry,
} from "../src/audit/custody/index.js";

const ENTRIES = Number(process.env.CUSTODY_BENCH_ENTRIES ?? 100_000);
const TARGET_S = 30;
const UNIT = 10n ** 18n;
const start = Date.UTC(2027, 5, 1) / 1000;
const bank = toAddress("0x" + "b".repeat(40));
const holder = toAddress("0x" + "c".repeat(40));

const entries: StatementEntry[] = [];
const movements: CustodyMovement[] = [];
let balance = 0n;
for (let i = 0; i < ENTRIES; i++) {
  const credit = i % 10 !== 9;
  const amount = (BigInt(1 + (i % 997)) * UNIT) / 4n;
  const time = start + Math.floor((i * 29 * 86_400) / ENTRIES);
  const endToEndId = `E2E-${credit ? "IN" : "OUT"}-${i}`;
  const bankRef = bankReference(endToEndId);
  balance += credit ? amount : -amount;
  if (balance < 0n) throw new Error("the benchmark's book went negative");
  entries.push({
    entryId: `NTRY-${i}`,
    direction: credit ? "credit" : "debit",
    amount,
    amountText: "",
    bookingDate: operations.localIso(time).slice(0, 10),
    endToEndId,
    bankRef,
  });
  movements.push({
    kind: credit ? "issue" : "redeem",
    bank,
    account: holder,
    amount,
    bankRef,
    block: i + 1,
    logIndex: 0,
    time,
    transaction: toHash32("0x" + i.toString(16).padStart(64, "0")),
  });
}
const statement: Statement = {
  format: "camt.053",
  statementId: "BENCH-1",
  account: "CN00BENCH",
  currency: "CNY",
  from: new Date(start * 1000).toISOString(),
  to: new Date((start + 30 * 86_400 - 1) * 1000).toISOString(),
  opening: 0n,
  closing: balance,
  entries,
};
const xml = writeCamt053(statement, 18);

const t0 = performance.now();
const parsed = parseStatement(xml, 18);
const t1 = performance.now();
const r = reconcile(
  parsed,
  {
    token: bank,
    cutoffBlock: ENTRIES,
    cutoffTime: start,
    movements,
    supply: balance,
    bank: { address: bank, outstanding: balance },
  },
  createHash("sha256").update(xml).digest("hex"),
);
const json = JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
const markdown = reconciliationMarkdown(r, (v) => v.toString());
const t2 = performance.now();
const seconds = (t2 - t0) / 1000;
const peak = process.resourceUsage().maxRSS / 1024;
console.log(
  `custody reconcile, ${ENTRIES} entries (${(xml.length / 2 ** 20).toFixed(0)} MiB of camt.053): ` +
    `${seconds.toFixed(1)} s (parse and check ${((t1 - t0) / 1000).toFixed(1)} s, match and report ` +
    `${((t2 - t1) / 1000).toFixed(1)} s; reports ${(json.length / 2 ** 20).toFixed(0)} MiB JSON, ${markdown.length} B Markdown), ` +
    `peak ${peak.toFixed(0)} MiB, target < ${TARGET_S} s: ${seconds < TARGET_S ? "ok" : "MISSED"}`,
);
if (!r.ok) console.log(`the benchmark's statement does not reconcile: ${r.breaks} break(s)`);
if (seconds >= TARGET_S || !r.ok) process.exitCode = 1;
