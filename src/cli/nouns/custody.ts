/** `loanledger custody …`: the custody bank's statements against the ledger. */
import { noun } from "../table.js";

export const custody = noun({
  "declare-account": {
    args: ["<custody account id>"],
    summary:
      "a custody bank declares the account (IBAN or its own id, as its statements write it) it keeps the ledger's " +
      "money in; statements of it are reconciled against this bank's book",
    example: "custody declare-account CN1234567890123456789",
    in: "custody",
  },
  register: {
    args: ["<ledger account>"],
    flags: {
      "account-ref": {
        value: "<text>",
        required: true,
        help: "the bank's own reference of the customer's bank account (hashed; never the account number itself)",
      },
    },
    summary: "a custody bank registers a ledger account against a customer's bank account, so it may hold deposits",
    example: "custody register 0x90F79bf6EB2c4f870365E785982E1f101E93b906 --account-ref CUST-000417",
    in: "custody",
  },
  close: {
    args: ["<ledger account>"],
    summary: "ends a ledger account's registration (its bank, or governance)",
    example: "custody close 0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    in: "custody",
  },
  issue: {
    args: ["<ledger account>", "<amount>"],
    flags: {
      "end-to-end-id": {
        value: "<id>",
        required: true,
        help: "the ISO 20022 end-to-end id (or UETR) of the payment credited to the custody account",
      },
    },
    summary: "a custody bank issues tokens to a registered account against a credit on its custody account",
    example: "custody issue 0x90F79bf6EB2c4f870365E785982E1f101E93b906 5000 --end-to-end-id E2E-2027-000123",
    in: "custody",
  },
  withdraw: {
    args: ["<amount>"],
    summary:
      "asks for tokens to be paid to your registered bank account: they wait in escrow until your bank redeems " +
      "(or returns) them",
    example: "custody withdraw 1200",
    in: "custody",
  },
  redeem: {
    args: ["<withdrawal id>"],
    flags: {
      "end-to-end-id": {
        value: "<id>",
        required: true,
        help: "the end-to-end id (or UETR) of the payment to the holder: redeem before releasing it",
      },
    },
    summary: "a custody bank burns a withdrawal's tokens against its payment to the holder's registered account",
    example: "custody redeem 7 --end-to-end-id E2E-OUT-2027-000045",
    in: "custody",
  },
  return: {
    args: ["<withdrawal id>"],
    flags: { reason: { value: "<text>", required: true, help: "why the bank could not pay (hashed on chain)" } },
    summary: "a custody bank gives a withdrawal back to its holder",
    example: 'custody return 7 --reason "account closed"',
    in: "custody",
  },
  reclaim: {
    args: ["<withdrawal id>"],
    summary: "takes back your withdrawal that your bank neither redeemed nor returned within the redemption window",
    example: "custody reclaim 7",
    in: "custody",
  },
  show: {
    args: ["[ledger account | withdrawal id]"],
    summary: "the token's supply and each custody bank's book; or an account's registration; or a withdrawal",
    example: ["custody show", "custody show 0x90F79bf6EB2c4f870365E785982E1f101E93b906", "custody show 7"],
    in: "custody",
  },
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
