// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Panic} from "@openzeppelin/contracts/utils/Panic.sol";

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
/// - the annuity's level payment is never short: it is the exact rational annuity rounded up to the wei, or at most
///   one wei more (see {levelPayment} for the bound and why it holds), so the last installment never exceeds it;
/// - each installment's principal part is capped at the remaining balance, and the last installment repays exactly
///   the remaining balance, so the principal parts of a schedule always sum to the principal;
/// - late interest counts every started day since the due date once the grace period has passed, rounded down.
library ScheduleMath {
    /// @dev Basis points in one whole.
    uint256 internal constant BPS = 10_000;
    /// @dev Interest is quoted per 365-day year (actual/365 fixed), the convention of Chinese consumer lending.
    uint256 internal constant YEAR = 365 days;
    /// @dev Binary fixed point for compounding, 128 fraction bits: enough that the level payment's error stays below
    /// 4 * 10^-10 wei for every principal below 2^96 (see {levelPayment}).
    uint256 internal constant Q128 = 1 << 128;

    /// @notice Interest of one period on `balance`, rounded down.
    function periodInterest(uint256 balance, uint256 annualRateBps, uint256 period) internal pure returns (uint256) {
        return Math.mulDiv(balance, annualRateBps * period, BPS * YEAR);
    }

    /// @notice The annuity's level payment, never short: with the periodic rate `i = annualRateBps * period /
    /// (10_000 * 365 days)` taken exactly and `A = principal * i * (1+i)^n / ((1+i)^n - 1)` the exact annuity, the
    /// result is `ceil(A)`, or `ceil(A) + 1` when `A` is an integer or lies less than 4 * 10^-10 wei below one
    /// (principal below 2^96). Without interest it is `ceil(principal / n)`, exactly.
    /// @dev Why it holds. `A = principal * i + principal / s` with `s = ((1+i)^n - 1) / i`, the sum of `(1+i)^k` for
    /// `k < n`: a sum of positive terms, computed without any subtraction, so no leading digits cancel (forming
    /// `(1+i)^n - 1` in 27-decimal fixed point left the payment 12.6 million wei short at principal 2^96 - 1, 1 bps and
    /// two daily installments). `principal * i` is taken exactly. {_growthSumDown} rounds every step down, so its
    /// `s' <= s` and `U = principal * i + principal / s' >= A` for every principal: never short. Its relative error is
    /// below `1.5 * n * 2^-128` (a doubling step at most doubles the error and adds one rounding, an increment adds
    /// half of one), and `s >= n`, so `U - A < 1.6 * principal * 2^-128`, under 4 * 10^-10 wei below 2^96 and under
    /// one wei for every principal below 2^127. The result is `ceil(U)` in one exact division.
    /// `test/client/schedule.test.ts` checks all this against the exact rational.
    /// @dev Warning: panics on a rate times period of 2^48 or more (beyond any uint16 rate and uint32 period) and on a
    /// growth sum of 2^64 or more (far beyond the registry's bounds, where `s < 2^52`).
    function levelPayment(
        uint256 principal,
        uint256 annualRateBps,
        uint256 installments,
        uint256 period
    ) internal pure returns (uint256) {
        if (annualRateBps == 0) return Math.ceilDiv(principal, installments);
        // Like the interest-free case: no installments, no level payment.
        if (installments == 0) Panic.panic(Panic.DIVISION_BY_ZERO);
        uint256 rateNumerator = annualRateBps * period;
        if (rateNumerator >> 48 != 0) Panic.panic(Panic.UNDER_OVERFLOW);
        uint256 growthSum = _growthSumDown(rateNumerator, installments);
        // ceil(principal * (i * s' + 1) / s'). Cannot overflow: rateNumerator < 2^48, growthSum < 2^203 (see
        // {_growthSumDown}) and BPS * YEAR < 2^39.
        unchecked {
            return
                Math.mulDiv(
                    principal,
                    rateNumerator * growthSum + BPS * YEAR * Q128,
                    BPS * YEAR * growthSum,
                    Math.Rounding.Ceil
                );
        }
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

    /// @dev `s_n`, the sum of `(1+i)^k` for `k < n`, in Q128 with `i = rateNumerator / (BPS * YEAR)` and every step
    /// rounded down, so the result is a lower bound. Reads `n`'s bits from the top, starting from `s_1 = 1` and using
    /// `(1+i)^k = 1 + i * s_k`: doubling `k` is `s_2k = s_k * (1 + (1+i)^k) = s_k * (2 + i * s_k)`, adding one is
    /// `s_k+1 = s_k + (1+i)^k = 1 + s_k + i * s_k`. Only one full-width product per bit, and no subtraction.
    function _growthSumDown(uint256 rateNumerator, uint256 n) private pure returns (uint256 sum) {
        sum = Q128;
        // Cannot overflow, with rateNumerator < 2^48: a doubling leaves sum < 2^192 (or panics in _mulShr128), so
        // sum * rateNumerator < 2^240 and an increment leaves sum < 2^192 + 2^128 + 2^202 < 2^203, whose next product
        // with rateNumerator is below 2^251.
        unchecked {
            for (uint256 bit = (1 << Math.log2(n)) >> 1; bit != 0; bit >>= 1) {
                sum = _mulShr128(sum, 2 * Q128 + (sum * rateNumerator) / (BPS * YEAR));
                if (n & bit != 0) sum += Q128 + (sum * rateNumerator) / (BPS * YEAR);
            }
        }
    }

    /// @dev `floor(x * y / 2^128)` from the full 512-bit product. Panics when the result reaches 2^192, the bound
    /// {_growthSumDown} relies on.
    function _mulShr128(uint256 x, uint256 y) private pure returns (uint256) {
        (uint256 high, uint256 low) = Math.mul512(x, y);
        if (high >> 64 != 0) Panic.panic(Panic.UNDER_OVERFLOW);
        return (high << 128) | (low >> 128);
    }
}
