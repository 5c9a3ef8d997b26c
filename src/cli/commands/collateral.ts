/** Collateral: registration, consent, liens, seizure and disposal. */
import { isHexString } from "ethers";
import {
  InputError,
  LoanLedgerError,
  shortLoanId,
  toAddress,
  toLoanId,
  formatLoanId,
  ASSET_STATUS_NAMES,
  assetKey,
  formatAssetId,
  LIEN_STATUS_NAMES,
  LienStatus,
  LoanStatus,
  parseAllianceKey,
  toAssetId,
  toHash32,
  type AssetClass,
  type SaleInfo,
  type AssetId,
} from "../../client/index.js";
import { type CliContext } from "../context.js";
import { table, money } from "../output.js";
import { isoTime } from "../dates.js";
import { documentHash, parseAmount, parseTime, textHash } from "../terms-file.js";
import { arg, address, loanIdArg, wholeNumber, latestTime, required } from "../args.js";
import { ASSET_CLASS_WORDS, collateral } from "../nouns/collateral.js";
import { plan, planEach, type Plan } from "../table.js";

export function assetClassArg(value: string | undefined): AssetClass {
  const index = ASSET_CLASS_WORDS.indexOf((value ?? "").toLowerCase());
  if (index < 0) throw new InputError(`--class must be one of ${ASSET_CLASS_WORDS.join(", ")}`);
  return index as AssetClass;
}

export function assetIdArg(value: string): AssetId {
  try {
    return toAssetId(value);
  } catch {
    throw new InputError(`not an asset id: ${value}`);
  }
}

/** The asset id from `<asset id>`, or from --class and --official-id hashed under the alliance key. */
export function assetFrom(
  p: { words: readonly string[]; officialId?: string; class?: string },
  ctx: CliContext,
): AssetId {
  if (p.words[2] !== undefined) return assetIdArg(p.words[2]);
  if (!p.officialId) throw new InputError("give an <asset id> or --class and --official-id");
  return assetKey(assetClassArg(p.class), p.officialId, parseAllianceKey(ctx.allianceKeyHex));
}

/** Collateral: registration, consent, liens, seizure and disposal. */
export const plans: Record<string, Plan> = {
  "collateral register": plan(collateral.register, (p, print) => {
    const assetClass = assetClassArg(p.class);
    const officialId = p.officialId;
    const owner = address(p.owner);
    const valueText = p.value;
    const appraisal = p.appraisal;
    return async (_p, ctx, io) => {
      const assetId = assetKey(assetClass, officialId, parseAllianceKey(ctx.allianceKeyHex));
      const receipt = await ctx.collateral.register(
        assetId,
        owner,
        assetClass,
        parseAmount(valueText, ctx.decimals, "--value"),
        await documentHash(appraisal),
      );
      print(
        io,
        { assetId: formatAssetId(assetId), tx: receipt.hash },
        `registered ${ASSET_CLASS_WORDS[assetClass]} ${formatAssetId(assetId)} for ${owner}`,
      );
    };
  }),
  "collateral show": plan(collateral.show, (p, print) => {
    return async (_p, ctx, io) => {
      const assetId = assetFrom(p, ctx);
      const [asset, liens] = await Promise.all([ctx.collateral.asset(assetId), ctx.collateral.liens(assetId)]);
      const fmt = (v: bigint) => money(ctx, v);
      const rows: [string, string][] = [
        ["asset", formatAssetId(assetId)],
        ["class", ASSET_CLASS_WORDS[asset.assetClass]],
        ["status", ASSET_STATUS_NAMES[asset.status]],
        ["held by", asset.holder ?? "nobody (disposed)"],
        ["transferable", asset.locked ? "no: locked while it carries a lien or is seized" : asset.holder ? "yes" : "-"],
        ["appraisal value", fmt(asset.appraisalValue)],
        ["appraisal document", asset.appraisalDocHash],
        ["first-priority liens secure", fmt(asset.firstPrioritySecured)],
      ];
      const lienRows = liens.map((l) => [
        shortLoanId(l.loanId),
        l.priority,
        fmt(l.securedAmount),
        LIEN_STATUS_NAMES[l.status],
      ]);
      print(
        io,
        { ...asset, assetId: formatAssetId(assetId), liens },
        `${table(["field", "value"], rows)}\n${lienRows.length ? table(["loan", "priority", "secured", "lien"], lienRows) : "no liens"}`,
      );
    };
  }),
  ...planEach(["collateral consent", "collateral pledge"], collateral.pledge, (p, print) => {
    const action = p.words[1];
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const loanId = loanIdArg(arg(p.words, 3, "loan id"));
    const securedText = p.secured;
    const priority = wholeNumber(p.priority, "--priority", 1, 255);
    const consent = p.consent;
    if (consent !== undefined && !isHexString(consent, 65))
      throw new InputError("--consent must be a 65-byte signature");
    return async (_p, ctx, io) => {
      const now = await latestTime(ctx);
      const request = { assetId, loanId, securedAmount: parseAmount(securedText, ctx.decimals, "--secured"), priority };
      if (action === "consent") {
        const signed = await ctx.collateral.consent(request, parseTime(p.deadline ?? "+7d", "--deadline", now));
        print(
          io,
          signed,
          `consent signature ${signed.signature}\nvalid until ${isoTime(signed.deadline, ctx.timeZone)}`,
        );
        return;
      }
      const deadline = consent ? parseTime(required(p.deadline, "--deadline"), "--deadline", now) : 0;
      const receipt = await ctx.collateral.pledge(request, consent ? { signature: consent, deadline } : undefined);
      print(
        io,
        { assetId: formatAssetId(assetId), loanId: formatLoanId(loanId), tx: receipt.hash },
        `pledged ${formatAssetId(assetId).slice(0, 10)}… to loan ${shortLoanId(loanId)} at priority ${priority}`,
      );
    };
  }),
  "collateral release": plan(collateral.release, (p, print) => {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const loanText = p.words[3];
    const only = loanText === undefined ? undefined : loanIdArg(loanText);
    return async (_p, ctx, io) => {
      const targets = only ? [only] : [];
      if (!only) {
        const liens = await ctx.collateral.liens(assetId);
        for (const lien of liens.filter((l) => l.status === LienStatus.Active)) {
          const status = (await ctx.loans.state(lien.loanId)).status;
          if (status === LoanStatus.Repaid || status === LoanStatus.Cancelled) targets.push(lien.loanId);
        }
        if (targets.length === 0)
          throw new LoanLedgerError("no lien on this asset belongs to a repaid or cancelled loan");
      }
      const hashes = [];
      for (const loanId of targets) hashes.push((await ctx.collateral.release(assetId, loanId)).hash);
      print(
        io,
        { assetId: formatAssetId(assetId), released: targets.map(formatLoanId), txs: hashes },
        targets.map((l) => `released the lien of loan ${shortLoanId(l)}`).join("\n"),
      );
    };
  }),
  "collateral seize": plan(collateral.seize, (p, print) => {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const loanId = loanIdArg(arg(p.words, 3, "loan id"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.collateral.seize(assetId, loanId);
      print(
        io,
        { assetId: formatAssetId(assetId), tx: receipt.hash },
        `seized ${formatAssetId(assetId).slice(0, 10)}… for loan ${shortLoanId(loanId)}`,
      );
    };
  }),
  "collateral sell": plan(collateral.sell, (p, print) => {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const proceedsText = p.proceeds;
    const buyerRef = textHash(p.buyer);
    const document = p.document;
    const buyer = p.to ? address(p.to) : undefined;
    return async (_p, ctx, io) => {
      const price = parseAmount(proceedsText, ctx.decimals, "--proceeds");
      const receipt = await ctx.collateral.proposeSale(assetId, {
        price,
        buyerRef,
        saleDocHash: await documentHash(document),
        buyer,
      });
      const sale = (await ctx.collateral.sale(assetId))!;
      print(
        io,
        { assetId: formatAssetId(assetId), ...saleJson(sale), tx: receipt.hash },
        `proposed to sell ${formatAssetId(assetId).slice(0, 10)}… for ${money(ctx, price)}; it may complete from ` +
          `${isoTime(sale.completesAt, ctx.timeZone)} (proposal ${sale.proposalHash})`,
      );
    };
  }),
  "collateral sale": plan(collateral.sale, (p, print) => {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    return async (_p, ctx, io) => {
      const sale = await ctx.collateral.sale(assetId);
      if (!sale) throw new LoanLedgerError(`no sale of asset ${formatAssetId(assetId).slice(0, 10)}… is proposed`);
      const fmt = (v: bigint) => money(ctx, v);
      print(
        io,
        { assetId: formatAssetId(assetId), ...saleJson(sale) },
        [
          `price:        ${fmt(sale.price)}`,
          `buyer:        ${sale.buyer ?? "off the ledger (the token is burnt)"} (reference ${sale.buyerRef})`,
          `sale document ${sale.saleDocHash}`,
          `proposed by   ${sale.proposer} at ${isoTime(sale.proposedAt, ctx.timeZone)}`,
          `completes     from ${isoTime(sale.completesAt, ctx.timeZone)}`,
          `confirmed:    ${sale.confirmer ? `by custodian ${sale.confirmer}` : "no"}`,
          `proposal:     ${sale.proposalHash}`,
        ].join("\n"),
      );
    };
  }),
  "collateral confirm-sale": plan(collateral["confirm-sale"], (p, print) => {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const proposal = p.proposal;
    if (!isHexString(proposal, 32)) throw new InputError("--proposal must be the 32-byte hash `collateral sale` shows");
    return async (_p, ctx, io) => {
      const receipt = await ctx.collateral.confirmSale(assetId, toHash32(proposal));
      print(
        io,
        { assetId: formatAssetId(assetId), proposal, tx: receipt.hash },
        `confirmed the sale of ${formatAssetId(assetId).slice(0, 10)}…`,
      );
    };
  }),
  "collateral dispose": plan(collateral.dispose, (p, print) => {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.collateral.dispose(assetId);
      const events = receipt.logs
        .filter((log) => log.address === ctx.collateral.address)
        .map((log) => ctx.collateral.contract.interface.parseLog(log))
        .filter((e) => e?.name === "DisposalAllocated" || e?.name === "CollateralDisposed");
      const fmt = (v: bigint) => money(ctx, v);
      const disposed = events.find((e) => e?.name === "CollateralDisposed")!;
      const lines = events.map((e) =>
        e!.name === "DisposalAllocated"
          ? `  loan ${shortLoanId(toLoanId(e!.args.loanId as bigint))}: ${fmt(e!.args.amount as bigint)} to ${e!.args.recipient}`
          : `  owner: ${fmt(e!.args.ownerSurplus as bigint)}`,
      );
      const surviving = Number(disposed.args.survivingLiens);
      if (surviving !== 0) lines.push(`  ${surviving} lien(s) of performing loans pass to the buyer with the asset`);
      print(
        io,
        { assetId: formatAssetId(assetId), tx: receipt.hash },
        [
          `disposed of ${formatAssetId(assetId).slice(0, 10)}… for ${fmt(disposed.args.proceeds as bigint)}:`,
          ...lines,
        ].join("\n"),
      );
    };
  }),
  "collateral withdraw": plan(collateral.withdraw, (p, print) => {
    const to = p.to ? address(p.to) : undefined;
    return async (_p, ctx, io) => {
      const who = to ?? toAddress(await ctx.signer.getAddress());
      const amount = await ctx.collateral.kept(toAddress(await ctx.signer.getAddress()));
      const receipt = await ctx.collateral.withdraw(who);
      print(io, { amount, tx: receipt.hash }, `withdrew ${money(ctx, amount)} kept after a failed payment`);
    };
  }),
};

function saleJson(sale: SaleInfo) {
  return { ...sale, buyer: sale.buyer ?? null, confirmer: sale.confirmer ?? null };
}
