/** The portal's API client: typed reads of the read-only server. */
import { useEffect, useState } from "preact/hooks";
import type { Token } from "./format.js";

export interface Status {
  chainId: string | null;
  contracts: Record<string, string>;
  block: { number: number; hash: string; timestamp: number } | null;
  token: Token;
  platforms: string[];
  lenders: string[];
  statuses: string[];
  schedules: string[];
  syncError: string | null;
}

export interface Loan {
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
  nextDueAt: number | null;
  outstanding: string;
  repaid: string;
  committed: string;
  lendersIn: string;
  insurer: string | null;
  funded: boolean;
  entries: number;
  head: string;
}

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
}

export interface Proof {
  proven: boolean;
  block: { number: number; hash: string } | null;
  chainHead: string | null;
  indexHead: string | null;
  findings: string[];
}

export interface Position {
  loanId: string;
  lender: string;
  shares: string;
  committed: string;
  received: string;
}

export interface LoanPage {
  loan: Loan;
  next: { dueDate: number; installment: number; amount: string | null } | null;
  history: TimelineItem[];
  documents: { version: number; hash: string; transactionHash: string; at: number }[];
  positions: Position[];
  liens: {
    assetId: string;
    securedAmount: string;
    priority: number;
    status: string;
    allocated: string;
    asset: { assetClass: number; appraisalValue: string; documentHash: string; status: string; owner: string } | null;
  }[];
  loss: {
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
  } | null;
  proof: Proof;
}

export interface LenderPosition extends Position {
  platform: string | null;
  status: number | null;
  principal: string | null;
  outstanding: string | null;
  shareBps: number;
  outstandingPart: string | null;
  claimable: string | null;
  next: { dueDate: number; installment: number; amount: string | null; yourPart: string | null } | null;
}

export interface Payout {
  loanId: string;
  lender: string;
  to: string;
  amount: string;
  kind: "payout" | "claim";
  blockNumber: number;
  transactionHash: string;
  at: number;
}

export interface LenderPage {
  lender: string;
  block: { number: number } | null;
  positions: LenderPosition[];
  payouts: Payout[];
}

export interface PlatformPage {
  platform: string | null;
  book: { platform: string; status: number; loans: number; principal: string; outstanding: string }[];
  due: Loan[];
  funding: Loan[];
  reserve: {
    platform: string;
    accrued: string;
    collected: string;
    deposited: string;
    compensated: string;
    reimbursed: string;
  }[];
  insurers: {
    insurer: string;
    capitalIn: string;
    capitalOut: string;
    premiums: string;
    claimsPaid: string;
    reimbursed: string;
    policies: number;
  }[];
}

export interface Disclosure {
  platform: string;
  period: number;
  periodText: string;
  version: number;
  contentHash: string;
  figures: Record<string, string | number>;
  ledger: Record<string, string> | null;
  differences: string[];
  publishedAt: number;
  attestedBy: string | null;
  transactionHash: string;
}

export interface AuditReportSummary {
  verifiedAt: string;
  loans: number;
  entries: number;
  findings: { check: string; loanId?: string; message: string }[];
  ok: boolean;
  provenAt: { number: number; hash: string } | null;
  file: string;
}

export async function get<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/** Loads `path` (again whenever it changes); undefined while loading. */
export function useApi<T>(path: string | null): { data?: T; error?: string } {
  const [state, setState] = useState<{ data?: T; error?: string; path?: string | null }>({});
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState({ path });
    get<T>(path).then(
      (data) => live && setState({ data, path }),
      (error: Error) => live && setState({ error: error.message, path }),
    );
    return () => {
      live = false;
    };
  }, [path]);
  return state.path === path ? state : {};
}
