// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IAllianceRegistry, MemberStatus, ROLE_PLATFORM} from "./interfaces/IAllianceRegistry.sol";
import {
    ILoanRegistry,
    LoanId,
    LoanStatus,
    LoanTerms,
    LoanState,
    BorrowerExposure,
    PaymentDue,
    TermsField,
    CreditEvent,
    FactKind,
    AlliancePolicy,
    POWER_FUNDING_DELEGATE,
    POWER_HISTORY_WRITER,
    Loss,
    computeLoanId
} from "./interfaces/ILoanRegistry.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {ScheduleMath, ScheduleKind} from "./libraries/ScheduleMath.sol";

/// @title LoanRegistry
/// @notice See {ILoanRegistry}.
/// @dev Storage per loan is two fresh slots (state and history head) plus the borrower's exposure slot; the terms live
/// in the `LoanAnchored` event and are proven against the id on every later call. The README's gas section explains
/// the choice.
contract LoanRegistry is ILoanRegistry {
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

    /// @dev Bit `from * 16 + to` is set when the transition table allows `from` → `to`.
    uint256 private constant _TRANSITIONS =
        (1 << (uint256(LoanStatus.Funding) * 16 + uint256(LoanStatus.Active))) |
            (1 << (uint256(LoanStatus.Funding) * 16 + uint256(LoanStatus.Cancelled))) |
            (1 << (uint256(LoanStatus.Active) * 16 + uint256(LoanStatus.Late))) |
            (1 << (uint256(LoanStatus.Active) * 16 + uint256(LoanStatus.Repaid))) |
            (1 << (uint256(LoanStatus.Late) * 16 + uint256(LoanStatus.Active))) |
            (1 << (uint256(LoanStatus.Late) * 16 + uint256(LoanStatus.Repaid))) |
            (1 << (uint256(LoanStatus.Late) * 16 + uint256(LoanStatus.Defaulted))) |
            (1 << (uint256(LoanStatus.Defaulted) * 16 + uint256(LoanStatus.Recovered))) |
            (1 << (uint256(LoanStatus.Defaulted) * 16 + uint256(LoanStatus.WrittenOff)));

    /// @dev A recorded repayment, gathered in memory to keep the stack shallow.
    struct RepaymentRecord {
        uint256 amount;
        PaymentDue due;
        uint256 prepayment;
        uint256 outstandingAfter;
    }

    /// @notice The alliance registry that says who may do what.
    IAllianceRegistry public immutable ALLIANCE;

    mapping(LoanId loanId => LoanState) private _states;
    mapping(LoanId loanId => bytes32) private _heads;
    mapping(bytes32 borrowerRef => BorrowerExposure) private _exposures;
    mapping(LoanId loanId => Loss) private _losses;
    /// @dev The funding delegate of a loan whose `servicingDelegated` is set.
    mapping(LoanId loanId => address) private _delegates;
    /// @dev The successor servicer of a loan whose `handedOver` is set.
    mapping(LoanId loanId => address) private _servicers;
    mapping(address platform => address) private _successors;
    mapping(address account => uint8) private _systemPowers;
    AlliancePolicy private _policy;

    /// @dev Until governance says otherwise: no exposure limits, and a month's grace before anyone may declare a default.
    uint32 public constant DEFAULT_PUBLIC_DEFAULT_DELAY = 30 days;

    constructor(IAllianceRegistry alliance) {
        ALLIANCE = alliance;
        _policy.publicDefaultDelay = DEFAULT_PUBLIC_DEFAULT_DELAY;
    }

    // ---------------------------------------------------------------- origination

    /// @inheritdoc ILoanRegistry
    function anchorLoan(LoanTerms calldata terms) external returns (LoanId loanId) {
        _requireActivePlatform();
        loanId = _loanId(terms);
        bytes memory reason = _check(msg.sender, terms, loanId);
        if (reason.length != 0) _revertWith(reason);
        _anchor(terms, loanId, type(uint256).max);
    }

    /// @inheritdoc ILoanRegistry
    function anchorLoans(LoanTerms[] calldata terms) external returns (LoanId[] memory loanIds) {
        _requireActivePlatform();
        uint256 size = terms.length;
        if (size == 0 || size > MAX_BATCH) revert LoanRegistryBatchSize(size, MAX_BATCH);

        loanIds = new LoanId[](size);
        for (uint256 i; i < size; ++i) {
            LoanId loanId = _loanId(terms[i]);
            // Checked one by one after the earlier items were stored, so a duplicate inside the batch is caught too.
            bytes memory reason = _check(msg.sender, terms[i], loanId);
            if (reason.length != 0) revert LoanRegistryBatchItemRejected(i, reason);
            _anchor(terms[i], loanId, i);
            loanIds[i] = loanId;
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /// @inheritdoc ILoanRegistry
    function activateLoan(LoanTerms calldata terms) external {
        (LoanId loanId, LoanState storage state) = _servicedMoney(terms);
        _requireStatus(loanId, state.status, LoanStatus.Funding, LoanStatus.Active);
        if (block.timestamp > terms.fundingDeadline) {
            revert LoanRegistryFundingDeadlinePassed(loanId, terms.fundingDeadline, block.timestamp);
        }
        // Timestamps fit 40 bits until the year 36 812. The same holds for every `at` below.
        state.activatedAt = uint40(block.timestamp);
        _setStatus(loanId, state, terms, LoanStatus.Active);
    }

    /// @inheritdoc ILoanRegistry
    function cancelLoan(LoanTerms calldata terms) external {
        (LoanId loanId, LoanState storage state) = _known(terms);
        if (state.servicingDelegated) {
            _requireDelegate(loanId);
        } else if (block.timestamp <= terms.fundingDeadline && !_mayService(terms, loanId, state, msg.sender)) {
            // Before its deadline only the servicer may give up on a loan, unless that servicer was expelled and the
            // loan can never fund: then anyone may free the borrower's exposure.
            address servicer = _servicerOf(terms, loanId, state);
            if (msg.sender == servicer || ALLIANCE.isServicingMember(servicer, ROLE_PLATFORM)) {
                revert LoanRegistryUnauthorized(loanId, msg.sender);
            }
        }
        _requireStatus(loanId, state.status, LoanStatus.Funding, LoanStatus.Cancelled);
        _setStatus(loanId, state, terms, LoanStatus.Cancelled);
    }

    /// @inheritdoc ILoanRegistry
    function markLate(LoanTerms calldata terms) external {
        (LoanId loanId, LoanState storage state) = _known(terms);
        _requireStatus(loanId, state.status, LoanStatus.Active, LoanStatus.Late);
        uint256 graceEnds = _nextDueDate(terms, state) + terms.gracePeriod;
        if (block.timestamp <= graceEnds) revert LoanRegistryNotOverdue(loanId, graceEnds, block.timestamp);
        _requireServicerOrPublic(terms, loanId, state, graceEnds + 1);
        _setStatus(loanId, state, terms, LoanStatus.Late);
    }

    /// @inheritdoc ILoanRegistry
    function markDefaulted(LoanTerms calldata terms) external {
        (LoanId loanId, LoanState storage state) = _known(terms);
        LoanStatus from = state.status;
        if (from != LoanStatus.Active && from != LoanStatus.Late) {
            revert LoanRegistryInvalidTransition(loanId, from, LoanStatus.Defaulted);
        }
        uint256 eligibleAt = _nextDueDate(terms, state) + terms.defaultThreshold;
        if (block.timestamp < eligibleAt) {
            revert LoanRegistryDefaultThresholdNotReached(loanId, eligibleAt, block.timestamp);
        }
        _requireServicerOrPublic(terms, loanId, state, eligibleAt);
        // The default threshold lies beyond the grace period, so an Active loan here is overdue: it passes through
        // Late, recording the same facts and credit events as a late mark would have.
        if (from == LoanStatus.Active) _setStatus(loanId, state, terms, LoanStatus.Late);
        uint256 principal = state.outstandingPrincipal;
        uint256 interest = _missedInterest(terms, state, principal);
        // Both parts are below 2^128: principal fits 96 bits, and the interest and late interest of the missed
        // installments, at most 100% a year each over at most 30 years, stay within a few thousand times it.
        _losses[loanId] = Loss({principal: uint128(principal), interest: uint128(interest)});
        _setStatus(loanId, state, terms, LoanStatus.Defaulted);
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(loanId, keccak256(abi.encode(FactKind.LossRecorded, loanId, principal, interest, at)));
        emit LossRecorded(loanId, principal, interest, at, head);
    }

    /// @inheritdoc ILoanRegistry
    function markRecovered(LoanTerms calldata terms) external {
        (LoanId loanId, LoanState storage state) = _servicedMoney(terms);
        _requireStatus(loanId, state.status, LoanStatus.Defaulted, LoanStatus.Recovered);
        _setStatus(loanId, state, terms, LoanStatus.Recovered);
    }

    /// @inheritdoc ILoanRegistry
    function writeOff(LoanTerms calldata terms) external {
        (LoanId loanId, LoanState storage state) = _servicedMoney(terms);
        _requireStatus(loanId, state.status, LoanStatus.Defaulted, LoanStatus.WrittenOff);
        _setStatus(loanId, state, terms, LoanStatus.WrittenOff);
    }

    /// @inheritdoc ILoanRegistry
    function recordRepayment(
        LoanTerms calldata terms,
        uint256 amount
    ) external returns (PaymentDue memory due, uint256 prepayment, uint256 outstandingAfter) {
        (LoanId loanId, LoanState storage state) = _servicedMoney(terms);
        due = _paymentDue(loanId, terms, state);
        uint256 installmentDue = due.lateInterest + due.interest + due.principal;
        if (amount < installmentDue) revert LoanRegistryPaymentBelowInstallment(loanId, amount, installmentDue);
        uint256 outstanding = state.outstandingPrincipal;
        uint256 maxPayable = due.lateInterest + due.interest + outstanding;
        if (amount > maxPayable) revert LoanRegistryPaymentExceedsBalance(loanId, amount, maxPayable);

        RepaymentRecord memory repayment;
        repayment.amount = amount;
        repayment.due = due;
        // Cannot underflow: installmentDue <= amount <= maxPayable, and due.principal <= outstanding.
        unchecked {
            repayment.prepayment = amount - installmentDue;
            repayment.outstandingAfter = outstanding - due.principal - repayment.prepayment;
        }
        if (repayment.prepayment != 0) {
            // Every installment already due is paid, with its interest, late interest and fees, before any prepayment:
            // skipping installments and then prepaying must never cost less than paying on time.
            uint256 nextDue = uint256(state.activatedAt) + uint256(due.installment + 1) * terms.period;
            if (block.timestamp >= nextDue) {
                revert LoanRegistryInstallmentsDue(loanId, due.installment + 1, nextDue, installmentDue);
            }
        }
        // Both fit: outstandingAfter is at most the outstanding principal, itself below 2^96.
        state.outstandingPrincipal = uint96(repayment.outstandingAfter);
        state.installmentsPaid = due.installment;
        // The difference is part of the outstanding principal, below 2^96.
        _exposures[terms.borrowerRef].outstandingPrincipal -= uint128(outstanding - repayment.outstandingAfter);
        _emitRepayment(loanId, repayment);

        if (repayment.outstandingAfter == 0) {
            _setStatus(loanId, state, terms, LoanStatus.Repaid);
        } else if (
            state.status == LoanStatus.Late && block.timestamp <= _nextDueDate(terms, state) + terms.gracePeriod
        ) {
            _setStatus(loanId, state, terms, LoanStatus.Active);
        }
        return (due, repayment.prepayment, repayment.outstandingAfter);
    }

    /// @inheritdoc ILoanRegistry
    function delegateServicing(LoanTerms calldata terms) external {
        if (_systemPowers[msg.sender] & POWER_FUNDING_DELEGATE == 0) revert LoanRegistryNotFundingDelegate(msg.sender);
        (LoanId loanId, LoanState storage state) = _known(terms);
        if (state.status != LoanStatus.Funding || state.servicingDelegated) {
            revert LoanRegistryCannotDelegate(loanId, state.status, state.servicingDelegated);
        }
        state.servicingDelegated = true;
        _delegates[loanId] = msg.sender;
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(loanId, keccak256(abi.encode(FactKind.ServicingDelegated, loanId, msg.sender, at)));
        emit LoanServicingDelegated(loanId, msg.sender, at, head);
    }

    /// @inheritdoc ILoanRegistry
    function setAlliancePolicy(AlliancePolicy calldata policy) external {
        _requireGovernance();
        if (policy.publicDefaultDelay > MAX_PUBLIC_DEFAULT_DELAY) {
            revert LoanRegistryPublicDelayTooLong(policy.publicDefaultDelay, MAX_PUBLIC_DEFAULT_DELAY);
        }
        _policy = policy;
        emit AlliancePolicySet(policy);
    }

    /// @inheritdoc ILoanRegistry
    function setSystemPowers(address account, uint8 powers) external {
        _requireGovernance();
        if (account.code.length == 0 || powers & ~(POWER_FUNDING_DELEGATE | POWER_HISTORY_WRITER) != 0) {
            revert LoanRegistryInvalidSystemPowers(account, powers);
        }
        _systemPowers[account] = powers;
        emit SystemPowersSet(account, powers);
    }

    // ---------------------------------------------------------------- succession

    /// @inheritdoc ILoanRegistry
    function appointSuccessor(address platform, address successor) external {
        _requireGovernance();
        MemberStatus standing = ALLIANCE.memberOf(platform).status;
        bool failing =
            (standing == MemberStatus.Suspended || standing == MemberStatus.Expelled) &&
                ALLIANCE.memberOf(platform).roles & ROLE_PLATFORM != 0;
        if (!failing || successor == platform || !ALLIANCE.isActiveMember(successor, ROLE_PLATFORM)) {
            revert LoanRegistryInvalidSuccessor(platform, successor);
        }
        _successors[platform] = successor;
        emit SuccessorAppointed(platform, successor);
    }

    /// @inheritdoc ILoanRegistry
    function takeOverLoans(LoanTerms[] calldata terms) external {
        for (uint256 i; i < terms.length; ++i) {
            (LoanId loanId, LoanState storage state) = _known(terms[i]);
            address platform = terms[i].platform;
            address successor = _successors[platform];
            // The appointment is carried out only while it still stands: the platform still failing (a reinstated one
            // keeps its book), the successor still active, and the loan still with its platform (a transfer governance
            // made since is not undone).
            if (
                successor == address(0) ||
                state.handedOver ||
                ALLIANCE.isActiveMember(platform, ROLE_PLATFORM) ||
                !ALLIANCE.isActiveMember(successor, ROLE_PLATFORM)
            ) revert LoanRegistryNoSuccessor(loanId, platform);
            _handOver(terms[i], loanId, state, successor);
        }
    }

    /// @inheritdoc ILoanRegistry
    function transferServicing(LoanTerms[] calldata terms, address successor) external {
        _requireGovernance();
        if (!ALLIANCE.isActiveMember(successor, ROLE_PLATFORM))
            revert LoanRegistryInvalidSuccessor(address(0), successor);
        for (uint256 i; i < terms.length; ++i) {
            (LoanId loanId, LoanState storage state) = _known(terms[i]);
            if (_servicerOf(terms[i], loanId, state) == successor) {
                revert LoanRegistryInvalidSuccessor(terms[i].platform, successor);
            }
            _handOver(terms[i], loanId, state, successor);
        }
    }

    /// @inheritdoc ILoanRegistry
    function amendDocument(LoanTerms calldata terms, bytes32 documentHash) external {
        (LoanId loanId, LoanState storage state) = _serviced(terms);
        if (_isFinal(state.status)) revert LoanRegistryLoanClosed(loanId, state.status);
        if (documentHash == bytes32(0)) revert LoanRegistryMissingReference(TermsField.DocumentHash);

        uint16 version = state.documentVersion + 1;
        state.documentVersion = version;
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(
            loanId,
            keccak256(abi.encode(FactKind.DocumentAmended, loanId, version, documentHash, at))
        );
        emit LoanDocumentAmended(loanId, version, documentHash, at, head);
    }

    /// @inheritdoc ILoanRegistry
    function extendHistory(LoanId loanId, bytes32 factHash) external returns (LoanStatus status) {
        _requireHistoryWriter();
        status = _states[loanId].status;
        if (status == LoanStatus.None) revert LoanRegistryUnknownLoan(loanId);
        _recordExternal(loanId, factHash);
    }

    /// @inheritdoc ILoanRegistry
    function recordLien(LoanId loanId, address platform, address lienholder, bytes32 factHash) external {
        _requireHistoryWriter();
        LoanState storage state = _states[loanId];
        LoanStatus status = state.status;
        if (status == LoanStatus.None) revert LoanRegistryUnknownLoan(loanId);
        if (status != LoanStatus.Funding && status != LoanStatus.Active && status != LoanStatus.Late) {
            revert LoanRegistryLoanNotOpen(loanId, status);
        }
        address servicer = state.handedOver ? _servicers[loanId] : platform;
        if (lienholder != servicer || !ALLIANCE.isActiveMember(lienholder, ROLE_PLATFORM)) {
            revert LoanRegistryNotLienholder(loanId, lienholder);
        }
        _recordExternal(loanId, factHash);
    }

    function _recordExternal(LoanId loanId, bytes32 factHash) private {
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(loanId, keccak256(abi.encode(FactKind.External, loanId, msg.sender, factHash, at)));
        emit LoanHistoryExtended(loanId, msg.sender, factHash, at, head);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ILoanRegistry
    function loanIdOf(LoanTerms calldata terms) external pure returns (LoanId) {
        return _loanId(terms);
    }

    /// @inheritdoc ILoanRegistry
    function loanState(LoanId loanId) external view returns (LoanState memory) {
        return _states[loanId];
    }

    /// @inheritdoc ILoanRegistry
    function historyHead(LoanId loanId) external view returns (bytes32) {
        return _heads[loanId];
    }

    /// @inheritdoc ILoanRegistry
    function servicerOf(LoanTerms calldata terms) external view returns (address) {
        (LoanId loanId, LoanState storage state) = _known(terms);
        return _servicerOf(terms, loanId, state);
    }

    /// @inheritdoc ILoanRegistry
    function servicerFor(LoanId loanId, address platform) external view returns (address) {
        return _states[loanId].handedOver ? _servicers[loanId] : platform;
    }

    /// @inheritdoc ILoanRegistry
    function mayService(LoanTerms calldata terms, address account) external view returns (bool) {
        (LoanId loanId, LoanState storage state) = _known(terms);
        return _mayService(terms, loanId, state, account);
    }

    /// @inheritdoc ILoanRegistry
    function systemPowersOf(address account) external view returns (uint8) {
        return _systemPowers[account];
    }

    /// @inheritdoc ILoanRegistry
    function delegateOf(LoanId loanId) external view returns (address) {
        return _delegates[loanId];
    }

    /// @inheritdoc ILoanRegistry
    function successorOf(address platform) external view returns (address) {
        return _successors[platform];
    }

    /// @inheritdoc ILoanRegistry
    function nextPayment(LoanTerms calldata terms) external view returns (PaymentDue memory) {
        LoanId loanId = _loanId(terms);
        LoanState storage state = _states[loanId];
        if (state.status == LoanStatus.None) revert LoanRegistryUnknownLoan(loanId);
        return _paymentDue(loanId, terms, state);
    }

    /// @inheritdoc ILoanRegistry
    function alliancePolicy() external view returns (AlliancePolicy memory) {
        return _policy;
    }

    /// @inheritdoc ILoanRegistry
    function lossOf(LoanId loanId) external view returns (Loss memory) {
        return _losses[loanId];
    }

    /// @inheritdoc ILoanRegistry
    function exposureOf(bytes32 borrowerRef) external view returns (BorrowerExposure memory) {
        return _exposures[borrowerRef];
    }

    /// @inheritdoc ILoanRegistry
    function isTransitionAllowed(LoanStatus from, LoanStatus to) public pure returns (bool) {
        return _TRANSITIONS & (1 << (uint256(from) * 16 + uint256(to))) != 0;
    }

    /// @inheritdoc ILoanRegistry
    function previewAnchor(address caller, LoanTerms calldata terms) external view returns (bytes memory reason) {
        if (!ALLIANCE.isActiveMember(caller, ROLE_PLATFORM)) {
            return abi.encodeWithSelector(LoanRegistryNotActivePlatform.selector, caller);
        }
        reason = _check(caller, terms, _loanId(terms));
        if (reason.length != 0) return reason;
        BorrowerExposure storage exposure = _exposures[terms.borrowerRef];
        return
            _exposureError(
                terms.borrowerRef,
                uint256(exposure.openLoans) + 1,
                uint256(exposure.outstandingPrincipal) + terms.principal
            );
    }

    // ---------------------------------------------------------------- internals: origination

    function _requireActivePlatform() private view {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_PLATFORM)) revert LoanRegistryNotActivePlatform(msg.sender);
    }

    function _loanId(LoanTerms calldata terms) private pure returns (LoanId) {
        return computeLoanId(terms);
    }

    /// @dev Returns the ABI-encoded error that anchoring `terms` by `caller` would raise, or nothing. Returning the
    /// error instead of reverting lets a batch name the item and lets {previewAnchor} answer without a transaction.
    function _check(address caller, LoanTerms calldata t, LoanId loanId) private view returns (bytes memory) {
        if (t.platform != caller)
            return abi.encodeWithSelector(LoanRegistryPlatformMismatch.selector, caller, t.platform);
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
            return abi.encodeWithSelector(LoanRegistryLoanExists.selector, loanId);
        }
        return "";
    }

    /// @dev The alliance's limits on one borrower reference, given its exposure with the new loan counted. Anchoring
    /// checks this in {_anchor}, where the exposure is at hand anyway.
    function _exposureError(
        bytes32 borrowerRef,
        uint256 openLoans,
        uint256 outstanding
    ) private view returns (bytes memory) {
        AlliancePolicy storage policy = _policy;
        uint256 maxOpenLoans = policy.maxOpenLoans;
        uint256 maxOutstanding = policy.maxOutstandingPrincipal;
        if ((maxOpenLoans != 0 && openLoans > maxOpenLoans) || (maxOutstanding != 0 && outstanding > maxOutstanding)) {
            return
                abi.encodeWithSelector(
                    LoanRegistryExposureLimit.selector,
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
    function _anchor(LoanTerms calldata terms, LoanId loanId, uint256 batchIndex) private {
        _states[loanId] = LoanState({
            status: LoanStatus.Funding,
            installmentsPaid: 0,
            documentVersion: 1,
            activatedAt: 0,
            statusSince: uint40(block.timestamp),
            // The terms check bounds the principal by MAX_PRINCIPAL, which fits 96 bits.
            outstandingPrincipal: uint96(terms.principal),
            servicingDelegated: false,
            handedOver: false
        });
        BorrowerExposure storage exposure = _exposures[terms.borrowerRef];
        uint128 outstanding = exposure.outstandingPrincipal + terms.principal;
        uint32 openLoans = exposure.openLoans + 1;
        exposure.outstandingPrincipal = outstanding;
        exposure.openLoans = openLoans;
        bytes memory limit = _exposureError(terms.borrowerRef, openLoans, outstanding);
        if (limit.length != 0) {
            if (batchIndex == type(uint256).max) _revertWith(limit);
            revert LoanRegistryBatchItemRejected(batchIndex, limit);
        }

        uint40 at = uint40(block.timestamp);
        // The first fact: the previous head is the genesis head, zero, so there is no need to read it.
        bytes32 head = _chainHead(bytes32(0), keccak256(abi.encode(FactKind.Anchored, loanId, at)));
        _heads[loanId] = head;
        emit LoanAnchored(loanId, terms.platform, terms.borrowerRef, terms, at, head);
    }

    function _missing(TermsField field) private pure returns (bytes memory) {
        return abi.encodeWithSelector(LoanRegistryMissingReference.selector, field);
    }

    function _outOfBounds(
        TermsField field,
        uint256 value,
        uint256 min,
        uint256 max
    ) private pure returns (bytes memory) {
        return abi.encodeWithSelector(LoanRegistryTermOutOfBounds.selector, field, value, min, max);
    }

    function _revertWith(bytes memory reason) private pure {
        LowLevelCall.bubbleRevert(reason);
    }

    function _requireHistoryWriter() private view {
        if (_systemPowers[msg.sender] & POWER_HISTORY_WRITER == 0) revert LoanRegistryNotHistoryWriter(msg.sender);
    }

    function _requireGovernance() private view {
        if (!ALLIANCE.isGovernance(msg.sender)) revert LoanRegistryNotGovernance(msg.sender);
    }

    // ---------------------------------------------------------------- internals: servicing

    /// @dev Proves `terms` against an anchored loan.
    function _known(LoanTerms calldata terms) private view returns (LoanId loanId, LoanState storage state) {
        loanId = _loanId(terms);
        state = _states[loanId];
        if (state.status == LoanStatus.None) revert LoanRegistryUnknownLoan(loanId);
    }

    /// @dev Proves `terms` against an anchored loan and checks that the caller services it now.
    function _serviced(LoanTerms calldata terms) private view returns (LoanId loanId, LoanState storage state) {
        (loanId, state) = _known(terms);
        if (!_mayService(terms, loanId, state, msg.sender)) revert LoanRegistryUnauthorized(loanId, msg.sender);
    }

    function _servicerOf(
        LoanTerms calldata terms,
        LoanId loanId,
        LoanState storage state
    ) private view returns (address) {
        return state.handedOver ? _servicers[loanId] : terms.platform;
    }

    /// @dev The loan's servicer, unless expelled (a suspended one keeps servicing: the alliance's standing rule).
    function _mayService(
        LoanTerms calldata terms,
        LoanId loanId,
        LoanState storage state,
        address account
    ) private view returns (bool) {
        return account == _servicerOf(terms, loanId, state) && ALLIANCE.isServicingMember(account, ROLE_PLATFORM);
    }

    /// @dev For the actions that move money or close a loss (activation, cancellation, repayment, recovery, write-off):
    /// the funding delegate once there is one, else the servicer.
    function _servicedMoney(LoanTerms calldata terms) private view returns (LoanId loanId, LoanState storage state) {
        (loanId, state) = _known(terms);
        if (state.servicingDelegated) _requireDelegate(loanId);
        else if (!_mayService(terms, loanId, state, msg.sender)) revert LoanRegistryUnauthorized(loanId, msg.sender);
    }

    function _requireDelegate(LoanId loanId) private view {
        address delegate = _delegates[loanId];
        if (msg.sender != delegate) revert LoanRegistryServicingDelegated(loanId, msg.sender, delegate);
    }

    /// @dev The servicer may act from `eligibleAt`; anyone else once the alliance's public delay has passed too.
    function _requireServicerOrPublic(
        LoanTerms calldata terms,
        LoanId loanId,
        LoanState storage state,
        uint256 eligibleAt
    ) private view {
        if (_mayService(terms, loanId, state, msg.sender)) return;
        uint256 publicAt = eligibleAt + _policy.publicDefaultDelay;
        if (block.timestamp < publicAt) revert LoanRegistryNotYetPublic(loanId, publicAt, block.timestamp);
    }

    function _handOver(LoanTerms calldata terms, LoanId loanId, LoanState storage state, address successor) private {
        address previous = _servicerOf(terms, loanId, state);
        state.handedOver = true;
        _servicers[loanId] = successor;
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(
            loanId,
            keccak256(abi.encode(FactKind.ServicerChanged, loanId, previous, successor, at))
        );
        emit LoanServicerChanged(loanId, previous, successor, at, head);
    }

    /// @dev Each lifecycle action starts from exactly one status of the transition table.
    function _requireStatus(LoanId loanId, LoanStatus from, LoanStatus expected, LoanStatus to) private pure {
        if (from != expected) revert LoanRegistryInvalidTransition(loanId, from, to);
    }

    function _isFinal(LoanStatus status) private pure returns (bool) {
        return
            status == LoanStatus.Repaid ||
            status == LoanStatus.Recovered ||
            status == LoanStatus.WrittenOff ||
            status == LoanStatus.Cancelled;
    }

    function _nextDueDate(LoanTerms calldata terms, LoanState storage state) private view returns (uint256) {
        return uint256(state.activatedAt) + uint256(state.installmentsPaid + 1) * terms.period;
    }

    function _paymentDue(
        LoanId loanId,
        LoanTerms calldata terms,
        LoanState storage state
    ) private view returns (PaymentDue memory due) {
        if (state.status != LoanStatus.Active && state.status != LoanStatus.Late) {
            revert LoanRegistryNotServiceable(loanId, state.status);
        }
        ScheduleKind kind = ScheduleKind(terms.scheduleKind);
        uint256 level =
            kind == ScheduleKind.EqualInstallment
                ? ScheduleMath.levelPayment(terms.principal, terms.annualRateBps, terms.installments, terms.period)
                : 0;
        due.installment = state.installmentsPaid + 1;
        // Fits: activation time plus a term of at most 30 years.
        due.dueDate = uint40(_nextDueDate(terms, state));
        (due.principal, due.interest) = ScheduleMath.installment(
            kind,
            terms.principal,
            terms.annualRateBps,
            terms.installments,
            terms.period,
            due.installment,
            state.outstandingPrincipal,
            level
        );
        due.lateInterest = ScheduleMath.lateInterest(
            due.principal + due.interest,
            terms.lateFeeBps,
            due.dueDate,
            terms.gracePeriod,
            block.timestamp
        );
    }

    /// @dev The interest and late interest of every installment missed by now (due and unpaid), as the schedule would
    /// have charged them had each been paid when the next one was: the loss a default records. Bounded by the schedule's
    /// length (at most `MAX_INSTALLMENTS`).
    function _missedInterest(
        LoanTerms calldata terms,
        LoanState storage state,
        uint256 balance
    ) private view returns (uint256 interest) {
        ScheduleKind kind = ScheduleKind(terms.scheduleKind);
        uint256 level =
            kind == ScheduleKind.EqualInstallment
                ? ScheduleMath.levelPayment(terms.principal, terms.annualRateBps, terms.installments, terms.period)
                : 0;
        uint256 activatedAt = state.activatedAt;
        for (uint256 k = uint256(state.installmentsPaid) + 1; k <= terms.installments; ++k) {
            uint256 dueDate = activatedAt + k * terms.period;
            // The first missed installment is always counted; later ones once their due date has come.
            if (k > uint256(state.installmentsPaid) + 1 && dueDate > block.timestamp) break;
            (uint256 principalPart, uint256 interestPart) = ScheduleMath.installment(
                kind,
                terms.principal,
                terms.annualRateBps,
                terms.installments,
                terms.period,
                k,
                balance,
                level
            );
            interest +=
                interestPart +
                ScheduleMath.lateInterest(
                    principalPart + interestPart,
                    terms.lateFeeBps,
                    dueDate,
                    terms.gracePeriod,
                    block.timestamp
                );
            balance -= principalPart;
        }
    }

    /// @dev Moves the loan to `to`, records the fact, and keeps the borrower's
    /// exposure and credit record in step.
    function _setStatus(LoanId loanId, LoanState storage state, LoanTerms calldata terms, LoanStatus to) private {
        LoanStatus from = state.status;
        // Every move, by an action or as the consequence of a repayment, obeys the one transition table.
        if (!isTransitionAllowed(from, to)) revert LoanRegistryInvalidTransition(loanId, from, to);
        uint40 at = uint40(block.timestamp);
        state.status = to;
        state.statusSince = at;

        BorrowerExposure storage exposure = _exposures[terms.borrowerRef];
        bool hasCreditEvent = true;
        CreditEvent creditEvent;
        if (to == LoanStatus.Late) {
            exposure.lateEvents += 1;
            creditEvent = CreditEvent.Late;
        } else if (to == LoanStatus.Active && from == LoanStatus.Late) {
            exposure.curedEvents += 1;
            creditEvent = CreditEvent.Cured;
        } else if (to == LoanStatus.Defaulted) {
            exposure.defaultEvents += 1;
            creditEvent = CreditEvent.Defaulted;
        } else if (to == LoanStatus.Recovered) {
            creditEvent = CreditEvent.Recovered;
        } else if (to == LoanStatus.WrittenOff) {
            exposure.writeOffEvents += 1;
            creditEvent = CreditEvent.WrittenOff;
        } else {
            hasCreditEvent = false;
        }
        if (_isFinal(to)) {
            // A closed loan leaves the exposure. The loan keeps its outstanding principal on record as the loss,
            // except a cancelled one, which never disbursed anything.
            exposure.outstandingPrincipal -= state.outstandingPrincipal;
            exposure.openLoans -= 1;
            if (to == LoanStatus.Cancelled) state.outstandingPrincipal = 0;
        }

        bytes32 head = _extend(loanId, keccak256(abi.encode(FactKind.StatusChanged, loanId, from, to, at)));
        emit LoanStatusChanged(loanId, from, to, at, head);
        if (hasCreditEvent) emit CreditEventRecorded(terms.borrowerRef, loanId, terms.platform, creditEvent, at);
    }

    function _emitRepayment(LoanId loanId, RepaymentRecord memory r) private {
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(
            loanId,
            keccak256(
                abi.encode(
                    FactKind.RepaymentRecorded,
                    loanId,
                    r.due.installment,
                    r.amount,
                    r.due.lateInterest,
                    r.due.interest,
                    r.due.principal,
                    r.prepayment,
                    r.outstandingAfter,
                    at
                )
            )
        );
        emit RepaymentRecorded(
            loanId,
            r.due.installment,
            r.amount,
            r.due.lateInterest,
            r.due.interest,
            r.due.principal,
            r.prepayment,
            r.outstandingAfter,
            at,
            head
        );
    }

    function _extend(LoanId loanId, bytes32 factHash) private returns (bytes32 head) {
        head = _chainHead(_heads[loanId], factHash);
        _heads[loanId] = head;
    }

    /// @dev The one history-chain step: `head' = keccak256(abi.encode(previousHead, factHash))`.
    function _chainHead(bytes32 previousHead, bytes32 factHash) private pure returns (bytes32) {
        return keccak256(abi.encode(previousHead, factHash));
    }
}
