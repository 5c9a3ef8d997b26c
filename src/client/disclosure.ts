import { readFileSync } from "node:fs";
import { keccak256, toUtf8Bytes, type ContractRunner, type ContractTransactionReceipt, type Interface } from "ethers";
import { Ajv2020 } from "ajv/dist/2020.js";
import {
  CreditInsurance__factory,
  DisclosureRegistry__factory,
  type DisclosureRegistry,
} from "../../typechain-types/index.js";
import { canonicalJson } from "./canonical.js";
import { InputError, LoanLedgerError } from "./errors.js";
import { schemaProblems } from "./schema-errors.js";
import { toAddress, toHash32, type Address, type Hash32 } from "./ids.js";
import { figuresDigest, operationsReportHash, type OperationsReport } from "./operations/report.js";
import { LedgerReader, type LedgerReadOptions } from "./ledger.js";
import type { LoanRegistryClient } from "./loans.js";
import type { SplitterClient } from "./splitter.js";
import { read, transact } from "./transact.js";
import { LoanStatus } from "./types.js";

/** A report in the unified disclosure format, version 1 (schemas/disclosure-v1.schema.json). */
export interface DisclosureReport {
  schemaVersion: 1;
  platform: string;
  /** YYYY-MM */
  period: string;
  loansOriginated: number;
  /** Amounts are decimal strings in the token's smallest unit. */
  volume: string;
  outstandingPrincipal: string;
  overdueRateBps: number;
  badDebtRateBps: number;
  borrowers: number;
  lenders: number;
  reserve: { contributed: string };
  insurance: { claimsPaid: string };
  notes?: string;
}

/** The key figures as the DisclosureRegistry stores them. */
export interface KeyFigures {
  loansOriginated: number;
  volume: bigint;
  outstandingPrincipal: bigint;
  overdueRateBps: number;
  badDebtRateBps: number;
  borrowers: number;
  lenders: number;
  reserveContributed: bigint;
  insuranceClaimsPaid: bigint;
}

/** The key figures of a month with nothing to disclose: each zero. */
export function noKeyFigures(): KeyFigures {
  return {
    loansOriginated: 0,
    volume: 0n,
    outstandingPrincipal: 0n,
    overdueRateBps: 0,
    badDebtRateBps: 0,
    borrowers: 0,
    lenders: 0,
    reserveContributed: 0n,
    insuranceClaimsPaid: 0n,
  };
}

export const KEY_FIGURE_NAMES = [
  "loansOriginated",
  "volume",
  "outstandingPrincipal",
  "overdueRateBps",
  "badDebtRateBps",
  "borrowers",
  "lenders",
  "reserveContributed",
  "insuranceClaimsPaid",
] as const satisfies readonly (keyof KeyFigures)[];

/** A figure where the disclosure and the ledger disagree. */
export interface FigureDifference {
  figure: keyof KeyFigures;
  disclosed: bigint | number;
  ledger: bigint | number;
}

let validator: ReturnType<Ajv2020["compile"]> | undefined;

/** Checks `value` against the unified format and returns it typed, or throws an InputError naming every problem. */
export function validateReport(value: unknown): DisclosureReport {
  // Compiled on first use: a command that handles no report does not pay for it at start-up.
  validator ??= new Ajv2020({ allErrors: true, strict: true, verbose: true }).compile(
    JSON.parse(readFileSync(new URL("../../schemas/disclosure-v1.schema.json", import.meta.url), "utf8")) as object,
  );
  if (validator(value)) return value as DisclosureReport;
  const problems = schemaProblems(validator.errors ?? [], "the report");
  throw new InputError(`the report does not follow the disclosure format: ${problems.join("; ")}`);
}

export { canonicalJson } from "./canonical.js";

export function reportHash(report: DisclosureReport): Hash32 {
  return toHash32(keccak256(toUtf8Bytes(canonicalJson(report))));
}

/** "2026-11" → 202611, the period as the contract keys it. */
export function periodNumber(period: string): number {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!match) throw new InputError(`a period is written YYYY-MM, not ${period}`);
  return Number(match[1]) * 100 + Number(match[2]);
}

/** The first and last second (UTC) of a YYYY-MM period. */
export function periodBounds(period: string): { start: number; end: number } {
  const n = periodNumber(period);
  const year = Math.floor(n / 100);
  const month = n % 100;
  return { start: Date.UTC(year, month - 1, 1) / 1000, end: Date.UTC(year, month, 1) / 1000 - 1 };
}

export function figuresOf(report: DisclosureReport): KeyFigures {
  return {
    loansOriginated: report.loansOriginated,
    volume: BigInt(report.volume),
    outstandingPrincipal: BigInt(report.outstandingPrincipal),
    overdueRateBps: report.overdueRateBps,
    badDebtRateBps: report.badDebtRateBps,
    borrowers: report.borrowers,
    lenders: report.lenders,
    reserveContributed: BigInt(report.reserve.contributed),
    insuranceClaimsPaid: BigInt(report.insurance.claimsPaid),
  };
}

/** A report in the unified format carrying `figures`, for a platform that discloses what the ledger shows. */
export function reportFromFigures(platform: Address, period: string, figures: KeyFigures): DisclosureReport {
  return {
    schemaVersion: 1,
    platform,
    period,
    loansOriginated: figures.loansOriginated,
    volume: String(figures.volume),
    outstandingPrincipal: String(figures.outstandingPrincipal),
    overdueRateBps: figures.overdueRateBps,
    badDebtRateBps: figures.badDebtRateBps,
    borrowers: figures.borrowers,
    lenders: figures.lenders,
    reserve: { contributed: String(figures.reserveContributed) },
    insurance: { claimsPaid: String(figures.insuranceClaimsPaid) },
  };
}

const bps = (part: bigint, whole: bigint) => (whole === 0n ? 0 : Number((part * 10_000n) / whole));

/**
 * Publishes, corrects and attests disclosures, and computes a platform's key figures from the ledger itself, so that
 * an auditor can compare what a platform disclosed with what the chain shows.
 */
export class DisclosureClient {
  readonly contract: DisclosureRegistry;
  constructor(
    address: string,
    private readonly runner: ContractRunner,
    private readonly sources: { loans: LoanRegistryClient; splitter: SplitterClient; insurance: string },
    private readonly fromBlock = 0,
    private readonly readOptions: LedgerReadOptions = {},
  ) {
    this.contract = DisclosureRegistry__factory.connect(address, runner);
  }

  /** Validates the report against the format, then publishes its hash and key figures (a correction if `correction`). */
  async publish(
    report: unknown,
    correction = false,
  ): Promise<{ version: number; receipt: ContractTransactionReceipt }> {
    const valid = validateReport(report);
    const args = [periodNumber(valid.period), valid.schemaVersion, reportHash(valid), figuresOf(valid)] as const;
    const receipt = await transact(() =>
      correction ? this.contract.correct(...args) : this.contract.publish(...args),
    );
    const version = Number(await read(() => this.contract.versionsOf(valid.platform, args[0])));
    return { version, receipt };
  }

  /**
   * Publishes the signer's operations report for its month (schema version 2): the report's hash and the digest of the
   * signer's figures. `report` must be the signer's own (`report --platform <signer>`).
   */
  async publishOperations(
    report: OperationsReport,
    correction = false,
  ): Promise<{ version: number; reportHash: Hash32; figuresDigest: Hash32; receipt: ContractTransactionReceipt }> {
    const platform = await this.signerAddress();
    const entity = report.platforms.find((p) => p.entity.toLowerCase() === platform.toLowerCase());
    if (!entity || report.platforms.length !== 1) {
      throw new InputError(
        `the report to publish must hold ${platform}'s figures only (report --platform ${platform})`,
      );
    }
    const period = periodNumber(report.month);
    const reportHash = operationsReportHash(report);
    const digest = figuresDigest(report, entity);
    const receipt = await transact(() => this.contract.publishOperations(period, reportHash, digest, correction));
    const version = Number(await read(() => this.contract.versionsOf(platform, period)));
    return { version, reportHash, figuresDigest: digest, receipt };
  }

  /** Attests `version` of an operations report, proving by its hash that it is the document the auditor read. */
  async attestOperations(report: OperationsReport, version: number): Promise<ContractTransactionReceipt> {
    if (report.platforms.length !== 1)
      throw new InputError("an attested operations report holds one platform's figures");
    const platform = toAddress(report.platforms[0].entity);
    return transact(() =>
      this.contract.attest(platform, periodNumber(report.month), version, operationsReportHash(report)),
    );
  }

  /** Declares (or, with `related` false, withdraws) the signer's related parties: borrower references and accounts. */
  declareRelatedParties(
    borrowerRefs: readonly Hash32[],
    accounts: readonly Address[],
    related = true,
  ): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.declareRelatedParties([...borrowerRefs], [...accounts], related));
  }

  /** The published version of an operations report (the latest by default): its hash and its figures' digest. */
  async operationsReport(
    platform: Address,
    month: string,
    version?: number,
  ): Promise<{
    version: number;
    schemaVersion: number;
    reportHash: Hash32;
    figuresDigest: Hash32;
    publishedAt: number;
  }> {
    const period = periodNumber(month);
    const v = version ?? Number(await read(() => this.contract.versionsOf(platform, period)));
    if (v === 0) throw new InputError(`${platform} published no report for ${month}`);
    const [r, digest] = await Promise.all([
      read(() => this.contract.reportOf(platform, period, v)),
      read(() => this.contract.figuresDigestOf(platform, period, v)),
    ]);
    return {
      version: v,
      schemaVersion: Number(r.schemaVersion),
      reportHash: toHash32(r.contentHash),
      figuresDigest: toHash32(digest),
      publishedAt: Number(r.publishedAt),
    };
  }

  private async signerAddress(): Promise<Address> {
    const runner = this.runner as { getAddress?: () => Promise<string> };
    if (typeof runner.getAddress !== "function") throw new LoanLedgerError("publishing needs a signer");
    return toAddress(await runner.getAddress());
  }

  /** Attests `version` of a report, proving by its content hash that it is the document the auditor read. */
  async attest(report: unknown, version: number): Promise<ContractTransactionReceipt> {
    const valid = validateReport(report);
    return transact(() => this.contract.attest(valid.platform, periodNumber(valid.period), version, reportHash(valid)));
  }

  async versions(platform: Address, period: string): Promise<number> {
    return Number(await read(() => this.contract.versionsOf(platform, periodNumber(period))));
  }

  /** A version of the report (the latest by default) with its key figures, as of `blockTag` (the latest block). */
  async report(
    platform: Address,
    period: string,
    version?: number,
    blockTag?: number,
  ): Promise<{ version: number; contentHash: Hash32; publishedAt: number; figures: KeyFigures }> {
    const v =
      version ?? Number(await read(() => this.contract.versionsOf(platform, periodNumber(period), { blockTag })));
    if (v === 0) throw new InputError(`${platform} published no report for ${period}`);
    const r = await read(() => this.contract.reportOf(platform, periodNumber(period), v, { blockTag }));
    const f = r.figures;
    return {
      version: v,
      contentHash: toHash32(r.contentHash),
      publishedAt: Number(r.publishedAt),
      figures: {
        loansOriginated: Number(f.loansOriginated),
        volume: f.volume,
        outstandingPrincipal: f.outstandingPrincipal,
        overdueRateBps: Number(f.overdueRateBps),
        badDebtRateBps: Number(f.badDebtRateBps),
        borrowers: Number(f.borrowers),
        lenders: Number(f.lenders),
        reserveContributed: f.reserveContributed,
        insuranceClaimsPaid: f.insuranceClaimsPaid,
      },
    };
  }

  /**
   * The platform's key figures for the period as the ledger's own events give them (see the schema's definitions),
   * read in bulk as of one block (the latest unless `reader` is given): one pass over the logs, whatever the number of
   * loans.
   */
  async ledgerFigures(platform: Address, period: string, reader?: LedgerReader): Promise<KeyFigures> {
    const ledger = reader ?? (await this.pin());
    const { start, end } = periodBounds(period);
    // Block times never decrease, so the period is a range of blocks: events are placed in it by block number.
    const [beforeStart, lastInPeriod] = await Promise.all([
      ledger.lastBlockAtOrBefore(start - 1),
      ledger.lastBlockAtOrBefore(end),
    ]);
    const registry = this.sources.loans.contract;
    const splitter = this.sources.splitter.contract;
    const insurance = CreditInsurance__factory.connect(this.sources.insurance, this.runner);
    const sources = [
      [registry, ["LoanAnchored", "LoanStatusChanged", "RepaymentRecorded"]],
      [
        splitter,
        [
          "Committed",
          "ShareTransferred",
          "FundingCancelled",
          "RepaymentSplit",
          "Claimed",
          "PayoutSkipped",
          "PayoutsPushed",
          "BookClosed",
        ],
      ],
      [insurance, ["ClaimPaid"]],
    ] as const;
    const byAddress = new Map<string, { interface: Interface }>(
      sources.map(([contract]) => [String(contract.target).toLowerCase(), contract]),
    );
    const topics = sources.flatMap(([contract, names]) =>
      names.map((name) => (contract.interface as Interface).getEvent(name)!.topicHash),
    );
    const logs = await ledger.logs({ address: [...byAddress.keys()], topics: [topics] }, { toBlock: lastInPeriod });
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);

    interface LoanReplay {
      principal: bigint;
      borrowerRef: string;
      status: LoanStatus;
      outstanding: bigint;
      cancelled: boolean;
      /** Governance closed the written-off loan's book in the splitter. */
      bookClosed: boolean;
      /** Lenders (lower case) keyed to their shares; a position settled on a closed book holds none. */
      shares: Map<string, bigint>;
      /** The lenders whose payout transfer failed in the transaction read last (they keep their shares). */
      skipped?: { tx: string; lenders: Set<string> };
    }
    const mine = new Map<bigint, LoanReplay>();
    const figures = noKeyFigures();
    const platformKey = platform.toLowerCase();
    for (const log of logs) {
      const parsed = byAddress.get(log.address.toLowerCase())?.interface.parseLog(log);
      if (!parsed) continue;
      // Read the fields as a plain object: on ethers' Result array, `at` would be Array.prototype.at.
      const a = parsed.args.toObject(true) as Record<string, unknown>;
      const loanId = BigInt(a.loanId as bigint);
      const inPeriod = log.blockNumber > beforeStart;
      if (parsed.name === "LoanAnchored") {
        if (String(a.platform).toLowerCase() !== platformKey) continue;
        const principal = (a.terms as { principal: bigint }).principal;
        mine.set(loanId, {
          principal,
          borrowerRef: String(a.borrowerRef),
          status: LoanStatus.Funding,
          outstanding: principal,
          cancelled: false,
          bookClosed: false,
          shares: new Map(),
        });
        if (inPeriod) {
          figures.loansOriginated += 1;
          figures.volume += principal;
        }
        continue;
      }
      const loan = mine.get(loanId);
      if (!loan) continue;
      // As the splitter books it (IRepaymentSplitter): once a loan is repaid, recovered, cancelled or its book closed,
      // a payout or claim settles a lender's position for good, and the lender holds no share of it any more.
      const closing =
        loan.cancelled || loan.bookClosed || loan.status === LoanStatus.Repaid || loan.status === LoanStatus.Recovered;
      switch (parsed.name) {
        case "LoanStatusChanged":
          loan.status = Number(a.to) as LoanStatus;
          break;
        case "RepaymentRecorded":
          loan.outstanding = a.outstandingAfter as bigint;
          break;
        case "Committed": {
          const lender = String(a.lender).toLowerCase();
          loan.shares.set(lender, (loan.shares.get(lender) ?? 0n) + (a.amount as bigint));
          break;
        }
        case "ShareTransferred": {
          const [from, to] = [String(a.from).toLowerCase(), String(a.to).toLowerCase()];
          loan.shares.set(from, (loan.shares.get(from) ?? 0n) - (a.shares as bigint));
          loan.shares.set(to, (loan.shares.get(to) ?? 0n) + (a.shares as bigint));
          break;
        }
        case "FundingCancelled":
          loan.cancelled = true;
          break;
        case "BookClosed":
          loan.bookClosed = true;
          break;
        case "Claimed":
          if (closing) loan.shares.set(String(a.lender).toLowerCase(), 0n);
          break;
        case "PayoutSkipped":
          if (loan.skipped?.tx !== log.transactionHash) loan.skipped = { tx: log.transactionHash, lenders: new Set() };
          loan.skipped.lenders.add(String(a.lender).toLowerCase());
          break;
        case "PayoutsPushed": {
          if (!closing) break;
          const skipped = loan.skipped?.tx === log.transactionHash ? loan.skipped.lenders : new Set<string>();
          // The batch names its lenders at 20 bytes each, in order.
          const batch = String(a.batch).slice(2).toLowerCase();
          for (let i = 0; i + 40 <= batch.length; i += 40) {
            const lender = "0x" + batch.slice(i, i + 40);
            if (!skipped.has(lender)) loan.shares.set(lender, 0n);
          }
          break;
        }
        case "RepaymentSplit":
          if (inPeriod) figures.reserveContributed += (a.split as { reserve: bigint }).reserve;
          break;
        case "ClaimPaid":
          if (inPeriod) figures.insuranceClaimsPaid += a.paid as bigint;
          break;
      }
    }

    const byStatus = new Map<LoanStatus, bigint>();
    const borrowers = new Set<string>();
    const lenders = new Set<string>();
    for (const loan of mine.values()) {
      // Lenders holding a share at the period's end, of loans funded through the splitter and not cancelled.
      if (!loan.cancelled) for (const [lender, held] of loan.shares) if (held > 0n) lenders.add(lender);
      if (loan.status === LoanStatus.Funding || loan.status === LoanStatus.Cancelled) continue;
      byStatus.set(loan.status, (byStatus.get(loan.status) ?? 0n) + loan.outstanding);
      if (
        loan.status === LoanStatus.Active ||
        loan.status === LoanStatus.Late ||
        loan.status === LoanStatus.Defaulted
      ) {
        borrowers.add(loan.borrowerRef);
      }
    }
    const of = (s: LoanStatus) => byStatus.get(s) ?? 0n;
    const open = of(LoanStatus.Active) + of(LoanStatus.Late) + of(LoanStatus.Defaulted);
    figures.outstandingPrincipal = open;
    figures.overdueRateBps = bps(of(LoanStatus.Late), open);
    figures.badDebtRateBps = bps(
      of(LoanStatus.Defaulted) + of(LoanStatus.WrittenOff),
      open + of(LoanStatus.WrittenOff),
    );
    figures.borrowers = borrowers.size;
    figures.lenders = lenders.size;
    return figures;
  }

  /** Compares the latest disclosed figures with the ledger's; an empty list means they agree. */
  async check(platform: Address, period: string): Promise<FigureDifference[]> {
    const reader = await this.pin();
    const [disclosed, ledger] = await Promise.all([
      this.report(platform, period, undefined, reader.blockTag),
      this.ledgerFigures(platform, period, reader),
    ]);
    return KEY_FIGURE_NAMES.filter((name) => disclosed.figures[name] !== ledger[name]).map((figure) => ({
      figure,
      disclosed: disclosed.figures[figure],
      ledger: ledger[figure],
    }));
  }

  /** A reader of the ledger as of the latest block. */
  private pin(): Promise<LedgerReader> {
    const provider = this.runner.provider;
    if (!provider) throw new LoanLedgerError("the disclosure client's runner has no provider to read events from");
    return LedgerReader.pin(provider, { fromBlock: this.fromBlock, ...this.readOptions });
  }
}
