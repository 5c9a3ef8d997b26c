// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice A loan's id: `uint256(keccak256(abi.encode(terms)))`, so the id itself commits to the anchored terms and
/// every call that needs the terms takes them as calldata and proves them against the id (as Morpho Blue does with its
/// market ids). The same agreement can therefore never be anchored twice.
type LoanId is uint256;

/// @notice The id of the loan anchored (or to be anchored) with `terms`.
function computeLoanId(LoanTerms calldata terms) pure returns (LoanId) {
    return LoanId.wrap(uint256(keccak256(abi.encode(terms))));
}

/// @notice Lifecycle of a loan. The allowed moves are the transition table of {ILoanRegistry}.
enum LoanStatus {
    None,
    Funding,
    Active,
    Late,
    Repaid,
    Defaulted,
    Recovered,
    WrittenOff,
    Cancelled
}

/// @notice The field of {LoanTerms} that a validation error is about.
enum TermsField {
    Platform,
    BorrowerRef,
    DocumentHash,
    Principal,
    AnnualRate,
    ScheduleKind,
    Installments,
    Period,
    GracePeriod,
    LateFeeRate,
    DefaultThreshold,
    FundingDeadline,
    Term
}

/// @notice A fact about a borrower that every member can see.
enum CreditEvent {
    Late,
    Cured,
    Defaulted,
    Recovered,
    WrittenOff
}

/// @notice The kinds of fact a loan's history can get, each hash tagged by its kind in the first word (see
/// {ILoanRegistry} for each fact's encoding, and {HistoryFacts}, which hashes them all). The registry records the first
/// eleven itself; the rest are the facts of its history writers, which it records as External facts.
enum FactKind {
    Anchored,
    StatusChanged,
    RepaymentRecorded,
    DocumentAmended,
    External,
    ServicingDelegated,
    LossRecorded,
    ServicerChanged,
    AgreementSigned,
    AmendmentSigned,
    LegacyAgreement,
    // The repayment splitter's facts.
    FundingOpened,
    RecoveryReceived,
    PayoutsPushed,
    // The loss waterfall's facts.
    LossSettled,
    RecoveryApplied,
    // The collateral registry's facts.
    CollateralPledged,
    LienReleased,
    CollateralSeized,
    CollateralDisposed,
    CollateralRevalued,
    SeizedAssetReturned
}

/// @notice How the borrower agreed to a loan's current contract document, as the ledger knows it.
enum Consent {
    /// @dev Nothing on chain: a loan anchored without signatures, or whose document changed without them.
    None,
    /// @dev The borrower and the servicing platform signed it on chain ({ILoanRegistry-LoanAgreement},
    /// {ILoanRegistry-LoanAmendment}).
    Signed,
    /// @dev Signed on paper before the book was imported: the platform says so, and the history records that it did.
    Legacy
}

/// @notice The borrower's signature of a loan's agreement or amendment (EIP-712 typed data of the loan registry's
/// domain). The other party, the platform that anchors (the terms' platform) or the servicer that amends, consents by
/// sending the transaction: every function that takes these requires that sender, so a signature of its own would prove
/// nothing more, and the history fact records it as the consenting platform.
/// @dev The signature is an ECDSA signature of an externally owned account (65 bytes, or 64 in ERC-2098's compact form,
/// which costs less gas), or whatever an ERC-1271 contract wallet (a company's multisig, a custodian) accepts for the
/// digest.
struct Signatures {
    /// @dev The borrower's signing address for this loan. Not personal data, but it links every loan it signs: use a
    /// fresh key per loan.
    address borrower;
    /// @dev The last second at which the signature may be used.
    uint256 deadline;
    bytes borrowerSignature;
}

/// @dev Powers of the suite's system contracts over loans, combined as a bitmask ({ILoanRegistry-setSystemPowers}).
/// A funding delegate (the repayment splitter) may take over a Funding loan's money path.
uint8 constant POWER_FUNDING_DELEGATE = 1;
/// @dev A history writer (the splitter, the loss waterfall, the collateral registry) adds its own facts to histories.
uint8 constant POWER_HISTORY_WRITER = 2;

/// @notice The immutable agreement a platform anchors. It lives in the `LoanAnchored` event, not in storage; its hash
/// is the loan id.
struct LoanTerms {
    /// @dev The originating platform; must be the account that anchors.
    address platform;
    /// @dev The borrower reference: HMAC-SHA256(alliance key, normalised national id). Never personal data.
    bytes32 borrowerRef;
    /// @dev Hash of the signed contract document, version 1.
    bytes32 documentHash;
    /// @dev The platform's own reference for the agreement (a hash), so two agreements with equal terms get two ids.
    bytes32 platformRef;
    uint128 principal;
    /// @dev Nominal annual interest rate, basis points, actual/365.
    uint16 annualRateBps;
    /// @dev A `ScheduleKind`, kept as uint8 so that an unknown kind is rejected with a named error.
    uint8 scheduleKind;
    uint16 installments;
    /// @dev Seconds between installments (for a bullet loan: the whole term).
    uint32 period;
    /// @dev Seconds after a due date during which a payment is not late.
    uint32 gracePeriod;
    /// @dev Late interest rate, basis points a year, charged per started day overdue.
    uint16 lateFeeBps;
    /// @dev Seconds after a missed due date from which a late loan may be declared defaulted.
    uint32 defaultThreshold;
    /// @dev The loan must be funded and activated by this time, or it can only be cancelled.
    uint40 fundingDeadline;
}

/// @notice The mutable state of a loan.
/// @dev One slot: status (8) | installmentsPaid (16) | documentVersion (16) | activatedAt (40) | statusSince (40) |
/// outstandingPrincipal (96) | servicingDelegated (8) | handedOver (8) | consent (8). The principal of any loan fits
/// 96 bits (`MAX_PRINCIPAL`), so its outstanding part does too. The consent lives here, in the slot anchoring writes
/// anyway, so that recording it costs no storage of its own.
struct LoanState {
    LoanStatus status;
    /// @dev Installments settled so far; the next one due is `installmentsPaid + 1`.
    uint16 installmentsPaid;
    /// @dev Number of document versions; version 1 is `terms.documentHash`.
    uint16 documentVersion;
    /// @dev When the principal was disbursed; due dates are `activatedAt + k * period`.
    uint40 activatedAt;
    uint40 statusSince;
    uint96 outstandingPrincipal;
    /// @dev Set when a funding delegate (the repayment splitter) took over the money path: from then on only that
    /// contract ({ILoanRegistry-delegateOf}) may activate, cancel, record repayments, or mark the loan Recovered or
    /// WrittenOff, so nobody can record a payment that never arrived nor close a loss outside the loss waterfall.
    bool servicingDelegated;
    /// @dev Set when governance handed the loan over to a successor servicer ({ILoanRegistry-servicerOf}).
    bool handedOver;
    /// @dev How the borrower agreed to the current document.
    Consent consent;
}

/// @notice A borrower reference's exposure across every platform of the alliance.
/// @dev One slot: outstandingPrincipal (128) | openLoans (32) | four event counters (24 each).
struct BorrowerExposure {
    /// @dev Principal still owed on open loans (requested principal while a loan is Funding).
    uint128 outstandingPrincipal;
    /// @dev Loans anchored and not yet closed (Funding, Active, Late, Defaulted).
    uint32 openLoans;
    uint24 lateEvents;
    uint24 curedEvents;
    uint24 defaultEvents;
    uint24 writeOffEvents;
}

/// @notice The alliance's rules for every loan, set by governance. Zero means no limit.
struct AlliancePolicy {
    /// @dev Most open loans (Funding, Active, Late, Defaulted) one borrower reference may have across all platforms.
    uint32 maxOpenLoans;
    /// @dev Most outstanding principal one borrower reference may owe across all platforms.
    uint128 maxOutstandingPrincipal;
    /// @dev Seconds after a loan becomes eligible for a late mark or a default from which anyone, not only its servicer,
    /// may declare it; at most `MAX_PUBLIC_DEFAULT_DELAY` (a year), so that public defaults cannot be switched off.
    uint32 publicDefaultDelay;
}

/// @notice What a default left to cover, recorded when the loan was declared Defaulted.
struct Loss {
    uint128 principal;
    /// @dev Interest and late interest of the installment that was due.
    uint128 interest;
}

/// @notice Where governance's appointment of a successor for a failing platform's book stands (the table is in
/// {ILoanRegistry}).
enum AppointmentStatus {
    None,
    /// @dev Made while the platform was suspended or expelled, and the platform was not reinstated since: its loans
    /// pass to the successor by {ILoanSuccession-takeOverLoans}.
    Standing,
    /// @dev The platform was reinstated after the appointment: it serves its own book again, and the appointment
    /// reaches none of its loans, those it anchors later least of all.
    Lapsed
}

/// @notice Governance's appointment of `successor` for a failing platform's book.
/// @dev One slot: successor (160) | reinstatements (32) | appointedAt (40).
struct Appointment {
    address successor;
    /// @dev The platform's reinstatement count ({Member-reinstatements}) when the appointment was made: a
    /// reinstatement since then ends it.
    uint32 reinstatements;
    uint40 appointedAt;
}

/// @notice The next installment of a loan, as it stands at the time of the call.
struct PaymentDue {
    uint16 installment;
    uint40 dueDate;
    uint256 principal;
    uint256 interest;
    uint256 lateInterest;
}

/// @title Loan registry: anchored loan agreements, their lifecycle and their provable history
/// @notice Platforms anchor loan agreements (alone or in batches) and service them through the transition table:
///
///     Funding   → Active | Cancelled
///     Active    → Late | Repaid
///     Late      → Active (cured by a repayment that brings it up to date) | Repaid | Defaulted
///     Defaulted → Recovered | WrittenOff
///     WrittenOff → Recovered (a loss recovered in full after it was written off)
///     Repaid, Recovered, Cancelled: final
///
/// A written-off loan is closed (it leaves its borrower's exposure) but its loss can still be recovered: once it is
/// recovered in full the loan becomes Recovered with the same facts and credit event as a defaulted loan made whole,
/// and its collateral goes back as for one.
///
/// Who acts on a loan:
/// - Its **servicer** ({servicerOf}): the originating platform, or the successor governance handed the loan over to
///   ({ILoanSuccession}); never an expelled member (the alliance registry's standing rule). The
///   servicer marks the loan late and defaulted, amends its document, holds its liens and runs their disposal.
/// - Its **funding delegate** ({delegateOf}), once one took the money path over: only that contract activates,
///   cancels, records repayments, or closes the loss (Recovered, WrittenOff). A loan without one has its servicer do it.
/// - **Anyone**, so that no failed or silent member can hide a loss or block a borrower: a late mark from
///   `gracePeriod + publicDefaultDelay` after the missed due date, a default from `defaultThreshold + publicDefaultDelay`
///   after it (from Active too: the loan then passes through Late, with the same facts as when its servicer acts), and
///   a cancellation of a Funding loan once its funding deadline has passed or its servicer was expelled.
///
/// Succession: governance hands a failing platform's book to a successor ({ILoanSuccession}, served at this
/// registry's address).
///
/// Every fact about a loan extends its history chain, `head = keccak256(abi.encode(previousHead, factHash))` starting
/// from zero, and every event that records a fact carries the new head, so an auditor can prove an off-chain copy of
/// the history complete and unaltered. The fact hashes are:
///
///     Anchored:          keccak256(abi.encode(FactKind.Anchored, loanId, at))
///     StatusChanged:     keccak256(abi.encode(FactKind.StatusChanged, loanId, from, to, at))
///     RepaymentRecorded: keccak256(abi.encode(FactKind.RepaymentRecorded, loanId, installment, amount, lateInterest,
///                                             interest, principal, prepayment, outstandingAfter, bankRef, at))
///     DocumentAmended:   keccak256(abi.encode(FactKind.DocumentAmended, loanId, version, documentHash, at))
///     External:          keccak256(abi.encode(FactKind.External, loanId, source, factHash, at))
///     ServicingDelegated: keccak256(abi.encode(FactKind.ServicingDelegated, loanId, servicer, at))
///     LossRecorded:      keccak256(abi.encode(FactKind.LossRecorded, loanId, principal, interest, at))
///     ServicerChanged:   keccak256(abi.encode(FactKind.ServicerChanged, loanId, from, to, at))
///     AgreementSigned:   keccak256(abi.encode(FactKind.AgreementSigned, loanId, borrower, platform, deadline,
///                                             keccak256(borrowerSignature), at))
///     AmendmentSigned:   keccak256(abi.encode(FactKind.AmendmentSigned, loanId, version, borrower, platform,
///                                             deadline, keccak256(borrowerSignature), at))
///     LegacyAgreement:   keccak256(abi.encode(FactKind.LegacyAgreement, loanId, at))
///
/// An External fact's `factHash` is the writer's own fact, tagged by its kind too, so that no two facts of different
/// kinds (the registry's or any writer's) can hash alike. Each summarises the writer's event of the same name, emitted
/// in the same transaction:
///
///     the repayment splitter ({IRepaymentSplitter}):
///     FundingOpened:       keccak256(abi.encode(FactKind.FundingOpened, config))
///     RecoveryReceived:    keccak256(abi.encode(FactKind.RecoveryReceived, from, amount))
///     PayoutsPushed:       keccak256(abi.encode(FactKind.PayoutsPushed, keccak256(batch), paid, skipped))
///     the loss waterfall ({ILossWaterfall}):
///     LossSettled:         keccak256(abi.encode(FactKind.LossSettled, loss, recoveredBefore, insurerBore, reserveBore,
///                                               lendersBore))
///     RecoveryApplied:     keccak256(abi.encode(FactKind.RecoveryApplied, amount, toInsurer, toReserve, toLenders))
///     the collateral registry ({ICollateralRegistry}):
///     CollateralPledged:   keccak256(abi.encode(FactKind.CollateralPledged, assetId, securedAmount, priority))
///     LienReleased:        keccak256(abi.encode(FactKind.LienReleased, assetId))
///     CollateralSeized:    keccak256(abi.encode(FactKind.CollateralSeized, assetId))
///     CollateralDisposed:  keccak256(abi.encode(FactKind.CollateralDisposed, assetId, proceeds, allocated, buyerRef,
///                                               saleDocHash))
///     CollateralRevalued:  keccak256(abi.encode(FactKind.CollateralRevalued, assetId, appraisalValue,
///                                               appraisalDocHash))
///     SeizedAssetReturned: keccak256(abi.encode(FactKind.SeizedAssetReturned, assetId))
///
/// where `allocated` is the part of a sale's proceeds that went to that loan (its `DisposalAllocated`, or zero); a
/// revaluation adds its fact to every loan the asset secures, a sale to each loan with a lien on it. The return of a
/// seized asset also releases its lien, and records only the SeizedAssetReturned fact.
///
/// Consent. The borrower signs EIP-712 typed data of this registry's domain (name "LoanLedger Loans", version "1", the
/// chain id and this contract's address, so a signature is good for one registry on one chain):
///
///     LoanAgreement(uint256 loanId,uint256 deadline)
///     LoanAmendment(uint256 loanId,uint16 version,bytes32 documentHash,uint256 deadline)
///
/// The loan id commits to every term and to the first document's hash, so an agreement signature covers them all; an
/// amendment names the version it creates, so it applies once. The borrower may be an externally owned account or an
/// ERC-1271 contract wallet. The platform consents by sending the transaction, as a servicer's own transaction is its
/// consent to a pledge: only the terms' platform may anchor and only the loan's servicer may sign or amend, and the fact
/// names that sender as `platform`. The functions that take signatures are {ILoanConsent}'s, served at this registry's
/// address.
/// Governance may require consent ({setConsentRequired}): a loan without it (anchored unsigned, or whose document
/// changed unsigned) cannot then open funding or be activated until it is signed ({ILoanConsent-signAgreement},
/// {ILoanConsent-amendDocumentSigned}). A book signed on paper is imported with {ILoanConsent-anchorLegacyLoans}, whose
/// distinct fact tells an auditor which loans carry no on-chain consent; it is a side door, so it is bounded: only a
/// platform governance allowed, until the cut-off governance set ({ILoanConsent-allowLegacyImport}), and while consent
/// is required a legacy loan (financed off the ledger, serviced by its platform) never opens funding on the ledger.
///
/// The consent record of a loan ({Consent}) is a state machine too:
///
///     from     action               who                               condition                        to
///     (none)   anchorLoan(s)        active platform (the terms')                                       None
///     (none)   anchorSignedLoan(s)  active platform, borrower signs                                    Signed
///     (none)   anchorLegacyLoans    active platform                   governance's allowance, cut-off  Legacy
///     None     signAgreement        servicer, borrower signs          Funding, document version 1      Signed
///     Legacy   signAgreement        servicer, borrower signs          Funding, document version 1      Signed
///     Signed   signAgreement        servicer                                                           refused
///     any      amendDocumentSigned  servicer, borrower signs          loan not closed                  Signed
///     None     amendDocument        servicer                          not closed; Funding if required  None
///     Signed   amendDocument        servicer                                                           refused
///     Legacy   amendDocument        servicer                                                           refused
///
/// While consent is required, opening funding on the ledger ({delegateServicing}) takes Signed, and activating a loan
/// off the ledger's money path takes Signed or Legacy; every other caller is refused as for any servicing action.
///
/// @dev Warning: the registry does not keep the borrower's signing address (a slot per loan would cost 22 100 gas,
/// more than a batch's whole budget for consent), so it cannot itself refuse an amendment signed by a key other than
/// the agreement's: each signer is in the history, the client refuses such an amendment and the verifier reports it.
///
/// Cross-platform exposure and credit events per borrower reference are kept for every member to read.
/// @dev On a permissioned chain read access is governed by the nodes, so the views are open to any caller.
interface ILoanRegistry {
    // ---------------------------------------------------------------- events

    /// @notice `platform` anchored loan `loanId` for `borrowerRef` on `terms`.
    event LoanAnchored(
        LoanId indexed loanId,
        address indexed platform,
        bytes32 indexed borrowerRef,
        LoanTerms terms,
        uint40 at,
        bytes32 head
    );
    /// @notice Loan `loanId` moved from `from` to `to`.
    event LoanStatusChanged(LoanId indexed loanId, LoanStatus from, LoanStatus to, uint40 at, bytes32 head);
    /// @notice A repayment of `amount` settled installment `installment` of `loanId`, applied as late interest,
    /// interest, scheduled principal and prepayment, leaving `outstandingAfter`.
    event RepaymentRecorded(
        LoanId indexed loanId,
        uint16 installment,
        uint256 amount,
        uint256 lateInterest,
        uint256 interest,
        uint256 principal,
        uint256 prepayment,
        uint256 outstandingAfter,
        bytes32 bankRef,
        uint40 at,
        bytes32 head
    );
    /// @notice The loan's contract document gained version `version` with hash `documentHash`.
    event LoanDocumentAmended(LoanId indexed loanId, uint16 version, bytes32 documentHash, uint40 at, bytes32 head);
    /// @notice Servicer contract `source` recorded `factHash` (its own fact, e.g. a collateral pledge) in the history.
    event LoanHistoryExtended(LoanId indexed loanId, address indexed source, bytes32 factHash, uint40 at, bytes32 head);
    /// @notice Loan `loanId` defaulted owing `principal` and `interest`: the loss the alliance's waterfall covers.
    event LossRecorded(LoanId indexed loanId, uint256 principal, uint256 interest, uint40 at, bytes32 head);
    event AlliancePolicySet(AlliancePolicy policy);
    /// @notice Funding delegate `servicer` took over activation, cancellation and repayments of `loanId`.
    event LoanServicingDelegated(LoanId indexed loanId, address indexed servicer, uint40 at, bytes32 head);
    /// @notice Governance named `successor` to take over the loans of `platform` ({ILoanSuccession-takeOverLoans} applies it per loan).
    event SuccessorAppointed(address indexed platform, address indexed successor);
    /// @notice Governance withdrew its appointment of `successor` for the loans of `platform`.
    event SuccessorWithdrawn(address indexed platform, address indexed successor);
    /// @notice Governance allowed `platform` to import a book signed on paper ({ILoanConsent-anchorLegacyLoans}) until
    /// `until` (zero: not at all).
    event LegacyImportAllowed(address indexed platform, uint40 until);
    /// @notice Governance gave system contract `account` the powers `powers` (a bitmask of `POWER_*`).
    event SystemPowersSet(address indexed account, uint8 powers);
    /// @notice Loan `loanId` passed from servicer `from` to `to`.
    event LoanServicerChanged(LoanId indexed loanId, address indexed from, address indexed to, uint40 at, bytes32 head);
    /// @notice `borrower` signed the agreement of loan `loanId` and `platform` agreed by sending the transaction
    /// ({Consent-Signed}).
    event LoanAgreementSigned(
        LoanId indexed loanId,
        address indexed borrower,
        address platform,
        uint256 deadline,
        bytes borrowerSignature,
        uint40 at,
        bytes32 head
    );
    /// @notice `borrower` signed document version `version` of loan `loanId` and its servicer `platform` agreed by
    /// sending the transaction (the `LoanDocumentAmended` fact comes just before).
    event LoanAmendmentSigned(
        LoanId indexed loanId,
        uint16 version,
        address indexed borrower,
        address platform,
        uint256 deadline,
        bytes borrowerSignature,
        uint40 at,
        bytes32 head
    );
    /// @notice Loan `loanId` was imported from a book signed on paper: its agreement carries no on-chain consent.
    event LegacyAgreementRecorded(LoanId indexed loanId, uint40 at, bytes32 head);
    /// @notice Governance required (or stopped requiring) signed consent before a loan opens funding.
    event ConsentPolicySet(bool required);
    /// @notice A credit event for `borrowerRef` on loan `loanId` of `platform`.
    event CreditEventRecorded(
        bytes32 indexed borrowerRef,
        LoanId indexed loanId,
        address indexed platform,
        CreditEvent kind,
        uint40 at
    );

    // ---------------------------------------------------------------- errors

    /// @notice `caller` is not an active platform member and cannot originate loans.
    error LoanRegistryNotActivePlatform(address caller);
    /// @notice The terms name `platform` as originator, but `caller` anchors them.
    error LoanRegistryPlatformMismatch(address caller, address platform);
    /// @notice The terms' `field` is `value`, outside `[min, max]`.
    error LoanRegistryTermOutOfBounds(TermsField field, uint256 value, uint256 min, uint256 max);
    /// @notice The terms' reference `field` (borrower reference or document hash) is zero.
    error LoanRegistryMissingReference(TermsField field);
    /// @notice A loan with these terms was anchored before.
    error LoanRegistryLoanExists(LoanId loanId);
    /// @notice A batch must hold between 1 and `max` loans; it held `size`.
    error LoanRegistryBatchSize(uint256 size, uint256 max);
    /// @notice Item `index` of a batch was rejected for `reason` (the item's own error, ABI-encoded); nothing was anchored.
    error LoanRegistryBatchItemRejected(uint256 index, bytes reason);
    /// @notice No loan was anchored with these terms.
    error LoanRegistryUnknownLoan(LoanId loanId);
    /// @notice `caller` is not the loan's servicer (its platform or successor), or that servicer was expelled.
    error LoanRegistryUnauthorized(LoanId loanId, address caller);
    /// @notice `lienholder` may not take a lien for the loan: only its servicer, while an active platform member.
    error LoanRegistryNotLienholder(LoanId loanId, address lienholder);
    /// @notice A loan takes liens while Funding, Active or Late; it is `status`.
    error LoanRegistryLoanNotOpen(LoanId loanId, LoanStatus status);
    /// @notice The transition table does not allow `from` → `to`.
    error LoanRegistryInvalidTransition(LoanId loanId, LoanStatus from, LoanStatus to);
    /// @notice Repayments and payment schedules apply to Active or Late loans only; the loan is `status`.
    error LoanRegistryNotServiceable(LoanId loanId, LoanStatus status);
    /// @notice The loan is closed (`status`) and its documents can no longer change.
    error LoanRegistryLoanClosed(LoanId loanId, LoanStatus status);
    /// @notice The funding deadline `deadline` passed at `nowTime`; the loan can only be cancelled.
    error LoanRegistryFundingDeadlinePassed(LoanId loanId, uint256 deadline, uint256 nowTime);
    /// @notice The next installment is not overdue: its grace period ends at `graceEnds`, it is `nowTime`.
    error LoanRegistryNotOverdue(LoanId loanId, uint256 graceEnds, uint256 nowTime);
    /// @notice The loan may be declared defaulted from `eligibleAt`; it is `nowTime`.
    error LoanRegistryDefaultThresholdNotReached(LoanId loanId, uint256 eligibleAt, uint256 nowTime);
    /// @notice `amount` does not settle the next installment, which needs `due` (late interest, interest, principal).
    error LoanRegistryPaymentBelowInstallment(LoanId loanId, uint256 amount, uint256 due);
    /// @notice `amount` exceeds everything the loan can take now, `maxPayable`.
    error LoanRegistryPaymentExceedsBalance(LoanId loanId, uint256 amount, uint256 maxPayable);
    /// @notice Installment `installment` fell due at `dueDate` too: it must be paid before any prepayment. Pay
    /// `installmentDue` (the installment settled now) first, then the next one.
    error LoanRegistryInstallmentsDue(LoanId loanId, uint256 installment, uint256 dueDate, uint256 installmentDue);
    /// @notice `caller` is not a funding delegate (a system contract governance names).
    error LoanRegistryNotFundingDelegate(address caller);
    /// @notice `caller` is not a history writer (a system contract governance names).
    error LoanRegistryNotHistoryWriter(address caller);
    /// @notice System powers are for contracts only; `account` has no code (or `powers` has unknown bits).
    error LoanRegistryInvalidSystemPowers(address account, uint8 powers);
    /// @notice The loan's money moves through `delegate`, so only it may activate, cancel, record repayments, or mark
    /// the loan recovered or written off; `caller` is not it.
    error LoanRegistryServicingDelegated(LoanId loanId, address caller, address delegate);
    /// @notice Anchoring would take `borrowerRef` to `openLoans` open loans and `outstanding` principal across the
    /// alliance, beyond its limits `maxOpenLoans` and `maxOutstanding` (zero: no limit).
    error LoanRegistryExposureLimit(
        bytes32 borrowerRef,
        uint256 openLoans,
        uint256 outstanding,
        uint256 maxOpenLoans,
        uint256 maxOutstanding
    );
    /// @notice Only alliance governance may do this; `caller` is not.
    error LoanRegistryNotGovernance(address caller);
    /// @notice Before `publicAt` only the loan's servicer may do this; it is `nowTime`.
    error LoanRegistryNotYetPublic(LoanId loanId, uint256 publicAt, uint256 nowTime);
    /// @notice Servicing can be delegated once, while the loan is Funding; the loan is `status`, `delegated` already.
    error LoanRegistryCannotDelegate(LoanId loanId, LoanStatus status, bool delegated);
    /// @notice The public delay `delay` exceeds `max`: public late marks and defaults cannot be switched off.
    error LoanRegistryPublicDelayTooLong(uint256 delay, uint256 max);
    /// @notice `successor` cannot take over `platform`'s loans: it must be an active platform other than `platform`,
    /// and a platform-wide appointment needs `platform` to be a suspended or expelled platform member.
    error LoanRegistryInvalidSuccessor(address platform, address successor);
    /// @notice No successor was appointed for `platform`, the originator of `loanId`, or the loan already has it.
    error LoanRegistryNoSuccessor(LoanId loanId, address platform);
    /// @notice Governance appointed no successor for `platform`'s loans (or withdrew it).
    error LoanRegistryNoAppointment(address platform);
    /// @notice `platform` may import a book signed on paper only until `until` (zero: governance never allowed it);
    /// it is `nowTime`.
    error LoanRegistryLegacyImportClosed(address platform, uint256 until, uint256 nowTime);
    /// @notice The borrower's signature for `loanId` could be used until `deadline`; it is `nowTime`.
    error LoanRegistryConsentExpired(LoanId loanId, uint256 deadline, uint256 nowTime);
    /// @notice `signer`'s signature of loan `loanId`'s agreement or amendment is not valid (another loan, version,
    /// document, chain or registry, another key, or a contract wallet that refuses it).
    error LoanRegistryInvalidSignature(LoanId loanId, address signer);
    /// @notice The borrower's signing address `borrower` is the platform's own: a platform cannot consent for its borrower.
    error LoanRegistryBorrowerIsPlatform(LoanId loanId, address borrower);
    /// @notice The alliance requires signed consent, and loan `loanId` has none: it cannot open funding or be activated.
    error LoanRegistryConsentMissing(LoanId loanId);
    /// @notice Loan `loanId` was imported with paper consent: while the alliance requires consent it cannot open funding
    /// on the ledger (a signed agreement, {ILoanConsent-signAgreement}, lets it).
    error LoanRegistryLegacyLoanFunding(LoanId loanId);
    /// @notice The loan's document (consent `consent`, status `status`) changes only with the borrower's signature, sent
    /// by the servicer ({ILoanConsent-amendDocumentSigned}).
    error LoanRegistryConsentRequired(LoanId loanId, Consent consent, LoanStatus status);
    /// @notice An agreement is signed while the loan is Funding, on its first document, and once; the loan is `status`
    /// at version `documentVersion` with consent `consent`.
    error LoanRegistryCannotSignAgreement(LoanId loanId, LoanStatus status, uint16 documentVersion, Consent consent);
    /// @notice A batch needs one borrower signature per loan: `terms` loans, `signatures` signatures.
    error LoanRegistryBatchLengthMismatch(uint256 terms, uint256 signatures);

    // ---------------------------------------------------------------- origination

    /// @notice Anchors one loan in status Funding. Only an active platform member, for itself.
    /// @dev Adds the principal and one open loan to the borrower's exposure.
    function anchorLoan(LoanTerms calldata terms) external returns (LoanId loanId);

    /// @notice Anchors a loan book atomically: every item is checked as {anchorLoan} would, and the first bad item
    /// reverts the whole batch with {LoanRegistryBatchItemRejected} naming its index and its own error.
    function anchorLoans(LoanTerms[] calldata terms) external returns (LoanId[] memory loanIds);

    // ---------------------------------------------------------------- lifecycle (platform or servicer)

    /// @notice Funding → Active: the principal was disbursed now; the schedule's due dates start from now.
    function activateLoan(LoanTerms calldata terms) external;

    /// @notice Funding → Cancelled: funding failed. Removes the loan from the borrower's exposure. The servicer (or the
    /// funding delegate) at any time; anyone once the funding deadline has passed or the servicer was expelled, so that
    /// a loan that never funded cannot block its borrower's exposure.
    function cancelLoan(LoanTerms calldata terms) external;

    /// @notice Active → Late, once the next installment's grace period has passed unpaid: by the servicer, and by anyone
    /// once `publicDefaultDelay` has passed too. Records a Late credit event.
    function markLate(LoanTerms calldata terms) external;

    /// @notice Active or Late → Defaulted, once the next installment is `defaultThreshold` overdue: by the loan's
    /// servicer, and by anyone once the alliance's `publicDefaultDelay` has passed too, so that a failed or silent
    /// platform cannot hide a default. An Active loan passes through Late first (the same facts and credit events as a
    /// late mark followed by a default). Records the loss (outstanding principal, and the interest and late interest of
    /// every installment missed by then, as the schedule charges them) and a Defaulted credit event.
    function markDefaulted(LoanTerms calldata terms) external;

    /// @notice Defaulted or WrittenOff → Recovered: the loss was recovered in full. Closes the loan's exposure (a
    /// written-off loan's was closed already).
    function markRecovered(LoanTerms calldata terms) external;

    /// @notice Defaulted → WrittenOff: nothing more will be recovered. Closes the loan's exposure.
    function writeOff(LoanTerms calldata terms) external;

    /// @notice Records a repayment of `amount` on an Active or Late loan. It must settle the next installment at least
    /// (late interest, interest and scheduled principal, in that order); the rest prepays principal, but only once no
    /// later installment has fallen due: every installment due is paid, with its interest and late interest, before
    /// any prepayment, so that no payment pattern pays less than paying on time. Repaying the last
    /// of the principal moves the loan to Repaid; bringing a Late loan up to date moves it back to Active.
    /// @return due The installment settled, as it stood before the payment.
    /// @return prepayment The part of `amount` that prepaid principal.
    /// @return outstandingAfter The principal still owed after the payment.
    /// @param bankRef The custody bank's reference of the payment that brought the money to the ledger (the
    /// {ICustodyDepositToken-Issued} it backs), or zero: a fact of the repayment, in the loan's history.
    /// @dev Named `recordPayment` for its selector: the compiler's dispatcher (via-IR) tries selectors in ascending
    /// order, and this one comes second of the registry's 47, where `recordRepayment(…,bytes32)`'s came last, some
    /// 1 000 gas later on every repayment.
    function recordPayment(
        LoanTerms calldata terms,
        uint256 amount,
        bytes32 bankRef
    ) external returns (PaymentDue memory due, uint256 prepayment, uint256 outstandingAfter);

    /// @notice Adds contract document version `documentHash` (an amendment) without signatures. Earlier versions stay in
    /// the history. Only for a loan whose borrower never consented on chain or on paper (consent None), and, while the
    /// alliance requires consent, only before funding (the loan then needs signatures before it can fund).
    function amendDocument(LoanTerms calldata terms, bytes32 documentHash) external;

    /// @notice Funding loan: the calling funding delegate takes over activation, cancellation, repayments and the
    /// closing of its loss for good (see {LoanState-servicingDelegated}). Funding delegates only.
    function delegateServicing(LoanTerms calldata terms) external;

    /// @notice Records a history writer's own fact `factHash` in the loan's history. History writers only.
    /// @return status The loan's status, so that a writer can check it without a second call.
    function extendHistory(LoanId loanId, bytes32 factHash) external returns (LoanStatus status);

    /// @notice Records a new lien's fact `factHash` in the history of loan `loanId` (whose terms name `platform`), after
    /// checking that the loan is open (Funding, Active or Late) and that `lienholder` may take the lien: the loan's
    /// servicer, an active platform member (a lien is new business). History writers only (the collateral registry,
    /// which proved `platform` from the terms it hashed).
    function recordLien(LoanId loanId, address platform, address lienholder, bytes32 factHash) external;

    /// @notice Sets the alliance's exposure limits and public delay (at most a year). Governance only.
    function setAlliancePolicy(AlliancePolicy calldata policy) external;

    /// @notice Requires (or stops requiring) the borrower's consent before a loan's money moves: a loan opens funding on
    /// the ledger only when signed on chain ({Consent-Signed}), and a loan serviced off the ledger's money path is
    /// activated only when signed on chain or on paper ({Consent-Legacy}). Governance only.
    function setConsentRequired(bool required) external;

    /// @notice Whether the alliance requires consent before funding.
    function consentRequired() external view returns (bool);

    /// @notice Gives system contract `account` exactly the powers `powers` (a bitmask of `POWER_*`; zero takes them all
    /// away). Governance only, and to contracts only: no plain account, which can sign whatever it likes, may ever
    /// record money that never arrived or facts about other members' loans.
    function setSystemPowers(address account, uint8 powers) external;

    /// @notice The powers of system contract `account` (a bitmask of `POWER_*`).
    function systemPowersOf(address account) external view returns (uint8);

    // ---------------------------------------------------------------- views

    function alliancePolicy() external view returns (AlliancePolicy memory);

    /// @notice The loss recorded when loan `loanId` defaulted (zero if it did not).
    function lossOf(LoanId loanId) external view returns (Loss memory);

    /// @notice The id that `terms` have (or would have) when anchored.
    function loanIdOf(LoanTerms calldata terms) external pure returns (LoanId);

    /// @notice The state of loan `loanId` (status None if unknown).
    function loanState(LoanId loanId) external view returns (LoanState memory);

    /// @notice The head of loan `loanId`'s history chain (zero if unknown).
    function historyHead(LoanId loanId) external view returns (bytes32);

    /// @notice The loan's servicer: the successor it was handed over to, or else its originating platform.
    function servicerOf(LoanTerms calldata terms) external view returns (address);

    /// @notice The servicer of loan `loanId`, whose terms name `platform` (for callers that hold the id, not the terms).
    function servicerFor(LoanId loanId, address platform) external view returns (address);

    /// @notice Whether `account` services the loan now: it is {servicerOf} and has not been expelled. Every contract of
    /// the suite asks this before a servicing action.
    function mayService(LoanTerms calldata terms, address account) external view returns (bool);

    /// @notice The funding delegate that took the loan's money path over (zero if none).
    function delegateOf(LoanId loanId) external view returns (address);

    /// @notice The next installment of an Active or Late loan, with late interest as of now.
    function nextPayment(LoanTerms calldata terms) external view returns (PaymentDue memory);

    /// @notice The cross-platform exposure and credit record of `borrowerRef`.
    function exposureOf(bytes32 borrowerRef) external view returns (BorrowerExposure memory);

    /// @notice Whether the transition table allows `from` → `to`.
    function isTransitionAllowed(LoanStatus from, LoanStatus to) external pure returns (bool);

    /// @notice The error {anchorLoan} would raise for `terms` if `caller` anchored them now (empty when it would succeed),
    /// so that clients can check a loan book before sending it.
    function previewAnchor(address caller, LoanTerms calldata terms) external view returns (bytes memory reason);
}
