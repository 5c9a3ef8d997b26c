/** Custody reconciliation: a bank statement against the ledger's issues, redemptions and supply. */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LedgerReader, LoanLedgerError, toAddress, type Address, type CustodyClient } from "../../client/index.js";
import { reconcile, type LedgerSide, type Reconciliation } from "./reconcile.js";
import { parseStatement, StatementError, type Statement } from "./statement.js";

export * from "./reconcile.js";
export * from "./statement.js";

/**
 * The ledger as of `statement`'s end, for the custody bank whose statement it is: the bank that declared the
 * statement's account on chain ({@link CustodyClient.bankOfCustodyAccount}); `bank`, when given, must be that one. Its
 * issues and redemptions, and what it held for the ledger, at the last block at or before the statement's end.
 */
export async function readLedgerSide(
  custody: CustodyClient,
  statement: Statement,
  bank?: Address,
): Promise<LedgerSide> {
  const provider = custody.contract.runner?.provider;
  if (!provider) throw new LoanLedgerError("the custody token has no provider to read from");
  if (!(await custody.isCustodyToken())) {
    throw new LoanLedgerError(
      `the settlement token ${String(custody.contract.target)} is no custody deposit token: there is no bank to reconcile`,
    );
  }
  const declared = await custody.bankOfCustodyAccount(statement.account);
  if (!declared) {
    throw new StatementError(
      `account ${statement.account} is no custody bank's declared custody account on the ledger: the bank declares it ` +
        `first (setCustodyAccount)`,
    );
  }
  if (bank !== undefined && bank !== declared) {
    throw new StatementError(`account ${statement.account} is custody bank ${declared}'s, not ${bank}'s`);
  }
  const chain = await LedgerReader.pin(provider);
  const cutoff = await chain.lastBlockAtOrBefore(Math.floor(Date.parse(statement.to) / 1000));
  if (cutoff < 0) throw new StatementError(`the statement ends (${statement.to}) before the chain began`);
  // Another bank's movements are no entries of this account, whatever references they carry.
  const movements = (await custody.movements(cutoff)).filter((m) => m.bank === declared);
  const [supply, outstanding] = await Promise.all([
    custody.totalSupply(cutoff),
    custody.outstandingOf(declared, cutoff),
  ]);
  return {
    token: toAddress(String(custody.contract.target)),
    cutoffBlock: cutoff,
    cutoffTime: await chain.timestamp(cutoff),
    movements,
    supply,
    bank: { address: declared, outstanding },
  };
}

/** A statement reconciled without a break, as the register of a report folder keeps it. */
export interface ReconciledStatement {
  account: string;
  statementId: string;
  from: string;
  to: string;
  sha256: string;
  cutoffBlock: number;
}

/** The register of a folder's clean reconciliations, so that no period is reconciled twice. */
export const REGISTER_FILE = "custody-reconciled.json";

export async function readRegister(folder: string): Promise<ReconciledStatement[]> {
  const file = join(folder, REGISTER_FILE);
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "[]";
    throw error;
  });
  try {
    const register = JSON.parse(text) as unknown;
    if (!Array.isArray(register)) throw new Error("not a list");
    return register as ReconciledStatement[];
  } catch (error) {
    throw new StatementError(`${file} is not a register of reconciled statements (${(error as Error).message})`);
  }
}

/**
 * Refuses `statement` if its account's period overlaps one already reconciled in `register`, or leaves a gap after
 * the latest: a period nobody reconciled could hide differences that cancel out within it.
 */
export function checkNotReconciled(statement: Statement, register: readonly ReconciledStatement[]): void {
  let latest: ReconciledStatement | undefined;
  for (const done of register) {
    if (done.account !== statement.account) continue;
    if (statement.from <= done.to && done.from <= statement.to) {
      throw new StatementError(
        `the statement's period (${statement.from} to ${statement.to}) overlaps statement ${done.statementId} ` +
          `(${done.from} to ${done.to}), reconciled already for account ${done.account}`,
      );
    }
    if (!latest || done.to > latest.to) latest = done;
  }
  if (latest && statement.from > latest.to && Date.parse(statement.from) - Date.parse(latest.to) > 1_000) {
    throw new StatementError(
      `the statement begins ${statement.from}, but the last one reconciled for account ${statement.account} ` +
        `(${latest.statementId}) ended ${latest.to}: reconcile the statements between first`,
    );
  }
}

export async function addToRegister(folder: string, r: Reconciliation): Promise<void> {
  const register = await readRegister(folder);
  register.push({
    account: r.statement.account,
    statementId: r.statement.id,
    from: r.statement.from,
    to: r.statement.to,
    sha256: r.statement.sha256,
    cutoffBlock: r.ledger.cutoffBlock,
  });
  await writeFile(join(folder, REGISTER_FILE), `${JSON.stringify(register, null, 2)}\n`);
}

/** What the command checks before it reads the chain: the statement itself, its account and currency. */
export function readStatement(
  content: string,
  decimals: number,
  expected: { account?: string; currency: string },
): { statement: Statement; sha256: string } {
  const statement = parseStatement(content, decimals);
  if (statement.currency !== expected.currency) {
    throw new StatementError(`the statement is in ${statement.currency}, the ledger's money in ${expected.currency}`);
  }
  if (expected.account !== undefined && statement.account !== expected.account) {
    throw new StatementError(
      `the statement is of account ${statement.account}, not the custody account ${expected.account}`,
    );
  }
  return { statement, sha256: createHash("sha256").update(content).digest("hex") };
}

export { reconcile };
export * from "./write.js";
