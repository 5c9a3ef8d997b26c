/**
 * The custody page, for the custody bank and the auditor: the supply against each bank's book, the withdrawals waiting
 * for their bank, and the latest issues and redemptions with the bank reference each was made against.
 */
import { useApi, type CustodyPage as Custody, type Status } from "./api.js";
import { Amount, Head, Id, Loading, Table, TxLink } from "./components.js";

export function CustodyPage({ status }: { status: Status }) {
  const { data, error } = useApi<Custody>("/api/custody");
  return (
    <section>
      <h1>Custody</h1>
      {!data ? <Loading error={error} what="the custody token" /> : <CustodyBody data={data} status={status} />}
    </section>
  );
}

function CustodyBody({ data, status }: { data: Custody; status: Status }) {
  const token = status.token;
  if (!data.custody) {
    return (
      <p>
        The index holds no issue or redemption of a custody bank: the ledger settles in a token no custody bank issues
        on chain, or no bank has acted yet.
      </p>
    );
  }
  return (
    <>
      <p>
        Supply <Amount value={data.supply} token={token} />: what the custody banks hold for the ledger, issued against
        {` ${data.issues}`} bank credit(s) less {data.redemptions} payment(s) out, each with its bank reference.
        Reconcile a bank statement with <code>loanledger custody reconcile</code>.
      </p>
      <Table caption="Each custody bank's book">
        <Head
          columns={[
            "Bank",
            "Custody account (hash)",
            ["Registered accounts", "num"],
            ["Issued", "num"],
            ["Redeemed", "num"],
            ["Holds for the ledger", "num"],
          ]}
        />
        <tbody data-testid="banks">
          {data.banks.map((b) => (
            <tr key={b.bank}>
              <td>
                <Id value={b.bank} label="bank" />
              </td>
              <td>
                {b.custodyAccount ? <Id value={b.custodyAccount} label="custody account hash" /> : "not declared"}
              </td>
              <td class="num">{data.accounts[b.bank] ?? 0}</td>
              <td class="num">
                <Amount value={b.issued} token={token} />
              </td>
              <td class="num">
                <Amount value={b.redeemed} token={token} />
              </td>
              <td class="num">
                <Amount value={b.outstanding} token={token} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Table caption="Withdrawals waiting for their bank">
        <Head columns={["Withdrawal", "Holder", "Bank", ["Amount", "num"], "Requested in"]} />
        <tbody data-testid="pending">
          {data.pending.length === 0 && (
            <tr>
              <td colSpan={5}>None: every withdrawal was redeemed or returned.</td>
            </tr>
          )}
          {data.pending.map((w) => (
            <tr key={w.id}>
              <td>{w.id}</td>
              <td>
                <Id value={w.holder} href={`#/lender/${w.holder}`} label="holder" />
              </td>
              <td>
                <Id value={w.bank} label="bank" />
              </td>
              <td class="num">
                <Amount value={w.amount} token={token} />
              </td>
              <td>
                <TxLink hash={w.transactionHash} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Table caption="The latest issues and redemptions, newest first">
        <Head columns={["Movement", "Account", ["Amount", "num"], "Bank reference", ["Block", "num"], "Transaction"]} />
        <tbody data-testid="movements">
          {data.movements.map((m) => (
            <tr key={`${m.transactionHash}-${m.bankRef}`}>
              <td>{m.kind === "issue" ? "issued (a credit)" : "redeemed (a payment out)"}</td>
              <td>
                <Id value={m.account} label="account" />
              </td>
              <td class="num">
                <Amount value={m.amount} token={token} />
              </td>
              <td>
                <Id value={m.bankRef} label="bank reference" />
              </td>
              <td class="num">{m.blockNumber}</td>
              <td>
                <TxLink hash={m.transactionHash} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}
