/**
 * The operations report as a document (schemas/operations-report.schema.json) and its other forms: CSV, one row per
 * platform, and xBRL-JSON, each figure a fact with its concept, entity, period and unit. The figures' digest and the
 * report's hash are what a platform publishes in the disclosure registry (schema version 2).
 */
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { getAddress, keccak256, toUtf8Bytes } from "ethers";
import { InputError } from "../errors.js";
import { schemaProblems } from "../schema-errors.js";
import { canonicalJson } from "../canonical.js";
import { toHash32, type Hash32 } from "../ids.js";
import { FIGURES, FIGURE_NAMES, TREND_FIGURES, type FeeSchedule, type Figures } from "./figures.js";
import { emptyFigures, type MonthFigures } from "./compute.js";
import { localIso, type Month } from "./months.js";

/** A figure as a report writes it: amounts as decimal strings, counts and basis points as numbers. */
export type FigureValue = string | number | null;
export type ReportFigures = Record<keyof Figures, FigureValue>;

export interface ReportEntity {
  /** The platform's address (checksummed as the ledger names it), or "alliance". */
  entity: string;
  figures: ReportFigures;
  feeSchedule: FeeSchedule;
}

/** A month of the trend: its trend figures ({@link TREND_FIGURES}) per entity, the platforms' and the alliance's. */
export interface TrendMonth {
  month: Month;
  entities: { entity: string; figures: Record<string, FigureValue> }[];
}

export interface OperationsReport {
  /** The disclosure registry's schema version for an operations report. */
  schemaVersion: 2;
  month: Month;
  timeZone: string;
  /** The month's first instant and the instant it ends (excluded), ISO 8601 in the time zone. */
  period: { start: string; end: string };
  ledger: { chainId: string; registry: string; block: number; blockTime: number };
  token: { symbol: string; decimals: number };
  /** The platforms, in address order; with --platform, that platform only. */
  platforms: ReportEntity[];
  alliance: ReportEntity;
  /** The twelve months up to this one (oldest first), to read trends and roll rates. */
  trend: TrendMonth[];
}

export const toReportFigures = (figures: Figures): ReportFigures =>
  Object.fromEntries(
    FIGURE_NAMES.map((name) => {
      const value = figures[name];
      return [name, typeof value === "bigint" ? value.toString() : value];
    }),
  ) as ReportFigures;

export interface ReportContext {
  timeZone: string;
  chainId: string;
  registry: string;
  token: { symbol: string; decimals: number };
  /** The block the report was read at and its time. */
  block: number;
  blockTime: number;
  /** Only this platform (lower case). */
  platform?: string;
}

/** The report for the last month of `months` (the others are its trend). */
export function buildReport(months: readonly MonthFigures[], context: ReportContext): OperationsReport {
  const current = months[months.length - 1];
  // A platform asked for by name has its entity even with no loan yet: zeros, not a missing row.
  const entities = (m: MonthFigures): ReportEntity[] =>
    (context.platform === undefined
      ? m.platforms
      : [
          m.platforms.find((p) => p.platform === context.platform) ?? {
            platform: context.platform,
            figures: emptyFigures(),
            feeSchedule: { caps: m.alliance.feeSchedule.caps, rates: [] },
          },
        ]
    ).map((p) => ({
      entity: getAddress(p.platform),
      figures: toReportFigures(p.figures),
      feeSchedule: p.feeSchedule,
    }));
  const alliance = (m: MonthFigures): ReportEntity => ({
    entity: "alliance",
    figures: toReportFigures(m.alliance.figures),
    feeSchedule: m.alliance.feeSchedule,
  });
  return {
    schemaVersion: 2,
    month: current.month,
    timeZone: context.timeZone,
    period: {
      start: localIso(current.span.start, context.timeZone),
      end: localIso(current.span.end, context.timeZone),
    },
    ledger: {
      chainId: context.chainId,
      registry: context.registry,
      block: context.block,
      blockTime: context.blockTime,
    },
    token: context.token,
    platforms: entities(current),
    alliance: alliance(current),
    trend: months.slice(-12).map((m) => ({
      month: m.month,
      entities: [...entities(m), alliance(m)].map((e) => ({
        entity: e.entity,
        figures: Object.fromEntries(TREND_FIGURES.map((name) => [name, e.figures[name]])),
      })),
    })),
  };
}

/** The keccak-256 of a report's canonical JSON: the hash a platform publishes. */
export function operationsReportHash(report: OperationsReport): Hash32 {
  return toHash32(keccak256(toUtf8Bytes(canonicalJson(report))));
}

/**
 * The digest of one entity's figures for a month: keccak-256 of the canonical JSON of the month, the time zone, the
 * entity's figures and its fee schedule. It does not depend on the block the report was read at, so a report read
 * later gives the same digest while the month's figures stand.
 */
export function figuresDigest(report: Pick<OperationsReport, "month" | "timeZone">, entity: ReportEntity): Hash32 {
  const content = {
    month: report.month,
    timeZone: report.timeZone,
    entity: entity.entity.toLowerCase(),
    figures: entity.figures,
    feeSchedule: entity.feeSchedule,
  };
  return toHash32(keccak256(toUtf8Bytes(canonicalJson(content))));
}

/** The figures of `report` that differ from `other`'s, for the same entity. */
export function differingFigures(
  published: ReportEntity,
  ledger: ReportEntity,
): { figure: string; published: FigureValue | string; ledger: FigureValue | string }[] {
  const differences: { figure: string; published: FigureValue | string; ledger: FigureValue | string }[] =
    FIGURE_NAMES.filter((name) => published.figures[name] !== ledger.figures[name]).map((figure) => ({
      figure,
      published: published.figures[figure],
      ledger: ledger.figures[figure],
    }));
  const schedule = (s: FeeSchedule) => canonicalJson(s);
  if (schedule(published.feeSchedule) !== schedule(ledger.feeSchedule)) {
    differences.push({
      figure: "feeSchedule",
      published: schedule(published.feeSchedule),
      ledger: schedule(ledger.feeSchedule),
    });
  }
  return differences;
}

const csvCell = (value: FigureValue | string) => {
  const text = value === null ? "" : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

const feeText = (schedule: FeeSchedule) =>
  schedule.rates
    .map(
      (r) =>
        `fee ${r.platformFeeBps}/premium ${r.premiumBps}/reserve ${r.reserveBps}/late ${r.lateFeeBps} bps × ${r.loans}`,
    )
    .join("; ");

/** One row per platform and a last row for the alliance; amounts in the token's smallest unit. */
export function reportCsv(report: OperationsReport): string {
  const header = ["month", "timeZone", "entity", ...FIGURE_NAMES, "feeSchedule"];
  const rows = [...report.platforms, report.alliance].map((e) => [
    report.month,
    report.timeZone,
    e.entity,
    ...FIGURE_NAMES.map((name) => e.figures[name]),
    feeText(e.feeSchedule),
  ]);
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\n") + "\n";
}

const XBRL_PREFIX = "loanledger";
const XBRL_NAMESPACE = "urn:loanledger:operations:2027";
const concept = (name: string) => `${XBRL_PREFIX}:${name[0].toUpperCase()}${name.slice(1)}`;

/**
 * xBRL-JSON (the OIM's JSON form): each figure a fact with its concept, entity (the platform's address under the
 * alliance's scheme), period (the month's end as an instant, or the month as a duration for flows) and unit.
 */
export function reportXbrl(report: OperationsReport): object {
  const facts: Record<string, { value: string; decimals?: number; dimensions: Record<string, string> }> = {};
  const flows = new Set(["monthLentCount", "monthLentAmount"]);
  const units: Record<string, string> = {
    token: `${XBRL_PREFIX}:${report.token.symbol}Wei`,
    count: "xbrli:pure",
    bps: `${XBRL_PREFIX}:BasisPoint`,
  };
  let n = 0;
  for (const e of [...report.platforms, report.alliance]) {
    for (const definition of FIGURES) {
      const value = e.figures[definition.name];
      if (value === null) continue;
      facts[`f${++n}`] = {
        value: String(value),
        decimals: 0,
        dimensions: {
          concept: concept(definition.name),
          entity: `${XBRL_PREFIX}:${e.entity}`,
          period: flows.has(definition.name) ? `${report.period.start}/${report.period.end}` : report.period.end,
          unit: units[definition.unit],
        },
      };
    }
  }
  return {
    documentInfo: {
      documentType: "https://xbrl.org/2021/xbrl-json",
      namespaces: {
        [XBRL_PREFIX]: XBRL_NAMESPACE,
        xbrl: "https://xbrl.org/2021",
        xbrli: "http://www.xbrl.org/2003/instance",
      },
      features: { "xbrl:canonicalValues": true },
    },
    facts,
  };
}

/** What checking a published operations report against the ledger found. */
export interface OperationsCheck {
  /** The published figures are the ledger's (and, when the report was given, it is the published one and says so). */
  agrees: boolean;
  /** Whether the published document itself was checked (it was given), or only the digest of its figures. */
  documentChecked: boolean;
  /** Each figure that differs, when the published report itself was given. */
  differences: ReturnType<typeof differingFigures>;
  /** Why the figures could not be named one by one, or why the given file is not the published report. */
  problem?: string;
}

/**
 * Checks a platform's published month (its report hash and figures digest) against `ledger`, the platform's report as
 * the ledger gives it now, in the alliance's time zone. With `file`, the report the platform published, the file must
 * be the published one (its hash), in the alliance's time zone, and carry the published digest; then each of its
 * figures is compared with the ledger's, so a document that differs from the figures it was published with is caught.
 */
export function checkOperations(
  published: { reportHash: string; figuresDigest: string },
  ledger: OperationsReport,
  file?: OperationsReport,
): OperationsCheck {
  const entity = ledger.platforms[0];
  const digestAgrees = figuresDigest(ledger, entity) === published.figuresDigest;
  if (!file) {
    return digestAgrees
      ? { agrees: true, documentChecked: false, differences: [] }
      : {
          agrees: false,
          documentChecked: false,
          differences: [],
          problem:
            "the published figures' digest is not the ledger's: give the published report (--file) to name each figure",
        };
  }
  const refuse = (problem: string): OperationsCheck => ({
    agrees: false,
    documentChecked: true,
    differences: [],
    problem,
  });
  const fileHash = operationsReportHash(file);
  if (fileHash !== published.reportHash) {
    return refuse(
      `the file is not the published report: its hash is ${fileHash}, the published one ${published.reportHash}`,
    );
  }
  if (file.timeZone !== ledger.timeZone || file.month !== ledger.month) {
    return refuse(
      `the published report is of ${file.month} in ${file.timeZone}; the alliance reports ${ledger.month} in ${ledger.timeZone}`,
    );
  }
  const mine = file.platforms.find((p) => p.entity.toLowerCase() === entity.entity.toLowerCase());
  if (!mine || file.platforms.length !== 1) return refuse(`the published report is not ${entity.entity}'s own`);
  if (figuresDigest(file, mine) !== published.figuresDigest) {
    return refuse("the published digest is not that of the published report's own figures");
  }
  const differences = differingFigures(mine, entity);
  return { agrees: differences.length === 0, documentChecked: true, differences };
}

let validator: ReturnType<Ajv2020["compile"]> | undefined;

/** Checks `value` against schemas/operations-report.schema.json and returns it typed, or throws an InputError. */
export function validateOperationsReport(value: unknown): OperationsReport {
  validator ??= new Ajv2020({ allErrors: true, strict: true, verbose: true }).compile(
    JSON.parse(
      readFileSync(new URL("../../../schemas/operations-report.schema.json", import.meta.url), "utf8"),
    ) as object,
  );
  if (validator(value)) return value as OperationsReport;
  const problems = schemaProblems(validator.errors ?? [], "the report");
  throw new InputError(
    `the file is not an operations report: ${problems.slice(0, 3).join("; ") || "it does not follow the schema"}`,
  );
}
