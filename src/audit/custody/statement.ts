/**
 * A custody bank's account statement, read from ISO 20022 camt.053 (BankToCustomerStatement, any version from .02) or
 * from the CSV layout documented in docs/custody.md. Either way it becomes one {@link Statement}: the account, the
 * currency, the period, the opening and closing booked balances, and the booked entries with their end-to-end ids.
 *
 * A statement that cannot be trusted as a whole is refused with one sentence ({@link StatementError}): malformed XML,
 * a message that is not a statement or lacks what one must hold, amounts in another currency, an entry id twice, or
 * balances that do not add up.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { bankReference, LoanLedgerError, NO_BANK_REF, type Hash32 } from "../../client/index.js";

/** The statement cannot be reconciled as it is: one sentence says why. */
export class StatementError extends LoanLedgerError {
  override readonly name = "StatementError";
}

export interface StatementEntry {
  /** The bank's id of the entry (camt.053 `NtryRef`, else `AcctSvcrRef`; the CSV's `entry_id`), unique in a statement. */
  entryId: string;
  direction: "credit" | "debit";
  /** In the token's smallest unit: the statement's decimal amount × 10^decimals, exactly. */
  amount: bigint;
  /** As the statement writes it, for the report. */
  amountText: string;
  /** Booking date, `YYYY-MM-DD`. */
  bookingDate: string;
  /** The payment's end-to-end id (or, when the payer gave none, its UETR), as written; empty when the entry has none
   * (a bank charge, interest): such an entry is no ledger movement, and the reconciliation reports it as a break. */
  endToEndId: string;
  /** Its ledger form ({@link bankReference}), zero when there is none. */
  bankRef: Hash32;
}

export interface Statement {
  format: "camt.053" | "csv";
  /** The bank's id of the statement (camt.053 `Stmt/Id`; the CSV's file-level `statement_id`). */
  statementId: string;
  /** The custody account's id: its IBAN, or the bank's other id. */
  account: string;
  currency: string;
  /** The period covered, as UTC instants (ISO 8601): entries booked from `from` up to and including `to`. */
  from: string;
  to: string;
  opening: bigint;
  closing: bigint;
  entries: StatementEntry[];
}

const CURRENCY = /^[A-Z]{3}$/;
const DECIMAL = /^(\d{1,18})(?:\.(\d{1,5}))?$/;

/** `text` (a decimal amount, at most 5 places) in units of 10^-decimals. */
export function parseAmount(text: string, decimals: number, where: string): bigint {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new StatementError(`${where}: "${text}" is not an amount`);
  const fraction = (match[2] ?? "").padEnd(decimals, "0");
  if (fraction.length > decimals) throw new StatementError(`${where}: "${text}" has more decimals than the token`);
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction === "" ? "0" : fraction);
}

/** A date or date-time as a UTC instant; a bare date is the start (or, with `end`, the last second) of that UTC day. */
function instant(text: string, where: string, end = false): string {
  const t = text.trim();
  const value = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T${end ? "23:59:59" : "00:00:00"}Z` : t;
  const ms = Date.parse(value);
  const date = /^(\d{4})-(\d{2})-(\d{2})/.exec(t);
  // Date.parse moves 30 February to 1 March: a date that does not exist is refused, not shifted.
  const exists = date && new Date(Date.UTC(+date[1], +date[2] - 1, +date[3])).getUTCDate() === +date[3];
  if (!exists || Number.isNaN(ms)) throw new StatementError(`${where}: "${text}" is not a date`);
  return new Date(ms).toISOString();
}

function day(text: string, where: string): string {
  return instant(text, where).slice(0, 10);
}

function checkTotals(s: Statement): void {
  let balance = s.opening;
  for (const e of s.entries) balance += e.direction === "credit" ? e.amount : -e.amount;
  if (balance !== s.closing) {
    throw new StatementError(
      `the statement does not add up: the opening balance and its ${s.entries.length} entries make ${balance}, ` +
        `not the closing balance ${s.closing} (in the token's smallest unit)`,
    );
  }
  if (s.from > s.to) throw new StatementError(`the statement's period ends (${s.to}) before it begins (${s.from})`);
  // A booking date is the bank's local day, which may begin up to 14 hours before the UTC day of the same date.
  const first = s.from.slice(0, 10);
  const last = s.to.slice(0, 10);
  for (const e of s.entries) {
    if (e.bookingDate < addDays(first, -1) || e.bookingDate > addDays(last, 1)) {
      throw new StatementError(
        `entry ${e.entryId} was booked ${e.bookingDate}, outside the statement's period (${s.from} to ${s.to})`,
      );
    }
  }
  const seen = new Set<string>();
  for (const e of s.entries) {
    if (seen.has(e.entryId)) throw new StatementError(`entry id ${e.entryId} appears twice in the statement`);
    seen.add(e.entryId);
  }
}

/** `date` (YYYY-MM-DD) moved by `days`. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The ledger reference of a payment's id; none (zero) for an entry without one, which no ledger movement can match. */
function reference(endToEndId: string | undefined, where: string): { endToEndId: string; bankRef: Hash32 } {
  const id = endToEndId?.trim() ?? "";
  if (id === "" || id === "NOTPROVIDED") return { endToEndId: "", bankRef: NO_BANK_REF };
  try {
    return { endToEndId: id, bankRef: bankReference(id) };
  } catch (error) {
    throw new StatementError(`${where}: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------- camt.053

type Node = Record<string, unknown>;
const CAMT053 = /^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$/;

function child(node: unknown, name: string, where: string): Node {
  const value = (node as Node | undefined)?.[name];
  if (value === undefined || value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new StatementError(`not a camt.053 statement: ${where} has no single ${name}`);
  }
  return value as Node;
}

function text(node: unknown, name: string, where: string): string {
  const value = (node as Node | undefined)?.[name];
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (value && typeof value === "object" && "#text" in value) return String((value as Node)["#text"]);
  throw new StatementError(`not a camt.053 statement: ${where} has no ${name}`);
}

function optionalText(node: unknown, name: string): string | undefined {
  const value = (node as Node | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (value && typeof value === "object" && "#text" in value) return String((value as Node)["#text"]);
  return undefined;
}

function list(node: unknown, name: string): Node[] {
  const value = (node as Node | undefined)?.[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as Node[];
}

/** An `Amt` element: its value in the token's unit and its currency (attribute `Ccy`). */
function amountOf(node: Node, where: string, decimals: number): { amount: bigint; text: string; currency: string } {
  const amt = node.Amt;
  if (amt === undefined || typeof amt !== "object" || amt === null) {
    throw new StatementError(`not a camt.053 statement: ${where} has no Amt`);
  }
  const value = String((amt as Node)["#text"] ?? "");
  const currency = String((amt as Node)["@_Ccy"] ?? "");
  if (!CURRENCY.test(currency)) throw new StatementError(`${where}: the amount has no currency (Ccy)`);
  return { amount: parseAmount(value, decimals, where), text: value, currency };
}

function parseCamt053(xml: string, decimals: number): Statement {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new StatementError(`the statement is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    isArray: (name) => name === "Ntry" || name === "Bal" || name === "Stmt" || name === "TxDtls",
  });
  let document: Node;
  try {
    document = parser.parse(xml) as Node;
  } catch (error) {
    // The parser refuses some well-formed documents too (names it keeps for itself, nesting beyond its limit).
    throw new StatementError(`the statement cannot be read as XML: ${(error as Error).message.split("\n")[0]}`);
  }
  const root = document.Document as Node | undefined;
  // The parser drops namespace declarations with their prefixes: the root element's own says what the message is.
  const namespace = /<(?:[\w.-]+:)?Document\b[^>]*?\sxmlns(?::[\w.-]+)?="([^"]*)"/.exec(xml)?.[1] ?? "";
  if (!root || !CAMT053.test(namespace) || Number(CAMT053.exec(namespace)?.[1]) < 2) {
    throw new StatementError(
      `not a camt.053 statement: the document's namespace is "${namespace}", not urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN`,
    );
  }
  const message = child(root, "BkToCstmrStmt", "Document");
  const statements = list(message, "Stmt");
  if (statements.length !== 1) {
    throw new StatementError(
      `the message holds ${statements.length} statements: reconcile one account's statement at a time`,
    );
  }
  const stmt = statements[0];
  const statementId = text(stmt, "Id", "Stmt");
  const acct = child(stmt, "Acct", "Stmt");
  const id = child(acct, "Id", "Stmt/Acct");
  const account = optionalText(id, "IBAN") ?? optionalText(child(id, "Othr", "Stmt/Acct/Id"), "Id");
  if (!account) throw new StatementError("not a camt.053 statement: Stmt/Acct/Id has neither IBAN nor Othr/Id");
  const currency = optionalText(acct, "Ccy");

  const period = (stmt as Node).FrToDt as Node | undefined;
  const balances = new Map<string, { amount: bigint; currency: string; date: string }>();
  for (const bal of list(stmt, "Bal")) {
    const code = text(child(child(bal, "Tp", "Bal"), "CdOrPrtry", "Bal/Tp"), "Cd", "Bal/Tp/CdOrPrtry");
    const { amount, currency: ccy } = amountOf(bal, `balance ${code}`, decimals);
    const sign = text(bal, "CdtDbtInd", `balance ${code}`);
    if (sign !== "CRDT" && sign !== "DBIT") throw new StatementError(`balance ${code}: CdtDbtInd is "${sign}"`);
    const dt = child(bal, "Dt", `balance ${code}`);
    const date = optionalText(dt, "DtTm") ?? text(dt, "Dt", `balance ${code}/Dt`);
    balances.set(code, { amount: sign === "CRDT" ? amount : -amount, currency: ccy, date });
  }
  const opening = balances.get("OPBD") ?? balances.get("PRCD");
  const closing = balances.get("CLBD");
  if (!opening || !closing) {
    throw new StatementError(
      "not a camt.053 statement: it needs an opening (OPBD or PRCD) and a closing (CLBD) balance",
    );
  }
  const statementCurrency = currency ?? closing.currency;
  for (const [code, b] of balances) {
    if (b.currency !== statementCurrency) {
      throw new StatementError(`balance ${code} is in ${b.currency}, the account in ${statementCurrency}`);
    }
  }
  const from = period ? instant(text(period, "FrDtTm", "FrToDt"), "FrToDt/FrDtTm") : instant(opening.date, "OPBD");
  const to = period ? instant(text(period, "ToDtTm", "FrToDt"), "FrToDt/ToDtTm") : instant(closing.date, "CLBD", true);

  const entries: StatementEntry[] = [];
  list(stmt, "Ntry").forEach((ntry, i) => {
    const where = `entry ${i + 1}`;
    // Up to version .07 the status is a code (`<Sts>BOOK</Sts>`), from .08 on a choice (`<Sts><Cd>BOOK</Cd></Sts>`).
    const status = optionalText(ntry, "Sts") ?? optionalText(ntry.Sts, "Cd");
    if (status === undefined) throw new StatementError(`not a camt.053 statement: ${where} has no status (Sts)`);
    if (status !== "BOOK") return;
    const { amount, text: amountText, currency: ccy } = amountOf(ntry, where, decimals);
    if (ccy !== statementCurrency)
      throw new StatementError(`${where} is in ${ccy}, the account in ${statementCurrency}`);
    const sign = text(ntry, "CdtDbtInd", where);
    if (sign !== "CRDT" && sign !== "DBIT") throw new StatementError(`${where}: CdtDbtInd is "${sign}"`);
    const booked = child(ntry, "BookgDt", where);
    const bookingDate = day(optionalText(booked, "DtTm") ?? text(booked, "Dt", `${where}/BookgDt`), `${where}/BookgDt`);
    const entryId = optionalText(ntry, "NtryRef") ?? text(ntry, "AcctSvcrRef", where);
    const direction = sign === "CRDT" ? "credit" : "debit";
    const details = list(ntry.NtryDtls, "TxDtls");
    // The payer's end-to-end id is the reference, or its UETR where it gave none.
    const idOf = (tx: Node | undefined) => {
      const refs = tx?.Refs as Node | undefined;
      const e2e = optionalText(refs, "EndToEndId");
      return e2e && e2e !== "NOTPROVIDED" ? e2e : optionalText(refs, "UETR");
    };
    if (details.length <= 1) {
      entries.push({ entryId, direction, amount, amountText, bookingDate, ...reference(idOf(details[0]), where) });
      return;
    }
    // A batch booking: each transaction is a payment of its own, with its own amount.
    let total = 0n;
    details.forEach((tx, k) => {
      const txWhere = `${where}, transaction ${k + 1}`;
      const txAmount = (tx.AmtDtls as Node | undefined)?.TxAmt ?? tx;
      const part = amountOf(txAmount as Node, txWhere, decimals);
      if (part.currency !== statementCurrency) {
        throw new StatementError(`${txWhere} is in ${part.currency}, the account in ${statementCurrency}`);
      }
      total += part.amount;
      entries.push({
        entryId: `${entryId}/${k + 1}`,
        direction,
        amount: part.amount,
        amountText: part.text,
        bookingDate,
        ...reference(idOf(tx), txWhere),
      });
    });
    if (total !== amount) {
      throw new StatementError(`${where}'s transactions add up to ${total}, not its amount ${amount}`);
    }
  });
  const statement: Statement = {
    format: "camt.053",
    statementId,
    account,
    currency: statementCurrency,
    from,
    to,
    opening: opening.amount,
    closing: closing.amount,
    entries,
  };
  checkTotals(statement);
  return statement;
}

// ---------------------------------------------------------------- CSV

/** The CSV layout's header: one row per entry, after `#` lines that give the statement's own fields. */
export const CSV_COLUMNS = ["entry_id", "booking_date", "direction", "amount", "currency", "end_to_end_id"] as const;
/** The statement's fields, each on a `# name: value` line before the header. */
export const CSV_FIELDS = ["statement_id", "account", "currency", "from", "to", "opening_balance", "closing_balance"];

function csvCells(line: string, where: string): string[] {
  const cells: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= line.length) throw new StatementError(`${where}: a quoted field is not closed`);
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else value += line[i++];
      }
      cells.push(value);
      if (i < line.length && line[i] !== ",") throw new StatementError(`${where}: text after a quoted field`);
      i++;
    } else {
      const end = line.indexOf(",", i);
      const stop = end === -1 ? line.length : end;
      cells.push(line.slice(i, stop).trim());
      i = stop + 1;
    }
  }
  return cells;
}

function parseCsv(csv: string, decimals: number): Statement {
  const lines = csv.split(/\r?\n/);
  const fields = new Map<string, string>();
  let i = 0;
  for (; i < lines.length && lines[i].startsWith("#"); i++) {
    const match = /^#\s*([a-z_]+)\s*:\s*(.*)$/.exec(lines[i]);
    if (match) fields.set(match[1], match[2].trim());
  }
  for (const name of CSV_FIELDS) {
    if (!fields.get(name)) throw new StatementError(`not a statement in the CSV layout: it has no "# ${name}:" line`);
  }
  const header = csvCells(lines[i] ?? "", "the header");
  if (header.join(",") !== CSV_COLUMNS.join(",")) {
    throw new StatementError(`not a statement in the CSV layout: the header is not ${CSV_COLUMNS.join(",")}`);
  }
  const currency = fields.get("currency")!;
  if (!CURRENCY.test(currency)) throw new StatementError(`"${currency}" is not a currency code`);
  const entries: StatementEntry[] = [];
  for (const [n, line] of lines.slice(i + 1).entries()) {
    if (line.trim() === "") continue;
    const where = `line ${i + 2 + n}`;
    const cells = csvCells(line, where);
    if (cells.length !== CSV_COLUMNS.length) {
      throw new StatementError(`${where} has ${cells.length} fields, not ${CSV_COLUMNS.length}`);
    }
    const [entryId, bookingDate, direction, amount, ccy, endToEndId] = cells;
    if (ccy !== currency) throw new StatementError(`${where} is in ${ccy}, the account in ${currency}`);
    if (direction !== "credit" && direction !== "debit") {
      throw new StatementError(`${where}: direction is "${direction}", not credit or debit`);
    }
    if (!entryId) throw new StatementError(`${where} has no entry id`);
    entries.push({
      entryId,
      direction,
      amount: parseAmount(amount, decimals, where),
      amountText: amount,
      bookingDate: day(bookingDate, where),
      ...reference(endToEndId, where),
    });
  }
  const signed = (name: string) => {
    const value = fields.get(name)!;
    const negative = value.startsWith("-");
    const amount = parseAmount(negative ? value.slice(1) : value, decimals, name);
    return negative ? -amount : amount;
  };
  const statement: Statement = {
    format: "csv",
    statementId: fields.get("statement_id")!,
    account: fields.get("account")!,
    currency,
    from: instant(fields.get("from")!, "from"),
    to: instant(fields.get("to")!, "to", true),
    opening: signed("opening_balance"),
    closing: signed("closing_balance"),
    entries,
  };
  checkTotals(statement);
  return statement;
}

/** The statement in `content`: camt.053 when it begins like XML, else the CSV layout. Amounts in 10^-`decimals`. */
export function parseStatement(content: string, decimals: number): Statement {
  const body = content.replace(/^\uFEFF/, "").trimStart();
  if (body === "") throw new StatementError("the statement is empty");
  return body.startsWith("<") ? parseCamt053(body, decimals) : parseCsv(body, decimals);
}
