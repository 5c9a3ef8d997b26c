/** `loanledger member …`: the alliance's members (governance). */
import { ROLE_NAMES } from "../../client/types.js";
import { noun } from "../table.js";

const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

export const member = noun({
  add: {
    args: ["<address>"],
    flags: {
      roles: {
        value: ROLE_NAMES.map((r) => r.toLowerCase()).join(","),
        required: true,
        help: "the roles the member takes, comma-separated",
      },
      metadata: { value: "<hash or text>", help: "a 32-byte hash, or text that is hashed (never personal data)" },
    },
    summary: "governance admits a member with its roles",
    example: `member add ${ACCOUNT} --roles platform --metadata "Platform A Ltd"`,
    in: "registry",
  },
  suspend: {
    args: ["<address>"],
    summary: "governance suspends a member: it keeps its loans but originates none",
    example: `member suspend ${ACCOUNT}`,
    in: "registry",
  },
  reinstate: {
    args: ["<address>"],
    summary: "governance reinstates a suspended member",
    example: `member reinstate ${ACCOUNT}`,
    in: "registry",
  },
  expel: {
    args: ["<address>"],
    summary: "governance expels a member for good",
    example: `member expel ${ACCOUNT}`,
    in: "registry",
  },
  list: {
    summary: "every member, its roles and status",
    example: "member list --json",
    in: "registry",
  },
  successor: {
    args: ["<platform>", "<successor>"],
    summary: "governance: names who takes over a suspended or expelled platform's loans",
    example: `member successor ${ACCOUNT} 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC`,
    in: "registry",
  },
});
