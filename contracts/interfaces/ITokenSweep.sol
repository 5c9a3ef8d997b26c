// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Tokens sent to a contract of the suite by mistake
/// @notice Every contract that holds money can give back what it holds and owes to nobody: any token other than the
/// settlement token, and, where the contract knows what it owes, the settlement token beyond that. It goes to the
/// alliance's risk reserve, on governance's call, and never to a member: no one can profit from another's mistake.
interface ITokenSweep {
    /// @notice `amount` of `token`, held here and owed to nobody, went to the risk reserve `reserve`.
    event MistakenTokensSwept(IERC20 indexed token, address indexed reserve, address indexed by, uint256 amount);

    /// @notice `caller` is not alliance governance.
    error TokenSweepNotGovernance(address caller);
    /// @notice Nothing of `token` held here is owed to nobody.
    error TokenSweepNothingToSweep(IERC20 token);

    /// @notice Sends what this contract holds of `token` and owes to nobody to the risk reserve. Governance only.
    function sweepMistakenTokens(IERC20 token) external returns (uint256 amount);
}
