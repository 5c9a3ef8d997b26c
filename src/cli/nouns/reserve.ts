/** `loanledger reserve …`: the alliance's risk reserve fund. */
import { noun } from "../table.js";

export const reserve = noun({
  deposit: {
    args: ["<amount>"],
    summary: "deposits tokens into the risk reserve",
    example: "reserve deposit 100000",
    in: "risk",
  },
  collect: {
    args: ["[platform...]"],
    summary: "collects contributions from the splitter (default: every platform)",
    example: "reserve collect",
    in: "risk",
  },
  policy: {
    flags: {
      "coverage-bps": { value: "N", help: "the share of a loss (after collateral and insurance) it covers, in bps" },
      "cap-per-loan": { value: "<amount>", help: "the most it pays for one loan" },
      "quota-multiple-bps": { value: "N", help: "the most a platform receives, as a multiple of its contributions" },
    },
    summary: "the reserve's policy; governance changes it with the flags",
    example: ["reserve policy", "reserve policy --coverage-bps 5000 --cap-per-loan 20000"],
    in: "risk",
  },
  show: {
    args: ["[platform]"],
    summary: "the fund's balance, or a platform's position in it",
    example: "reserve show 0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    in: "risk",
  },
});
