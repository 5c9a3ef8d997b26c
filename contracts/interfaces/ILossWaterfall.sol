// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LoanId, LoanStatus, LoanTerms} from "./ILoanRegistry.sol";
import {FundingPhase} from "./IRepaymentSplitter.sol";

/// @notice A defaulted loan's loss and who bore and recovered what.
struct LossCase {
    /// @dev The loss the registry recorded at default: outstanding principal, interest and late interest due.
    uint128 loss;
    /// @dev Recovered before settlement (collateral proceeds, late payments): it went to the lenders and shrank the loss.
    uint128 recoveredBefore;
    uint128 insurerBore;
    uint128 reserveBore;
    uint128 lendersBore;
    uint128 insurerRecovered;
    uint128 reserveRecovered;
    uint128 lendersRecovered;
    bool settled;
}

/// @title The loss waterfall of defaulted loans funded through the splitter
/// @notice When a loan defaults, its loss is covered in a fixed order: collateral disposal proceeds (and anything else
/// recovered before settlement) go to the lenders and shrink the loss; settlement then takes the insurance claim,
/// `coverage × what is left`, and the reserve's compensation, `coverage × what is left after that` within its caps; the
/// lenders bear the rest. After settlement every recovery (late payments, later disposals) is shared pari passu: the
/// insurer, the reserve and the lenders each receive in proportion to the part of the loss each bore, and nobody beyond
/// what it bore; money beyond the whole loss is not taken. A loan whose loss is recovered in full is marked Recovered,
/// also when it was written off before: its collateral then goes back as for a defaulted loan made whole.
///
/// Settlement is for the loan's servicer (its platform or successor, never an expelled member), and for anyone once the
/// alliance's public-default delay has passed since the default, so that a failed platform cannot stall it. The
/// waterfall closes losses in the registry through the splitter, the loan's funding delegate. Settlement extends the loan's history as an External fact of
/// this contract (LossSettled), and so does each recovery after it (RecoveryApplied): {ILoanRegistry} gives their
/// encodings, tagged by their {FactKind}.
interface ILossWaterfall {
    event RecoveryApplied(
        LoanId indexed loanId,
        address indexed payer,
        uint256 amount,
        uint256 toInsurer,
        uint256 toReserve,
        uint256 toLenders
    );
    event LossSettled(
        LoanId indexed loanId,
        uint256 loss,
        uint256 recoveredBefore,
        uint256 insurerBore,
        uint256 reserveBore,
        uint256 lendersBore
    );

    error LossWaterfallNotFunded(LoanId loanId, FundingPhase phase);
    /// @notice The loan is `status` in the registry, where this cannot be done.
    error LossWaterfallWrongLoanStatus(LoanId loanId, LoanStatus status);
    error LossWaterfallAlreadySettled(LoanId loanId);
    error LossWaterfallNotSettled(LoanId loanId);
    /// @notice Before `publicAt` only the loan's servicer (its platform or successor) may do this; it is `nowTime`.
    error LossWaterfallNotYetPublic(LoanId loanId, uint256 publicAt, uint256 nowTime);
    /// @notice Nothing of the loss is left to recover.
    error LossWaterfallNothingToRecover(LoanId loanId);

    /// @notice Pays up to `amount` (approved beforehand) recovered on a Defaulted or WrittenOff loan; returns what it
    /// took. A performing loan has no loss to recover: money for it is a repayment through the splitter.
    function recover(LoanTerms calldata terms, uint256 amount) external returns (uint256 taken);

    /// @notice Settles a Defaulted loan's loss: the insurance claim, then the reserve's compensation, to the lenders.
    function settle(LoanTerms calldata terms) external;

    /// @notice Writes off a settled loan in the registry (its platform, or anyone after the public delay).
    function writeOff(LoanTerms calldata terms) external;

    /// @notice What a recovery on the loan can still take now: the rest of its loss when it is in default (nothing
    /// otherwise), so that a disposal passes any excess on to the next lien and the owner.
    function recoverable(LoanId loanId) external view returns (uint256);

    function caseOf(LoanId loanId) external view returns (LossCase memory);
}
