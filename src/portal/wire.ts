/**
 * The JSON the portal's API answers, one type per resource: the server (api.ts) is checked against these, and the
 * front end (portal/src/api.ts) reads them, so the two cannot drift apart. Plain data only: no imports but the index's
 * row types, which are plain data too.
 */
import type {
  AssetRow,
  BookRow,
  DisclosureRow,
  IndexedBlock,
  InsurerRow,
  LienRow,
  LoanProof,
  LoanRow,
  LossRow,
  PayoutRow,
  PositionRow,
  ReserveRow,
} from "../indexer/rows.js";

/** Whether a loan owes the outstanding principal the index keeps (not in funding, not cancelled): pages and server alike. */
export { owesPrincipal } from "../indexer/rows.js";

export type { AssetRow, LienRow, LossRow };

/** The settlement token, as amounts are shown. */
export interface Token {
  decimals: number;
  symbol: string;
}

/** GET /api/status: what the index follows and how far it is. */
export interface Status {
  chainId: string | null;
  contracts: Record<string, string>;
  block: IndexedBlock | null;
  token: Token;
  platforms: string[];
  /**
   * Every member of the alliance, by lower-case address: its roles, its standing (Active, Suspended, Expelled), and its
   * name when the portal was given a directory (`nameProven`: the name hashes to the metadata registered on chain).
   */
  members: Record<string, { roles: string[]; standing: string; name?: string; nameProven?: boolean }>;
  lenders: string[];
  statuses: string[];
  schedules: string[];
  syncError: string | null;
  /** Why the last round of indexing failed, while it is retried: the pages may be behind the chain. */
  syncWarning: string | null;
}

/** A loan in a list: its row without the terms. */
export type Loan = Omit<LoanRow, "terms">;

/** GET /api/loans: one page of loans. */
export interface LoanList {
  total: number;
  offset: number;
  rows: Loan[];
}

/** One event of a loan's timeline: a history entry of the registry (numbered) or another contract's event. */
export interface TimelineItem {
  blockNumber: number;
  transactionHash: string;
  logIndex: number;
  at: number;
  entry: number | null;
  loanId: string | null;
  source: string;
  kind: string;
  fact: Record<string, unknown>;
  head: string | null;
  /** For an External fact: the writer's fact the proof showed it to be (its `kind` from the fact table). */
  writerFact?: Record<string, unknown>;
}

export type Proof = LoanProof;
export type Position = PositionRow;
export type Payout = PayoutRow;

/** The next installment as the registry quotes it; the amount is null when the node could not be asked. */
export interface NextPayment {
  dueDate: number;
  installment: number;
  amount: string | null;
}

/** GET /api/loans/:id */
export interface LoanPage {
  loan: LoanRow;
  next: NextPayment | null;
  history: TimelineItem[];
  documents: { version: number; hash: string; transactionHash: string; at: number }[];
  positions: Position[];
  liens: LienRow[];
  loss: LossRow | null;
  proof: Proof;
}

/** A lender's position with what it means in money: its part of what is outstanding, claimable and due next. */
export interface LenderPosition extends Position {
  platform: string | null;
  status: number | null;
  principal: string | null;
  outstanding: string | null;
  loanCommitted: string | null;
  shareBps: number;
  outstandingPart: string | null;
  claimable: string | null;
  next: (NextPayment & { yourPart: string | null }) | null;
}

/** A lender's headline figures (exact integers in the token's smallest unit). */
export interface LenderSummary {
  /** What it committed to loans. */
  putIn: string;
  /** Payouts and claims that reached it. */
  received: string;
  /** Its part of the outstanding principal, and what it can claim now. */
  stillOwed: string;
  /** What it received beyond the principal returned to it (negative while a loss is unrecovered). */
  income: string;
  /** `income` over `putIn`, in basis points; null before it put anything in. */
  realisedYieldBps: number | null;
}

/** What the lender's part of its loans' schedules brings in one month (YYYY-MM in the alliance's time zone). */
export interface ExpectedMonth {
  month: string;
  amount: string;
  installments: number;
}

/** GET /api/lenders/:address */
export interface LenderPage {
  lender: string;
  block: IndexedBlock | null;
  positions: LenderPosition[];
  payouts: Payout[];
  summary: LenderSummary;
  /** The month of the indexed block and the two after it. */
  expected: ExpectedMonth[];
}

/** GET /api/sign/:loanId: what a borrower signs, decoded for a person and ready for a wallet. */
export interface SigningPage {
  loan: Loan;
  /** The terms a borrower reads that a loan row leaves out (seconds, basis points, the first document's hash). */
  terms: {
    gracePeriod: number;
    lateFeeBps: number;
    defaultThreshold: number;
    fundingDeadline: number;
    documentHash: string;
  };
  kind: "agreement" | "amendment";
  /** Until when the signature can be used (unix seconds). */
  deadline: number;
  /** The repayment schedule from activation (seconds after it), in the token's smallest unit. */
  schedule: { k: number; dueAfter: number; principal: string; interest: string; total: string }[];
  /** EIP-712 typed data for `eth_signTypedData_v4`. */
  typedData: {
    domain: Record<string, string>;
    types: Record<string, { name: string; type: string }[]>;
    primaryType: string;
    message: Record<string, string>;
  };
  /** The EIP-712 digest signed. */
  digest: string;
}

/** GET /api/sign/:loanId/verify: a signature checked as the registry will check it. */
export interface SignatureCheck {
  /** Null when it could not be checked (the node did not answer about a contract wallet). */
  valid: boolean | null;
  /** Why it could not be checked. */
  unchecked: string | null;
  /** The key the signature recovers to, when it is a key's. */
  recovered: string | null;
  signer: string;
  signature: string;
}

/** GET /api/platform */
export interface PlatformPage {
  platform: string | null;
  book: BookRow[];
  due: Loan[];
  funding: Loan[];
  /** Loans that changed servicer: taken over by this platform, or originated by it and serviced by another now. */
  handedOver: Loan[];
  /** Active and late loans past a due date, by days past due (1to30, 31to60, 61to90, Over90). */
  overdue: { bucket: string; loans: number; outstanding: string }[];
  /** The book by month anchored (YYYY-MM, alliance time zone): loans, principal, and what they owe now. */
  months: { month: string; loans: number; principal: string; outstanding: string }[];
  reserve: ReserveRow[];
  insurers: InsurerRow[];
}

/** A published disclosure beside the ledger's own figures for its platform and month. */
export interface Disclosure extends DisclosureRow {
  /** 1: key figures declared by the platform; 2: an operations report, checked by its figures' digest. */
  schemaVersion: number;
  periodText: string;
  ledger: Record<string, string> | null;
  /** Why the ledger's figures could not be computed for this disclosure (then it is neither agreeing nor differing). */
  unchecked?: string;
  differences: string[];
}

/** GET /api/audit-report: the last audit report's summary, or null. */
/** An auditor's attestation of the report: a signed file beside it, or a record on chain of the report's digest. */
export interface Attestation {
  source: "file" | "chain";
  auditor: string;
  /** The auditor's roles and standing now, as the alliance's events say ("auditor, active"). */
  standing: string;
  /** The file's signature is the auditor's, of this very report; a record on chain holds by being there. */
  holds: boolean;
  problems: string[];
  /** The file's path, or the block and transaction of the record. */
  where: string;
}

export interface AuditReportSummary {
  attestations: Attestation[];
  verifiedAt: string;
  loans: number;
  entries: number;
  findings: { check: string; loanId?: string; message: string }[];
  ok: boolean;
  provenAt: { number: number; hash: string } | null;
  file: string;
}

/** GET /api/tx/:hash */
export interface TransactionPage {
  transactionHash: string;
  events: TimelineItem[];
}

/** A figure's definition, as the operations report's table states it. */
export interface FigureDefinition {
  name: string;
  title: string;
  definition: string;
  unit: "token" | "count" | "bps";
  rounding: string;
}

/** One entity of the operations report: a platform (its address) or "alliance". */
export interface ReportEntity {
  entity: string;
  /** Amounts as decimal strings in the token's smallest unit; counts and basis points as numbers; null: no base. */
  figures: Record<string, string | number | null>;
  feeSchedule: {
    caps: { platformFeeBps: number; premiumBps: number; reserveBps: number } | null;
    rates: { platformFeeBps: number; premiumBps: number; reserveBps: number; lateFeeBps: number; loans: number }[];
  };
}

/** GET /api/alliance?month=YYYY-MM: the month's operations report (schemas/operations-report.schema.json). */
export interface AllianceReport {
  schemaVersion: 2;
  month: string;
  timeZone: string;
  period: { start: string; end: string };
  ledger: { chainId: string; registry: string; block: number; blockTime: number };
  token: Token;
  platforms: ReportEntity[];
  alliance: ReportEntity;
  /** The twelve months up to this one, each entity with the trend's figures only. */
  trend: { month: string; entities: Pick<ReportEntity, "entity" | "figures">[] }[];
  /** Every figure's definition, in the order the report lists them. */
  definitions: FigureDefinition[];
  /** The months that can be asked for: from the first the index holds to the last ended. */
  months: string[];
}

/** The custody bank's deposit token as the index has it: each bank's book, the withdrawals pending, the movements. */
export interface CustodyPage {
  /** False when the index holds none of the custody token's events (a stand-in token, or no bank acted yet). */
  custody: boolean;
  block: IndexedBlock | null;
  /** Issued less redeemed, over every bank: the supply (amounts as decimal strings in the smallest unit). */
  supply: string;
  banks: { bank: string; custodyAccount: string | null; issued: string; redeemed: string; outstanding: string }[];
  /** Registered ledger accounts, by bank. */
  accounts: Record<string, number>;
  pending: { id: string; holder: string; bank: string; amount: string; requestedAt: number; transactionHash: string }[];
  /** The latest issues and redemptions (at most 100), newest first, each with its bank reference. */
  movements: {
    kind: "issue" | "redemption";
    bank: string;
    account: string;
    amount: string;
    bankRef: string;
    blockNumber: number;
    transactionHash: string;
  }[];
  issues: number;
  redemptions: number;
}
