/** The auditor's view: the loan browser, a loan's decoded history and proof, disclosures beside the ledger. */
import { useState } from "preact/hooks";
import {
  useApi,
  type AuditReportSummary,
  type Disclosure,
  type LoanList,
  type LoanPage,
  type Status,
  type TimelineItem,
  type TransactionPage,
} from "./api.js";
import { Amount, Head, Id, Loading, LoanLink, Member, Table, Time, TxLink } from "./components.js";
import { formatAmount, percent, type Token } from "./format.js";

const PAGE = 25;
const COLUMNS: { key: string; label: string; num?: boolean }[] = [
  { key: "anchoredAt", label: "Anchored" },
  { key: "platform", label: "Platform" },
  { key: "status", label: "Status" },
  { key: "principal", label: "Principal", num: true },
  { key: "outstanding", label: "Outstanding", num: true },
  { key: "nextDueAt", label: "Next due" },
];

function withQuery(query: URLSearchParams, changes: Record<string, string | undefined>): string {
  const next = new URLSearchParams(query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === "") next.delete(key);
    else next.set(key, value);
  }
  return `#/auditor?${next.toString()}`;
}

/** A date input's value (the viewer's local day) as seconds, from its start or to its end. */
function dayToSeconds(day: string, end: boolean): string | undefined {
  if (!day) return undefined;
  const [y, m, d] = day.split("-").map(Number);
  const date = end ? new Date(y, m - 1, d, 23, 59, 59) : new Date(y, m - 1, d);
  return String(Math.floor(date.getTime() / 1000));
}

function secondsToDay(seconds: string | null): string {
  if (!seconds) return "";
  const d = new Date(Number(seconds) * 1000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** A labelled text field of the loan filters, applied when the form is submitted. */
function TextFilter(props: {
  id: string;
  label: string;
  value: string;
  set: (value: string) => void;
  example: string;
}) {
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        value={props.value}
        onInput={(e) => props.set((e.target as HTMLInputElement).value)}
        placeholder={props.example}
        spellcheck={false}
      />
    </div>
  );
}

function Filters({ status, query }: { status: Status; query: URLSearchParams }) {
  const [idPrefix, setIdPrefix] = useState(query.get("id") ?? "");
  const [reference, setReference] = useState(query.get("ref") ?? "");
  const go = (changes: Record<string, string | undefined>) =>
    (window.location.hash = withQuery(query, { ...changes, page: undefined }));
  return (
    <form
      class="filters"
      onSubmit={(e) => (e.preventDefault(), go({ id: idPrefix.trim(), ref: reference.trim() }))}
      aria-label="Filter loans"
    >
      <div>
        <label for="filter-platform">Platform</label>
        <select
          id="filter-platform"
          value={query.get("platform") ?? ""}
          onChange={(e) => go({ platform: (e.target as HTMLSelectElement).value })}
        >
          <option value="">all</option>
          {status.platforms.map((p) => (
            <option value={p} key={p}>
              {p}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="filter-status">Status</label>
        <select
          id="filter-status"
          value={query.get("status") ?? ""}
          onChange={(e) => go({ status: (e.target as HTMLSelectElement).value })}
        >
          <option value="">all</option>
          {status.statuses.map((name, i) =>
            i === 0 ? null : (
              <option value={String(i)} key={name}>
                {name}
              </option>
            ),
          )}
        </select>
      </div>
      <div>
        <label for="filter-from">Anchored from</label>
        <input
          id="filter-from"
          type="date"
          value={secondsToDay(query.get("from"))}
          onChange={(e) => go({ from: dayToSeconds((e.target as HTMLInputElement).value, false) })}
        />
      </div>
      <div>
        <label for="filter-to">Anchored to</label>
        <input
          id="filter-to"
          type="date"
          value={secondsToDay(query.get("to"))}
          onChange={(e) => go({ to: dayToSeconds((e.target as HTMLInputElement).value, true) })}
        />
      </div>
      <TextFilter id="filter-id" label="Loan id starts with" value={idPrefix} set={setIdPrefix} example="0x…" />
      <TextFilter
        id="filter-ref"
        label="Platform's reference"
        value={reference}
        set={setReference}
        example="LN-2026-00042"
      />
      <button type="submit">Filter</button>
    </form>
  );
}

function LoanBrowser({ status, query }: { status: Status; query: URLSearchParams }) {
  const page = Math.max(Number(query.get("page") ?? 1) || 1, 1);
  const sort = query.get("sort") ?? "anchoredAt";
  const dir = query.get("dir") === "asc" ? "asc" : "desc";
  const api = new URLSearchParams();
  for (const key of ["platform", "status", "from", "to", "id", "ref"])
    if (query.get(key)) api.set(key, query.get(key)!);
  api.set("sort", sort);
  api.set("dir", dir);
  api.set("offset", String((page - 1) * PAGE));
  api.set("limit", String(PAGE));
  const { data, error } = useApi<LoanList>(`/api/loans?${api.toString()}`);
  const pages = data ? Math.max(Math.ceil(data.total / PAGE), 1) : 1;
  return (
    <>
      <Filters status={status} query={query} />
      {!data ? (
        <Loading error={error} what="loans" />
      ) : (
        <>
          <Table caption={`Loans: ${data.total.toLocaleString()} found, page ${page} of ${pages}`}>
            <thead>
              <tr>
                <th scope="col">Loan</th>
                {COLUMNS.map((c) => {
                  const active = sort === c.key;
                  const next = active && dir === "desc" ? "asc" : "desc";
                  return (
                    <th
                      scope="col"
                      key={c.key}
                      class={c.num ? "num" : undefined}
                      aria-sort={active ? (dir === "asc" ? "ascending" : "descending") : "none"}
                    >
                      <a
                        href={withQuery(query, { sort: c.key, dir: next, page: undefined })}
                        aria-label={`Sort by ${c.label}, ${next === "asc" ? "ascending" : "descending"}`}
                      >
                        {c.label}
                        <span aria-hidden="true">{active ? (dir === "asc" ? " ▲" : " ▼") : ""}</span>
                      </a>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {data.rows.map((loan) => (
                <tr key={loan.loanId}>
                  <td>
                    <LoanLink loanId={loan.loanId} />
                  </td>
                  <td>
                    <Time at={loan.anchoredAt} date />
                  </td>
                  <td>
                    <Member address={loan.platform} label="platform" />
                  </td>
                  <td>{status.statuses[loan.status]}</td>
                  <td class="num">
                    <Amount value={loan.principal} token={status.token} />
                  </td>
                  <td class="num">
                    <Amount value={loan.outstanding} token={status.token} />
                  </td>
                  <td>
                    <Time at={loan.nextDueAt} date />
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
          <nav class="pager" aria-label="Pages of loans">
            {page > 1 ? (
              <a href={withQuery(query, { page: String(page - 1) })}>← Previous</a>
            ) : (
              <span aria-disabled="true">← Previous</span>
            )}
            <span>
              Page {page} of {pages}
            </span>
            {page < pages ? (
              <a href={withQuery(query, { page: String(page + 1) })}>Next →</a>
            ) : (
              <span aria-disabled="true">Next →</span>
            )}
          </nav>
        </>
      )}
    </>
  );
}

const FIGURE_LABELS: Record<string, string> = {
  loansOriginated: "Loans originated",
  volume: "Volume",
  outstandingPrincipal: "Outstanding principal",
  overdueRateBps: "Overdue rate",
  badDebtRateBps: "Bad-debt rate",
  borrowers: "Borrowers",
  lenders: "Lenders",
  reserveContributed: "Reserve contributed",
  insuranceClaimsPaid: "Insurance claims paid",
};
const AMOUNT_FIGURES = new Set(["volume", "outstandingPrincipal", "reserveContributed", "insuranceClaimsPaid"]);

function figure(name: string, value: string | number | undefined, token: Token): string {
  if (value === undefined) return "—";
  if (AMOUNT_FIGURES.has(name)) return formatAmount(String(value), token);
  if (name.endsWith("Bps")) return percent(Number(value));
  return Number(value).toLocaleString();
}

function Disclosures({ status }: { status: Status }) {
  const { data, error } = useApi<Disclosure[]>("/api/disclosures");
  if (!data) return <Loading error={error} what="disclosures" />;
  if (!data.length) return <p>No platform has published a disclosure yet.</p>;
  return (
    <>
      {data.map((d) => (
        <Table
          key={`${d.platform}:${d.period}:${d.version}`}
          caption={`Platform ${d.platform}, ${d.periodText}, version ${d.version}: ${!d.ledger ? `not checked (${d.unchecked ?? "the ledger's figures could not be computed"})` : d.differences.length ? `${d.differences.length} figure(s) differ from the ledger` : "agrees with the ledger"}${d.attestedBy ? ", attested" : ""}`}
        >
          <Head columns={["Figure", ["Disclosed", "num"], ["Ledger", "num"], "Check"]} />
          <tbody>
            {d.schemaVersion === 2 && (
              <tr class={d.differences.length ? "differs" : undefined}>
                <th scope="row">
                  Figures digest (<a href={`#/alliance/${d.periodText}`}>operations report</a>)
                </th>
                <td class="num">
                  <Id value={String(d.figures.figuresDigest)} label="published digest" />
                </td>
                <td class="num">
                  {d.ledger ? <Id value={d.ledger.figuresDigest} label="ledger digest" /> : "not computed"}
                </td>
                <td>{d.ledger ? (d.differences.length ? "≠ differs" : "= agrees") : "—"}</td>
              </tr>
            )}
            {(d.schemaVersion === 2 ? [] : Object.keys(FIGURE_LABELS)).map((name) => {
              const differs = d.differences.includes(name);
              return (
                <tr key={name} class={differs ? "differs" : undefined}>
                  <th scope="row">{FIGURE_LABELS[name]}</th>
                  <td class="num">{figure(name, d.figures[name], status.token)}</td>
                  <td class="num">{d.ledger ? figure(name, d.ledger[name], status.token) : "not computed"}</td>
                  <td>{d.ledger ? (differs ? "≠ differs" : "= agrees") : "—"}</td>
                </tr>
              );
            })}
            <tr>
              <th scope="row">Published</th>
              <td colSpan={3}>
                <Time at={d.publishedAt} />, content hash <Id value={d.contentHash} label="content hash" />,{" "}
                <TxLink hash={d.transactionHash} />
                {d.attestedBy && (
                  <>
                    , attested by <Id value={d.attestedBy} label="auditor" />
                  </>
                )}
              </td>
            </tr>
          </tbody>
        </Table>
      ))}
    </>
  );
}

function AuditReport() {
  const { data, error } = useApi<AuditReportSummary | null>("/api/audit-report");
  if (data === undefined) return <Loading error={error} what="the last audit report" />;
  if (data === null)
    return (
      <p>
        No audit report was found (run <code>loanledger audit verify --out DIR</code>).
      </p>
    );
  return (
    <>
      <p class={data.ok ? "ok" : "error"}>
        {data.ok ? "Verified" : "Failed"} <Time at={Date.parse(data.verifiedAt) / 1000} />: {data.loans} loans,{" "}
        {data.entries} history entries, {data.findings.length} finding(s);{" "}
        {data.provenAt
          ? `heads proven against the chain at block ${data.provenAt.number}`
          : "heads taken from an export, not proven against a chain"}{" "}
        ({data.file}).
      </p>
      {data.attestations.length === 0 ? (
        <p>No auditor attested this report (audit attest, with --on-chain to record it).</p>
      ) : (
        <Table caption="Attestations of this report">
          <Head columns={["Auditor", "Where", "Holds"]} />
          <tbody data-testid="attestations">
            {data.attestations.map((a) => (
              <tr key={`${a.source}:${a.where}`} data-source={a.source} class={a.holds ? undefined : "differs"}>
                <td>
                  <Id value={a.auditor} label="auditor" /> <span class="standing">{a.standing}</span>
                </td>
                <td>{a.source === "file" ? `signed file ${a.where}` : `on chain, ${a.where}`}</td>
                <td>{a.holds ? "yes" : `NO: ${a.problems.join("; ")}`}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}

export function AuditorPage({ status, query }: { status: Status; query: URLSearchParams }) {
  return (
    <section>
      <h1>Auditor</h1>
      <h2>Loans</h2>
      <LoanBrowser status={status} query={query} />
      <h2>Disclosures beside the ledger</h2>
      <Disclosures status={status} />
      <h2>Last audit report</h2>
      <AuditReport />
    </section>
  );
}

/** A fact's fields as people read them: amounts formatted, addresses and hashes shortened with copy. */
function Fields({ fact, token }: { fact: Record<string, unknown>; token: Token }) {
  const entries = Object.entries(fact).filter(([key]) => key !== "kind" && key !== "at");
  return (
    <dl class="fields">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{fieldValue(key, value, token)}</dd>
        </div>
      ))}
    </dl>
  );
}

const AMOUNT_KEYS =
  /amount|principal|interest|prepayment|outstanding|paid|committed|loss|bore|proceeds|surplus|value|premium|reserve|fee|to(Insurer|Reserve|Lenders)|recovered|skipped|shares|netLoss|maxClaim|secured|price|allocated|capital|owed|claim|deposit|balance/i;

function fieldValue(key: string, value: unknown, token: Token) {
  if (value !== null && typeof value === "object")
    return <Fields fact={value as Record<string, unknown>} token={token} />;
  const text = String(value);
  // Loan and asset ids are 256-bit numbers that events carry in decimal: shown in hex, as everywhere else.
  if (/loanId$|^assetId$/i.test(key) && /^\d+$/.test(text)) {
    const hex = "0x" + BigInt(text).toString(16).padStart(64, "0");
    return /loanId$/i.test(key) ? <LoanLink loanId={hex} /> : <Id value={hex} label={key} />;
  }
  if (/^0x[0-9a-fA-F]{40}$/.test(text) || /^0x[0-9a-fA-F]{64}$/.test(text)) return <Id value={text} label={key} />;
  if (/Bps$/.test(key)) return percent(Number(text));
  if (/^\d+$/.test(text) && AMOUNT_KEYS.test(key) && !/^lenders$|installment|version|priority|count/i.test(key)) {
    return <Amount value={text} token={token} />;
  }
  if (key === "termEnd" || key === "fundingDeadline") return <Time at={Number(text)} />;
  return text;
}

function label(item: TimelineItem, status: Status): string {
  if (item.kind === "StatusChanged") {
    return `Status ${status.statuses[Number(item.fact.from)]} → ${status.statuses[Number(item.fact.to)]}`;
  }
  // An External fact is named by what its writer's events prove it to be, in the fact table's words.
  if (item.writerFact) return `${words(String(item.writerFact.kind))} (external fact)`;
  return words(item.kind);
}

function words(kind: string): string {
  return kind.replace(/([a-z])([A-Z])/g, "$1 $2");
}

export function LoanView({ status, loanId }: { status: Status; loanId: string }) {
  const { data, error } = useApi<LoanPage>(`/api/loans/${loanId}`);
  const token = status.token;
  if (!data) {
    return (
      <section>
        <h1>Loan</h1>
        <Loading error={error} what="the loan" />
      </section>
    );
  }
  const { loan, proof } = data;
  return (
    <section>
      <h1>
        Loan <Id value={loan.loanId} label="loan" />
      </h1>
      <p class={proof.proven ? "proof ok" : "proof error"} role="status" data-testid="proof">
        {proof.proven && proof.block
          ? `Proven at block ${proof.block.number}: every fact of this history was replayed to the chain's head for this loan at that block.`
          : `Not proven: ${proof.findings.join("; ")}`}
      </p>
      <dl class="summary-grid">
        <div>
          <dt>Status</dt>
          <dd data-testid="status">{status.statuses[loan.status]}</dd>
        </div>
        <div>
          <dt>Originator</dt>
          <dd data-testid="originator">
            <Member address={loan.platform} label="originator" />
          </dd>
        </div>
        <div>
          <dt>Servicer of record</dt>
          <dd data-testid="servicer">
            <Member address={loan.servicer} label="servicer" />
            {loan.servicer === loan.platform ? " (its originator)" : " (took the loan over)"}
          </dd>
        </div>
        <div>
          <dt>Principal</dt>
          <dd data-testid="principal">
            <Amount value={loan.principal} token={token} />
          </dd>
        </div>
        <div>
          <dt>Outstanding</dt>
          <dd data-testid="outstanding">
            <Amount value={loan.outstanding} token={token} />
          </dd>
        </div>
        <div>
          <dt>Repaid</dt>
          <dd>
            <Amount value={loan.repaid} token={token} />
          </dd>
        </div>
        <div>
          <dt>Rate, schedule</dt>
          <dd>
            {percent(loan.annualRateBps)} a year, {status.schedules[loan.scheduleKind]}, {loan.installmentsPaid} of{" "}
            {loan.installments} installments paid
          </dd>
        </div>
        <div>
          <dt>Anchored</dt>
          <dd>
            <Time at={loan.anchoredAt} />
          </dd>
        </div>
        <div>
          <dt>Next installment</dt>
          <dd>
            {data.next ? (
              <>
                <Time at={data.next.dueDate} date />: <Amount value={data.next.amount} token={token} />
              </>
            ) : (
              "none"
            )}
          </dd>
        </div>
        <div>
          <dt>Borrower reference</dt>
          <dd>
            <Id value={loan.borrowerRef} label="borrower reference" />
          </dd>
        </div>
        <div>
          <dt>History head</dt>
          <dd>
            <Id value={loan.head} label="history head" />
          </dd>
        </div>
      </dl>

      <h2>History</h2>
      <ol class="timeline" data-testid="timeline">
        {data.history.map((item) => (
          <li key={`${item.blockNumber}:${item.logIndex}`} class={item.entry ? "fact" : "event"}>
            <div class="timeline-head">
              <strong>{label(item, status)}</strong>
              {item.entry ? <span class="tag">fact {item.entry}</span> : <span class="tag muted">{item.source}</span>}
              <Time at={item.at} />
              <TxLink hash={item.transactionHash} />
            </div>
            {item.kind !== "StatusChanged" && (
              <Fields fact={item.writerFact ? { ...item.fact, ...item.writerFact } : item.fact} token={token} />
            )}
          </li>
        ))}
      </ol>

      <h2>Documents</h2>
      <Table caption="Document versions, by keccak256 hash">
        <Head columns={["Version", "Hash", "Recorded"]} />
        <tbody>
          {data.documents.map((d) => (
            <tr key={d.version}>
              <td>{d.version}</td>
              <td>
                <Id value={d.hash} label="document hash" />
              </td>
              <td>
                <Time at={d.at} /> {d.transactionHash && <TxLink hash={d.transactionHash} />}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>

      <h2>Liens</h2>
      {data.liens.length === 0 ? (
        <p>No collateral secures this loan.</p>
      ) : (
        <Table caption="Liens on collateral">
          <Head
            columns={[
              "Asset",
              "Priority",
              ["Secured", "num"],
              ["Appraisal", "num"],
              "Lien",
              ["Proceeds allocated", "num"],
            ]}
          />
          <tbody>
            {data.liens.map((l) => (
              <tr key={l.assetId}>
                <td>
                  <Id value={"0x" + BigInt(l.assetId).toString(16).padStart(64, "0")} label="asset" />{" "}
                  {l.asset ? `(${l.asset.status})` : ""}
                </td>
                <td>{l.priority}</td>
                <td class="num">
                  <Amount value={l.securedAmount} token={token} />
                </td>
                <td class="num">
                  <Amount value={l.asset?.appraisalValue} token={token} />
                </td>
                <td>{l.status}</td>
                <td class="num">
                  <Amount value={l.allocated} token={token} />
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}

      <h2>Losses and recoveries</h2>
      {data.loss ? (
        <dl class="summary-grid" data-testid="loss">
          {(
            [
              ["Loss", data.loss.loss],
              ["Recovered before settlement", data.loss.recoveredBefore],
              ["Insurer bore", data.loss.insurerBore],
              ["Reserve bore", data.loss.reserveBore],
              ["Lenders bore", data.loss.lendersBore],
              ["Recovered after", data.loss.recovered],
              ["… to the insurer", data.loss.toInsurer],
              ["… to the reserve", data.loss.toReserve],
              ["… to the lenders", data.loss.toLenders],
            ] as const
          ).map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>
                <Amount value={value} token={token} />
              </dd>
            </div>
          ))}
        </dl>
      ) : (
        <p>No loss was settled on this loan.</p>
      )}

      <h2>Lenders</h2>
      {data.positions.length === 0 ? (
        <p>Not funded through the splitter.</p>
      ) : (
        <Table caption="Positions in this loan">
          <Head columns={["Lender", ["Shares", "num"], ["Received", "num"]]} />
          <tbody>
            {data.positions.map((p) => (
              <tr key={p.lender}>
                <td>
                  <Id value={p.lender} href={`#/lender/${p.lender}`} label="lender" />
                </td>
                <td class="num">
                  <Amount value={p.shares} token={token} />
                </td>
                <td class="num">
                  <Amount value={p.received} token={token} />
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}

export function TxView({ status, hash }: { status: Status; hash: string }) {
  const { data, error } = useApi<TransactionPage>(`/api/tx/${hash}`);
  return (
    <section>
      <h1>
        Transaction <Id value={hash} label="transaction" />
      </h1>
      {!data ? (
        <Loading error={error} what="the transaction" />
      ) : data.events.length === 0 ? (
        <p>The index holds no event of the suite in this transaction.</p>
      ) : (
        <>
          <p>
            Block {data.events[0].blockNumber}, <Time at={data.events[0].at} />.
          </p>
          <ol class="timeline">
            {data.events.map((item) => (
              <li key={item.logIndex}>
                <div class="timeline-head">
                  <strong>{label(item, status)}</strong>
                  <span class="tag muted">{item.source}</span>
                  {item.loanId && <LoanLink loanId={item.loanId} />}
                </div>
                <Fields fact={item.fact} token={status.token} />
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
