/** The custody bank's statements against the ledger. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CustodyClient, LoanLedgerError } from "../../client/index.js";
import {
  addToRegister,
  breakLines,
  checkNotReconciled,
  readLedgerSide,
  readRegister,
  readStatement,
  reconcile,
  reconciliationMarkdown,
  StatementError,
} from "../../audit/custody/index.js";
import { address } from "../args.js";
import { custody } from "../nouns/custody.js";
import { money, toJson } from "../output.js";
import { plan, type Plan } from "../table.js";

/** A file name's safe form of the bank's statement id. */
const fileSafe = (id: string) => id.replace(/[^A-Za-z0-9._-]+/g, "_");

export const plans: Record<string, Plan> = {
  "custody reconcile": plan(custody.reconcile, (p, print) => {
    const file = p.words[2];
    const bank = p.bank === undefined ? undefined : address(p.bank);
    const out = p.out ?? ".";
    return async (_p, ctx, io) => {
      const content = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
        throw new StatementError(`cannot read the statement ${file}: ${error.code ?? error.message}`);
      });
      const expected = { account: p.account ?? ctx.custodyAccount, currency: ctx.currency };
      const { statement, sha256 } = readStatement(content, ctx.decimals, expected);
      checkNotReconciled(statement, await readRegister(out));
      const tokenAddress = ctx.suite.addresses.token;
      const ledger = await readLedgerSide(new CustodyClient(tokenAddress, ctx.signer, ctx.fromBlock), statement, bank);
      const r = reconcile(statement, ledger, sha256, ctx.timeZone);

      await mkdir(out, { recursive: true });
      const base = join(out, `custody-reconciliation-${fileSafe(statement.statementId)}`);
      const amount = (value: bigint) => money(ctx, value);
      await writeFile(`${base}.json`, `${toJson(r)}\n`);
      await writeFile(`${base}.md`, reconciliationMarkdown(r, amount));
      if (r.ok) await addToRegister(out, r);
      const summary =
        `statement ${statement.statementId} of ${statement.account}: ${r.matched.length} of ` +
        `${statement.entries.length} entries matched, closing balance ${amount(r.balance.closing)} against the ` +
        `${amount(r.balance.outstanding)} bank ${r.ledger.bank} held for the ledger at block ${r.ledger.cutoffBlock} ` +
        `(supply ${amount(r.ledger.supply)}); report in ${base}.json and .md`;
      print(
        io,
        { ok: r.ok, breaks: r.breaks, report: `${base}.json`, markdown: `${base}.md` },
        r.ok ? `reconciled ${summary}` : [...breakLines(r, amount), `BREAKS (${r.breaks}) in ${summary}`].join("\n"),
      );
      if (!r.ok) throw new LoanLedgerError(`the statement does not reconcile: ${r.breaks} break(s)`);
    };
  }),
};
