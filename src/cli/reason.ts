import { ContractError, toLoanLedgerError } from "../client/index.js";
import { money } from "./output.js";
import { isoTime } from "./dates.js";

/**
 * Why `thrown` failed, in one line. The token amounts a contract error carries are written in the token's units, as
 * the rest of the CLI writes amounts, and its times in the alliance's time zone (the error's `args`, which --json
 * prints, keep them exact); without the context (the chain was never reached) they stay exact integers and UTC times.
 */
export function reason(thrown: unknown, ctx?: { decimals: number; symbol: string; timeZone: string }): string {
  const error = toLoanLedgerError(thrown);
  const text =
    error instanceof ContractError && ctx
      ? error.describe(
          (value) => money(ctx, value),
          (seconds) => isoTime(Number(seconds), ctx.timeZone),
        )
      : error.message;
  return text.split("\n")[0];
}
