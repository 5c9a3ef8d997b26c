/** `loanledger report`: the month's operations report in the format asked for, printed or written to a folder. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { operations } from "../../client/index.js";
import { address } from "../args.js";
import { readOperationsReport } from "../operations-report.js";
import { report } from "../nouns/report.js";
import { toJson } from "../output.js";
import { plan, type Plan } from "../table.js";

const EXTENSIONS = { json: "json", csv: "csv", xbrl: "xbrl.json", html: "html" } as const;

/** The report in `format`, as the file holds it. */
export function renderReport(r: operations.OperationsReport, format: keyof typeof EXTENSIONS): string {
  switch (format) {
    case "json":
      return toJson(r);
    case "csv":
      return operations.reportCsv(r);
    case "xbrl":
      return toJson(operations.reportXbrl(r));
    case "html":
      return operations.reportHtml(r);
  }
}

export const plans: Record<string, Plan> = {
  report: plan(report[""], (p, print) => {
    operations.parseMonth(p.month);
    const platform = p.platform === undefined ? undefined : address(p.platform);
    if (p.timeZone !== undefined) operations.checkTimeZone(p.timeZone);
    const format = p.format ?? "json";
    return async (_p, ctx, io) => {
      const r = await readOperationsReport(ctx, { month: p.month, timeZone: p.timeZone, platform, db: p.db });
      const text = renderReport(r, format);
      if (p.out === undefined) {
        io.out(text.replace(/\n$/, ""));
        return;
      }
      await mkdir(p.out, { recursive: true });
      const suffix = platform ? `-${platform}` : "";
      const file = join(p.out, `operations-report-${r.month}${suffix}.${EXTENSIONS[format]}`);
      await writeFile(file, text);
      print(
        io,
        { file, month: r.month, timeZone: r.timeZone, block: r.ledger.block },
        `wrote ${file}: the ${r.month} report (${r.timeZone}) of ${r.platforms.length} platform(s), read at block ${r.ledger.block}`,
      );
    };
  }),
};
