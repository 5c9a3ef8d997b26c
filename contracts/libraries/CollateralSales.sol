// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ExactTransfer} from "./ExactTransfer.sol";
import {HistoryFacts} from "./HistoryFacts.sol";
import {IAllianceRegistry, MemberStatus, ROLE_CUSTODIAN} from "../interfaces/IAllianceRegistry.sol";
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

/// @title The sale of seized collateral: proposal, window, confirmation, the disposal waterfall and its payments
/// @notice A linked library of the collateral registry (its functions run in the registry's storage and emit the
/// registry's events). The registry keeps the asset's and the liens' state machines and the token's moves; this library
/// decides who takes what from a sale and pays it. Its external functions take contracts
/// as plain addresses: a contract type in a library's ABI is not an ABI type, and tools (ethers among them) refuse it.
library CollateralSales {
    using SafeERC20 for IERC20;
    using ExactTransfer for IERC20;

    uint16 internal constant BPS = 10_000;
    /// @dev Long enough for any lienholder to react, short enough that a seized asset is not held hostage.
    uint32 internal constant MAX_WINDOW = 90 days;

    /// @notice The alliance's sale rules: the window every lienholder sees a proposal for, and the haircut below the
    /// appraisal floor a sale may go without a custodian's confirmation (basis points).
    struct Rules {
        uint32 window;
        uint16 haircutBps;
    }

    /// @notice What a disposal needs to know besides storage.
    struct Context {
        IAllianceRegistry alliance;
        ILoanRegistry loans;
        IRepaymentSplitter splitter;
        ILossWaterfall waterfall;
        uint256 assetId;
        /// @dev The loan whose lien seized the asset; only its servicer sells.
        LoanId enforcing;
        uint256 appraisalValue;
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

    /// @notice What a servicer proposes, and what the registry knows of the asset.
    struct Proposal {
        uint256 assetId;
        /// @dev The loan whose lien seized the asset.
        LoanId enforcer;
        uint256 price;
        address buyer;
        bytes32 buyerRef;
        bytes32 saleDocHash;
        uint256 appraisalValue;
        uint32 window;
    }

    /// @notice Records the proposed sale of a seized asset by the servicer of the loan of `enforcing`, which seized it
    /// and is still in loss; it may complete once the current sale window has passed.
    function propose(
        mapping(uint256 assetId => SaleProposal) storage sales,
        address loansAddress,
        Proposal calldata proposal,
        LoanTerms calldata enforcing
    ) external {
        ILoanRegistry loans = ILoanRegistry(loansAddress);
        uint256 assetId = proposal.assetId;
        LoanId loanId = computeLoanId(enforcing);
        if (LoanId.unwrap(loanId) != LoanId.unwrap(proposal.enforcer)) {
            revert ICollateralRegistry.CollateralRegistryNotEnforcingLoan(assetId, loanId, proposal.enforcer);
        }
        if (!loans.mayService(enforcing, msg.sender)) {
            revert ICollateralRegistry.CollateralRegistryNotSeizingPlatform(
                assetId,
                msg.sender,
                loans.servicerOf(enforcing)
            );
        }
        LoanStatus status = loans.loanState(loanId).status;
        if (status != LoanStatus.Defaulted && status != LoanStatus.WrittenOff) {
            revert ICollateralRegistry.CollateralRegistryLoanNotDefaulted(loanId, status);
        }
        if (
            proposal.price > type(uint128).max || proposal.buyerRef == bytes32(0) || proposal.saleDocHash == bytes32(0)
        ) {
            revert ICollateralRegistry.CollateralRegistryInvalidSale(
                proposal.price,
                proposal.buyerRef,
                proposal.saleDocHash
            );
        }
        uint256 completesAt = block.timestamp + proposal.window;
        // Fits: the price is checked above; timestamps fit 40 bits until the year 36 812.
        sales[assetId] = SaleProposal({
            price: uint128(proposal.price),
            proposedAt: uint40(block.timestamp),
            completesAt: uint40(completesAt),
            buyer: proposal.buyer,
            proposer: msg.sender,
            confirmer: address(0),
            buyerRef: proposal.buyerRef,
            saleDocHash: proposal.saleDocHash
        });
        emit ICollateralRegistry.SaleProposed(
            assetId,
            loanId,
            msg.sender,
            proposal.price,
            proposal.buyer,
            proposal.buyerRef,
            proposal.saleDocHash,
            proposal.appraisalValue,
            completesAt
        );
    }

    /// @notice Sets the sale rules. Governance only.
    function setRules(Rules storage rules, address allianceAddress, uint32 window, uint16 haircutBps) external {
        IAllianceRegistry alliance = IAllianceRegistry(allianceAddress);
        if (!alliance.isGovernance(msg.sender)) revert ICollateralRegistry.CollateralRegistryUnauthorized(msg.sender);
        if (window > MAX_WINDOW || haircutBps > BPS) {
            revert ICollateralRegistry.CollateralRegistrySaleRulesOutOfRange(window, haircutBps, MAX_WINDOW);
        }
        rules.window = window;
        rules.haircutBps = haircutBps;
        emit ICollateralRegistry.SaleRulesSet(window, haircutBps);
    }

    /// @notice Withdraws the proposed sale of `assetId`. Governance only.
    function withdraw(
        mapping(uint256 assetId => SaleProposal) storage sales,
        address allianceAddress,
        uint256 assetId
    ) external {
        IAllianceRegistry alliance = IAllianceRegistry(allianceAddress);
        if (!alliance.isGovernance(msg.sender)) revert ICollateralRegistry.CollateralRegistryUnauthorized(msg.sender);
        proposed(sales, assetId);
        delete sales[assetId];
        emit ICollateralRegistry.SaleWithdrawn(assetId, msg.sender);
    }

    /// @notice Confirms the proposal of hash `expected` as custodian `by`, who must not be its proposer.
    function confirm(
        mapping(uint256 assetId => SaleProposal) storage sales,
        address allianceAddress,
        uint256 assetId,
        bytes32 expected,
        address by
    ) external {
        IAllianceRegistry alliance = IAllianceRegistry(allianceAddress);
        SaleProposal storage sale = proposed(sales, assetId);
        // The seller cannot vouch for its own price, whatever other roles it holds.
        if (!alliance.isActiveMember(by, ROLE_CUSTODIAN) || by == sale.proposer) {
            revert ICollateralRegistry.CollateralRegistryUnauthorized(by);
        }
        // A confirmation names the proposal it read, so a proposal replaced meanwhile is not confirmed by it.
        bytes32 actual = proposalHash(sale, assetId);
        if (actual != expected) revert ICollateralRegistry.CollateralRegistryProposalChanged(assetId, expected, actual);
        sale.confirmer = by;
        emit ICollateralRegistry.SaleConfirmed(assetId, by, expected);
    }

    /// @notice Proves `liens` to be every lien of the asset in priority order, settles each, takes the proposed sale
    /// ({settle}) and divides its price. A lien whose loan owes nothing and never will (Repaid, Cancelled, Recovered) is
    /// released and takes nothing; the lien of a loan still owed (Active, Late) survives the sale and takes nothing; a
    /// loan in loss (Defaulted, WrittenOff) has its lien discharged, taking at most its secured amount and what its loan
    /// has left to recover. While a lien's loan is still in Funding the sale waits: no sale wipes a lien its loan may
    /// yet disburse against.
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
        bool enforcingNamed;
        for (uint256 i; i < liens.length; ++i) {
            LoanId loanId = computeLoanId(liens[i]);
            Lien storage lien = liensOf[ctx.assetId][loanId];
            if (lien.status != LienStatus.Active && lien.status != LienStatus.Enforcing) {
                revert ICollateralRegistry.CollateralRegistryWrongLienStatus(ctx.assetId, loanId, lien.status);
            }
            _requireNamedOnce(p.loanIds, i, loanId, ctx.assetId);
            if (i != 0 && lien.priority < priorities[i - 1]) {
                revert ICollateralRegistry.CollateralRegistryLiensIncomplete(ctx.assetId, i, liens.length);
            }
            LoanState memory state = ctx.loans.loanState(loanId);
            if (LoanId.unwrap(loanId) == LoanId.unwrap(ctx.enforcing)) {
                enforcingNamed = true;
                _requireSeller(ctx, liens[i], loanId, state.status);
            }
            p.loanIds[i] = loanId;
            priorities[i] = lien.priority;
            if (state.status == LoanStatus.Funding) {
                // Its lenders may still lend against this lien, so no sale may wipe it; and what it will secure is
                // not known yet (counted in full, a loan that never funds would zero the floor; counted as nothing,
                // the buyer would pay for an asset it does not get free): the sale waits until the loan funds or, at
                // its funding deadline at the latest, anyone cancels it and releases the lien.
                revert ICollateralRegistry.CollateralRegistryLoanInFunding(
                    ctx.assetId,
                    loanId,
                    liens[i].fundingDeadline
                );
            } else if (state.status == LoanStatus.Active || state.status == LoanStatus.Late) {
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
                    left = _leftOffSplitter(collectedOffSplitter, ctx, liens[i], loanId);
                }
                takes[i] = Math.min(lien.securedAmount, left);
                lien.status = LienStatus.Discharged;
            } else {
                lien.status = LienStatus.Released;
            }
        }
        if (!enforcingNamed) revert ICollateralRegistry.CollateralRegistryLienNamedTwice(ctx.assetId, ctx.enforcing);
        p.sale = settle(sales, ctx, survivorsOwed, p.survivors);
        p.allocated = allocate(p.sale.price, takes, priorities);
        p.surplus = p.sale.price;
        for (uint256 i; i < liens.length; ++i) {
            p.surplus -= p.allocated[i];
        }
    }

    /// @notice Completes the money side of a disposal the registry recorded: takes the price from the seller, pays each
    /// lien its share (through the loss waterfall when the splitter funded its loan, else to the loan's servicer, the
    /// successor once one took it over), extends each lien's loan history with the sale, and pays the owner the surplus.
    /// A payment its recipient refuses is kept for it to withdraw, so that no party blocks the others.
    /// @return keptAmount What was kept for recipients that refused a payment.
    function payOut(
        mapping(LoanId loanId => uint256) storage collectedOffSplitter,
        mapping(address account => uint256) storage kept,
        Context calldata ctx,
        address tokenAddress,
        address owner,
        LoanTerms[] calldata liens,
        Plan memory p
    ) external returns (uint256 keptAmount) {
        IERC20 token = IERC20(tokenAddress);
        SaleProposal memory sale = p.sale;
        uint256 surplus = p.surplus;
        if (sale.price != 0) token.pullExact(ctx.seller, sale.price);
        for (uint256 i; i < liens.length; ++i) {
            uint256 amount = p.allocated[i];
            LoanId loanId = p.loanIds[i];
            if (amount != 0) {
                if (p.funded & (1 << i) != 0) {
                    emit ICollateralRegistry.DisposalAllocated(ctx.assetId, loanId, address(ctx.waterfall), amount);
                    token.forceApprove(address(ctx.waterfall), amount);
                    // What the waterfall does not take (nothing, since allocations are capped by what it can take)
                    // goes to the owner should that ever differ.
                    uint256 untaken = amount - ctx.waterfall.recover(liens[i], amount);
                    if (untaken != 0) token.forceApprove(address(ctx.waterfall), 0);
                    surplus += untaken;
                } else {
                    address servicer = ctx.loans.servicerOf(liens[i]);
                    collectedOffSplitter[loanId] += amount;
                    emit ICollateralRegistry.DisposalAllocated(ctx.assetId, loanId, servicer, amount);
                    keptAmount += _pay(kept, token, servicer, amount);
                }
            }
            ctx.loans.extendHistory(
                loanId,
                HistoryFacts.collateralDisposed(ctx.assetId, sale.price, amount, sale.buyerRef, sale.saleDocHash)
            );
        }
        if (surplus != 0) keptAmount += _pay(kept, token, owner, surplus);
    }

    /// @dev Pays `account`, or keeps the amount for it to withdraw if the transfer fails.
    function _pay(
        mapping(address account => uint256) storage kept,
        IERC20 token,
        address account,
        uint256 amount
    ) private returns (uint256 keptAmount) {
        if (token.trySafeTransfer(account, amount)) return 0;
        kept[account] += amount;
        emit ICollateralRegistry.PaymentKept(account, amount);
        return amount;
    }

    /// @dev Each lien once: with the asset's lien count, that proves the list complete (a performing lien keeps its
    /// status, so naming it twice would otherwise hide another lien).
    function _requireNamedOnce(LoanId[] memory named, uint256 count, LoanId loanId, uint256 assetId) private pure {
        for (uint256 j; j < count; ++j) {
            if (LoanId.unwrap(named[j]) == LoanId.unwrap(loanId)) {
                revert ICollateralRegistry.CollateralRegistryLienNamedTwice(assetId, loanId);
            }
        }
    }

    /// @dev Only the seizing loan's servicer sells, and only while that loan is in loss: a loss made whole meanwhile
    /// (Recovered) gives the asset back to its owner instead.
    function _requireSeller(
        Context calldata ctx,
        LoanTerms calldata enforcing,
        LoanId loanId,
        LoanStatus status
    ) private view {
        if (!ctx.loans.mayService(enforcing, ctx.seller)) {
            revert ICollateralRegistry.CollateralRegistryNotSeizingPlatform(
                ctx.assetId,
                ctx.seller,
                ctx.loans.servicerOf(enforcing)
            );
        }
        if (status != LoanStatus.Defaulted && status != LoanStatus.WrittenOff) {
            revert ICollateralRegistry.CollateralRegistryLoanNotDefaulted(loanId, status);
        }
    }

    /// @dev What a loan off the splitter has left to take from sales: the loss recorded at default, less what sales
    /// already paid its servicer, which must not be a member the alliance expelled (the share would go to it).
    function _leftOffSplitter(
        mapping(LoanId loanId => uint256) storage collectedOffSplitter,
        Context calldata ctx,
        LoanTerms calldata terms,
        LoanId loanId
    ) private view returns (uint256 left) {
        address servicer = ctx.loans.servicerOf(terms);
        if (ctx.alliance.memberOf(servicer).status == MemberStatus.Expelled) {
            revert ICollateralRegistry.CollateralRegistryServicerExpelled(loanId, servicer);
        }
        Loss memory loss = ctx.loans.lossOf(loanId);
        left = uint256(loss.principal) + loss.interest;
        left -= Math.min(left, collectedOffSplitter[loanId]);
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
        if (block.timestamp < sale.completesAt) {
            revert ICollateralRegistry.CollateralRegistrySaleWindowOpen(assetId, sale.completesAt, block.timestamp);
        }
        // The seller's own confirmation (a successor that is also a custodian, say) counts for nothing, nor does the
        // buyer's, nor one by a custodian no longer active: a confirmation lasts as long as the standing that gave it
        // weight, and comes from nobody with a stake in the price.
        address confirmer = sale.confirmer;
        if (
            confirmer == address(0) ||
            confirmer == ctx.seller ||
            confirmer == sale.buyer ||
            !ctx.alliance.isActiveMember(confirmer, ROLE_CUSTODIAN)
        ) {
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
