/** The auditor's export, verification and attestation. */
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isAddress, JsonRpcProvider } from "ethers";
import { toAddress, LoanLedgerError, InputError, shortLoanId, toLoanId, formatLoanId } from "../../client/index.js";
import {
  attestOnChain,
  attestReport,
  checkAttestation,
  checkAttestedExport,
  checkOnChain,
  onChainAttestations,
  type OnChainAttestation,
  MANIFEST_FILE,
  type Attestation,
  exportLedger,
  headsSentence,
  signaturesSentence,
  balancesSentence,
  custodySentences,
  filesSentences,
  verifyChain,
  verifyExport,
  suiteAddressesOf,
  writeReport,
} from "../../audit/index.js";
import { type CliIo } from "../output.js";
import { ReadOnlySigner, type CliContext } from "../context.js";
import { loanIdArg, required } from "../args.js";
import { audit } from "../nouns/audit.js";
import { plan, type Command, type Plan } from "../table.js";

/** Progress of a long export or verification, on the terminal's progress line (none off a terminal). */
const progress = (io: CliIo) => (done: number, total: number, what: string) => {
  io.status?.(`${done.toLocaleString("en-US")}${total ? ` / ${total.toLocaleString("en-US")}` : ""} ${what}`);
};

/** The auditor's export, verification and attestation. */
export const plans: Record<string, Plan> = {
  "audit export": plan(audit.export, (p, print) => {
    const out = p.out;
    return async (_p, ctx, io) => {
      const { header, files, manifest } = await exportLedger(ctx.suite.auditSources, out, ctx.fromBlock, progress(io));
      const records = (file: string) => manifest.files[file]?.records ?? 0;
      const loans = Object.keys(header.heads).length;
      print(
        io,
        { out, files, loans, block: header.block },
        `exported ${loans} loans (${records("loans.jsonl")} history entries, ${records("money.jsonl")} money events, ` +
          `${records("assets.jsonl")} asset events, ${records("members.jsonl")} member events) as of block ` +
          `${header.block.number} (${header.block.hash}) to ${out}`,
      );
    };
  }),
  "audit verify": plan(audit.verify, (p, print) => {
    const loan = p.loan === undefined ? undefined : formatLoanId(loanIdArg(p.loan));
    const { fromExport, rpc } = p;
    if (rpc !== undefined && fromExport === undefined) {
      throw new InputError("--rpc proves an export: give the export with --from-export <dir>");
    }
    const verify: Command = async (_p, ctx: CliContext | undefined, io) => {
      const options = { loanId: loan, docsDir: p.docs, progress: progress(io) };
      let report;
      let unvouched: string | undefined;
      if (fromExport === undefined) {
        if (!ctx) throw new InputError("audit verify reads the chain through LOANLEDGER_RPC_URL, which is not set");
        report = (await verifyChain(ctx.suite.auditSources, { ...options, fromBlock: ctx.fromBlock })).report;
      } else {
        // From an export, the check needs no chain, unless it is to be proven against one (--rpc).
        const provider = rpc === undefined ? undefined : new JsonRpcProvider(rpc, undefined, { batchStallTime: 0 });
        try {
          // Proven against the chain, the export must be of the deployment this CLI is set up for, when it is set up
          // for one; else the suite is the one the chain's loan registry (as the manifest names it) belongs to.
          const deployment = provider && ctx && suiteAddressesOf(ctx.suite.auditSources);
          report = await verifyExport(fromExport, { ...options, provider, deployment });
          if (provider && !deployment) {
            unvouched =
              `NOT vouched: the suite is the one the export names (loan registry ${report.scope?.contracts?.LoanRegistry ?? "?"}), ` +
              "found on the chain; no deployment is set up here, so nothing shows it is the alliance's: set the " +
              "alliance's LOANLEDGER_* addresses (or keep its deployment record) to prove that too";
          }
        } finally {
          provider?.destroy();
        }
      }
      const files = await writeReport(p.out ?? ".", report);
      const unproven = report.consent.notProven.length;
      const summary =
        `${report.loans.length} loan(s), ${report.entries} history entries, ${report.findings.length} finding(s)` +
        (unproven ? `, ${unproven} signature(s) NOT proven` : "") +
        `; report in ${files.join(", ")}`;
      const provenance = [
        ...filesSentences(report),
        ...Object.entries(report.notRun).map(([check, why]) => `Not run: ${check}: ${why}.`),
      ];
      print(
        io,
        report,
        report.ok
          ? [
              `verified ${summary}`,
              ...(unvouched ? [unvouched] : []),
              headsSentence(report),
              ...[signaturesSentence(report) ?? []].flat(),
              balancesSentence(report),
              ...custodySentences(report),
              ...provenance,
            ].join("\n")
          : [
              ...report.findings.map(
                (f) =>
                  `${f.check}: ${f.file ? `file ${f.file}` : f.balance ? `contract ${f.balance.contract}` : `loan ${f.loanId ? shortLoanId(toLoanId(f.loanId)) : "-"}`}` +
                  `${f.entry ? ` entry ${f.entry}` : ""}: ${f.message}`,
              ),
              `FAILED ${summary}`,
              headsSentence(report),
              ...[signaturesSentence(report) ?? []].flat(),
              balancesSentence(report),
              ...custodySentences(report),
              ...provenance,
            ].join("\n"),
      );
      if (!report.ok) throw new LoanLedgerError(`the ledger does not verify: ${report.findings.length} finding(s)`);
    };
    verify.offline = fromExport !== undefined && rpc === undefined;
    verify.contextOptional = fromExport !== undefined && rpc !== undefined;
    return verify;
  }),
  "audit attest": plan(audit.attest, (p, print) => {
    const reportPath = required(p.words[2], "the report (audit-report.json)");
    const out = p.out ?? join(dirname(reportPath), "audit-attestation.json");
    return async (_p, ctx, io) => {
      if (ctx.signer instanceof ReadOnlySigner) {
        throw new InputError(
          "audit attest signs the report with the auditor's own key, and no signing key is set: set " +
            "LOANLEDGER_PRIVATE_KEY, or a key profile LOANLEDGER_PRIVATE_KEY_<NAME> and --from <name>",
        );
      }
      const auditor = toAddress(await ctx.signer.getAddress());
      const member = await ctx.alliance.member(auditor);
      if (member.status !== "Active" || !member.roles.includes("Auditor")) {
        throw new InputError(`${auditor} is not an active auditor member of the alliance: it cannot attest a report`);
      }
      const attestation = await attestReport(ctx.signer, await readBytes(reportPath));
      await writeFile(out, JSON.stringify(attestation, null, 2) + "\n");
      const onChain = p.onChain ? (await attestOnChain(ctx.disclosures.contract, attestation)).onChain : undefined;
      print(
        io,
        { out, ...attestation, ...(onChain ? { onChain } : {}) },
        `${auditor} attested report sha256 ${attestation.reportSha256} ` +
          `(export manifest ${attestation.exportManifestSha256 ?? "none"}) in ${out}` +
          (onChain
            ? `; recorded on chain in the disclosure registry at block ${onChain.blockNumber} (${onChain.transactionHash})`
            : ""),
      );
    };
  }),
  "audit check-attestation": plan(audit["check-attestation"], (p, print) => {
    const attestationPath = required(p.words[2], "the attestation (audit-attestation.json)");
    const reportPath = required(p.words[3], "the report (audit-report.json)");
    const check: Command = async (_p, ctx, io) => {
      const attestation = attestationIn(attestationPath, await readBytes(attestationPath), reportPath);
      const manifest = p.fromExport === undefined ? undefined : await readBytes(join(p.fromExport, MANIFEST_FILE));
      const reportBytes = await readBytes(reportPath);
      // With the export, every file it holds is checked against the attested manifest, not the manifest alone.
      const signed =
        p.fromExport === undefined
          ? checkAttestation(attestation, reportBytes)
          : await checkAttestedExport(attestation, reportBytes, p.fromExport);
      // On chain, the registry says who attested the report, and only active auditor members could.
      const onChain = p.onChain
        ? checkOnChain(
            attestation,
            await onChainAttestations(ctx.disclosures.contract, attestation.reportSha256, { fromBlock: ctx.fromBlock }),
          )
        : undefined;
      const problems = [...signed.problems, ...(onChain?.problems ?? [])];
      const result = { ...signed, ok: problems.length === 0, problems, ...(onChain ? { onChain } : {}) };
      const who = (a: OnChainAttestation) => `${a.auditor} at block ${a.blockNumber}`;
      print(
        io,
        result,
        result.ok
          ? `attestation holds: ${signed.signer} signed report sha256 ${attestation.reportSha256}` +
              (manifest ? ` of the export in ${p.fromExport}` : "") +
              ` (${attestation.ok ? "verified" : "does not verify"}, ${attestation.findings} finding(s)); ` +
              (onChain
                ? `attested on chain by ${onChain.attestedBy.map(who).join(", ")}, an active auditor member then`
                : `check that ${signed.signer} is an auditor of the alliance (or check with --on-chain)`)
          : [...problems, "the attestation does NOT hold"].join("\n"),
      );
      if (!result.ok) throw new LoanLedgerError(`the attestation does not hold: ${problems[0]}`);
    };
    check.offline = !p.onChain;
    return check;
  }),
};

const ORDER = "check-attestation <audit-attestation.json> <audit-report.json>";

/** The attestation in `bytes`, or why not: a report given first is the two files swapped, and says so. */
function attestationIn(path: string, bytes: Buffer, reportPath: string): Attestation {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new InputError(`${path} is not an attestation: it is not JSON (${ORDER})`);
  }
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof record.signature === "string" && typeof record.reportSha256 === "string" && isAddress(record.auditor))
    return value as Attestation;
  if (Array.isArray(record.findings) && typeof record.chainId === "string") {
    throw new InputError(
      `${path} is an audit report, not an attestation: the attestation comes first (${ORDER}); ` +
        `was it given as ${reportPath}?`,
    );
  }
  throw new InputError(`${path} is not an attestation: it has no auditor, reportSha256 and signature (${ORDER})`);
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new InputError(`cannot read ${path}`);
  }
}
