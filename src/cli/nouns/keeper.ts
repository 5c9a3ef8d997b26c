/** `loanledger keeper …`: jobs anyone may run on a schedule. */
import { noun } from "../table.js";

export const keeper = noun({
  payouts: {
    flags: {
      "from-block": { value: "N", help: "look for repayments from this block (default: the deployment's)" },
      watch: { value: "<seconds>", help: "keep running, looking again every so many seconds" },
    },
    summary: "pushes the payouts of every repayment that has not reached its lenders yet",
    example: "keeper payouts --watch 60",
    in: "funding",
  },
  overdue: {
    flags: {
      platform: { value: "<address>", help: "only this platform's loans (default: every platform's)" },
      "dry-run": { help: "say what would be marked, and send nothing" },
    },
    summary: "marks overdue loans late, and defaulted past their threshold (anyone, after the public delay)",
    example: "keeper overdue --dry-run",
    in: "book",
  },
});
