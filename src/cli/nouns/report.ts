/** `loanledger report`: the alliance's monthly operations report, computed from the ledger. */
import { noun } from "../table.js";

export const REPORT_FORMATS = ["json", "csv", "xbrl", "html"] as const;

export const report = noun({
  "": {
    flags: {
      month: { value: "<YYYY-MM>", required: true, help: "the month, ended, in the alliance's time zone" },
      platform: { value: "<address>", help: "this platform only (default: every platform and the alliance)" },
      format: { value: "<format>", choices: REPORT_FORMATS, help: "json (default), csv, xbrl (xBRL-JSON) or html" },
      out: { value: "<dir>", help: "write operations-report-<month>.<ext> there instead of printing it" },
      db: { value: "<file>", help: "read the portal's index instead of the node (as far as the index has caught up)" },
      "time-zone": {
        value: "<IANA name>",
        help: "where months begin and end (default: LOANLEDGER_TIME_ZONE, else Asia/Shanghai)",
      },
    },
    summary: "the month's operations report (volume, outstanding, overdue buckets, bad debt) per platform",
    example: ["report --month 2027-06 --format html --out reports", "report --month 2027-06 --format csv"],
    in: "report",
  },
});
