/** `loanledger borrower …`: a borrower's record across the alliance, by its reference. */
import { noun } from "../table.js";

const nationalId = {
  "national-id": { value: "<id>", help: "the borrower's national id, hashed here under the alliance key" },
} as const;

export const borrower = noun({
  exposure: {
    args: ["[borrower reference]"],
    flags: nationalId,
    summary: "a borrower's open loans and credit events across every platform: give a reference, or --national-id",
    example: "borrower exposure --national-id 11010519491231002X",
    in: "risk",
  },
  events: {
    args: ["[borrower reference]"],
    flags: nationalId,
    summary: "a borrower's credit events (late, cured, defaulted, written off): a reference, or --national-id",
    example: "borrower events --national-id 11010519491231002X",
    in: "risk",
  },
});
