// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {TokenSweep} from "./base/TokenSweep.sol";
import {IAllianceRegistry} from "./interfaces/IAllianceRegistry.sol";
import {
    ILoanRegistry,
    LoanId,
    LoanStatus,
    LoanTerms,
    LoanState,
    Loss,
    computeLoanId
} from "./interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter, FundingPhase} from "./interfaces/IRepaymentSplitter.sol";
import {ICreditInsurance} from "./interfaces/ICreditInsurance.sol";
import {IRiskReserveFund} from "./interfaces/IRiskReserveFund.sol";
import {ILossWaterfall, LossCase} from "./interfaces/ILossWaterfall.sol";
import {ExactTransfer} from "./libraries/ExactTransfer.sol";
import {HistoryFacts} from "./libraries/HistoryFacts.sol";

/// @title LossWaterfall
/// @notice See {ILossWaterfall}.
/// @dev A history writer; it pays the lenders through the splitter's `recover` and closes losses through its `closeLoss`.
contract LossWaterfall is ILossWaterfall, TokenSweep {
    using SafeERC20 for IERC20;
    using ExactTransfer for IERC20;

    IAllianceRegistry public immutable ALLIANCE;
    ILoanRegistry public immutable LOANS;
    IRepaymentSplitter public immutable SPLITTER;
    ICreditInsurance public immutable INSURANCE;
    IRiskReserveFund public immutable RESERVE;
    IERC20 public immutable TOKEN;

    mapping(LoanId loanId => LossCase) private _cases;

    constructor(
        IAllianceRegistry alliance,
        ILoanRegistry loans,
        IRepaymentSplitter splitter,
        ICreditInsurance insurance,
        IRiskReserveFund reserve
    ) {
        ALLIANCE = alliance;
        LOANS = loans;
        SPLITTER = splitter;
        INSURANCE = insurance;
        RESERVE = reserve;
        TOKEN = splitter.TOKEN();
    }

    /// @inheritdoc ILossWaterfall
    function recover(LoanTerms calldata terms, uint256 amount) external nonReentrant returns (uint256 taken) {
        LoanId loanId = computeLoanId(terms);
        _requireOpenBook(loanId);
        LoanStatus status = LOANS.loanState(loanId).status;
        // A performing loan has no loss to recover: money for it is a repayment, which runs the splitter's waterfall and
        // reduces what its borrower owes; paid here it would reach its lenders twice.
        if (status != LoanStatus.Defaulted && status != LoanStatus.WrittenOff) {
            revert LossWaterfallWrongLoanStatus(loanId, status);
        }
        LossCase storage c = _caseOf(loanId);
        (uint256 toInsurer, uint256 toReserve, uint256 toLenders) = _shares(c, amount);
        taken = toInsurer + toReserve + toLenders;
        if (taken == 0) revert LossWaterfallNothingToRecover(loanId);
        // The four parts below are each at most the loss, a uint128.
        c.insurerRecovered += uint128(toInsurer);
        c.reserveRecovered += uint128(toReserve);
        if (c.settled) c.lendersRecovered += uint128(toLenders);
        else c.recoveredBefore += uint128(toLenders);
        bool whole = _remaining(c) == 0;
        emit RecoveryApplied(loanId, msg.sender, taken, toInsurer, toReserve, toLenders);

        _pull(taken);
        if (toInsurer != 0) {
            TOKEN.forceApprove(address(INSURANCE), toInsurer);
            INSURANCE.reimburse(loanId, toInsurer);
        }
        if (toReserve != 0) {
            TOKEN.forceApprove(address(RESERVE), toReserve);
            RESERVE.reimburse(loanId, terms.platform, toReserve);
        }
        if (toLenders != 0) _toLenders(loanId, toLenders);
        if (c.settled)
            LOANS.extendHistory(loanId, HistoryFacts.recoveryApplied(taken, toInsurer, toReserve, toLenders));
        // Made whole, whether written off meanwhile or not: the loan is Recovered and its collateral goes back.
        if (whole) SPLITTER.closeLoss(terms, false);
    }

    /// @inheritdoc ILossWaterfall
    function settle(LoanTerms calldata terms) external nonReentrant {
        LoanId loanId = computeLoanId(terms);
        _requireOpenBook(loanId);
        LoanState memory state = LOANS.loanState(loanId);
        if (state.status != LoanStatus.Defaulted) revert LossWaterfallWrongLoanStatus(loanId, state.status);
        _requirePlatformOrPublic(terms, loanId, state.statusSince);
        LossCase storage c = _caseOf(loanId);
        if (c.settled) revert LossWaterfallAlreadySettled(loanId);
        c.settled = true;

        uint256 netLoss = uint256(c.loss) - c.recoveredBefore;
        uint256 firstMissedDue = uint256(state.activatedAt) + uint256(state.installmentsPaid + 1) * terms.period;
        uint256 claim = INSURANCE.payClaim(loanId, netLoss, firstMissedDue);
        // Seasoning: how long the loan performed (from disbursement to its first missed due date, which no member can
        // move, unlike the declaration of default), and how many installments paid their reserve contribution.
        uint256 compensation = RESERVE.compensate(
            loanId,
            terms.platform,
            netLoss - claim,
            firstMissedDue - state.activatedAt,
            SPLITTER.bookOf(loanId).contributions
        );
        // Claim and compensation are parts of the net loss, itself at most the loss, a uint128.
        c.insurerBore = uint128(claim);
        c.reserveBore = uint128(compensation);
        c.lendersBore = uint128(netLoss - claim - compensation);
        emit LossSettled(loanId, c.loss, c.recoveredBefore, claim, compensation, c.lendersBore);
        if (claim + compensation != 0) _toLenders(loanId, claim + compensation);
        LOANS.extendHistory(
            loanId,
            HistoryFacts.lossSettled(c.loss, c.recoveredBefore, claim, compensation, c.lendersBore)
        );
    }

    /// @inheritdoc ILossWaterfall
    function writeOff(LoanTerms calldata terms) external {
        LoanId loanId = computeLoanId(terms);
        if (!_cases[loanId].settled) revert LossWaterfallNotSettled(loanId);
        _requirePlatformOrPublic(terms, loanId, LOANS.loanState(loanId).statusSince);
        SPLITTER.closeLoss(terms, true);
    }

    /// @inheritdoc ILossWaterfall
    function recoverable(LoanId loanId) external view returns (uint256) {
        LoanStatus status = LOANS.loanState(loanId).status;
        if (status != LoanStatus.Defaulted && status != LoanStatus.WrittenOff) return 0;
        LossCase storage c = _cases[loanId];
        // A case not opened yet has recovered nothing: all of the recorded loss is left.
        return c.loss == 0 ? _recordedLoss(loanId) : _remaining(c);
    }

    /// @inheritdoc ILossWaterfall
    function caseOf(LoanId loanId) external view returns (LossCase memory) {
        return _cases[loanId];
    }

    /// @dev A loss is shared only on a loan the splitter funded whose book still takes money (not closed for good).
    function _requireOpenBook(LoanId loanId) private view {
        FundingPhase phase = SPLITTER.bookOf(loanId).phase;
        if (phase != FundingPhase.Funded) revert LossWaterfallNotFunded(loanId, phase);
    }

    /// @dev The case of a defaulted loan, opened with the registry's recorded loss on first use.
    function _caseOf(LoanId loanId) private returns (LossCase storage c) {
        c = _cases[loanId];
        if (c.loss == 0) c.loss = SafeCast.toUint128(_recordedLoss(loanId));
    }

    /// @dev The loss the registry recorded at default: outstanding principal, interest and late interest due.
    function _recordedLoss(LoanId loanId) private view returns (uint256) {
        Loss memory loss = LOANS.lossOf(loanId);
        return uint256(loss.principal) + loss.interest;
    }

    /// @dev Before settlement a recovery goes to the lenders, up to the loss. After it, pari passu: each party in
    /// proportion to what it bore, never beyond what it has still to recover; the lenders take the rounding.
    function _shares(
        LossCase storage c,
        uint256 amount
    ) private view returns (uint256 toInsurer, uint256 toReserve, uint256 toLenders) {
        uint256 remaining = _remaining(c);
        uint256 taken = amount < remaining ? amount : remaining;
        if (!c.settled || taken == 0) return (0, 0, taken);
        uint256 bore = uint256(c.insurerBore) + c.reserveBore + c.lendersBore;
        uint256 insurerLeft = uint256(c.insurerBore) - c.insurerRecovered;
        uint256 reserveLeft = uint256(c.reserveBore) - c.reserveRecovered;
        uint256 lendersLeft = uint256(c.lendersBore) - c.lendersRecovered;
        toInsurer = _min((taken * c.insurerBore) / bore, insurerLeft);
        toReserve = _min((taken * c.reserveBore) / bore, reserveLeft);
        toLenders = taken - toInsurer - toReserve;
        if (toLenders > lendersLeft) {
            // Rounding pushed the lenders past their part: the excess (a few wei) goes to the others' remainders.
            uint256 excess = toLenders - lendersLeft;
            toLenders = lendersLeft;
            uint256 extra = _min(excess, insurerLeft - toInsurer);
            toInsurer += extra;
            toReserve += excess - extra;
        }
    }

    function _remaining(LossCase storage c) private view returns (uint256) {
        if (!c.settled) return uint256(c.loss) - c.recoveredBefore;
        return
            uint256(c.insurerBore) +
            c.reserveBore +
            c.lendersBore -
            c.insurerRecovered -
            c.reserveRecovered -
            c.lendersRecovered;
    }

    function _requirePlatformOrPublic(LoanTerms calldata terms, LoanId loanId, uint256 since) private view {
        if (LOANS.mayService(terms, msg.sender)) return;
        uint256 publicAt = since + LOANS.alliancePolicy().publicDefaultDelay;
        if (block.timestamp < publicAt) revert LossWaterfallNotYetPublic(loanId, publicAt, block.timestamp);
    }

    function _toLenders(LoanId loanId, uint256 amount) private {
        TOKEN.forceApprove(address(SPLITTER), amount);
        SPLITTER.recover(loanId, amount);
    }

    function _pull(uint256 amount) private {
        TOKEN.pullExact(msg.sender, amount);
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    // ---------------------------------------------------------------- mistaken tokens

    function _sweepAlliance() internal view override returns (IAllianceRegistry) {
        return ALLIANCE;
    }

    function _sweepReserve() internal view override returns (address) {
        return address(RESERVE);
    }

    /// @dev The waterfall passes every token on within the call that brought it: whatever it holds is owed to nobody.
    function _unowed(IERC20 token) internal view override returns (uint256) {
        return token.balanceOf(address(this));
    }
}
