import { Interface, isHexString, type ErrorDescription } from "ethers";
import {
  AllianceRegistry__factory,
  CollateralRegistry__factory,
  CreditInsurance__factory,
  CustodyDepositToken__factory,
  DisclosureRegistry__factory,
  LossWaterfall__factory,
  RiskReserveFund__factory,
  LoanRegistry__factory,
  RepaymentSplitter__factory,
  SettlementToken__factory,
} from "../../typechain-types/index.js";
import { formatLoanId, toLoanId } from "./ids.js";
import {
  ASSET_STATUS_NAMES,
  CONSENT_NAMES,
  FEE_KIND_NAMES,
  LIEN_STATUS_NAMES,
  FUNDING_PHASE_NAMES,
  LOAN_STATUS_NAMES,
  MEMBER_STATUS_NAMES,
  TERMS_FIELD_NAMES,
} from "./types.js";

/** Every error the LoanLedger client raises derives from this class. */
export class LoanLedgerError extends Error {
  override readonly name: string = "LoanLedgerError";
}

/** The caller's input was rejected before anything was sent. */
export class InputError extends LoanLedgerError {
  override readonly name = "InputError";
}

type Args = readonly unknown[];

/**
 * Writes an amount of the settlement token. The client writes the exact integer (the token's smallest unit); a caller
 * that knows the token writes it as people read it (the CLI: currency code, minor unit, separators).
 */
export type AmountFormat = (value: bigint) => string;
const exact: AmountFormat = (value) => String(value);
type Explain = (args: Args, amount: AmountFormat, time: TimeFormat) => string;
const status = (v: unknown) => LOAN_STATUS_NAMES[Number(v)] ?? `status ${String(v)}`;
const memberStatus = (v: unknown) => MEMBER_STATUS_NAMES[Number(v)] ?? `status ${String(v)}`;
const field = (v: unknown) => TERMS_FIELD_NAMES[Number(v)] ?? `field ${String(v)}`;
const loan = (v: unknown) => `loan ${formatLoanId(toLoanId(v as bigint))}`;
const phase = (v: unknown) => FUNDING_PHASE_NAMES[Number(v)] ?? `phase ${String(v)}`;
const feeKind = (v: unknown) => FEE_KIND_NAMES[Number(v)] ?? `fee ${String(v)}`;
const assetStatus = (v: unknown) => ASSET_STATUS_NAMES[Number(v)] ?? `status ${String(v)}`;
const lienStatus = (v: unknown) => LIEN_STATUS_NAMES[Number(v)] ?? `status ${String(v)}`;
const asset = (v: unknown) =>
  `asset 0x${BigInt(v as bigint)
    .toString(16)
    .padStart(64, "0")
    .slice(0, 8)}…`;
/**
 * Writes a time the contracts carry (unix seconds). The client writes it in UTC; the CLI writes it in the alliance's
 * time zone.
 */
export type TimeFormat = (seconds: unknown) => string;
const utc: TimeFormat = (v) => new Date(Number(v) * 1000).toISOString().replace(".000Z", "Z");

/** One readable sentence per contract error, naming the values that explain it. */
const EXPLANATIONS = {
  AllianceRegistryZeroAddress: () => "the zero address cannot be a member or a lender",
  AllianceRegistryInvalidRoles: (a: Args) => `roles mask ${a[0]} is empty or has unknown bits`,
  AllianceRegistryMemberExists: (a: Args) => `${a[0]} is already a member`,
  AllianceRegistryUnknownMember: (a: Args) => `${a[0]} is not a member`,
  AllianceRegistryInvalidStatusTransition: (a: Args) =>
    `member ${a[0]} cannot move from ${memberStatus(a[1])} to ${memberStatus(a[2])}`,
  AllianceRegistryUnauthorized: (a: Args) => `${a[0]} is neither governance nor the member concerned`,
  AllianceRegistryNotActivePlatform: (a: Args) => `${a[0]} is not an active platform member`,
  AllianceRegistryKycExpiryInPast: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `KYC expiry ${time(a[0])} is not after now (${time(a[1])})`,
  AllianceRegistryUnknownLender: (a: Args) => `${a[0]} is not on the lender allowlist`,
  AllianceRegistryLenderKycExpired: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `lender ${a[0]}'s KYC expired at ${time(a[1])}: the platform that vouches for it must renew it`,
  AllianceRegistryLenderVouchedByOther: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `lender ${a[0]} is vouched for by ${a[1]} until ${time(a[2])}: only that platform or governance may change it before then`,
  AllianceRegistrySelfVouching: (a: Args) => `platform ${a[0]} cannot vouch for itself as a lender`,
  AccessControlUnauthorizedAccount: (a: Args) => `${a[0]} lacks the role ${a[1]} (governance only)`,
  AccessControlBadConfirmation: () => "the confirmation does not match the caller",
  AccessControlEnforcedDefaultAdminRules: () => "the governance role can only move by the delayed two-step transfer",
  AccessControlEnforcedDefaultAdminDelay: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `the governance transfer can be accepted from ${time(a[0])}`,
  AccessControlInvalidDefaultAdmin: (a: Args) => `${a[0]} cannot become governance`,
  LoanRegistryNotActivePlatform: (a: Args) => `${a[0]} is not an active platform member and cannot originate loans`,
  LoanRegistryPlatformMismatch: (a: Args) => `the terms name platform ${a[1]} but ${a[0]} anchors them`,
  LoanRegistryTermOutOfBounds: (a: Args, amount: AmountFormat) => {
    const value = field(a[0]) === "Principal" ? (v: unknown) => amount(v as bigint) : String;
    return `${field(a[0])} is ${value(a[1])}, outside [${value(a[2])}, ${value(a[3])}]`;
  },
  LoanRegistryMissingReference: (a: Args) => `${field(a[0])} must not be zero`,
  LoanRegistryLoanExists: (a: Args) => `${loan(a[0])} was anchored before`,
  LoanRegistryBatchSize: (a: Args) => `a batch holds 1 to ${a[1]} loans, not ${a[0]}`,
  LoanRegistryBatchItemRejected: (a: Args) => `batch item ${a[0]} was rejected, nothing was anchored`,
  LoanRegistryUnknownLoan: (a: Args) => `${loan(a[0])} was never anchored`,
  LoanRegistryUnauthorized: (a: Args) => `${a[1]} may not service ${loan(a[0])}`,
  LoanRegistryInvalidTransition: (a: Args) => `${loan(a[0])} cannot move from ${status(a[1])} to ${status(a[2])}`,
  LoanRegistryNotServiceable: (a: Args) => `${loan(a[0])} is ${status(a[1])}, not Active or Late`,
  LoanRegistryLoanClosed: (a: Args) => `${loan(a[0])} is closed (${status(a[1])})`,
  LoanRegistryFundingDeadlinePassed: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `${loan(a[0])}'s funding deadline ${time(a[1])} has passed`,
  LoanRegistryNotOverdue: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `${loan(a[0])} is not overdue: its grace period ends ${time(a[1])}`,
  LoanRegistryDefaultThresholdNotReached: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `${loan(a[0])} can be declared defaulted from ${time(a[1])}`,
  LoanRegistryPaymentBelowInstallment: (a: Args, amount: AmountFormat) =>
    `${loan(a[0])}: payment ${amount(a[1] as bigint)} does not settle the next installment, which needs ${amount(a[2] as bigint)}`,
  LoanRegistryPaymentExceedsBalance: (a: Args, amount: AmountFormat) =>
    `${loan(a[0])}: payment ${amount(a[1] as bigint)} exceeds the payable ${amount(a[2] as bigint)}`,
  LoanRegistryInstallmentsDue: (a: Args, amount: AmountFormat, time: TimeFormat) =>
    `${loan(a[0])}: installment ${a[1]} fell due ${time(a[2])} too, and due installments are paid before any ` +
    `prepayment: pay ${amount(a[3] as bigint)} now, then the next installment`,
  LoanRegistryNotFundingDelegate: (a: Args) => `${a[0]} is not a funding delegate (a system contract governance names)`,
  LoanRegistryNotHistoryWriter: (a: Args) => `${a[0]} is not a history writer (a system contract governance names)`,
  LoanRegistryInvalidSystemPowers: (a: Args) =>
    `system powers ${a[1]} cannot go to ${a[0]}: they are for contracts only, with known bits`,
  LoanRegistryServicingDelegated: (a: Args) =>
    `${loan(a[0])}'s money moves through ${a[2]}, so ${a[1]} cannot activate, cancel, repay or close its loss directly`,
  LoanRegistryNotLienholder: (a: Args) =>
    `${a[1]} cannot take a lien for ${loan(a[0])}: only its servicer, while an active platform, can`,
  LoanRegistryLoanNotOpen: (a: Args) =>
    `${loan(a[0])} is ${status(a[1])}; liens attach to Funding, Active or Late loans`,
  LoanRegistryPublicDelayTooLong: (a: Args) =>
    `a public delay of ${a[0]} s exceeds the most allowed, ${a[1]} s (a year)`,
  LoanRegistryInvalidSuccessor: (a: Args) =>
    `${a[1]} cannot take over the loans of ${a[0]}: a successor is an active platform other than the one it replaces, ` +
    `and a whole book passes only from a suspended or expelled platform`,
  LoanRegistryNoSuccessor: (a: Args) =>
    `${loan(a[0])} cannot pass to a successor of ${a[1]}: none was appointed, the platform is active again, the ` +
    `successor is no longer an active platform, or the loan was handed over already`,
  LoanRegistryConsentExpired: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `the signatures of ${loan(a[0])} could be used until ${time(a[1])}; it is ${time(a[2])}: sign again`,
  LoanRegistryInvalidSignature: (a: Args) =>
    `${a[1]}'s signature of ${loan(a[0])} is not valid (another loan, version, document, chain or registry, another ` +
    `key, or a contract wallet that refuses it)`,
  LoanRegistryBorrowerIsPlatform: (a: Args) =>
    `the borrower's signing address of ${loan(a[0])} is the platform's own (${a[1]}): the borrower signs with its own key`,
  LoanRegistryNoAppointment: (a: Args) => `governance appointed no successor for ${a[0]}'s loans (or withdrew it)`,
  LoanRegistryLegacyImportClosed: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    Number(a[1]) === 0
      ? `governance never allowed ${a[0]} to import a book signed on paper`
      : `${a[0]} could import a book signed on paper until ${time(a[1])}; it is ${time(a[2])}`,
  LoanRegistryLegacyLoanFunding: (a: Args) =>
    `${loan(a[0])} was imported with paper consent: while the alliance requires consent it funds on the ledger only ` +
    "once its borrower signs the agreement",
  LoanRegistryConsentMissing: (a: Args) =>
    `${loan(a[0])} carries no consent, which the alliance requires before funding: the borrower signs it and the platform sends it first`,
  LoanRegistryConsentRequired: (a: Args) =>
    `the document of ${loan(a[0])} (consent ${CONSENT_NAMES[Number(a[1])] ?? a[1]}, ${status(a[2])}) changes only ` +
    `with the borrower's signature, sent by the servicer (loan amend)`,
  LoanRegistryCannotSignAgreement: (a: Args) =>
    `the agreement of ${loan(a[0])} is signed while Funding, on its first document, once; it is ${status(a[1])} at ` +
    `version ${a[2]} with consent ${CONSENT_NAMES[Number(a[3])] ?? a[3]}`,
  LoanRegistryBatchLengthMismatch: (a: Args) => `${a[0]} loans but ${a[1]} borrower signatures`,
  LoanRegistryExposureLimit: (a: Args, amount: AmountFormat) =>
    `borrower ${String(a[0]).slice(0, 10)}… would have ${a[1]} open loans and ${amount(a[2] as bigint)} outstanding ` +
    `across the alliance, beyond its limits (${a[3]} loans, ${amount(a[4] as bigint)} principal; 0 is no limit)`,
  LoanRegistryNotGovernance: (a: Args) => `${a[0]} is not alliance governance`,
  LoanRegistryNotYetPublic: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `only ${loan(a[0])}'s servicer may do this now; anyone may from ${time(a[1])}`,
  LoanRegistryCannotDelegate: (a: Args) =>
    `${loan(a[0])} is ${status(a[1])}${a[2] ? " and already delegated" : ""}: servicing is delegated once, while Funding`,
  RepaymentSplitterNotGovernance: (a: Args) => `${a[0]} is not alliance governance`,
  RepaymentSplitterZeroAddress: () => "the zero address cannot receive or pay here",
  RepaymentSplitterZeroAmount: () => "the amount must be more than zero",
  RepaymentSplitterFeeAboveCap: (a: Args) =>
    `the ${feeKind(a[0])} rate ${a[1]} bps exceeds the alliance cap of ${a[2]} bps`,
  RepaymentSplitterNotInsurer: (a: Args) => `${a[0]} is not an active insurer member`,
  RepaymentSplitterNotPlatform: (a: Args) => `${a[1]} is not the active servicer of ${loan(a[0])}`,
  RepaymentSplitterNotAllowedLender: (a: Args) => `${a[0]} is not another allowlisted lender`,
  RepaymentSplitterOwnLoan: (a: Args) =>
    `${a[1]} is ${loan(a[0])}'s platform or servicer: a platform neither funds nor receives its own loans`,
  RepaymentSplitterServicerExpelled: (a: Args) =>
    `${loan(a[0])}'s servicer ${a[1]} was expelled: the loan takes no more money (anyone may cancel it)`,
  RepaymentSplitterNotWaterfall: (a: Args) => `${a[0]} is not the loss waterfall`,
  RepaymentSplitterWaterfallSet: (a: Args) => `the splitter's loss waterfall is ${a[0]} already`,
  RepaymentSplitterNotWrittenOff: (a: Args) =>
    `${loan(a[0])} is ${status(a[1])}: only a written-off loan's book is closed (its recovery efforts ended)`,
  RepaymentSplitterWrongPhase: (a: Args) =>
    Number(a[1]) === 0
      ? `${loan(a[0])} is not open for funding in the splitter (its servicer opens it: loan open-funding)`
      : `${loan(a[0])} is ${phase(a[1])} in the splitter, where this cannot be done`,
  RepaymentSplitterCommitmentTooSmall: (a: Args, amount: AmountFormat) =>
    `${loan(a[0])}: a commitment of ${amount(a[1] as bigint)} is below the minimum ${amount(a[2] as bigint)} and does ` +
    `not complete the ${amount(a[3] as bigint)} still to fund`,
  RepaymentSplitterFundingDeadlinePassed: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `${loan(a[0])}'s funding closed at ${time(a[1])}`,
  RepaymentSplitterFundingStillOpen: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `${loan(a[0])}'s funding is open until ${time(a[1])}; before then only its servicer may cancel`,
  ExactTransferShortfall: (a: Args, amount: AmountFormat) =>
    `the token ${a[0]} delivered ${amount(a[2] as bigint)} of the ${amount(a[1] as bigint)} sent (fee-on-transfer ` +
    `tokens are not supported)`,
  RepaymentSplitterPaymentBelowDue: (a: Args, amount: AmountFormat) =>
    `${loan(a[0])}: payment ${amount(a[1] as bigint)} does not cover the next installment with its fees, ` +
    `${amount(a[2] as bigint)}`,
  RepaymentSplitterPaymentExceedsDue: (a: Args, amount: AmountFormat) =>
    `${loan(a[0])}: payment ${amount(a[1] as bigint)} exceeds the payable ${amount(a[2] as bigint)}`,
  RepaymentSplitterInsufficientShares: (a: Args, amount: AmountFormat) =>
    `${a[1]} holds ${amount(a[2] as bigint)} of shares in ${loan(a[0])}, fewer than ${amount(a[3] as bigint)}`,
  RepaymentSplitterNothingToClaim: (a: Args) => `nothing is owed to ${a[0]}`,
  CollateralRegistryZeroAddress: () => "the zero address cannot own collateral or receive a payment",
  CollateralRegistryUnauthorized: (a: Args) => `${a[0]} lacks the role or position this needs`,
  CollateralRegistryAlreadyRegistered: (a: Args) => `${asset(a[0])} is already registered (by whichever platform)`,
  CollateralRegistryUnknownAsset: (a: Args) => `${asset(a[0])} is not registered`,
  CollateralRegistryInvalidAppraisal: (a: Args, amount: AmountFormat) =>
    `an appraisal needs a positive value that fits 96 bits and a document hash (got ${amount(a[0] as bigint)}, ${a[1]})`,
  CollateralRegistryWrongAssetStatus: (a: Args) => `${asset(a[0])} is ${assetStatus(a[1])}, where this cannot be done`,
  CollateralRegistryPledgedAsset: (a: Args) => `${asset(a[0])} carries liens or is seized, and cannot be transferred`,
  CollateralRegistryInvalidConsent: (a: Args) =>
    `the consent is not ${a[1]}'s signature over this pledge of ${asset(a[0])}`,
  CollateralRegistryConsentExpired: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `the consent to pledge ${asset(a[0])} expired at ${time(a[1])}`,
  CollateralRegistryInvalidLien: (a: Args, amount: AmountFormat) =>
    `a lien secures a positive amount (got ${amount(a[0] as bigint)}) at a priority from 1 to ${a[2]} (got ${a[1]})`,
  CollateralRegistryLienExists: (a: Args) => `${loan(a[1])} already has a lien (${lienStatus(a[2])}) on ${asset(a[0])}`,
  CollateralRegistryTooManyLiens: (a: Args) => `${asset(a[0])} carries the most liens it may, ${a[1]}`,
  CollateralRegistryFirstLiensExceedAppraisal: (a: Args, amount: AmountFormat) =>
    `first-priority liens on ${asset(a[0])} would secure ${amount(a[1] as bigint)}, above its appraisal value ` +
    `${amount(a[2] as bigint)}`,
  CollateralRegistryWrongLienStatus: (a: Args) => `the lien of ${loan(a[1])} on ${asset(a[0])} is ${lienStatus(a[2])}`,
  CollateralRegistryLoanNotClosed: (a: Args) =>
    `${loan(a[0])} is ${status(a[1])}; its lien is released once Repaid, Cancelled or Recovered, or waived by its ` +
    `servicer once written off`,
  CollateralRegistryLoanNotDefaulted: (a: Args) =>
    `${loan(a[0])} is ${status(a[1])}; a lien is enforced once it has Defaulted (or was written off)`,
  CollateralRegistryNotSeizingPlatform: (a: Args) =>
    `only ${a[2]}, the servicer of the loan that seized ${asset(a[0])}, may record its disposal`,
  CollateralRegistryLossNotMadeWhole: (a: Args) =>
    `${asset(a[0])} stays in custody: ${loan(a[1])}, which seized it, is ${status(a[2])}, not Recovered`,
  CollateralRegistryLiensIncomplete: (a: Args) =>
    `a disposal of ${asset(a[0])} lists every lien in priority order: ${a[2]} expected, ${a[1]} given or in order`,
  CollateralRegistryNothingToWithdraw: (a: Args) => `nothing is kept for ${a[0]}`,
  CollateralRegistryRankTaken: (a: Args) =>
    `a new lien on ${asset(a[0])} at priority ${a[1]} would rank with or ahead of its liens (down to priority ${a[2]}): ` +
    `it takes their consent, or a priority behind them`,
  CollateralRegistryRankConsentMissing: (a: Args) =>
    `the lien of ${loan(a[1])} on ${asset(a[0])} has not agreed that ${loan(a[2])} may take priority ${a[3]}`,
  CollateralRegistrySecuredAbovePrincipal: (a: Args, amount: AmountFormat) =>
    `a lien on ${asset(a[0])} may secure at most its loan's principal ${amount(a[2] as bigint)}, not ${amount(a[1] as bigint)}`,
  TokenSweepNotGovernance: (a: Args) => `${a[0]} is not alliance governance: only governance sweeps mistaken tokens`,
  TokenSweepNothingToSweep: (a: Args) =>
    `nothing of token ${a[0]} held here is owed to nobody (the settlement token held by the splitter and the ` +
    `insurance is all owed)`,
  CollateralRegistryInvalidSale: (a: Args, amount: AmountFormat) =>
    `a sale names its sale document and its buyer's reference (neither may be empty), and a price below 2^128 ` +
    `(got ${amount(a[0] as bigint)})`,
  CollateralRegistryNoSaleProposed: (a: Args) => `no sale of ${asset(a[0])} is proposed`,
  CollateralRegistrySaleWindowOpen: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `the lienholders' window to see the sale of ${asset(a[0])} is open until ${time(a[1])}; complete it then`,
  CollateralRegistrySaleNeedsConfirmation: (a: Args, amount: AmountFormat) =>
    `the price ${amount(a[1] as bigint)} for ${asset(a[0])} is below the appraisal floor ${amount(a[2] as bigint)}: a ` +
    `custodian member must confirm the sale first (collateral confirm-sale)`,
  CollateralRegistryProposalChanged: (a: Args) =>
    `the proposed sale of ${asset(a[0])} changed (it is ${a[2]} now, not ${a[1]}): read it again before confirming`,
  CollateralRegistryBuyerRequired: (a: Args) =>
    `${a[1]} lien(s) of performing loans on ${asset(a[0])} survive the sale: name the buyer's account, which takes ` +
    `the asset with them`,
  CollateralRegistrySaleRulesOutOfRange: (a: Args) =>
    `a sale window of ${a[0]} s and a haircut of ${a[1]} bps: the window is at most ${a[2]} s, the haircut 10000 bps`,
  CollateralRegistryLienNamedTwice: (a: Args) =>
    `the liens given for ${asset(a[0])} name ${loan(a[1])} twice or leave the seizing loan out: name every lien once`,
  CollateralRegistryServicerExpelled: (a: Args) =>
    `${loan(a[0])} takes from this sale, but its servicer ${a[1]} was expelled: a successor must take the loan over first`,
  CollateralRegistryLoanInFunding: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `${loan(a[1])} is still funding against ${asset(a[0])}: the sale waits until it funds, or until anyone cancels ` +
    `it after its funding deadline ${time(a[2])}`,
  CollateralRegistryLossPaid: (a: Args) =>
    `earlier sales paid ${loan(a[0])}'s loss in full: its liens enforce nothing more, and anyone may release them`,
  CollateralRegistryNotLienholder: (a: Args) =>
    `only ${loan(a[0])}'s servicer, an active platform, takes a lien for it; ${a[1]} is not it`,
  CollateralRegistryBookClosed: (a: Args) =>
    `governance closed ${loan(a[0])}'s book (its recovery efforts ended): its lien can only be waived`,
  RepaymentSplitterCollateralSet: (a: Args) => `the splitter's collateral registry is ${a[0]} already`,
  RepaymentSplitterCollateralInCustody: (a: Args) =>
    `${a[1]} asset(s) are in custody for ${loan(a[0])}, still to be sold for its lenders: its book stays open`,
  CollateralRegistryNotEnforcingLoan: (a: Args) =>
    `${asset(a[0])} was seized by ${loan(a[2])}, not ${loan(a[1])}: its servicer sells it`,
  CreditInsuranceNotInsurer: (a: Args) => `${a[0]} is not an active insurer member`,
  CreditInsuranceNotGovernance: (a: Args) => `${a[0]} is not governance, or the waterfall is already named`,
  CreditInsuranceNotWaterfall: (a: Args) => `${a[0]} is not the loss waterfall`,
  CreditInsuranceZeroAmount: () => "the amount must be more than zero",
  CreditInsuranceUnderCapitalised: (a: Args, amount: AmountFormat) =>
    `insurer ${a[0]} has ${amount(a[1] as bigint)} of free capital, less than the policy's maximum claim ` +
    `${amount(a[2] as bigint)}`,
  CreditInsuranceCapitalLocked: (a: Args, amount: AmountFormat) =>
    `insurer ${a[0]} can withdraw at most ${amount(a[2] as bigint)} (asked ${amount(a[1] as bigint)}); the rest backs ` +
    `policies`,
  CreditInsuranceNotNamedInsurer: (a: Args) => `${loan(a[0])} names ${a[1]} as its insurer, not ${a[2]}`,
  CreditInsuranceInvalidPolicy: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `a policy covers 1 to 10000 bps of the loss (got ${a[0]}) and ends in the future (got ${time(a[1])})`,
  CreditInsuranceWrongPolicyStatus: (a: Args) =>
    `${loan(a[0])}'s policy is in status ${a[1]}, where this cannot be done`,
  CreditInsuranceWrongLoanStatus: (a: Args) => `${loan(a[0])} is ${status(a[1])}, where this cannot be done`,
  CreditInsuranceInstallmentUnpaid: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `${loan(a[0])}'s installment due ${time(a[1])} falls within the policy's term (to ${time(a[2])}) and is unpaid: ` +
    `the policy still covers its default`,
  RepaymentSplitterNotReserve: (a: Args) => `${a[0]} is not the risk reserve fund`,
  RepaymentSplitterNotInsurance: (a: Args) => `${a[0]} is not the credit insurance contract`,
  RepaymentSplitterInsuranceSet: (a: Args) => `the splitter's credit insurance contract is ${a[0]} already`,
  RiskReserveFundNotPlatform: (a: Args) => `${a[0]} is not an active platform member`,
  RiskReserveFundNotGovernance: (a: Args) => `${a[0]} is not governance, or the waterfall is already named`,
  RiskReserveFundNotWaterfall: (a: Args) => `${a[0]} is not the loss waterfall`,
  RiskReserveFundZeroAmount: () => "the amount must be more than zero",
  RiskReserveFundInvalidPolicy: (a: Args) => `the reserve's coverage must be at most 10000 bps, not ${a[0]}`,
  LossWaterfallNotFunded: (a: Args) =>
    `${loan(a[0])} is ${phase(a[1])} in the splitter: losses are shared only on loans it funded whose book is open`,
  LossWaterfallWrongLoanStatus: (a: Args) => `${loan(a[0])} is ${status(a[1])}, where this cannot be done`,
  LossWaterfallAlreadySettled: (a: Args) => `${loan(a[0])}'s loss is already settled`,
  LossWaterfallNotSettled: (a: Args) => `${loan(a[0])}'s loss is not settled yet`,
  LossWaterfallNotYetPublic: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `until ${time(a[1])} only ${loan(a[0])}'s servicer may do this`,
  LossWaterfallNothingToRecover: (a: Args) => `nothing of ${loan(a[0])}'s loss is left to recover`,
  DisclosureRegistryNotPlatform: (a: Args) => `${a[0]} is not an active platform member`,
  DisclosureRegistryNotAuditor: (a: Args) => `${a[0]} is not an active auditor member`,
  DisclosureRegistryInvalidPeriod: (a: Args) => `${a[0]} is not a period (YYYYMM)`,
  DisclosureRegistryInvalidReport: (a: Args) =>
    `this report needs a content hash and schema version ${a[2]}, not ${a[1]}`,
  DisclosureRegistryMissingFiguresDigest: (a: Args) => `an operations report needs the digest of its figures`,
  DisclosureRegistryInvalidRelatedParty: () =>
    `a related-party declaration names at least one borrower reference or account, none of them zero`,
  DisclosureRegistryAlreadyPublished: (a: Args) =>
    `${a[0]} already published ${a[2]} version(s) for ${a[1]}: publish a correction instead`,
  DisclosureRegistryNothingToCorrect: (a: Args) => `${a[0]} published no report for ${a[1]} to correct`,
  DisclosureRegistryUnknownReport: (a: Args) =>
    `${a[0]} has no version ${a[2]} for ${a[1]} with that content hash (is it the document you read?)`,
  DisclosureRegistryAlreadyAttested: (a: Args) =>
    `${a[3]} already attested version ${a[2]} of ${a[0]}'s report for ${a[1]}`,
  DisclosureRegistryAuditAlreadyAttested: (a: Args) =>
    `${a[1]} already attested the audit report ${a[0]} on chain, at block ${a[2]}`,
  DisclosureRegistryInvalidAuditReport: (a: Args) =>
    `an audit report is attested by its SHA-256 (not zero) as of a block that exists: block ${a[1]} is after the current block ${a[2]}, or the digest is zero`,
  CustodyAccountNotRegistered: (a: Args) =>
    `${a[0]} is not registered with a custody bank that may still service it: the bank registers it first`,
  CustodyNotBank: (a: Args) => `${a[0]} is not a custody bank member in a standing that allows this`,
  CustodyNotGovernance: (a: Args) => `${a[0]} is not the alliance's governance`,
  CustodyNotAccountBank: (a: Args) => `${a[0]} may not act on this: it belongs to custody bank ${a[1]}`,
  CustodyZeroAddress: () => "the zero address (or the token itself) cannot hold a bank account",
  CustodyZeroAmount: () => "the amount is zero",
  CustodyMissingReference: () => "the bank's payment reference is missing (zero)",
  CustodyReferenceUsed: (a: Args) =>
    `custody bank ${a[0]} used reference ${String(a[1]).slice(0, 10)}… for another issue or redemption already: one payment, one movement`,
  CustodyAccountTaken: (a: Args) => `that custody account is custody bank ${a[1]}'s already`,
  CustodyWrongWithdrawalStatus: (a: Args) =>
    `withdrawal ${a[0]} is ${["None", "Requested", "Redeemed", "Returned"][Number(a[1])] ?? a[1]}, not Requested`,
  CustodyNotHolder: (a: Args) => `only withdrawal ${a[0]}'s holder ${a[1]} may take it back`,
  CustodyRedemptionWindowOpen: (a: Args, _amount: AmountFormat, time: TimeFormat) =>
    `withdrawal ${a[0]} may be taken back from ${time(a[1])}; it is ${time(a[2])}`,
  CustodyBankShort: (a: Args, amount: AmountFormat) =>
    `custody bank ${a[0]} holds ${amount(a[1] as bigint)} for the ledger, less than the ${amount(a[2] as bigint)} to redeem`,
  CustodyRedemptionWindowOutOfRange: (a: Args) => `a redemption window of ${a[0]} s is outside 1 hour to 30 days`,
  ERC20InvalidSender: (a: Args) => `${a[0]} cannot send tokens`,
  ERC20InvalidApprover: (a: Args) => `${a[0]} cannot approve a spender`,
  ERC20InvalidSpender: (a: Args) => `${a[0]} cannot be approved as a spender`,
  ERC721IncorrectOwner: (a: Args) => `${asset(a[1])} belongs to ${a[2]}, not ${a[0]}`,
  ERC721InsufficientApproval: (a: Args) => `${a[0]} may not move ${asset(a[1])}: it is neither its owner nor approved`,
  ERC721InvalidApprover: (a: Args) => `${a[0]} cannot approve for this asset`,
  ERC721InvalidOperator: (a: Args) => `${a[0]} cannot be an operator`,
  ERC721InvalidOwner: (a: Args) => `${a[0]} cannot own an asset`,
  ERC721InvalidReceiver: (a: Args) =>
    `${a[0]} cannot receive an asset (a contract that does not accept ERC-721 tokens)`,
  ERC721InvalidSender: (a: Args) => `${a[0]} does not hold this asset`,
  OwnableUnauthorizedAccount: (a: Args) => `${a[0]} is not the token's owner`,
  OwnableInvalidOwner: (a: Args) => `${a[0]} cannot own the token`,
  ReentrancyGuardReentrantCall: () => "a call came back into the contract while it was moving tokens, and was refused",
  SafeCastOverflowedUintDowncast: (a: Args) => `the value ${a[1]} does not fit in ${a[0]} bits`,
  SafeCastOverflowedIntDowncast: (a: Args) => `the value ${a[1]} does not fit in ${a[0]} bits`,
  SafeCastOverflowedUintToInt: (a: Args) => `the value ${a[0]} is too large`,
  AddressEmptyCode: (a: Args) => `${a[0]} has no contract code`,
  FailedCall: () => "an internal call failed without a reason",
  StringTooLong: (a: Args) => `the text ${a[0]} is too long`,
  InvalidShortString: () => "a stored short text is malformed",
  ERC20InvalidReceiver: (a: Args) => `${a[0]} cannot receive tokens`,
  ERC721NonexistentToken: (a: Args) => `${asset(a[0])} has no token (never registered, or disposed)`,
  SafeERC20FailedOperation: (a: Args) => `the token ${a[0]} refused the transfer`,
  ERC20InsufficientBalance: (a: Args, amount: AmountFormat) =>
    `${a[0]} holds ${amount(a[1] as bigint)}, fewer than the ${amount(a[2] as bigint)} needed`,
  ERC20InsufficientAllowance: (a: Args, amount: AmountFormat) =>
    `the splitter may take ${amount(a[1] as bigint)}, fewer than the ${amount(a[2] as bigint)} needed`,
} satisfies Record<string, Explain>;

export type ContractErrorName = keyof typeof EXPLANATIONS;

/** A contract reverted with one of LoanLedger's named errors. */
export class ContractError extends LoanLedgerError {
  override readonly name = "ContractError";
  constructor(
    readonly errorName: ContractErrorName,
    readonly args: readonly unknown[],
    /** For a rejected batch item: the item's own error. */
    override readonly cause?: ContractError,
  ) {
    super(explain(errorName, args, cause, exact, utc));
  }

  /**
   * The arguments as JSON strings: amounts as exact integers in the token's smallest unit, and loan ids in the hex form
   * used everywhere else (the ABI has them as plain integers).
   */
  jsonArgs(): string[] {
    const ids = loanIdArgs.get(this.errorName);
    return this.args.map((value, i) =>
      ids?.has(i) && typeof value === "bigint" ? formatLoanId(toLoanId(value)) : String(value),
    );
  }

  /**
   * The message, with the token amounts it carries written by `amount` and its times by `time` (the raw integers kept in
   * `args`).
   */
  describe(amount: AmountFormat, time: TimeFormat = utc): string {
    return explain(this.errorName, this.args, this.cause, amount, time);
  }
}

function explain(
  name: ContractErrorName,
  args: Args,
  cause: ContractError | undefined,
  amount: AmountFormat,
  time: TimeFormat,
): string {
  const detail = cause ? `: ${cause.describe(amount, time)}` : "";
  return `${name}: ${(EXPLANATIONS[name] as Explain)(args, amount, time)}${detail}`;
}

/** A transaction reverted without an error this client knows. */
export class UnknownRevertError extends LoanLedgerError {
  override readonly name = "UnknownRevertError";
}

// The contracts share no error name, so their error fragments combine into one decoder (the token's standard
// ERC-20 errors included).
const errorFragments = new Map(
  [
    ...AllianceRegistry__factory.abi,
    ...LoanRegistry__factory.abi,
    ...RepaymentSplitter__factory.abi,
    ...CollateralRegistry__factory.abi,
    ...CreditInsurance__factory.abi,
    ...RiskReserveFund__factory.abi,
    ...LossWaterfall__factory.abi,
    ...DisclosureRegistry__factory.abi,
    ...SettlementToken__factory.abi,
    ...CustodyDepositToken__factory.abi,
  ]
    .filter((fragment) => fragment.type === "error")
    .map((fragment) => [fragment.name, fragment]),
);
const errorInterface = new Interface([...errorFragments.values()]);

/** For each error, the positions of its arguments that are loan ids (`LoanId` in Solidity, a uint256 in the ABI). */
const loanIdArgs = new Map(
  [...errorFragments.values()].map((fragment) => [
    fragment.name,
    new Set(fragment.inputs.flatMap((input, i) => (input.internalType === "LoanId" ? [i] : []))),
  ]),
);

function isKnown(name: string): name is ContractErrorName {
  return Object.hasOwn(EXPLANATIONS, name);
}

/** Decodes ABI-encoded revert data into a typed error, or undefined when the data is not a known error. */
export function decodeRevertData(data: string): ContractError | undefined {
  let parsed: ErrorDescription | null;
  try {
    parsed = errorInterface.parseError(data);
  } catch {
    return undefined;
  }
  if (!parsed || !isKnown(parsed.name)) return undefined;
  const args = [...parsed.args];
  if (parsed.name === "LoanRegistryBatchItemRejected") {
    return new ContractError(parsed.name, args, decodeRevertData(String(args[1])));
  }
  return new ContractError(parsed.name, args);
}

/** Finds revert data in whatever an ethers call or a provider threw. */
function findRevertData(error: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof error !== "object" || error === null) return undefined;
  const record = error as Record<string, unknown>;
  if (typeof record.data === "string" && isHexString(record.data) && record.data.length >= 10) return record.data;
  for (const key of ["data", "error", "info", "cause", "payload"]) {
    const found = findRevertData(record[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Turns anything thrown while talking to the contracts into a LoanLedgerError that says what went wrong. */
export function toLoanLedgerError(error: unknown): LoanLedgerError {
  if (error instanceof LoanLedgerError) return error;
  const data = findRevertData(error);
  const decoded = data ? decodeRevertData(data) : undefined;
  if (decoded) return decoded;
  const record = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>;
  const message = String(record.shortMessage ?? record.message ?? error).split("\n")[0];
  if (record.code === "CALL_EXCEPTION" || data) return new UnknownRevertError(`transaction reverted: ${message}`);
  return new LoanLedgerError(message);
}
