// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAllianceRegistry, MemberStatus, ROLE_CUSTODIAN} from "../interfaces/IAllianceRegistry.sol";
import {ILoanRegistry, LoanId, LoanState, LoanStatus, LoanTerms, computeLoanId} from "../interfaces/ILoanRegistry.sol";
import {ICollateralRegistry, Asset, Lien, LienStatus} from "../interfaces/ICollateralRegistry.sol";
import {HistoryFacts} from "./HistoryFacts.sol";

/// @title The rules about an asset's existing liens: who agrees to a new rank, and who revalues a pledged asset
/// @notice A linked library of the collateral registry (its functions run in the registry's storage and emit the
/// registry's events). The registry keeps the hot paths (pledge, release, seizure) in its own code; what this library
/// holds protects the lienholders already on an asset from the owner, a new lender and the asset's appraiser, and runs
/// rarely. Contracts are passed as plain addresses: a contract type in a library's ABI is not an ABI type.
library CollateralLiens {
    /// @notice A lien's agreement that a new loan's lien may take `priority` beside or ahead of it, and whether
    /// governance gave it (the only consent that counts for a loan in loss).
    /// @dev One slot: priority (8) | byGovernance (8).
    struct RankConsent {
        uint8 priority;
        bool byGovernance;
    }

    /// @notice Records that the lien of the loan of `lienLoan` on `assetId` agrees that a lien of `newLoanId` may take
    /// rank `priority` beside or ahead of it: its servicer's word while the loan performs or funds, governance's once
    /// it is in loss (Defaulted, WrittenOff, or overdue past its default threshold, whether or not its servicer has
    /// declared it): its lenders recover from that rank, and its servicer cannot give it away.
    function consentToRank(
        mapping(uint256 assetId => mapping(LoanId newLoan => mapping(LoanId lienLoan => RankConsent))) storage rankConsents,
        mapping(uint256 assetId => mapping(LoanId loanId => Lien)) storage liens,
        address allianceAddress,
        address loansAddress,
        uint256 assetId,
        LoanTerms calldata lienLoan,
        LoanId newLoanId,
        uint8 priority
    ) external {
        ILoanRegistry loans = ILoanRegistry(loansAddress);
        LoanId lienLoanId = computeLoanId(lienLoan);
        LienStatus status = liens[assetId][lienLoanId].status;
        if (status != LienStatus.Active) {
            revert ICollateralRegistry.CollateralRegistryWrongLienStatus(assetId, lienLoanId, status);
        }
        bool inLoss = _inLoss(lienLoan, loans.loanState(lienLoanId));
        bool agrees =
            inLoss
                ? IAllianceRegistry(allianceAddress).isGovernance(msg.sender)
                : loans.mayService(lienLoan, msg.sender);
        if (!agrees) revert ICollateralRegistry.CollateralRegistryUnauthorized(msg.sender);
        rankConsents[assetId][newLoanId][lienLoanId] = RankConsent({priority: priority, byGovernance: inLoss});
        emit ICollateralRegistry.RankConsented(assetId, lienLoanId, newLoanId, priority);
    }

    /// @notice Proves `liensTerms` to be every active lien of the asset and requires each one that a new lien of
    /// `newLoanId` at `priority` would rank with or ahead of to have agreed to exactly that rank, by governance when
    /// its loan is in loss now.
    function requireRankConsents(
        mapping(uint256 assetId => mapping(LoanId newLoan => mapping(LoanId lienLoan => RankConsent))) storage rankConsents,
        mapping(uint256 assetId => mapping(LoanId loanId => Lien)) storage liens,
        address loansAddress,
        uint256 assetId,
        uint256 lienCount,
        LoanId newLoanId,
        uint8 priority,
        LoanTerms[] calldata liensTerms
    ) external view {
        LoanId[] memory loanIds = activeLiens(liens, assetId, lienCount, liensTerms);
        for (uint256 i; i < loanIds.length; ++i) {
            LoanId lienLoan = loanIds[i];
            if (liens[assetId][lienLoan].priority < priority) continue;
            RankConsent storage consent = rankConsents[assetId][newLoanId][lienLoan];
            // A consent counts as long as its cause: a servicer's word for a loan that has since fallen into loss no
            // longer binds that loan's lenders; only governance's does.
            bool counts =
                consent.priority == priority &&
                    (consent.byGovernance || !_inLoss(liensTerms[i], ILoanRegistry(loansAddress).loanState(lienLoan)));
            if (!counts) {
                revert ICollateralRegistry.CollateralRegistryRankConsentMissing(assetId, lienLoan, newLoanId, priority);
            }
        }
    }

    /// @notice Records a new appraisal of a registered asset: by its registrar of record (unless expelled), a custodian
    /// member or governance, and never by the servicer of a loan the asset secures (a lower appraisal lowers the floor
    /// of the sale it may run) unless that is governance. Every loan with an active lien (`liensTerms`, proven complete)
    /// gets the revaluation in its history.
    function revalue(
        Asset storage asset,
        mapping(uint256 assetId => mapping(LoanId loanId => Lien)) storage liens,
        address allianceAddress,
        address loansAddress,
        uint256 assetId,
        uint256 appraisalValue,
        bytes32 appraisalDocHash,
        LoanTerms[] calldata liensTerms
    ) external {
        IAllianceRegistry alliance = IAllianceRegistry(allianceAddress);
        ILoanRegistry loans = ILoanRegistry(loansAddress);
        bool governance = alliance.isGovernance(msg.sender);
        bool registrar = msg.sender == asset.registrar && alliance.memberOf(msg.sender).status != MemberStatus.Expelled;
        if (!registrar && !governance && !alliance.isActiveMember(msg.sender, ROLE_CUSTODIAN)) {
            revert ICollateralRegistry.CollateralRegistryUnauthorized(msg.sender);
        }
        if (appraisalValue == 0 || appraisalValue > type(uint96).max || appraisalDocHash == bytes32(0)) {
            revert ICollateralRegistry.CollateralRegistryInvalidAppraisal(appraisalValue, appraisalDocHash);
        }
        LoanId[] memory loanIds = activeLiens(liens, assetId, asset.lienCount, liensTerms);
        if (!governance) {
            for (uint256 i; i < liensTerms.length; ++i) {
                if (loans.mayService(liensTerms[i], msg.sender)) {
                    revert ICollateralRegistry.CollateralRegistryUnauthorized(msg.sender);
                }
            }
        }
        // The check above bounds the value to 96 bits.
        asset.appraisalValue = uint96(appraisalValue);
        emit ICollateralRegistry.CollateralRevalued(assetId, msg.sender, uint96(appraisalValue), appraisalDocHash);
        bytes32 fact = HistoryFacts.collateralRevalued(assetId, appraisalValue, appraisalDocHash);
        for (uint256 i; i < loanIds.length; ++i) {
            loans.extendHistory(loanIds[i], fact);
        }
    }

    /// @notice Proves `liensTerms` to be every active lien of the asset, each named once, and returns their loan ids.
    function activeLiens(
        mapping(uint256 assetId => mapping(LoanId loanId => Lien)) storage liens,
        uint256 assetId,
        uint256 lienCount,
        LoanTerms[] calldata liensTerms
    ) private view returns (LoanId[] memory loanIds) {
        if (liensTerms.length != lienCount) {
            revert ICollateralRegistry.CollateralRegistryLiensIncomplete(assetId, liensTerms.length, lienCount);
        }
        loanIds = new LoanId[](liensTerms.length);
        for (uint256 i; i < liensTerms.length; ++i) {
            LoanId loanId = computeLoanId(liensTerms[i]);
            LienStatus status = liens[assetId][loanId].status;
            if (status != LienStatus.Active) {
                revert ICollateralRegistry.CollateralRegistryWrongLienStatus(assetId, loanId, status);
            }
            for (uint256 j; j < i; ++j) {
                if (LoanId.unwrap(loanIds[j]) == LoanId.unwrap(loanId)) {
                    revert ICollateralRegistry.CollateralRegistryLiensIncomplete(assetId, i, lienCount);
                }
            }
            loanIds[i] = loanId;
        }
    }

    /// @dev Whether the loan of `terms` is in loss: Defaulted or WrittenOff, or Active or Late past the point where its
    /// default may be declared (its servicer could otherwise act in the gap before it declares it).
    function _inLoss(LoanTerms calldata terms, LoanState memory state) private view returns (bool) {
        if (state.status == LoanStatus.Defaulted || state.status == LoanStatus.WrittenOff) return true;
        if (state.status != LoanStatus.Active && state.status != LoanStatus.Late) return false;
        uint256 nextDue = uint256(state.activatedAt) + uint256(state.installmentsPaid + 1) * terms.period;
        return block.timestamp >= nextDue + terms.defaultThreshold;
    }
}
