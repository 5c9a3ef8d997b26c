/** A terms file read again must not anchor its loans again. */
import { formatLoanId, InputError, type Address, type LoanTerms } from "../client/index.js";
import { actingAs, latestTime } from "./args.js";
import type { CliContext } from "./context.js";
import { readTermsFile } from "./terms-file.js";

/** The loans of terms file `file` for the acting platform to anchor: read, checked, and none anchored already. */
export async function termsToAnchor(ctx: CliContext, file: string): Promise<{ platform: Address; terms: LoanTerms[] }> {
  const platform = await actingAs(ctx);
  const terms = await readTermsFile(file, {
    platform,
    now: await latestTime(ctx),
    decimals: ctx.decimals,
    allianceKeyHex: ctx.allianceKeyHex,
  });
  await refuseAnchoredAgain(ctx, platform, terms, file);
  return { platform, terms };
}

/**
 * Refuses terms whose platform reference `platform` has anchored already, before anything is sent. A terms file with a
 * relative deadline ("+7d") makes new loan ids each time it is read, so running it again would anchor the same loans a
 * second time (and double the borrowers' exposure); `loan import` skips what is anchored instead.
 */
export async function refuseAnchoredAgain(
  ctx: CliContext,
  platform: Address,
  terms: readonly LoanTerms[],
  file: string,
): Promise<void> {
  const onChain = await ctx.loans.anchoredByReference(platform);
  const again = terms.flatMap((t, i) => {
    const anchored = onChain.get(t.platformRef)?.[0];
    return anchored ? [{ i, anchored }] : [];
  });
  if (again.length === 0) return;
  const [{ i, anchored }] = again;
  const more = again.length > 1 ? ` (and ${again.length - 1} more of its loans)` : "";
  throw new InputError(
    `loan ${i + 1} of ${file}${more} has a platformRef this platform anchored already, as loan ` +
      `${formatLoanId(anchored.loanId)}: anchoring it again would make a second loan; ` +
      `\`loan import ${file}\` anchors only what is not anchored yet`,
  );
}
