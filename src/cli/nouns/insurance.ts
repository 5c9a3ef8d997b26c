/** `loanledger insurance …`: credit insurance written by insurer members. */
import { noun } from "../table.js";

const ID = "0x3f2a…9c01";

export const insurance = noun({
  capital: {
    args: ["<amount>"],
    flags: {
      withdraw: { help: "withdraw free capital instead of depositing" },
      to: { value: "<address>", help: "where withdrawn capital goes (default: the insurer)" },
    },
    summary: "an insurer deposits (or withdraws) the capital that backs its policies",
    example: ["insurance capital 500000", "insurance capital 1000 --withdraw"],
    in: "risk",
  },
  write: {
    args: ["<loan id>"],
    flags: {
      "coverage-bps": { value: "N", required: true, help: "the share of the loss covered, in bps" },
      "term-end": { value: "<time>", required: true, help: "when the cover ends (a date, unix seconds or +365d)" },
    },
    summary: "the insurer the loan names writes its policy",
    example: `insurance write ${ID} --coverage-bps 8000 --term-end +365d`,
    in: "risk",
  },
  release: {
    args: ["<loan id>"],
    summary: "releases the capital of a policy whose loan no longer needs it",
    example: `insurance release ${ID}`,
    in: "risk",
  },
  show: {
    args: ["<loan id or insurer address>"],
    summary: "a loan's policy, or an insurer's capital",
    example: `insurance show ${ID}`,
    in: "risk",
  },
});
