// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAllianceRegistry, ROLE_PLATFORM} from "./interfaces/IAllianceRegistry.sol";
import {
    ILoanRegistry,
    LoanId,
    LoanStatus,
    LoanTerms,
    LoanState,
    BorrowerExposure,
    TermsField,
    AlliancePolicy,
    Loss,
    Appointment,
    computeLoanId
} from "./interfaces/ILoanRegistry.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {ScheduleKind} from "./libraries/ScheduleMath.sol";
import {HistoryFacts} from "./libraries/HistoryFacts.sol";

/// @title LoanRegistryBase: the loan registry's storage, bounds and the rules its two code units share
/// @notice The registry ({LoanRegistry}) and its consent module ({LoanConsentModule}) run on this one storage layout:
/// the module's code runs by delegatecall in the registry's context. The shared rules (the terms check, anchoring, the
/// history chain, who services a loan) live here once, so that a signed, a legacy and an unsigned loan are checked and
/// anchored by the same code.
/// @dev Warning: storage is declared here only, in this order; neither contract may declare storage of its own.
abstract contract LoanRegistryBase {
    // ---------------------------------------------------------------- bounds on terms

    /// @dev Principal fits 96 bits, so that an exposure of 2^32 such loans still fits its 128-bit sum.
    uint256 public constant MAX_PRINCIPAL = type(uint96).max;
    /// @dev 100% a year: the alliance's policy caps are stricter; this bound only rejects nonsense.
    uint256 public constant MAX_ANNUAL_RATE_BPS = 10_000;
    uint256 public constant MAX_LATE_FEE_BPS = 10_000;
    /// @dev 30 years of monthly installments.
    uint256 public constant MAX_INSTALLMENTS = 360;
    uint256 public constant MIN_PERIOD = 1 days;
    /// @dev A bullet loan's single period is its whole term: up to five years.
    uint256 public constant MAX_PERIOD = 1830 days;
    uint256 public constant MAX_TERM = 30 * 365 days;
    uint256 public constant MAX_GRACE_PERIOD = 30 days;
    uint256 public constant MAX_DEFAULT_THRESHOLD = 365 days;
    uint256 public constant MAX_FUNDING_WINDOW = 90 days;
    /// @dev Governance may slow public late marks and defaults down, never switch them off.
    uint256 public constant MAX_PUBLIC_DEFAULT_DELAY = 365 days;
    /// @dev A batch must fit both a block (30M on the alliance's Besu genesis) and the per-transaction gas cap of 2^24
    /// that newer forks (Osaka) impose: measured on a Cancun node, 150 loans with new borrowers take about 12.7M gas,
    /// 76% of 2^24, leaving room for anchoring to grow.
    uint256 public constant MAX_BATCH = 150;

    /// @notice The alliance registry that says who may do what.
    IAllianceRegistry public immutable ALLIANCE;

    mapping(LoanId loanId => LoanState) internal _states;
    mapping(LoanId loanId => bytes32) internal _heads;
    mapping(bytes32 borrowerRef => BorrowerExposure) internal _exposures;
    mapping(LoanId loanId => Loss) internal _losses;
    /// @dev The funding delegate of a loan whose `servicingDelegated` is set.
    mapping(LoanId loanId => address) internal _delegates;
    /// @dev The successor servicer of a loan whose `handedOver` is set.
    mapping(LoanId loanId => address) internal _servicers;
    mapping(address platform => Appointment) internal _appointments;
    mapping(address account => uint8) internal _systemPowers;
    AlliancePolicy internal _policy;
    /// @dev Read only where funding opens or a loan is activated, never while anchoring, so that the unsigned path pays
    /// nothing for it.
    bool internal _consentRequired;
    /// @dev Until when governance allows each platform to import a book signed on paper (zero: never).
    mapping(address platform => uint40) internal _legacyImportUntil;

    /// @dev Until governance says otherwise: no exposure limits, and a month's grace before anyone may declare a default.
    uint32 public constant DEFAULT_PUBLIC_DEFAULT_DELAY = 30 days;

    constructor(IAllianceRegistry alliance) {
        ALLIANCE = alliance;
    }

    function _requireActivePlatform() internal view {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_PLATFORM))
            revert ILoanRegistry.LoanRegistryNotActivePlatform(msg.sender);
    }

    function _loanId(LoanTerms calldata terms) internal pure returns (LoanId) {
        return computeLoanId(terms);
    }

    /// @dev Returns the ABI-encoded error that anchoring `terms` by `caller` would raise, or nothing. Returning the
    /// error instead of reverting lets a batch name the item and lets {previewAnchor} answer without a transaction.
    function _check(address caller, LoanTerms calldata t, LoanId loanId) internal view returns (bytes memory) {
        if (t.platform != caller)
            return abi.encodeWithSelector(ILoanRegistry.LoanRegistryPlatformMismatch.selector, caller, t.platform);
        if (t.borrowerRef == bytes32(0)) return _missing(TermsField.BorrowerRef);
        if (t.documentHash == bytes32(0)) return _missing(TermsField.DocumentHash);
        if (t.principal == 0 || t.principal > MAX_PRINCIPAL) {
            return _outOfBounds(TermsField.Principal, t.principal, 1, MAX_PRINCIPAL);
        }
        if (t.annualRateBps > MAX_ANNUAL_RATE_BPS) {
            return _outOfBounds(TermsField.AnnualRate, t.annualRateBps, 0, MAX_ANNUAL_RATE_BPS);
        }
        if (t.scheduleKind > uint8(type(ScheduleKind).max)) {
            return _outOfBounds(TermsField.ScheduleKind, t.scheduleKind, 0, uint8(type(ScheduleKind).max));
        }
        // A bullet loan has exactly one installment: its period is the whole term.
        uint256 maxInstallments = t.scheduleKind == uint8(ScheduleKind.Bullet) ? 1 : MAX_INSTALLMENTS;
        if (t.installments == 0 || t.installments > maxInstallments) {
            return _outOfBounds(TermsField.Installments, t.installments, 1, maxInstallments);
        }
        if (t.period < MIN_PERIOD || t.period > MAX_PERIOD) {
            return _outOfBounds(TermsField.Period, t.period, MIN_PERIOD, MAX_PERIOD);
        }
        if (uint256(t.period) * t.installments > MAX_TERM) {
            return _outOfBounds(TermsField.Term, uint256(t.period) * t.installments, MIN_PERIOD, MAX_TERM);
        }
        if (t.gracePeriod > MAX_GRACE_PERIOD) {
            return _outOfBounds(TermsField.GracePeriod, t.gracePeriod, 0, MAX_GRACE_PERIOD);
        }
        if (t.lateFeeBps > MAX_LATE_FEE_BPS)
            return _outOfBounds(TermsField.LateFeeRate, t.lateFeeBps, 0, MAX_LATE_FEE_BPS);
        // Default can only be declared after the grace period has passed.
        if (t.defaultThreshold <= t.gracePeriod || t.defaultThreshold > MAX_DEFAULT_THRESHOLD) {
            return
                _outOfBounds(
                    TermsField.DefaultThreshold,
                    t.defaultThreshold,
                    uint256(t.gracePeriod) + 1,
                    MAX_DEFAULT_THRESHOLD
                );
        }
        if (t.fundingDeadline <= block.timestamp || t.fundingDeadline > block.timestamp + MAX_FUNDING_WINDOW) {
            return
                _outOfBounds(
                    TermsField.FundingDeadline,
                    t.fundingDeadline,
                    block.timestamp + 1,
                    block.timestamp + MAX_FUNDING_WINDOW
                );
        }
        if (_states[loanId].status != LoanStatus.None) {
            return abi.encodeWithSelector(ILoanRegistry.LoanRegistryLoanExists.selector, loanId);
        }
        return "";
    }

    /// @dev The alliance's limits on one borrower reference, given its exposure with the new loan counted. Anchoring
    /// checks this in {_anchor}, where the exposure is at hand anyway.
    function _exposureError(
        bytes32 borrowerRef,
        uint256 openLoans,
        uint256 outstanding
    ) internal view returns (bytes memory) {
        AlliancePolicy storage policy = _policy;
        uint256 maxOpenLoans = policy.maxOpenLoans;
        uint256 maxOutstanding = policy.maxOutstandingPrincipal;
        if ((maxOpenLoans != 0 && openLoans > maxOpenLoans) || (maxOutstanding != 0 && outstanding > maxOutstanding)) {
            return
                abi.encodeWithSelector(
                    ILoanRegistry.LoanRegistryExposureLimit.selector,
                    borrowerRef,
                    openLoans,
                    outstanding,
                    maxOpenLoans,
                    maxOutstanding
                );
        }
        return "";
    }

    /// @param batchIndex the item's index in a batch, or `type(uint256).max` for a single loan.
    /// @dev Anchors without consent; the consent module records it right after, in the same slot, so that the unsigned
    /// path runs exactly the code it ran before consent existed.
    function _anchor(LoanTerms calldata terms, LoanId loanId, uint256 batchIndex) internal {
        // The slot is empty (the terms check found no loan, and an anchored loan never returns to None), so only the
        // fields that are not zero are written: measured, this costs about 2 000 gas less than writing the whole
        // struct, which the compiler turns into two stores to the slot.
        LoanState storage state = _states[loanId];
        state.status = LoanStatus.Funding;
        state.documentVersion = 1;
        state.statusSince = uint40(block.timestamp);
        // The terms check bounds the principal by MAX_PRINCIPAL, which fits 96 bits.
        state.outstandingPrincipal = uint96(terms.principal);
        BorrowerExposure storage exposure = _exposures[terms.borrowerRef];
        uint128 outstanding = exposure.outstandingPrincipal + terms.principal;
        uint32 openLoans = exposure.openLoans + 1;
        exposure.outstandingPrincipal = outstanding;
        exposure.openLoans = openLoans;
        bytes memory limit = _exposureError(terms.borrowerRef, openLoans, outstanding);
        if (limit.length != 0) {
            if (batchIndex == type(uint256).max) _revertWith(limit);
            revert ILoanRegistry.LoanRegistryBatchItemRejected(batchIndex, limit);
        }

        uint40 at = uint40(block.timestamp);
        // The first fact: the previous head is the genesis head, zero, so there is no need to read it.
        bytes32 head = HistoryFacts.chain(bytes32(0), HistoryFacts.anchored(loanId, at));
        _heads[loanId] = head;
        emit ILoanRegistry.LoanAnchored(loanId, terms.platform, terms.borrowerRef, terms, at, head);
    }

    function _missing(TermsField field) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ILoanRegistry.LoanRegistryMissingReference.selector, field);
    }

    function _outOfBounds(
        TermsField field,
        uint256 value,
        uint256 min,
        uint256 max
    ) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ILoanRegistry.LoanRegistryTermOutOfBounds.selector, field, value, min, max);
    }

    function _revertWith(bytes memory reason) internal pure {
        LowLevelCall.bubbleRevert(reason);
    }

    function _requireGovernance() internal view {
        if (!ALLIANCE.isGovernance(msg.sender)) revert ILoanRegistry.LoanRegistryNotGovernance(msg.sender);
    }

    /// @dev Proves `terms` against an anchored loan.
    function _known(LoanTerms calldata terms) internal view returns (LoanId loanId, LoanState storage state) {
        loanId = _loanId(terms);
        state = _states[loanId];
        if (state.status == LoanStatus.None) revert ILoanRegistry.LoanRegistryUnknownLoan(loanId);
    }

    /// @dev Proves `terms` against an anchored loan and checks that the caller services it now.
    function _serviced(LoanTerms calldata terms) internal view returns (LoanId loanId, LoanState storage state) {
        (loanId, state) = _known(terms);
        if (!_mayService(terms, loanId, state, msg.sender))
            revert ILoanRegistry.LoanRegistryUnauthorized(loanId, msg.sender);
    }

    function _servicerOf(
        LoanTerms calldata terms,
        LoanId loanId,
        LoanState storage state
    ) internal view returns (address) {
        return state.handedOver ? _servicers[loanId] : terms.platform;
    }

    /// @dev The loan's servicer, unless expelled (a suspended one keeps servicing: the alliance's standing rule).
    function _mayService(
        LoanTerms calldata terms,
        LoanId loanId,
        LoanState storage state,
        address account
    ) internal view returns (bool) {
        return account == _servicerOf(terms, loanId, state) && ALLIANCE.isServicingMember(account, ROLE_PLATFORM);
    }

    function _isFinal(LoanStatus status) internal pure returns (bool) {
        return
            status == LoanStatus.Repaid ||
            status == LoanStatus.Recovered ||
            status == LoanStatus.WrittenOff ||
            status == LoanStatus.Cancelled;
    }

    function _extend(LoanId loanId, bytes32 factHash) internal returns (bytes32 head) {
        head = HistoryFacts.chain(_heads[loanId], factHash);
        _heads[loanId] = head;
    }

    function _amend(LoanId loanId, LoanState storage state, bytes32 documentHash) internal {
        if (documentHash == bytes32(0)) revert ILoanRegistry.LoanRegistryMissingReference(TermsField.DocumentHash);
        uint16 version = state.documentVersion + 1;
        state.documentVersion = version;
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(loanId, HistoryFacts.documentAmended(loanId, version, documentHash, at));
        emit ILoanRegistry.LoanDocumentAmended(loanId, version, documentHash, at, head);
    }
}

/// @title LoanRegistryModule: code the loan registry runs by delegatecall on its own storage
/// @notice The registry and its modules are one contract to every caller: the registry's fallback runs a module's code
/// in its own context, so a module's events and errors are the registry's. Modules split the registry by responsibility
/// (consent, succession) because together they exceed the 24 576-byte code size limit.
/// @dev Called directly, a module would work on its own empty storage, which nobody reads, and a digest it computed
/// would name the module as the verifying contract, which no registry accepts: every function refuses such a call.
abstract contract LoanRegistryModule is LoanRegistryBase {
    /// @dev The module's own address: a call where `address(this)` is this one did not come through the registry.
    address private immutable _SELF;

    /// @notice Called directly rather than through the registry.
    error LoanRegistryModuleNotDelegated();

    modifier onlyDelegated() {
        if (address(this) == _SELF) revert LoanRegistryModuleNotDelegated();
        _;
    }

    constructor(IAllianceRegistry alliance) LoanRegistryBase(alliance) {
        _SELF = address(this);
    }
}
