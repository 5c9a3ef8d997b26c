/** The auditor's report, rendered: JSON for machines, Markdown for people. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuditReport } from "./audit-check.js";

/** One sentence on which heads the histories were checked against, and whether a chain vouched for them. */
export function headsSentence(report: AuditReport): string {
  const { heads } = report;
  if (heads.provenAt) {
    return (
      `Heads proven against the chain at block ${heads.provenAt.number} (${heads.provenAt.hash})` +
      (heads.registry ? `, read from the loan registry at ${heads.registry}` : "") +
      (heads.method === "events" ? " through its history events (the node keeps no state that old)," : ",") +
      ` for ` +
      `${heads.proven.length} loan(s)` +
      (heads.exportOnly.length ? `; ${heads.exportOnly.length} taken from the export only.` : ".")
    );
  }
  return (
    `Heads taken from the export only, for ${heads.exportOnly.length} loan(s): NOT proven against a chain ` +
    `(prove them with \`audit verify --from-export <dir> --rpc <url>\`).`
  );
}

/** The report as Markdown: scope, checks, a summary per platform, the findings, and each loan's head status. */
export function reportMarkdown(report: AuditReport): string {
  const proven = new Set(report.heads.proven);
  const lines = [
    `# LoanLedger audit report`,
    "",
    `Chain ${report.chainId}` +
      (report.block ? `, as of block ${report.block.number} (${report.block.hash})` : ", block not stated") +
      `, verified ${report.verifiedAt}: ${report.loans.length} loans, ${report.entries} history entries, ` +
      `${report.findings.length} finding(s). ` +
      (report.ok
        ? report.heads.provenAt
          ? "Every history is complete and unaltered."
          : "Every history is consistent with the export's heads."
        : "**The ledger does not verify.**"),
    "",
    headsSentence(report),
    "",
    ...(report.exportManifestSha256
      ? [`Export verified: manifest.json with SHA-256 ${report.exportManifestSha256}.`, ""]
      : []),
    "## Checks",
    "",
    ...Object.entries(report.checks).map(([check, what]) => `- **${check}**: ${what}`),
    "",
    "| platform | loans | entries | repayments | findings |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...Object.entries(report.platforms).map(
      ([platform, s]) => `| ${platform} | ${s.loans} | ${s.entries} | ${s.repayments} | ${s.findings} |`,
    ),
    "",
    "## Findings",
    "",
    ...(report.findings.length
      ? report.findings.map(
          (f) =>
            `- **${f.check}** ${f.file ? `file ${f.file}` : `loan ${f.loanId ?? "-"}`}${f.entry ? `, entry ${f.entry}` : ""}` +
            `${f.blockNumber !== undefined ? ` (block ${f.blockNumber}${f.logIndex !== undefined ? `, log ${f.logIndex}` : ""})` : ""}: ${f.message}`,
        )
      : ["None."]),
    "",
    "## Loans",
    "",
    ...report.loans.map(
      (loanId) =>
        `- ${loanId}: head ${proven.has(loanId) ? `proven at block ${report.heads.provenAt?.number}` : "from the export only"}`,
    ),
    "",
  ];
  return lines.join("\n");
}

/** Writes audit-report.json and audit-report.md into `dir`. */
export async function writeReport(dir: string, report: AuditReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "audit-report.json"), JSON.stringify(report, null, 2) + "\n");
  await writeFile(join(dir, "audit-report.md"), reportMarkdown(report));
  return [join(dir, "audit-report.json"), join(dir, "audit-report.md")];
}
