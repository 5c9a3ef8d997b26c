// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {LoanId, LoanTerms, Signatures} from "./ILoanRegistry.sol";

/// @title Loan consent: agreements and amendments signed by the borrower and the platform
/// @notice The loan registry's functions that take signatures (the typed data, the facts they record and the consent
/// policy are specified in {ILoanRegistry}). They are served at the registry's own address, by its consent module, and
/// their events and errors are the registry's.
interface ILoanConsent {
    /// @notice Anchors one loan as {anchorLoan} does, with its agreement signed by the borrower and by the platform
    /// (the caller) before `signatures.deadline`: the history records both signatures and the loan's consent is Signed.
    function anchorSignedLoan(
        LoanTerms calldata terms,
        Signatures calldata signatures
    ) external returns (LoanId loanId);

    /// @notice Anchors a signed loan book atomically: item `i` with `signatures[i]`. The first bad item (its terms or
    /// its signatures) reverts the whole batch with {LoanRegistryBatchItemRejected}.
    function anchorSignedLoans(
        LoanTerms[] calldata terms,
        Signatures[] calldata signatures
    ) external returns (LoanId[] memory loanIds);

    /// @notice Imports a book signed on paper: each loan is anchored as by {anchorLoans}, its consent is Legacy, and its
    /// history records a `LegacyAgreement` fact right after it was anchored, so no auditor mistakes it for a loan the
    /// borrower signed on chain.
    function anchorLegacyLoans(LoanTerms[] calldata terms) external returns (LoanId[] memory loanIds);

    /// @notice Records the borrower's and the servicer's (the caller's) signatures of the agreement of a loan anchored
    /// without them, while it is Funding and on its first document. Its servicer only.
    function signAgreement(LoanTerms calldata terms, Signatures calldata signatures) external;

    /// @notice Adds contract document version `documentHash`, signed by the borrower and by the servicer (the caller)
    /// as a `LoanAmendment` of the version it creates, so that a signature applies once. Any open loan (not Repaid,
    /// Recovered, WrittenOff or Cancelled); before funding this is how a changed document is signed again. The loan's
    /// consent becomes Signed; earlier versions and their signatures stay in the history.
    function amendDocumentSigned(
        LoanTerms calldata terms,
        bytes32 documentHash,
        Signatures calldata signatures
    ) external;

    /// @notice The error {anchorSignedLoan} would raise for `terms` and `signatures` if `caller` anchored them now (empty
    /// when it would succeed): the terms as {previewAnchor}, then the signatures.
    function previewSignedAnchor(
        address caller,
        LoanTerms calldata terms,
        Signatures calldata signatures
    ) external view returns (bytes memory reason);

    /// @notice The EIP-712 digest the borrower and the platform sign for loan `loanId`'s agreement.
    function agreementDigest(LoanId loanId, uint256 deadline) external view returns (bytes32);

    /// @notice The EIP-712 digest the borrower and the servicer sign for document version `version` of loan `loanId`.
    function amendmentDigest(
        LoanId loanId,
        uint16 version,
        bytes32 documentHash,
        uint256 deadline
    ) external view returns (bytes32);
}
