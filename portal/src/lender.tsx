/** The lender's view: positions by loan, payouts and claims, money received per month, a CSV statement. */
import { useState } from "preact/hooks";
import { useApi, type LenderPage as Data, type Status } from "./api.js";
import { Amount, BarChart, Head, Id, Loading, LoanLink, Table, Time, TxLink } from "./components.js";
import { formatAmount, monthOf, percent } from "./format.js";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function AddressForm({ initial, known }: { initial?: string; known: string[] }) {
  const [value, setValue] = useState(initial ?? "");
  const [error, setError] = useState("");
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        if (!ADDRESS.test(value.trim())) return setError("An account is 0x and 40 hex digits.");
        setError("");
        window.location.hash = `#/lender/${value.trim()}`;
      }}
    >
      <label for="lender-address">Lender account</label>
      <input
        id="lender-address"
        name="lender"
        value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        placeholder="0x…"
        list="known-lenders"
        autoComplete="off"
        spellcheck={false}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? "lender-error" : undefined}
      />
      <datalist id="known-lenders">
        {known.map((l) => (
          <option key={l} value={l} />
        ))}
      </datalist>
      <button type="submit">Show</button>
      {error && (
        <span id="lender-error" class="error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

export function LenderPage({ status, lender }: { status: Status; lender?: string }) {
  const valid = lender !== undefined && ADDRESS.test(lender);
  const { data, error } = useApi<Data>(valid ? `/api/lenders/${lender}` : null);
  return (
    <section>
      <h1>Lender</h1>
      <AddressForm initial={lender} key={lender} known={status.lenders} />
      {lender !== undefined && !valid && <p class="error">{lender} is not an account address.</p>}
      {valid && !data && <Loading error={error} what="the lender's positions" />}
      {data && <LenderBody data={data} status={status} />}
    </section>
  );
}

function LenderBody({ data, status }: { data: Data; status: Status }) {
  const token = status.token;
  const received = data.payouts.reduce((sum, p) => sum + BigInt(p.amount), 0n);
  const claimable = data.positions.reduce((sum, p) => sum + BigInt(p.claimable ?? "0"), 0n);
  const months = new Map<string, { label: string; value: bigint }>();
  for (const p of data.payouts) {
    const { key, label } = monthOf(p.at);
    const month = months.get(key) ?? { label, value: 0n };
    month.value += BigInt(p.amount);
    months.set(key, month);
  }
  const bars = [...months.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, m]) => ({ label: m.label, value: m.value, text: formatAmount(m.value.toString(), token) }));
  return (
    <>
      <dl class="figures" data-testid="headline">
        {(
          [
            ["Put in", data.summary.putIn, "what you committed to loans"],
            ["Received", data.summary.received, "payouts and claims that reached you"],
            [
              "Still owed",
              data.summary.stillOwed,
              "your part of the outstanding principal, and what you can claim now",
            ],
            ["Realised income", data.summary.income, "received beyond the principal returned to you"],
          ] as const
        ).map(([term, value, what]) => (
          <div key={term} data-figure={term}>
            <dt title={what}>{term}</dt>
            <dd>
              <Amount value={value} token={token} />
            </dd>
          </div>
        ))}
        <div data-figure="Realised yield">
          <dt title="realised income over what you put in">Realised yield</dt>
          <dd>{data.summary.realisedYieldBps === null ? "—" : percent(data.summary.realisedYieldBps)}</dd>
        </div>
      </dl>
      <p class="summary">
        <Id value={data.lender} label="lender" />: {data.positions.length} position(s), received{" "}
        <strong data-testid="received-total">
          <Amount value={received.toString()} token={token} />
        </strong>
        , claimable now{" "}
        <strong data-testid="claimable-total">
          <Amount value={claimable.toString()} token={token} />
        </strong>
        .{" "}
        <a class="button" href={`/api/lenders/${data.lender}/statement.csv`} download>
          Download statement (CSV)
        </a>
      </p>
      <Table caption="Positions by loan">
        <Head
          columns={[
            "Loan",
            "Status",
            "Share",
            ["Outstanding principal (your part)", "num"],
            ["Received to date", "num"],
            ["Claimable now", "num"],
            "Next installment",
          ]}
        />
        <tbody>
          {data.positions.map((p) => (
            <tr key={p.loanId} data-loan={p.loanId}>
              <td>
                <LoanLink loanId={p.loanId} />
              </td>
              <td>{p.status === null ? "—" : status.statuses[p.status]}</td>
              <td>{percent(p.shareBps)}</td>
              <td class="num">
                <Amount value={p.outstandingPart} token={token} />
              </td>
              <td class="num" data-testid="received">
                <Amount value={p.received} token={token} />
              </td>
              <td class="num" data-testid="claimable">
                <Amount value={p.claimable} token={token} />
              </td>
              <td>
                {p.next ? (
                  <>
                    <Time at={p.next.dueDate} date />: <Amount value={p.next.amount} token={token} /> (your part{" "}
                    <Amount value={p.next.yourPart} token={token} />)
                  </>
                ) : (
                  "none"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <h2>Expected in the next three months</h2>
      <Table caption="Your part of the scheduled installments (principal and interest, before late interest)">
        <Head columns={["Month", ["Installments", "num"], ["Expected", "num"]]} />
        <tbody data-testid="expected">
          {data.expected.map((m) => (
            <tr key={m.month} data-month={m.month}>
              <th scope="row">{m.month}</th>
              <td class="num">{m.installments}</td>
              <td class="num">
                <Amount value={m.amount} token={token} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <h2>Money received per month</h2>
      {bars.length ? <BarChart title="Payouts and claims received, by month" bars={bars} /> : <p>No payouts yet.</p>}
      <Table caption="Payouts and claims">
        <Head columns={["Time", "Loan", "Kind", ["Amount", "num"], "Transaction"]} />
        <tbody>
          {data.payouts.map((p) => (
            <tr key={`${p.transactionHash}:${p.loanId}`}>
              <td>
                <Time at={p.at} />
              </td>
              <td>
                <LoanLink loanId={p.loanId} />
              </td>
              <td>{p.kind === "claim" ? "claimed" : "paid out"}</td>
              <td class="num">
                <Amount value={p.amount} token={token} />
              </td>
              <td>
                <TxLink hash={p.transactionHash} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}
