// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {LoanId} from "./ILoanRegistry.sol";

/// @notice How the reserve compensates a loss, set by governance.
struct ReservePolicy {
    /// @dev Share of the loss left after collateral and insurance that the reserve covers.
    uint16 coverageBps;
    /// @dev Most the reserve pays on one loan.
    uint128 capPerLoan;
    /// @dev A platform's loans may hold at most `contributed × quotaMultipleBps / 10 000` of unreimbursed compensation.
    uint32 quotaMultipleBps;
}

/// @notice A platform's account with the reserve.
struct PlatformPosition {
    uint128 contributed;
    uint128 compensated;
    uint128 reimbursed;
}

/// @title The alliance's risk reserve fund
/// @notice Contributions arrive through the repayment waterfall (collected from the splitter per originating platform)
/// and by direct deposit from platforms. When a loan defaults, the loss waterfall asks for compensation of the loss left
/// after collateral and insurance: `coverage × that loss`, at most the per-loan cap, the platform's remaining quota and
/// the fund's balance, paid to the lenders. Later recoveries reimburse the fund, up to what it paid.
interface IRiskReserveFund {
    event ContributionsCollected(address indexed platform, uint256 amount);
    /// @notice The splitter's rounding remainders of closed loans reached the fund: no platform's contribution.
    event RemaindersCollected(uint256 amount);
    event Deposited(address indexed platform, uint256 amount);
    event Compensated(LoanId indexed loanId, address indexed platform, uint256 netLoss, uint256 paid);
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

    /// @notice Pays the compensation for `netLoss` on `platform`'s loan to the loss waterfall (the caller).
    function compensate(LoanId loanId, address platform, uint256 netLoss) external returns (uint256 paid);

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
