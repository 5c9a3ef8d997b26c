/** `loanledger fees …`: the platform fees the splitter keeps for their payees. */
import { noun } from "../table.js";

export const fees = noun({
  show: {
    args: ["[address]"],
    summary: "the fees a payee may withdraw (default: the account the CLI acts as)",
    example: "fees show",
    in: "funding",
  },
  withdraw: {
    flags: { to: { value: "<address>", help: "where the fees go (default: the payee)" } },
    summary: "withdraws the fees owed to the account the CLI acts as",
    example: "fees withdraw --to 0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    in: "funding",
  },
});
