import type { Address, AssetId, BorrowerRef, Hash32, LoanId } from "./ids.js";

/** Mirrors `LoanStatus` in ILoanRegistry.sol, in the same order. */
export const LoanStatus = {
  None: 0,
  Funding: 1,
  Active: 2,
  Late: 3,
  Repaid: 4,
  Defaulted: 5,
  Recovered: 6,
  WrittenOff: 7,
  Cancelled: 8,
} as const;
export type LoanStatus = (typeof LoanStatus)[keyof typeof LoanStatus];
export const LOAN_STATUS_NAMES = Object.keys(LoanStatus) as (keyof typeof LoanStatus)[];

/** Mirrors `Consent` in ILoanRegistry.sol. */
export const Consent = { None: 0, Signed: 1, Legacy: 2 } as const;
export type Consent = (typeof Consent)[keyof typeof Consent];
export const CONSENT_NAMES = Object.keys(Consent) as (keyof typeof Consent)[];

/** Mirrors `ScheduleKind` in ScheduleMath.sol. */
export const ScheduleKind = { EqualInstallment: 0, EqualPrincipal: 1, InterestOnly: 2, Bullet: 3 } as const;
export type ScheduleKind = (typeof ScheduleKind)[keyof typeof ScheduleKind];
export const SCHEDULE_KIND_NAMES = Object.keys(ScheduleKind) as (keyof typeof ScheduleKind)[];

/** Mirrors `MemberStatus` in IAllianceRegistry.sol. */
export const MemberStatus = { None: 0, Active: 1, Suspended: 2, Expelled: 3 } as const;
export type MemberStatus = (typeof MemberStatus)[keyof typeof MemberStatus];
export const MEMBER_STATUS_NAMES = Object.keys(MemberStatus) as (keyof typeof MemberStatus)[];

/** Mirrors the `ROLE_*` bit flags of IAllianceRegistry.sol. */
export const Role = { Platform: 1, Insurer: 2, Auditor: 4, Custodian: 8, CustodyBank: 16 } as const;
export type RoleName = keyof typeof Role;
export const ROLE_NAMES = Object.keys(Role) as RoleName[];

/** Mirrors `TermsField` and `CreditEvent` in ILoanRegistry.sol (`FactKind` is mirrored by history.ts's table). */
export const TERMS_FIELD_NAMES = [
  "Platform",
  "BorrowerRef",
  "DocumentHash",
  "Principal",
  "AnnualRate",
  "ScheduleKind",
  "Installments",
  "Period",
  "GracePeriod",
  "LateFeeRate",
  "DefaultThreshold",
  "FundingDeadline",
  "Term",
] as const;
export const CreditEvent = { Late: 0, Cured: 1, Defaulted: 2, Recovered: 3, WrittenOff: 4 } as const;
export type CreditEvent = (typeof CreditEvent)[keyof typeof CreditEvent];
export const CREDIT_EVENT_NAMES = Object.keys(CreditEvent) as (keyof typeof CreditEvent)[];

/**
 * The transition table of ILoanRegistry, as data. Tests check it against the contract's `isTransitionAllowed` for
 * every pair, and generate the wrong-state cases of every lifecycle action from it.
 */
export const TRANSITIONS: Readonly<Record<LoanStatus, readonly LoanStatus[]>> = {
  [LoanStatus.None]: [],
  [LoanStatus.Funding]: [LoanStatus.Active, LoanStatus.Cancelled],
  [LoanStatus.Active]: [LoanStatus.Late, LoanStatus.Repaid],
  [LoanStatus.Late]: [LoanStatus.Active, LoanStatus.Repaid, LoanStatus.Defaulted],
  [LoanStatus.Repaid]: [],
  [LoanStatus.Defaulted]: [LoanStatus.Recovered, LoanStatus.WrittenOff],
  [LoanStatus.Recovered]: [],
  [LoanStatus.WrittenOff]: [LoanStatus.Recovered],
  [LoanStatus.Cancelled]: [],
};

export function isTransitionAllowed(from: LoanStatus, to: LoanStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * The lifecycle actions of the registry and the statuses each starts from (a default from Active also passes through
 * Late; a written-off loss recovered in full is made whole as a defaulted one is).
 */
export const LIFECYCLE_ACTIONS = [
  { action: "activateLoan", from: [LoanStatus.Funding], to: LoanStatus.Active },
  { action: "cancelLoan", from: [LoanStatus.Funding], to: LoanStatus.Cancelled },
  { action: "markLate", from: [LoanStatus.Active], to: LoanStatus.Late },
  { action: "markDefaulted", from: [LoanStatus.Late], to: LoanStatus.Defaulted },
  { action: "markRecovered", from: [LoanStatus.Defaulted, LoanStatus.WrittenOff], to: LoanStatus.Recovered },
  { action: "writeOff", from: [LoanStatus.Defaulted], to: LoanStatus.WrittenOff },
] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number]["action"];

/** The anchored agreement; field for field the `LoanTerms` struct. Times are unix seconds, periods seconds. */
export interface LoanTerms {
  platform: Address;
  borrowerRef: BorrowerRef;
  documentHash: Hash32;
  platformRef: Hash32;
  principal: bigint;
  annualRateBps: number;
  scheduleKind: ScheduleKind;
  installments: number;
  period: number;
  gracePeriod: number;
  lateFeeBps: number;
  defaultThreshold: number;
  fundingDeadline: number;
}

export interface LoanState {
  status: LoanStatus;
  installmentsPaid: number;
  documentVersion: number;
  activatedAt: number;
  statusSince: number;
  outstandingPrincipal: bigint;
  /** A funding delegate (the repayment splitter) moves this loan's money; the platform no longer records it. */
  servicingDelegated: boolean;
  /** Governance handed the loan over to a successor servicer. */
  handedOver: boolean;
  /** How the borrower agreed to the current document: on chain, on paper (a legacy import), or not recorded. */
  consent: Consent;
}

export interface Loan {
  id: LoanId;
  terms: LoanTerms;
  state: LoanState;
  head: Hash32;
}

export interface PaymentDue {
  installment: number;
  dueDate: number;
  principal: bigint;
  interest: bigint;
  lateInterest: bigint;
}

export interface BorrowerExposure {
  outstandingPrincipal: bigint;
  openLoans: number;
  lateEvents: number;
  curedEvents: number;
  defaultEvents: number;
  writeOffEvents: number;
}

export interface MemberInfo {
  account: Address;
  roles: RoleName[];
  status: keyof typeof MemberStatus;
  since: number;
  metadataHash: Hash32;
}

export interface LenderInfo {
  account: Address;
  kycExpiry: number;
  kycProvider: Address;
  allowed: boolean;
}

export function rolesFromMask(mask: number): RoleName[] {
  return ROLE_NAMES.filter((name) => (mask & Role[name]) !== 0);
}

export function maskFromRoles(roles: readonly RoleName[]): number {
  return roles.reduce((mask, name) => mask | Role[name], 0);
}

/** Mirrors `FundingPhase` in IRepaymentSplitter.sol. */
export const FundingPhase = {
  None: 0,
  Funding: 1,
  Funded: 2,
  Cancelled: 3,
  Repaid: 4,
  Recovered: 5,
  Closed: 6,
} as const;
export type FundingPhase = (typeof FundingPhase)[keyof typeof FundingPhase];
export const FUNDING_PHASE_NAMES = Object.keys(FundingPhase) as (keyof typeof FundingPhase)[];

/** Mirrors `FeeKind` in IRepaymentSplitter.sol. */
export const FEE_KIND_NAMES = ["platform fee", "insurance premium", "reserve contribution"] as const;

/** What a platform sets when it opens a loan for funding; rates are basis points a year on outstanding principal. */
export interface FundingConfig {
  borrowerPayout: Address;
  /** The insurer member covering the loan, or the zero address when uninsured. */
  insurer: Address;
  platformFeeBps: number;
  premiumBps: number;
  reserveBps: number;
}

/** One repayment in waterfall order (or the next one due). */
export interface Split {
  lateInterest: bigint;
  platformFee: bigint;
  premium: bigint;
  reserve: bigint;
  interest: bigint;
  principal: bigint;
  prepayment: bigint;
}

/** A loan's money in the splitter. */
export interface LoanBook {
  phase: FundingPhase;
  insurer: Address;
  platformFeeBps: number;
  premiumBps: number;
  reserveBps: number;
  borrowerPayout: Address;
  committed: bigint;
  lendersIn: bigint;
  lendersPaid: bigint;
  /** Positions holding shares or payouts to settle; the remainder of a closed loan is swept when none is left. */
  openPositions: number;
}

/** A lender's position in one loan. */
export interface LenderPosition {
  loanId: LoanId;
  lender: Address;
  shares: bigint;
  owed: bigint;
  /** Holds shares, or has payouts to settle. */
  open: boolean;
}

/** Mirrors `AssetClass`, `AssetStatus` and `LienStatus` in ICollateralRegistry.sol. */
export const AssetClass = { RealEstate: 0, Vehicle: 1, Equipment: 2, Receivable: 3 } as const;
export type AssetClass = (typeof AssetClass)[keyof typeof AssetClass];
export const ASSET_CLASS_NAMES = Object.keys(AssetClass) as (keyof typeof AssetClass)[];
export const AssetStatus = { None: 0, Registered: 1, Seized: 2, Disposed: 3 } as const;
export type AssetStatus = (typeof AssetStatus)[keyof typeof AssetStatus];
export const ASSET_STATUS_NAMES = Object.keys(AssetStatus) as (keyof typeof AssetStatus)[];
export const LienStatus = { None: 0, Active: 1, Released: 2, Enforcing: 3, Discharged: 4 } as const;
export type LienStatus = (typeof LienStatus)[keyof typeof LienStatus];
export const LIEN_STATUS_NAMES = Object.keys(LienStatus) as (keyof typeof LienStatus)[];

/** Where governance's appointment of a successor for a failing platform's book stands (ILoanSuccession's table). */
export const AppointmentStatus = { None: 0, Standing: 1, Lapsed: 2 } as const;
export type AppointmentStatus = (typeof AppointmentStatus)[keyof typeof AppointmentStatus];

export interface AssetInfo {
  assetId: AssetId;
  /** The holder of the token: the owner, or the collateral registry while the asset is seized. */
  holder: Address | undefined;
  assetClass: AssetClass;
  status: AssetStatus;
  appraisalValue: bigint;
  /** The latest appraisal document's hash, from the registration or the last revaluation event. */
  appraisalDocHash: Hash32;
  /** The member that registered the asset. */
  registrar: Address;
  firstPrioritySecured: bigint;
  lienCount: number;
  consentNonce: number;
  /** A new lien must take a priority above this one, unless the liens it would join or jump agree. */
  lastRank: number;
  /** Whether the token cannot move now (ERC-5192): it carries a lien or is seized. */
  locked: boolean;
}

export interface LienInfo {
  assetId: AssetId;
  loanId: LoanId;
  securedAmount: bigint;
  priority: number;
  status: LienStatus;
  since: number;
}

/** The alliance's rules for every loan; zero means no limit. */
export interface AlliancePolicy {
  maxOpenLoans: number;
  maxOutstandingPrincipal: bigint;
  /** Seconds after eligibility from which anyone may declare a default. */
  publicDefaultDelay: number;
}

/** What a default left to cover. */
export interface LossRecord {
  principal: bigint;
  interest: bigint;
}
