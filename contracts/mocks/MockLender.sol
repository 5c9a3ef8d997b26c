// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ITokenHook} from "./MockToken.sol";

/// @title MockLender: a lender that is a contract, for tests only
/// @notice It acts through {execute}. When a hook token pays it, it accepts, reverts, or re-enters `reentryTarget`
/// with `reentryCall` (swallowing the failure, or letting it revert the transfer).
contract MockLender is ITokenHook {
    enum OnReceive {
        Accept,
        Revert,
        ReenterAndBubble,
        ReenterAndSwallow
    }

    error MockLenderRefuses();

    OnReceive public onReceive;
    address public reentryTarget;
    bytes public reentryCall;
    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;

    function execute(address target, bytes calldata data) external returns (bytes memory) {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }

    function setOnReceive(OnReceive behaviour, address target, bytes calldata data) external {
        onReceive = behaviour;
        reentryTarget = target;
        reentryCall = data;
    }

    function onTokenTransfer(address, uint256) external {
        if (onReceive == OnReceive.Accept) return;
        if (onReceive == OnReceive.Revert) revert MockLenderRefuses();
        reentryAttempts += 1;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory result) = reentryTarget.call(reentryCall);
        if (ok) {
            reentrySuccesses += 1;
        } else if (onReceive == OnReceive.ReenterAndBubble) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
