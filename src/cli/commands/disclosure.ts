/** The unified disclosures. */
import { LoanLedgerError, KEY_FIGURE_NAMES, periodNumber, reportHash, validateReport } from "../../client/index.js";
import { isoTime, table, money } from "../output.js";
import { type Parsed, arg, address, wholeNumber, type Command, required, readJson, type Print } from "../args.js";

export function planDisclosure(p: Parsed, print: Print): Command | undefined {
  const [group, action] = p.words;
  if (group !== "disclosure") return undefined;
  if (action === "publish" || action === "attest") {
    const file = required(p.file, "--file");
    const version = action === "attest" ? wholeNumber(required(p.version, "--version"), "--version", 1, 65_535) : 0;
    return async (_p, ctx, io) => {
      const report = validateReport(await readJson(file));
      if (action === "attest") {
        const receipt = await ctx.disclosures.attest(report, version);
        print(
          io,
          { contentHash: reportHash(report), tx: receipt.hash },
          `attested version ${version} of ${report.platform}'s report for ${report.period}`,
        );
        return;
      }
      const { version: published, receipt } = await ctx.disclosures.publish(report, p.correction);
      print(
        io,
        { version: published, contentHash: reportHash(report), tx: receipt.hash },
        `published version ${published} of the report for ${report.period}, content hash ${reportHash(report)}`,
      );
    };
  }
  if (action === "show" || action === "check") {
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
  }
  return undefined;
}
