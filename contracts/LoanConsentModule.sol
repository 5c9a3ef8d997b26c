// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAllianceRegistry} from "./interfaces/IAllianceRegistry.sol";
import {
    ILoanRegistry,
    LoanId,
    LoanStatus,
    LoanTerms,
    LoanState,
    Consent,
    Signatures
} from "./interfaces/ILoanRegistry.sol";
import {ILoanConsent} from "./interfaces/ILoanConsent.sol";
import {LoanConsent} from "./libraries/LoanConsent.sol";
import {HistoryFacts} from "./libraries/HistoryFacts.sol";
import {LoanRegistryModule} from "./LoanRegistryBase.sol";

/// @title LoanConsentModule
/// @notice See {ILoanConsent}. The registry creates this module and runs its code by delegatecall for every function of
/// {ILoanConsent}, on the registry's own storage ({LoanRegistryModule}).
contract LoanConsentModule is ILoanConsent, LoanRegistryModule {
    constructor(IAllianceRegistry alliance) LoanRegistryModule(alliance) {}

    /// @inheritdoc ILoanConsent
    function anchorSignedLoan(
        LoanTerms calldata terms,
        Signatures calldata signatures
    ) external onlyDelegated returns (LoanId loanId) {
        _requireActivePlatform();
        loanId = _loanId(terms);
        bytes memory reason = _check(msg.sender, terms, loanId);
        if (reason.length == 0) reason = LoanConsent.agreementError(loanId, msg.sender, signatures);
        if (reason.length != 0) _revertWith(reason);
        _anchor(terms, loanId, type(uint256).max);
        _states[loanId].consent = Consent.Signed;
        _recordAgreement(loanId, msg.sender, signatures);
    }

    /// @inheritdoc ILoanConsent
    function anchorSignedLoans(
        LoanTerms[] calldata terms,
        Signatures[] calldata signatures
    ) external onlyDelegated returns (LoanId[] memory loanIds) {
        _requireActivePlatform();
        uint256 size = terms.length;
        if (size == 0 || size > MAX_BATCH) revert ILoanRegistry.LoanRegistryBatchSize(size, MAX_BATCH);
        if (signatures.length != size) revert ILoanRegistry.LoanRegistryBatchLengthMismatch(size, signatures.length);

        loanIds = new LoanId[](size);
        for (uint256 i; i < size; ++i) {
            LoanId loanId = _loanId(terms[i]);
            bytes memory reason = _check(msg.sender, terms[i], loanId);
            if (reason.length == 0) reason = LoanConsent.agreementError(loanId, msg.sender, signatures[i]);
            if (reason.length != 0) revert ILoanRegistry.LoanRegistryBatchItemRejected(i, reason);
            _anchor(terms[i], loanId, i);
            _states[loanId].consent = Consent.Signed;
            _recordAgreement(loanId, msg.sender, signatures[i]);
            loanIds[i] = loanId;
        }
    }

    /// @inheritdoc ILoanConsent
    function anchorLegacyLoans(LoanTerms[] calldata terms) external onlyDelegated returns (LoanId[] memory loanIds) {
        _requireActivePlatform();
        // Paper consent is the platform's word alone: only a book governance agreed to import, until its cut-off.
        uint40 until = _legacyImportUntil[msg.sender];
        if (block.timestamp > until) {
            revert ILoanRegistry.LoanRegistryLegacyImportClosed(msg.sender, until, block.timestamp);
        }
        uint256 size = terms.length;
        if (size == 0 || size > MAX_BATCH) revert ILoanRegistry.LoanRegistryBatchSize(size, MAX_BATCH);

        loanIds = new LoanId[](size);
        for (uint256 i; i < size; ++i) {
            LoanId loanId = _loanId(terms[i]);
            bytes memory reason = _check(msg.sender, terms[i], loanId);
            if (reason.length != 0) revert ILoanRegistry.LoanRegistryBatchItemRejected(i, reason);
            _anchor(terms[i], loanId, i);
            _states[loanId].consent = Consent.Legacy;
            uint40 at = uint40(block.timestamp);
            bytes32 head = _extend(loanId, HistoryFacts.legacyAgreement(loanId, at));
            emit ILoanRegistry.LegacyAgreementRecorded(loanId, at, head);
            loanIds[i] = loanId;
        }
    }

    /// @inheritdoc ILoanConsent
    function allowLegacyImport(address platform, uint40 until) external onlyDelegated {
        _requireGovernance();
        _legacyImportUntil[platform] = until;
        emit ILoanRegistry.LegacyImportAllowed(platform, until);
    }

    /// @inheritdoc ILoanConsent
    function legacyImportUntil(address platform) external view onlyDelegated returns (uint40) {
        return _legacyImportUntil[platform];
    }

    /// @inheritdoc ILoanConsent
    function signAgreement(LoanTerms calldata terms, Signatures calldata signatures) external onlyDelegated {
        (LoanId loanId, LoanState storage state) = _serviced(terms);
        if (state.status != LoanStatus.Funding || state.documentVersion != 1 || state.consent == Consent.Signed) {
            revert ILoanRegistry.LoanRegistryCannotSignAgreement(
                loanId,
                state.status,
                state.documentVersion,
                state.consent
            );
        }
        bytes memory reason = LoanConsent.agreementError(loanId, msg.sender, signatures);
        if (reason.length != 0) _revertWith(reason);
        state.consent = Consent.Signed;
        _recordAgreement(loanId, msg.sender, signatures);
    }

    /// @inheritdoc ILoanConsent
    function amendDocumentSigned(
        LoanTerms calldata terms,
        bytes32 documentHash,
        Signatures calldata signatures
    ) external onlyDelegated {
        (LoanId loanId, LoanState storage state) = _serviced(terms);
        if (_isFinal(state.status)) revert ILoanRegistry.LoanRegistryLoanClosed(loanId, state.status);
        uint16 version = state.documentVersion + 1;
        bytes memory reason = LoanConsent.amendmentError(loanId, version, documentHash, msg.sender, signatures);
        if (reason.length != 0) _revertWith(reason);
        state.consent = Consent.Signed;
        _amend(loanId, state, documentHash);
        _recordAmendment(loanId, version, msg.sender, signatures);
    }

    /// @inheritdoc ILoanConsent
    function previewSignedAnchor(
        address caller,
        LoanTerms calldata terms,
        Signatures calldata signatures
    ) external view onlyDelegated returns (bytes memory reason) {
        reason = ILoanRegistry(address(this)).previewAnchor(caller, terms);
        if (reason.length != 0) return reason;
        return LoanConsent.agreementError(_loanId(terms), caller, signatures);
    }

    /// @inheritdoc ILoanConsent
    function agreementDigest(LoanId loanId, uint256 deadline) external view onlyDelegated returns (bytes32) {
        return LoanConsent.agreementDigest(loanId, deadline);
    }

    /// @inheritdoc ILoanConsent
    function amendmentDigest(
        LoanId loanId,
        uint16 version,
        bytes32 documentHash,
        uint256 deadline
    ) external view onlyDelegated returns (bytes32) {
        return LoanConsent.amendmentDigest(loanId, version, documentHash, deadline);
    }

    /// @notice Records the `AgreementSigned` fact of loan `loanId`, signed by `signatures.borrower` and agreed by
    /// `platform`, the transaction's sender, in its history, and emits {ILoanRegistry-LoanAgreementSigned}.
    function _recordAgreement(LoanId loanId, address platform, Signatures calldata signatures) private {
        uint40 at = uint40(block.timestamp);
        bytes32 fact = HistoryFacts.agreementSigned(
            loanId,
            signatures.borrower,
            platform,
            signatures.deadline,
            signatures.borrowerSignature,
            at
        );
        bytes32 head = _extend(loanId, fact);
        emit ILoanRegistry.LoanAgreementSigned(
            loanId,
            signatures.borrower,
            platform,
            signatures.deadline,
            signatures.borrowerSignature,
            at,
            head
        );
    }

    /// @notice Records the `AmendmentSigned` fact of document version `version` of loan `loanId`, signed by
    /// `signatures.borrower` and agreed by `platform`, the servicer that sent it, in its history, and emits
    /// {ILoanRegistry-LoanAmendmentSigned}.
    function _recordAmendment(LoanId loanId, uint16 version, address platform, Signatures calldata signatures) private {
        uint40 at = uint40(block.timestamp);
        bytes32 fact = HistoryFacts.amendmentSigned(
            loanId,
            version,
            signatures.borrower,
            platform,
            signatures.deadline,
            signatures.borrowerSignature,
            at
        );
        bytes32 head = _extend(loanId, fact);
        emit ILoanRegistry.LoanAmendmentSigned(
            loanId,
            version,
            signatures.borrower,
            platform,
            signatures.deadline,
            signatures.borrowerSignature,
            at,
            head
        );
    }
}
