// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LoanId} from "./ILoanRegistry.sol";

/// @notice How the reserve compensates a loss, set by governance.
/// @dev One slot: coverageBps (16) | capPerLoan (128) | quotaMultipleBps (32) | minLoanAge (32) | minInstallmentsPaid
/// (16).
struct ReservePolicy {
    /// @dev Share of the loss left after collateral and insurance that the reserve covers.
    uint16 coverageBps;
    /// @dev Most the reserve pays on one loan.
    uint128 capPerLoan;
    /// @dev A platform's loans may hold at most `contributed × quotaMultipleBps / 10 000 + deposited` of unreimbursed
    /// compensation: contributions its borrowers actually paid are multiplied, direct deposits count once.
    uint32 quotaMultipleBps;
    /// @dev Seconds between disbursement and the first missed due date below which a loan is not compensated (it did not
    /// perform long enough to be seasoned).
    uint32 minLoanAge;
    /// @dev Installments a loan must have repaid with their risk-reserve contribution before it defaulted to be
    /// compensated: a loan that paid nothing into the fund takes nothing out of it.
    uint16 minInstallmentsPaid;
}

/// @notice A platform's account with the reserve.
/// @dev Two slots: contributed (128) | compensated (128); reimbursed (128) | deposited (128).
struct PlatformPosition {
    /// @dev Risk-reserve contributions its borrowers paid through the repayment waterfall.
    uint128 contributed;
    uint128 compensated;
    uint128 reimbursed;
    /// @dev What the platform deposited directly.
    uint128 deposited;
}

/// @title The alliance's risk reserve fund
/// @notice Contributions arrive through the repayment waterfall (collected from the splitter per originating platform)
/// and by direct deposit from platforms. When a loan defaults, the loss waterfall asks for compensation of the loss left
/// after collateral and insurance: `coverage × that loss`, at most the per-loan cap, the platform's remaining quota and
/// the fund's balance, paid to the lenders. Later recoveries reimburse the fund, up to what it paid.
///
/// The fund is the other platforms' money too, so it compensates only seasoned loans (performing for at least
/// `minLoanAge` from disbursement to the first missed due date, a time its platform cannot stretch by declaring the
/// default late, with at least `minInstallmentsPaid` installments repaid with their reserve contribution), and a
/// platform's quota grows from the
/// contributions its borrowers actually paid (times the quota multiple) while its direct deposits count once: a
/// platform that lends to itself on a fresh loan and defaults it takes nothing out of the others' money.
interface IRiskReserveFund {
    event ContributionsCollected(address indexed platform, uint256 amount);
    /// @notice The splitter's rounding remainders of closed loans reached the fund: no platform's contribution.
    event RemaindersCollected(uint256 amount);
    event Deposited(address indexed platform, uint256 amount);
    event Compensated(LoanId indexed loanId, address indexed platform, uint256 netLoss, uint256 paid);
    /// @notice The loan was not seasoned (it performed `loanAge` seconds from disbursement to its first missed due date,
    /// and `installmentsPaid` installments paid their reserve contribution): the reserve paid nothing.
    event CompensationDeclined(
        LoanId indexed loanId,
        address indexed platform,
        uint256 loanAge,
        uint256 installmentsPaid
    );
    event ReserveReimbursed(LoanId indexed loanId, address indexed platform, uint256 amount);
    event ReservePolicySet(ReservePolicy policy);
    event WaterfallSet(address waterfall);

    error RiskReserveFundNotPlatform(address caller);
    error RiskReserveFundNotGovernance(address caller);
    error RiskReserveFundNotWaterfall(address caller);
    error RiskReserveFundZeroAmount();
    /// @notice Coverage and the quota multiple are basis points: coverage at most 10 000.
    error RiskReserveFundInvalidPolicy(uint256 coverageBps);

    /// @notice Collects the contributions accrued in the splitter on each of `platforms`' loans, and the splitter's
    /// rounding remainders (which count toward no platform's quota). Anyone may call it.
    function collect(address[] calldata platforms) external;

    /// @notice Deposits `amount` (approved beforehand) to the caller's position. Active platform members only.
    function deposit(uint256 amount) external;

    /// @notice Pays the compensation for `netLoss` on `platform`'s loan to the loss waterfall (the caller): nothing for
    /// a loan that performed `loanAge` seconds (disbursement to first missed due date) with `installmentsPaid`
    /// installments that paid their reserve contribution, when that is below the policy's seasoning.
    function compensate(
        LoanId loanId,
        address platform,
        uint256 netLoss,
        uint256 loanAge,
        uint256 installmentsPaid
    ) external returns (uint256 paid);

    /// @notice Takes `amount` recovered on the loan back into the fund. Waterfall only.
    function reimburse(LoanId loanId, address platform, uint256 amount) external;

    function setPolicy(ReservePolicy calldata policy) external;

    /// @notice Names the loss waterfall, once. Governance only.
    function setWaterfall(address waterfall) external;

    function policy() external view returns (ReservePolicy memory);

    function positionOf(address platform) external view returns (PlatformPosition memory);

    /// @notice Unreimbursed compensation `platform`'s loans may still receive.
    function quotaRemaining(address platform) external view returns (uint256);

    function balance() external view returns (uint256);
}
