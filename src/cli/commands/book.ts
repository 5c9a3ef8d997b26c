/** A platform's loan book: importing it, finding a loan by the platform's own reference, listing, the keeper. */
import { resolve } from "node:path";
import {
  ContractError,
  InputError,
  LOAN_STATUS_NAMES,
  LoanStatus,
  toStruct,
  type AnchoredLoan,
  type LoanState,
  LedgerReader,
  LoanLedgerError,
  formatLoanId,
  loanIdOf,
  shortLoanId,
  toLoanId,
  toLoanLedgerError,
  anchorLoansCalldata,
  type Address,
  type LoanId,
  type LoanTerms,
} from "../../client/index.js";
import { batchGasBudget, mined, splitByGas } from "../../client/transact.js";
import { actingAs, address, arg, latestTime, wholeNumber } from "../args.js";
import { keeper } from "../nouns/keeper.js";
import { loan } from "../nouns/loan.js";
import { plan, type Command, type Input, type Plan, type Print } from "../table.js";
import { type CliContext } from "../context.js";
import { loanStates } from "../loan-states.js";
import { reason } from "../reason.js";
import { ImportJournal, type JournalLoan } from "../journal.js";
import { formatAmount, money, table, type CliIo } from "../output.js";
import { isoTime } from "../dates.js";
import { readBook, textHash, type BookRow } from "../terms-file.js";

/** A row the import will send: its place in the file, its terms and the id they give. */
interface Pending {
  row: BookRow & { terms: LoanTerms };
  loanId: LoanId;
}

/** How many previews travel to the node at once (as JSON-RPC batches of the provider's size). */
const PREVIEW_CHUNK = 500;

/** "1h 02m", "3m 05s", "12s": a duration short enough for a progress line. */
function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3_600) return `${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** The error anchoring each of `pending` would raise now (undefined where it would pass), asked of the registry. */
async function previews(ctx: CliContext, platform: Address, pending: readonly Pending[]) {
  const results: (ContractError | undefined)[] = [];
  for (let i = 0; i < pending.length; i += PREVIEW_CHUNK) {
    const chunk = pending.slice(i, i + PREVIEW_CHUNK);
    results.push(...(await Promise.all(chunk.map((p) => ctx.loans.previewAnchor(platform, p.row.terms)))));
  }
  return results;
}

/**
 * `loan import <book>`: anchors every loan of a book that is not anchored yet, in batches sized to the node, keeping
 * a journal beside the book (or at --journal) so that it resumes after an interruption without a duplicate or a gap.
 * With --dry-run it sends nothing and writes nothing: it reports every bad row and the registry's preview of each loan.
 */
function importBook(p: Input<typeof loan.import>, print: Print): Command {
  const file = arg(p.words, 2, "book.csv | book.jsonl");
  const journalPath = resolve(p.journal ?? `${file}.journal.jsonl`);
  const dryRun = p.dryRun;
  return async (_p, ctx, io) => {
    const provider = ctx.signer.provider;
    if (!provider) throw new LoanLedgerError("the signer has no provider");
    const platform = await actingAs(ctx);
    const chainId = String((await provider.getNetwork()).chainId);
    const journal = ImportJournal.open(
      journalPath,
      { chainId, loanRegistry: ctx.loans.address, platform, input: resolve(file) },
      await latestTime(ctx),
      !dryRun,
    );
    try {
      // A journal from an earlier run gives the time its relative deadlines count from, so that resumed rows get the
      // same terms, and so the same loan ids, as the first run gave them.
      const rows = await readBook(file, {
        platform,
        now: journal.header.timeBase,
        decimals: ctx.decimals,
        allianceKeyHex: ctx.allianceKeyHex,
      });
      // Whatever a stopped run sent is mined (or known lost) before the chain is read.
      if (!dryRun) await journal.settle(provider);
      const reader = await LedgerReader.pin(provider, { fromBlock: ctx.fromBlock });
      const onChain = await ctx.loans.anchoredByReference(platform, reader);

      const bad = rows.filter((r) => r.problem !== undefined);
      const found: JournalLoan[] = [];
      const pending: Pending[] = [];
      for (const row of rows) {
        if (!row.terms) continue;
        const anchored = onChain.get(row.terms.platformRef)?.[0];
        // The book and the ledger disagree on this loan: skipping it would hide that, anchoring it again is refused. A
        // deadline counted from the import ("+7d") differs from run to run, and is no disagreement.
        const differ =
          anchored && anchored.loanId !== loanIdOf(row.terms)
            ? differences(ctx, row.terms, await ctx.loans.terms(anchored.loanId), row.relativeDeadline === true)
            : "";
        if (differ) {
          row.problem = `reference "${row.reference}" is anchored already with other terms (${differ})`;
          bad.push(row);
        } else if (anchored) {
          found.push({
            ref: row.reference,
            loanId: formatLoanId(anchored.loanId),
            tx: anchored.transactionHash,
            block: anchored.blockNumber,
            line: row.line,
          });
        } else pending.push({ row: row as Pending["row"], loanId: loanIdOf(row.terms) });
      }
      if (dryRun) {
        // The registry's own check of each loan, as if it were anchored alone now.
        const refused = await previews(ctx, platform, pending);
        const previewOf = new Map(pending.map((item, i) => [item.row.line, refused[i]]));
        reportDryRun(io, print, p.json, ctx, file, rows, found, pending, previewOf);
        const faults = bad.length + refused.filter(Boolean).length;
        if (faults)
          throw new InputError(`${faults} of ${rows.length} rows of ${file} would not be anchored: fix them first`);
        return;
      }
      // Every row is checked against the schema before anything is sent. The registry checks each batch again when it
      // is estimated, just before it is sent (a preview of each row first would double the time a book takes, so
      // that is what --dry-run is for): a row it refuses stops the import there, and a run after the fix resumes.
      if (bad.length) {
        throw new InputError(
          `${file} line ${bad[0].line}: ${bad[0].problem}` +
            (bad.length > 1 ? ` (and ${bad.length - 1} more bad rows: run with --dry-run to see them all)` : "") +
            "; nothing was sent",
        );
      }
      // The journal learns what the chain had before this import, so it names every reference's loan and transaction.
      journal.anchored(found.filter((f) => journal.loans.get(f.ref)?.loanId !== f.loanId));
      const sent = await anchorPending(ctx, io, journal, file, pending);
      const txs = sent.map((s) => s.tx);
      print(
        io,
        {
          input: file,
          journal: journalPath,
          rows: rows.length,
          anchored: sent.reduce((n, s) => n + s.loans, 0),
          skipped: found.length,
          transactions: txs,
        },
        `anchored ${sent.reduce((n, s) => n + s.loans, 0)} loan(s) of ${file} in ${txs.length} transaction(s); ` +
          `${found.length} were anchored already; journal ${journalPath}`,
      );
    } finally {
      journal.close();
    }
  };
}

/** The terms a book row and its anchored loan differ in, for a person: `principal: book 12,000.00, ledger 10,000.00`. */
function differences(ctx: CliContext, book: LoanTerms, ledger: LoanTerms, relativeDeadline: boolean): string {
  const shown = (key: keyof LoanTerms, value: LoanTerms[keyof LoanTerms]) =>
    key === "principal"
      ? money(ctx, value as bigint)
      : key === "fundingDeadline"
        ? isoTime(value as number, ctx.timeZone)
        : String(value);
  return (Object.keys(book) as (keyof LoanTerms)[])
    .filter((key) => String(book[key]) !== String(ledger[key]) && !(relativeDeadline && key === "fundingDeadline"))
    .map((key) => `${key}: book ${shown(key, book[key])}, ledger ${shown(key, ledger[key])}`)
    .join("; ");
}

function reportDryRun(
  io: CliIo,
  print: Print,
  json: boolean,
  ctx: CliContext,
  file: string,
  rows: readonly BookRow[],
  found: readonly JournalLoan[],
  pending: readonly Pending[],
  previewOf: Map<number, ContractError | undefined>,
): void {
  const foundAt = new Map(found.map((f) => [f.line, f]));
  const idAt = new Map(pending.map((item) => [item.row.line, item.loanId]));
  const report = rows.map((row) => {
    const skip = foundAt.get(row.line);
    const refusal = previewOf.get(row.line);
    const outcome = row.problem
      ? { action: "bad", problem: row.problem }
      : skip
        ? { action: "skip", problem: undefined, loanId: skip.loanId, tx: skip.tx }
        : refusal
          ? { action: "refused", problem: reason(refusal, ctx), loanId: formatLoanId(idAt.get(row.line)!) }
          : { action: "anchor", problem: undefined, loanId: formatLoanId(idAt.get(row.line)!) };
    return { line: row.line, ref: row.reference, principal: row.terms?.principal, ...outcome };
  });
  if (json) {
    print(io, { input: file, dryRun: true, rows: report }, "");
    return;
  }
  const counts = (action: string) => report.filter((r) => r.action === action).length;
  const text = [
    table(
      ["line", "reference", "loan id", "principal", "preview"],
      report.map((r) => [
        r.line,
        r.ref,
        r.loanId ? shortLoanId(toLoanId(r.loanId)) : "-",
        r.principal === undefined ? "-" : formatAmount(r.principal, ctx.decimals, ctx.symbol),
        r.action === "anchor" ? "would be anchored" : r.action === "skip" ? "anchored already: skipped" : r.problem!,
      ]),
      { right: [0, 3] },
    ),
    `dry run of ${file}: ${counts("anchor")} to anchor, ${counts("skip")} anchored already, ` +
      `${counts("bad") + counts("refused")} bad; nothing was sent`,
  ].join("\n");
  print(io, undefined, text);
}

/**
 * Sends the pending rows in batches that the node's estimates size to its block gas limit and per-transaction cap,
 * writing each batch to the journal before it is sent and its loans once it is mined. Ctrl-C stops after the batch in
 * flight; a second one stops at once (the journal is written ahead, so a resumed import still finds everything).
 */
async function anchorPending(
  ctx: CliContext,
  io: CliIo,
  journal: ImportJournal,
  file: string,
  pending: readonly Pending[],
): Promise<{ tx: string; loans: number }[]> {
  if (pending.length === 0) return [];
  const provider = ctx.signer.provider!;
  const contract = ctx.loans.contract;
  const to = ctx.loans.address;
  const [maxBatch, budget] = await Promise.all([contract.MAX_BATCH().then(Number), batchGasBudget(provider)]);
  const calldata = (batch: readonly Pending[]) => anchorLoansCalldata(batch.map((item) => item.row.terms));
  const anchoredTopic = contract.interface.getEvent("LoanAnchored").topicHash;

  // Ctrl-C, `kill` (SIGTERM) and a closed terminal (SIGHUP) stop the import after the batch in flight; a second one
  // stops it at once. So does the end of the process that started it: `npx` killed leaves this process behind, which
  // would go on anchoring for nobody.
  let interrupted = false;
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const stopNow = () => process.exit(130);
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    io.err("interrupted: stopping after the batch in flight (Ctrl-C again to stop at once; the import resumes)");
    for (const signal of signals) process.once(signal, stopNow);
  };
  for (const signal of signals) process.once(signal, onInterrupt);
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid !== parent) onInterrupt();
  }, 500).unref();

  const sent: { tx: string; loans: number }[] = [];
  const started = performance.now();
  let done = 0;
  let size = Math.min(maxBatch, pending.length);
  try {
    while (done < pending.length && !interrupted) {
      // Each window is estimated against the chain as the batches before it left it.
      const window = pending.slice(done, done + size);
      const batches = await splitByGas(
        window,
        async (batch, offset) => {
          try {
            return await ctx.signer.estimateGas({ to, data: calldata(batch) });
          } catch (error) {
            const refused = toLoanLedgerError(error);
            if (refused instanceof ContractError && refused.errorName === "LoanRegistryBatchItemRejected") {
              const item = batch[Number(refused.args[0])] ?? window[offset];
              throw new InputError(
                `${file} line ${item.row.line} (${item.row.reference}) would be refused: ` +
                  `${reason(refused.cause ?? refused, ctx)}; the ${done} loan(s) before it are anchored and in ` +
                  `the journal: fix the row and run the import again`,
              );
            }
            throw refused;
          }
        },
        budget,
        maxBatch,
      );
      size = batches[0].items.length;
      for (const batch of batches) {
        if (interrupted) break;
        const number = journal.lastBatch + 1;
        journal.sending(
          number,
          batch.items.map((item) => item.row.reference),
        );
        // The estimate was made against the latest state; a tenth more covers what moved since, within the budget.
        const withMargin = (batch.gas * 11n) / 10n;
        const ceiling = (budget * 10n) / 9n;
        const response = await ctx.signer.sendTransaction({
          to,
          data: calldata(batch.items),
          gasLimit: withMargin < ceiling ? withMargin : ceiling,
        });
        journal.sent(number, response.hash);
        let receipt;
        try {
          receipt = await mined(response);
        } catch (error) {
          throw new LoanLedgerError(
            `the batch of ${file} lines ${batch.items[0].row.line}–${batch.items.at(-1)!.row.line} failed ` +
              `(${reason(error, ctx)}); the ${done} loan(s) before it are anchored: ` +
              "run the import again to resume",
          );
        }
        if (!receipt) throw new LoanLedgerError(`transaction ${response.hash} was dropped: run the import again`);
        const ids = receipt.logs.filter((log) => log.topics[0] === anchoredTopic).map((log) => BigInt(log.topics[1]));
        batch.items.forEach((item, i) => {
          if (ids[i] !== item.loanId)
            throw new LoanLedgerError(
              `the registry anchored ${file} line ${item.row.line} as ${ids[i]}, not the id its terms give`,
            );
        });
        journal.anchored(
          batch.items.map((item) => ({
            ref: item.row.reference,
            loanId: formatLoanId(item.loanId),
            tx: response.hash,
            block: receipt.blockNumber,
            line: item.row.line,
            batch: number,
          })),
        );
        sent.push({ tx: response.hash, loans: batch.items.length });
        done += batch.items.length;
        if (io.status) {
          const rate = done / ((performance.now() - started) / 1000);
          io.status(
            `${done.toLocaleString("en-US")} / ${pending.length.toLocaleString("en-US")} loans anchored · ` +
              `${rate.toFixed(0)} loans/s · ETA ${duration((pending.length - done) / rate)}`,
          );
        }
      }
    }
  } finally {
    clearInterval(orphaned);
    for (const signal of signals) {
      process.removeListener(signal, onInterrupt);
      process.removeListener(signal, stopNow);
    }
  }
  if (interrupted)
    throw new LoanLedgerError(
      `interrupted after ${done} of ${pending.length} loans: run the same command again to resume ` +
        `(journal ${journal.path})`,
    );
  return sent;
}

/** `f` over `items`, `CHUNK` at a time: each chunk travels to the node as a few JSON-RPC batches. */
async function inChunks<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += PREVIEW_CHUNK)
    results.push(...(await Promise.all(items.slice(i, i + PREVIEW_CHUNK).map(f))));
  return results;
}

/** The platform a command is about: --platform, or else the account the CLI acts as. */
async function platformOf(p: { platform?: string }, ctx: CliContext): Promise<Address> {
  return p.platform ? address(p.platform) : actingAs(ctx, "--platform <address>");
}

/** An open loan with its terms and state, and the due date of its next installment. */
interface OpenLoan {
  anchored: AnchoredLoan;
  terms: LoanTerms;
  state: LoanState;
  /** When the next installment falls due (unix seconds). */
  dueDate: number;
}

/** The Active and Late loans among `loans`, with their next due dates (as the registry computes them). */
async function openLoans(ctx: CliContext, loans: readonly AnchoredLoan[]): Promise<OpenLoan[]> {
  const states = await loanStates(
    ctx,
    loans.map((loan) => loan.loanId),
  );
  const open: OpenLoan[] = [];
  loans.forEach((anchored, i) => {
    const state = states[i];
    if (state.status !== LoanStatus.Active && state.status !== LoanStatus.Late) return;
    const terms = ctx.loans.termsOf(anchored);
    open.push({ anchored, terms, state, dueDate: state.activatedAt + (state.installmentsPaid + 1) * terms.period });
  });
  return open;
}

/** `loan list --status funding|due|late`: a platform's loans in that state, a page at a time. */
function listLoans(p: Input<typeof loan.list>, print: Print): Command {
  const status = p.status;
  const offset = wholeNumber(p.offset, "--offset", 0, Number.MAX_SAFE_INTEGER);
  const limit = wholeNumber(p.limit, "--limit", 50, 10_000);
  return async (_p, ctx, io) => {
    const platform = await platformOf(p, ctx);
    const now = await latestTime(ctx);
    const loans = await ctx.loans.anchoredLoans(platform);
    let rows: { anchored: AnchoredLoan; terms: LoanTerms; state: LoanState; dueDate?: number; due?: bigint }[];
    if (status === "funding") {
      const states = await loanStates(
        ctx,
        loans.map((loan) => loan.loanId),
      );
      rows = loans
        .map((anchored, i) => ({ anchored, state: states[i] }))
        .filter((r) => r.state.status === LoanStatus.Funding)
        .map((r) => ({ ...r, terms: ctx.loans.termsOf(r.anchored) }));
    } else {
      // Due: Active with an installment fallen due and unpaid (within its grace period or past it, not yet marked late).
      rows = (await openLoans(ctx, loans)).filter((l) =>
        status === "late"
          ? l.state.status === LoanStatus.Late
          : l.state.status === LoanStatus.Active && l.dueDate <= now,
      );
    }
    const page = rows.slice(offset, offset + limit);
    if (status !== "funding")
      await inChunks(page, async (row) => {
        const next = await ctx.loans.nextPayment(row.anchored.loanId);
        row.dueDate = next.dueDate;
        row.due = next.principal + next.interest + next.lateInterest;
      });
    const amount = (v: bigint) => formatAmount(v, ctx.decimals, ctx.symbol);
    const json = {
      platform,
      status,
      total: rows.length,
      offset,
      limit,
      loans: page.map((r) => ({
        loanId: formatLoanId(r.anchored.loanId),
        platformRef: r.anchored.platformRef,
        status: LOAN_STATUS_NAMES[r.state.status],
        principal: r.terms.principal,
        outstandingPrincipal: r.state.outstandingPrincipal,
        ...(status === "funding" ? { fundingDeadline: r.terms.fundingDeadline } : { dueDate: r.dueDate, due: r.due }),
      })),
    };
    const shown = page.length ? `${offset + 1}–${offset + page.length}` : "none";
    const more = offset + page.length < rows.length ? ` (--offset ${offset + page.length} for more)` : "";
    const text = [
      table(
        status === "funding"
          ? ["loan id", "principal", "funding deadline"]
          : ["loan id", "outstanding", "due date", "due now"],
        page.map((r) =>
          status === "funding"
            ? [
                formatLoanId(r.anchored.loanId),
                amount(r.terms.principal),
                isoTime(r.terms.fundingDeadline, ctx.timeZone),
              ]
            : [
                formatLoanId(r.anchored.loanId),
                amount(r.state.outstandingPrincipal),
                isoTime(r.dueDate!, ctx.timeZone),
                amount(r.due!),
              ],
        ),
        { right: status === "funding" ? [1] : [1, 3] },
      ),
      `${status} loans of ${platform}: ${shown} of ${rows.length}${more}`,
    ].join("\n");
    print(io, json, text);
  };
}

/** `loan find --ref <reference>`: the loan(s) a platform anchored under its own reference. */
function findLoan(p: Input<typeof loan.find>, print: Print): Command {
  const reference = p.ref;
  const ref = textHash(reference);
  return async (_p, ctx, io) => {
    const platform = await platformOf(p, ctx);
    const found = (await ctx.loans.anchoredByReference(platform)).get(ref) ?? [];
    if (found.length === 0)
      throw new InputError(`${platform} anchored no loan with the reference "${reference}" (${ref})`);
    if (p.idOnly) {
      // For `LOAN=$(loanledger loan find … --id-only)`: one id or a refusal, never a list to pick from.
      if (found.length > 1) {
        throw new InputError(
          `${found.length} loans carry the reference "${reference}": run loan find without --id-only to see them`,
        );
      }
      io.out(formatLoanId(found[0].loanId));
      return;
    }
    const loans = await Promise.all(found.map((a) => ctx.loans.loan(a.loanId)));
    const amount = (v: bigint) => formatAmount(v, ctx.decimals, ctx.symbol);
    print(
      io,
      found.map((a, i) => ({
        loanId: formatLoanId(a.loanId),
        platform: a.platform,
        platformRef: a.platformRef,
        status: LOAN_STATUS_NAMES[loans[i].state.status],
        principal: loans[i].terms.principal,
        outstandingPrincipal: loans[i].state.outstandingPrincipal,
        block: a.blockNumber,
        tx: a.transactionHash,
      })),
      table(
        ["loan id", "status", "principal", "outstanding", "anchored in"],
        found.map((a, i) => [
          formatLoanId(a.loanId),
          LOAN_STATUS_NAMES[loans[i].state.status],
          amount(loans[i].terms.principal),
          amount(loans[i].state.outstandingPrincipal),
          `block ${a.blockNumber}, ${a.transactionHash}`,
        ]),
        { right: [2, 3] },
      ),
    );
  };
}

/**
 * `keeper overdue`: marks every overdue loan Late, and Defaulted once past its default threshold, as the registry
 * allows the caller: a loan's servicer as soon as it is eligible, anyone else once the alliance's public delay has
 * passed too (so that no silent platform can hide a loss). The registry decides: each action is tried before it is
 * sent, and a loan not yet eligible for this caller is reported with the reason.
 */
function keeperOverdue(p: Input<typeof keeper.overdue>, print: Print): Command {
  const dryRun = p.dryRun;
  return async (_p, ctx, io) => {
    const platform = p.platform === undefined ? undefined : address(p.platform);
    const now = await latestTime(ctx);
    const open = await openLoans(ctx, await ctx.loans.anchoredLoans(platform));
    const overdue = open.filter((l) => now > l.dueDate + l.terms.gracePeriod);
    const contract = ctx.loans.contract;
    const done: { loanId: string; action: "late" | "defaulted"; tx?: string }[] = [];
    const waiting: { loanId: string; reason: string }[] = [];
    for (const loan of overdue) {
      const id = formatLoanId(loan.anchored.loanId);
      const struct = toStruct(loan.terms);
      let action: "late" | "defaulted" | undefined;
      let why = "";
      for (const [name, call] of [
        ["defaulted", () => contract.markDefaulted.staticCall(struct)],
        ["late", () => contract.markLate.staticCall(struct)],
      ] as const) {
        if (name === "late" && loan.state.status === LoanStatus.Late) break;
        try {
          await call();
          action = name;
          break;
        } catch (error) {
          // The reason of the nearest step is the one to report: why an Active loan cannot be marked late yet.
          why = reason(error, ctx);
        }
      }
      if (!action) {
        waiting.push({ loanId: id, reason: why });
        continue;
      }
      const receipt = dryRun
        ? undefined
        : await (action === "defaulted"
            ? ctx.loans.markDefaulted(loan.anchored.loanId)
            : ctx.loans.markLate(loan.anchored.loanId));
      done.push({ loanId: id, action, tx: receipt?.hash });
    }
    const verb = (a: string) => (dryRun ? `would mark ${a}` : `marked ${a}`);
    print(
      io,
      { checked: open.length, overdue: overdue.length, dryRun, actions: done, notYet: waiting },
      [
        ...done.map((d) => `${verb(d.action)}: loan ${d.loanId}`),
        ...waiting.map((w) => `not yet: loan ${w.loanId}: ${w.reason}`),
        `${open.length} open loan(s) checked, ${overdue.length} overdue: ${done.length} ${dryRun ? "to mark" : "marked"}, ` +
          `${waiting.length} not yet`,
      ].join("\n"),
    );
  };
}

/** The loan book's commands. */
export const plans: Record<string, Plan> = {
  "loan import": plan(loan.import, importBook),
  "loan find": plan(loan.find, findLoan),
  "loan list": plan(loan.list, listLoans),
  "keeper overdue": plan(keeper.overdue, keeperOverdue),
};
