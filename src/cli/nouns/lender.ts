/** `loanledger lender …`: the lender allowlist, and what a lender is owed. */
import { noun } from "../table.js";

const LENDER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";

export const lender = noun({
  allow: {
    args: ["<address>"],
    flags: {
      "kyc-expiry": {
        value: "<date | unix seconds | +365d>",
        required: true,
        help: "when the lender's KYC expires (an ISO date, unix seconds, or from now)",
      },
    },
    summary: "a platform vouches for a lender it checked, until its KYC expires",
    example: `lender allow ${LENDER} --kyc-expiry +365d`,
    in: "registry",
  },
  revoke: {
    args: ["<address>"],
    summary: "takes a lender off the allowlist",
    example: `lender revoke ${LENDER}`,
    in: "registry",
  },
  show: {
    args: ["<address>"],
    summary: "whether a lender is allowed, until when, and who vouches for it",
    example: `lender show ${LENDER}`,
    in: "registry",
  },
  payouts: {
    args: ["[address]"],
    summary: "what each loan owes a lender now (default: the account the CLI acts as)",
    example: `lender payouts ${LENDER}`,
    in: "funding",
  },
});
