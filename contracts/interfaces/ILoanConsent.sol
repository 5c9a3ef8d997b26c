// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LoanId, LoanTerms, Signatures} from "./ILoanRegistry.sol";

/// @title Loan consent: agreements and amendments signed by the borrower and sent by the platform
/// @notice The loan registry's functions that take the borrower's signature; the platform (or servicer) consents by
/// sending them (the typed data, the facts they record and the consent policy are specified in {ILoanRegistry}). They
/// are served at the registry's own address, by its consent module, and their events and errors are the registry's.
interface ILoanConsent {
    /// @notice Anchors one loan as {anchorLoan} does, with its agreement signed by the borrower before
    /// `signatures.deadline` and agreed by the platform, the caller (only the terms' platform may anchor): the history
    /// records the borrower's signature and the caller as the consenting platform, and the loan's consent is Signed.
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
    /// borrower signed on chain. Only a platform governance allowed, until its cut-off ({allowLegacyImport}).
    function anchorLegacyLoans(LoanTerms[] calldata terms) external returns (LoanId[] memory loanIds);

    /// @notice Allows `platform` to import a book signed on paper until `until` (zero withdraws the allowance; a time in
    /// the past closes it). Governance only.
    function allowLegacyImport(address platform, uint40 until) external;

    /// @notice Until when `platform` may import a book signed on paper (zero: it may not).
    function legacyImportUntil(address platform) external view returns (uint40);

    /// @notice Records the borrower's signature of the agreement of a loan anchored without it, and the servicer (the
    /// caller) as the consenting platform, while it is Funding and on its first document. Its servicer only.
    function signAgreement(LoanTerms calldata terms, Signatures calldata signatures) external;

    /// @notice Adds contract document version `documentHash`, signed by the borrower as a `LoanAmendment` of the version
    /// it creates (so that a signature applies once) and agreed by the servicer, the caller. Any open loan (not Repaid,
    /// Recovered, WrittenOff or Cancelled); before funding this is how a changed document is signed again. The loan's
    /// consent becomes Signed; earlier versions and their signatures stay in the history.
    function amendDocumentSigned(
        LoanTerms calldata terms,
        bytes32 documentHash,
        Signatures calldata signatures
    ) external;

    /// @notice The error {anchorSignedLoan} would raise for `terms` and `signatures` if `caller` anchored them now (empty
    /// when it would succeed): the terms as {previewAnchor} (so a caller other than the terms' platform is refused: it
    /// cannot consent for the platform), then the borrower's signature.
    function previewSignedAnchor(
        address caller,
        LoanTerms calldata terms,
        Signatures calldata signatures
    ) external view returns (bytes memory reason);

    /// @notice The EIP-712 digest the borrower signs for loan `loanId`'s agreement. Like every function here it answers
    /// only at the registry's address: the digest names the registry as the verifying contract.
    function agreementDigest(LoanId loanId, uint256 deadline) external view returns (bytes32);

    /// @notice The EIP-712 digest the borrower signs for document version `version` of loan `loanId`.
    function amendmentDigest(
        LoanId loanId,
        uint16 version,
        bytes32 documentHash,
        uint256 deadline
    ) external view returns (bytes32);
}
