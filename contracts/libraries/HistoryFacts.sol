// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {FactKind, LoanId, LoanStatus} from "../interfaces/ILoanRegistry.sol";
import {FundingConfig} from "../interfaces/IRepaymentSplitter.sol";

/// @title The hash of every fact a loan's history can get: the one place each fact's encoding is written
/// @notice Every contract that extends a history hashes its facts here, each tagged by its {FactKind} in the first
/// word, so that no two facts of different kinds can hash alike. The registry's own facts (Anchored to
/// LegacyAgreement) name the loan; the facts of a history writer (FundingOpened to SeizedAssetReturned) are the
/// `factHash` it passes to {ILoanRegistry-extendHistory} or {ILoanRegistry-recordLien}, which the registry wraps in an
/// External fact naming the loan, the writer and the time. {ILoanRegistry} documents every encoding; the client
/// (src/client/history.ts) mirrors them from one table.
/// @dev Internal functions only: they inline into each contract, so the library is never deployed. The steps every
/// extension takes (the chain step, the External fact) and the pledge's fact are hashed in scratch memory past the free
/// memory pointer, which `abi.encode` would allocate for good: the same words, some 20 gas less each, which keeps the
/// pledge within its 90 000 gas target. Their narrow arguments are masked, as assembly cannot rely on clean upper bits.
library HistoryFacts {
    /// @dev The one history-chain step: `head' = keccak256(abi.encode(previousHead, factHash))`.
    function chain(bytes32 previousHead, bytes32 factHash) internal pure returns (bytes32 head) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, previousHead)
            mstore(add(p, 0x20), factHash)
            head := keccak256(p, 0x40)
        }
    }

    // ---------------------------------------------------------------- the registry's facts

    function anchored(LoanId loanId, uint40 at) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.Anchored, loanId, at));
    }

    function statusChanged(LoanId loanId, LoanStatus from, LoanStatus to, uint40 at) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.StatusChanged, loanId, from, to, at));
    }

    function repaymentRecorded(
        LoanId loanId,
        uint16 installment,
        uint256 amount,
        uint256 lateInterest,
        uint256 interest,
        uint256 principal,
        uint256 prepayment,
        uint256 outstandingAfter,
        bytes32 bankRef,
        uint40 at
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    FactKind.RepaymentRecorded,
                    loanId,
                    installment,
                    amount,
                    lateInterest,
                    interest,
                    principal,
                    prepayment,
                    outstandingAfter,
                    bankRef,
                    at
                )
            );
    }

    function documentAmended(
        LoanId loanId,
        uint16 version,
        bytes32 documentHash,
        uint40 at
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.DocumentAmended, loanId, version, documentHash, at));
    }

    /// @dev A history writer's fact `factHash` (one of the writer facts below), as the registry records it.
    function externalFact(
        LoanId loanId,
        address source,
        bytes32 factHash,
        uint40 at
    ) internal pure returns (bytes32 fact) {
        // keccak256(abi.encode(FactKind.External, loanId, source, factHash, at))
        uint256 kind = uint256(FactKind.External);
        uint256 id = LoanId.unwrap(loanId);
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, kind)
            mstore(add(p, 0x20), id)
            mstore(add(p, 0x40), and(source, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x60), factHash)
            mstore(add(p, 0x80), and(at, 0xffffffffff))
            fact := keccak256(p, 0xa0)
        }
    }

    function servicingDelegated(LoanId loanId, address servicer, uint40 at) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.ServicingDelegated, loanId, servicer, at));
    }

    function lossRecorded(
        LoanId loanId,
        uint256 principal,
        uint256 interest,
        uint40 at
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.LossRecorded, loanId, principal, interest, at));
    }

    function servicerChanged(LoanId loanId, address from, address to, uint40 at) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.ServicerChanged, loanId, from, to, at));
    }

    function agreementSigned(
        LoanId loanId,
        address borrower,
        address platform,
        uint256 deadline,
        bytes calldata borrowerSignature,
        uint40 at
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    FactKind.AgreementSigned,
                    loanId,
                    borrower,
                    platform,
                    deadline,
                    keccak256(borrowerSignature),
                    at
                )
            );
    }

    function amendmentSigned(
        LoanId loanId,
        uint16 version,
        address borrower,
        address platform,
        uint256 deadline,
        bytes calldata borrowerSignature,
        uint40 at
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    FactKind.AmendmentSigned,
                    loanId,
                    version,
                    borrower,
                    platform,
                    deadline,
                    keccak256(borrowerSignature),
                    at
                )
            );
    }

    function legacyAgreement(LoanId loanId, uint40 at) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.LegacyAgreement, loanId, at));
    }

    // ---------------------------------------------------------------- the repayment splitter's facts

    /// @dev The funding configuration a loan opened for funding with ({IRepaymentSplitter-FundingOpened}).
    function fundingOpened(FundingConfig calldata config) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.FundingOpened, config));
    }

    /// @dev A recovery `from` paid in for the lenders ({IRepaymentSplitter-RecoveryReceived}).
    function recoveryReceived(address from, uint256 amount) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.RecoveryReceived, from, amount));
    }

    /// @dev A payout to the lenders of `batch` (their addresses, 20 bytes each) ({IRepaymentSplitter-PayoutsPushed}).
    function payoutsPushed(bytes memory batch, uint256 paid, uint256 skipped) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.PayoutsPushed, keccak256(batch), paid, skipped));
    }

    // ---------------------------------------------------------------- the loss waterfall's facts

    /// @dev A loss settled between insurer, reserve and lenders ({ILossWaterfall-LossSettled}).
    function lossSettled(
        uint256 loss,
        uint256 recoveredBefore,
        uint256 insurerBore,
        uint256 reserveBore,
        uint256 lendersBore
    ) internal pure returns (bytes32) {
        return
            keccak256(abi.encode(FactKind.LossSettled, loss, recoveredBefore, insurerBore, reserveBore, lendersBore));
    }

    /// @dev A recovery after settlement, shared pari passu ({ILossWaterfall-RecoveryApplied}).
    function recoveryApplied(
        uint256 amount,
        uint256 toInsurer,
        uint256 toReserve,
        uint256 toLenders
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.RecoveryApplied, amount, toInsurer, toReserve, toLenders));
    }

    // ---------------------------------------------------------------- the collateral registry's facts

    function collateralPledged(
        uint256 assetId,
        uint256 securedAmount,
        uint8 priority
    ) internal pure returns (bytes32 fact) {
        // keccak256(abi.encode(FactKind.CollateralPledged, assetId, securedAmount, priority))
        uint256 kind = uint256(FactKind.CollateralPledged);
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, kind)
            mstore(add(p, 0x20), assetId)
            mstore(add(p, 0x40), securedAmount)
            mstore(add(p, 0x60), and(priority, 0xff))
            fact := keccak256(p, 0x80)
        }
    }

    function lienReleased(uint256 assetId) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.LienReleased, assetId));
    }

    function collateralSeized(uint256 assetId) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.CollateralSeized, assetId));
    }

    /// @dev A sale of the asset, with `allocated` the part of its proceeds that went to this loan.
    function collateralDisposed(
        uint256 assetId,
        uint256 proceeds,
        uint256 allocated,
        bytes32 buyerRef,
        bytes32 saleDocHash
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.CollateralDisposed, assetId, proceeds, allocated, buyerRef, saleDocHash));
    }

    function collateralRevalued(
        uint256 assetId,
        uint256 appraisalValue,
        bytes32 appraisalDocHash
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.CollateralRevalued, assetId, appraisalValue, appraisalDocHash));
    }

    function seizedAssetReturned(uint256 assetId) internal pure returns (bytes32) {
        return keccak256(abi.encode(FactKind.SeizedAssetReturned, assetId));
    }
}
