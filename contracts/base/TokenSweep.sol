// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAllianceRegistry} from "../interfaces/IAllianceRegistry.sol";
import {ITokenSweep} from "../interfaces/ITokenSweep.sol";

/// @title TokenSweep
/// @notice See {ITokenSweep}. A contract of the suite says which alliance and reserve it answers to, and what it holds of
/// a token that it owes to nobody.
abstract contract TokenSweep is ITokenSweep, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @inheritdoc ITokenSweep
    function sweepMistakenTokens(IERC20 token) external nonReentrant returns (uint256 amount) {
        if (!_sweepAlliance().isGovernance(msg.sender)) revert TokenSweepNotGovernance(msg.sender);
        amount = _unowed(token);
        if (amount == 0) revert TokenSweepNothingToSweep(token);
        address reserve = _sweepReserve();
        emit MistakenTokensSwept(token, reserve, msg.sender, amount);
        token.safeTransfer(reserve, amount);
    }

    function _sweepAlliance() internal view virtual returns (IAllianceRegistry);

    function _sweepReserve() internal view virtual returns (address);

    /// @dev What this contract holds of `token` and owes to nobody.
    function _unowed(IERC20 token) internal view virtual returns (uint256);
}
