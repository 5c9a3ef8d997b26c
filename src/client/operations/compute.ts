/**
 * The operations report's figures computed from the ledger's records in one pass: the records are replayed in chain
 * order, and at each month's last block the state of every loan is tallied per platform and for the alliance. The same
 * function serves a node's logs, the portal's index and an auditor's recomputation, so they cannot disagree.
 */
import type { EventRecord, Json, LoanRecord } from "../../records/index.js";
import { LoanStatus } from "../types.js";
import {
  BUCKETS,
  bucketOf,
  FIGURE_NAMES,
  type Bucket,
  type FeeRates,
  type FeeSchedule,
  type Figures,
} from "./figures.js";
import type { Month, MonthSpan } from "./months.js";

/** One decoded record of the ledger: a loan's history fact or another event of the suite. */
export type OperationsRecord = { kind: "history"; record: LoanRecord } | { kind: "event"; record: EventRecord };

/** A month to report and the last block whose time falls before its end. */
export interface MonthCutoff {
  span: MonthSpan;
  lastBlock: number;
  /**
   * False takes only the trend's figures ({@link TREND_FIGURES}); the others read zero. A report's earlier months are
   * its trend: skipping interest, lenders, concentration and related parties there keeps a large book's report fast.
   */
  full?: boolean;
}

export interface PlatformFigures {
  /** The platform's address, lower case. */
  platform: string;
  figures: Figures;
  feeSchedule: FeeSchedule;
}

/** Every platform's figures, and the alliance's, as of one month's end. */
export interface MonthFigures {
  month: Month;
  span: MonthSpan;
  lastBlock: number;
  /** Whether every figure was taken, or only the trend's. */
  full: boolean;
  platforms: PlatformFigures[];
  alliance: Omit<PlatformFigures, "platform">;
}

/** The event records the report reads, by contract and event. */
export const OPERATIONS_EVENTS = {
  RepaymentSplitter: ["FundingOpened", "Committed", "ShareTransferred", "FeeCapsSet"],
  LossWaterfall: ["RecoveryApplied"],
  RiskReserveFund: ["Compensated"],
  CreditInsurance: ["ClaimPaid"],
  DisclosureRegistry: ["RelatedBorrowerDeclared", "RelatedAccountDeclared"],
} as const;

/** The history facts the report reads, by the registry event each comes from (a node is asked for those events only). */
export const OPERATIONS_FACT_EVENTS = {
  Anchored: "LoanAnchored",
  StatusChanged: "LoanStatusChanged",
  RepaymentRecorded: "RepaymentRecorded",
  LossRecorded: "LossRecorded",
  AgreementSigned: "LoanAgreementSigned",
  ServicerChanged: "LoanServicerChanged",
} as const;

export const OPERATIONS_FACTS = Object.keys(OPERATIONS_FACT_EVENTS);

const DAY = 86_400;
const YEAR_BPS = 365n * 86_400n * 10_000n;
const ROLL_FROM = ["current", "1to30", "31to60", "61to90"] as const;
type Standing = "current" | Bucket;
const ROLL_FIGURES = [
  "rollCurrentTo1to30Bps",
  "roll1to30To31to60Bps",
  "roll31to60To61to90Bps",
  "roll61to90ToOver90Bps",
] as const;

interface Loan {
  /** The platform the loan counts for: its servicer (the originator, until a successor takes it over). */
  platform: string;
  /** The originating platform, whose related-party declarations apply to the loan. */
  originator: string;
  /** The borrower reference, interned: the tallies key sets and maps by small numbers, not 66-character strings. */
  ref: number;
  principal: bigint;
  annualRateBps: bigint;
  installments: number;
  period: number;
  lateFeeBps: number;
  status: number;
  activatedAt: number;
  /** When the principal was disbursed; null while it was not. */
  lentAt: number | null;
  installmentsPaid: number;
  outstanding: bigint;
  /** Every account (interned) that held a share, and the shares held now; absent until one does (most loans of a large
   * book have none, and an empty Set for each would cost the report its memory). */
  lenders?: Set<number>;
  shares?: Map<number, bigint>;
  /** The borrower's signing and payout accounts (interned), absent until one is known. */
  accounts?: Set<number>;
  lossPrincipal: bigint;
  /** Recovered from the borrower or the collateral (not compensation). */
  recovered: bigint;
  /** Compensation paid on the loan by the risk reserve and by insurers. */
  reserveComp: bigint;
  insuranceComp: bigint;
  rates: { platformFeeBps: number; premiumBps: number; reserveBps: number } | null;
  /**
   * A related-party loan: one of its parties was declared at some moment since the loan was anchored. Withdrawing the
   * declaration later does not undo it, or a platform could withdraw at each month's end and declare again after.
   */
  related: boolean;
  /** The month (its index among the cutoffs) the loan was last taken outstanding at, and its standing then. */
  takenAt: number;
  standing?: Standing;
  standingPrincipal: bigint;
}

const lower = (value: Json | undefined) => String(value).toLowerCase();
const big = (value: Json | undefined) => BigInt(value as string | number);
const num = (value: Json | undefined) => Number(value);
const bps = (part: bigint, whole: bigint) => (whole === 0n ? 0 : Number((part * 10_000n) / whole));

/** A loan's standing at `end`: not overdue, or its days-past-due bucket. */
export function standingAt(
  loan: Pick<Loan, "activatedAt" | "installmentsPaid" | "installments" | "period">,
  end: number,
): { standing: Standing; days: number } {
  if (loan.installmentsPaid >= loan.installments) return { standing: "current", days: 0 };
  const due = loan.activatedAt + (loan.installmentsPaid + 1) * loan.period;
  if (due >= end) return { standing: "current", days: 0 };
  const days = Math.ceil((end - due) / DAY);
  return { standing: bucketOf(days), days };
}

/** A loan's standing at `end`, as {@link standingAt} gives it, without its days. */
function standingOf(
  loan: Pick<Loan, "activatedAt" | "installmentsPaid" | "installments" | "period">,
  end: number,
): Standing {
  if (loan.installmentsPaid >= loan.installments) return "current";
  const due = loan.activatedAt + (loan.installmentsPaid + 1) * loan.period;
  return due >= end ? "current" : bucketOf(Math.ceil((end - due) / DAY));
}

/** Interest accrued and unpaid at `end` on a loan's outstanding principal (see the figure's definition). */
export function accruedInterest(
  loan: Pick<Loan, "activatedAt" | "installmentsPaid" | "period" | "outstanding" | "annualRateBps">,
  end: number,
): bigint {
  const from = loan.activatedAt + loan.installmentsPaid * loan.period;
  if (end <= from) return 0n;
  return (loan.outstanding * loan.annualRateBps * BigInt(end - from)) / YEAR_BPS;
}

/** A platform's declared related parties in force: borrower references and accounts, interned. */
interface Parties {
  refs: Set<number>;
  accounts: Set<number>;
  /** The platform's loans, for a declaration to reach those already made. */
  loans: Loan[];
}

/** A loan still running: not repaid, recovered nor cancelled (a written-off loan is still owed). */
const isRunning = (status: number) =>
  status !== LoanStatus.Repaid && status !== LoanStatus.Recovered && status !== LoanStatus.Cancelled;

export const isOutstanding = (status: number) =>
  status === LoanStatus.Active || status === LoanStatus.Late || status === LoanStatus.Defaulted;

/** A platform's (or the alliance's) running tally while one month is taken. */
class Tally {
  lentCount = 0;
  lentAmount = 0n;
  monthCount = 0;
  monthAmount = 0n;
  outCount = 0;
  outPrincipal = 0n;
  outInterest = 0n;
  readonly lendersAll = new Set<number>();
  readonly lendersNow = new Set<number>();
  readonly borrowersAll = new Set<number>();
  readonly borrowersNow = new Set<number>();
  readonly byBorrower = new Map<number, bigint>();
  relLentCount = 0;
  relLentAmount = 0n;
  relOutCount = 0;
  relOutPrincipal = 0n;
  overdueCount = 0;
  overdueAmount = 0n;
  readonly buckets = Object.fromEntries(BUCKETS.map((b) => [b, { count: 0, amount: 0n }])) as Record<
    Bucket,
    { count: number; amount: bigint }
  >;
  badDebt = 0n;
  reserveComp = 0n;
  insuranceComp = 0n;
  readonly rollBase = ROLL_FROM.map(() => 0n);
  readonly rollNext = ROLL_FROM.map(() => 0n);
  readonly rates = new Map<string, FeeRates>();

  /** Adds a platform's tally into this one (the alliance's): sums, and unions of the keyed sets. */
  merge(t: Tally): void {
    this.lentCount += t.lentCount;
    this.lentAmount += t.lentAmount;
    this.monthCount += t.monthCount;
    this.monthAmount += t.monthAmount;
    this.outCount += t.outCount;
    this.outPrincipal += t.outPrincipal;
    this.outInterest += t.outInterest;
    for (const x of t.lendersAll) this.lendersAll.add(x);
    for (const x of t.lendersNow) this.lendersNow.add(x);
    for (const x of t.borrowersAll) this.borrowersAll.add(x);
    for (const x of t.borrowersNow) this.borrowersNow.add(x);
    for (const [ref, owed] of t.byBorrower) this.byBorrower.set(ref, (this.byBorrower.get(ref) ?? 0n) + owed);
    this.relLentCount += t.relLentCount;
    this.relLentAmount += t.relLentAmount;
    this.relOutCount += t.relOutCount;
    this.relOutPrincipal += t.relOutPrincipal;
    this.overdueCount += t.overdueCount;
    this.overdueAmount += t.overdueAmount;
    for (const b of BUCKETS) {
      this.buckets[b].count += t.buckets[b].count;
      this.buckets[b].amount += t.buckets[b].amount;
    }
    this.badDebt += t.badDebt;
    this.reserveComp += t.reserveComp;
    this.insuranceComp += t.insuranceComp;
    for (let i = 0; i < ROLL_FROM.length; i++) {
      this.rollBase[i] += t.rollBase[i];
      this.rollNext[i] += t.rollNext[i];
    }
    for (const [key, rates] of t.rates) {
      const entry = this.rates.get(key);
      if (entry) entry.loans += rates.loans;
      else this.rates.set(key, { ...rates });
    }
  }

  figures(): Figures {
    let top10 = 0n;
    let largest = 0n;
    const owed = [...this.byBorrower.values()].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    for (let i = 0; i < Math.min(10, owed.length); i++) top10 += owed[i];
    if (owed.length) largest = owed[0];
    const figures: Record<string, bigint | number | null> = {
      loansLentCount: this.lentCount,
      loansLentAmount: this.lentAmount,
      monthLentCount: this.monthCount,
      monthLentAmount: this.monthAmount,
      outstandingCount: this.outCount,
      outstandingPrincipal: this.outPrincipal,
      outstandingInterest: this.outInterest,
      lendersCumulative: this.lendersAll.size,
      lendersCurrent: this.lendersNow.size,
      borrowersCumulative: this.borrowersAll.size,
      borrowersCurrent: this.borrowersNow.size,
      top10BorrowersShareBps: bps(top10, this.outPrincipal),
      largestBorrowerShareBps: bps(largest, this.outPrincipal),
      relatedPartyLentCount: this.relLentCount,
      relatedPartyLentAmount: this.relLentAmount,
      relatedPartyOutstandingCount: this.relOutCount,
      relatedPartyOutstandingPrincipal: this.relOutPrincipal,
      overdueCount: this.overdueCount,
      overdueAmount: this.overdueAmount,
      overdueRateAmountBps: bps(this.overdueAmount, this.outPrincipal),
      overdueRateCountBps: bps(BigInt(this.overdueCount), BigInt(this.outCount)),
      badDebtAmount: this.badDebt,
      badDebtRateBps: bps(this.badDebt, this.lentAmount),
      reserveCompensationCumulative: this.reserveComp,
      insuranceCompensationCumulative: this.insuranceComp,
    };
    for (const b of BUCKETS) {
      figures[`overdue${b}Count`] = this.buckets[b].count;
      figures[`overdue${b}Amount`] = this.buckets[b].amount;
    }
    ROLL_FIGURES.forEach((name, i) => {
      figures[name] = this.rollBase[i] === 0n ? null : bps(this.rollNext[i], this.rollBase[i]);
    });
    return Object.fromEntries(FIGURE_NAMES.map((name) => [name, figures[name]])) as Figures;
  }

  feeSchedule(caps: FeeSchedule["caps"]): FeeSchedule {
    const rates = [...this.rates.values()].sort(
      (a, b) =>
        a.platformFeeBps - b.platformFeeBps ||
        a.premiumBps - b.premiumBps ||
        a.reserveBps - b.reserveBps ||
        a.lateFeeBps - b.lateFeeBps,
    );
    return { caps, rates: rates.map((r) => ({ ...r })) };
  }
}

/** Every figure of a platform with no loan: zeros, and no roll rate. */
export const emptyFigures = (): Figures => new Tally().figures();

/**
 * Replays `records` (in chain order) and takes each of `cutoffs` (in time order) at its last block. A month's roll rates
 * need the month before it in `cutoffs`; the first month's are absent.
 */
export function computeOperations(
  records: Iterable<OperationsRecord>,
  cutoffs: readonly MonthCutoff[],
): MonthFigures[] {
  const replay = operationsReplay(cutoffs);
  for (const item of records) if (!replay.push(item)) break;
  return replay.finish();
}

/** A replay fed one record at a time, for sources read in pages: `push` says whether it still needs records. */
export interface OperationsReplay {
  push(item: OperationsRecord): boolean;
  finish(): MonthFigures[];
}

export function operationsReplay(cutoffs: readonly MonthCutoff[]): OperationsReplay {
  // Keyed by the id's 64 hex digits: a Map hashes strings well, and loan ids as bigint keys badly.
  const loans = new Map<string, Loan>();
  const related = new Map<string, Parties>();
  const refIds = new Map<string, number>();
  const accountIds = new Map<string, number>();
  const intern = (ids: Map<string, number>, key: string) => {
    let n = ids.get(key);
    if (n === undefined) ids.set(key, (n = ids.size));
    return n;
  };
  const account = (value: Json | undefined) => intern(accountIds, lower(value));
  /** Adds `party` to one of the loan's sets of accounts, marking the loan related if the party is declared now. */
  const link = (loan: Loan, kind: "lenders" | "accounts", party: number) => {
    (loan[kind] ??= new Set()).add(party);
    if (!loan.related && isRunning(loan.status) && related.get(loan.originator)?.accounts.has(party)) {
      loan.related = true;
    }
  };
  let caps: FeeSchedule["caps"] = null;
  const results: MonthFigures[] = [];
  let taken = -1;
  let next = 0;

  const relatedOf = (platform: string) => {
    let entry = related.get(platform);
    if (!entry) related.set(platform, (entry = { refs: new Set(), accounts: new Set(), loans: [] }));
    return entry;
  };
  const add = <K>(map: Map<K, bigint>, key: K, amount: bigint) => map.set(key, (map.get(key) ?? 0n) + amount);

  const take = (cutoff: MonthCutoff) => {
    const full = cutoff.full !== false;
    const { start, end } = cutoff.span;
    const tallies = new Map<string, Tally>();
    const alliance = new Tally();
    taken += 1;
    const tallyOf = (platform: string) => {
      let tally = tallies.get(platform);
      if (!tally) tallies.set(platform, (tally = new Tally()));
      return tally;
    };
    for (const loan of loans.values()) {
      const t = tallyOf(loan.platform);
      t.reserveComp += loan.reserveComp;
      t.insuranceComp += loan.insuranceComp;
      if (loan.lentAt === null) continue;
      const isRelated = full && loan.related;
      const outstanding = isOutstanding(loan.status);
      const standing = outstanding ? standingOf(loan, end) : undefined;
      // The loan's standing at the previous month's end, if it was outstanding then.
      const before = loan.takenAt === taken - 1 ? loan.standing : undefined;
      const beforePrincipal = loan.standingPrincipal;
      loan.takenAt = -1;
      t.lentCount += 1;
      t.lentAmount += loan.principal;
      if (loan.lentAt >= start) {
        t.monthCount += 1;
        t.monthAmount += loan.principal;
      }
      if (full) {
        if (loan.lenders) for (const lender of loan.lenders) t.lendersAll.add(lender);
        t.borrowersAll.add(loan.ref);
      }
      if (isRelated) {
        t.relLentCount += 1;
        t.relLentAmount += loan.principal;
      }
      if (before !== undefined && before !== "Over90") {
        const i = ROLL_FROM.indexOf(before);
        t.rollBase[i] += beforePrincipal;
        // Written off since: the worst way out, counted as rolled so that writing a loan off flatters no roll rate.
        const rolled = standing === (i === 0 ? "1to30" : BUCKETS[i]) || loan.status === LoanStatus.WrittenOff;
        if (rolled) t.rollNext[i] += beforePrincipal;
      }
      if (loan.status === LoanStatus.Defaulted || loan.status === LoanStatus.WrittenOff) {
        if (loan.lossPrincipal > loan.recovered) t.badDebt += loan.lossPrincipal - loan.recovered;
      }
      if (standing === undefined) continue;
      loan.takenAt = taken;
      loan.standing = standing;
      loan.standingPrincipal = loan.outstanding;
      t.outCount += 1;
      t.outPrincipal += loan.outstanding;
      if (full) {
        t.outInterest += accruedInterest(loan, end);
        if (loan.shares) for (const [lender, held] of loan.shares) if (held > 0n) t.lendersNow.add(lender);
        t.borrowersNow.add(loan.ref);
        t.byBorrower.set(loan.ref, (t.byBorrower.get(loan.ref) ?? 0n) + loan.outstanding);
      }
      if (isRelated) {
        t.relOutCount += 1;
        t.relOutPrincipal += loan.outstanding;
      }
      if (standing !== "current") {
        t.overdueCount += 1;
        t.overdueAmount += loan.outstanding;
        t.buckets[standing].count += 1;
        t.buckets[standing].amount += loan.outstanding;
      }
      if (full && loan.rates) {
        const key = `${loan.rates.platformFeeBps}/${loan.rates.premiumBps}/${loan.rates.reserveBps}/${loan.lateFeeBps}`;
        const entry = t.rates.get(key);
        if (entry) entry.loans += 1;
        else t.rates.set(key, { ...loan.rates, lateFeeBps: loan.lateFeeBps, loans: 1 });
      }
    }
    for (const t of tallies.values()) alliance.merge(t);
    results.push({
      month: cutoff.span.month,
      span: cutoff.span,
      lastBlock: cutoff.lastBlock,
      full,
      platforms: [...tallies.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([platform, t]) => ({ platform, figures: t.figures(), feeSchedule: t.feeSchedule(caps) })),
      alliance: { figures: alliance.figures(), feeSchedule: alliance.feeSchedule(caps) },
    });
  };

  const push = (item: OperationsRecord): boolean => {
    const { blockNumber } = item.record;
    while (next < cutoffs.length && blockNumber > cutoffs[next].lastBlock) take(cutoffs[next++]);
    if (next === cutoffs.length) return false;
    if (item.kind === "history") {
      const { fact, terms } = item.record;
      const id = item.record.loanId.slice(2).toLowerCase().padStart(64, "0");
      if (fact.kind === "Anchored" && terms) {
        loans.set(id, {
          platform: lower(terms.platform),
          originator: lower(terms.platform),
          ref: intern(refIds, lower(terms.borrowerRef)),
          principal: big(terms.principal),
          annualRateBps: big(terms.annualRateBps),
          installments: num(terms.installments),
          period: num(terms.period),
          lateFeeBps: num(terms.lateFeeBps),
          status: LoanStatus.None,
          activatedAt: 0,
          lentAt: null,
          installmentsPaid: 0,
          outstanding: big(terms.principal),
          lossPrincipal: 0n,
          recovered: 0n,
          reserveComp: 0n,
          insuranceComp: 0n,
          rates: null,
          related: false,
          takenAt: -1,
          standingPrincipal: 0n,
        });
        const created = loans.get(id)!;
        const parties = relatedOf(created.originator);
        parties.loans.push(created);
        created.related = parties.refs.has(created.ref);
        return true;
      }
      const loan = loans.get(id);
      if (!loan) return true;
      switch (fact.kind) {
        case "StatusChanged": {
          const to = num(fact.to);
          if (loan.lentAt === null && (to === LoanStatus.Active || to === LoanStatus.Late)) {
            loan.lentAt = num(fact.at);
            loan.activatedAt = num(fact.at);
          }
          loan.status = to;
          break;
        }
        case "RepaymentRecorded":
          loan.installmentsPaid = num(fact.installment);
          loan.outstanding = big(fact.outstandingAfter);
          break;
        case "LossRecorded":
          loan.lossPrincipal = big(fact.principal);
          break;
        case "ServicerChanged":
          loan.platform = lower(fact.to);
          break;
        case "AgreementSigned":
          link(loan, "accounts", account(fact.borrower));
          break;
      }
      return true;
    }
    const { contract, event, args } = item.record;
    const loan =
      args.loanId === undefined
        ? undefined
        : loans.get(
            BigInt(args.loanId as string)
              .toString(16)
              .padStart(64, "0"),
          );
    switch (`${contract}.${event}`) {
      case "RepaymentSplitter.FundingOpened":
        if (loan) {
          const config = args.config as { [key: string]: Json };
          link(loan, "accounts", account(config.borrowerPayout));
          loan.rates = {
            platformFeeBps: num(config.platformFeeBps),
            premiumBps: num(config.premiumBps),
            reserveBps: num(config.reserveBps),
          };
        }
        break;
      case "RepaymentSplitter.Committed":
        if (loan) {
          const lender = account(args.lender);
          link(loan, "lenders", lender);
          add((loan.shares ??= new Map()), lender, big(args.amount));
        }
        break;
      case "RepaymentSplitter.ShareTransferred":
        if (loan) {
          const [from, to] = [account(args.from), account(args.to)];
          link(loan, "lenders", to);
          add((loan.shares ??= new Map()), from, -big(args.shares));
          add(loan.shares, to, big(args.shares));
        }
        break;
      case "RepaymentSplitter.FeeCapsSet": {
        const c = args.caps as { [key: string]: Json };
        caps = { platformFeeBps: num(c.platformFeeBps), premiumBps: num(c.premiumBps), reserveBps: num(c.reserveBps) };
        break;
      }
      case "LossWaterfall.RecoveryApplied":
        if (loan) loan.recovered += big(args.amount);
        break;
      case "RiskReserveFund.Compensated":
        if (loan) loan.reserveComp += big(args.paid);
        break;
      case "CreditInsurance.ClaimPaid":
        if (loan) loan.insuranceComp += big(args.paid);
        break;
      case "DisclosureRegistry.RelatedBorrowerDeclared": {
        const parties = relatedOf(lower(args.platform));
        const ref = intern(refIds, lower(args.borrowerRef));
        if (!args.related) parties.refs.delete(ref);
        else {
          parties.refs.add(ref);
          for (const made of parties.loans) if (made.ref === ref && isRunning(made.status)) made.related = true;
        }
        break;
      }
      case "DisclosureRegistry.RelatedAccountDeclared": {
        const parties = relatedOf(lower(args.platform));
        const party = account(args.account);
        if (!args.related) parties.accounts.delete(party);
        else {
          parties.accounts.add(party);
          for (const made of parties.loans) {
            if (isRunning(made.status) && (made.accounts?.has(party) || made.lenders?.has(party))) made.related = true;
          }
        }
        break;
      }
    }
    return true;
  };
  const finish = () => {
    while (next < cutoffs.length) take(cutoffs[next++]);
    return results;
  };
  return { push, finish };
}
