/**
 * The alliance's page: the month's operations report computed from the ledger, per platform side by side, the trend of
 * the last twelve months and the overdue buckets. Every chart has its table, and the month downloads as CSV.
 */
import { useApi, type AllianceReport, type Status } from "./api.js";
import { Amount, BarChart, Head, Id, Loading, Table } from "./components.js";
import { formatAmount, percent, shortId, type Token } from "./format.js";

type Entity = AllianceReport["platforms"][number];
const BUCKETS = ["1to30", "31to60", "61to90", "Over90"] as const;
const BUCKET_NAMES: Record<(typeof BUCKETS)[number], string> = {
  "1to30": "1–30 days",
  "31to60": "31–60 days",
  "61to90": "61–90 days",
  Over90: "over 90 days",
};

const name = (e: Entity) => (e.entity === "alliance" ? "Alliance" : shortId(e.entity));

/** A figure's value in its unit: an amount, a rate, or a count. */
function Value({ value, unit, token }: { value: string | number | null; unit: string; token: Token }) {
  if (value === null) return <span aria-label="no base">—</span>;
  if (unit === "token") return <Amount value={String(value)} token={token} />;
  if (unit === "bps") return <span>{percent(Number(value))}</span>;
  return <span>{Number(value).toLocaleString()}</span>;
}

export function AlliancePage({ month }: { status: Status; month?: string }) {
  const { data, error } = useApi<AllianceReport>(`/api/alliance${month ? `?month=${month}` : ""}`);
  return (
    <section>
      <h1>Alliance</h1>
      {!data ? <Loading error={error} what="the operations report" /> : <AllianceBody data={data} />}
    </section>
  );
}

/** A line per entity over the trend's months, for a figure of unit `unit`. */
function TrendChart({ data, figure, title }: { data: AllianceReport; figure: string; title: string }) {
  const months = data.trend.map((m) => m.month);
  const entities = data.trend[data.trend.length - 1]?.entities.map((e) => e.entity) ?? [];
  const series = entities.map((entity) => ({
    entity,
    values: data.trend.map((m) => Number(m.entities.find((e) => e.entity === entity)?.figures[figure] ?? 0)),
  }));
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const [w, h, left, bottom] = [520, 180, 24, 24];
  const x = (i: number) => left + (months.length <= 1 ? 0 : ((w - 2 * left) * i) / (months.length - 1));
  const y = (v: number) => 8 + (h - bottom - 8) * (1 - v / max);
  return (
    <figure class="chart">
      <svg
        role="img"
        aria-label={`${title}, ${months[0]} to ${months[months.length - 1]}`}
        viewBox={`0 0 ${w} ${h}`}
        width="100%"
      >
        <line x1={left} x2={w - left} y1={h - bottom} y2={h - bottom} class="chart-axis" />
        {months.map((m, i) => (
          <text key={m} x={x(i)} y={h - 6} class="chart-label" text-anchor="middle">
            {m.slice(2)}
          </text>
        ))}
        {series.map((s, k) => (
          <polyline
            key={s.entity}
            class={`chart-line series-${k % 6}`}
            fill="none"
            points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
          />
        ))}
      </svg>
      <figcaption>
        {title}:{" "}
        {series.map((s, k) => (
          <span key={s.entity} class={`legend series-${k % 6}`}>
            {s.entity === "alliance" ? "Alliance" : shortId(s.entity)}{" "}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

function AllianceBody({ data }: { data: AllianceReport }) {
  const token = data.token;
  const entities = [...data.platforms, data.alliance];
  const unitOf = new Map(data.definitions.map((d) => [d.name, d.unit]));
  const amount = (e: Entity, figure: string) => BigInt(String(e.figures[figure] ?? 0));
  return (
    <>
      <form class="inline" onSubmit={(e) => e.preventDefault()}>
        <label for="month-select">Month</label>
        <select
          id="month-select"
          value={data.month}
          onChange={(e) => (window.location.hash = `#/alliance/${(e.target as HTMLSelectElement).value}`)}
        >
          {data.months.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        <a class="button" href={`/api/alliance/report.csv?month=${data.month}`} download>
          Download CSV
        </a>
      </form>
      <p class="note" data-testid="report-scope">
        As of the end of {data.month} in {data.timeZone} ({data.period.start} to {data.period.end}, excluded), computed
        from the ledger at block {data.ledger.block}.
      </p>

      <h2>Platforms side by side</h2>
      <BarChart
        title="Outstanding principal by platform"
        bars={data.platforms.map((e) => ({
          label: name(e),
          value: amount(e, "outstandingPrincipal"),
          text: formatAmount(String(e.figures.outstandingPrincipal), token),
        }))}
      />
      <BarChart
        title="Overdue rate by amount, by platform"
        bars={data.platforms.map((e) => ({
          label: name(e),
          value: BigInt(Number(e.figures.overdueRateAmountBps ?? 0)),
          text: percent(Number(e.figures.overdueRateAmountBps ?? 0)),
        }))}
      />
      <Table caption={`Every figure of ${data.month}`}>
        <thead>
          <tr>
            <th scope="col">Figure</th>
            {entities.map((e) => (
              <th scope="col" class="num" key={e.entity}>
                {e.entity === "alliance" ? "Alliance" : <Id value={e.entity} label="platform" />}
              </th>
            ))}
          </tr>
        </thead>
        <tbody data-testid="figures">
          {data.definitions.map((d) => (
            <tr key={d.name} data-figure={d.name}>
              <th scope="row" title={d.definition}>
                {d.title}
              </th>
              {entities.map((e) => (
                <td class="num" key={e.entity} data-entity={e.entity}>
                  <Value value={e.figures[d.name] ?? null} unit={unitOf.get(d.name) ?? "count"} token={token} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </Table>

      <h2>The last twelve months</h2>
      <TrendChart data={data} figure="overdueRateAmountBps" title="Overdue rate by amount" />
      <Table caption="The alliance's trend">
        <Head
          columns={[
            "Month",
            ["Outstanding principal", "num"],
            ["Overdue rate (amount)", "num"],
            ["Bad-debt rate", "num"],
            ["Lent in the month", "num"],
          ]}
        />
        <tbody data-testid="trend">
          {data.trend.map((m) => {
            const a = m.entities.find((e) => e.entity === "alliance")!;
            return (
              <tr key={m.month} data-month={m.month}>
                <th scope="row">{m.month}</th>
                <td class="num">
                  <Amount value={String(a.figures.outstandingPrincipal)} token={token} />
                </td>
                <td class="num">{percent(Number(a.figures.overdueRateAmountBps))}</td>
                <td class="num">{percent(Number(a.figures.badDebtRateBps))}</td>
                <td class="num">
                  <Amount value={String(a.figures.monthLentAmount)} token={token} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </Table>

      <h2>Overdue by days past due</h2>
      <BarChart
        title={`The alliance's overdue amount by bucket, ${data.month}`}
        bars={BUCKETS.map((b) => ({
          label: BUCKET_NAMES[b],
          value: amount(data.alliance, `overdue${b}Amount`),
          text: formatAmount(String(data.alliance.figures[`overdue${b}Amount`]), token),
        }))}
      />
      <Table caption="Overdue buckets by platform">
        <thead>
          <tr>
            <th scope="col">Platform</th>
            {BUCKETS.map((b) => (
              <th scope="col" class="num" key={b}>
                {BUCKET_NAMES[b]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody data-testid="buckets">
          {entities.map((e) => (
            <tr key={e.entity} data-entity={e.entity}>
              <th scope="row">{name(e)}</th>
              {BUCKETS.map((b) => (
                <td class="num" key={b}>
                  <Amount value={String(e.figures[`overdue${b}Amount`])} token={token} /> (
                  {String(e.figures[`overdue${b}Count`])})
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}
