// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ScheduleMath, ScheduleKind} from "../contracts/libraries/ScheduleMath.sol";

/// @notice Fuzz tests of the schedule math: the properties every schedule kind must keep for any terms the loan
/// registry accepts.
contract ScheduleMathTest {
    error PrincipalNotRepaid(uint256 principal, uint256 repaid);
    error InstallmentNotLevel(uint256 k, uint256 paid, uint256 level);
    error PrincipalBeforeBalloon(uint256 k, uint256 principalPart);
    error InterestIncreased(uint256 k, uint256 interest, uint256 previous);
    error LateInterestBeforeGraceEnd(uint256 lateInterest);
    error LastInstallmentAboveLevel(uint256 lastInstallment, uint256 level);
    error LevelMoreThanOneWeiAboveTheAnnuity(uint256 level, uint256 owedWhenSettled);
    error LevelDecreasedWithThePrincipal(uint256 principal, uint256 level, uint256 levelOfOneWeiMore);

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

    /// @dev The level payment is never short of the exact annuity A, and interest is rounded down, so the balance
    /// left for the last installment never exceeds the exact one and the last installment is at most A <= level.
    function testFuzz_annuityLastInstallmentNeverExceedsTheLevel(
        uint96 principal,
        uint16 rateBps,
        uint16 installments,
        uint32 period
    ) public pure {
        Terms memory t = _terms(principal, rateBps, uint8(ScheduleKind.EqualInstallment), installments, period);
        _requireLastInstallmentWithinLevel(t);
    }

    /// @dev Where 27-decimal compounding was 12.6 million wei short: the largest principal, 1 bps, two daily
    /// installments; and the other corners of the registry's bounds.
    function test_annuityLastInstallmentNeverExceedsTheLevelAtTheBounds() public pure {
        uint256 maxPrincipal = type(uint96).max;
        _requireLastInstallmentWithinLevel(Terms(ScheduleKind.EqualInstallment, maxPrincipal, 1, 2, 1 days));
        _requireLastInstallmentWithinLevel(Terms(ScheduleKind.EqualInstallment, 1e24, 1, 2, 1 days));
        _requireLastInstallmentWithinLevel(Terms(ScheduleKind.EqualInstallment, maxPrincipal, 1, 360, 1 days));
        _requireLastInstallmentWithinLevel(Terms(ScheduleKind.EqualInstallment, maxPrincipal, 10_000, 360, 30 days));
        _requireLastInstallmentWithinLevel(Terms(ScheduleKind.EqualInstallment, maxPrincipal, 10_000, 5, 1830 days));
        _requireLastInstallmentWithinLevel(Terms(ScheduleKind.EqualInstallment, maxPrincipal, 10_000, 1, 1830 days));
    }

    /// @dev The other side of the bound: `level - 2` is below the exact annuity A, so paying it every period while
    /// interest is rounded up (which only raises the balance) must leave a last installment above `level - 2`. If
    /// `level` were two or more wei above A, `level - 2` would be enough and this fails.
    function testFuzz_annuityLevelIsLessThanTwoWeiAboveTheAnnuity(
        uint96 principal,
        uint16 rateBps,
        uint16 installments,
        uint32 period
    ) public pure {
        Terms memory t = _terms(principal, rateBps, uint8(ScheduleKind.EqualInstallment), installments, period);
        uint256 level = ScheduleMath.levelPayment(t.principal, t.rateBps, t.installments, t.period);
        if (level < 2) return;
        uint256 payment = level - 2;
        uint256 owed = t.principal + _interestUp(t.principal, t);
        for (uint256 k = 1; k < t.installments; ++k) {
            // Paying `payment` settled the loan early: it was not short, so `level` is two or more wei above A.
            if (owed <= payment) revert LevelMoreThanOneWeiAboveTheAnnuity(level, owed);
            uint256 balance = owed - payment;
            owed = balance + _interestUp(balance, t);
        }
        if (owed <= payment) revert LevelMoreThanOneWeiAboveTheAnnuity(level, owed);
    }

    function testFuzz_levelPaymentNeverDecreasesWithThePrincipal(
        uint96 principal,
        uint16 rateBps,
        uint16 installments,
        uint32 period
    ) public pure {
        Terms memory t = _terms(principal, rateBps, uint8(ScheduleKind.EqualInstallment), installments, period);
        uint256 level = ScheduleMath.levelPayment(t.principal, t.rateBps, t.installments, t.period);
        uint256 levelOfOneWeiMore = ScheduleMath.levelPayment(t.principal + 1, t.rateBps, t.installments, t.period);
        if (levelOfOneWeiMore < level) revert LevelDecreasedWithThePrincipal(t.principal, level, levelOfOneWeiMore);
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

    function _requireLastInstallmentWithinLevel(Terms memory t) private pure {
        uint256 level = ScheduleMath.levelPayment(t.principal, t.rateBps, t.installments, t.period);
        (uint256[] memory principalParts, uint256[] memory interestParts) = ScheduleMath.schedule(
            t.kind,
            t.principal,
            t.rateBps,
            t.installments,
            t.period
        );
        uint256 last = principalParts[t.installments - 1] + interestParts[t.installments - 1];
        if (last > level) revert LastInstallmentAboveLevel(last, level);
    }

    function _interestUp(uint256 balance, Terms memory t) private pure returns (uint256) {
        return Math.mulDiv(balance, t.rateBps * t.period, ScheduleMath.BPS * ScheduleMath.YEAR, Math.Rounding.Ceil);
    }
}
