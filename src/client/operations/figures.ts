/**
 * The monthly operations report's figures, each defined once: the command line, the portal, the export formats and the
 * auditor's recomputation all read this table, and the schema (schemas/operations-report.schema.json) lists the same
 * names. The figures follow the disclosure standard's set (T/NIFA 1-2017 and the regulator's 2017 disclosure guideline),
 * computed from the ledger's events as of the month's end.
 */

/** How a figure is measured. */
export type FigureUnit = "token" | "count" | "bps";

export interface FigureDefinition {
  /** The figure's key in a report, in CSV headers and (capitalised) as its xBRL concept. */
  name: string;
  /** A short title for tables and charts. */
  title: string;
  definition: string;
  unit: FigureUnit;
  /** How the figure is rounded: amounts and counts are exact; rates are cut down to whole basis points. */
  rounding: string;
}

const EXACT = "exact (the token's smallest unit)";
const WHOLE = "exact";
const FLOOR_BPS = "rounded down to a whole basis point; zero when the denominator is zero";
const ROLL_BPS = "rounded down to a whole basis point; absent when the earlier bucket was empty";

const LENT =
  "A loan counts as lent once its principal was disbursed (it left Funding for Active); a cancelled loan never counts. " +
  "A loan counts for the platform servicing it at the month's end: its originator, or the successor that took it over.";
const OUTSTANDING =
  "A loan is outstanding while it is Active, Late or Defaulted (it is neither repaid, recovered nor written off).";
const OVERDUE =
  "A loan is overdue when its next unpaid installment fell due before the month's end; its days past due are the days " +
  "(each started day counts) from that due date to the month's end.";

/** Every figure of a platform's (and the alliance's) month, in the order reports list them. */
export const FIGURES = [
  {
    name: "loansLentCount",
    title: "Loans lent (cumulative)",
    definition: `Loans lent since the ledger began, up to the month's end. ${LENT}`,
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "loansLentAmount",
    title: "Amount lent (cumulative)",
    definition: "Principal of the loans lent since the ledger began, up to the month's end.",
    unit: "token",
    rounding: EXACT,
  },
  {
    name: "monthLentCount",
    title: "Loans lent in the month",
    definition: "Loans lent during the month.",
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "monthLentAmount",
    title: "Amount lent in the month",
    definition: "Principal of the loans lent during the month.",
    unit: "token",
    rounding: EXACT,
  },
  {
    name: "outstandingCount",
    title: "Loans outstanding",
    definition: `Loans outstanding at the month's end. ${OUTSTANDING}`,
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "outstandingPrincipal",
    title: "Outstanding principal",
    definition: "Principal still owed on the outstanding loans at the month's end (after every repayment recorded).",
    unit: "token",
    rounding: EXACT,
  },
  {
    name: "outstandingInterest",
    title: "Outstanding interest",
    definition:
      "Interest accrued and unpaid on the outstanding loans at the month's end: each loan's outstanding principal at its " +
      "nominal annual rate (actual/365) from its last settled due date (or its disbursement) to the month's end. Late " +
      "interest is not included.",
    unit: "token",
    rounding: "each loan's accrual rounded down to the token's smallest unit, then summed",
  },
  {
    name: "lendersCumulative",
    title: "Lenders (cumulative)",
    definition: "Accounts that committed to, or were transferred a share of, a loan lent by the month's end.",
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "lendersCurrent",
    title: "Lenders (current)",
    definition: "Accounts holding a share of an outstanding loan at the month's end.",
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "borrowersCumulative",
    title: "Borrowers (cumulative)",
    definition: "Borrower references (keyed, never personal data) of the loans lent by the month's end.",
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "borrowersCurrent",
    title: "Borrowers (current)",
    definition: "Borrower references of the loans outstanding at the month's end.",
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "top10BorrowersShareBps",
    title: "Ten largest borrowers' share",
    definition:
      "Outstanding principal owed by the ten borrower references that owe the most, over the outstanding principal. " +
      "For the alliance, a borrower's loans at every platform are added up (the reference is the same everywhere).",
    unit: "bps",
    rounding: FLOOR_BPS,
  },
  {
    name: "largestBorrowerShareBps",
    title: "Largest borrower's share",
    definition:
      "Outstanding principal owed by the borrower reference that owes the most, over the outstanding principal.",
    unit: "bps",
    rounding: FLOOR_BPS,
  },
  {
    name: "relatedPartyLentCount",
    title: "Related-party loans lent (cumulative)",
    definition:
      "Loans lent by the month's end to, or funded by, a related party their originating platform declared on the " +
      "ledger: the borrower reference, the borrower's signing or payout account, or a lender's account was declared at " +
      "some moment between the loan's anchoring and the month's end while the loan ran (not yet repaid, recovered or " +
      "cancelled). A later withdrawal does not undo it (a relation that existed " +
      "while the loan ran is disclosed); it only keeps the party from marking the loans it joins after.",
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "relatedPartyLentAmount",
    title: "Related-party amount lent (cumulative)",
    definition: "Principal of the related-party loans lent by the month's end.",
    unit: "token",
    rounding: EXACT,
  },
  {
    name: "relatedPartyOutstandingCount",
    title: "Related-party loans outstanding",
    definition: "Related-party loans outstanding at the month's end.",
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "relatedPartyOutstandingPrincipal",
    title: "Related-party outstanding principal",
    definition: "Outstanding principal of the related-party loans at the month's end.",
    unit: "token",
    rounding: EXACT,
  },
  {
    name: "overdueCount",
    title: "Loans overdue",
    definition: `Outstanding loans overdue at the month's end. ${OVERDUE}`,
    unit: "count",
    rounding: WHOLE,
  },
  {
    name: "overdueAmount",
    title: "Overdue amount",
    definition:
      "Outstanding principal of the overdue loans (the whole principal still owed, not only the installments missed).",
    unit: "token",
    rounding: EXACT,
  },
  ...(
    [
      ["1to30", "1–30", "1 to 30"],
      ["31to60", "31–60", "31 to 60"],
      ["61to90", "61–90", "61 to 90"],
      ["Over90", "over 90", "more than 90"],
    ] as const
  ).flatMap(([key, short, long]) => [
    {
      name: `overdue${key}Count`,
      title: `Overdue ${short} days (loans)`,
      definition: `Overdue loans ${long} days past due at the month's end.`,
      unit: "count" as const,
      rounding: WHOLE,
    },
    {
      name: `overdue${key}Amount`,
      title: `Overdue ${short} days (amount)`,
      definition: `Outstanding principal of the overdue loans ${long} days past due at the month's end.`,
      unit: "token" as const,
      rounding: EXACT,
    },
  ]),
  {
    name: "overdueRateAmountBps",
    title: "Overdue rate (amount)",
    definition: "Overdue amount over outstanding principal.",
    unit: "bps",
    rounding: FLOOR_BPS,
  },
  {
    name: "overdueRateCountBps",
    title: "Overdue rate (loans)",
    definition: "Overdue loans over outstanding loans.",
    unit: "bps",
    rounding: FLOOR_BPS,
  },
  {
    name: "badDebtAmount",
    title: "Bad debt",
    definition:
      "For the loans Defaulted or WrittenOff at the month's end: the principal owed when each defaulted (its recorded " +
      "loss), less what was recovered on it from the borrower or its collateral by the month's end (each recovery the " +
      "loss waterfall applied, before or after the loss settled); never below zero per loan. Compensation by the reserve or an insurer is not a recovery: it " +
      "moves the loss, it does not reduce it.",
    unit: "token",
    rounding: EXACT,
  },
  {
    name: "badDebtRateBps",
    title: "Bad-debt rate",
    definition: "Bad debt over the amount lent (cumulative).",
    unit: "bps",
    rounding: FLOOR_BPS,
  },
  {
    name: "reserveCompensationCumulative",
    title: "Reserve compensation (cumulative)",
    definition: "What the alliance's risk reserve paid on the platform's loans, up to the month's end.",
    unit: "token",
    rounding: EXACT,
  },
  {
    name: "insuranceCompensationCumulative",
    title: "Insurance claims paid (cumulative)",
    definition: "What insurers paid in claims on the platform's loans, up to the month's end.",
    unit: "token",
    rounding: EXACT,
  },
  ...(
    [
      ["rollCurrentTo1to30Bps", "Roll rate current → 1–30", "not overdue", "1 to 30"],
      ["roll1to30To31to60Bps", "Roll rate 1–30 → 31–60", "1 to 30 days past due", "31 to 60"],
      ["roll31to60To61to90Bps", "Roll rate 31–60 → 61–90", "31 to 60 days past due", "61 to 90"],
      ["roll61to90ToOver90Bps", "Roll rate 61–90 → over 90", "61 to 90 days past due", "more than 90"],
    ] as const
  ).map(([name, title, from, to]) => ({
    name,
    title,
    definition:
      `Of the outstanding principal of the loans ${from} at the previous month's end, the share (by that month's ` +
      `principal) of the loans ${to} days past due at this month's end, or written off since.`,
    unit: "bps" as const,
    rounding: ROLL_BPS,
  })),
] as const satisfies readonly FigureDefinition[];

export type FigureName = (typeof FIGURES)[number]["name"];

/** A month's figures: amounts as bigint, counts and basis points as numbers, an absent roll rate as null. */
export type Figures = { [K in FigureName]: K extends `roll${string}` ? number | null : bigint | number };

export const FIGURE_NAMES: readonly FigureName[] = FIGURES.map((f) => f.name);

/** The figures a report's trend gives for each of its twelve months (the month itself has every figure). */
export const TREND_FIGURES: readonly FigureName[] = FIGURE_NAMES.filter((name) =>
  /^(loansLent|monthLent|outstanding(Count|Principal)$|overdue|badDebt|roll)/.test(name),
);

export const FIGURE_BY_NAME: ReadonlyMap<FigureName, FigureDefinition> = new Map(FIGURES.map((f) => [f.name, f]));

/** A set of per-loan fee rates in force, and how many of the outstanding loans carry it. */
export interface FeeRates {
  platformFeeBps: number;
  premiumBps: number;
  reserveBps: number;
  /** Late interest, basis points a year, from the loan's terms. */
  lateFeeBps: number;
  loans: number;
}

/** The fee schedule in force at the month's end: the alliance's caps, and the rates of the outstanding loans. */
export interface FeeSchedule {
  caps: { platformFeeBps: number; premiumBps: number; reserveBps: number } | null;
  rates: FeeRates[];
}

export const FEE_SCHEDULE_DEFINITION =
  "The alliance's caps on per-loan fee rates in force at the month's end, and each distinct set of rates (platform " +
  "fee, insurance premium, reserve contribution, late interest) carried by the outstanding loans funded through the " +
  "splitter, with the number of loans carrying it.";

export const BUCKETS = ["1to30", "31to60", "61to90", "Over90"] as const;
export type Bucket = (typeof BUCKETS)[number];

/** The bucket of `days` past due (at least one). */
export function bucketOf(days: number): Bucket {
  return days <= 30 ? "1to30" : days <= 60 ? "31to60" : days <= 90 ? "61to90" : "Over90";
}
