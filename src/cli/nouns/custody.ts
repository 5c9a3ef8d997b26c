/** `loanledger custody …`: the custody bank's statements against the ledger. */
import { noun } from "../table.js";

export const custody = noun({
  reconcile: {
    args: ["<statement>"],
    flags: {
      account: {
        value: "<id>",
        help: "the custody account (IBAN or the bank's id) the statement must be of (default: LOANLEDGER_CUSTODY_ACCOUNT)",
      },
      bank: {
        value: "<address>",
        help: "the custody bank whose statement it is (checked: the bank that declared the account on the ledger)",
      },
      out: {
        value: "<dir>",
        help: "where the reports and the register of reconciled periods go (default: this folder)",
      },
    },
    summary:
      "matches a bank statement (camt.053 XML or the CSV layout) to the token's issues and redemptions and its closing " +
      "balance to the supply; writes custody-reconciliation-<statement>.json and .md; exits 1 on any break",
    example: [
      "custody reconcile statement-2027-06.xml --out reports/custody",
      "custody reconcile june.csv --account CN01",
    ],
    in: "custody",
  },
});
