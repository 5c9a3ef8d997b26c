/**
 * Reconciles a custody bank's statement with the ledger: each booked entry is matched to the token's issue (a credit)
 * or redemption (a debit) of the same bank reference, then compared by direction, amount and date; the statement's
 * closing balance is compared with the token's supply at the statement's cut-off (the last block at or before its end),
 * to the wei. Every difference is a break, and the report names each one.
 */
import { NO_BANK_REF, operations, type Address, type CustodyMovement, type Hash32 } from "../../client/index.js";
import { addDays, type Statement, type StatementEntry } from "./statement.js";

export const RECONCILIATION_SCHEMA = "loanledger.custody-reconciliation.v1";

/** The ledger's side: its movements up to the cut-off block, and what the token held there. */
export interface LedgerSide {
  token: Address;
  /** The last block at or before the statement's end, and its time (seconds). */
  cutoffBlock: number;
  cutoffTime: number;
  /** The bank's issues and redemptions up to the cut-off block, in chain order. */
  movements: readonly CustodyMovement[];
  /** The token's supply at the cut-off block (every bank's money). */
  supply: bigint;
  /** The custody bank the statement is of, and what it held for the ledger at the cut-off. */
  bank: { address: Address; outstanding: bigint };
}

export interface MovementRef {
  kind: CustodyMovement["kind"];
  bank: Address;
  account: Address;
  amount: bigint;
  bankRef: Hash32;
  block: number;
  time: string;
  transaction: string;
}

export interface Pair {
  entry: StatementEntry;
  movement: MovementRef;
}

export interface Mismatch extends Pair {
  /** What differs besides the amount: the direction (a credit the ledger redeemed, say), or the date: an issue before
   * its credit was booked or more than a day after, a redemption more than a day before its debit or after it. */
  what: "direction" | "date";
}

export interface Duplicate {
  bankRef: Hash32;
  endToEndId: string;
  /** The statement's entries that carry it (two or more), or the ledger's movements (two or more). */
  entries: string[];
  movements: MovementRef[];
}

export interface Reconciliation {
  schema: typeof RECONCILIATION_SCHEMA;
  statement: Pick<Statement, "format" | "account" | "currency" | "from" | "to" | "opening" | "closing"> & {
    id: string;
    entries: number;
    /** SHA-256 of the statement file, so that the report names exactly what it read. */
    sha256: string;
  };
  ledger: {
    token: Address;
    bank: Address;
    cutoffBlock: number;
    cutoffTime: string;
    supply: bigint;
    movements: number;
    /** Booking dates are compared with the movements' dates in this time zone, the bank's. */
    timeZone: string;
  };
  matched: Pair[];
  statementOnly: StatementEntry[];
  ledgerOnly: MovementRef[];
  amountDiffers: Pair[];
  mismatched: Mismatch[];
  duplicates: Duplicate[];
  balance: {
    closing: bigint;
    /** What the bank held for the ledger at the cut-off (what it issued less what it redeemed): the supply, when it is
     * the only bank. */
    outstanding: bigint;
    difference: bigint;
    ok: boolean;
  };
  breaks: number;
  ok: boolean;
}

function ref(m: CustodyMovement): MovementRef {
  return {
    kind: m.kind,
    bank: m.bank,
    account: m.account,
    amount: m.amount,
    bankRef: m.bankRef,
    block: m.block,
    time: new Date(m.time * 1000).toISOString(),
    transaction: m.transaction,
  };
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Whether a movement on local date `on` may be the booking of `entry`: the bank issues once the credit is booked (the
 * same day or the next), and redeems before it pays (the same day or the one before). */
function sameBooking(entry: StatementEntry, kind: CustodyMovement["kind"], on: string): boolean {
  const day = entry.bookingDate;
  return kind === "issue" ? on === day || on === addDays(day, 1) : on === day || on === addDays(day, -1);
}

/** Reconciles `statement` (whose file hashed to `sha256`) with `ledger`, dates in `timeZone`. */
export function reconcile(
  statement: Statement,
  ledger: LedgerSide,
  sha256: string,
  timeZone: string = operations.DEFAULT_TIME_ZONE,
): Reconciliation {
  const from = seconds(statement.from);
  const to = seconds(statement.to);
  const inPeriod = new Map<string, CustodyMovement[]>();
  const anywhere = new Map<string, CustodyMovement>();
  for (const m of ledger.movements) {
    anywhere.set(m.bankRef, m);
    if (m.time < from || m.time > to) continue;
    const same = inPeriod.get(m.bankRef);
    if (same) same.push(m);
    else inPeriod.set(m.bankRef, [m]);
  }
  const byRef = new Map<string, StatementEntry[]>();
  // Offsets from UTC are whole quarters of an hour: one look-up per quarter serves every block within it.
  const dates = new Map<number, string>();
  const localDate = (time: number) => {
    const quarter = Math.floor(time / 900);
    let date = dates.get(quarter);
    if (date === undefined) {
      date = operations.localIso(quarter * 900, timeZone).slice(0, 10);
      dates.set(quarter, date);
    }
    return date;
  };
  const unreferenced: StatementEntry[] = [];
  for (const e of statement.entries) {
    if (e.bankRef === NO_BANK_REF) {
      unreferenced.push(e);
      continue;
    }
    const same = byRef.get(e.bankRef);
    if (same) same.push(e);
    else byRef.set(e.bankRef, [e]);
  }

  const r: Pick<
    Reconciliation,
    "matched" | "statementOnly" | "ledgerOnly" | "amountDiffers" | "mismatched" | "duplicates"
  > = {
    matched: [],
    statementOnly: [...unreferenced],
    ledgerOnly: [],
    amountDiffers: [],
    mismatched: [],
    duplicates: [],
  };
  for (const [bankRef, entries] of byRef) {
    const movements = inPeriod.get(bankRef) ?? [];
    if (entries.length > 1 || movements.length > 1) {
      r.duplicates.push({
        bankRef: bankRef as Hash32,
        endToEndId: entries[0].endToEndId,
        entries: entries.map((e) => e.entryId),
        movements: movements.map(ref),
      });
    }
    const entry = entries[0];
    const movement = movements[0];
    if (!movement) {
      const elsewhere = anywhere.get(bankRef);
      // On the ledger, but in another period: the dates disagree, not the money.
      if (elsewhere) r.mismatched.push({ entry, movement: ref(elsewhere), what: "date" });
      else r.statementOnly.push(entry);
      continue;
    }
    const pair = { entry, movement: ref(movement) };
    const direction = movement.kind === "issue" ? "credit" : "debit";
    if (entry.direction !== direction) r.mismatched.push({ ...pair, what: "direction" });
    else if (entry.amount !== movement.amount) r.amountDiffers.push(pair);
    else if (!sameBooking(entry, movement.kind, localDate(movement.time))) {
      r.mismatched.push({ ...pair, what: "date" });
    } else r.matched.push(pair);
  }
  for (const [bankRef, movements] of inPeriod) {
    if (!byRef.has(bankRef)) for (const m of movements) r.ledgerOnly.push(ref(m));
  }

  const outstanding = ledger.bank.outstanding;
  const balance = {
    closing: statement.closing,
    outstanding,
    difference: statement.closing - outstanding,
    ok: statement.closing === outstanding,
  };
  const breaks =
    r.statementOnly.length +
    r.ledgerOnly.length +
    r.amountDiffers.length +
    r.mismatched.length +
    r.duplicates.length +
    (balance.ok ? 0 : 1);
  return {
    schema: RECONCILIATION_SCHEMA,
    statement: {
      format: statement.format,
      id: statement.statementId,
      account: statement.account,
      currency: statement.currency,
      from: statement.from,
      to: statement.to,
      opening: statement.opening,
      closing: statement.closing,
      entries: statement.entries.length,
      sha256,
    },
    ledger: {
      token: ledger.token,
      bank: ledger.bank.address,
      timeZone,
      cutoffBlock: ledger.cutoffBlock,
      cutoffTime: new Date(ledger.cutoffTime * 1000).toISOString(),
      supply: ledger.supply,
      movements: ledger.movements.length,
    },
    ...r,
    balance,
    breaks,
    ok: breaks === 0,
  };
}

/** Each break in one line, as the command prints them and the Markdown report lists them. */
export function breakLines(r: Reconciliation, amount: (value: bigint) => string): string[] {
  const lines: string[] = [];
  for (const e of r.statementOnly) {
    lines.push(
      `on the statement, not on the ledger: entry ${e.entryId} (${e.endToEndId}), ${e.direction} ${amount(e.amount)}`,
    );
  }
  for (const m of r.ledgerOnly) {
    lines.push(
      `on the ledger, not on the statement: ${m.kind} of ${amount(m.amount)} at block ${m.block} (reference ${m.bankRef.slice(0, 10)}…)`,
    );
  }
  for (const p of r.amountDiffers) {
    lines.push(
      `amount differs: entry ${p.entry.entryId} (${p.entry.endToEndId}) is ${amount(p.entry.amount)}, the ledger's ${p.movement.kind} ${amount(p.movement.amount)}`,
    );
  }
  for (const p of r.mismatched) {
    lines.push(
      p.what === "direction"
        ? `direction differs: entry ${p.entry.entryId} (${p.entry.endToEndId}) is a ${p.entry.direction}, the ledger's movement a ${p.movement.kind}`
        : `date differs: entry ${p.entry.entryId} (${p.entry.endToEndId}) was booked ${p.entry.bookingDate}, the ledger's ${p.movement.kind} is of ${p.movement.time}`,
    );
  }
  for (const d of r.duplicates) {
    lines.push(
      `duplicate reference ${d.endToEndId}: statement entries ${d.entries.join(", ")}` +
        (d.movements.length > 1 ? `, ledger blocks ${d.movements.map((m) => m.block).join(", ")}` : ""),
    );
  }
  if (!r.balance.ok) {
    lines.push(
      `closing balance ${amount(r.balance.closing)} differs from what the bank holds for the ledger, ` +
        `${amount(r.balance.outstanding)} at block ${r.ledger.cutoffBlock}, by ${amount(r.balance.difference)}`,
    );
  }
  return lines;
}

/** The report for people: what was read, the totals, and every break. */
export function reconciliationMarkdown(r: Reconciliation, amount: (value: bigint) => string): string {
  const s = r.statement;
  const lines = [
    `# Custody reconciliation: statement ${s.id}`,
    "",
    r.ok ? "**Reconciled: no breaks.**" : `**${r.breaks} break(s).**`,
    "",
    "| | |",
    "|---|---|",
    `| account | ${s.account} (${s.currency}) |`,
    `| period | ${s.from} to ${s.to} |`,
    `| statement | ${s.format}, ${s.entries} booked entries, SHA-256 ${s.sha256} |`,
    `| ledger | token ${r.ledger.token}, cut-off block ${r.ledger.cutoffBlock} (${r.ledger.cutoffTime}) |`,
    `| matched | ${r.matched.length} |`,
    `| on the statement only | ${r.statementOnly.length} |`,
    `| on the ledger only | ${r.ledgerOnly.length} |`,
    `| amounts that differ | ${r.amountDiffers.length} |`,
    `| directions or dates that differ | ${r.mismatched.length} |`,
    `| duplicate references | ${r.duplicates.length} |`,
    `| closing balance | ${amount(r.balance.closing)} |`,
    `| the bank's outstanding at the cut-off | ${amount(r.balance.outstanding)}${r.balance.ok ? " (equal)" : ` (difference ${amount(r.balance.difference)})`} |`,
    `| supply at the cut-off | ${amount(r.ledger.supply)} |`,
    "",
  ];
  const breaks = breakLines(r, amount);
  if (breaks.length) lines.push("## Breaks", "", ...breaks.map((b) => `- ${b}`), "");
  return lines.join("\n");
}
