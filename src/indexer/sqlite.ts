/**
 * The embedded index: SQLite through Node 22's built-in `node:sqlite` (no native build to install). Each block's
 * events and the rows derived from them are written in one transaction, so a crash leaves the index at the end of a
 * block, never in the middle of one.
 */
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { EventRecord, Json, LoanRecord } from "../client/index.js";
import { LoanStatus } from "../client/index.js";
import type { IndexedRecord } from "./records.js";
import { owesPrincipal } from "./rows.js";
import type {
  AssetRow,
  BookRow,
  DisclosureRow,
  IndexedBlock,
  IndexState,
  InsurerRow,
  LienRow,
  LoanQuery,
  LoanRow,
  LoanSort,
  LossRow,
  BookLine,
  MemberRow,
  PayoutRow,
  PositionRow,
  ReserveRow,
} from "./rows.js";
import type { IndexStore, StoredEvent } from "./store.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL, timestamp INTEGER NOT NULL);
-- A rowid table: its rows (the decoded event as JSON) are too large for WITHOUT ROWID to pack them well.
CREATE TABLE IF NOT EXISTS events (
  block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx TEXT NOT NULL, kind TEXT NOT NULL, contract TEXT NOT NULL,
  event TEXT NOT NULL, loan_id TEXT, record TEXT NOT NULL, at INTEGER NOT NULL, UNIQUE (block, log_index)
);
CREATE INDEX IF NOT EXISTS events_loan ON events (loan_id, block, log_index) WHERE loan_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_tx ON events (tx);
CREATE TABLE IF NOT EXISTS loans (
  loan_id TEXT PRIMARY KEY, platform TEXT NOT NULL, servicer TEXT NOT NULL, borrower_ref TEXT NOT NULL,
  document_hash TEXT NOT NULL, document_version INTEGER NOT NULL, principal TEXT NOT NULL,
  annual_rate_bps INTEGER NOT NULL, schedule_kind INTEGER NOT NULL, installments INTEGER NOT NULL,
  period INTEGER NOT NULL, status INTEGER NOT NULL, anchored_at INTEGER NOT NULL, activated_at INTEGER,
  installments_paid INTEGER NOT NULL, next_due_at INTEGER, outstanding TEXT NOT NULL, repaid TEXT NOT NULL,
  committed TEXT NOT NULL, lenders_in TEXT NOT NULL, insurer TEXT, funded INTEGER NOT NULL, entries INTEGER NOT NULL,
  head TEXT NOT NULL, terms TEXT NOT NULL
);
-- The loan browser's sorts, each alone and after an equality filter on platform or status, so that a page of any of
-- them is read in index order (amounts sort by length, then digits: their decimal strings carry no leading zeros).
CREATE INDEX IF NOT EXISTS loans_anchored ON loans (anchored_at, loan_id);
CREATE INDEX IF NOT EXISTS loans_principal ON loans (length(principal), principal, loan_id);
CREATE INDEX IF NOT EXISTS loans_outstanding ON loans (length(outstanding), outstanding, loan_id);
CREATE INDEX IF NOT EXISTS loans_due ON loans (next_due_at, loan_id);
CREATE INDEX IF NOT EXISTS loans_status ON loans (status, anchored_at, loan_id);
CREATE INDEX IF NOT EXISTS loans_status_principal ON loans (status, length(principal), principal, loan_id);
CREATE INDEX IF NOT EXISTS loans_status_outstanding ON loans (status, length(outstanding), outstanding, loan_id);
CREATE INDEX IF NOT EXISTS loans_status_due ON loans (status, next_due_at, loan_id);
CREATE INDEX IF NOT EXISTS loans_platform ON loans (platform, anchored_at, loan_id);
CREATE INDEX IF NOT EXISTS loans_platform_principal ON loans (platform, length(principal), principal, loan_id);
CREATE INDEX IF NOT EXISTS loans_platform_outstanding ON loans (platform, length(outstanding), outstanding, loan_id);
CREATE INDEX IF NOT EXISTS loans_platform_due ON loans (platform, next_due_at, loan_id);
CREATE INDEX IF NOT EXISTS loans_platform_status ON loans (platform, status, anchored_at, loan_id);
-- A platform's page shows the loans it services now: a successor's taken-over loans, not the expelled originator's.
CREATE INDEX IF NOT EXISTS loans_servicer_due ON loans (servicer, next_due_at, loan_id);
CREATE INDEX IF NOT EXISTS loans_servicer_status ON loans (servicer, status, anchored_at, loan_id);
-- A platform's own reference, for the auditor's search by it.
CREATE INDEX IF NOT EXISTS loans_platform_ref ON loans (json_extract(terms, '$.platformRef'));
CREATE TABLE IF NOT EXISTS positions (
  loan_id TEXT NOT NULL, lender TEXT NOT NULL, shares TEXT NOT NULL, committed TEXT NOT NULL, received TEXT NOT NULL,
  PRIMARY KEY (loan_id, lender)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS positions_lender ON positions (lender);
CREATE TABLE IF NOT EXISTS payouts (
  block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx TEXT NOT NULL, loan_id TEXT NOT NULL, lender TEXT NOT NULL,
  recipient TEXT NOT NULL, amount TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (block, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS payouts_lender ON payouts (lender, block);
CREATE TABLE IF NOT EXISTS assets (
  asset_id TEXT PRIMARY KEY, owner TEXT NOT NULL, registrar TEXT NOT NULL, asset_class INTEGER NOT NULL,
  appraisal_value TEXT NOT NULL, document_hash TEXT NOT NULL, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS liens (
  asset_id TEXT NOT NULL, loan_id TEXT NOT NULL, secured TEXT NOT NULL, priority INTEGER NOT NULL,
  status TEXT NOT NULL, allocated TEXT NOT NULL, PRIMARY KEY (asset_id, loan_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS liens_loan ON liens (loan_id);
CREATE TABLE IF NOT EXISTS losses (
  loan_id TEXT PRIMARY KEY, loss TEXT NOT NULL, recovered_before TEXT NOT NULL, insurer_bore TEXT NOT NULL,
  reserve_bore TEXT NOT NULL, lenders_bore TEXT NOT NULL, recovered TEXT NOT NULL, to_insurer TEXT NOT NULL,
  to_reserve TEXT NOT NULL, to_lenders TEXT NOT NULL, tx TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS insurers (
  insurer TEXT PRIMARY KEY, capital_in TEXT NOT NULL, capital_out TEXT NOT NULL, premiums TEXT NOT NULL,
  claims_paid TEXT NOT NULL, reimbursed TEXT NOT NULL, policies INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reserve (
  platform TEXT PRIMARY KEY, accrued TEXT NOT NULL, collected TEXT NOT NULL, deposited TEXT NOT NULL,
  compensated TEXT NOT NULL, reimbursed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS disclosures (
  platform TEXT NOT NULL, period INTEGER NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL,
  figures TEXT NOT NULL, published_at INTEGER NOT NULL, attested_by TEXT, tx TEXT NOT NULL,
  PRIMARY KEY (platform, period, version)
) WITHOUT ROWID;
`;

/** The derived tables and the key each is dumped in (a rebuild must reproduce them row for row). */
const DERIVED: Record<string, string> = {
  loans: "loan_id",
  positions: "loan_id, lender",
  payouts: "block, log_index",
  assets: "asset_id",
  liens: "asset_id, loan_id",
  losses: "loan_id",
  insurers: "insurer",
  reserve: "platform",
  disclosures: "platform, period, version",
  events: "block, log_index",
  blocks: "number",
};

type Row = Record<string, SQLInputValue>;
const add = (a: unknown, b: Json | bigint | undefined) => (BigInt(String(a ?? 0)) + BigInt(String(b ?? 0))).toString();
const sub = (a: unknown, b: Json | bigint | undefined) => (BigInt(String(a ?? 0)) - BigInt(String(b ?? 0))).toString();
const lower = (v: Json | undefined) => String(v ?? "").toLowerCase();
/** Each sort's ORDER BY, in one direction (%d), ending in the loan id so that pages never overlap. */
const SORT_COLUMNS: Record<LoanSort, string> = {
  anchoredAt: "anchored_at %d, loan_id %d",
  principal: "length(principal) %d, principal %d, loan_id %d",
  outstanding: "length(outstanding) %d, outstanding %d, loan_id %d",
  status: "status %d, anchored_at %d, loan_id %d",
  platform: "platform %d, anchored_at %d, loan_id %d",
  nextDueAt: "next_due_at %d, loan_id %d",
};

function loanOf(r: Row): LoanRow {
  return {
    loanId: String(r.loan_id),
    platform: String(r.platform),
    servicer: String(r.servicer),
    borrowerRef: String(r.borrower_ref),
    documentHash: String(r.document_hash),
    documentVersion: Number(r.document_version),
    principal: String(r.principal),
    annualRateBps: Number(r.annual_rate_bps),
    scheduleKind: Number(r.schedule_kind),
    installments: Number(r.installments),
    period: Number(r.period),
    status: Number(r.status),
    anchoredAt: Number(r.anchored_at),
    activatedAt: r.activated_at === null ? null : Number(r.activated_at),
    installmentsPaid: Number(r.installments_paid),
    nextDueAt: r.next_due_at === null ? null : Number(r.next_due_at),
    outstanding: String(r.outstanding),
    repaid: String(r.repaid),
    committed: String(r.committed),
    lendersIn: String(r.lenders_in),
    insurer: r.insurer === null ? null : String(r.insurer),
    funded: Number(r.funded) === 1,
    entries: Number(r.entries),
    head: String(r.head),
    terms: JSON.parse(String(r.terms)) as Record<string, string | number>,
  };
}

export class SqliteStore implements IndexStore {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, ReturnType<DatabaseSync["prepare"]>>();

  constructor(readonly path: string) {
    // Loaded on first use, not at import: node:sqlite prints an ExperimentalWarning when loaded, and every CLI command
    // imports this module through `serve`.
    const sqlite = createRequire(import.meta.url)("node:sqlite") as typeof import("node:sqlite");
    this.db = new sqlite.DatabaseSync(path);
    // WAL lets the portal read while the indexer writes; NORMAL sync is still crash-safe at each commit under WAL.
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;");
    // A large index is read and updated by loan id, all over the file: keep much of it in memory (128 MiB at most),
    // and copy the write-ahead log into the file in larger steps (each copy ends in an fsync).
    this.db.exec(
      "PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 1073741824; PRAGMA wal_autocheckpoint = 16384;",
    );
    this.db.exec(SCHEMA);
  }

  private sql(text: string) {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private get(text: string, ...params: SQLInputValue[]): Row | undefined {
    return this.sql(text).get(...params) as Row | undefined;
  }

  private all(text: string, ...params: SQLInputValue[]): Row[] {
    return this.sql(text).all(...params) as Row[];
  }

  private run(text: string, ...params: SQLInputValue[]): void {
    this.sql(text).run(...params);
  }

  private meta(key: string): string | undefined {
    const row = this.get("SELECT value FROM meta WHERE key = ?", key);
    return row ? String(row.value) : undefined;
  }

  private setMeta(key: string, value: string): void {
    this.run(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  state(): IndexState | undefined {
    const chainId = this.meta("chainId");
    if (chainId === undefined) return undefined;
    const last = this.meta("last");
    return {
      chainId,
      contracts: JSON.parse(this.meta("contracts") ?? "{}") as Record<string, string>,
      fromBlock: Number(this.meta("fromBlock")),
      last: last ? (JSON.parse(last) as IndexedBlock) : null,
    };
  }

  start(chainId: string, contracts: Record<string, string>, fromBlock: number): void {
    this.transaction(() => {
      this.setMeta("chainId", chainId);
      this.setMeta("contracts", JSON.stringify(contracts));
      this.setMeta("fromBlock", String(fromBlock));
    });
  }

  private transaction(work: () => void): void {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  commitBlock(block: IndexedBlock, records: readonly IndexedRecord[]): void {
    this.transaction(() => {
      this.run(
        "INSERT INTO blocks (number, hash, timestamp) VALUES (?, ?, ?)",
        block.number,
        block.hash,
        block.timestamp,
      );
      const payoutTxs = new Map<string, string>();
      for (const { record } of records) {
        if ("event" in record && record.event === "PayoutsPushed") {
          payoutTxs.set(record.transactionHash, String(record.args.loanId));
        }
      }
      for (const item of records) {
        const r = item.record;
        const loanId = "loanId" in r ? r.loanId : r.args.loanId !== undefined ? String(r.args.loanId) : null;
        const { contract, event } =
          item.kind === "history" ? { contract: "LoanRegistry", event: String(item.record.fact.kind) } : item.record;
        this.run(
          "INSERT INTO events (block, log_index, tx, kind, contract, event, loan_id, record, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          r.blockNumber,
          r.logIndex,
          r.transactionHash,
          item.kind,
          contract,
          event,
          loanId === null ? null : this.loanKey(loanId),
          JSON.stringify(r),
          block.timestamp,
        );
        if (item.kind === "history") this.history(item.record, block);
        else this.event(item.record, block, payoutTxs);
      }
      this.setMeta("last", JSON.stringify(block));
    });
  }

  commitUpTo(block: IndexedBlock): void {
    this.transaction(() => this.setMeta("last", JSON.stringify(block)));
  }

  blockHash(number: number): string | undefined {
    const last = this.state()?.last;
    if (last?.number === number) return last.hash;
    const row = this.get("SELECT hash FROM blocks WHERE number = ?", number);
    return row ? String(row.hash) : undefined;
  }

  clear(): void {
    this.transaction(() => {
      for (const table of [...Object.keys(DERIVED), "meta"]) this.db.exec(`DELETE FROM ${table}`);
    });
  }

  close(): void {
    this.db.close();
  }

  /** Loan ids as the client formats them (0x and 64 hex digits), whatever form an event's argument took. */
  private loanKey(value: string): string {
    return "0x" + BigInt(value).toString(16).padStart(64, "0");
  }

  // ------------------------------------------------------------------ derived tables

  private history(record: LoanRecord, block: IndexedBlock): void {
    const f = record.fact;
    const loanId = record.loanId;
    if (f.kind === "Anchored") {
      const t = record.terms ?? {};
      this.run(
        `INSERT INTO loans (loan_id, platform, servicer, borrower_ref, document_hash, document_version, principal,
           annual_rate_bps, schedule_kind, installments, period, status, anchored_at, activated_at, installments_paid,
           next_due_at, outstanding, repaid, committed, lenders_in, insurer, funded, entries, head, terms)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, NULL, 0, NULL, ?, '0', '0', '0', NULL, 0, 1, ?, ?)`,
        loanId,
        lower(t.platform),
        lower(t.platform),
        String(t.borrowerRef),
        String(t.documentHash),
        String(t.principal),
        Number(t.annualRateBps),
        Number(t.scheduleKind),
        Number(t.installments),
        Number(t.period),
        LoanStatus.Funding,
        Number(f.at ?? block.timestamp),
        String(t.principal),
        record.head,
        JSON.stringify(t),
      );
      return;
    }
    // One read and one write per fact: the row's new state is worked out here.
    const row = this.get(
      `SELECT status, activated_at, installments_paid, installments, period, outstanding, repaid, document_version,
         document_hash, servicer, entries FROM loans WHERE loan_id = ?`,
      loanId,
    );
    if (!row) return;
    const loan = {
      status: Number(row.status),
      activatedAt: row.activated_at === null ? null : Number(row.activated_at),
      paid: Number(row.installments_paid),
      outstanding: String(row.outstanding),
      repaid: String(row.repaid),
      documentVersion: Number(row.document_version),
      documentHash: String(row.document_hash),
      servicer: String(row.servicer),
    };
    switch (f.kind) {
      case "StatusChanged":
        loan.status = Number(f.to);
        if (loan.status === LoanStatus.Active && loan.activatedAt === null) loan.activatedAt = Number(f.at);
        break;
      case "RepaymentRecorded":
        loan.paid = Number(f.installment);
        loan.outstanding = String(f.outstandingAfter);
        loan.repaid = add(loan.repaid, f.amount);
        break;
      case "DocumentAmended":
        loan.documentVersion = Number(f.version);
        loan.documentHash = String(f.documentHash);
        break;
      case "ServicerChanged":
        loan.servicer = lower(f.to);
        break;
    }
    // The next due date follows the contract's rule: activation + (installments paid + 1) × period, while open.
    const open = loan.status === LoanStatus.Active || loan.status === LoanStatus.Late;
    const nextDue =
      open && loan.activatedAt !== null && loan.paid < Number(row.installments)
        ? loan.activatedAt + (loan.paid + 1) * Number(row.period)
        : null;
    this.run(
      `UPDATE loans SET entries = ?, head = ?, status = ?, activated_at = ?, installments_paid = ?, outstanding = ?,
         repaid = ?, document_version = ?, document_hash = ?, servicer = ?, next_due_at = ? WHERE loan_id = ?`,
      Number(row.entries) + 1,
      record.head,
      loan.status,
      loan.activatedAt,
      loan.paid,
      loan.outstanding,
      loan.repaid,
      loan.documentVersion,
      loan.documentHash,
      loan.servicer,
      nextDue,
      loanId,
    );
  }

  private position(loanId: string, lender: string): Row {
    return (
      this.get("SELECT * FROM positions WHERE loan_id = ? AND lender = ?", loanId, lender) ?? {
        shares: "0",
        committed: "0",
        received: "0",
      }
    );
  }

  private putPosition(loanId: string, lender: string, p: Row): void {
    this.run(
      `INSERT INTO positions (loan_id, lender, shares, committed, received) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (loan_id, lender) DO UPDATE SET shares = excluded.shares, committed = excluded.committed, received = excluded.received`,
      loanId,
      lender,
      String(p.shares),
      String(p.committed),
      String(p.received),
    );
  }

  private payout(r: EventRecord, loanId: string, lender: string, to: string, amount: Json, kind: string, at: number) {
    this.run(
      "INSERT INTO payouts (block, log_index, tx, loan_id, lender, recipient, amount, kind, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      r.blockNumber,
      r.logIndex,
      r.transactionHash,
      loanId,
      lender,
      to,
      String(amount),
      kind,
      at,
    );
    const p = this.position(loanId, lender);
    this.putPosition(loanId, lender, { ...p, received: add(p.received, amount) });
  }

  private bump(table: string, key: string, keyValue: string, column: string, amount: Json | bigint | undefined) {
    const zero = table === "insurers" ? "'0', '0', '0', '0', '0', 0" : "'0', '0', '0', '0', '0'";
    this.run(`INSERT INTO ${table} VALUES (?, ${zero}) ON CONFLICT DO NOTHING`, keyValue);
    const row = this.get(`SELECT ${column} AS v FROM ${table} WHERE ${key} = ?`, keyValue);
    const value = column === "policies" ? Number(row?.v ?? 0) + 1 : add(row?.v, amount);
    this.run(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ?`, value, keyValue);
  }

  private event(r: EventRecord, block: IndexedBlock, payoutTxs: Map<string, string>): void {
    const a = r.args;
    const loanId = a.loanId !== undefined ? this.loanKey(String(a.loanId)) : "";
    const at = block.timestamp;
    switch (r.event) {
      case "FundingOpened": {
        const config = a.config as { [key: string]: Json };
        const insurer = lower(config.insurer);
        this.run("UPDATE loans SET insurer = ? WHERE loan_id = ?", /^0x0+$/.test(insurer) ? null : insurer, loanId);
        break;
      }
      case "Committed": {
        const lender = lower(a.lender);
        const p = this.position(loanId, lender);
        this.putPosition(loanId, lender, {
          ...p,
          shares: add(p.shares, a.amount),
          committed: add(p.committed, a.amount),
        });
        this.run("UPDATE loans SET committed = ? WHERE loan_id = ?", String(a.committed), loanId);
        break;
      }
      case "Disbursed":
        this.run("UPDATE loans SET funded = 1 WHERE loan_id = ?", loanId);
        break;
      case "ShareTransferred": {
        const [from, to] = [lower(a.from), lower(a.to)];
        const p = this.position(loanId, from);
        this.putPosition(loanId, from, { ...p, shares: sub(p.shares, a.shares) });
        const q = this.position(loanId, to);
        this.putPosition(loanId, to, { ...q, shares: add(q.shares, a.shares) });
        break;
      }
      case "RepaymentSplit": {
        const s = a.split as { [key: string]: Json };
        const lenders =
          BigInt(String(s.lateInterest)) +
          BigInt(String(s.interest)) +
          BigInt(String(s.principal)) +
          BigInt(String(s.prepayment));
        const loan = this.get("SELECT lenders_in, insurer, platform FROM loans WHERE loan_id = ?", loanId);
        this.run("UPDATE loans SET lenders_in = ? WHERE loan_id = ?", add(loan?.lenders_in, lenders), loanId);
        if (loan?.insurer && BigInt(String(s.premium)) > 0n)
          this.bump("insurers", "insurer", String(loan.insurer), "premiums", s.premium);
        if (loan && BigInt(String(s.reserve)) > 0n)
          this.bump("reserve", "platform", String(loan.platform), "accrued", s.reserve);
        break;
      }
      case "RecoveryReceived":
      case "PremiumToLenders": {
        const loan = this.get("SELECT lenders_in, insurer FROM loans WHERE loan_id = ?", loanId);
        this.run("UPDATE loans SET lenders_in = ? WHERE loan_id = ?", add(loan?.lenders_in, a.amount), loanId);
        // The part of a premium its policy did not cover went to the lenders, not to the insurer its split named.
        if (r.event === "PremiumToLenders" && loan?.insurer) {
          this.bump("insurers", "insurer", String(loan.insurer), "premiums", -BigInt(String(a.amount)));
        }
        break;
      }
      case "Claimed":
        this.payout(r, loanId, lower(a.lender), lower(a.to), a.amount, "claim", at);
        break;
      case "Transfer": {
        // The splitter's transfers in a payout transaction are the pushed payouts, one per lender paid.
        const paid = payoutTxs.get(r.transactionHash);
        if (paid === undefined) break;
        const lender = lower(a.to);
        // Only a holder of the loan is paid out; the same transaction may sweep a rounding remainder to the reserve.
        if (this.get("SELECT 1 AS x FROM positions WHERE loan_id = ? AND lender = ?", this.loanKey(paid), lender)) {
          this.payout(r, this.loanKey(paid), lender, lender, a.value, "payout", at);
        }
        break;
      }
      case "CollateralRegistered":
        this.run(
          "INSERT INTO assets VALUES (?, ?, ?, ?, ?, ?, 'Registered')",
          String(a.assetId),
          lower(a.owner),
          lower(a.registrar),
          Number(a.assetClass),
          String(a.appraisalValue),
          String(a.appraisalDocHash),
        );
        break;
      case "CollateralRevalued":
        this.run(
          "UPDATE assets SET appraisal_value = ?, document_hash = ? WHERE asset_id = ?",
          String(a.appraisalValue),
          String(a.appraisalDocHash),
          String(a.assetId),
        );
        break;
      case "CollateralPledged":
        this.run(
          `INSERT INTO liens VALUES (?, ?, ?, ?, 'Active', '0') ON CONFLICT (asset_id, loan_id)
           DO UPDATE SET secured = excluded.secured, priority = excluded.priority, status = 'Active'`,
          String(a.assetId),
          loanId,
          String(a.securedAmount),
          Number(a.priority),
        );
        break;
      case "LienReleased":
        this.run("UPDATE liens SET status = 'Released' WHERE asset_id = ? AND loan_id = ?", String(a.assetId), loanId);
        break;
      case "CollateralSeized":
        this.run("UPDATE assets SET status = 'Seized' WHERE asset_id = ?", String(a.assetId));
        this.run("UPDATE liens SET status = 'Enforcing' WHERE asset_id = ? AND loan_id = ?", String(a.assetId), loanId);
        break;
      case "SeizedAssetReturned":
        this.run("UPDATE assets SET status = 'Registered' WHERE asset_id = ?", String(a.assetId));
        break;
      case "CollateralDisposed":
        this.run("UPDATE assets SET status = 'Disposed' WHERE asset_id = ?", String(a.assetId));
        this.run(
          "UPDATE liens SET status = 'Discharged' WHERE asset_id = ? AND status IN ('Active', 'Enforcing')",
          String(a.assetId),
        );
        break;
      case "DisposalAllocated": {
        const lien = this.get(
          "SELECT allocated FROM liens WHERE asset_id = ? AND loan_id = ?",
          String(a.assetId),
          loanId,
        );
        if (lien) {
          this.run(
            "UPDATE liens SET allocated = ? WHERE asset_id = ? AND loan_id = ?",
            add(lien.allocated, a.amount),
            String(a.assetId),
            loanId,
          );
        }
        break;
      }
      case "LossSettled":
        this.run(
          "INSERT INTO losses VALUES (?, ?, ?, ?, ?, ?, '0', '0', '0', '0', ?)",
          loanId,
          String(a.loss),
          String(a.recoveredBefore),
          String(a.insurerBore),
          String(a.reserveBore),
          String(a.lendersBore),
          r.transactionHash,
        );
        break;
      case "RecoveryApplied": {
        const loss = this.get("SELECT * FROM losses WHERE loan_id = ?", loanId);
        if (loss) {
          this.run(
            "UPDATE losses SET recovered = ?, to_insurer = ?, to_reserve = ?, to_lenders = ? WHERE loan_id = ?",
            add(loss.recovered, a.amount),
            add(loss.to_insurer, a.toInsurer),
            add(loss.to_reserve, a.toReserve),
            add(loss.to_lenders, a.toLenders),
            loanId,
          );
        }
        break;
      }
      case "CapitalDeposited":
        this.bump("insurers", "insurer", lower(a.insurer), "capital_in", a.amount);
        break;
      case "CapitalWithdrawn":
        this.bump("insurers", "insurer", lower(a.insurer), "capital_out", a.amount);
        break;
      case "PolicyWritten":
        this.bump("insurers", "insurer", lower(a.insurer), "policies", 0n);
        break;
      case "ClaimPaid":
        this.bump("insurers", "insurer", lower(a.insurer), "claims_paid", a.paid);
        break;
      case "InsurerReimbursed":
        this.bump("insurers", "insurer", lower(a.insurer), "reimbursed", a.amount);
        break;
      case "ContributionsCollected":
        this.bump("reserve", "platform", lower(a.platform), "collected", a.amount);
        break;
      case "Deposited":
        this.bump("reserve", "platform", lower(a.platform), "deposited", a.amount);
        break;
      case "Compensated":
        this.bump("reserve", "platform", lower(a.platform), "compensated", a.paid);
        break;
      case "ReserveReimbursed":
        this.bump("reserve", "platform", lower(a.platform), "reimbursed", a.amount);
        break;
      case "ReportPublished": {
        const report = a.report as { [key: string]: Json };
        const figures = (report.figures ?? report) as { [key: string]: Json };
        this.run(
          "INSERT INTO disclosures VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
          lower(a.platform),
          Number(a.period),
          Number(a.version),
          String(a.contentHash),
          JSON.stringify(figures),
          at,
          r.transactionHash,
        );
        break;
      }
      case "OperationsReportPublished":
        // Its ReportPublished came just before, in the same call: the version's figures are its digest.
        this.run(
          "UPDATE disclosures SET figures = ? WHERE platform = ? AND period = ? AND version = ?",
          JSON.stringify({ schemaVersion: 2, figuresDigest: String(a.figuresDigest) }),
          lower(a.platform),
          Number(a.period),
          Number(a.version),
        );
        break;
      case "ReportAttested":
        this.run(
          "UPDATE disclosures SET attested_by = ? WHERE platform = ? AND period = ? AND version = ?",
          lower(a.auditor),
          lower(a.platform),
          Number(a.period),
          Number(a.version),
        );
        break;
    }
  }

  // ------------------------------------------------------------------ reads

  loans(query: LoanQuery): { total: number; rows: LoanRow[] } {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.platform) {
      where.push("platform = ?");
      params.push(query.platform.toLowerCase());
    }
    if (query.status !== undefined) {
      where.push("status = ?");
      params.push(query.status);
    }
    if (query.from !== undefined) {
      where.push("anchored_at >= ?");
      params.push(query.from);
    }
    if (query.to !== undefined) {
      where.push("anchored_at <= ?");
      params.push(query.to);
    }
    if (query.platformRef) {
      where.push("json_extract(terms, '$.platformRef') = ?");
      params.push(query.platformRef.toLowerCase());
    }
    if (query.idPrefix) {
      // A range over the primary key rather than LIKE, so that the index serves it.
      const prefix = query.idPrefix.toLowerCase();
      where.push("loan_id >= ? AND loan_id < ?");
      params.push(prefix, prefix + "~");
    }
    const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const direction = query.direction === "asc" ? "ASC" : "DESC";
    const order = SORT_COLUMNS[query.sort ?? "anchoredAt"].replaceAll("%d", direction);
    const limit = Math.min(Math.max(query.limit ?? 25, 1), 200);
    const offset = Math.max(query.offset ?? 0, 0);
    const total = Number(this.get(`SELECT count(*) AS n FROM loans ${filter}`, ...params)?.n ?? 0);
    const rows = this.all(`SELECT * FROM loans ${filter} ORDER BY ${order} LIMIT ? OFFSET ?`, ...params, limit, offset);
    return { total, rows: rows.map(loanOf) };
  }

  loan(loanId: string): LoanRow | undefined {
    const row = this.get("SELECT * FROM loans WHERE loan_id = ?", loanId.toLowerCase());
    return row && loanOf(row);
  }

  eventsOf(loanId: string): StoredEvent[] {
    return this.storedEvents("loan_id", loanId);
  }

  *recordsNamed(names: readonly string[], toBlock: number): Iterable<IndexedRecord> {
    // The names go in as one JSON parameter, so that one prepared statement serves any list. Rows are inserted block
    // by block in chain order (a reorganisation deletes the tail first), so rowid order is chain order, read without
    // the index's lookups.
    const rows = this.sql(
      "SELECT kind, record FROM events WHERE block <= ? AND contract || '.' || event IN " +
        "(SELECT value FROM json_each(?)) ORDER BY rowid",
    ).iterate(toBlock, JSON.stringify(names)) as Iterable<Row>;
    for (const r of rows) yield { kind: r.kind, record: JSON.parse(r.record as string) } as IndexedRecord;
  }

  firstBlock(): IndexedBlock | undefined {
    const row = this.get("SELECT number, hash, timestamp FROM blocks ORDER BY number LIMIT 1");
    return row && { number: Number(row.number), hash: String(row.hash), timestamp: Number(row.timestamp) };
  }

  lastBlockAtOrBefore(time: number): number {
    const row = this.get("SELECT max(number) AS n FROM blocks WHERE timestamp <= ?", time);
    if (row?.n !== null && row?.n !== undefined) return Number(row.n);
    return (this.state()?.fromBlock ?? 0) - 1;
  }

  eventsInTx(transactionHash: string): StoredEvent[] {
    return this.storedEvents("tx", transactionHash);
  }

  private storedEvents(column: "loan_id" | "tx", value: string): StoredEvent[] {
    return this.all(
      `SELECT kind, record, at FROM events WHERE ${column} = ? ORDER BY block, log_index`,
      value.toLowerCase(),
    ).map((r) => ({
      kind: String(r.kind) as StoredEvent["kind"],
      record: JSON.parse(String(r.record)) as LoanRecord | EventRecord,
      at: Number(r.at),
    }));
  }

  private positions(column: "lender" | "loan_id", value: string): PositionRow[] {
    return this.all(`SELECT * FROM positions WHERE ${column} = ? ORDER BY loan_id, lender`, value.toLowerCase()).map(
      (r) => ({
        loanId: String(r.loan_id),
        lender: String(r.lender),
        shares: String(r.shares),
        committed: String(r.committed),
        received: String(r.received),
      }),
    );
  }

  positionsOf(lender: string): PositionRow[] {
    return this.positions("lender", lender);
  }

  positionsIn(loanId: string): PositionRow[] {
    return this.positions("loan_id", loanId);
  }

  payoutsTo(lender: string): PayoutRow[] {
    return this.all("SELECT * FROM payouts WHERE lender = ? ORDER BY block, log_index", lender.toLowerCase()).map(
      (r) => ({
        loanId: String(r.loan_id),
        lender: String(r.lender),
        to: String(r.recipient),
        amount: String(r.amount),
        kind: String(r.kind) as PayoutRow["kind"],
        blockNumber: Number(r.block),
        transactionHash: String(r.tx),
        at: Number(r.at),
      }),
    );
  }

  liensOf(loanId: string): LienRow[] {
    return this.all(
      `SELECT l.asset_id, l.loan_id, l.secured, l.priority, l.status, l.allocated, a.owner, a.registrar, a.asset_class,
              a.appraisal_value, a.document_hash, a.status AS asset_status
       FROM liens l LEFT JOIN assets a ON a.asset_id = l.asset_id WHERE l.loan_id = ? ORDER BY l.priority, l.asset_id`,
      loanId.toLowerCase(),
    ).map((r) => {
      const asset: AssetRow | null =
        r.owner === null
          ? null
          : {
              assetId: String(r.asset_id),
              owner: String(r.owner),
              registrar: String(r.registrar),
              assetClass: Number(r.asset_class),
              appraisalValue: String(r.appraisal_value),
              documentHash: String(r.document_hash),
              status: String(r.asset_status),
            };
      return {
        assetId: String(r.asset_id),
        loanId: String(r.loan_id),
        securedAmount: String(r.secured),
        priority: Number(r.priority),
        status: String(r.status),
        allocated: String(r.allocated),
        asset,
      };
    });
  }

  lossOf(loanId: string): LossRow | undefined {
    const r = this.get("SELECT * FROM losses WHERE loan_id = ?", loanId.toLowerCase());
    if (!r) return undefined;
    return {
      loanId: String(r.loan_id),
      loss: String(r.loss),
      recoveredBefore: String(r.recovered_before),
      insurerBore: String(r.insurer_bore),
      reserveBore: String(r.reserve_bore),
      lendersBore: String(r.lenders_bore),
      recovered: String(r.recovered),
      toInsurer: String(r.to_insurer),
      toReserve: String(r.to_reserve),
      toLenders: String(r.to_lenders),
      transactionHash: String(r.tx),
    };
  }

  disclosures(): DisclosureRow[] {
    return this.all("SELECT * FROM disclosures ORDER BY period DESC, platform, version").map((r) => ({
      platform: String(r.platform),
      period: Number(r.period),
      version: Number(r.version),
      contentHash: String(r.content_hash),
      figures: JSON.parse(String(r.figures)) as Record<string, string | number>,
      publishedAt: Number(r.published_at),
      attestedBy: r.attested_by === null ? null : String(r.attested_by),
      transactionHash: String(r.tx),
    }));
  }

  book(platform?: string): BookRow[] {
    // Amounts are summed as exact integers in JavaScript: SQLite's sum() would round them through 64-bit floats.
    const rows = this.all(
      `SELECT servicer AS platform, status, principal, outstanding FROM loans ${platform ? "WHERE servicer = ?" : ""}`,
      ...(platform ? [platform.toLowerCase()] : []),
    );
    const groups = new Map<string, BookRow>();
    for (const r of rows) {
      const key = `${String(r.platform)}:${Number(r.status)}`;
      const group = groups.get(key) ?? {
        platform: String(r.platform),
        status: Number(r.status),
        loans: 0,
        principal: "0",
        outstanding: "0",
      };
      group.loans += 1;
      group.principal = add(group.principal, String(r.principal));
      if (owesPrincipal(Number(r.status))) group.outstanding = add(group.outstanding, String(r.outstanding));
      groups.set(key, group);
    }
    return [...groups.values()].sort((x, y) => x.platform.localeCompare(y.platform) || x.status - y.status);
  }

  reserve(): ReserveRow[] {
    return this.all("SELECT * FROM reserve ORDER BY platform").map((r) => ({
      platform: String(r.platform),
      accrued: String(r.accrued),
      collected: String(r.collected),
      deposited: String(r.deposited),
      compensated: String(r.compensated),
      reimbursed: String(r.reimbursed),
    }));
  }

  insurers(): InsurerRow[] {
    return this.all("SELECT * FROM insurers ORDER BY insurer").map((r) => ({
      insurer: String(r.insurer),
      capitalIn: String(r.capital_in),
      capitalOut: String(r.capital_out),
      premiums: String(r.premiums),
      claimsPaid: String(r.claims_paid),
      reimbursed: String(r.reimbursed),
      policies: Number(r.policies),
    }));
  }

  /** Every platform that originated or services a loan. */
  platforms(): string[] {
    return this.all("SELECT platform FROM loans UNION SELECT servicer FROM loans ORDER BY 1").map((r) =>
      String(r.platform),
    );
  }

  /**
   * The loans that changed servicer: those `platform` originated and another services now, and those it took over;
   * every such loan without a platform.
   */
  handedOver(platform?: string): LoanRow[] {
    const filter = platform ? "AND (platform = ? OR servicer = ?)" : "";
    const key = platform?.toLowerCase();
    return this.all(
      `SELECT * FROM loans WHERE servicer != platform ${filter} ORDER BY anchored_at DESC, loan_id LIMIT 200`,
      ...(key ? [key, key] : []),
    ).map(loanOf);
  }

  *bookLines(platform?: string): Iterable<BookLine> {
    const rows = this.sql(
      `SELECT loan_id, json_extract(terms, '$.platformRef') AS ref, platform, servicer, status, principal, outstanding,
              anchored_at, next_due_at FROM loans ${platform ? "WHERE servicer = ?" : ""} ORDER BY anchored_at, loan_id`,
    ).iterate(...(platform ? [platform.toLowerCase()] : [])) as Iterable<Row>;
    for (const r of rows) {
      yield {
        loanId: String(r.loan_id),
        platformRef: String(r.ref),
        platform: String(r.platform),
        servicer: String(r.servicer),
        status: Number(r.status),
        principal: String(r.principal),
        outstanding: String(r.outstanding),
        anchoredAt: Number(r.anchored_at),
        nextDueAt: r.next_due_at === null ? null : Number(r.next_due_at),
      };
    }
  }

  /** The alliance's members as their admission, role and status events left them. */
  members(): MemberRow[] {
    const members = new Map<string, MemberRow>();
    const names = ["MemberAdmitted", "MemberRolesChanged", "MemberStatusChanged", "MemberMetadataChanged"].map(
      (e) => `AllianceRegistry.${e}`,
    );
    const last = this.state()?.last?.number ?? 0;
    for (const item of this.recordsNamed(names, last)) {
      if (item.kind !== "event") continue;
      const { event, args } = item.record;
      const account = String(args.account).toLowerCase();
      const member = members.get(account) ?? { account, roles: 0, status: 1, metadataHash: "" };
      if (event === "MemberAdmitted") {
        Object.assign(member, { roles: Number(args.roles), status: 1, metadataHash: String(args.metadataHash) });
      } else if (event === "MemberRolesChanged") member.roles = Number(args.roles);
      else if (event === "MemberMetadataChanged") member.metadataHash = String(args.metadataHash);
      else member.status = Number(args.to);
      members.set(account, member);
    }
    return [...members.values()].sort((a, b) => a.account.localeCompare(b.account));
  }

  lenders(limit: number): string[] {
    return this.all("SELECT DISTINCT lender FROM positions ORDER BY lender LIMIT ?", limit).map((r) =>
      String(r.lender),
    );
  }

  /** Loans due between `from` and `to`, or late; of the loans `platform` services now when it is given. */
  dueLoans(from: number, to: number, platform?: string): LoanRow[] {
    const filter = platform ? "AND servicer = ?" : "";
    const params = platform ? [platform.toLowerCase()] : [];
    return this.all(
      `SELECT * FROM loans WHERE ((next_due_at BETWEEN ? AND ?) OR status = ${LoanStatus.Late}) ${filter}
       ORDER BY next_due_at, loan_id LIMIT 200`,
      from,
      to,
      ...params,
    ).map(loanOf);
  }

  funding(platform?: string): LoanRow[] {
    const filter = platform ? "AND servicer = ?" : "";
    return this.all(
      `SELECT * FROM loans WHERE status = ${LoanStatus.Funding} ${filter} ORDER BY anchored_at DESC, loan_id LIMIT 200`,
      ...(platform ? [platform.toLowerCase()] : []),
    ).map(loanOf);
  }

  counts(): { events: number; loans: number; bytes: number } {
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const events = Number(this.get("SELECT count(*) AS n FROM events")?.n ?? 0);
    const loans = Number(this.get("SELECT count(*) AS n FROM loans")?.n ?? 0);
    let bytes = 0;
    for (const suffix of ["", "-wal"]) {
      try {
        bytes += statSync(this.path + suffix).size;
      } catch {
        // No write-ahead log at the moment: nothing to add.
      }
    }
    return { events, loans, bytes };
  }

  dump(): Record<string, unknown[]> {
    return Object.fromEntries(
      Object.entries(DERIVED).map(([table, key]) => [table, this.all(`SELECT * FROM ${table} ORDER BY ${key}`)]),
    );
  }
}
