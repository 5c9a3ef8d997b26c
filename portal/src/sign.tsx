/**
 * The borrower's signing page: the agreement (or an amendment) decoded for a person, signed by the borrower's browser
 * wallet (EIP-1193, EIP-712 typed data), and the signature checked as the registry will check it, for the platform to
 * collect.
 */
import { useState } from "preact/hooks";
import { get, useApi, type SignatureCheck, type SigningPage as Data, type Status } from "./api.js";
import { Amount, Head, Id, Loading, Member, Table, Time } from "./components.js";
import { percent } from "./format.js";

/** The EIP-1193 provider a browser wallet injects. */
interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

const SCHEDULES = ["equal installments", "equal principal", "interest only", "bullet"];

export function SignPage({ status, loanId, query }: { status: Status; loanId: string; query: URLSearchParams }) {
  const params = new URLSearchParams();
  for (const key of ["kind", "doc", "version", "deadline"]) {
    const value = query.get(key);
    if (value) params.set(key, value);
  }
  const path = `/api/sign/${loanId}${params.size ? `?${params}` : ""}`;
  const { data, error } = useApi<Data>(path);
  return (
    <section>
      <h1>Sign a loan {query.get("kind") === "amendment" ? "amendment" : "agreement"}</h1>
      {!data ? <Loading error={error} what="what you are asked to sign" /> : <SignBody data={data} status={status} />}
    </section>
  );
}

function SignBody({ data, status }: { data: Data; status: Status }) {
  const token = status.token;
  const { loan, terms } = data;
  const [signed, setSigned] = useState<SignatureCheck | undefined>();
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const days = (seconds: number) => `${Number((seconds / 86_400).toFixed(2))} days`;
  const sign = async () => {
    setProblem("");
    const wallet = (window as unknown as { ethereum?: Eip1193 }).ethereum;
    if (!wallet) return setProblem("No browser wallet was found: open this page in a browser with your wallet.");
    setBusy(true);
    try {
      const [account] = (await wallet.request({ method: "eth_requestAccounts" })) as string[];
      const signature = (await wallet.request({
        method: "eth_signTypedData_v4",
        params: [account, JSON.stringify(data.typedData)],
      })) as string;
      const query = new URLSearchParams({
        kind: data.kind,
        deadline: String(data.deadline),
        signer: account,
        signature,
        ...(data.kind === "amendment"
          ? { doc: data.typedData.message.documentHash, version: data.typedData.message.version }
          : {}),
      });
      setSigned(await get<SignatureCheck>(`/api/sign/${loan.loanId}/verify?${query}`));
    } catch (error) {
      setProblem(`The wallet did not sign: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  // The signature file `loan sign` writes, which the platform's commands read.
  const { loanId: _id, ...rest } = data.typedData.message;
  const file = signed && {
    format: "loanledger-consent/1",
    chainId: data.typedData.domain.chainId,
    registry: data.typedData.domain.verifyingContract,
    subject: {
      kind: data.kind,
      loanId: loan.loanId,
      ...rest,
      ...(rest.version === undefined ? {} : { version: Number(rest.version) }),
    },
    signer: signed.signer,
    signature: signed.signature,
  };
  return (
    <>
      <p>
        {data.kind === "agreement"
          ? "You are asked to agree to this loan: its id commits to every term below and to the signed contract's document."
          : `You are asked to agree to version ${data.typedData.message.version} of this loan's document.`}{" "}
        Your signature can be used until <Time at={data.deadline} />, on this alliance's ledger only.
      </p>
      <dl class="summary-grid" data-testid="terms">
        <div>
          <dt>Loan</dt>
          <dd>
            <Id value={loan.loanId} label="loan" />
          </dd>
        </div>
        <div>
          <dt>Platform</dt>
          <dd>
            <Member address={loan.platform} label="platform" />
          </dd>
        </div>
        <div>
          <dt>Principal</dt>
          <dd data-testid="principal">
            <Amount value={loan.principal} token={token} />
          </dd>
        </div>
        <div>
          <dt>Annual rate</dt>
          <dd>{percent(loan.annualRateBps)}</dd>
        </div>
        <div>
          <dt>Repayment</dt>
          <dd>
            {SCHEDULES[loan.scheduleKind] ?? `schedule ${loan.scheduleKind}`}, {loan.installments} installment(s) every{" "}
            {days(loan.period)}
          </dd>
        </div>
        <div>
          <dt>Late payment</dt>
          <dd>
            no late interest for {days(terms.gracePeriod)} after a due date; then {percent(terms.lateFeeBps)} a year on
            what is overdue; the loan may be declared in default {days(terms.defaultThreshold)} after a missed due date
          </dd>
        </div>
        <div>
          <dt>Funded by</dt>
          <dd>
            <Time at={terms.fundingDeadline} /> at the latest, or it is cancelled
          </dd>
        </div>
        <div>
          <dt>{data.kind === "agreement" ? "Signed contract (document hash)" : "New document (hash)"}</dt>
          <dd data-testid="document">
            <code>{data.kind === "agreement" ? terms.documentHash : data.typedData.message.documentHash}</code>
          </dd>
        </div>
      </dl>
      <Table caption="Repayment schedule, counted from the day the loan is disbursed">
        <Head columns={["#", "Due after", ["Principal", "num"], ["Interest", "num"], ["Installment", "num"]]} />
        <tbody data-testid="schedule">
          {data.schedule.map((r) => (
            <tr key={r.k}>
              <td>{r.k}</td>
              <td>{days(r.dueAfter)}</td>
              <td class="num">
                <Amount value={r.principal} token={token} />
              </td>
              <td class="num">
                <Amount value={r.interest} token={token} />
              </td>
              <td class="num">
                <Amount value={r.total} token={token} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <p>
        <button type="button" onClick={sign} disabled={busy}>
          {busy ? "Waiting for your wallet…" : "Sign with my wallet"}
        </button>
      </p>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      {signed && (
        <div data-testid="signed" role="status">
          <p class={signed.valid ? "ok" : "error"}>
            {signed.valid === null
              ? `The signature could not be checked: ${signed.unchecked}.`
              : signed.valid
                ? `Signature verified: it is ${signed.signer}'s, as the ledger will check it.`
                : `This signature is NOT ${signed.signer}'s: the ledger will refuse it.`}
          </p>
          <p>Give the platform this signature (or the file below):</p>
          <pre data-testid="signature">{signed.signature}</pre>
          <a
            class="button"
            download={`signature-${loan.loanId.slice(0, 10)}.json`}
            href={`data:application/json,${encodeURIComponent(JSON.stringify(file, null, 2))}`}
          >
            Download the signature file
          </a>
        </div>
      )}
    </>
  );
}
