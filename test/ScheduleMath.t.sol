// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ScheduleMath, ScheduleKind} from "../contracts/libraries/ScheduleMath.sol";

/// @notice Fuzz tests of the schedule math: the properties every schedule kind must keep for any terms the loan
/// registry accepts.
contract ScheduleMathTest {
    error PrincipalNotRepaid(uint256 principal, uint256 repaid);
    error InstallmentNotLevel(uint256 k, uint256 paid, uint256 level);
    error PrincipalBeforeBalloon(uint256 k, uint256 principalPart);
    error InterestIncreased(uint256 k, uint256 interest, uint256 previous);
    error LateInterestBeforeGraceEnd(uint256 lateInterest);

    struct Terms {
        ScheduleKind kind;
        uint256 principal;
        uint256 rateBps;
        uint256 installments;
        uint256 period;
    }

    /// @dev Maps raw fuzz input onto the bounds that LoanRegistry enforces.
    function _terms(
        uint96 principal,
        uint16 rateBps,
        uint8 kind,
        uint16 installments,
        uint32 period
    ) private pure returns (Terms memory t) {
        t.kind = ScheduleKind(kind % 4);
        t.principal = uint256(principal) + 1;
        t.rateBps = rateBps % 10_001;
        t.installments = t.kind == ScheduleKind.Bullet ? 1 : (uint256(installments) % 360) + 1;
        uint256 maxPeriod = (30 * 365 days) / t.installments;
        if (maxPeriod > 1830 days) maxPeriod = 1830 days;
        t.period = 1 days + (uint256(period) % (maxPeriod - 1 days + 1));
    }

    function testFuzz_principalPartsSumToThePrincipal(
        uint96 principal,
        uint16 rateBps,
        uint8 kind,
        uint16 installments,
        uint32 period
    ) public pure {
        Terms memory t = _terms(principal, rateBps, kind, installments, period);
        (uint256[] memory principalParts, ) = ScheduleMath.schedule(
            t.kind,
            t.principal,
            t.rateBps,
            t.installments,
            t.period
        );
        uint256 repaid;
        for (uint256 k; k < principalParts.length; ++k) {
            repaid += principalParts[k];
        }
        if (repaid != t.principal) revert PrincipalNotRepaid(t.principal, repaid);
    }

    function testFuzz_annuityInstallmentsBeforeTheLastAreLevel(
        uint96 principal,
        uint16 rateBps,
        uint16 installments,
        uint32 period
    ) public pure {
        Terms memory t = _terms(principal, rateBps, uint8(ScheduleKind.EqualInstallment), installments, period);
        uint256 level = ScheduleMath.levelPayment(t.principal, t.rateBps, t.installments, t.period);
        (uint256[] memory principalParts, uint256[] memory interestParts) = ScheduleMath.schedule(
            t.kind,
            t.principal,
            t.rateBps,
            t.installments,
            t.period
        );
        uint256 balance = t.principal;
        for (uint256 k; k + 1 < principalParts.length; ++k) {
            uint256 paid = principalParts[k] + interestParts[k];
            // Only a schedule whose balance ran out early (tiny principals, rounded-up level) pays less than level.
            if (paid != level && principalParts[k] != balance) revert InstallmentNotLevel(k + 1, paid, level);
            balance -= principalParts[k];
        }
    }

    function testFuzz_interestOnlyAndBulletRepayPrincipalOnlyAtTheEnd(
        uint96 principal,
        uint16 rateBps,
        bool bullet,
        uint16 installments,
        uint32 period
    ) public pure {
        uint8 kind = bullet ? uint8(ScheduleKind.Bullet) : uint8(ScheduleKind.InterestOnly);
        Terms memory t = _terms(principal, rateBps, kind, installments, period);
        (uint256[] memory principalParts, ) = ScheduleMath.schedule(
            t.kind,
            t.principal,
            t.rateBps,
            t.installments,
            t.period
        );
        for (uint256 k; k + 1 < principalParts.length; ++k) {
            if (principalParts[k] != 0) revert PrincipalBeforeBalloon(k + 1, principalParts[k]);
        }
        if (principalParts[principalParts.length - 1] != t.principal) {
            revert PrincipalNotRepaid(t.principal, principalParts[principalParts.length - 1]);
        }
    }

    function testFuzz_equalPrincipalInterestNeverIncreases(
        uint96 principal,
        uint16 rateBps,
        uint16 installments,
        uint32 period
    ) public pure {
        Terms memory t = _terms(principal, rateBps, uint8(ScheduleKind.EqualPrincipal), installments, period);
        (, uint256[] memory interestParts) = ScheduleMath.schedule(
            t.kind,
            t.principal,
            t.rateBps,
            t.installments,
            t.period
        );
        for (uint256 k = 1; k < interestParts.length; ++k) {
            if (interestParts[k] > interestParts[k - 1])
                revert InterestIncreased(k + 1, interestParts[k], interestParts[k - 1]);
        }
    }

    function testFuzz_noLateInterestWithinTheGracePeriod(
        uint96 amount,
        uint16 lateFeeBps,
        uint32 dueDate,
        uint32 grace,
        uint32 elapsed
    ) public pure {
        uint256 g = grace % (30 days + 1);
        uint256 nowTime = uint256(dueDate) + (elapsed % (g + 1));
        uint256 late = ScheduleMath.lateInterest(amount, lateFeeBps, dueDate, g, nowTime);
        if (late != 0) revert LateInterestBeforeGraceEnd(late);
    }
}
