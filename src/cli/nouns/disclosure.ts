/** `loanledger disclosure …`: platforms' monthly disclosures, published, attested and checked. */
import { noun } from "../table.js";

const PLATFORM = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

export const disclosure = noun({
  "publish-month": {
    flags: {
      month: { value: "<YYYY-MM>", required: true, help: "the month, ended, in the alliance's time zone" },
      out: { value: "<dir>", help: "where the published report is kept (default: the current folder)" },
      correction: { help: "a new version of a month already published" },
      db: { value: "<file>", help: "compute from the portal's index instead of the node" },
    },
    summary: "a platform publishes its month's operations report, computed from the ledger (schema version 2)",
    example: "disclosure publish-month --month 2027-06",
    in: "disclosure",
  },
  related: {
    flags: {
      "borrower-refs": { value: "<ref,...>", help: "borrower references (0x…, 32 bytes) of related parties" },
      accounts: { value: "<address,...>", help: "accounts of related parties (lenders, borrowers' accounts)" },
      withdraw: { help: "withdraw these declarations instead" },
    },
    summary: "a platform declares its related parties on the ledger, so its report flags their loans",
    example: "disclosure related --accounts 0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    in: "disclosure",
  },
  publish: {
    flags: {
      file: { value: "<report.json>", required: true, help: "the report (checked against its schema)" },
      correction: { help: "a new version of a period already published" },
    },
    summary: "a platform publishes its monthly report's content hash",
    example: "disclosure publish --file report-2026-10.json",
    in: "disclosure",
  },
  attest: {
    flags: {
      file: { value: "<report.json>", required: true, help: "the report (key figures, or an operations report)" },
      version: { value: "N", required: true, help: "the published version it attests" },
    },
    summary: "an auditor attests a published version of a report",
    example: "disclosure attest --file report-2026-10.json --version 1",
    in: "disclosure",
  },
  show: {
    args: ["<platform>", "<YYYY-MM>"],
    flags: { version: { value: "N", help: "this version (default: the latest)" } },
    summary: "a platform's disclosure for a month",
    example: `disclosure show ${PLATFORM} 2026-10`,
    in: "disclosure",
  },
  check: {
    args: ["<platform>", "<YYYY-MM>"],
    flags: {
      file: { value: "<report.json>", help: "the published operations report, to name each figure that differs" },
      db: { value: "<file>", help: "recompute from the portal's index instead of the node" },
    },
    summary: "exits 1 when the disclosure differs from the ledger",
    example: `disclosure check ${PLATFORM} 2026-10`,
    in: "disclosure",
  },
});
