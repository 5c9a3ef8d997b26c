/** `loanledger disclosure …`: platforms' monthly disclosures, published, attested and checked. */
import { noun } from "../table.js";

const PLATFORM = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

export const disclosure = noun({
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
      file: { value: "<report.json>", required: true, help: "the report" },
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
    summary: "exits 1 when the disclosure differs from the ledger",
    example: `disclosure check ${PLATFORM} 2026-10`,
    in: "disclosure",
  },
});
