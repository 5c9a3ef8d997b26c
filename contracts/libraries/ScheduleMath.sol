// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice How a loan's principal is repaid.
enum ScheduleKind {
    /// Annuity (等额本息): every installment but the last pays the same amount, interest first.
    EqualInstallment,
    /// Equal principal (等额本金): every installment but the last repays `principal / installments`, plus interest.
    EqualPrincipal,
    /// Interest-only with a balloon (先息后本): interest every period, all principal with the last installment.
    InterestOnly,
    /// Bullet (到期还本付息): a single installment at maturity pays all principal and interest.
    Bullet
}

/// @title ScheduleMath: repayment schedules and late interest, to the wei
/// @notice Pure math shared by the loan registry and mirrored line by line in the TypeScript client
/// (`src/client/schedule.ts`), which must return identical numbers.
/// @dev Rounding rules, all in the borrower's favour except where the last installment settles the balance:
/// - interest of a period is `floor(balance * annualRateBps * period / (10_000 * 365 days))`;
/// - the annuity's level payment is rounded up, so installments before the last are never short;
/// - each installment's principal part is capped at the remaining balance, and the last installment repays exactly
///   the remaining balance, so the principal parts of a schedule always sum to the principal;
/// - late interest counts every started day since the due date once the grace period has passed, rounded down.
library ScheduleMath {
    /// @dev Basis points in one whole.
    uint256 internal constant BPS = 10_000;
    /// @dev Interest is quoted per 365-day year (actual/365 fixed), the convention of Chinese consumer lending.
    uint256 internal constant YEAR = 365 days;
    /// @dev Fixed-point unit for compounding: 27 decimals keep the annuity factor exact to well below one wei per
    /// installment for every principal below 2^96.
    uint256 internal constant RAY = 1e27;

    /// @notice Interest of one period on `balance`, rounded down.
    function periodInterest(uint256 balance, uint256 annualRateBps, uint256 period) internal pure returns (uint256) {
        return Math.mulDiv(balance, annualRateBps * period, BPS * YEAR);
    }

    /// @notice The annuity's level payment: `principal * i * (1+i)^n / ((1+i)^n - 1)` with the periodic rate `i`
    /// rounded down to a ray, rounded up to the wei. Without interest it is `ceil(principal / n)`.
    function levelPayment(
        uint256 principal,
        uint256 annualRateBps,
        uint256 installments,
        uint256 period
    ) internal pure returns (uint256) {
        uint256 rateRay = Math.mulDiv(annualRateBps * period, RAY, BPS * YEAR);
        if (rateRay == 0) return Math.ceilDiv(principal, installments);
        uint256 growth = _rayPow(RAY + rateRay, installments);
        return Math.mulDiv(principal, Math.mulDiv(rateRay, growth, RAY), growth - RAY, Math.Rounding.Ceil);
    }

    /// @notice The principal and interest parts of installment `k` (1-based) when `balance` is still outstanding.
    /// @dev `level` is {levelPayment} for EqualInstallment loans (ignored otherwise), passed in so that a full schedule
    /// computes it once. From the last installment on, the whole balance is due.
    function installment(
        ScheduleKind kind,
        uint256 principal,
        uint256 annualRateBps,
        uint256 installments,
        uint256 period,
        uint256 k,
        uint256 balance,
        uint256 level
    ) internal pure returns (uint256 principalPart, uint256 interestPart) {
        interestPart = periodInterest(balance, annualRateBps, period);
        if (k >= installments) return (balance, interestPart);
        if (kind == ScheduleKind.EqualInstallment) {
            principalPart = level > interestPart ? Math.min(level - interestPart, balance) : 0;
        } else if (kind == ScheduleKind.EqualPrincipal) {
            principalPart = Math.min(principal / installments, balance);
        }
        // InterestOnly and Bullet repay no principal before the last installment.
    }

    /// @notice The full original schedule: principal and interest of every installment.
    function schedule(
        ScheduleKind kind,
        uint256 principal,
        uint256 annualRateBps,
        uint256 installments,
        uint256 period
    ) internal pure returns (uint256[] memory principalParts, uint256[] memory interestParts) {
        principalParts = new uint256[](installments);
        interestParts = new uint256[](installments);
        uint256 level =
            kind == ScheduleKind.EqualInstallment ? levelPayment(principal, annualRateBps, installments, period) : 0;
        uint256 balance = principal;
        for (uint256 k = 1; k <= installments; ++k) {
            (uint256 p, uint256 i) = installment(
                kind,
                principal,
                annualRateBps,
                installments,
                period,
                k,
                balance,
                level
            );
            principalParts[k - 1] = p;
            interestParts[k - 1] = i;
            // Cannot underflow: installment() caps the principal part at the balance.
            unchecked {
                balance -= p;
            }
        }
    }

    /// @notice Late interest on `overdueAmount` due at `dueDate`, at `lateFeeBps` a year, at time `nowTime`.
    /// @dev Nothing is charged while the grace period runs; once it has passed, every started day since the due date
    /// counts.
    function lateInterest(
        uint256 overdueAmount,
        uint256 lateFeeBps,
        uint256 dueDate,
        uint256 gracePeriod,
        uint256 nowTime
    ) internal pure returns (uint256) {
        if (nowTime <= dueDate + gracePeriod) return 0;
        uint256 daysLate = Math.ceilDiv(nowTime - dueDate, 1 days);
        return Math.mulDiv(overdueAmount, lateFeeBps * daysLate, BPS * 365);
    }

    /// @dev `base^exponent` in rays by binary exponentiation, each product rounded down.
    function _rayPow(uint256 base, uint256 exponent) private pure returns (uint256 result) {
        result = RAY;
        while (true) {
            if (exponent & 1 == 1) result = Math.mulDiv(result, base, RAY);
            exponent >>= 1;
            if (exponent == 0) break;
            base = Math.mulDiv(base, base, RAY);
        }
    }
}
