// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAllianceRegistry, ROLE_PLATFORM} from "./interfaces/IAllianceRegistry.sol";
import {LoanId} from "./interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter} from "./interfaces/IRepaymentSplitter.sol";
import {IRiskReserveFund, ReservePolicy, PlatformPosition} from "./interfaces/IRiskReserveFund.sol";
import {ExactTransfer} from "./libraries/ExactTransfer.sol";

/// @title RiskReserveFund
/// @notice See {IRiskReserveFund}.
contract RiskReserveFund is IRiskReserveFund, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using ExactTransfer for IERC20;

    uint256 private constant BPS = 10_000;

    IAllianceRegistry public immutable ALLIANCE;
    IRepaymentSplitter public immutable SPLITTER;
    IERC20 public immutable TOKEN;
    address public waterfall;

    ReservePolicy private _policy;
    mapping(address platform => PlatformPosition) private _positions;

    constructor(IAllianceRegistry alliance, IRepaymentSplitter splitter, ReservePolicy memory policy_) {
        ALLIANCE = alliance;
        SPLITTER = splitter;
        TOKEN = splitter.TOKEN();
        _setPolicy(policy_);
    }

    modifier onlyGovernance() {
        if (!ALLIANCE.isGovernance(msg.sender)) revert RiskReserveFundNotGovernance(msg.sender);
        _;
    }

    modifier onlyWaterfall() {
        if (msg.sender != waterfall) revert RiskReserveFundNotWaterfall(msg.sender);
        _;
    }

    /// @inheritdoc IRiskReserveFund
    function collect(address[] calldata platforms) external nonReentrant {
        (uint256[] memory amounts, uint256 remainders) = SPLITTER.withdrawReserve(platforms);
        if (remainders != 0) emit RemaindersCollected(remainders);
        for (uint256 i; i < platforms.length; ++i) {
            if (amounts[i] == 0) continue;
            _positions[platforms[i]].contributed += SafeCast.toUint128(amounts[i]);
            emit ContributionsCollected(platforms[i], amounts[i]);
        }
    }

    /// @inheritdoc IRiskReserveFund
    function deposit(uint256 amount) external nonReentrant {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_PLATFORM)) revert RiskReserveFundNotPlatform(msg.sender);
        if (amount == 0) revert RiskReserveFundZeroAmount();
        // A deposit counts once toward the platform's quota, never multiplied like its borrowers' contributions.
        _positions[msg.sender].deposited += SafeCast.toUint128(amount);
        emit Deposited(msg.sender, amount);
        TOKEN.pullExact(msg.sender, amount);
    }

    /// @inheritdoc IRiskReserveFund
    function compensate(
        LoanId loanId,
        address platform,
        uint256 netLoss,
        uint256 loanAge,
        uint256 installmentsPaid
    ) external onlyWaterfall nonReentrant returns (uint256 paid) {
        if (loanAge < _policy.minLoanAge || installmentsPaid < _policy.minInstallmentsPaid) {
            emit CompensationDeclined(loanId, platform, loanAge, installmentsPaid);
            return 0;
        }
        paid = (netLoss * _policy.coverageBps) / BPS;
        if (paid > _policy.capPerLoan) paid = _policy.capPerLoan;
        uint256 quota = quotaRemaining(platform);
        if (paid > quota) paid = quota;
        uint256 available = TOKEN.balanceOf(address(this));
        if (paid > available) paid = available;
        _positions[platform].compensated += SafeCast.toUint128(paid);
        emit Compensated(loanId, platform, netLoss, paid);
        if (paid != 0) TOKEN.safeTransfer(msg.sender, paid);
    }

    /// @inheritdoc IRiskReserveFund
    function reimburse(LoanId loanId, address platform, uint256 amount) external onlyWaterfall nonReentrant {
        _positions[platform].reimbursed += SafeCast.toUint128(amount);
        emit ReserveReimbursed(loanId, platform, amount);
        TOKEN.pullExact(msg.sender, amount);
    }

    /// @inheritdoc IRiskReserveFund
    function setPolicy(ReservePolicy calldata policy_) external onlyGovernance {
        _setPolicy(policy_);
    }

    /// @inheritdoc IRiskReserveFund
    function setWaterfall(address waterfall_) external onlyGovernance {
        if (waterfall != address(0)) revert RiskReserveFundNotGovernance(msg.sender);
        waterfall = waterfall_;
        emit WaterfallSet(waterfall_);
    }

    /// @inheritdoc IRiskReserveFund
    function policy() external view returns (ReservePolicy memory) {
        return _policy;
    }

    /// @inheritdoc IRiskReserveFund
    function positionOf(address platform) external view returns (PlatformPosition memory) {
        return _positions[platform];
    }

    /// @inheritdoc IRiskReserveFund
    function quotaRemaining(address platform) public view returns (uint256) {
        PlatformPosition storage position = _positions[platform];
        uint256 quota = (uint256(position.contributed) * _policy.quotaMultipleBps) / BPS + position.deposited;
        uint256 outstanding = uint256(position.compensated) - position.reimbursed;
        return quota > outstanding ? quota - outstanding : 0;
    }

    /// @inheritdoc IRiskReserveFund
    function balance() external view returns (uint256) {
        return TOKEN.balanceOf(address(this));
    }

    function _setPolicy(ReservePolicy memory policy_) private {
        if (policy_.coverageBps > BPS) revert RiskReserveFundInvalidPolicy(policy_.coverageBps);
        _policy = policy_;
        emit ReservePolicySet(policy_);
    }
}
