/**
 * Loan ids as people copy them from a table: a unique beginning ("0x3f2a9c"), or the short form tables print
 * ("0x3f2a…9c01"), stands for the one loan id it matches. Full ids pass through untouched.
 */
import { formatLoanId, InputError } from "../client/index.js";
import type { CliContext } from "./context.js";
import type { Row } from "./table.js";

/** "0x" and 1 to 63 hex digits, or a beginning and an end joined by "…" or "...". */
const SHORT = /^(0x[0-9a-fA-F]{1,63})(?:(?:…|\.\.\.)([0-9a-fA-F]{1,60}))?$/;

/**
 * The places of the command's `<loan id>` arguments among its words (2 is the first word after "loan show"), the last
 * one repeating when the row says so (`<loan id...>`).
 */
function loanIdPlaces(row: Row): { at: number; repeats: boolean; orAddress: boolean }[] {
  return (row.args ?? []).flatMap((arg, i) =>
    /^[<[]loan id( or [a-z ]*address)?(\.\.\.)?[>\]]$/.test(arg)
      ? [{ at: 2 + i, repeats: arg.includes("..."), orAddress: arg.includes(" or ") }]
      : [],
  );
}

/** Whether `word` is a loan id shortened as tables print it (a full id is not). */
export function isShortLoanId(word: string): boolean {
  return SHORT.test(word) && !/^0x[0-9a-fA-F]{64}$/.test(word);
}

/** The places among `words` that hold a shortened loan id. */
export function shortLoanIdPlaces(row: Row, words: readonly string[]): number[] {
  const places: number[] = [];
  for (const { at, repeats, orAddress } of loanIdPlaces(row)) {
    for (let i = at; i < (repeats ? words.length : at + 1); i += 1) {
      const word = words[i];
      // `insurance show` takes a loan id or an address: an address is not a loan id's beginning.
      const anAddress = orAddress && /^0x[0-9a-fA-F]{40}$/.test(word ?? "");
      if (word !== undefined && isShortLoanId(word) && !anAddress) places.push(i);
    }
  }
  return places;
}

/**
 * `words` with each shortened loan id at `places` replaced by the one anchored loan id it matches. A beginning that
 * matches several loans, or none, is refused with what to give instead.
 */
export async function expandLoanIds(words: readonly string[], places: readonly number[], ctx: CliContext) {
  const ids = (await ctx.loans.anchoredLoans()).map((loan) => formatLoanId(loan.loanId));
  const expanded = [...words];
  for (const at of places) {
    const [, start, end = ""] = SHORT.exec(words[at])!;
    const head = start.toLowerCase();
    const tail = end.toLowerCase();
    const matches = ids.filter(
      (id) => id.startsWith(head) && id.endsWith(tail) && id.length >= head.length + tail.length,
    );
    if (matches.length === 0) throw new InputError(`no anchored loan id matches ${words[at]}`);
    if (matches.length > 1)
      throw new InputError(`${words[at]} matches ${matches.length} loan ids: give more of its digits`);
    expanded[at] = matches[0];
  }
  return expanded;
}
