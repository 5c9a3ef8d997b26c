import { ContractError, toLoanLedgerError } from "../client/index.js";
import { money } from "./output.js";

/**
 * Why `thrown` failed, in one line. The token amounts a contract error carries are written in the token's units, as
 * the rest of the CLI writes amounts (the error's `args`, which --json prints, keep them exact); without the token (the
 * chain was never reached) they stay exact integers.
 */
export function reason(thrown: unknown, token?: { decimals: number; symbol: string }): string {
  const error = toLoanLedgerError(thrown);
  const text = error instanceof ContractError && token ? error.describe((value) => money(token, value)) : error.message;
  return text.split("\n")[0];
}
