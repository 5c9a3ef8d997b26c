/**
 * The portal's read-only API: each view's data from the index (through {IndexStore}), with the few figures only the
 * chain knows (what a lender can claim now, the next installment, a disclosure's ledger figures) read from a node at
 * the index's last block, so that a page's figures all describe one block.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isAddress, type Provider } from "ethers";
import { LoanRegistry__factory, RepaymentSplitter__factory } from "../../typechain-types/index.js";
import {
  CUSTODY_CONTRACT,
  CUSTODY_EVENTS,
  DisclosureClient,
  InputError,
  KEY_FIGURE_NAMES,
  LedgerReader,
  LoanRegistryClient,
  LOAN_STATUS_NAMES,
  LoanStatus,
  MEMBER_STATUS_NAMES,
  rolesFromMask,
  operations,
  schedule,
  consentDomain,
  consentDigest,
  consentTypedData,
  isValidConsent,
  recoverSigner,
  toHash32,
  toLoanId,
  type ConsentSubject,
  type Hash32,
  SCHEDULE_KIND_NAMES,
  SplitterClient,
  textHash,
  toAddress,
  toStruct,
  withinTime,
  withoutUrls,
  type EventRecord,
  type KeyFigures,
  type LoanRecord,
  type LoanTerms,
} from "../client/index.js";
import { checkAttestation, type Attestation as AttestationFile, type AuditReport } from "../audit/index.js";
import {
  indexOperationsSource,
  LOAN_SORTS,
  type DisclosureRow,
  owesPrincipal,
  type IndexStore,
  type LoanProver,
  type LoanQuery,
  type LoanRow,
  type LoanSort,
} from "../indexer/index.js";
import type {
  AllianceReport,
  Attestation,
  AuditReportSummary,
  CustodyPage,
  Disclosure,
  ExpectedMonth,
  LenderPage,
  LenderPosition,
  LenderSummary,
  LoanList,
  LoanPage,
  NextPayment,
  Payout,
  PlatformPage,
  SignatureCheck,
  SigningPage,
  Status,
  TimelineItem,
  Token,
  TransactionPage,
} from "./wire.js";

/** The token as amounts are shown (the portal's {Token}). */
export type TokenInfo = Token;

/** An answer of the API: JSON, or a file to download. */
export type ApiResponse =
  { status: number; json: unknown } | { status: number; text: string; contentType: string; filename?: string };

const ok = (json: unknown): ApiResponse => ({ status: 200, json });
const notFound = (message: string): ApiResponse => ({ status: 404, json: { error: message } });
const badRequest = (message: string): ApiResponse => ({ status: 400, json: { error: message } });

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const LOAN_ID = /^0x[0-9a-fA-F]{64}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;

function whole(value: string | null, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === null || value === "") return undefined;
  if (!/^\d+$/.test(value) || Number(value) > max) throw new InputError(`${name} must be a whole number`);
  return Number(value);
}

/** The history of a loan as the timeline shows it: each fact with its entry number, transaction and time. */
function timeline(events: ReturnType<IndexStore["eventsOf"]>): TimelineItem[] {
  let entry = 0;
  return events.map(({ kind, record, at }) => {
    const base = {
      blockNumber: record.blockNumber,
      transactionHash: record.transactionHash,
      logIndex: record.logIndex,
      at,
    };
    if (kind === "history") {
      const r = record as LoanRecord;
      entry += 1;
      const { loanId } = r;
      return { ...base, entry, loanId, source: "LoanRegistry", kind: String(r.fact.kind), fact: r.fact, head: r.head };
    }
    const r = record as EventRecord;
    const loanId =
      r.args.loanId === undefined ? null : "0x" + BigInt(String(r.args.loanId)).toString(16).padStart(64, "0");
    return { ...base, entry: null, loanId, source: r.contract, kind: r.event, fact: r.args, head: null };
  });
}

export class PortalApi {
  private readonly figures = new Map<string, Promise<KeyFigures | null>>();
  private readonly reports = new Map<string, Promise<{ report: operations.OperationsReport; months: string[] }>>();

  constructor(
    private readonly store: IndexStore,
    private readonly provider: Provider,
    private readonly prover: LoanProver,
    private readonly token: TokenInfo,
    private readonly options: {
      /** The indexer's state: why it stopped or failed, and whether a round of indexing runs now. */
      health?: () => { syncError: string | null; syncWarning?: string | null; indexing?: boolean };
      auditReport?: string;
      /** The alliance's time zone: where the operations report's months begin and end. */
      timeZone?: string;
      /**
       * Members' names by address, from a directory the alliance keeps off chain: a name is shown as the member's only
       * when it hashes to the metadata the member registered on chain.
       */
      memberNames?: Record<string, string>;
    } = {},
  ) {}

  private contracts(): Record<string, string> {
    return this.store.state()?.contracts ?? {};
  }

  private blockTag(): number | undefined {
    return this.store.state()?.last?.number;
  }

  /** Routes a GET of `path` with `query`; never throws for bad input (answers 400). */
  async handle(path: string, query: URLSearchParams): Promise<ApiResponse> {
    try {
      const parts = path.split("/").filter(Boolean);
      if (parts[0] !== "api") return notFound(`no such resource ${path}`);
      const [, resource, key, sub] = parts;
      // Each resource has at most three segments below /api (/api/lenders/<address>/statement.csv).
      const keyed = ["loans", "lenders", "tx", "alliance", "platform", "sign"].includes(resource);
      const subs = { lenders: "statement.csv", sign: "verify" } as Record<string, string>;
      if (parts.length > 4 || (key !== undefined && !keyed) || (sub !== undefined && subs[resource] !== sub)) {
        return notFound(`no such resource ${path}`);
      }
      switch (resource) {
        case "status":
          return ok(this.status());
        case "loans":
          if (key === undefined) return ok(this.loans(query));
          if (!LOAN_ID.test(key)) return badRequest(`not a loan id: ${key}`);
          return await this.loan(key.toLowerCase());
        case "lenders":
          if (!key || !ADDRESS.test(key)) return badRequest(`not an address: ${key}`);
          return sub === "statement.csv" ? this.statement(key.toLowerCase()) : ok(await this.lender(key.toLowerCase()));
        case "sign": {
          if (!key || !LOAN_ID.test(key)) return badRequest(`not a loan id: ${key}`);
          const page = this.signing(key.toLowerCase(), query);
          if (!page) return notFound(`loan ${key} is not in the index`);
          return ok(sub === "verify" ? await this.verifySignature(page, query) : page);
        }
        case "platform":
          if (key === "book.csv") return this.bookCsv(query.get("platform") || undefined);
          if (key !== undefined) return notFound(`no such resource ${path}`);
          return ok(this.platform(query.get("platform") || undefined, whole(query.get("now"), "now")));
        case "alliance": {
          const month = query.get("month") || undefined;
          if (key === "report.csv") {
            const { report } = await this.operationsReport(month);
            return {
              status: 200,
              text: operations.reportCsv(report),
              contentType: "text/csv; charset=utf-8",
              filename: `operations-report-${report.month}.csv`,
            };
          }
          if (key !== undefined) return notFound(`no such resource ${path}`);
          return ok(await this.alliance(month));
        }
        case "custody":
          return ok(this.custody());
        case "disclosures":
          return ok(await this.disclosures());
        case "audit-report":
          return ok(await this.auditReport());
        case "tx":
          if (!key || !HASH.test(key)) return badRequest(`not a transaction hash: ${key}`);
          return ok({
            transactionHash: key,
            events: timeline(this.store.eventsInTx(key.toLowerCase())),
          } satisfies TransactionPage);
        default:
          return notFound(`no such resource ${path}`);
      }
    } catch (error) {
      if (error instanceof InputError) return badRequest(error.message);
      throw error;
    }
  }

  status(): Status {
    const state = this.store.state();
    return {
      chainId: state?.chainId ?? null,
      contracts: state?.contracts ?? {},
      block: state?.last ?? null,
      token: this.token,
      ...this.directory(state?.last?.number),
      statuses: LOAN_STATUS_NAMES,
      schedules: SCHEDULE_KIND_NAMES,
      syncError: this.options.health?.().syncError ?? null,
      syncWarning: this.options.health?.().syncWarning ?? null,
    };
  }

  /**
   * The platforms, members and lenders every page names: read again when the index moves to another block, but while
   * it indexes (a new block every moment) at most once a second, so that the status stays cheap for every page.
   */
  private directory(block: number | undefined): Pick<Status, "platforms" | "members" | "lenders"> {
    const cached = this.directoryCache;
    const indexing = this.options.health?.().indexing === true;
    if (cached && (cached.block === block || (indexing && performance.now() - cached.at < 1_000))) return cached.value;
    const value = {
      platforms: this.store.platforms(),
      members: Object.fromEntries(
        this.store.members().map((m) => [
          m.account,
          {
            roles: rolesFromMask(m.roles),
            standing: MEMBER_STATUS_NAMES[m.status] ?? `status ${m.status}`,
            ...this.nameOf(m.account, m.metadataHash),
          },
        ]),
      ),
      lenders: this.store.lenders(100),
    };
    this.directoryCache = { block, at: performance.now(), value };
    return value;
  }

  /** The directory's name for `account`, and whether it is the one the member registered (by its hash). */
  private nameOf(account: string, metadataHash: string): { name?: string; nameProven?: boolean } {
    const names = this.options.memberNames;
    const name = names && Object.entries(names).find(([a]) => a.toLowerCase() === account)?.[1];
    if (!name) return {};
    return { name, nameProven: textHash(name).toLowerCase() === metadataHash.toLowerCase() };
  }

  private directoryCache?: {
    block: number | undefined;
    at: number;
    value: Pick<Status, "platforms" | "members" | "lenders">;
  };

  loans(query: URLSearchParams): LoanList {
    const sort = query.get("sort") ?? "anchoredAt";
    if (!(LOAN_SORTS as readonly string[]).includes(sort)) throw new InputError(`cannot sort by ${sort}`);
    const direction = query.get("dir") === "asc" ? "asc" : "desc";
    const platform = query.get("platform") || undefined;
    if (platform !== undefined && !ADDRESS.test(platform)) throw new InputError(`not an address: ${platform}`);
    const idPrefix = query.get("id") || undefined;
    if (idPrefix !== undefined && !/^0x[0-9a-fA-F]{0,64}$/.test(idPrefix)) {
      throw new InputError(`a loan id is 0x and hex digits, not ${idPrefix}`);
    }
    const q: LoanQuery = {
      platform,
      status: whole(query.get("status"), "status", LOAN_STATUS_NAMES.length - 1),
      from: whole(query.get("from"), "from"),
      to: whole(query.get("to"), "to"),
      idPrefix,
      // The platform's own reference, hashed as it was anchored: the text never reaches the chain.
      platformRef: query.get("ref") ? textHash(query.get("ref")!.trim()) : undefined,
      sort: sort as LoanSort,
      direction,
      offset: whole(query.get("offset"), "offset"),
      limit: whole(query.get("limit"), "limit", 200),
    };
    const { total, rows } = this.store.loans(q);
    return { total, offset: q.offset ?? 0, rows: rows.map(({ terms: _terms, ...row }) => row) };
  }

  private async loan(loanId: string): Promise<ApiResponse> {
    const loan = this.store.loan(loanId);
    if (!loan) return notFound(`loan ${loanId} is not in the index`);
    const [proof, next] = await Promise.all([this.prover.prove(loanId), this.nextPayment(loan)]);
    const history = timeline(this.store.eventsOf(loanId)).map((item) => {
      const writerFact = item.kind === "External" && item.entry ? proof.writerFacts?.[item.entry] : undefined;
      return writerFact ? { ...item, writerFact } : item;
    });
    const documents = history
      .filter((h) => h.kind === "DocumentAmended")
      .map((h) => ({
        version: Number(h.fact.version),
        hash: String(h.fact.documentHash),
        transactionHash: h.transactionHash,
        at: h.at,
      }));
    const anchored = history.find((h) => h.kind === "Anchored");
    documents.unshift({
      version: 1,
      hash: String(loan.terms.documentHash),
      transactionHash: anchored?.transactionHash ?? "",
      at: anchored?.at ?? loan.anchoredAt,
    });
    return ok({
      loan,
      next,
      history,
      documents,
      positions: this.store.positionsIn(loanId),
      liens: this.store.liensOf(loanId),
      loss: this.store.lossOf(loanId) ?? null,
      proof,
    } satisfies LoanPage);
  }

  /** The next installment as the registry quotes it at the index's block, for an active or late loan. */
  private async nextPayment(loan: LoanRow): Promise<NextPayment | null> {
    if (loan.nextDueAt === null) return null;
    try {
      const registry = LoanRegistry__factory.connect(this.contracts().LoanRegistry, this.provider);
      const terms = { ...loan.terms } as unknown as LoanTerms;
      const due = await withinTime(registry.nextPayment(toStruct(terms), { blockTag: this.blockTag() }));
      const amount = due.principal + due.interest + due.lateInterest;
      return { dueDate: Number(due.dueDate), installment: Number(due.installment), amount: amount.toString() };
    } catch {
      return { dueDate: loan.nextDueAt, installment: loan.installmentsPaid + 1, amount: null };
    }
  }

  async lender(lender: string): Promise<LenderPage> {
    const splitter = RepaymentSplitter__factory.connect(this.contracts().RepaymentSplitter, this.provider);
    const blockTag = this.blockTag();
    const positions = await Promise.all(
      this.store.positionsOf(lender).map(async (p) => {
        const loan = this.store.loan(p.loanId);
        const [claimable, next] = await Promise.all([
          withinTime(splitter.owedTo(p.loanId, lender, { blockTag })).then(String, () => null),
          loan ? this.nextPayment(loan) : null,
        ]);
        const committed = BigInt(loan?.committed ?? "0");
        const shares = BigInt(p.shares);
        const yourPart = (amount: string | null) =>
          amount === null || committed === 0n ? null : ((BigInt(amount) * shares) / committed).toString();
        return {
          ...p,
          platform: loan?.platform ?? null,
          status: loan?.status ?? null,
          principal: loan?.principal ?? null,
          outstanding: loan?.outstanding ?? null,
          loanCommitted: loan?.committed ?? null,
          shareBps: committed === 0n ? 0 : Number((shares * 10_000n) / committed),
          // In funding, the lender's commitment is still out (its shares are what it committed); cancelled, nothing is
          // (the refund is claimable); else its part of what the borrower still owes.
          outstandingPart: !loan
            ? null
            : loan.status === LoanStatus.Funding
              ? p.shares
              : yourPart(owesPrincipal(loan.status) ? loan.outstanding : "0"),
          claimable,
          next: next && { ...next, yourPart: yourPart(next.amount) },
        };
      }),
    );
    const payouts = this.store.payoutsTo(lender);
    const last = this.store.state()?.last ?? null;
    return {
      lender,
      block: last,
      positions,
      payouts,
      summary: lenderSummary(positions, payouts),
      expected: this.expectedReceipts(positions, last?.timestamp ?? Math.floor(Date.now() / 1000)),
    };
  }

  /**
   * What the lender's part of each open loan's schedule brings in the month of `now` and the two after it (in the
   * alliance's time zone): an installment still unpaid past its due date counts in the first month. Late interest and
   * the fees a repayment pays first are not in it: it is the schedule's principal and interest, by share.
   */
  private expectedReceipts(positions: LenderPosition[], now: number): ExpectedMonth[] {
    const timeZone = this.options.timeZone ?? operations.DEFAULT_TIME_ZONE;
    const first = operations.monthOf(now, timeZone);
    const months = [first, operations.addMonths(first, 1), operations.addMonths(first, 2)];
    const end = operations.monthSpan(months[2], timeZone).end;
    const sums = new Map<string, { amount: bigint; installments: number }>(
      months.map((m) => [m, { amount: 0n, installments: 0 }]),
    );
    for (const p of positions) {
      const loan = this.store.loan(p.loanId);
      if (!loan || (loan.status !== LoanStatus.Active && loan.status !== LoanStatus.Late)) continue;
      const committed = BigInt(loan.committed);
      if (committed === 0n || loan.activatedAt === null) continue;
      for (const row of scheduleOf(loan)) {
        const due = loan.activatedAt + row.dueAfter;
        if (row.k <= loan.installmentsPaid || due >= end) continue;
        const month = due < now ? first : operations.monthOf(due, timeZone);
        const sum = sums.get(month);
        if (!sum) continue;
        sum.amount += (row.total * BigInt(p.shares)) / committed;
        sum.installments += 1;
      }
    }
    return months.map((month) => ({
      month,
      amount: sums.get(month)!.amount.toString(),
      installments: sums.get(month)!.installments,
    }));
  }

  /**
   * What a borrower signs for loan `loanId`: its agreement, or with `kind=amendment` and `doc` its next document version
   * (or `version`); valid until `deadline` (7 days after the index's block by default). The typed data is ready for a
   * wallet's `eth_signTypedData_v4`, numbers as decimal strings.
   */
  signing(loanId: string, query: URLSearchParams): SigningPage | undefined {
    const loan = this.store.loan(loanId);
    const state = this.store.state();
    const registry = this.contracts().LoanRegistry;
    if (!loan || !state?.chainId || !registry) return undefined;
    const now = state.last?.timestamp ?? Math.floor(Date.now() / 1000);
    const deadline = whole(query.get("deadline"), "deadline") ?? now + 7 * 86_400;
    if (deadline <= now) throw new InputError(`the deadline ${deadline} has passed: it is a time after ${now}`);
    const kind = query.get("kind") ?? "agreement";
    let subject: ConsentSubject;
    if (kind === "agreement") {
      subject = { kind, loanId: toLoanId(BigInt(loanId)), deadline: BigInt(deadline) };
    } else if (kind === "amendment") {
      const doc = query.get("doc") ?? "";
      if (!HASH.test(doc)) throw new InputError("an amendment names the new document's hash: doc=0x and 64 hex digits");
      const version = whole(query.get("version"), "version") ?? loan.documentVersion + 1;
      if (version <= loan.documentVersion || version > 65_535) {
        throw new InputError(
          `version ${version} cannot be signed: the loan's document is at version ${loan.documentVersion}, and an amendment adds a later one`,
        );
      }
      subject = {
        kind,
        loanId: toLoanId(BigInt(loanId)),
        version,
        documentHash: toHash32(doc),
        deadline: BigInt(deadline),
      };
    } else {
      throw new InputError(`kind is agreement or amendment, not ${kind}`);
    }
    const domain = consentDomain(BigInt(state.chainId), toAddress(registry));
    const { types, primaryType, message } = consentTypedData(subject);
    const { terms: _terms, ...row } = loan;
    const t = loan.terms as Record<string, string | number>;
    const rows = scheduleOf(loan);
    return {
      loan: row,
      terms: {
        gracePeriod: Number(t.gracePeriod),
        lateFeeBps: Number(t.lateFeeBps),
        defaultThreshold: Number(t.defaultThreshold),
        fundingDeadline: Number(t.fundingDeadline),
        documentHash: String(t.documentHash),
      },
      kind: subject.kind,
      deadline,
      schedule: rows.map((r) => ({
        k: r.k,
        dueAfter: r.dueAfter,
        principal: r.principal.toString(),
        interest: r.interest.toString(),
        total: r.total.toString(),
      })),
      typedData: {
        domain: { ...domain, chainId: String(domain.chainId) } as Record<string, string>,
        types: {
          EIP712Domain: [
            { name: "name", type: "string" },
            { name: "version", type: "string" },
            { name: "chainId", type: "uint256" },
            { name: "verifyingContract", type: "address" },
          ],
          ...types,
        },
        primaryType,
        message: Object.fromEntries(Object.entries(message).map(([k, v]) => [k, String(v)])),
      },
      digest: consentDigest(domain, subject),
    };
  }

  /**
   * Whether `signature` (query) is `signer`'s signature of the page's subject: its key's, or a contract wallet's approval
   * (ERC-1271) read from the node, as the registry will check it.
   */
  private async verifySignature(page: SigningPage, query: URLSearchParams): Promise<SignatureCheck> {
    const signer = query.get("signer") ?? "";
    const signature = query.get("signature") ?? "";
    if (!isAddress(signer)) throw new InputError(`not an address (or a mistyped one, by its checksum): ${signer}`);
    if (!/^0x(?:[0-9a-fA-F]{2}){64,}$/.test(signature))
      throw new InputError("a signature is 0x and an even number of hex digits, 128 at least");
    const m = page.typedData.message;
    const subject: ConsentSubject =
      page.kind === "agreement"
        ? { kind: "agreement", loanId: toLoanId(BigInt(m.loanId)), deadline: BigInt(m.deadline) }
        : {
            kind: "amendment",
            loanId: toLoanId(BigInt(m.loanId)),
            version: Number(m.version),
            documentHash: toHash32(m.documentHash),
            deadline: BigInt(m.deadline),
          };
    const d = page.typedData.domain;
    const domain = consentDomain(BigInt(d.chainId), toAddress(d.verifyingContract));
    const recovered = recoverSigner(page.digest as Hash32, signature) ?? null;
    const account = toAddress(signer.toLowerCase());
    if (recovered === account) return { valid: true, recovered, signer: account, signature, unchecked: null };
    // Not its key's: only a contract wallet's approval, which the node is asked for, can make it good.
    try {
      const valid = await withinTime(
        isValidConsent(this.provider, domain, subject, account, signature, this.blockTag()),
      );
      return { valid, recovered, signer: account, signature, unchecked: null };
    } catch (error) {
      const why = `the node could not be asked whether a contract wallet at ${account} approves it: ${withoutUrls((error as Error).message.split("\n")[0])}`;
      return { valid: null, recovered, signer: account, signature, unchecked: why };
    }
  }

  /** The last audit report's summary, when one was written where the portal was told to look. */
  async auditReport(): Promise<AuditReportSummary | null> {
    const file = this.options.auditReport;
    if (!file) return null;
    let report: AuditReport;
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
      report = JSON.parse(bytes.toString("utf8")) as AuditReport;
    } catch {
      return null;
    }
    return {
      attestations: await this.attestations(file, bytes),
      verifiedAt: report.verifiedAt,
      loans: report.loans.length,
      entries: report.entries,
      findings: report.findings.slice(0, 50).map((f) => ({ check: f.check, loanId: f.loanId, message: f.message })),
      ok: report.ok,
      provenAt: report.heads.provenAt,
      file,
    };
  }

  /**
   * Who attested the report in `file`: the attestation file beside it (audit-attestation.json), checked against the
   * report's bytes, and every attestation of its digest on chain, each with its auditor's standing now.
   */
  private async attestations(file: string, bytes: Buffer): Promise<Attestation[]> {
    const digest = createHash("sha256").update(bytes).digest("hex");
    const members = this.directory(this.store.state()?.last?.number).members;
    const standing = (auditor: string) => {
      const member = members[auditor.toLowerCase()];
      return member
        ? `${member.roles.includes("Auditor") ? "auditor" : "not an auditor"}, ${member.standing.toLowerCase()}`
        : "not a member";
    };
    const found: Attestation[] = [];
    const beside = join(dirname(file), "audit-attestation.json");
    try {
      const attestation = JSON.parse(await readFile(beside, "utf8")) as AttestationFile;
      const check = checkAttestation(attestation, bytes);
      found.push({
        source: "file",
        auditor: attestation.auditor,
        standing: standing(attestation.auditor),
        holds: check.ok,
        problems: check.problems,
        where: beside,
      });
    } catch {
      // No attestation file beside the report: nothing to show of it.
    }
    const last = this.store.state()?.last?.number ?? 0;
    for (const item of this.store.recordsNamed(["DisclosureRegistry.AuditReportAttested"], last)) {
      if (item.kind !== "event") continue;
      const { args, blockNumber, transactionHash } = item.record;
      if (String(args.reportSha256).toLowerCase() !== `0x${digest}`) continue;
      const auditor = String(args.auditor);
      found.push({
        source: "chain",
        auditor,
        standing: standing(auditor),
        holds: true,
        problems: [],
        where: `block ${blockNumber}, transaction ${transactionHash}`,
      });
    }
    return found;
  }

  /** The lender's statement: every payout and claim, with its transaction, as CSV. */
  statement(lender: string): ApiResponse {
    const { decimals, symbol } = this.token;
    const rows = [
      ["time (UTC)", "loan", "kind", `amount (${symbol})`, "amount (smallest unit)", "block", "transaction"],
    ];
    for (const p of this.store.payoutsTo(lender)) {
      rows.push([
        new Date(p.at * 1000).toISOString(),
        p.loanId,
        p.kind,
        units(p.amount, decimals),
        p.amount,
        String(p.blockNumber),
        p.transactionHash,
      ]);
    }
    const text = rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
    return { status: 200, text, contentType: "text/csv; charset=utf-8", filename: `statement-${lender}.csv` };
  }

  /**
   * The custody token as the index has it at its head: each bank's book and declared custody account, the accounts it
   * registered, the withdrawals still pending, and the latest issues and redemptions with their bank references.
   */
  custody(): CustodyPage {
    const state = this.store.state();
    const head = state?.last?.number ?? -1;
    const books = new Map<string, { custodyAccount: string | null; issued: bigint; redeemed: bigint }>();
    const bookOf = (bank: string) => {
      let book = books.get(bank);
      if (!book) books.set(bank, (book = { custodyAccount: null, issued: 0n, redeemed: 0n }));
      return book;
    };
    const registered = new Map<string, string>();
    const pending = new Map<string, CustodyPage["pending"][number]>();
    const movements: CustodyPage["movements"] = [];
    let seen = false;
    const names = CUSTODY_EVENTS.map((event) => `${CUSTODY_CONTRACT}.${event}`);
    for (const item of this.store.recordsNamed(names, head)) {
      if (item.kind !== "event") continue;
      seen = true;
      const r = item.record;
      const a = r.args;
      const bank = String(a.bank ?? "").toLowerCase();
      switch (r.event) {
        case "Issued":
        case "Redeemed": {
          const issue = r.event === "Issued";
          const book = bookOf(bank);
          if (issue) book.issued += BigInt(String(a.amount));
          else book.redeemed += BigInt(String(a.amount));
          if (!issue) pending.delete(String(a.id));
          movements.push({
            kind: issue ? "issue" : "redemption",
            bank,
            account: String(issue ? a.to : a.holder).toLowerCase(),
            amount: String(a.amount),
            bankRef: String(a.bankRef),
            blockNumber: r.blockNumber,
            transactionHash: r.transactionHash,
          });
          break;
        }
        case "WithdrawalRequested":
          pending.set(String(a.id), {
            id: String(a.id),
            holder: String(a.holder).toLowerCase(),
            bank,
            amount: String(a.amount),
            requestedAt: r.blockNumber,
            transactionHash: r.transactionHash,
          });
          break;
        case "WithdrawalReturned":
          pending.delete(String(a.id));
          break;
        case "AccountRegistered":
          bookOf(bank);
          registered.set(String(a.account).toLowerCase(), bank);
          break;
        case "AccountClosed":
          registered.delete(String(a.account).toLowerCase());
          break;
        case "CustodyAccountSet":
          bookOf(bank).custodyAccount = String(a.accountHash);
          break;
      }
    }
    const accounts: Record<string, number> = {};
    for (const bank of registered.values()) accounts[bank] = (accounts[bank] ?? 0) + 1;
    let supply = 0n;
    const banks = [...books].map(([bank, b]) => {
      supply += b.issued - b.redeemed;
      return {
        bank,
        custodyAccount: b.custodyAccount,
        issued: String(b.issued),
        redeemed: String(b.redeemed),
        outstanding: String(b.issued - b.redeemed),
      };
    });
    return {
      custody: seen,
      block: state?.last ?? null,
      supply: String(supply),
      banks,
      accounts,
      pending: [...pending.values()],
      movements: movements.slice(-100).reverse(),
      issues: movements.filter((m) => m.kind === "issue").length,
      redemptions: movements.filter((m) => m.kind === "redemption").length,
    };
  }

  /**
   * The alliance's operations report for `month` (by default the last month ended at the index's head), computed from
   * the index by the same replay as the command line's.
   */
  async alliance(month?: string): Promise<AllianceReport> {
    const { report, months } = await this.operationsReport(month);
    return { ...report, definitions: operations.FIGURES.map((f) => ({ ...f })), months };
  }

  /** One computation per month and indexed block: every page and disclosure row of that block shares it. */
  private operationsReport(month?: string): Promise<{ report: operations.OperationsReport; months: string[] }> {
    const key = `${month ?? ""}@${this.store.state()?.last?.number}`;
    let report = this.reports.get(key);
    if (!report) {
      if (this.reports.size >= 24) this.reports.clear();
      report = this.computeOperationsReport(month);
      this.reports.set(key, report);
      report.catch(() => this.reports.delete(key));
    }
    return report;
  }

  private async computeOperationsReport(
    month?: string,
  ): Promise<{ report: operations.OperationsReport; months: string[] }> {
    const state = this.store.state();
    if (!state?.last) throw new InputError("the index holds no block yet");
    const timeZone = this.options.timeZone ?? operations.DEFAULT_TIME_ZONE;
    const lastEnded = operations.addMonths(operations.monthOf(state.last.timestamp, timeZone), -1);
    const first = this.store.firstBlock();
    const firstMonth = first ? operations.monthOf(first.timestamp, timeZone) : lastEnded;
    const asked = month ?? lastEnded;
    const { months, head } = await operations.readOperations(indexOperationsSource(this.store), {
      month: asked,
      timeZone,
    });
    const report = operations.buildReport(months, {
      timeZone,
      chainId: state.chainId,
      registry: state.contracts.LoanRegistry ?? "",
      token: this.token,
      block: head.block,
      blockTime: head.time,
    });
    const choices: string[] = [];
    for (let m = firstMonth; m <= lastEnded; m = operations.addMonths(m, 1)) choices.push(m);
    return { report, months: choices.reverse() };
  }

  /** The platform's page as of `now` (the index's last block by default, so the page describes one block). */
  platform(
    platform?: string,
    now = this.store.state()?.last?.timestamp ?? Math.floor(Date.now() / 1000),
  ): PlatformPage {
    if (platform !== undefined && !ADDRESS.test(platform)) throw new InputError(`not an address: ${platform}`);
    const strip = (rows: LoanRow[]) => rows.map(({ terms: _terms, ...row }) => row);
    return {
      platform: platform ?? null,
      book: this.store.book(platform),
      due: strip(this.store.dueLoans(now, now + 30 * 86_400, platform)),
      funding: strip(this.store.funding(platform)),
      handedOver: strip(this.store.handedOver(platform)),
      ...this.bookFigures(platform, now),
      reserve: this.store.reserve(),
      insurers: this.store.insurers(),
    };
  }

  /**
   * The book a platform services, as of `now`: its overdue loans by days past due (the operations report's buckets,
   * counted from the first unpaid installment's due date), and its loans by month anchored (alliance time zone).
   */
  private bookFigures(platform: string | undefined, now: number): Pick<PlatformPage, "overdue" | "months"> {
    const timeZone = this.options.timeZone ?? operations.DEFAULT_TIME_ZONE;
    const buckets = new Map(operations.BUCKETS.map((b) => [b, { loans: 0, outstanding: 0n }]));
    const months = new Map<string, { loans: number; principal: bigint; outstanding: bigint }>();
    for (const line of this.store.bookLines(platform)) {
      const month = operations.monthOf(line.anchoredAt, timeZone);
      const m = months.get(month) ?? { loans: 0, principal: 0n, outstanding: 0n };
      m.loans += 1;
      m.principal += BigInt(line.principal);
      if (owesPrincipal(line.status)) m.outstanding += BigInt(line.outstanding);
      months.set(month, m);
      const open = line.status === LoanStatus.Active || line.status === LoanStatus.Late;
      if (open && line.nextDueAt !== null && line.nextDueAt < now) {
        const bucket = buckets.get(operations.bucketOf(Math.ceil((now - line.nextDueAt) / 86_400)))!;
        bucket.loans += 1;
        bucket.outstanding += BigInt(line.outstanding);
      }
    }
    return {
      overdue: [...buckets].map(([bucket, b]) => ({ bucket, loans: b.loans, outstanding: b.outstanding.toString() })),
      months: [...months]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([month, m]) => ({
          month,
          loans: m.loans,
          principal: m.principal.toString(),
          outstanding: m.outstanding.toString(),
        })),
    };
  }

  /** The book a platform services (every loan without one) as CSV, one loan a line. */
  bookCsv(platform?: string): ApiResponse {
    if (platform !== undefined && !ADDRESS.test(platform)) throw new InputError(`not an address: ${platform}`);
    const { decimals, symbol } = this.token;
    const timeZone = this.options.timeZone ?? operations.DEFAULT_TIME_ZONE;
    const rows = [
      [
        "loan",
        "platform reference (hash)",
        "originator",
        "servicer",
        "status",
        `principal (${symbol})`,
        `outstanding (${symbol})`,
        `anchored (${timeZone})`,
        `next due (${timeZone})`,
      ],
    ];
    for (const line of this.store.bookLines(platform)) {
      rows.push([
        line.loanId,
        line.platformRef,
        line.platform,
        line.servicer,
        LOAN_STATUS_NAMES[line.status],
        units(line.principal, decimals),
        units(owesPrincipal(line.status) ? line.outstanding : "0", decimals),
        operations.localIso(line.anchoredAt, timeZone),
        line.nextDueAt === null ? "" : operations.localIso(line.nextDueAt, timeZone),
      ]);
    }
    const text = rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
    return {
      status: 200,
      text,
      contentType: "text/csv; charset=utf-8",
      filename: `book-${platform ?? "alliance"}.csv`,
    };
  }

  /** Every published disclosure beside the ledger's figures for its platform and month, at the index's block. */
  async disclosures(): Promise<Disclosure[]> {
    const rows = this.store.disclosures();
    return Promise.all(
      rows.map(async (d) => {
        const period = `${Math.floor(d.period / 100)}-${String(d.period % 100).padStart(2, "0")}`;
        if (d.figures.schemaVersion === 2)
          return { ...d, schemaVersion: 2, periodText: period, ...(await this.digestCheck(d, period)) };
        const ledger = await this.ledgerFigures(d.platform, period);
        const differences = ledger
          ? KEY_FIGURE_NAMES.filter((name) => String(d.figures[name]) !== String(ledger[name]))
          : [];
        return {
          ...d,
          schemaVersion: 1,
          periodText: period,
          ledger: ledger && Object.fromEntries(KEY_FIGURE_NAMES.map((n) => [n, String(ledger[n])])),
          differences,
        };
      }),
    );
  }

  /** An operations report's published digest beside the digest of the platform's month as the index computes it. */
  private async digestCheck(
    d: DisclosureRow,
    month: string,
  ): Promise<{ ledger: Record<string, string> | null; differences: string[]; unchecked?: string }> {
    try {
      const { report } = await this.operationsReport(month);
      const entity = report.platforms.find((p) => p.entity.toLowerCase() === d.platform.toLowerCase());
      if (!entity) return { ledger: null, differences: [], unchecked: `${d.platform} is not in the month's report` };
      const digest = operations.figuresDigest(report, entity);
      return {
        ledger: { figuresDigest: digest },
        differences: digest === d.figures.figuresDigest ? [] : ["figuresDigest"],
      };
    } catch (error) {
      return { ledger: null, differences: [], unchecked: (error as Error).message.split("\n")[0] };
    }
  }

  private ledgerFigures(platform: string, period: string): Promise<KeyFigures | null> {
    const last = this.store.state()?.last;
    const key = `${platform}:${period}@${last?.number}`;
    let figures = this.figures.get(key);
    if (!figures) {
      const contracts = this.contracts();
      const fromBlock = this.store.state()?.fromBlock ?? 0;
      const loans = new LoanRegistryClient(contracts.LoanRegistry, this.provider, fromBlock);
      const splitter = new SplitterClient(contracts.RepaymentSplitter, this.provider, loans, fromBlock);
      const sources = { loans, splitter, insurance: contracts.CreditInsurance };
      const disclosures = new DisclosureClient(contracts.DisclosureRegistry, this.provider, sources, fromBlock);
      figures = (async () => {
        try {
          const reader = await withinTime(LedgerReader.pin(this.provider, { at: last?.number, fromBlock }));
          return await withinTime(disclosures.ledgerFigures(toAddress(platform), period, reader));
        } catch {
          return null;
        }
      })();
      this.figures.set(key, figures);
    }
    return figures;
  }
}

/** An amount in the token's units, exactly (no float on the way). */
export function units(amount: string, decimals: number): string {
  const negative = amount.startsWith("-");
  const digits = (negative ? amount.slice(1) : amount).padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = decimals ? digits.slice(-decimals).replace(/0+$/, "") : "";
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The lender's headline figures: what it put in (its commitments), received (payouts and claims), is still owed (its
 * part of the outstanding principal, and what it can claim now), and its realised income and yield: what it received or
 * can claim beyond the principal returned to it, over what it put in.
 */
function lenderSummary(positions: LenderPosition[], payouts: Payout[]): LenderSummary {
  const sum = (values: (string | null)[]) => values.reduce((total, v) => total + BigInt(v ?? "0"), 0n);
  const putIn = sum(positions.map((p) => p.committed));
  const received = sum(payouts.map((p) => p.amount));
  const outstanding = sum(positions.map((p) => p.outstandingPart));
  const claimable = sum(positions.map((p) => p.claimable));
  // What came in or can be claimed, beyond the principal that came back: the principal not still out came back (in
  // the installments, a refund, a recovery), and a loss is not counted until it is final.
  const income = received + claimable + outstanding - putIn;
  return {
    putIn: putIn.toString(),
    received: received.toString(),
    stillOwed: (outstanding + claimable).toString(),
    income: income.toString(),
    realisedYieldBps: putIn === 0n ? null : Number((income * 10_000n) / putIn),
  };
}

/** A loan's repayment schedule from its indexed terms (JSON: amounts as decimal strings). */
function scheduleOf(loan: LoanRow) {
  const t = loan.terms;
  return schedule({
    scheduleKind: Number(t.scheduleKind) as LoanTerms["scheduleKind"],
    principal: BigInt(t.principal),
    annualRateBps: Number(t.annualRateBps),
    installments: Number(t.installments),
    period: Number(t.period),
  });
}
