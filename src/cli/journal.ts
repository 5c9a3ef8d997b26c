/**
 * The journal of a `loan import`: what was sent and what was anchored, by the platform's own reference, written as
 * JSON Lines and flushed to disk before the import goes on, so that an import stopped at any point (Ctrl-C, a crash, a
 * lost connection) resumes where it stopped. The chain stays the judge of what is anchored: the journal adds the time
 * base of relative deadlines ("+7d"), so that a resumed import builds the very same terms (and loan ids) as the first
 * run, and the transactions that were sent but not yet seen mined, which a resumed import waits for before it looks.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import type { Provider } from "ethers";
import { InputError } from "../client/index.js";
import { mined } from "../client/transact.js";

const FORMAT = "loanledger-import/1";

/** The first line: which import this journal belongs to. */
export interface JournalHeader {
  journal: typeof FORMAT;
  chainId: string;
  loanRegistry: string;
  platform: string;
  /** Unix seconds that relative deadlines in the book count from: the latest block's time on the first run. */
  timeBase: number;
  input: string;
  started: string;
}

/** One anchored loan: the platform's reference, its loan id and the transaction that anchored it. */
export interface JournalLoan {
  ref: string;
  loanId: string;
  tx: string;
  block: number;
  /** The row's line in the input. */
  line: number;
  /** The import's batch that anchored it; absent when the loan was found anchored on chain before this import. */
  batch?: number;
}

/** A batch written before it is sent, and its transaction once the node took it. */
interface Sending {
  batch: number;
  sending: string[];
  tx?: string;
}

type Line = JournalHeader | JournalLoan | Sending | { batch: number; sent: string };

export class ImportJournal {
  /** Every loan the journal records as anchored, by reference. */
  readonly loans = new Map<string, JournalLoan>();
  private readonly batches = new Map<number, Sending>();
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    readonly header: JournalHeader,
  ) {}

  /**
   * The journal at `path` if it exists, checked against the import about to run (same chain, registry and platform),
   * else a new one (created on disk only when `write` is set; a dry run leaves nothing behind).
   */
  static open(
    path: string,
    expected: Omit<JournalHeader, "journal" | "timeBase" | "started">,
    timeBase: number,
    write: boolean,
  ): ImportJournal {
    if (!existsSync(path)) {
      const header: JournalHeader = { journal: FORMAT, ...expected, timeBase, started: new Date().toISOString() };
      const journal = new ImportJournal(path, header);
      if (write) journal.append(header);
      return journal;
    }
    const text = readFileSync(path, "utf8");
    const lines = text.split("\n");
    const parsed: Line[] = [];
    lines.forEach((raw, i) => {
      if (raw.trim() === "") return;
      try {
        parsed.push(JSON.parse(raw) as Line);
      } catch {
        // The last line may have been cut short by a crash while it was written: nothing after it was done.
        if (i === lines.length - 1) return;
        throw new InputError(`${path} line ${i + 1} is not a journal line: give another --journal, or remove it`);
      }
    });
    const header = parsed[0] as JournalHeader | undefined;
    if (header?.journal !== FORMAT)
      throw new InputError(`${path} is not a loanledger import journal: give another --journal`);
    for (const key of ["chainId", "loanRegistry", "platform"] as const) {
      if (header[key].toLowerCase() !== expected[key].toLowerCase())
        throw new InputError(
          `${path} records an import with ${key} ${header[key]}, not ${expected[key]}: ` +
            "give this import its own --journal",
        );
    }
    const journal = new ImportJournal(path, header);
    for (const line of parsed.slice(1)) {
      if ("sending" in line) {
        journal.batches.set(line.batch, { ...line });
        journal.lastBatch = Math.max(journal.lastBatch, line.batch);
      } else if ("sent" in line) {
        const batch = journal.batches.get(line.batch);
        if (batch) batch.tx = line.sent;
      } else if ("loanId" in line) {
        journal.loans.set(line.ref, line);
        if (line.batch !== undefined) journal.batches.delete(line.batch);
      }
    }
    // A line cut short by a crash ends the file without a newline. Nothing it announced was done, so it goes: kept and
    // ended, it would sit between whole lines, and the next resume would refuse the journal.
    if (write && text.length > 0 && !text.endsWith("\n")) {
      truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1), "utf8"));
    }
    return journal;
  }

  /** The number of the last batch written, by this run or an earlier one. */
  lastBatch = 0;

  /**
   * Transactions the journal saw sent but never saw mined: each is waited for (a node still holding it mines it), so
   * that the chain, read afterwards, shows everything the stopped import did. Returns how many were found mined.
   */
  async settle(provider: Provider): Promise<number> {
    let landed = 0;
    for (const batch of this.batches.values()) {
      if (!batch.tx) continue;
      const known = await provider.getTransaction(batch.tx);
      if (!known) continue; // never reached the node: nothing of it is on chain
      const receipt = await mined(known).catch(() => undefined);
      if (receipt?.status === 1) landed += 1;
    }
    this.batches.clear();
    return landed;
  }

  /** Before a batch is sent: the references it carries. */
  sending(batch: number, refs: readonly string[]): void {
    this.lastBatch = Math.max(this.lastBatch, batch);
    this.append({ batch, sending: [...refs] });
  }

  /** The node took the batch's transaction. */
  sent(batch: number, tx: string): void {
    this.append({ batch, sent: tx });
  }

  /** Loans the chain shows anchored, by this import or before it. */
  anchored(loans: readonly JournalLoan[]): void {
    for (const loan of loans) this.loans.set(loan.ref, loan);
    if (loans.length) this.write(loans.map((loan) => JSON.stringify(loan) + "\n").join(""));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(line: Line): void {
    this.write(JSON.stringify(line) + "\n");
  }

  /** Appends and flushes to disk before returning: a line the import relies on must survive a crash right after. */
  private write(text: string): void {
    this.fd ??= openSync(this.path, "a");
    writeSync(this.fd, text);
    fsyncSync(this.fd);
  }
}
