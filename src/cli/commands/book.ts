/** A platform's loan book: importing it, finding a loan by the platform's own reference, listing, the keeper. */
import { resolve } from "node:path";
import {
  ContractError,
  InputError,
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
import { batchGasBudget, splitByGas } from "../../client/transact.js";
import { address, arg, latestTime, type Command, type Parsed, type Print } from "../args.js";
import { type CliContext } from "../context.js";
import { ImportJournal, type JournalLoan } from "../journal.js";
import { formatAmount, table, type CliIo } from "../output.js";
import { readBook, type BookRow } from "../terms-file.js";

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
function importBook(p: Parsed, print: Print): Command {
  const file = arg(p.words, 2, "book.csv | book.jsonl");
  const journalPath = resolve(p.journal ?? `${file}.journal.jsonl`);
  const dryRun = p.dryRun;
  return async (_p, ctx, io) => {
    const provider = ctx.signer.provider;
    if (!provider) throw new LoanLedgerError("the signer has no provider");
    const platform = address(await ctx.signer.getAddress());
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
        if (anchored) {
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
          ? { action: "refused", problem: refusal.message, loanId: formatLoanId(idAt.get(row.line)!) }
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

  let interrupted = false;
  const stopNow = () => process.exit(130);
  const onInterrupt = () => {
    interrupted = true;
    io.err("interrupted: stopping after the batch in flight (Ctrl-C again to stop at once; the import resumes)");
    process.once("SIGINT", stopNow);
  };
  process.once("SIGINT", onInterrupt);

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
            const reason = toLoanLedgerError(error);
            if (reason instanceof ContractError && reason.errorName === "LoanRegistryBatchItemRejected") {
              const item = batch[Number(reason.args[0])] ?? window[offset];
              throw new InputError(
                `${file} line ${item.row.line} (${item.row.reference}) would be refused: ` +
                  `${reason.cause?.message ?? reason.message}; the ${done} loan(s) before it are anchored and in ` +
                  `the journal: fix the row and run the import again`,
              );
            }
            throw reason;
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
          receipt = await response.wait();
        } catch (error) {
          throw new LoanLedgerError(
            `the batch of ${file} lines ${batch.items[0].row.line}–${batch.items.at(-1)!.row.line} failed ` +
              `(${toLoanLedgerError(error).message.split("\n")[0]}); the ${done} loan(s) before it are anchored: ` +
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
    process.removeListener("SIGINT", onInterrupt);
    process.removeListener("SIGINT", stopNow);
  }
  if (interrupted)
    throw new LoanLedgerError(
      `interrupted after ${done} of ${pending.length} loans: run the same command again to resume ` +
        `(journal ${journal.path})`,
    );
  return sent;
}

/** The loan book's commands. */
export function planBook(p: Parsed, print: Print): Command | undefined {
  const [group, action] = p.words;
  if (group === "loan" && action === "import") return importBook(p, print);
  return undefined;
}
