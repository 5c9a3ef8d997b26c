import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useApi, type Status } from "./api.js";
import { Id, Loading, Members, Time } from "./components.js";
import { SignPage } from "./sign.js";
import { timeZone } from "./format.js";
import { AlliancePage } from "./alliance.js";
import { AuditorPage, LoanView, TxView } from "./auditor.js";
import { CustodyPage } from "./custody.js";
import { LenderPage } from "./lender.js";
import { PlatformPage } from "./platform.js";
import "./style.css";

/** The hash route: "#/loan/0x…?a=b" → ["loan", "0x…"] and its query. */
function useRoute(): { parts: string[]; query: URLSearchParams } {
  const read = () => {
    const [path, search] = window.location.hash.replace(/^#/, "").split("?");
    return { parts: path.split("/").filter(Boolean), query: new URLSearchParams(search ?? "") };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => {
      setRoute(read());
      document.getElementById("main")?.focus();
    };
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}

function Home() {
  return (
    <section>
      <h1>LoanLedger portal</h1>
      <p>
        What any node of the alliance's network shows, indexed and checked against the chain: no personal data, read
        only.
      </p>
      <ul class="cards">
        <li>
          <a href="#/lender">
            <strong>Lender</strong>
            <span>Positions by loan, payouts and claims, money received per month, a CSV statement.</span>
          </a>
        </li>
        <li>
          <a href="#/auditor">
            <strong>Auditor</strong>
            <span>Every loan, its decoded history and proof, disclosures beside the ledger's figures.</span>
          </a>
        </li>
        <li>
          <a href="#/alliance">
            <strong>Alliance</strong>
            <span>The monthly operations report: every platform side by side, the trend, the overdue buckets.</span>
          </a>
        </li>
        <li>
          <a href="#/custody">
            <strong>Custody</strong>
            <span>The supply against each custody bank's book, withdrawals pending, issues and redemptions.</span>
          </a>
        </li>
        <li>
          <a href="#/platform">
            <strong>Platform</strong>
            <span>The book by status, loans due and late, funding progress, reserve and insurers.</span>
          </a>
        </li>
      </ul>
    </section>
  );
}

function App() {
  const { parts, query } = useRoute();
  // The status is read again when the route changes, so the block shown is the one the page's data describes.
  const status = useApi<Status>(`/api/status?r=${encodeURIComponent(parts.join("/"))}`);
  const s = status.data;
  const page = parts[0] ?? "";
  let body;
  if (!s) body = <Loading error={status.error} what="the index" />;
  else if (page === "lender") body = <LenderPage status={s} lender={parts[1]} />;
  else if (page === "auditor") body = <AuditorPage status={s} query={query} />;
  else if (page === "loan" && parts[1]) body = <LoanView status={s} loanId={parts[1]} />;
  else if (page === "tx" && parts[1]) body = <TxView status={s} hash={parts[1]} />;
  else if (page === "platform") body = <PlatformPage status={s} platform={parts[1]} />;
  else if (page === "alliance") body = <AlliancePage status={s} month={parts[1]} />;
  else if (page === "custody") body = <CustodyPage status={s} />;
  else if (page === "sign" && parts[1]) body = <SignPage status={s} loanId={parts[1]} query={query} />;
  else body = <Home />;
  const nav = (href: string, name: string, active: boolean) => (
    <a href={href} aria-current={active ? "page" : undefined}>
      {name}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header>
        <a class="brand" href="#/">
          LoanLedger
        </a>
        <nav aria-label="Views">
          {nav("#/lender", "Lender", page === "lender")}
          {nav("#/auditor", "Auditor", page === "auditor" || page === "loan" || page === "tx")}
          {nav("#/platform", "Platform", page === "platform")}
          {nav("#/alliance", "Alliance", page === "alliance")}
          {nav("#/custody", "Custody", page === "custody")}
        </nav>
      </header>
      {s?.syncError && (
        <p class="banner error" role="alert">
          The index stopped following the chain: {s.syncError}
        </p>
      )}
      {!s?.syncError && s?.syncWarning && (
        <p class="banner error" role="status">
          The pages may be behind the chain: {s.syncWarning}
        </p>
      )}
      <main id="main" tabIndex={-1}>
        <Members.Provider value={s?.members ?? {}}>{body}</Members.Provider>
      </main>
      <footer>
        {s?.block ? (
          <span>
            Indexed to block {s.block.number} (<Id value={s.block.hash} label="block hash" />) of chain {s.chainId},{" "}
            <Time at={s.block.timestamp} />. Times in {timeZone()}.
          </span>
        ) : (
          <span>Nothing indexed yet.</span>
        )}
      </footer>
    </>
  );
}

render(<App />, document.getElementById("app")!);
