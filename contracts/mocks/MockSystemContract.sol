// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";

/// @title MockSystemContract: a stand-in for a system contract of the suite, for tests only
/// @notice System powers go to contracts only, so tests that exercise a power directly hold it through this contract
/// and act through {execute}, which re-raises the target's own error.
contract MockSystemContract {
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        bool ok;
        // solhint-disable-next-line avoid-low-level-calls
        (ok, result) = target.call(data);
        if (!ok) LowLevelCall.bubbleRevert(result);
    }
}
