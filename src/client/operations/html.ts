/**
 * The operations report for people: one self-contained HTML page (no script, no external resource) with its charts
 * drawn as inline SVG (the platforms side by side, the last twelve months, the overdue buckets) and every figure also
 * in a table, so that the page prints and reads without the charts.
 */
import { BUCKETS, FIGURES, type FigureUnit } from "./figures.js";
import type { OperationsReport, ReportEntity } from "./report.js";

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** A decimal string of the token's smallest unit as whole tokens with two places, grouped by thousands. */
export function tokenText(value: string, decimals: number): string {
  const v = BigInt(value);
  const scale = 10n ** BigInt(decimals);
  const cents = (v * 100n) / scale;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${whole}.${(cents % 100n).toString().padStart(2, "0")}`;
}

export const bpsText = (value: number) => `${(value / 100).toFixed(2)}%`;

/** A figure's value as a person reads it. */
export function figureText(value: string | number | null, unit: FigureUnit, decimals: number): string {
  if (value === null) return "–";
  if (unit === "token") return tokenText(String(value), decimals);
  if (unit === "bps") return bpsText(Number(value));
  return String(value);
}

const short = (entity: string) => (entity === "alliance" ? "Alliance" : `${entity.slice(0, 6)}…${entity.slice(-4)}`);
const PALETTE = ["#1f6feb", "#d29922", "#cf222e", "#8250df", "#1a7f37", "#57606a"];

/** A horizontal bar per label; values scaled to the largest. */
function bars(title: string, rows: { label: string; value: number; text: string }[]): string {
  const width = 640;
  const left = 130;
  const height = 26 * rows.length + 30;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const body = rows
    .map((r, i) => {
      const y = 24 + i * 26;
      const w = Math.round(((width - left - 110) * r.value) / max);
      return (
        `<text x="0" y="${y + 14}">${escape(r.label)}</text>` +
        `<rect x="${left}" y="${y}" width="${w}" height="18" fill="${PALETTE[0]}"/>` +
        `<text x="${left + w + 6}" y="${y + 14}">${escape(r.text)}</text>`
      );
    })
    .join("");
  return figure(title, width, height, body);
}

function figure(title: string, width: number, height: number, body: string): string {
  return (
    `<figure><svg role="img" aria-label="${escape(title)}" viewBox="0 0 ${width} ${height}" width="${width}" ` +
    `height="${height}" font-size="12" font-family="sans-serif"><text x="0" y="12" font-weight="bold">` +
    `${escape(title)}</text>${body}</svg></figure>`
  );
}

/** One line per series over the months. */
function lines(title: string, months: string[], series: { label: string; values: number[] }[], unit: string): string {
  const width = 640;
  const height = 220;
  const [left, top, right, bottom] = [60, 24, 20, 40];
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i: number) => left + (months.length <= 1 ? 0 : ((width - left - right) * i) / (months.length - 1));
  const y = (v: number) => top + (height - top - bottom) * (1 - v / max);
  const axis =
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#888"/>` +
    months.map((m, i) => `<text x="${x(i) - 18}" y="${height - bottom + 16}">${m}</text>`).join("") +
    `<text x="0" y="${top + 4}">${escape(unit)}</text>`;
  const paths = series
    .map((s, k) => {
      const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      return (
        `<polyline fill="none" stroke="${PALETTE[k % PALETTE.length]}" stroke-width="2" points="${points}"/>` +
        `<text x="${width - right - 120}" y="${top + 14 * k + 10}" fill="${PALETTE[k % PALETTE.length]}">` +
        `${escape(s.label)}</text>`
      );
    })
    .join("");
  return figure(title, width, height, axis + paths);
}

/** A stacked bar of the four overdue buckets per entity. */
function buckets(title: string, entities: ReportEntity[], decimals: number): string {
  const width = 640;
  const left = 130;
  const height = 26 * entities.length + 50;
  const amount = (e: ReportEntity, b: string) => BigInt(e.figures[`overdue${b}Amount` as "overdueAmount"] ?? 0);
  const max = entities.reduce((m, e) => {
    const total = BUCKETS.reduce((s, b) => s + amount(e, b), 0n);
    return total > m ? total : m;
  }, 1n);
  const body = entities
    .map((e, i) => {
      const y = 24 + i * 26;
      let x = left;
      const parts = BUCKETS.map((b, k) => {
        const w = Number((BigInt(width - left - 20) * amount(e, b)) / max);
        const rect = `<rect x="${x}" y="${y}" width="${w}" height="18" fill="${PALETTE[k + 1]}"><title>${b}: ${tokenText(
          amount(e, b).toString(),
          decimals,
        )}</title></rect>`;
        x += w;
        return rect;
      }).join("");
      return `<text x="0" y="${y + 14}">${escape(short(e.entity))}</text>${parts}`;
    })
    .join("");
  const legendY = 24 + entities.length * 26 + 14;
  const legend = BUCKETS.map(
    (b, k) =>
      `<rect x="${left + k * 110}" y="${legendY - 10}" width="10" height="10" fill="${PALETTE[k + 1]}"/>` +
      `<text x="${left + k * 110 + 14}" y="${legendY}">${b.replace("to", "–").replace("Over", "over ")} days</text>`,
  ).join("");
  return figure(title, width, height, body + legend);
}

function tableHtml(headers: string[], rows: string[][]): string {
  return (
    `<table><thead><tr>${headers.map((h) => `<th>${escape(h)}</th>`).join("")}</tr></thead><tbody>` +
    rows
      .map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th>${escape(c)}</th>` : `<td>${escape(c)}</td>`)).join("")}</tr>`)
      .join("") +
    "</tbody></table>"
  );
}

export function reportHtml(report: OperationsReport): string {
  const d = report.token.decimals;
  const entities = [...report.platforms, report.alliance];
  const value = (e: { figures: Record<string, string | number | null> }, name: string) => e.figures[name] ?? null;
  const platformBars = (name: string, unit: FigureUnit) =>
    report.platforms.map((e) => ({
      label: short(e.entity),
      value: Number(value(e, name) ?? 0) / (unit === "token" ? 10 ** d : 1),
      text: figureText(value(e, name), unit, d),
    }));
  const months = report.trend.map((m) => m.month);
  const allianceOf = (m: (typeof report.trend)[number]) => m.entities.find((e) => e.entity === "alliance")!;
  const series = (name: string, scale: number) => [
    { label: "Alliance", values: report.trend.map((m) => Number(value(allianceOf(m), name) ?? 0) / scale) },
  ];
  const figureRows = FIGURES.map((f) => [f.title, ...entities.map((e) => figureText(value(e, f.name), f.unit, d))]);
  const trendRows = report.trend.map((m) => {
    const a = allianceOf(m);
    return [
      m.month,
      figureText(value(a, "outstandingPrincipal"), "token", d),
      figureText(value(a, "overdueRateAmountBps"), "bps", d),
      figureText(value(a, "badDebtRateBps"), "bps", d),
      ...BUCKETS.map((b) => figureText(value(a, `overdue${b}Amount`), "token", d)),
    ];
  });
  const feeRows = entities.flatMap((e) =>
    e.feeSchedule.rates.map((r) => [
      short(e.entity),
      bpsText(r.platformFeeBps),
      bpsText(r.premiumBps),
      bpsText(r.reserveBps),
      bpsText(r.lateFeeBps),
      String(r.loans),
    ]),
  );
  const caps = report.alliance.feeSchedule.caps;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Operations report ${report.month}</title>
<style>
body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#1f2328;padding:0 1em}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #d0d7de;padding:4px 8px}
td{text-align:right;font-variant-numeric:tabular-nums}thead th{background:#f6f8fa}figure{margin:1em 0}
.note{color:#57606a;font-size:13px}
</style></head><body>
<h1>Operations report, ${report.month}</h1>
<p class="note">As of the month's end in ${escape(report.timeZone)}: from ${escape(report.period.start)} to
${escape(report.period.end)} (excluded). Computed from the ledger (chain ${escape(report.ledger.chainId)}, loan registry
${escape(report.ledger.registry)}) read at block ${report.ledger.block}. Amounts in ${escape(report.token.symbol)}; rates
rounded down to a basis point.</p>
<h2>Platforms side by side</h2>
${bars("Outstanding principal", platformBars("outstandingPrincipal", "token"))}
${bars("Overdue rate (amount)", platformBars("overdueRateAmountBps", "bps"))}
${bars("Bad-debt rate", platformBars("badDebtRateBps", "bps"))}
<h2>The last twelve months</h2>
${lines("Alliance outstanding principal", months, series("outstandingPrincipal", 10 ** d), report.token.symbol)}
${lines("Alliance overdue rate (amount)", months, series("overdueRateAmountBps", 100), "%")}
<h2>Overdue by days past due</h2>
${buckets("Overdue amount by bucket", entities, d)}
<h2>Every figure</h2>
${tableHtml(["Figure", ...entities.map((e) => short(e.entity))], figureRows)}
<h2>Trend (alliance)</h2>
${tableHtml(["Month", "Outstanding", "Overdue rate", "Bad-debt rate", ...BUCKETS.map((b) => `Overdue ${b}`)], trendRows)}
<h2>Fee schedule in force</h2>
<p class="note">Alliance caps: ${
    caps
      ? `platform fee ${bpsText(caps.platformFeeBps)}, premium ${bpsText(caps.premiumBps)}, reserve ${bpsText(caps.reserveBps)}`
      : "none set"
  }.</p>
${tableHtml(["Entity", "Platform fee", "Premium", "Reserve", "Late interest (a year)", "Loans"], feeRows)}
<h2>Definitions</h2>
<dl>${FIGURES.map((f) => `<dt>${escape(f.title)} (<code>${f.name}</code>)</dt><dd>${escape(f.definition)} Rounding: ${escape(f.rounding)}.</dd>`).join("\n")}</dl>
<p class="note">Entities: ${entities.map((e) => `${escape(short(e.entity))} = ${escape(e.entity)}`).join("; ")}.</p>
</body></html>
`;
}
