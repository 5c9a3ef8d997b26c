/**
 * The TypeScript mirror of contracts/libraries/ScheduleMath.sol: the same integer operations in the same order, so
 * every number agrees with the contract to the wei. Rounding rules are stated there.
 */
import { ScheduleKind, type LoanTerms } from "./types.js";

export const BPS = 10_000n;
export const YEAR = 365n * 86_400n;
export const DAY = 86_400n;
export const RAY = 10n ** 27n;

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

function rayPow(base: bigint, exponent: bigint): bigint {
  let result = RAY;
  for (;;) {
    if ((exponent & 1n) === 1n) result = mulDiv(result, base, RAY);
    exponent >>= 1n;
    if (exponent === 0n) return result;
    base = mulDiv(base, base, RAY);
  }
}

export function levelPayment(principal: bigint, annualRateBps: number, installments: number, period: number): bigint {
  const rateRay = mulDiv(BigInt(annualRateBps) * BigInt(period), RAY, BPS * YEAR);
  if (rateRay === 0n) return mulDivUp(principal, 1n, BigInt(installments));
  const growth = rayPow(RAY + rateRay, BigInt(installments));
  return mulDivUp(principal, mulDiv(rateRay, growth, RAY), growth - RAY);
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
