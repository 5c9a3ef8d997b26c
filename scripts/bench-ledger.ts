/**
 * The portal benchmark's ledger on a chain, as the audit benchmark first built its own: `loans` loans of one platform,
 * anchored in batches of 100, activated, and repaid on time in 12 installments each, exactly as the TypeScript mirror
 * of the schedule says.
 */
import { getAddress, id, keccak256, ZeroHash } from "ethers";
import type { network } from "hardhat";
import { deployLocalSuite } from "../deploy/local.js";
import {
  LoanStatus,
  type EventRecord,
  type LoanRecord,
  borrowerRef,
  schedule,
  ScheduleKind,
  toAddress,
  toHash32,
  type Address,
  type LoanTerms,
  type Suite,
} from "../src/client/index.js";

import type { IndexedRecord, SqliteStore } from "../src/indexer/index.js";

type Connection = Awaited<ReturnType<typeof network.create>>;

export const BENCH_INSTALLMENTS = 12;
const DAY = 86_400;

/**
 * The benchmarks' book of `count` equal-principal loans of 12 000 tokens by `platform`, 50 borrowers among them, each
 * with its own document and platform reference, open for funding until `deadline`.
 */
export function benchBook(platform: Address, count: number, deadline: number): LoanTerms[] {
  const key = new Uint8Array(32).fill(3);
  return Array.from({ length: count }, (_, i) => ({
    platform,
    borrowerRef: borrowerRef(`AUDIT${String(i % 50).padStart(6, "0")}`, key),
    documentHash: toHash32(id(`document ${i}`)),
    platformRef: toHash32(id(`audit loan ${i}`)),
    principal: 12_000n * 10n ** 18n,
    annualRateBps: 900,
    scheduleKind: ScheduleKind.EqualPrincipal,
    installments: BENCH_INSTALLMENTS,
    period: 30 * DAY,
    gracePeriod: 3 * DAY,
    lateFeeBps: 1_500,
    defaultThreshold: 90 * DAY,
    fundingDeadline: deadline,
  }));
}

export async function buildBenchLedger(
  { ethers, ignition, networkHelpers }: Pick<Connection, "ethers" | "ignition" | "networkHelpers">,
  loans: number,
  deploymentId?: string,
): Promise<{ suite: Suite; book: LoanTerms[]; deadline: number; seconds: number }> {
  const [, platform] = await ethers.getSigners();
  const suite = await deployLocalSuite(ignition, deploymentId);
  await (await suite.contracts.alliance.admitMember(platform, 1, id("bench platform"))).wait();
  const registry = suite.contracts.loans.connect(platform);

  const deadline = (await networkHelpers.time.latest()) + 30 * DAY;
  const book = benchBook(toAddress(platform.address), loans, deadline);

  const started = Date.now();
  for (let i = 0; i < loans; i += 100) await (await registry.anchorLoans(book.slice(i, i + 100))).wait();
  for (const terms of book) await registry.activateLoan(terms);
  const plans = book.map((terms) => schedule(terms));
  for (let k = 0; k < BENCH_INSTALLMENTS; k += 1) {
    await networkHelpers.time.increase(30 * DAY);
    for (const [i, terms] of book.entries()) await registry.recordPayment(terms, plans[i][k].total, ZeroHash);
  }
  return { suite, book, deadline, seconds: (Date.now() - started) / 1000 };
}

/**
 * `count` loans of four platforms anchored evenly over a year from `start`, committed through the store in time order,
 * 50 events a block. Returns the events written and the last event's time.
 */
export function writeReportBook(store: SqliteStore, count: number, start: number): { events: number; end: number } {
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
          bankRef: "0x" + "0".repeat(64),
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
