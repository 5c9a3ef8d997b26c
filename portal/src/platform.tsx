/** The platform's view: its book by status, loans due and late, funding progress, the reserve and the insurers. */
import { owesPrincipal, useApi, type PlatformPage as Data, type Status } from "./api.js";
import { Amount, BarChart, Head, Loading, LoanLink, Member, Members, Table, Time } from "./components.js";
import { useContext } from "preact/hooks";
import { formatAmount } from "./format.js";

export function PlatformPage({ status, platform }: { status: Status; platform?: string }) {
  const { data, error } = useApi<Data>(`/api/platform${platform ? `?platform=${platform}` : ""}`);
  const members = useContext(Members);
  const standing = (p: string) => members[p.toLowerCase()]?.standing;
  return (
    <section>
      <h1>Platform</h1>
      {platform && (
        <p data-testid="platform-standing">
          The loans <Member address={platform} label="platform" /> services now: those it originated and still services,
          and those it took over.
        </p>
      )}
      <form class="inline" onSubmit={(e) => e.preventDefault()}>
        <label for="platform-select">Platform</label>
        <select
          id="platform-select"
          value={platform ?? ""}
          onChange={(e) => {
            const value = (e.target as HTMLSelectElement).value;
            window.location.hash = value ? `#/platform/${value}` : "#/platform";
          }}
        >
          <option value="">the whole alliance</option>
          {status.platforms.map((p) => (
            <option key={p} value={p}>
              {p}
              {standing(p) && standing(p) !== "Active" ? ` (${standing(p)!.toLowerCase()})` : ""}
            </option>
          ))}
        </select>
      </form>
      {!data ? <Loading error={error} what="the book" /> : <PlatformBody data={data} status={status} />}
    </section>
  );
}

function PlatformBody({ data, status }: { data: Data; status: Status }) {
  const token = status.token;
  const byStatus = new Map<number, { loans: number; principal: bigint; outstanding: bigint }>();
  for (const row of data.book) {
    const group = byStatus.get(row.status) ?? { loans: 0, principal: 0n, outstanding: 0n };
    group.loans += row.loans;
    group.principal += BigInt(row.principal);
    group.outstanding += BigInt(row.outstanding);
    byStatus.set(row.status, group);
  }
  const statuses = [...byStatus.entries()].sort(([a], [b]) => a - b);
  return (
    <>
      <h2>Book by status</h2>
      <BarChart
        title="Principal by loan status"
        bars={statuses.map(([s, g]) => ({
          label: status.statuses[s],
          value: g.principal,
          text: `${formatAmount(g.principal.toString(), token)} (${g.loans})`,
        }))}
      />
      <Table caption="Book by status">
        <Head columns={["Status", ["Loans", "num"], ["Principal", "num"], ["Outstanding", "num"]]} />
        <tbody data-testid="book">
          {statuses.map(([s, g]) => (
            <tr key={s} data-status={status.statuses[s]}>
              <th scope="row">{status.statuses[s]}</th>
              <td class="num">{g.loans.toLocaleString()}</td>
              <td class="num">
                <Amount value={g.principal.toString()} token={token} />
              </td>
              <td class="num">
                <Amount value={g.outstanding.toString()} token={token} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>

      <p>
        <a class="button" href={`/api/platform/book.csv${data.platform ? `?platform=${data.platform}` : ""}`} download>
          Download the book (CSV)
        </a>
      </p>

      <h2>Overdue, by days past due</h2>
      <Table caption="Active and late loans past a due date, by days since their first unpaid installment fell due">
        <Head columns={["Days past due", ["Loans", "num"], ["Outstanding", "num"]]} />
        <tbody data-testid="overdue">
          {data.overdue.map((b) => (
            <tr key={b.bucket} data-bucket={b.bucket}>
              <th scope="row">{BUCKET_WORDS[b.bucket] ?? b.bucket}</th>
              <td class="num">{b.loans}</td>
              <td class="num">
                <Amount value={b.outstanding} token={token} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>

      <h2>The book month by month</h2>
      <Table caption="Loans by the month they were anchored, and what they owe now">
        <Head columns={["Month", ["Loans", "num"], ["Principal", "num"], ["Outstanding now", "num"]]} />
        <tbody data-testid="months">
          {data.months.map((m) => (
            <tr key={m.month} data-month={m.month}>
              <th scope="row">{m.month}</th>
              <td class="num">{m.loans}</td>
              <td class="num">
                <Amount value={m.principal} token={token} />
              </td>
              <td class="num">
                <Amount value={m.outstanding} token={token} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>

      <h2>Due in the next 30 days, and late</h2>
      {data.due.length === 0 ? (
        <p>No loan falls due in the next 30 days, and none is late.</p>
      ) : (
        <Table caption="Loans due and late">
          <Head columns={["Loan", "Status", "Next due", ["Outstanding", "num"]]} />
          <tbody>
            {data.due.map((loan) => (
              <tr key={loan.loanId} class={loan.status === 3 ? "differs" : undefined}>
                <td>
                  <LoanLink loanId={loan.loanId} />
                </td>
                <td>{status.statuses[loan.status]}</td>
                <td>
                  <Time at={loan.nextDueAt} date />
                </td>
                <td class="num">
                  <Amount value={loan.outstanding} token={token} />
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}

      <h2>Funding progress</h2>
      {data.funding.length === 0 ? (
        <p>No loan is in funding.</p>
      ) : (
        <Table caption="Loans in funding">
          <Head columns={["Loan", "Progress", ["Committed", "num"], ["Principal", "num"]]} />
          <tbody>
            {data.funding.map((loan) => {
              const done = Number((BigInt(loan.committed) * 1000n) / BigInt(loan.principal)) / 10;
              return (
                <tr key={loan.loanId}>
                  <td>
                    <LoanLink loanId={loan.loanId} />
                  </td>
                  <td>
                    <progress max={100} value={done} aria-label={`${done} % funded`} /> {done} %
                  </td>
                  <td class="num">
                    <Amount value={loan.committed} token={token} />
                  </td>
                  <td class="num">
                    <Amount value={loan.principal} token={token} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}

      <h2>Servicing handed over</h2>
      {data.handedOver.length === 0 ? (
        <p>No loan changed servicer.</p>
      ) : (
        <Table caption="Loans serviced by another platform than their originator">
          <Head columns={["Loan", "Originator", "Servicer of record", "Status", ["Outstanding", "num"]]} />
          <tbody data-testid="handed-over">
            {data.handedOver.map((loan) => (
              <tr key={loan.loanId}>
                <td>
                  <LoanLink loanId={loan.loanId} />
                </td>
                <td>
                  <Member address={loan.platform} label="originator" />
                </td>
                <td>
                  <Member address={loan.servicer} label="servicer" />
                </td>
                <td>{status.statuses[loan.status]}</td>
                <td class="num">
                  <Amount value={owesPrincipal(loan.status) ? loan.outstanding : "0"} token={token} />
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}

      <h2>Alliance risk reserve</h2>
      <Table caption="Risk reserve by platform">
        <Head
          columns={[
            "Platform",
            ["Accrued", "num"],
            ["Collected", "num"],
            ["Deposited", "num"],
            ["Compensation paid", "num"],
            ["Reimbursed", "num"],
          ]}
        />
        <tbody>
          {data.reserve.map((r) => (
            <tr key={r.platform}>
              <td>
                <Member address={r.platform} label="platform" />
              </td>
              {[r.accrued, r.collected, r.deposited, r.compensated, r.reimbursed].map((v, i) => (
                <td class="num" key={i}>
                  <Amount value={v} token={token} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </Table>

      <h2>Insurers</h2>
      <Table caption="Credit insurers">
        <Head
          columns={[
            "Insurer",
            ["Policies", "num"],
            ["Capital in", "num"],
            ["Capital out", "num"],
            ["Premiums", "num"],
            ["Claims paid", "num"],
            ["Reimbursed", "num"],
          ]}
        />
        <tbody>
          {data.insurers.map((r) => (
            <tr key={r.insurer}>
              <td>
                <Member address={r.insurer} label="insurer" />
              </td>
              <td class="num">{r.policies}</td>
              {[r.capitalIn, r.capitalOut, r.premiums, r.claimsPaid, r.reimbursed].map((v, i) => (
                <td class="num" key={i}>
                  <Amount value={v} token={token} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}

const BUCKET_WORDS: Record<string, string> = {
  "1to30": "1 to 30 days",
  "31to60": "31 to 60 days",
  "61to90": "61 to 90 days",
  Over90: "over 90 days",
};
