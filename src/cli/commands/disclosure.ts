/** The unified disclosures: key-figure reports (version 1) and operations reports computed from the ledger (version 2). */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  InputError,
  LoanLedgerError,
  KEY_FIGURE_NAMES,
  operations,
  periodNumber,
  reportHash,
  toHash32,
  validateReport,
  type Hash32,
} from "../../client/index.js";
import { table, money, toJson } from "../output.js";
import { isoTime } from "../dates.js";
import { arg, address, wholeNumber, readJson } from "../args.js";
import { disclosure } from "../nouns/disclosure.js";
import { readOperationsReport } from "../operations-report.js";
import { plan, type Plan } from "../table.js";

/** A comma-separated list of `flag`'s values, each checked by `check`. */
function list<T>(value: string | undefined, check: (item: string) => T): T[] {
  return value === undefined ? [] : value.split(",").map((item) => check(item.trim()));
}

function borrowerRefArg(value: string): Hash32 {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value) || /^0x0{64}$/.test(value)) {
    throw new InputError(`a borrower reference is 32 bytes written 0x and 64 hex digits, not zero: ${value}`);
  }
  return toHash32(value);
}

export const plans: Record<string, Plan> = {
  "disclosure publish-month": plan(disclosure["publish-month"], (p, print) => {
    operations.parseMonth(p.month);
    return async (_p, ctx, io) => {
      const platform = address(await ctx.signer.getAddress());
      const report = await readOperationsReport(ctx, { month: p.month, platform, db: p.db });
      const dir = p.out ?? ".";
      await mkdir(dir, { recursive: true });
      const file = join(dir, `operations-report-${report.month}-${platform}.json`);
      // Kept before it is published: the file is what the published hash proves, and what auditors are given.
      await writeFile(file, toJson(report) + "\n");
      const published = await ctx.disclosures.publishOperations(report, p.correction);
      print(
        io,
        { ...published, receipt: undefined, tx: published.receipt.hash, file },
        `published version ${published.version} of ${platform}'s operations report for ${report.month} ` +
          `(${report.timeZone}): report hash ${published.reportHash}, figures digest ${published.figuresDigest}; ` +
          `the report is ${file}`,
      );
    };
  }),
  "disclosure related": plan(disclosure.related, (p, print) => {
    const refs = list(p.borrowerRefs, borrowerRefArg);
    const accounts = list(p.accounts, address);
    if (refs.length + accounts.length === 0) {
      throw new InputError("name the related parties: --borrower-refs 0x…,0x… and/or --accounts 0x…,0x…");
    }
    return async (_p, ctx, io) => {
      const receipt = await ctx.disclosures.declareRelatedParties(refs, accounts, !p.withdraw);
      print(
        io,
        { borrowerRefs: refs, accounts, related: !p.withdraw, tx: receipt.hash },
        `${p.withdraw ? "withdrew" : "declared"} ${refs.length} borrower reference(s) and ${accounts.length} ` +
          `account(s) as related parties`,
      );
    };
  }),
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
      const value = await readJson(p.file);
      if ((value as { schemaVersion?: unknown })?.schemaVersion === 2) {
        const report = operations.validateOperationsReport(value);
        // An auditor attests a document only once it is the published one and its figures are the ledger's.
        const platform = address(report.platforms[0]?.entity ?? "");
        const published = await ctx.disclosures.operationsReport(platform, report.month, version);
        const ledger = await readOperationsReport(ctx, { month: report.month, platform });
        const check = operations.checkOperations(published, ledger, report);
        if (!check.agrees) {
          throw new LoanLedgerError(
            `not attesting version ${version}: ${check.problem ?? `${check.differences.map((d) => d.figure).join(", ")} differ from the ledger`}`,
          );
        }
        const receipt = await ctx.disclosures.attestOperations(report, version);
        print(
          io,
          { reportHash: operations.operationsReportHash(report), tx: receipt.hash },
          `attested version ${version} of ${report.platforms[0].entity}'s operations report for ${report.month}`,
        );
        return;
      }
      const report = validateReport(value);
      const receipt = await ctx.disclosures.attest(report, version);
      print(
        io,
        { contentHash: reportHash(report), tx: receipt.hash },
        `attested version ${version} of ${report.platform}'s report for ${report.period}`,
      );
    };
  }),
  "disclosure show": plan(disclosure.show, (p, print) => {
    const platform = address(arg(p.words, 2, "platform"));
    const period = arg(p.words, 3, "YYYY-MM");
    periodNumber(period);
    const version = p.version === undefined ? undefined : wholeNumber(p.version, "--version", 1, 65_535);
    return async (_p, ctx, io) => {
      const published = await ctx.disclosures.operationsReport(platform, period, version);
      if (published.schemaVersion === 2) {
        print(
          io,
          published,
          `version ${published.version} (operations report), published ${isoTime(published.publishedAt, ctx.timeZone)}: report ` +
            `hash ${published.reportHash}, figures digest ${published.figuresDigest}`,
        );
        return;
      }
      const report = await ctx.disclosures.report(platform, period, published.version);
      print(
        io,
        report,
        `version ${report.version}, published ${isoTime(report.publishedAt, ctx.timeZone)}, content hash ${report.contentHash}\n` +
          table(
            ["figure", "disclosed"],
            KEY_FIGURE_NAMES.map((name) => [name, figureText(ctx, report.figures[name])]),
          ),
      );
    };
  }),
  "disclosure check": plan(disclosure.check, (p, print) => {
    const platform = address(arg(p.words, 2, "platform"));
    const period = arg(p.words, 3, "YYYY-MM");
    periodNumber(period);
    return async (_p, ctx, io) => {
      const published = await ctx.disclosures.operationsReport(platform, period);
      if (published.schemaVersion === 2) {
        // The platform's month recomputed from the ledger, in the alliance's time zone (never the publisher's).
        const given = p.file === undefined ? undefined : operations.validateOperationsReport(await readJson(p.file));
        const ledger = await readOperationsReport(ctx, { month: period, platform, db: p.db });
        const result = operations.checkOperations(published, ledger, given);
        print(
          io,
          result,
          result.agrees
            ? `version ${published.version} of ${platform}'s operations report for ${period} agrees with the ledger` +
                (result.documentChecked
                  ? ""
                  : " (its figures' digest; give --file to check the published document too)")
            : result.differences.length
              ? table(
                  ["figure", "published", "ledger"],
                  result.differences.map((d) => [d.figure, String(d.published), String(d.ledger)]),
                )
              : (result.problem ?? ""),
        );
        if (!result.agrees) {
          throw new LoanLedgerError(
            result.differences.length
              ? `${result.differences.length} figure(s) of the published report differ from the ledger: ` +
                  result.differences.map((d) => d.figure).join(", ")
              : result.problem!,
          );
        }
        return;
      }
      const differences = await ctx.disclosures.check(platform, period);
      print(
        io,
        differences,
        differences.length
          ? table(
              ["figure", "disclosed", "ledger"],
              differences.map((d) => [d.figure, figureText(ctx, d.disclosed), figureText(ctx, d.ledger)]),
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

const figureText = (token: { decimals: number; symbol: string }, v: bigint | number) =>
  typeof v === "bigint" ? money(token, v) : String(v);
