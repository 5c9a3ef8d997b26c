/**
 * The custody token in an audit: its money events travel with the export's money records, its figures (supply, each
 * bank's book, the escrow of pending withdrawals) with the manifest, and the verifier replays the events against the
 * figures. Every issue and redemption must carry a bank reference, no bank may use one twice, each bank's book must be
 * what its events add up to, the books must add up to the supply, and a repayment that names a bank reference must
 * name one an issue used, for no more than that issue brought in.
 */
import type { Provider } from "ethers";
import { CUSTODY_CONTRACT, CustodyClient } from "../../client/index.js";
import type { EventRecord, Json } from "../../records/index.js";

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
const big = (v: Json | undefined) => BigInt(String(v ?? 0));

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

  private found(record: EventRecord, message: string): void {
    this.findings.push({
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

  /** Takes one money record of the export (the custody token's, and the splitter's repayments). */
  event(record: EventRecord): void {
    const a = record.args;
    if (record.event === "RepaymentSplit" && record.contract !== CUSTODY_CONTRACT) {
      const ref = String(a.bankRef ?? ZERO_REF).toLowerCase();
      if (ref === ZERO_REF) return;
      this.referencedRepayments += 1;
      const cited = this.byRef.get(ref);
      if (!cited) {
        this.found(record, `a repayment names bank reference ${ref.slice(0, 10)}…, which no issue before it used`);
        return;
      }
      cited.repaid += big(a.amount);
      if (cited.repaid > cited.issued) {
        this.found(
          record,
          `repayments naming bank reference ${ref.slice(0, 10)}… paid ${cited.repaid}, more than the ${cited.issued} ` +
            `its issue brought to the ledger`,
        );
      }
      return;
    }
    if (record.contract !== CUSTODY_CONTRACT) return;
    const bank = String(a.bank ?? "").toLowerCase();
    switch (record.event) {
      case "Issued":
      case "Redeemed": {
        const ref = String(a.bankRef ?? ZERO_REF).toLowerCase();
        const what = record.event === "Issued" ? "an issue" : "a redemption";
        if (ref === ZERO_REF)
          this.found(record, `${what} of ${big(a.amount)} by bank ${bank} carries no bank reference`);
        else if (this.used.has(`${bank}:${ref}`)) {
          this.found(record, `bank ${bank} used reference ${ref.slice(0, 10)}… a second time, for ${what}`);
        }
        this.used.add(`${bank}:${ref}`);
        if (record.event === "Issued") {
          this.issues += 1;
          this.book(bank).issued += big(a.amount);
          const cited = this.byRef.get(ref) ?? { issued: 0n, repaid: 0n };
          cited.issued += big(a.amount);
          this.byRef.set(ref, cited);
        } else {
          this.redemptions += 1;
          this.book(bank).redeemed += big(a.amount);
          this.escrow -= big(a.amount);
        }
        break;
      }
      case "WithdrawalRequested":
        this.escrow += big(a.amount);
        break;
      case "WithdrawalReturned":
        this.escrow -= big(a.amount);
        break;
    }
  }

  /**
   * The findings and the statement, against `figures` (the export's, or a node's when `source` is "chain", which the
   * export's own, `exported`, must then equal); none when the ledger settles in no custody token.
   */
  judge(
    figures: CustodyFigures | undefined,
    source: "chain" | "export",
    exported?: CustodyFigures,
  ): { statement?: CustodyStatement; findings: CustodyFinding[] } {
    const findings = [...this.findings];
    if (figures && exported && JSON.stringify(exported) !== JSON.stringify(figures)) {
      findings.push({
        message: `the export's custody figures at block ${exported.block} are not the chain's: ${JSON.stringify(figures)}`,
      });
    }
    if (!figures) {
      if (this.issues + this.redemptions > 0) {
        findings.push({ message: "the export holds the custody token's issues and redemptions but not its figures" });
      }
      return { findings };
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
