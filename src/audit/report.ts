/** The auditor's report, rendered: JSON for machines, Markdown and a self-contained HTML page for people. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuditReport, Finding } from "./check.js";
import { fileRows, filesSentences } from "./prove.js";

/**
 * The signatures no key made that were checked without a node: not findings, and not proven either (undefined when
 * there are none).
 */
export function signaturesSentence(report: AuditReport): string | undefined {
  const unproven = report.consent?.notProven ?? [];
  if (unproven.length === 0) return undefined;
  const named = unproven
    .slice(0, 3)
    .map((s) => `loan ${s.loanId.slice(0, 6)}…${s.loanId.slice(-4)} entry ${s.entry} (${s.role} ${s.signer})`)
    .join(", ");
  return (
    `${unproven.length} signature(s) no key made, NOT proven: ${named}${unproven.length > 3 ? ", …" : ""}. ` +
    "Each may be a contract wallet's (ERC-1271), which only a node can ask: verify with `--rpc <url>` to prove them."
  );
}

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

/** One sentence on the totals: whether every contract's balance reconciles, and where the balances come from. */
export function balancesSentence(report: AuditReport): string {
  const b = report.balances;
  if (!b || b.source === "none") {
    return "Totals NOT reconciled: the export records no token balances (prove it against a node with `--rpc <url>`).";
  }
  const off = b.contracts.filter((line) => line.status !== "reconciled");
  const where =
    b.source === "chain"
      ? `read from the chain at block ${b.block}`
      : `taken from the export at block ${b.block}, NOT proven against a chain (prove them with \`--rpc <url>\`)`;
  return (
    (off.length === 0
      ? `Totals reconciled to the wei with the settlement-token balances of ${b.contracts.length} contract(s), `
      : `Totals do NOT reconcile for ${off.map((line) => `${line.contract} (${line.status}, ${line.difference ?? "no balance"})`).join(", ")}; balances `) +
    `${where}.`
  );
}

/**
 * The custody token's supply against the banks' books, when the ledger settles in one (empty otherwise): that every
 * token was issued and redeemed against a bank reference is the custody check's to say.
 */
export function custodySentences(report: AuditReport): string[] {
  const c = report.custody;
  if (!c) return [];
  const where =
    c.source === "chain"
      ? `read from the chain at block ${c.block}`
      : `taken from the export at block ${c.block}, NOT proven against a chain`;
  const findings = report.findings.filter((f) => f.check === "custody").length;
  return [
    `Custody: supply ${c.supply} of token ${c.token} held by ${c.banks.length} custody bank(s) ` +
      `(${c.banks.map((b) => `${b.bank}: ${b.outstanding}`).join(", ") || "none"}), ${where}; ${c.issues} issue(s) and ` +
      `${c.redemptions} redemption(s), ${c.referencedRepayments} repayment(s) naming their bank payment; ` +
      (findings ? `${findings} custody finding(s).` : "every one with its bank reference, the books adding up."),
  ];
}

/** Where a finding is: the file, the contract whose balance differs, or the loan. */
const subjectOf = (f: Finding) =>
  f.file ? `file ${f.file}` : f.balance ? `contract ${f.balance.contract}` : `loan ${f.loanId ?? "-"}`;

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
    ...optional(signaturesSentence(report)),
    "",
    balancesSentence(report),
    ...custodySentences(report),
    "",
    ...(report.exportManifestSha256
      ? [`Export verified: manifest.json with SHA-256 ${report.exportManifestSha256}.`, ""]
      : []),
    // ---- scope and files, proven or not (prove.ts)
    ...filesSentences(report).map((line) => `- ${line}`),
    "",
    // ----
    "## Checks",
    "",
    ...Object.entries(report.checks).map(([check, what]) => `- **${check}**: ${what}`),
    ...Object.entries(report.notRun ?? {}).map(([check, why]) => `- **${check}**: NOT RUN: ${why}`),
    "",
    "| platform | loans | entries | repayments | findings |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...Object.entries(report.platforms).map(
      ([platform, s]) => `| ${platform} | ${s.loans} | ${s.entries} | ${s.repayments} | ${s.findings} |`,
    ),
    "",
    "## Balances",
    "",
    ...balancesMarkdown(report),
    "## Findings",
    "",
    ...(report.findings.length
      ? report.findings.map(
          (f) =>
            `- **${f.check}** ${subjectOf(f)}${f.entry ? `, entry ${f.entry}` : ""}` +
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

/** The reconciliation as a Markdown table, with each contract's parts below it. */
function balancesMarkdown(report: AuditReport): string[] {
  const b = report.balances;
  if (!b || b.source === "none") return ["Not reconciled: no balances are known.", ""];
  return [
    `Settlement token ${b.token}, block ${b.block} (${b.source === "chain" ? "read from the chain" : "as the export records it"}).`,
    "",
    "| contract | expected | actual | difference | status |",
    "| --- | ---: | ---: | ---: | --- |",
    ...b.contracts.map(
      (l) => `| ${l.contract} | ${l.expected} | ${l.actual ?? "-"} | ${l.difference ?? "-"} | ${l.status} |`,
    ),
    "",
    ...b.contracts
      .filter((l) => l.parts.length)
      .flatMap((l) => [`${l.contract}:`, ...l.parts.map((p) => `- ${p.part}: ${p.amount}`), ""]),
  ];
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** Text as HTML: every value of a report may come from a forged export, so none is written unescaped. */
const esc = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** How many loans the HTML page lists one by one; the JSON report lists them all. */
const HTML_LOANS = 1_000;

/**
 * The report as one HTML page with no outside resources (styles inline, no scripts), to read in a browser or print:
 * the verdict, scope, heads, checks, platforms, findings and loans of the JSON report.
 */
export function reportHtml(report: AuditReport): string {
  const proven = new Set(report.heads.proven);
  const table = (head: string[], rows: unknown[][], numeric: number[] = []) =>
    `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>` +
    rows
      .map(
        (row) =>
          `<tr>${row.map((cell, i) => `<td${numeric.includes(i) ? ' class="n"' : ""}>${esc(cell)}</td>`).join("")}</tr>`,
      )
      .join("") +
    `</tbody></table>`;
  const verdict = report.ok
    ? report.heads.provenAt
      ? "Every history is complete and unaltered."
      : "Every history is consistent with the export's heads."
    : "The ledger does not verify.";
  const loans = report.loans.slice(0, HTML_LOANS);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>LoanLedger audit report, chain ${esc(report.chainId)}${report.block ? `, block ${esc(report.block.number)}` : ""}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
.verdict { padding: .75rem 1rem; border-radius: 6px; font-weight: 600; }
.ok { background: #dafbe1; border: 1px solid #4ac26b; } .fail { background: #ffebe9; border: 1px solid #ff8182; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
code, td { overflow-wrap: anywhere; } .attest { border: 2px dashed #8c959f; padding: 1rem; min-height: 6rem; }
</style>
</head>
<body>
<h1>LoanLedger audit report</h1>
<p class="verdict ${report.ok ? "ok" : "fail"}">${esc(verdict)} ${esc(report.findings.length)} finding(s).</p>
<h2>Scope</h2>
${table(
  ["", ""],
  [
    ["Chain", report.chainId],
    ["As of block", report.block ? `${report.block.number} (${report.block.hash})` : "not stated"],
    ["Verified at", report.verifiedAt],
    ["Loans", report.loans.length],
    ["Platforms", Object.keys(report.platforms).length],
    ["History entries", report.entries],
    ["Export manifest (SHA-256)", report.exportManifestSha256 ?? "no export verified"],
  ],
)}
<p>${esc(headsSentence(report))}</p>
${optional(signaturesSentence(report))
  .map((line) => `<p>${esc(line)}</p>`)
  .join("")}
${report.scope ? `<p>${esc(filesSentences(report)[0])}</p>` : ""}
<h2>Files</h2>
${report.files?.length ? table(["file", "proven", "records", "differences", "how"], fileRows(report), [2, 3]) : "<p>No export: the ledger was read from the chain.</p>"}
<h2>Balances</h2>
<p>${esc(balancesSentence(report))}</p>
${custodySentences(report)
  .map((line) => `<p>${esc(line)}</p>`)
  .join("\n")}
${
  report.balances && report.balances.source !== "none"
    ? table(
        [
          "contract",
          "address",
          "expected (from the history)",
          "actual (at the block)",
          "difference",
          "status",
          "parts",
        ],
        report.balances.contracts.map((l) => [
          l.contract,
          l.address,
          l.expected,
          l.actual ?? "-",
          l.difference ?? "-",
          l.status,
          l.parts.map((p) => `${p.part}: ${p.amount}`).join("; ") || "holds nothing",
        ]),
        [2, 3, 4],
      )
    : ""
}
<h2>Checks</h2>
${table(
  ["check", "what it establishes"],
  [
    ...Object.entries(report.checks).map(([check, what]) => [check, what]),
    ...Object.entries(report.notRun ?? {}).map(([check, why]) => [check, `NOT RUN: ${why}`]),
  ],
)}
<h2>Platforms</h2>
${table(
  ["platform", "loans", "entries", "repayments", "findings"],
  Object.entries(report.platforms).map(([platform, s]) => [platform, s.loans, s.entries, s.repayments, s.findings]),
  [1, 2, 3, 4],
)}
<h2>Findings</h2>
${
  report.findings.length
    ? table(
        ["check", "loan or file", "entry", "block / log", "what differs"],
        report.findings.map((f) => [
          f.check,
          f.file ? `file ${f.file}` : f.balance ? `contract ${f.balance.contract}` : (f.loanId ?? "-"),
          f.entry ?? "",
          f.blockNumber === undefined ? "" : `${f.blockNumber}${f.logIndex === undefined ? "" : ` / ${f.logIndex}`}`,
          f.message,
        ]),
      )
    : "<p>None.</p>"
}
<h2>Loans</h2>
${table(
  ["loan", "head"],
  loans.map((loanId) => [
    loanId,
    proven.has(loanId) ? `proven at block ${report.heads.provenAt?.number}` : "from the export only",
  ]),
)}
${report.loans.length > loans.length ? `<p>…and ${esc(report.loans.length - loans.length)} more loans, listed in audit-report.json.</p>` : ""}
<h2>Attestation</h2>
<p>An auditor attests this report by signing the SHA-256 of audit-report.json, with the export's manifest digest above
(<code>loanledger audit attest</code>), and may record that digest on chain in the alliance's disclosure registry
(<code>loanledger audit attest --on-chain</code>); anyone checks the signature, and whether and by whom the report was
attested on chain, with <code>loanledger audit check-attestation</code>.</p>
<div class="attest">Auditor, date, signature:</div>
</body>
</html>
`;
}

/** Writes audit-report.json, audit-report.md and audit-report.html into `dir`. */
export async function writeReport(dir: string, report: AuditReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = {
    "audit-report.json": JSON.stringify(report, null, 2) + "\n",
    "audit-report.md": reportMarkdown(report),
    "audit-report.html": reportHtml(report),
  };
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return Object.keys(files).map((file) => join(dir, file));
}

function optional(line: string | undefined): string[] {
  return line === undefined ? [] : [line];
}
