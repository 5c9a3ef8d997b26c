/**
 * Writes a statement as a bank would send it: camt.053.001.08 XML or the CSV layout. The demo writes its custody
 * bank's statement this way, and the tests and the benchmark build theirs with it; a real statement comes from the bank.
 */
import { formatUnits } from "ethers";
import { CSV_COLUMNS, type Statement, type StatementEntry } from "./statement.js";

const escape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The statement a bank sends for `entries`: its closing balance is the opening one plus the credits less the debits. */
export function statementOf(fields: Omit<Statement, "closing" | "entries">, entries: StatementEntry[]): Statement {
  let closing = fields.opening;
  for (const e of entries) closing += e.direction === "credit" ? e.amount : -e.amount;
  return { ...fields, entries, closing };
}

/** `value` (10^-decimals units) as a statement writes it: the currency's two decimals, unless it needs more. */
export function statementAmount(value: bigint, decimals: number): string {
  const text = formatUnits(value < 0n ? -value : value, decimals);
  const [whole, fraction = ""] = text.split(".");
  return `${whole}.${fraction.replace(/0+$/, "").padEnd(2, "0")}`;
}

function balance(code: string, value: bigint, s: Statement, decimals: number, date: string): string {
  return [
    "      <Bal>",
    `        <Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp>`,
    `        <Amt Ccy="${s.currency}">${statementAmount(value, decimals)}</Amt>`,
    `        <CdtDbtInd>${value < 0n ? "DBIT" : "CRDT"}</CdtDbtInd>`,
    `        <Dt><Dt>${date}</Dt></Dt>`,
    "      </Bal>",
  ].join("\n");
}

/** The statement as camt.053.001.08 (one statement, booked entries, one transaction each). */
export function writeCamt053(s: Statement, decimals: number, messageId = `MSG-${s.statementId}`): string {
  const entries = s.entries.map((e) =>
    [
      "      <Ntry>",
      `        <NtryRef>${escape(e.entryId)}</NtryRef>`,
      `        <Amt Ccy="${s.currency}">${statementAmount(e.amount, decimals)}</Amt>`,
      `        <CdtDbtInd>${e.direction === "credit" ? "CRDT" : "DBIT"}</CdtDbtInd>`,
      "        <Sts><Cd>BOOK</Cd></Sts>",
      `        <BookgDt><Dt>${e.bookingDate}</Dt></BookgDt>`,
      `        <ValDt><Dt>${e.bookingDate}</Dt></ValDt>`,
      "        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly>" +
        `<Cd>${e.direction === "credit" ? "RCDT" : "ICDT"}</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>`,
      "        <NtryDtls><TxDtls><Refs>" +
        `<EndToEndId>${escape(e.endToEndId)}</EndToEndId></Refs></TxDtls></NtryDtls>`,
      "      </Ntry>",
    ].join("\n"),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
    "  <BkToCstmrStmt>",
    `    <GrpHdr><MsgId>${escape(messageId)}</MsgId><CreDtTm>${s.to}</CreDtTm></GrpHdr>`,
    "    <Stmt>",
    `      <Id>${escape(s.statementId)}</Id>`,
    `      <CreDtTm>${s.to}</CreDtTm>`,
    `      <FrToDt><FrDtTm>${s.from}</FrDtTm><ToDtTm>${s.to}</ToDtTm></FrToDt>`,
    `      <Acct><Id><IBAN>${escape(s.account)}</IBAN></Id><Ccy>${s.currency}</Ccy></Acct>`,
    balance("OPBD", s.opening, s, decimals, s.from.slice(0, 10)),
    balance("CLBD", s.closing, s, decimals, s.to.slice(0, 10)),
    ...entries,
    "    </Stmt>",
    "  </BkToCstmrStmt>",
    "</Document>",
    "",
  ].join("\n");
}

/** The statement in the CSV layout (docs/custody.md). */
export function writeStatementCsv(s: Statement, decimals: number): string {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const signed = (v: bigint) => `${v < 0n ? "-" : ""}${statementAmount(v, decimals)}`;
  return [
    `# statement_id: ${s.statementId}`,
    `# account: ${s.account}`,
    `# currency: ${s.currency}`,
    `# from: ${s.from}`,
    `# to: ${s.to}`,
    `# opening_balance: ${signed(s.opening)}`,
    `# closing_balance: ${signed(s.closing)}`,
    CSV_COLUMNS.join(","),
    ...s.entries.map((e) =>
      [e.entryId, e.bookingDate, e.direction, statementAmount(e.amount, decimals), s.currency, e.endToEndId]
        .map(quote)
        .join(","),
    ),
    "",
  ].join("\n");
}
