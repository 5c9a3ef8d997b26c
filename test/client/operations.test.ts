import { expect } from "chai";
import fc from "fast-check";
import { InputError, LoanStatus, operations, type EventRecord, type LoanRecord } from "../../src/client/index.js";

const DAY = 86_400;
const { monthSpan, addMonths, monthOf, localIso, standingAt, computeOperations, FIGURE_NAMES } = operations;

describe("operations report", function () {
  describe("months in the alliance's time zone", function () {
    it("begins and ends a month at local midnight: Shanghai is eight hours ahead of UTC", function () {
      const june = monthSpan("2027-06", "Asia/Shanghai");
      expect(new Date(june.start * 1000).toISOString()).to.equal("2027-05-31T16:00:00.000Z");
      expect(new Date(june.end * 1000).toISOString()).to.equal("2027-06-30T16:00:00.000Z");
      expect(localIso(june.end, "Asia/Shanghai")).to.equal("2027-07-01T00:00:00+08:00");
      // 07:00 on 1 July in Shanghai is still 30 June in UTC, but it belongs to July.
      expect(monthOf(june.end + 7 * 3_600, "Asia/Shanghai")).to.equal("2027-07");
      expect(monthOf(june.end - 1, "Asia/Shanghai")).to.equal("2027-06");
    });

    it("follows a zone's daylight-saving offset, and crosses years", function () {
      const march = monthSpan("2027-03", "America/New_York");
      expect(localIso(march.start, "America/New_York")).to.equal("2027-03-01T00:00:00-05:00");
      expect(localIso(march.end, "America/New_York")).to.equal("2027-04-01T00:00:00-04:00");
      expect(addMonths("2027-01", -1)).to.equal("2026-12");
      expect(addMonths("2026-12", 13)).to.equal("2028-01");
    });

    it("names a malformed month or an unknown zone in one sentence", function () {
      for (const bad of ["2027-13", "2027-6", "27-06", "June"]) {
        expect(() => monthSpan(bad)).to.throw(InputError, /a month is written YYYY-MM/);
      }
      expect(() => operations.checkTimeZone("Mars/Olympus")).to.throw(InputError, /is not a time zone/);
    });
  });

  describe("one definition of each figure", function () {
    it("is what the schema requires and the reader's page states, word for word", async function () {
      const { readFile } = await import("node:fs/promises");
      const schema = JSON.parse(await readFile("schemas/operations-report.schema.json", "utf8")) as {
        $defs: Record<"entity" | "trendEntity", { properties: { figures: { required: string[] } } }>;
      };
      expect(schema.$defs.entity.properties.figures.required).to.deep.equal([...FIGURE_NAMES]);
      expect(schema.$defs.trendEntity.properties.figures.required).to.deep.equal([...operations.TREND_FIGURES]);
      const rows = (await readFile("docs/operations-report.md", "utf8"))
        .split("\n")
        .filter((line) => line.startsWith("| `"))
        .map((line) =>
          line
            .split("|")
            .slice(1, -1)
            .map((cell) => cell.trim()),
        );
      expect(rows).to.deep.equal(
        operations.FIGURES.map((f) => [`\`${f.name}\``, f.title, f.definition, f.unit, f.rounding]),
      );
    });
  });

  describe("days past due", function () {
    const loan = { activatedAt: 1_000_000, installmentsPaid: 0, installments: 12, period: 30 * DAY };
    const due = loan.activatedAt + loan.period;

    it("counts every started day after the due date, and nothing up to it", function () {
      expect(standingAt(loan, due)).to.deep.equal({ standing: "current", days: 0 });
      expect(standingAt(loan, due + 1)).to.deep.equal({ standing: "1to30", days: 1 });
      expect(standingAt(loan, due + 30 * DAY)).to.deep.equal({ standing: "1to30", days: 30 });
      expect(standingAt(loan, due + 30 * DAY + 1)).to.deep.equal({ standing: "31to60", days: 31 });
      expect(standingAt(loan, due + 60 * DAY + 1).standing).to.equal("61to90");
      expect(standingAt(loan, due + 90 * DAY).standing).to.equal("61to90");
      expect(standingAt(loan, due + 90 * DAY + 1).standing).to.equal("Over90");
      // The next unpaid installment sets the clock: paying the first moves the due date a period on.
      expect(standingAt({ ...loan, installmentsPaid: 1 }, due + 1).standing).to.equal("current");
    });
  });

  describe("computed in one pass, it agrees with a brute-force recount from the raw records", function () {
    it("for random books: several platforms, every end of a loan, transfers, compensation, related parties", function () {
      fc.assert(
        fc.property(bookArb, ({ records, cutoffs }) => {
          const fast = computeOperations(records, cutoffs);
          expect(fast.map((m) => m.month)).to.deep.equal(cutoffs.map((c) => c.span.month));
          // A trend month takes only the trend's figures, and takes them as a full month does.
          const light = computeOperations(
            records,
            cutoffs.map((c) => ({ ...c, full: false })),
          );
          const pick = (figures: operations.Figures) =>
            Object.fromEntries(operations.TREND_FIGURES.map((name) => [name, figures[name]]));
          light.forEach((month, i) => {
            expect(month.alliance.figures, "light").to.deep.include(pick(fast[i].alliance.figures));
            month.platforms.forEach((p, k) => expect(p.figures).to.deep.include(pick(fast[i].platforms[k].figures)));
          });
          cutoffs.forEach((cutoff, i) => {
            const slow = bruteForce(records, cutoffs, i);
            const month = fast[i];
            const platforms = Object.fromEntries(month.platforms.map((p) => [p.platform, p.figures]));
            expect(Object.keys(platforms).sort()).to.deep.equal(Object.keys(slow.platforms).sort());
            // Figure by figure, so that a failure names the figure.
            const same = (ours: Record<string, unknown>, theirs: Record<string, unknown>, who: string) => {
              for (const name of FIGURE_NAMES)
                expect(ours[name], `${cutoff.span.month} ${who} ${name}`).to.equal(theirs[name]);
            };
            for (const [platform, figures] of Object.entries(slow.platforms))
              same(platforms[platform], figures, platform);
            same(month.alliance.figures, slow.alliance, "alliance");
          });
        }),
        { numRuns: 100 },
      );
    });
  });
});

// ------------------------------------------------------------------------------------------------ a random book

const PLATFORMS = ["0x00000000000000000000000000000000000000a1", "0x00000000000000000000000000000000000000a2"];
const LENDERS = [1, 2, 3, 4, 5].map((i) => "0x" + String(i).padStart(40, "b"));
const REFS = [1, 2, 3, 4, 5, 6].map((i) => "0x" + String(i).padStart(64, "c"));
const START = Date.UTC(2027, 0, 10) / 1000;

type Action = {
  /** Anchor a new loan (else move an existing one a step along its life). */
  create: boolean;
  loan: number;
  pick: number;
  amount: number;
  dt: number;
};

const actionArb: fc.Arbitrary<Action> = fc.record({
  create: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  loan: fc.nat(40),
  pick: fc.nat(1_000),
  amount: fc.integer({ min: 1, max: 1_000 }),
  dt: fc.constantFrom(0, 3_600, DAY, 6 * DAY, 13 * DAY, 29 * DAY),
});

interface ModelLoan {
  id: bigint;
  platform: string;
  status: number;
  principal: bigint;
  outstanding: bigint;
  paid: number;
  installments: number;
  opened: boolean;
  shares: Map<string, bigint>;
}

/**
 * Interprets random actions as a consistent ledger: each moves one loan a step its state allows (funding, activation,
 * repayment, lateness, default, recovery, write-off, transfer, take-over), or declares a related party or fee caps.
 */
const bookArb = fc.array(actionArb, { minLength: 40, maxLength: 200 }).map((actions) => {
  const records: operations.OperationsRecord[] = [];
  const loans: ModelLoan[] = [];
  let block = 1;
  let time = START;
  const position = () => ({
    blockNumber: block,
    transactionHash: "0x" + block.toString(16).padStart(64, "0"),
    logIndex: records.length,
  });
  const fact = (loan: ModelLoan, body: Record<string, string | number>, terms?: LoanRecord["terms"]) =>
    records.push({
      kind: "history",
      record: {
        loanId: "0x" + loan.id.toString(16),
        fact: { ...body, at: time },
        head: "0x",
        ...(terms ? { terms } : {}),
        ...position(),
      },
    });
  const event = (contract: string, name: string, args: EventRecord["args"]) =>
    records.push({ kind: "event", record: { contract, event: name, args, ...position() } });
  const status = (loan: ModelLoan, to: number) => {
    fact(loan, { kind: "StatusChanged", from: loan.status, to });
    loan.status = to;
  };
  const blockTimes: [number, number][] = [];
  for (const a of actions) {
    time += a.dt;
    block += 1;
    blockTimes.push([block, time]);
    const lender = LENDERS[a.pick % LENDERS.length];
    const amount = BigInt(a.amount) * 10n ** 18n;
    if (a.create || loans.length === 0) {
      const platform = PLATFORMS[a.pick % PLATFORMS.length];
      const created: ModelLoan = {
        id: BigInt(loans.length + 1),
        platform,
        status: LoanStatus.Funding,
        principal: amount * 10n,
        outstanding: amount * 10n,
        paid: 0,
        installments: 1 + (a.pick % 6),
        opened: false,
        shares: new Map(),
      };
      loans.push(created);
      fact(
        created,
        { kind: "Anchored" },
        {
          platform,
          borrowerRef: REFS[a.amount % REFS.length],
          principal: String(created.principal),
          annualRateBps: 100 * (1 + (a.pick % 20)),
          installments: created.installments,
          period: [15, 30, 45][a.pick % 3] * DAY,
          lateFeeBps: 1_000 + (a.pick % 3) * 500,
        },
      );
      continue;
    }
    const loan = loans[a.loan % loans.length];
    const id = String(loan.id);
    const moves: (() => void)[] = [
      () =>
        event("DisclosureRegistry", a.pick % 2 ? "RelatedAccountDeclared" : "RelatedBorrowerDeclared", {
          platform: PLATFORMS[a.amount % PLATFORMS.length],
          ...(a.pick % 2 ? { account: lender } : { borrowerRef: REFS[a.amount % REFS.length] }),
          related: a.amount % 4 !== 0,
        }),
      // A successor takes the loan over: the report keeps counting it for its originator.
      () => fact(loan, { kind: "ServicerChanged", from: loan.platform, to: PLATFORMS[0] }),
    ];
    if (a.amount % 17 === 0) {
      moves.push(() =>
        event("RepaymentSplitter", "FeeCapsSet", {
          caps: { platformFeeBps: a.pick % 300, premiumBps: 100, reserveBps: 50 },
        }),
      );
    }
    const repay = () => {
      const principalPart = loan.outstanding / BigInt(loan.installments - loan.paid);
      loan.paid += 1;
      loan.outstanding = loan.paid === loan.installments ? 0n : loan.outstanding - principalPart;
      fact(loan, {
        kind: "RepaymentRecorded",
        installment: loan.paid,
        amount: "0",
        lateInterest: "0",
        interest: "0",
        principal: String(principalPart),
        prepayment: "0",
        outstandingAfter: String(loan.outstanding),
        bankRef: "0x" + "0".repeat(64),
      });
      if (loan.outstanding === 0n) status(loan, LoanStatus.Repaid);
      else if (loan.status === LoanStatus.Late) status(loan, LoanStatus.Active);
    };
    const transfer = () => {
      const [from] = [...loan.shares.entries()].find(([, held]) => held > 0n) ?? [];
      if (!from) return;
      const moved = a.amount % 2 ? loan.shares.get(from)! : loan.shares.get(from)! / 2n + 1n;
      event("RepaymentSplitter", "ShareTransferred", { loanId: id, from, to: lender, shares: String(moved) });
      loan.shares.set(from, loan.shares.get(from)! - moved);
      loan.shares.set(lender, (loan.shares.get(lender) ?? 0n) + moved);
    };
    const compensate = () =>
      a.pick % 2
        ? event("RiskReserveFund", "Compensated", {
            loanId: id,
            platform: loan.platform,
            netLoss: "1",
            paid: String(amount),
          })
        : event("CreditInsurance", "ClaimPaid", { loanId: id, insurer: lender, netLoss: "1", paid: String(amount) });
    const recover = () =>
      a.pick % 2
        ? event("LossWaterfall", "LossSettled", { loanId: id, loss: "1", recoveredBefore: String(amount) })
        : event("LossWaterfall", "RecoveryApplied", { loanId: id, payer: lender, amount: String(amount) });
    switch (loan.status) {
      case LoanStatus.Funding:
        moves.push(
          () => {
            event("RepaymentSplitter", "Committed", { loanId: id, lender, amount: String(amount), committed: "0" });
            loan.shares.set(lender, (loan.shares.get(lender) ?? 0n) + amount);
          },
          () => status(loan, LoanStatus.Active),
          () => status(loan, LoanStatus.Active),
          () => (a.amount % 3 === 0 ? status(loan, LoanStatus.Cancelled) : undefined),
          () => fact(loan, { kind: "AgreementSigned", borrower: lender, platform: loan.platform }),
        );
        if (!loan.opened) {
          moves.push(() => {
            loan.opened = true;
            event("RepaymentSplitter", "FundingOpened", {
              loanId: id,
              platform: loan.platform,
              config: {
                borrowerPayout: "0x" + String(a.amount).padStart(40, "d"),
                insurer: "0x" + "0".repeat(40),
                platformFeeBps: 50 * (a.pick % 3),
                premiumBps: 25 * (a.amount % 2),
                reserveBps: 10,
              },
            });
          });
        }
        break;
      case LoanStatus.Active:
        moves.push(repay, repay, transfer, () => status(loan, LoanStatus.Late));
        break;
      case LoanStatus.Late:
        moves.push(repay, () => {
          status(loan, LoanStatus.Defaulted);
          fact(loan, { kind: "LossRecorded", principal: String(loan.outstanding), interest: "7" });
        });
        break;
      case LoanStatus.Defaulted:
        moves.push(recover, compensate, transfer, () =>
          status(loan, a.amount % 2 ? LoanStatus.WrittenOff : LoanStatus.Recovered),
        );
        break;
      case LoanStatus.WrittenOff:
        moves.push(recover, compensate, () => status(loan, LoanStatus.Recovered));
        break;
      default:
        moves.push(transfer);
    }
    moves[a.pick % moves.length]();
  }
  // Months from the first to the last block's, each cut at its last block.
  const cutoffs: operations.MonthCutoff[] = [];
  for (let m = monthOf(START); ; m = addMonths(m, 1)) {
    const span = monthSpan(m);
    const last = blockTimes.filter(([, t]) => t < span.end).pop()?.[0] ?? 0;
    cutoffs.push({ span, lastBlock: last });
    if (span.end > time) break;
  }
  return { records, cutoffs };
});

// ------------------------------------------------------------------------------------------------ the brute force

/** Every figure of month `index`, recounted loan by loan from the records up to its last block. */
function bruteForce(records: operations.OperationsRecord[], cutoffs: operations.MonthCutoff[], index: number) {
  const stateAt = (cutoff: operations.MonthCutoff) => {
    const upTo = records.filter((r) => r.record.blockNumber <= cutoff.lastBlock);
    const loanIdOf = (r: operations.OperationsRecord) =>
      r.kind === "history"
        ? BigInt(r.record.loanId)
        : r.record.args.loanId === undefined
          ? undefined
          : BigInt(String(r.record.args.loanId));
    const anchored = upTo.filter((r) => r.kind === "history" && r.record.fact.kind === "Anchored");
    /**
     * Whether `platform` declared `key` at some moment from record `from` (the key joined the loan) to the cutoff:
     * declared in force just after record `from`, or declared by a later record.
     */
    const declaredSince = (platform: string, key: string, from: number, running: (at: number) => boolean) => {
      for (let i = from + 1; i < upTo.length; i++) {
        const r = upTo[i];
        if (r.kind !== "event" || r.record.contract !== "DisclosureRegistry" || r.record.args.platform !== platform)
          continue;
        if (String(r.record.args.borrowerRef ?? r.record.args.account) !== key) continue;
        if (r.record.args.related && running(i)) return true;
      }
      return declaredAt(platform, key, from) && running(from);
    };
    const declaredAt = (platform: string, key: string, at: number) => {
      let inForce = false;
      for (let i = 0; i <= at; i++) {
        const r = upTo[i];
        if (r.kind !== "event" || r.record.contract !== "DisclosureRegistry" || r.record.args.platform !== platform)
          continue;
        if (String(r.record.args.borrowerRef ?? r.record.args.account) === key)
          inForce = Boolean(r.record.args.related);
      }
      return inForce;
    };
    /** Each party of the loan `id` with the index of the record that first tied it to the loan. */
    const partiesOf = (id: bigint) => {
      const joined = new Map<string, number>();
      upTo.forEach((r, i) => {
        if (loanIdOf(r) !== id) return;
        const keys =
          r.kind === "history"
            ? r.record.fact.kind === "Anchored"
              ? [String(r.record.terms!.borrowerRef)]
              : r.record.fact.kind === "AgreementSigned"
                ? [String(r.record.fact.borrower)]
                : []
            : r.record.event === "Committed"
              ? [String(r.record.args.lender)]
              : r.record.event === "ShareTransferred"
                ? [String(r.record.args.to)]
                : r.record.event === "FundingOpened"
                  ? [String((r.record.args.config as Record<string, string>).borrowerPayout)]
                  : [];
        for (const key of keys) if (!joined.has(key)) joined.set(key, i);
      });
      return joined;
    };
    const loans = anchored.map((a) => {
      const id = loanIdOf(a)!;
      const own = upTo.filter((r) => loanIdOf(r) === id);
      const facts = own.flatMap((r) => (r.kind === "history" ? [r.record.fact] : []));
      const events = own.flatMap((r) => (r.kind === "event" ? [r.record] : []));
      const terms = (a.record as LoanRecord).terms!;
      const statuses = facts.filter((f) => f.kind === "StatusChanged");
      const activation = statuses.find((f) => f.to === LoanStatus.Active || f.to === LoanStatus.Late);
      const repayments = facts.filter((f) => f.kind === "RepaymentRecorded");
      const lastRepayment = repayments[repayments.length - 1];
      const shares = new Map<string, bigint>();
      const lenders = new Set<string>();
      for (const e of events) {
        if (e.event === "Committed") {
          lenders.add(String(e.args.lender));
          shares.set(String(e.args.lender), (shares.get(String(e.args.lender)) ?? 0n) + BigInt(String(e.args.amount)));
        }
        if (e.event === "ShareTransferred") {
          lenders.add(String(e.args.to));
          shares.set(String(e.args.from), (shares.get(String(e.args.from)) ?? 0n) - BigInt(String(e.args.shares)));
          shares.set(String(e.args.to), (shares.get(String(e.args.to)) ?? 0n) + BigInt(String(e.args.shares)));
        }
      }
      const opened = events.find((e) => e.event === "FundingOpened");
      const originator = String(terms.platform);
      const takeOvers = facts.filter((f) => f.kind === "ServicerChanged");
      const platform = takeOvers.length ? String(takeOvers[takeOvers.length - 1].to) : originator;
      /** Whether the loan was still running (not repaid, recovered nor cancelled) after record `at`. */
      const running = (at: number) => {
        let status: number = LoanStatus.Funding;
        upTo.forEach((r, i) => {
          if (i <= at && r.kind === "history" && loanIdOf(r) === id && r.record.fact.kind === "StatusChanged") {
            status = Number(r.record.fact.to);
          }
        });
        return status !== LoanStatus.Repaid && status !== LoanStatus.Recovered && status !== LoanStatus.Cancelled;
      };
      const loss = facts.filter((f) => f.kind === "LossRecorded").reduce((s, f) => BigInt(String(f.principal)), 0n);
      const recovered = events
        .filter((e) => e.event === "RecoveryApplied")
        .reduce((s, e) => s + BigInt(String(e.args.amount)), 0n);
      const status = statuses.length ? Number(statuses[statuses.length - 1].to) : LoanStatus.Funding;
      return {
        id,
        platform,
        ref: String(terms.borrowerRef),
        principal: BigInt(String(terms.principal)),
        rate: BigInt(String(terms.annualRateBps)),
        installments: Number(terms.installments),
        period: Number(terms.period),
        lateFeeBps: Number(terms.lateFeeBps),
        lentAt: activation ? Number(activation.at) : null,
        status,
        paid: lastRepayment ? Number(lastRepayment.installment) : 0,
        outstanding: lastRepayment ? BigInt(String(lastRepayment.outstandingAfter)) : BigInt(String(terms.principal)),
        lenders,
        shares,
        related: [...partiesOf(id)].some(([key, from]) => declaredSince(originator, key, from, running)),
        badDebt:
          (status === LoanStatus.Defaulted || status === LoanStatus.WrittenOff) && loss > recovered
            ? loss - recovered
            : 0n,
        rates: opened ? (opened.args.config as Record<string, number>) : undefined,
        compensation: {
          reserve: events
            .filter((e) => e.event === "Compensated")
            .reduce((s, e) => s + BigInt(String(e.args.paid)), 0n),
          insurance: events
            .filter((e) => e.event === "ClaimPaid")
            .reduce((s, e) => s + BigInt(String(e.args.paid)), 0n),
        },
      };
    });
    return loans;
  };
  const cutoff = cutoffs[index];
  const end = cutoff.span.end;
  const now = stateAt(cutoff);
  const before = index > 0 ? stateAt(cutoffs[index - 1]) : undefined;
  const isOut = (s: number) => s === LoanStatus.Active || s === LoanStatus.Late || s === LoanStatus.Defaulted;
  const dpd = (l: (typeof now)[number], at: number) => {
    const due = (l.lentAt ?? 0) + (l.paid + 1) * l.period;
    if (l.paid >= l.installments || due >= at) return 0;
    return Math.ceil((at - due) / DAY);
  };
  const classOf = (days: number) => (days === 0 ? 0 : days <= 30 ? 1 : days <= 60 ? 2 : days <= 90 ? 3 : 4);
  const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
  const rate = (a: bigint, b: bigint) => (b === 0n ? 0 : Number((a * 10_000n) / b));

  const figuresOf = (filter: (platform: string) => boolean) => {
    const mine = now.filter((l) => filter(l.platform));
    const lent = mine.filter((l) => l.lentAt !== null);
    const out = lent.filter((l) => isOut(l.status));
    const overdue = out.filter((l) => dpd(l, end) > 0);
    const owedBy = new Map<string, bigint>();
    for (const l of out) owedBy.set(l.ref, (owedBy.get(l.ref) ?? 0n) + l.outstanding);
    const ranked = [...owedBy.values()].sort((a, b) => (b > a ? 1 : b < a ? -1 : 0));
    const outPrincipal = sum(out.map((l) => l.outstanding));
    const bucket = (k: number) => overdue.filter((l) => classOf(dpd(l, end)) === k);
    const result: Record<string, bigint | number | null> = {
      loansLentCount: lent.length,
      loansLentAmount: sum(lent.map((l) => l.principal)),
      monthLentCount: lent.filter((l) => l.lentAt! >= cutoff.span.start).length,
      monthLentAmount: sum(lent.filter((l) => l.lentAt! >= cutoff.span.start).map((l) => l.principal)),
      outstandingCount: out.length,
      outstandingPrincipal: outPrincipal,
      outstandingInterest: sum(
        out.map((l) => {
          const from = l.lentAt! + l.paid * l.period;
          return end > from ? (l.outstanding * l.rate * BigInt(end - from)) / (365n * 86_400n * 10_000n) : 0n;
        }),
      ),
      lendersCumulative: new Set(lent.flatMap((l) => [...l.lenders])).size,
      lendersCurrent: new Set(out.flatMap((l) => [...l.shares].filter(([, s]) => s > 0n).map(([x]) => x))).size,
      borrowersCumulative: new Set(lent.map((l) => l.ref)).size,
      borrowersCurrent: new Set(out.map((l) => l.ref)).size,
      top10BorrowersShareBps: rate(sum(ranked.slice(0, 10)), outPrincipal),
      largestBorrowerShareBps: rate(ranked[0] ?? 0n, outPrincipal),
      relatedPartyLentCount: lent.filter((l) => l.related).length,
      relatedPartyLentAmount: sum(lent.filter((l) => l.related).map((l) => l.principal)),
      relatedPartyOutstandingCount: out.filter((l) => l.related).length,
      relatedPartyOutstandingPrincipal: sum(out.filter((l) => l.related).map((l) => l.outstanding)),
      overdueCount: overdue.length,
      overdueAmount: sum(overdue.map((l) => l.outstanding)),
      overdue1to30Count: bucket(1).length,
      overdue1to30Amount: sum(bucket(1).map((l) => l.outstanding)),
      overdue31to60Count: bucket(2).length,
      overdue31to60Amount: sum(bucket(2).map((l) => l.outstanding)),
      overdue61to90Count: bucket(3).length,
      overdue61to90Amount: sum(bucket(3).map((l) => l.outstanding)),
      overdueOver90Count: bucket(4).length,
      overdueOver90Amount: sum(bucket(4).map((l) => l.outstanding)),
      overdueRateAmountBps: rate(sum(overdue.map((l) => l.outstanding)), outPrincipal),
      overdueRateCountBps: rate(BigInt(overdue.length), BigInt(out.length)),
      badDebtAmount: sum(lent.map((l) => l.badDebt)),
      badDebtRateBps: rate(sum(lent.map((l) => l.badDebt)), sum(lent.map((l) => l.principal))),
      reserveCompensationCumulative: sum(mine.map((l) => l.compensation.reserve)),
      insuranceCompensationCumulative: sum(mine.map((l) => l.compensation.insurance)),
    };
    const rolls = ["rollCurrentTo1to30Bps", "roll1to30To31to60Bps", "roll31to60To61to90Bps", "roll61to90ToOver90Bps"];
    rolls.forEach((name, k) => {
      if (!before) return void (result[name] = null);
      const previousEnd = cutoffs[index - 1].span.end;
      // Counted for the platform servicing the loan at this month's end, as every figure of the month is.
      const was = before.filter(
        (l) =>
          filter(now.find((x) => x.id === l.id)!.platform) &&
          l.lentAt !== null &&
          isOut(l.status) &&
          classOf(dpd(l, previousEnd)) === k,
      );
      const base = sum(was.map((l) => l.outstanding));
      const rolled = was.filter((w) => {
        const l = now.find((x) => x.id === w.id)!;
        return (isOut(l.status) && classOf(dpd(l, end)) === k + 1) || l.status === LoanStatus.WrittenOff;
      });
      result[name] = base === 0n ? null : rate(sum(rolled.map((l) => l.outstanding)), base);
    });
    return Object.fromEntries(FIGURE_NAMES.map((n) => [n, result[n]]));
  };
  const platforms = Object.fromEntries(
    [...new Set(now.map((l) => l.platform))].map((platform) => [platform, figuresOf((p) => p === platform)]),
  );
  return { platforms, alliance: figuresOf(() => true) };
}
