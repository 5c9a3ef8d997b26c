/**
 * The TypeScript mirror of contracts/libraries/ScheduleMath.sol: the same integer operations in the same order, so
 * every number agrees with the contract to the wei. Rounding rules are stated there.
 */
import { ScheduleKind, type LoanTerms } from "./types.js";

export const BPS = 10_000n;
export const YEAR = 365n * 86_400n;
export const DAY = 86_400n;
export const Q128 = 1n << 128n;

function mulDiv(a: bigint, b: bigint, c: bigint): bigint {
  return (a * b) / c;
}

function mulDivUp(a: bigint, b: bigint, c: bigint): bigint {
  const product = a * b;
  return product === 0n ? 0n : (product - 1n) / c + 1n;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function periodInterest(balance: bigint, annualRateBps: number, period: number): bigint {
  return mulDiv(balance, BigInt(annualRateBps) * BigInt(period), BPS * YEAR);
}

/** ScheduleMath._mulShr128: floor(x * y / 2^128), refused from 2^192 on. */
function mulShr128(x: bigint, y: bigint): bigint {
  const result = (x * y) >> 128n;
  if (result >> 192n !== 0n) throw new RangeError("levelPayment: growth sum out of range");
  return result;
}

function log2(n: bigint): bigint {
  return BigInt(n.toString(2).length - 1);
}

/** ScheduleMath._growthSumDown: the sum of (1+i)^k for k < n in Q128, every step rounded down. */
function growthSumDown(rateNumerator: bigint, n: bigint): bigint {
  let sum = Q128;
  for (let bit = (1n << log2(n)) >> 1n; bit !== 0n; bit >>= 1n) {
    sum = mulShr128(sum, 2n * Q128 + (sum * rateNumerator) / (BPS * YEAR));
    if ((n & bit) !== 0n) sum += Q128 + (sum * rateNumerator) / (BPS * YEAR);
  }
  return sum;
}

/**
 * The annuity's level payment: the exact annuity rounded up to the wei, or one wei more when the exact value is an
 * integer or lies within 4e-10 wei below one (ScheduleMath.levelPayment states why).
 */
export function levelPayment(principal: bigint, annualRateBps: number, installments: number, period: number): bigint {
  if (annualRateBps === 0) return mulDivUp(principal, 1n, BigInt(installments));
  if (installments === 0) throw new RangeError("levelPayment: no installments");
  const rateNumerator = BigInt(annualRateBps) * BigInt(period);
  if (rateNumerator >> 48n !== 0n) throw new RangeError("levelPayment: rate times period out of range");
  const growthSum = growthSumDown(rateNumerator, BigInt(installments));
  return mulDivUp(principal, rateNumerator * growthSum + BPS * YEAR * Q128, BPS * YEAR * growthSum);
}

export interface InstallmentParts {
  principal: bigint;
  interest: bigint;
}

export function installment(
  kind: ScheduleKind,
  principal: bigint,
  annualRateBps: number,
  installments: number,
  period: number,
  k: number,
  balance: bigint,
  level: bigint,
): InstallmentParts {
  const interest = periodInterest(balance, annualRateBps, period);
  if (k >= installments) return { principal: balance, interest };
  if (kind === ScheduleKind.EqualInstallment) {
    return { principal: level > interest ? min(level - interest, balance) : 0n, interest };
  }
  if (kind === ScheduleKind.EqualPrincipal) {
    return { principal: min(principal / BigInt(installments), balance), interest };
  }
  return { principal: 0n, interest };
}

export interface ScheduledInstallment extends InstallmentParts {
  /** 1-based installment number. */
  k: number;
  /** Seconds after activation when the installment is due. */
  dueAfter: number;
  total: bigint;
  balanceAfter: bigint;
}

type ScheduleTerms = Pick<LoanTerms, "scheduleKind" | "principal" | "annualRateBps" | "installments" | "period">;

/** The full original schedule of `terms`. */
export function schedule(terms: ScheduleTerms): ScheduledInstallment[] {
  const { scheduleKind, principal, annualRateBps, installments, period } = terms;
  const level =
    scheduleKind === ScheduleKind.EqualInstallment ? levelPayment(principal, annualRateBps, installments, period) : 0n;
  const rows: ScheduledInstallment[] = [];
  let balance = principal;
  for (let k = 1; k <= installments; k++) {
    const parts = installment(scheduleKind, principal, annualRateBps, installments, period, k, balance, level);
    balance -= parts.principal;
    rows.push({ k, dueAfter: k * period, ...parts, total: parts.principal + parts.interest, balanceAfter: balance });
  }
  return rows;
}

export function lateInterest(
  overdueAmount: bigint,
  lateFeeBps: number,
  dueDate: number,
  gracePeriod: number,
  now: number,
): bigint {
  if (now <= dueDate + gracePeriod) return 0n;
  const daysLate = mulDivUp(BigInt(now - dueDate), 1n, DAY);
  return mulDiv(overdueAmount, BigInt(lateFeeBps) * daysLate, BPS * 365n);
}
