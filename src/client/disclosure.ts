import { readFileSync } from "node:fs";
import { keccak256, toUtf8Bytes, type ContractRunner, type ContractTransactionReceipt } from "ethers";
import { Ajv2020 } from "ajv/dist/2020.js";
import {
  CreditInsurance__factory,
  DisclosureRegistry__factory,
  type DisclosureRegistry,
} from "../../typechain-types/index.js";
import { InputError } from "./errors.js";
import { toHash32, toLoanId, type Address, type Hash32, type LoanId } from "./ids.js";
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

const schema = JSON.parse(
  readFileSync(new URL("../../schemas/disclosure-v1.schema.json", import.meta.url), "utf8"),
) as object;
const validator = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

/** Checks `value` against the unified format and returns it typed, or throws an InputError naming every problem. */
export function validateReport(value: unknown): DisclosureReport {
  if (validator(value)) return value as DisclosureReport;
  const problems = (validator.errors ?? []).map((e) => `${e.instancePath || "the report"} ${e.message}`);
  throw new InputError(`the report does not follow the disclosure format: ${problems.join("; ")}`);
}

/** JSON with keys sorted at every level and no whitespace: the form the content hash is taken of. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

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
  private readonly blockTimes = new Map<number, number>();

  constructor(
    address: string,
    private readonly runner: ContractRunner,
    private readonly sources: { loans: LoanRegistryClient; splitter: SplitterClient; insurance: string },
    private readonly fromBlock = 0,
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

  /** Attests `version` of a report, proving by its content hash that it is the document the auditor read. */
  async attest(report: unknown, version: number): Promise<ContractTransactionReceipt> {
    const valid = validateReport(report);
    return transact(() => this.contract.attest(valid.platform, periodNumber(valid.period), version, reportHash(valid)));
  }

  async versions(platform: Address, period: string): Promise<number> {
    return Number(await read(() => this.contract.versionsOf(platform, periodNumber(period))));
  }

  /** A version of the report (the latest by default) with its key figures. */
  async report(
    platform: Address,
    period: string,
    version?: number,
  ): Promise<{ version: number; contentHash: Hash32; publishedAt: number; figures: KeyFigures }> {
    const v = version ?? (await this.versions(platform, period));
    if (v === 0) throw new InputError(`${platform} published no report for ${period}`);
    const r = await read(() => this.contract.reportOf(platform, periodNumber(period), v));
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

  /** The platform's key figures for the period as the ledger's own events give them (see the schema's definitions). */
  async ledgerFigures(platform: Address, period: string): Promise<KeyFigures> {
    const { start, end } = periodBounds(period);
    const { loans } = this.sources;
    const registry = loans.contract;
    const anchored = await read(() =>
      registry.queryFilter(registry.filters.LoanAnchored(undefined, platform), this.fromBlock),
    );
    const figures: KeyFigures = {
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
    const byStatus = new Map<LoanStatus, bigint>();
    const borrowers = new Set<string>();
    const ids: LoanId[] = [];
    for (const event of anchored) {
      const loanId = toLoanId(event.args.loanId);
      const at = Number(event.args.at);
      if (at > end) continue;
      ids.push(loanId);
      if (at >= start) {
        figures.loansOriginated += 1;
        figures.volume += event.args.terms.principal;
      }
      // Replay the loan's facts up to the end of the period.
      let status: LoanStatus = LoanStatus.Funding;
      let outstanding: bigint = event.args.terms.principal;
      for (const entry of (await loans.history(loanId)).entries) {
        const fact = entry.fact;
        if (fact.at > end) break;
        if (fact.kind === "StatusChanged") status = fact.to;
        if (fact.kind === "RepaymentRecorded") outstanding = fact.outstandingAfter;
      }
      if (status === LoanStatus.Funding || status === LoanStatus.Cancelled) continue;
      byStatus.set(status, (byStatus.get(status) ?? 0n) + outstanding);
      if (status === LoanStatus.Active || status === LoanStatus.Late || status === LoanStatus.Defaulted) {
        borrowers.add(event.args.borrowerRef);
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
    figures.lenders = await this.lendersAt(ids, end);
    figures.reserveContributed = await this.reserveContributed(ids, start, end);
    figures.insuranceClaimsPaid = await this.claimsPaid(ids, start, end);
    return figures;
  }

  /** Compares the latest disclosed figures with the ledger's; an empty list means they agree. */
  async check(platform: Address, period: string): Promise<FigureDifference[]> {
    const [disclosed, ledger] = await Promise.all([
      this.report(platform, period),
      this.ledgerFigures(platform, period),
    ]);
    return KEY_FIGURE_NAMES.filter((name) => disclosed.figures[name] !== ledger[name]).map((figure) => ({
      figure,
      disclosed: disclosed.figures[figure],
      ledger: ledger[figure],
    }));
  }

  /** A block's time; blocks are final on the alliance's chain, so each is asked for once. */
  private async timestamp(blockNumber: number): Promise<number> {
    let time = this.blockTimes.get(blockNumber);
    if (time === undefined) {
      const block = await read(async () => this.runner.provider!.getBlock(blockNumber));
      time = block?.timestamp ?? 0;
      this.blockTimes.set(blockNumber, time);
    }
    return time;
  }

  /** Lenders holding a share, at the period's end, of the platform's loans funded through the splitter. */
  private async lendersAt(ids: readonly LoanId[], end: number): Promise<number> {
    const splitter = this.sources.splitter.contract;
    const holders = new Set<string>();
    for (const loanId of ids) {
      const shares = new Map<string, bigint>();
      const [committed, moved, cancelled] = await Promise.all([
        read(() => splitter.queryFilter(splitter.filters.Committed(loanId), this.fromBlock)),
        read(() => splitter.queryFilter(splitter.filters.ShareTransferred(loanId), this.fromBlock)),
        read(() => splitter.queryFilter(splitter.filters.FundingCancelled(loanId), this.fromBlock)),
      ]);
      if (cancelled.length && (await this.timestamp(cancelled[0].blockNumber)) <= end) continue;
      for (const e of committed) {
        if ((await this.timestamp(e.blockNumber)) > end) continue;
        shares.set(e.args.lender, (shares.get(e.args.lender) ?? 0n) + e.args.amount);
      }
      for (const e of moved) {
        if ((await this.timestamp(e.blockNumber)) > end) continue;
        shares.set(e.args.from, (shares.get(e.args.from) ?? 0n) - e.args.shares);
        shares.set(e.args.to, (shares.get(e.args.to) ?? 0n) + e.args.shares);
      }
      for (const [lender, held] of shares) if (held > 0n) holders.add(lender);
    }
    return holders.size;
  }

  private async reserveContributed(ids: readonly LoanId[], start: number, end: number): Promise<bigint> {
    const splitter = this.sources.splitter.contract;
    let total = 0n;
    for (const loanId of ids) {
      for (const e of await read(() => splitter.queryFilter(splitter.filters.RepaymentSplit(loanId), this.fromBlock))) {
        const at = await this.timestamp(e.blockNumber);
        if (at >= start && at <= end) total += e.args.split.reserve;
      }
    }
    return total;
  }

  private async claimsPaid(ids: readonly LoanId[], start: number, end: number): Promise<bigint> {
    const insurance = CreditInsurance__factory.connect(this.sources.insurance, this.runner);
    let total = 0n;
    for (const loanId of ids) {
      for (const e of await read(() => insurance.queryFilter(insurance.filters.ClaimPaid(loanId), this.fromBlock))) {
        const at = await this.timestamp(e.blockNumber);
        if (at >= start && at <= end) total += e.args.paid;
      }
    }
    return total;
  }
}
