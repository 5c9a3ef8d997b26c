/** The unified disclosures. */
import { LoanLedgerError, KEY_FIGURE_NAMES, periodNumber, reportHash, validateReport } from "../../client/index.js";
import { isoTime, table, money } from "../output.js";
import { arg, address, wholeNumber, readJson } from "../args.js";
import { disclosure } from "../nouns/disclosure.js";
import { plan, planEach, type Plan } from "../table.js";

export const plans: Record<string, Plan> = {
  "disclosure publish": plan(disclosure.publish, (p, print) => async (_p, ctx, io) => {
    const report = validateReport(await readJson(p.file));
    const { version, receipt } = await ctx.disclosures.publish(report, p.correction);
    print(
      io,
      { version, contentHash: reportHash(report), tx: receipt.hash },
      `published version ${version} of the report for ${report.period}, content hash ${reportHash(report)}`,
    );
  }),
  "disclosure attest": plan(disclosure.attest, (p, print) => {
    const version = wholeNumber(p.version, "--version", 1, 65_535);
    return async (_p, ctx, io) => {
      const report = validateReport(await readJson(p.file));
      const receipt = await ctx.disclosures.attest(report, version);
      print(
        io,
        { contentHash: reportHash(report), tx: receipt.hash },
        `attested version ${version} of ${report.platform}'s report for ${report.period}`,
      );
    };
  }),
  ...planEach(["disclosure show", "disclosure check"], disclosure.show, (p, print) => {
    const action = p.words[1];
    const platform = address(arg(p.words, 2, "platform"));
    const period = arg(p.words, 3, "YYYY-MM");
    periodNumber(period);
    const version = p.version === undefined ? undefined : wholeNumber(p.version, "--version", 1, 65_535);
    return async (_p, ctx, io) => {
      const fmtValue = (v: bigint | number) => (typeof v === "bigint" ? money(ctx, v) : String(v));
      if (action === "show") {
        const report = await ctx.disclosures.report(platform, period, version);
        print(
          io,
          report,
          `version ${report.version}, published ${isoTime(report.publishedAt)}, content hash ${report.contentHash}\n` +
            table(
              ["figure", "disclosed"],
              KEY_FIGURE_NAMES.map((name) => [name, fmtValue(report.figures[name])]),
            ),
        );
        return;
      }
      const differences = await ctx.disclosures.check(platform, period);
      print(
        io,
        differences,
        differences.length
          ? table(
              ["figure", "disclosed", "ledger"],
              differences.map((d) => [d.figure, fmtValue(d.disclosed), fmtValue(d.ledger)]),
            )
          : `the disclosure of ${platform} for ${period} agrees with the ledger`,
      );
      if (differences.length) {
        throw new LoanLedgerError(
          `${differences.length} figure(s) of the disclosure differ from the ledger: ${differences.map((d) => d.figure).join(", ")}`,
        );
      }
    };
  }),
};
