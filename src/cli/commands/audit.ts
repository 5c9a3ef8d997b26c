/** The auditor's export and verification. */
import { JsonRpcProvider } from "ethers";
import {
  LoanLedgerError,
  InputError,
  shortLoanId,
  toLoanId,
  formatLoanId,
  exportLedger,
  headsSentence,
  verifyChain,
  verifyExport,
  writeReport,
  type AuditSources,
} from "../../client/index.js";
import { type CliContext } from "../context.js";
import { type CliIo } from "../output.js";
import { type Parsed, loanIdArg, type Command, required, type Print } from "../args.js";

export function auditSources(ctx: CliContext): AuditSources {
  return {
    loans: ctx.loans,
    alliance: ctx.alliance.contract,
    splitter: ctx.splitter.contract,
    collateral: ctx.collateral.contract,
    insurance: ctx.insurance.contract,
    reserve: ctx.reserve.contract,
    waterfall: ctx.waterfall.contract,
  };
}

/** The auditor's export and verification. */
export function planAudit(p: Parsed, print: Print): Command | undefined {
  const [group, action] = p.words;
  if (group !== "audit") return undefined;
  const progress = (io: CliIo) => (done: number, total: number, what: string) => {
    if (total >= 1_000 || total === 0) io.err(`progress: ${done}${total ? `/${total}` : ""} ${what}`);
  };
  if (action === "export") {
    const out = required(p.out, "--out");
    return async (_p, ctx, io) => {
      const { header, files, manifest } = await exportLedger(auditSources(ctx), out, ctx.fromBlock, progress(io));
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
  }
  if (action === "verify") {
    const loan = p.loan === undefined ? undefined : formatLoanId(loanIdArg(p.loan));
    const { fromExport, rpc } = p;
    if (rpc !== undefined && fromExport === undefined) {
      throw new InputError("--rpc proves an export: give the export with --from-export <dir>");
    }
    const verify: Command = async (_p, ctx, io) => {
      const options = { loanId: loan, docsDir: p.docs, progress: progress(io) };
      let report;
      if (fromExport === undefined) {
        report = (await verifyChain(auditSources(ctx), { ...options, fromBlock: ctx.fromBlock })).report;
      } else {
        // From an export, the check needs no chain, unless it is to be proven against one (--rpc).
        const provider = rpc === undefined ? undefined : new JsonRpcProvider(rpc, undefined, { batchStallTime: 0 });
        try {
          report = await verifyExport(fromExport, { ...options, provider });
        } finally {
          provider?.destroy();
        }
      }
      const files = await writeReport(p.out ?? ".", report);
      const summary = `${report.loans.length} loan(s), ${report.entries} history entries, ${report.findings.length} finding(s); report in ${files.join(" and ")}`;
      print(
        io,
        report,
        report.ok
          ? `verified ${summary}\n${headsSentence(report)}`
          : [
              ...report.findings.map(
                (f) =>
                  `${f.check}: ${f.file ? `file ${f.file}` : `loan ${f.loanId ? shortLoanId(toLoanId(f.loanId)) : "-"}`}` +
                  `${f.entry ? ` entry ${f.entry}` : ""}: ${f.message}`,
              ),
              `FAILED ${summary}`,
              headsSentence(report),
            ].join("\n"),
      );
      if (!report.ok) throw new LoanLedgerError(`the ledger does not verify: ${report.findings.length} finding(s)`);
    };
    verify.offline = fromExport !== undefined;
    return verify;
  }
  return undefined;
}
