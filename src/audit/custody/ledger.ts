/**
 * The custody token in an audit: its money events travel with the export's money records, its figures (supply, each
 * bank's book, the escrow of pending withdrawals) with the manifest, and the verifier replays the events against the
 * figures. Every issue and redemption must carry a bank reference, no bank may use one twice, each bank's book must be
 * what its events add up to, the books must add up to the supply, and a repayment that names a bank reference must
 * name one an issue used, for no more than that issue brought in.
 */
import type { Provider } from "ethers";
import { CUSTODY_CONTRACT, CUSTODY_EVENTS, CustodyClient } from "../../client/index.js";
import type { EventRecord, Json, LoanRecord } from "../../records/index.js";

// The export keeps the token's custody events (never its plain transfers and approvals), under this name.
export { CUSTODY_CONTRACT, CUSTODY_EVENTS } from "../../client/index.js";

/** What the custody token held at the export's block: read from the chain, kept in the manifest. */
export interface CustodyFigures {
  token: string;
  block: number;
  supply: string;
  /** The token's own balance: the escrow of withdrawals requested and neither redeemed nor returned. */
  escrow: string;
  /** Each bank's book, by address (lower case). */
  books: Record<string, { issued: string; redeemed: string }>;
}

/** The custody token at `token`, or undefined when the settlement token is no custody deposit token. */
export async function custodyTokenAt(provider: Provider, token: string): Promise<CustodyClient | undefined> {
  const client = new CustodyClient(token, provider);
  return (await client.isCustodyToken()) ? client : undefined;
}

/** The custody figures at `blockTag`, for every bank in `banks`. */
export async function readCustodyFigures(
  custody: CustodyClient,
  banks: Iterable<string>,
  block: number,
  call: <T>(read: () => Promise<T>) => Promise<T> = (read) => read(),
): Promise<CustodyFigures> {
  const at = { blockTag: block };
  const token = String(custody.contract.target);
  const [supply, escrow] = await Promise.all([
    call(() => custody.contract.totalSupply(at)),
    call(() => custody.contract.balanceOf(token, at)),
  ]);
  const books: CustodyFigures["books"] = {};
  for (const bank of [...new Set([...banks].map((b) => b.toLowerCase()))].sort()) {
    const book = await call(() => custody.contract.bookOf(bank, at));
    books[bank] = { issued: book.issued.toString(), redeemed: book.redeemed.toString() };
  }
  return { token, block, supply: supply.toString(), escrow: escrow.toString(), books };
}

/** The banks a custody record names. */
export function banksOf(record: EventRecord): string[] {
  const bank = record.args.bank;
  return typeof bank === "string" ? [bank.toLowerCase()] : [];
}

/** What a report says about custody. */
export interface CustodyStatement {
  /** "chain": the figures were read from a node by this verification; "export": the manifest's, proven by nothing. */
  source: "chain" | "export";
  token: string;
  block: number;
  supply: string;
  banks: { bank: string; issued: string; redeemed: string; outstanding: string }[];
  issues: number;
  redemptions: number;
  /** Repayments that name the bank payment behind them. */
  referencedRepayments: number;
}

export interface CustodyFinding {
  message: string;
  blockNumber?: number;
  transactionHash?: string;
  logIndex?: number;
}

const ZERO_REF = "0x" + "0".repeat(64);
const KNOWN = new Set<string>(CUSTODY_EVENTS);

/** A whole number of the token's smallest unit, or undefined for anything else (an edited record). */
function whole(v: Json | undefined): bigint | undefined {
  const text = String(v ?? "");
  return /^\d+$/.test(text) ? BigInt(text) : undefined;
}

/** What is wrong with `figures` as a manifest gives them, if anything. */
function malformed(figures: CustodyFigures): string | undefined {
  if (typeof figures !== "object" || figures === null) return "they are not an object";
  if (whole(figures.supply) === undefined) return `the supply "${String(figures.supply)}" is no amount`;
  if (whole(figures.escrow) === undefined) return `the escrow "${String(figures.escrow)}" is no amount`;
  if (typeof figures.books !== "object" || figures.books === null) return "they hold no books";
  for (const [bank, book] of Object.entries(figures.books)) {
    if (whole(book?.issued) === undefined || whole(book?.redeemed) === undefined)
      return `bank ${bank}'s book is no amounts`;
  }
  return undefined;
}

/** The custody events of an export, replayed one at a time in chain order, then judged against the figures. */
export class CustodyReplay {
  private readonly books = new Map<string, { issued: bigint; redeemed: bigint }>();
  private readonly used = new Set<string>();
  /** Per bank reference: what issues under it brought in, and what repayments citing it paid. */
  private readonly byRef = new Map<string, { issued: bigint; repaid: bigint }>();
  private escrow = 0n;
  private issues = 0;
  private redemptions = 0;
  private referencedRepayments = 0;
  private readonly findings: CustodyFinding[] = [];
  /** Findings about repayments' references: they count only where the ledger settles in a custody token. */
  private readonly referenceFindings: CustodyFinding[] = [];

  private found(
    record: Pick<EventRecord, "blockNumber" | "transactionHash" | "logIndex">,
    message: string,
    into = this.findings,
  ): void {
    into.push({
      message,
      blockNumber: record.blockNumber,
      transactionHash: record.transactionHash,
      logIndex: record.logIndex,
    });
  }

  private book(bank: string) {
    let book = this.books.get(bank);
    if (!book) this.books.set(bank, (book = { issued: 0n, redeemed: 0n }));
    return book;
  }

  /** The amount of `record`, or undefined (and a finding) when the record was edited into something else. */
  private amount(record: EventRecord): bigint | undefined {
    const value = whole(record.args?.amount);
    if (value === undefined)
      this.found(record, `${record.event}'s amount "${String(record.args?.amount)}" is no amount`);
    return value;
  }

  /** Takes a loan's history record: a repayment may name the bank payment behind it. */
  fact(record: LoanRecord): void {
    const f = record.fact ?? {};
    if (f.kind !== "RepaymentRecorded") return;
    const ref = String(f.bankRef ?? ZERO_REF).toLowerCase();
    if (ref === ZERO_REF) return;
    this.referencedRepayments += 1;
    const cited = this.byRef.get(ref);
    if (!cited) {
      this.found(
        record,
        `loan ${record.loanId}'s repayment names bank reference ${ref.slice(0, 10)}…, which no issue before it used`,
        this.referenceFindings,
      );
      return;
    }
    cited.repaid += whole(f.amount) ?? 0n;
    if (cited.repaid > cited.issued) {
      this.found(
        record,
        `repayments naming bank reference ${ref.slice(0, 10)}… recorded ${cited.repaid}, more than the ` +
          `${cited.issued} its issue brought to the ledger`,
        this.referenceFindings,
      );
    }
  }

  /** Takes one money record of the export: the custody token's are replayed, the others are not its business. */
  event(record: EventRecord): void {
    const a = record.args ?? {};
    if (record.contract !== CUSTODY_CONTRACT) return;
    if (!KNOWN.has(record.event)) {
      this.found(record, `the custody token has no event ${record.event}: the record was made up or relabelled`);
      return;
    }
    const bank = String(a.bank ?? "").toLowerCase();
    switch (record.event) {
      case "Issued":
      case "Redeemed": {
        const ref = String(a.bankRef ?? ZERO_REF).toLowerCase();
        const what = record.event === "Issued" ? "an issue" : "a redemption";
        if (ref === ZERO_REF) {
          this.found(record, `${what} of ${String(a.amount)} by bank ${bank} carries no bank reference`);
        } else if (this.used.has(`${bank}:${ref}`)) {
          this.found(record, `bank ${bank} used reference ${ref.slice(0, 10)}… a second time, for ${what}`);
        }
        this.used.add(`${bank}:${ref}`);
        const amount = this.amount(record) ?? 0n;
        if (record.event === "Issued") {
          this.issues += 1;
          this.book(bank).issued += amount;
          const cited = this.byRef.get(ref) ?? { issued: 0n, repaid: 0n };
          cited.issued += amount;
          this.byRef.set(ref, cited);
        } else {
          this.redemptions += 1;
          this.book(bank).redeemed += amount;
          this.escrow -= amount;
        }
        break;
      }
      case "WithdrawalRequested":
        this.escrow += this.amount(record) ?? 0n;
        break;
      case "WithdrawalReturned":
        this.escrow -= this.amount(record) ?? 0n;
        break;
    }
  }

  /**
   * The findings and the statement, against `figures` (the export's, or a node's when `source` is "chain"); a proof
   * also gives the export's own, `exported`, which must equal the chain's. None when the ledger settles in no custody
   * token.
   */
  judge(
    figures: CustodyFigures | undefined,
    source: "chain" | "export",
    exported?: CustodyFigures | null,
    block?: number,
  ): { statement?: CustodyStatement; findings: CustodyFinding[] } {
    const findings = [...this.findings];
    // `exported`: the export's own figures, when a proof compares them with the chain's (null: it records none).
    if (exported !== undefined && figures) {
      if (!exported) {
        findings.push({ message: "the ledger settles in a custody token, but the export records no custody figures" });
      } else if (JSON.stringify(exported) !== JSON.stringify(figures)) {
        findings.push({
          message: `the export's custody figures are not the chain's at block ${figures.block}: ${JSON.stringify(figures)}`,
        });
      }
    }
    if (!figures) {
      // A stand-in token keeps no references: what repayments say of one is no custody fact.
      if (this.issues + this.redemptions > 0) {
        findings.push({ message: "the export holds the custody token's issues and redemptions but not its figures" });
      }
      return { findings };
    }
    findings.push(...this.referenceFindings);
    const wrong = malformed(figures);
    if (wrong) {
      findings.push({ message: `the custody figures cannot be read: ${wrong}` });
      return { findings };
    }
    if (block !== undefined && figures.block !== block) {
      findings.push({ message: `the custody figures are of block ${figures.block}, not the export's block ${block}` });
    }
    const banks = new Set([...Object.keys(figures.books), ...this.books.keys()]);
    let outstanding = 0n;
    const lines: CustodyStatement["banks"] = [];
    for (const bank of [...banks].sort()) {
      const mine = this.books.get(bank) ?? { issued: 0n, redeemed: 0n };
      const stated = figures.books[bank];
      const issued = BigInt(stated?.issued ?? 0);
      const redeemed = BigInt(stated?.redeemed ?? 0);
      if (!stated || issued !== mine.issued || redeemed !== mine.redeemed) {
        findings.push({
          message:
            `at block ${figures.block} bank ${bank}'s book shows ${issued} issued and ${redeemed} redeemed, but its ` +
            `events add up to ${mine.issued} and ${mine.redeemed}`,
        });
      }
      outstanding += issued - redeemed;
      lines.push({
        bank,
        issued: issued.toString(),
        redeemed: redeemed.toString(),
        outstanding: (issued - redeemed).toString(),
      });
    }
    if (BigInt(figures.supply) !== outstanding) {
      findings.push({
        message: `at block ${figures.block} the supply is ${figures.supply}, but the banks hold ${outstanding} for the ledger`,
      });
    }
    if (BigInt(figures.escrow) !== this.escrow) {
      findings.push({
        message:
          `at block ${figures.block} the token holds ${figures.escrow} in escrow, but the withdrawals pending add up to ` +
          `${this.escrow}`,
      });
    }
    return {
      statement: {
        source,
        token: figures.token,
        block: figures.block,
        supply: figures.supply,
        banks: lines,
        issues: this.issues,
        redemptions: this.redemptions,
        referencedRepayments: this.referencedRepayments,
      },
      findings,
    };
  }
}
