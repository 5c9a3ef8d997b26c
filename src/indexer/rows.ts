/**
 * What the index stores and answers, as plain data: no imports, so that the portal's front end can share these types
 * with the server (src/portal/wire.ts) without pulling Node or ethers into the browser's type check.
 *
 * Amounts are decimal strings in the token's smallest unit (they exceed 64 bits); times are seconds since the epoch.
 */
/**
 * Whether a loan of `status` owes what the index keeps as its outstanding principal: a loan in funding (1,
 * LoanStatus.Funding) or cancelled (8, LoanStatus.Cancelled) was never disbursed and owes nothing, whatever principal the
 * registry keeps for it. The numbers stand here, not the enum, so that the portal's pages use this without the client.
 */
export function owesPrincipal(status: number): boolean {
  return status !== 1 && status !== 8;
}

/** A block as the index committed it. */
export interface IndexedBlock {
  number: number;
  hash: string;
  /** Seconds since the epoch. */
  timestamp: number;
}

/** Which chain and contracts an index follows, and how far it has committed. */
export interface IndexState {
  chainId: string;
  contracts: Record<string, string>;
  fromBlock: number;
  /** The last block whose events are all committed (fromBlock - 1 before the first). */
  last: IndexedBlock | null;
}

export type SortDirection = "asc" | "desc";
export const LOAN_SORTS = ["anchoredAt", "principal", "outstanding", "status", "platform", "nextDueAt"] as const;
export type LoanSort = (typeof LOAN_SORTS)[number];

export interface LoanQuery {
  platform?: string;
  status?: number;
  /** Anchored at or after / before (seconds). */
  from?: number;
  to?: number;
  /** A prefix of the loan id (0x…). */
  idPrefix?: string;
  /** The platform's own reference, as anchored (its hash: see `textHash`). */
  platformRef?: string;
  sort?: LoanSort;
  direction?: SortDirection;
  offset?: number;
  limit?: number;
}

/** A loan as the index derives it from its events. */
export interface LoanRow {
  loanId: string;
  platform: string;
  servicer: string;
  borrowerRef: string;
  documentHash: string;
  documentVersion: number;
  principal: string;
  annualRateBps: number;
  scheduleKind: number;
  installments: number;
  period: number;
  status: number;
  anchoredAt: number;
  activatedAt: number | null;
  installmentsPaid: number;
  /** When the next installment falls due (activation + (paid + 1) × period), for an active or late loan. */
  nextDueAt: number | null;
  outstanding: string;
  repaid: string;
  committed: string;
  lendersIn: string;
  insurer: string | null;
  funded: boolean;
  entries: number;
  head: string;
  terms: Record<string, string | number>;
}

export interface PositionRow {
  loanId: string;
  lender: string;
  shares: string;
  committed: string;
  received: string;
}

export interface PayoutRow {
  loanId: string;
  lender: string;
  to: string;
  amount: string;
  kind: "payout" | "claim";
  blockNumber: number;
  transactionHash: string;
  at: number;
}

export interface AssetRow {
  assetId: string;
  owner: string;
  registrar: string;
  assetClass: number;
  appraisalValue: string;
  documentHash: string;
  status: string;
}

export interface LienRow {
  assetId: string;
  loanId: string;
  securedAmount: string;
  priority: number;
  status: string;
  allocated: string;
  asset: AssetRow | null;
}

export interface LossRow {
  loanId: string;
  loss: string;
  recoveredBefore: string;
  insurerBore: string;
  reserveBore: string;
  lendersBore: string;
  recovered: string;
  toInsurer: string;
  toReserve: string;
  toLenders: string;
  transactionHash: string;
}

export interface DisclosureRow {
  platform: string;
  period: number;
  version: number;
  contentHash: string;
  figures: Record<string, string | number>;
  publishedAt: number;
  attestedBy: string | null;
  transactionHash: string;
}

export interface ReserveRow {
  platform: string;
  accrued: string;
  collected: string;
  deposited: string;
  compensated: string;
  reimbursed: string;
}

export interface InsurerRow {
  insurer: string;
  capitalIn: string;
  capitalOut: string;
  premiums: string;
  claimsPaid: string;
  reimbursed: string;
  policies: number;
}

/** One loan of a platform's book, as its CSV and its figures by month and by days past due read it. */
export interface BookLine {
  loanId: string;
  platformRef: string;
  platform: string;
  servicer: string;
  status: number;
  principal: string;
  outstanding: string;
  anchoredAt: number;
  nextDueAt: number | null;
}

/** A member of the alliance as its events left it: its roles mask and its status (MemberStatus). */
export interface MemberRow {
  account: string;
  roles: number;
  status: number;
  /** The hash of its metadata (a name, never personal data) as registered. */
  metadataHash: string;
}

export interface BookRow {
  /** The platform that services the loans now (the originator, or its successor once the loans were handed over). */
  platform: string;
  status: number;
  loans: number;
  principal: string;
  outstanding: string;
}

/** Whether a loan's indexed history is the chain's, at the index's last block. */
export interface LoanProof {
  loanId: string;
  proven: boolean;
  /** The block the head was read at (the index's last committed block). */
  block: { number: number; hash: string } | null;
  /** The loan's head on chain at that block. */
  chainHead: string | null;
  /** The head the indexed history ends in. */
  indexHead: string | null;
  /** What did not hold, as the verifier words it (empty when proven). */
  findings: string[];
  /**
   * For each External fact (by entry number): the writer's fact the verifier proved it to be from the writer's events
   * of its transaction, its kind named by the fact table (a repayment split, a seizure, a claim paid …).
   */
  writerFacts?: Record<number, Record<string, unknown>>;
}
