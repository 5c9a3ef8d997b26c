/** The custody bank's statements against the ledger. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CustodyClient, InputError, LoanLedgerError } from "../../client/index.js";
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
import { address, arg } from "../args.js";
import type { CliContext } from "../context.js";
import { custody } from "../nouns/custody.js";
import { money, toJson } from "../output.js";
import { isoTime } from "../dates.js";
import { plan, type Plan } from "../table.js";
import { parseAmount, textHash } from "../terms-file.js";

/** The settlement token as the custody bank's deposit token, refused when it is a stand-in that keeps no books. */
async function custodyOf(ctx: CliContext): Promise<CustodyClient> {
  const client = new CustodyClient(ctx.suite.addresses.token, ctx.signer, ctx.fromBlock);
  if (!(await client.isCustodyToken())) {
    throw new LoanLedgerError(
      `the settlement token ${ctx.suite.addresses.token} is no custody deposit token: no bank issues or redeems it`,
    );
  }
  return client;
}

function withdrawalId(value: string): bigint {
  if (!/^[1-9]\d*$/.test(value)) throw new InputError(`"${value}" is not a withdrawal id (1, 2, …)`);
  return BigInt(value);
}

/** A file name's safe form of the bank's statement id. */
const fileSafe = (id: string) => id.replace(/[^A-Za-z0-9._-]+/g, "_");

export const plans: Record<string, Plan> = {
  "custody declare-account": plan(custody["declare-account"], (p, print) => {
    const accountId = arg(p.words, 2, "custody account id");
    return async (_p, ctx, io) => {
      const receipt = await (await custodyOf(ctx)).setCustodyAccount(accountId);
      print(io, { account: accountId, tx: receipt.hash }, `declared custody account ${accountId} as this bank's`);
    };
  }),
  "custody register": plan(custody.register, (p, print) => {
    const account = address(arg(p.words, 2, "ledger account"));
    const accountRef = textHash(p.accountRef);
    return async (_p, ctx, io) => {
      const receipt = await (await custodyOf(ctx)).registerAccount(account, accountRef);
      print(io, { account, accountRef, tx: receipt.hash }, `registered ${account} with this bank`);
    };
  }),
  "custody close": plan(custody.close, (p, print) => {
    const account = address(arg(p.words, 2, "ledger account"));
    return async (_p, ctx, io) => {
      const receipt = await (await custodyOf(ctx)).closeAccount(account);
      print(io, { account, tx: receipt.hash }, `closed the registration of ${account}`);
    };
  }),
  "custody issue": plan(custody.issue, (p, print) => {
    const account = address(arg(p.words, 2, "ledger account"));
    const amountText = arg(p.words, 3, "amount");
    const endToEndId = p.endToEndId;
    return async (_p, ctx, io) => {
      const amount = parseAmount(amountText, ctx.decimals);
      const receipt = await (await custodyOf(ctx)).issue(account, amount, endToEndId);
      print(
        io,
        { account, amount, endToEndId, tx: receipt.hash },
        `issued ${money(ctx, amount)} to ${account} against payment ${endToEndId}`,
      );
    };
  }),
  "custody withdraw": plan(custody.withdraw, (p, print) => {
    const amountText = arg(p.words, 2, "amount");
    return async (_p, ctx, io) => {
      const amount = parseAmount(amountText, ctx.decimals);
      const client = await custodyOf(ctx);
      const { id, receipt } = await client.requestWithdrawal(amount);
      const w = await client.withdrawal(id);
      print(
        io,
        { withdrawal: id, amount, bank: w.bank, returnableAt: w.returnableAt, tx: receipt.hash },
        `withdrawal ${id}: ${money(ctx, amount)} waits in escrow for bank ${w.bank} to pay it to your registered ` +
          `account; if it has not by ${isoTime(w.returnableAt, ctx.timeZone)}, take it back with \`custody reclaim ${id}\``,
      );
    };
  }),
  "custody redeem": plan(custody.redeem, (p, print) => {
    const id = withdrawalId(arg(p.words, 2, "withdrawal id"));
    const endToEndId = p.endToEndId;
    return async (_p, ctx, io) => {
      const client = await custodyOf(ctx);
      const receipt = await client.redeem(id, endToEndId);
      const w = await client.withdrawal(id);
      print(
        io,
        { withdrawal: id, amount: w.amount, holder: w.holder, endToEndId, tx: receipt.hash },
        `redeemed withdrawal ${id} (${money(ctx, w.amount)} of ${w.holder}) against payment ${endToEndId}: ` +
          `release the payment now`,
      );
    };
  }),
  "custody return": plan(custody.return, (p, print) => {
    const id = withdrawalId(arg(p.words, 2, "withdrawal id"));
    const reason = textHash(p.reason);
    return async (_p, ctx, io) => {
      const receipt = await (await custodyOf(ctx)).returnWithdrawal(id, reason);
      print(io, { withdrawal: id, reason: p.reason, tx: receipt.hash }, `returned withdrawal ${id}: ${p.reason}`);
    };
  }),
  "custody reclaim": plan(custody.reclaim, (p, print) => {
    const id = withdrawalId(arg(p.words, 2, "withdrawal id"));
    return async (_p, ctx, io) => {
      const receipt = await (await custodyOf(ctx)).reclaimWithdrawal(id);
      print(io, { withdrawal: id, tx: receipt.hash }, `took withdrawal ${id} back`);
    };
  }),
  "custody show": plan(custody.show, (p, print) => {
    const subject = p.words[2];
    return async (_p, ctx, io) => {
      const client = await custodyOf(ctx);
      if (subject !== undefined && /^\d+$/.test(subject)) {
        const w = await client.withdrawal(withdrawalId(subject));
        if (w.status === "None") throw new InputError(`there is no withdrawal ${subject}`);
        print(
          io,
          w,
          `withdrawal ${w.id}: ${money(ctx, w.amount)} of ${w.holder} at bank ${w.bank}, ${w.status} ` +
            `(requested ${isoTime(w.requestedAt, ctx.timeZone)}, returnable from ${isoTime(w.returnableAt, ctx.timeZone)})`,
        );
        return;
      }
      if (subject !== undefined) {
        const account = address(subject);
        const registered = await client.accountOf(account);
        const balance = await client.contract.balanceOf(account);
        print(
          io,
          { account, balance, registration: registered ?? null },
          registered
            ? `${account} holds ${money(ctx, balance)}, registered with bank ${registered.bank} since ` +
                `${isoTime(registered.registeredAt, ctx.timeZone)}`
            : `${account} holds ${money(ctx, balance)} and is registered with no custody bank: it can neither ` +
                `receive a loan's principal nor withdraw`,
        );
        return;
      }
      const banks = (await ctx.alliance.members()).filter((m) => m.roles.includes("CustodyBank"));
      const supply = await client.totalSupply();
      const books = await Promise.all(
        banks.map(async (m) => ({
          bank: m.account,
          status: m.status,
          outstanding: await client.outstandingOf(m.account),
        })),
      );
      print(
        io,
        { token: ctx.suite.addresses.token, supply, banks: books },
        [
          `supply ${money(ctx, supply)}, held by ${books.length} custody bank(s):`,
          ...books.map((b) => `  ${b.bank} (${b.status}): ${money(ctx, b.outstanding)}`),
        ].join("\n"),
      );
    };
  }),
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
