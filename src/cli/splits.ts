/** How a repayment's split and a payout read on the command line (the repayment and keeper commands share them). */
import { shortLoanId, type PayoutResult, type Split } from "../client/index.js";
import { table } from "./output.js";

export function splitTable(split: Split, fmt: (v: bigint) => string): string {
  return table(
    ["part", "amount"],
    [
      ["late interest", fmt(split.lateInterest)],
      ["platform fee", fmt(split.platformFee)],
      ["insurance premium", fmt(split.premium)],
      ["reserve contribution", fmt(split.reserve)],
      ["interest", fmt(split.interest)],
      ["principal", fmt(split.principal)],
      ["prepayment", fmt(split.prepayment)],
    ],
    { right: [1] },
  );
}

export function payoutLine(r: PayoutResult, fmt: (v: bigint) => string): string {
  const skipped = r.skipped.length ? `; skipped (payout kept claimable): ${r.skipped.join(", ")}` : "";
  return `loan ${shortLoanId(r.loanId)}: paid ${fmt(r.paid)} to lenders${skipped}`;
}
