// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Exact incoming transfers of the settlement token
/// @notice Every contract of the suite that takes tokens measures what arrived, so that a token that delivers less
/// than it was told (a fee-on-transfer token) is rejected instead of leaving the books short.
library ExactTransfer {
    using SafeERC20 for IERC20;

    /// @notice `token` delivered `received` where `expected` was sent (fee-on-transfer tokens are not supported).
    error ExactTransferShortfall(address token, uint256 expected, uint256 received);

    /// @dev Takes `amount` of `token` from `from` and checks that exactly that much arrived.
    function pullExact(IERC20 token, address from, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert ExactTransferShortfall(address(token), amount, received);
    }
}
