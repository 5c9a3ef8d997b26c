// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ILoanRegistry, LoanId, Signatures} from "../interfaces/ILoanRegistry.sol";

/// @title LoanConsent: the EIP-712 typed data a borrower signs, and the check of its signature
/// @notice See {ILoanRegistry} for the typed data. Used by the consent module, whose code runs by delegatecall in the
/// registry's context: `address(this)` is the registry, and the domain names it.
/// @dev The domain is recomputed per call (about 200 gas) rather than cached as OpenZeppelin's `EIP712` does, because
/// the module's immutables would name the module, not the registry; it is the domain `EIP712("LoanLedger Loans", "1")`
/// would build in the registry.
library LoanConsent {
    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant _NAME_HASH = keccak256("LoanLedger Loans");
    bytes32 private constant _VERSION_HASH = keccak256("1");
    bytes32 private constant _AGREEMENT_TYPEHASH = keccak256("LoanAgreement(uint256 loanId,uint256 deadline)");
    bytes32 private constant _AMENDMENT_TYPEHASH = keccak256(
        "LoanAmendment(uint256 loanId,uint16 version,bytes32 documentHash,uint256 deadline)"
    );

    /// @notice The digest of `LoanAgreement(loanId, deadline)` in the calling registry's domain.
    function agreementDigest(LoanId loanId, uint256 deadline) internal view returns (bytes32) {
        return _digest(keccak256(abi.encode(_AGREEMENT_TYPEHASH, loanId, deadline)));
    }

    /// @notice The digest of `LoanAmendment(loanId, version, documentHash, deadline)` in the calling registry's domain.
    function amendmentDigest(
        LoanId loanId,
        uint16 version,
        bytes32 documentHash,
        uint256 deadline
    ) internal view returns (bytes32) {
        return _digest(keccak256(abi.encode(_AMENDMENT_TYPEHASH, loanId, version, documentHash, deadline)));
    }

    /// @notice The error that the borrower's signature of `digest` in `signatures` raises for loan `loanId` when
    /// `platform` sends it, or nothing. Returned rather than raised so that a batch can name its item and a preview can
    /// answer without a transaction.
    /// @dev `platform` is the transaction's sender, which every caller has already required to be the terms' platform
    /// or the loan's servicer: its transaction is its consent, so it signs nothing. It must not be the borrower too.
    function consentError(
        LoanId loanId,
        bytes32 digest,
        address platform,
        Signatures calldata signatures
    ) internal view returns (bytes memory) {
        if (block.timestamp > signatures.deadline) {
            return
                abi.encodeWithSelector(
                    ILoanRegistry.LoanRegistryConsentExpired.selector,
                    loanId,
                    signatures.deadline,
                    block.timestamp
                );
        }
        address borrower = signatures.borrower;
        if (borrower == platform) {
            return abi.encodeWithSelector(ILoanRegistry.LoanRegistryBorrowerIsPlatform.selector, loanId, borrower);
        }
        if (!isValidSignature(borrower, digest, signatures.borrowerSignature)) {
            return abi.encodeWithSelector(ILoanRegistry.LoanRegistryInvalidSignature.selector, loanId, borrower);
        }
        return "";
    }

    /// @notice {consentError} for the agreement of loan `loanId`.
    function agreementError(
        LoanId loanId,
        address platform,
        Signatures calldata signatures
    ) internal view returns (bytes memory) {
        return consentError(loanId, agreementDigest(loanId, signatures.deadline), platform, signatures);
    }

    /// @notice {consentError} for document version `version` (hash `documentHash`) of loan `loanId`.
    function amendmentError(
        LoanId loanId,
        uint16 version,
        bytes32 documentHash,
        address platform,
        Signatures calldata signatures
    ) internal view returns (bytes memory) {
        return
            consentError(
                loanId,
                amendmentDigest(loanId, version, documentHash, signatures.deadline),
                platform,
                signatures
            );
    }

    /// @notice Whether `signature` of `digest` is `signer`'s: an ECDSA signature by its key (65 bytes, or 64 in the
    /// compact form of ERC-2098), or else one its ERC-1271 wallet accepts (OpenZeppelin's `SignatureChecker`).
    /// @dev Recovery comes first (as `SignatureChecker` did before OpenZeppelin 5.0) so that the usual signer, an
    /// externally owned account, does not pay 2 600 gas to read a cold account's code size; no key recovers to a
    /// contract wallet's address, so a wallet is still asked whenever recovery does not name it.
    function isValidSignature(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        address recovered;
        ECDSA.RecoverError error;
        if (signature.length == 64) {
            // The compact form (ERC-2098, r and yParity·s): 33 bytes less of calldata and of event per signature.
            (recovered, error, ) = ECDSA.tryRecover(digest, bytes32(signature[0:32]), bytes32(signature[32:64]));
        } else {
            (recovered, error, ) = ECDSA.tryRecoverCalldata(digest, signature);
        }
        if (error == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return
            signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    function _digest(bytes32 structHash) private view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this))
        );
        return MessageHashUtils.toTypedDataHash(domain, structHash);
    }
}
