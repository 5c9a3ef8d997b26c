// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IAllianceRegistry, ROLE_CUSTODIAN} from "../interfaces/IAllianceRegistry.sol";
import {
    ILoanRegistry,
    LoanId,
    LoanState,
    LoanStatus,
    LoanTerms,
    Loss,
    computeLoanId
} from "../interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter, FundingPhase} from "../interfaces/IRepaymentSplitter.sol";
import {ILossWaterfall} from "../interfaces/ILossWaterfall.sol";
import {ICollateralRegistry, Lien, LienStatus, SaleProposal} from "../interfaces/ICollateralRegistry.sol";

/// @title The sale rules of seized collateral: proposal, window, confirmation and the disposal waterfall
/// @notice A linked library of the collateral registry (its functions run in the registry's storage and emit the
/// registry's events), so that the registry stays within the contract size limit.
library CollateralSales {
    uint16 internal constant BPS = 10_000;

    /// @notice What a disposal needs to know besides storage.
    struct Context {
        ILoanRegistry loans;
        IRepaymentSplitter splitter;
        ILossWaterfall waterfall;
        uint256 assetId;
        /// @dev The loan whose lien seized the asset; only its servicer sells.
        LoanId enforcing;
        uint256 appraisalValue;
        uint32 window;
        uint16 haircutBps;
        address seller;
    }

    /// @notice What a disposal does with the liens it was given, in their order.
    struct Plan {
        SaleProposal sale;
        LoanId[] loanIds;
        /// @dev What each lien takes from the price: nothing for a loan that is not in loss.
        uint256[] allocated;
        /// @dev What is left for the owner.
        uint256 surplus;
        /// @dev Bit i: the splitter funded lien i's loan, so its share goes through the loss waterfall.
        uint256 funded;
        /// @dev The liens of performing loans, which survive the sale.
        uint8 survivors;
        uint8 survivorsLastRank;
        uint256 survivorsFirstSecured;
    }

    /// @notice Records the proposed sale of `assetId` (the registry checked the asset, the loan and the caller).
    function propose(
        mapping(uint256 assetId => SaleProposal) storage sales,
        uint256 assetId,
        LoanId loanId,
        SaleProposal calldata sale,
        uint256 appraisalValue,
        uint32 window
    ) external {
        if (sale.buyerRef == bytes32(0) || sale.saleDocHash == bytes32(0)) {
            revert ICollateralRegistry.CollateralRegistryInvalidSale(sale.price, sale.buyerRef, sale.saleDocHash);
        }
        sales[assetId] = sale;
        emit ICollateralRegistry.SaleProposed(
            assetId,
            loanId,
            sale.proposer,
            sale.price,
            sale.buyer,
            sale.buyerRef,
            sale.saleDocHash,
            appraisalValue,
            uint256(sale.proposedAt) + window
        );
    }

    /// @notice Confirms the proposal of hash `expected` as custodian `by`, who must not be its proposer.
    function confirm(
        mapping(uint256 assetId => SaleProposal) storage sales,
        IAllianceRegistry alliance,
        uint256 assetId,
        bytes32 expected,
        address by
    ) external {
        SaleProposal storage sale = proposed(sales, assetId);
        // The seller cannot vouch for its own price, whatever other roles it holds.
        if (!alliance.isActiveMember(by, ROLE_CUSTODIAN) || by == sale.proposer) {
            revert ICollateralRegistry.CollateralRegistryUnauthorized(by);
        }
        // A confirmation names the proposal it read, so a proposal replaced meanwhile is not confirmed by it.
        bytes32 actual = proposalHash(sale, assetId);
        if (actual != expected) revert ICollateralRegistry.CollateralRegistryProposalChanged(assetId, expected, actual);
        sale.confirmed = true;
        emit ICollateralRegistry.SaleConfirmed(assetId, by, expected);
    }

    /// @notice Proves `liens` to be every lien of the asset in priority order, settles each, takes the proposed sale
    /// ({settle}) and divides its price. A lien whose loan owes nothing (Repaid, Cancelled, Recovered) or never lent
    /// (Funding) is released and takes nothing; a performing loan's lien (Active, Late) survives the sale and takes
    /// nothing; a loan in loss (Defaulted, WrittenOff) has its lien discharged, taking at most its secured amount and
    /// what its loan has left to recover.
    function plan(
        mapping(uint256 assetId => SaleProposal) storage sales,
        mapping(uint256 assetId => mapping(LoanId loanId => Lien)) storage liensOf,
        mapping(LoanId loanId => uint256) storage collectedOffSplitter,
        Context calldata ctx,
        LoanTerms[] calldata liens
    ) external returns (Plan memory p) {
        uint256[] memory takes = new uint256[](liens.length);
        uint8[] memory priorities = new uint8[](liens.length);
        p.loanIds = new LoanId[](liens.length);
        uint256 survivorsOwed;
        for (uint256 i; i < liens.length; ++i) {
            LoanId loanId = computeLoanId(liens[i]);
            Lien storage lien = liensOf[ctx.assetId][loanId];
            if (lien.status != LienStatus.Active && lien.status != LienStatus.Enforcing) {
                revert ICollateralRegistry.CollateralRegistryWrongLienStatus(ctx.assetId, loanId, lien.status);
            }
            if (i != 0 && lien.priority < priorities[i - 1]) {
                revert ICollateralRegistry.CollateralRegistryLiensIncomplete(ctx.assetId, i, liens.length);
            }
            if (LoanId.unwrap(loanId) == LoanId.unwrap(ctx.enforcing) && !ctx.loans.mayService(liens[i], ctx.seller)) {
                revert ICollateralRegistry.CollateralRegistryNotSeizingPlatform(
                    ctx.assetId,
                    ctx.seller,
                    ctx.loans.servicerOf(liens[i])
                );
            }
            p.loanIds[i] = loanId;
            priorities[i] = lien.priority;
            LoanState memory state = ctx.loans.loanState(loanId);
            if (state.status == LoanStatus.Active || state.status == LoanStatus.Late) {
                // Its borrower still owes it all: paying its lenders now would pay them twice.
                p.survivors += 1;
                if (lien.priority > p.survivorsLastRank) p.survivorsLastRank = lien.priority;
                if (lien.priority == 1) p.survivorsFirstSecured += lien.securedAmount;
                survivorsOwed += Math.min(lien.securedAmount, state.outstandingPrincipal);
            } else if (state.status == LoanStatus.Defaulted || state.status == LoanStatus.WrittenOff) {
                uint256 left;
                FundingPhase phase = ctx.splitter.bookOf(loanId).phase;
                if (phase != FundingPhase.None) {
                    // Funded through the splitter: through the loss waterfall, while its book takes recoveries.
                    p.funded |= 1 << i;
                    if (phase == FundingPhase.Funded) left = ctx.waterfall.recoverable(loanId);
                } else {
                    // Off the splitter: the loss recorded at default, less what sales already paid its servicer.
                    Loss memory loss = ctx.loans.lossOf(loanId);
                    left = uint256(loss.principal) + loss.interest;
                    left -= Math.min(left, collectedOffSplitter[loanId]);
                }
                takes[i] = Math.min(lien.securedAmount, left);
                lien.status = LienStatus.Discharged;
            } else {
                lien.status = LienStatus.Released;
            }
        }
        p.sale = settle(sales, ctx, survivorsOwed, p.survivors);
        p.allocated = allocate(p.sale.price, takes, priorities);
        p.surplus = p.sale.price;
        for (uint256 i; i < liens.length; ++i) {
            p.surplus -= p.allocated[i];
        }
    }

    /// @notice Takes the proposal of `assetId` for completion: its window has passed, its price is at or above the
    /// floor (the appraisal, less what the surviving liens still secure, less the haircut) or a custodian confirmed it,
    /// and it names a buyer able to hold the asset when liens survive.
    function settle(
        mapping(uint256 assetId => SaleProposal) storage sales,
        Context calldata ctx,
        uint256 survivorsOwed,
        uint256 survivors
    ) private returns (SaleProposal memory sale) {
        uint256 assetId = ctx.assetId;
        sale = proposed(sales, assetId);
        uint256 completesAt = uint256(sale.proposedAt) + ctx.window;
        if (block.timestamp < completesAt) {
            revert ICollateralRegistry.CollateralRegistrySaleWindowOpen(assetId, completesAt, block.timestamp);
        }
        if (!sale.confirmed) {
            uint256 equity = ctx.appraisalValue > survivorsOwed ? ctx.appraisalValue - survivorsOwed : 0;
            uint256 floor = (equity * (BPS - ctx.haircutBps)) / BPS;
            if (sale.price < floor) {
                revert ICollateralRegistry.CollateralRegistrySaleNeedsConfirmation(assetId, sale.price, floor);
            }
        }
        if (survivors != 0 && sale.buyer == address(0)) {
            revert ICollateralRegistry.CollateralRegistryBuyerRequired(assetId, survivors);
        }
        delete sales[assetId];
    }

    /// @notice The disposal waterfall: priority by priority, each lien up to what it may take; a priority that cannot
    /// be paid in full shares what is left pro rata, its last lien that takes anything taking the rounding remainder.
    function allocate(
        uint256 proceeds,
        uint256[] memory secured,
        uint8[] memory priorities
    ) private pure returns (uint256[] memory allocated) {
        allocated = new uint256[](secured.length);
        uint256 remaining = proceeds;
        uint256 start;
        while (start < secured.length) {
            uint256 end = start;
            uint256 groupSecured;
            while (end < secured.length && priorities[end] == priorities[start]) {
                groupSecured += secured[end];
                ++end;
            }
            if (remaining >= groupSecured) {
                for (uint256 i = start; i < end; ++i) {
                    allocated[i] = secured[i];
                }
                remaining -= groupSecured;
            } else {
                uint256 share = remaining;
                for (uint256 i = start; i < end; ++i) {
                    allocated[i] = (share * secured[i]) / groupSecured;
                    remaining -= allocated[i];
                }
                for (uint256 i = end; i > start; --i) {
                    if (secured[i - 1] != 0) {
                        allocated[i - 1] += remaining;
                        remaining = 0;
                        break;
                    }
                }
            }
            start = end;
        }
    }

    function proposed(
        mapping(uint256 assetId => SaleProposal) storage sales,
        uint256 assetId
    ) internal view returns (SaleProposal storage sale) {
        sale = sales[assetId];
        if (sale.proposedAt == 0) revert ICollateralRegistry.CollateralRegistryNoSaleProposed(assetId);
    }

    /// @dev keccak256(abi.encode(assetId, price, buyer, buyerRef, saleDocHash, proposedAt)).
    function proposalHash(SaleProposal storage sale, uint256 assetId) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    assetId,
                    uint256(sale.price),
                    sale.buyer,
                    sale.buyerRef,
                    sale.saleDocHash,
                    uint256(sale.proposedAt)
                )
            );
    }
}
