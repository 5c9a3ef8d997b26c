// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAllianceRegistry, Member, MemberStatus, ROLE_PLATFORM} from "./interfaces/IAllianceRegistry.sol";
import {
    ILoanRegistry,
    LoanId,
    LoanStatus,
    LoanTerms,
    LoanState,
    BorrowerExposure,
    PaymentDue,
    CreditEvent,
    AlliancePolicy,
    POWER_FUNDING_DELEGATE,
    POWER_HISTORY_WRITER,
    Loss,
    Consent,
    Appointment,
    AppointmentStatus
} from "./interfaces/ILoanRegistry.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ScheduleMath, ScheduleKind} from "./libraries/ScheduleMath.sol";
import {HistoryFacts} from "./libraries/HistoryFacts.sol";
import {LoanRegistryBase} from "./LoanRegistryBase.sol";
import {LoanConsentModule} from "./LoanConsentModule.sol";
import {LoanSuccessionModule} from "./LoanSuccessionModule.sol";
import {ILoanSuccession} from "./interfaces/ILoanSuccession.sol";

/// @title LoanRegistry
/// @notice See {ILoanRegistry}; the functions of {ILoanConsent} are served at this address too, by the consent module.
/// @dev Storage per loan is two fresh slots (state and history head) plus the borrower's exposure slot; the terms live
/// in the `LoanAnchored` event and are proven against the id on every later call. The README's gas section explains
/// the choice.
contract LoanRegistry is ILoanRegistry, LoanRegistryBase {
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
            (1 << (uint256(LoanStatus.Defaulted) * 16 + uint256(LoanStatus.WrittenOff))) |
            (1 << (uint256(LoanStatus.WrittenOff) * 16 + uint256(LoanStatus.Recovered)));

    /// @dev A recorded repayment, gathered in memory to keep the stack shallow.
    struct RepaymentRecord {
        uint256 amount;
        PaymentDue due;
        uint256 prepayment;
        uint256 outstandingAfter;
        bytes32 bankRef;
    }

    /// @notice The code that serves {ILoanConsent} on this registry's storage (created with it, so never another's).
    address public immutable CONSENT_MODULE;
    /// @notice The code that serves {ILoanSuccession} on this registry's storage (created with it, too).
    address public immutable SUCCESSION_MODULE;

    constructor(IAllianceRegistry alliance) LoanRegistryBase(alliance) {
        _policy.publicDefaultDelay = DEFAULT_PUBLIC_DEFAULT_DELAY;
        // Their creation code is part of this constructor, not of the deployed code that the size limit counts.
        CONSENT_MODULE = address(new LoanConsentModule(alliance));
        SUCCESSION_MODULE = address(new LoanSuccessionModule(alliance));
    }

    /// @notice Serves {ILoanSuccession} and {ILoanConsent}: runs the module's code on this registry's storage, as if it
    /// were this contract's own (its events and errors are the registry's). Any other unknown call reverts in the
    /// consent module.
    /// @dev It only forwards, to the modules this contract created, which is what solhint's rule is about. Succession is
    /// rare and consent is on the anchoring path, so the succession selectors are the ones compared.
    // solhint-disable-next-line no-complex-fallback
    fallback() external {
        bytes4 selector = msg.sig;
        address module =
            selector == ILoanSuccession.takeOverLoans.selector ||
            selector == ILoanSuccession.appointSuccessor.selector ||
            selector == ILoanSuccession.withdrawSuccessor.selector ||
            selector == ILoanSuccession.transferServicing.selector ||
            selector == ILoanSuccession.successorOf.selector ||
            selector == ILoanSuccession.appointmentOf.selector
                ? SUCCESSION_MODULE
                : CONSENT_MODULE;
        bytes memory result = Address.functionDelegateCall(module, msg.data);
        assembly ("memory-safe") {
            return(add(result, 32), mload(result))
        }
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
        // A delegated loan was checked when its funding opened ({delegateServicing}).
        if (!state.servicingDelegated) _requireConsent(loanId, state, false);
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
        bytes32 head = _extend(loanId, HistoryFacts.lossRecorded(loanId, principal, interest, at));
        emit LossRecorded(loanId, principal, interest, at, head);
    }

    /// @inheritdoc ILoanRegistry
    function markRecovered(LoanTerms calldata terms) external {
        (LoanId loanId, LoanState storage state) = _servicedMoney(terms);
        // A written-off loss recovered in full is made whole as a defaulted one is.
        if (state.status != LoanStatus.WrittenOff) {
            _requireStatus(loanId, state.status, LoanStatus.Defaulted, LoanStatus.Recovered);
        }
        _setStatus(loanId, state, terms, LoanStatus.Recovered);
    }

    /// @inheritdoc ILoanRegistry
    function writeOff(LoanTerms calldata terms) external {
        (LoanId loanId, LoanState storage state) = _servicedMoney(terms);
        _requireStatus(loanId, state.status, LoanStatus.Defaulted, LoanStatus.WrittenOff);
        _setStatus(loanId, state, terms, LoanStatus.WrittenOff);
    }

    /// @inheritdoc ILoanRegistry
    function recordPayment(
        LoanTerms calldata terms,
        uint256 amount,
        bytes32 bankRef
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
        repayment.bankRef = bankRef;
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
        _requireConsent(loanId, state, true);
        state.servicingDelegated = true;
        _delegates[loanId] = msg.sender;
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(loanId, HistoryFacts.servicingDelegated(loanId, msg.sender, at));
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
    function setConsentRequired(bool required) external {
        _requireGovernance();
        _consentRequired = required;
        emit ConsentPolicySet(required);
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

    /// @inheritdoc ILoanRegistry
    function amendDocument(LoanTerms calldata terms, bytes32 documentHash) external {
        (LoanId loanId, LoanState storage state) = _serviced(terms);
        LoanStatus status = state.status;
        if (_isFinal(status)) revert LoanRegistryLoanClosed(loanId, status);
        // A document the borrower agreed to (on chain or on paper) changes only with its signature; while the alliance
        // requires consent, a funded loan's document does too.
        Consent consent = state.consent;
        if (consent != Consent.None || (status != LoanStatus.Funding && _consentRequired)) {
            revert LoanRegistryConsentRequired(loanId, consent, status);
        }
        _amend(loanId, state, documentHash);
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
        bytes32 head = _extend(loanId, HistoryFacts.externalFact(loanId, msg.sender, factHash, at));
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
    function nextPayment(LoanTerms calldata terms) external view returns (PaymentDue memory) {
        LoanId loanId = _loanId(terms);
        LoanState storage state = _states[loanId];
        if (state.status == LoanStatus.None) revert LoanRegistryUnknownLoan(loanId);
        return _paymentDue(loanId, terms, state);
    }

    /// @inheritdoc ILoanRegistry
    function consentRequired() external view returns (bool) {
        return _consentRequired;
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

    // ---------------------------------------------------------------- internals: consent

    /// @dev While the alliance requires consent, a loan must carry it before its money moves: signed on chain to open
    /// funding on the ledger (`onLedger`), where paper consent would be a side door for new unsigned loans; signed on
    /// chain or on paper to be activated off the ledger's money path, as an imported book is.
    function _requireConsent(LoanId loanId, LoanState storage state, bool onLedger) private view {
        if (!_consentRequired) return;
        Consent consent = state.consent;
        if (consent == Consent.None) revert LoanRegistryConsentMissing(loanId);
        if (onLedger && consent == Consent.Legacy) revert LoanRegistryLegacyLoanFunding(loanId);
    }

    // ---------------------------------------------------------------- internals: origination

    function _requireHistoryWriter() private view {
        if (_systemPowers[msg.sender] & POWER_HISTORY_WRITER == 0) revert LoanRegistryNotHistoryWriter(msg.sender);
    }

    // ---------------------------------------------------------------- internals: servicing

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

    /// @dev Each lifecycle action starts from exactly one status of the transition table.
    function _requireStatus(LoanId loanId, LoanStatus from, LoanStatus expected, LoanStatus to) private pure {
        if (from != expected) revert LoanRegistryInvalidTransition(loanId, from, to);
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
        // A written-off loan left the exposure when it was written off; made whole later, it does not leave it twice.
        if (_isFinal(to) && from != LoanStatus.WrittenOff) {
            // A closed loan leaves the exposure. The loan keeps its outstanding principal on record as the loss,
            // except a cancelled one, which never disbursed anything.
            exposure.outstandingPrincipal -= state.outstandingPrincipal;
            exposure.openLoans -= 1;
            if (to == LoanStatus.Cancelled) state.outstandingPrincipal = 0;
        }

        bytes32 head = _extend(loanId, HistoryFacts.statusChanged(loanId, from, to, at));
        emit LoanStatusChanged(loanId, from, to, at, head);
        if (hasCreditEvent) emit CreditEventRecorded(terms.borrowerRef, loanId, terms.platform, creditEvent, at);
    }

    function _emitRepayment(LoanId loanId, RepaymentRecord memory r) private {
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(
            loanId,
            HistoryFacts.repaymentRecorded(
                loanId,
                r.due.installment,
                r.amount,
                r.due.lateInterest,
                r.due.interest,
                r.due.principal,
                r.prepayment,
                r.outstandingAfter,
                r.bankRef,
                at
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
            r.bankRef,
            at,
            head
        );
    }
}
