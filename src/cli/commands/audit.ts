/** The auditor's export and verification. */
import { JsonRpcProvider } from "ethers";
import {
  LoanLedgerError,
  InputError,
  shortLoanId,
  toLoanId,
  formatLoanId,
  collectLedger,
  headsSentence,
  proveExport,
  readExport,
  verifyLedger,
  writeExport,
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
    if (total >= 200 || what !== "loans verified") io.err(`progress: ${done}/${total} ${what}`);
  };
  if (action === "export") {
    const out = required(p.out, "--out");
    return async (_p, ctx, io) => {
      const ledger = await collectLedger(auditSources(ctx), ctx.fromBlock, progress(io));
      const files = await writeExport(out, ledger);
      const loans = Object.keys(ledger.heads).length;
      print(
        io,
        { out, files, loans, block: ledger.block },
        `exported ${loans} loans (${ledger.loans.length} history entries, ${ledger.money.length} money events, ` +
          `${ledger.assets.length} asset events, ${ledger.members.length} member events) as of block ` +
          `${ledger.block?.number} (${ledger.block?.hash}) to ${out}`,
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
      // From an export, the check needs no chain, unless it is to be proven against one (--rpc).
      const ledger = fromExport
        ? await readExport(fromExport)
        : await collectLedger(auditSources(ctx), ctx.fromBlock, progress(io));
      let proof;
      if (fromExport && rpc) {
        const provider = new JsonRpcProvider(rpc, undefined, { batchStallTime: 0 });
        try {
          proof = await proveExport(ledger, provider, { loanId: loan, progress: progress(io) });
        } finally {
          provider.destroy();
        }
      }
      const report = await verifyLedger(ledger, { loanId: loan, docsDir: p.docs, proof, progress: progress(io) });
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
