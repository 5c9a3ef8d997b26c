// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ScheduleMath, ScheduleKind} from "../libraries/ScheduleMath.sol";

/// @notice Exposes {ScheduleMath} to the TypeScript tests that compare it with the client's mirror. Never deployed.
contract ScheduleMathHarness {
    function levelPayment(
        uint256 principal,
        uint256 annualRateBps,
        uint256 installments,
        uint256 period
    ) external pure returns (uint256) {
        return ScheduleMath.levelPayment(principal, annualRateBps, installments, period);
    }

    function schedule(
        ScheduleKind kind,
        uint256 principal,
        uint256 annualRateBps,
        uint256 installments,
        uint256 period
    ) external pure returns (uint256[] memory principalParts, uint256[] memory interestParts) {
        return ScheduleMath.schedule(kind, principal, annualRateBps, installments, period);
    }

    function lateInterest(
        uint256 overdueAmount,
        uint256 lateFeeBps,
        uint256 dueDate,
        uint256 gracePeriod,
        uint256 nowTime
    ) external pure returns (uint256) {
        return ScheduleMath.lateInterest(overdueAmount, lateFeeBps, dueDate, gracePeriod, nowTime);
    }
}
