import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, JsonRpcProvider, parseUnits, Wallet, type TypedDataDomain, type TypedDataField } from "ethers";
import { chromium, type Browser, type Page } from "playwright-core";
import { DisclosureRegistry__factory, SettlementToken__factory } from "../../typechain-types/index.js";
import {
  AllianceClient,
  consentDigest,
  CustodyClient,
  recoverSigner,
  toHash32,
  formatLoanId,
  loanIdOf,
  textHash,
  operations,
  schedule,
  LOAN_STATUS_NAMES,
  LoanRegistryClient,
  SplitterClient,
  toAddress,
  toLoanId,
  type Address,
} from "../../src/client/index.js";
import {
  attestOnChain,
  attestReport,
  verifyChain,
  writeReport,
  type AuditReport,
  loanHistory,
} from "../../src/audit/index.js";
import { Indexer, indexSourcesAt, nodeOperationsSource, SqliteStore } from "../../src/indexer/index.js";
import {
  buildPortal,
  openPortal,
  runDemoOn,
  startLocalNode,
  type DeployedSuite,
  type LocalNode,
  type RunningPortal,
} from "../../src/portal/index.js";

/**
 * The portal in a real browser: a local node the demo's story ran on, indexed and served on 127.0.0.1 (a free port),
 * driven in Debian's Chromium through playwright-core. A lender, an auditor and a platform go through their pages, and
 * every figure checked is compared with what the client reads from the chain itself. Screenshots go to
 * PORTAL_SCREENSHOTS (default reports/portal-screenshots; the README's are made with PORTAL_SCREENSHOTS=docs/portal).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = process.env.PORTAL_SCREENSHOTS ?? "reports/portal-screenshots";

describe("Portal (Chromium)", function () {
  this.timeout(240_000);
  let node: LocalNode | undefined;
  let provider: JsonRpcProvider;
  let portal: RunningPortal | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let dir: string;
  let suite: DeployedSuite;
  let loans: LoanRegistryClient;
  let splitter: SplitterClient;
  let decimals: number;
  let report: AuditReport;

  /** The exact amount an element's title carries (every digit, "1234.5 LLST"), in the token's smallest unit. */
  const amountIn = async (selector: string) => {
    const title = await page.locator(selector).locator(".amount").first().getAttribute("title");
    return parseUnits(String(title).split(" ")[0], decimals);
  };
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (the README's set-up does)`,
      );
    }
    dir = await mkdtemp(join(tmpdir(), "loanledger-portal-test-"));
    await mkdir(SHOTS, { recursive: true });
    const [staticDir, started] = await Promise.all([buildPortal(join(dir, "site"), true), startLocalNode()]);
    node = started;
    suite = await runDemoOn(node.url);
    // No cache of answers: the changed-chain test asks for a block again right after the node replaced it.
    provider = new JsonRpcProvider(node.url, undefined, { batchStallTime: 0, staticNetwork: true, cacheTimeout: -1 });
    loans = new LoanRegistryClient(suite.loans, provider);
    splitter = new SplitterClient(suite.splitter, provider, loans);
    const token = SettlementToken__factory.connect(suite.token, provider);
    decimals = Number(await token.decimals());
    // The auditor's last report, as `loanledger audit verify --out` writes it, for the auditor's page to show.
    const sources = indexSourcesAt(suite, provider);
    report = (await verifyChain({ ...sources, loans })).report;
    await writeReport(dir, report);
    // An auditor of the demo attests it twice: a signed file beside the report, and a record of its digest on chain.
    const auditor = (await new AllianceClient(suite.alliance, provider).members()).find(
      (m) => m.roles.includes("Auditor") && m.status === "Active",
    )!;
    const auditorSigner = await provider.getSigner(auditor.account);
    const attestation = await attestReport(auditorSigner, await readFile(join(dir, "audit-report.json")));
    await writeFile(join(dir, "audit-attestation.json"), JSON.stringify(attestation, null, 2));
    await attestOnChain(DisclosureRegistry__factory.connect(suite.disclosures, auditorSigner), attestation);
    portal = await openPortal({
      provider,
      sources: indexSourcesAt(suite, provider),
      token: { decimals, symbol: await token.symbol() },
      db: join(dir, "index.db"),
      port: 0,
      staticDir,
      syncIntervalMs: 0,
      auditReport: join(dir, "audit-report.json"),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    // The page's own CSP forbids eval; the test's waits and probes are evaluated in it, so only they bypass it.
    page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
      locale: "en-US",
      timezoneId: "Asia/Shanghai",
      bypassCSP: true,
    });
  });

  after(async function () {
    await browser?.close();
    await portal?.close();
    provider?.destroy();
    await node?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const go = async (hash: string) => {
    await page.goto(`${portal!.url}/${hash}`);
    await settled();
  };
  /** Every part of the page has loaded (no "Loading …" left). */
  const settled = () => page.waitForFunction('!document.querySelector("main .loading")');

  it("serves only reads, only on 127.0.0.1", async function () {
    expect(new URL(portal!.url).hostname).to.equal("127.0.0.1");
    const response = await fetch(`${portal!.url}/api/status`, { method: "POST" });
    expect(response.status).to.equal(405);
    expect((await fetch(`${portal!.url}/api/status`, { method: "HEAD" })).status).to.equal(200);
  });

  it("refuses a request addressed to another host (DNS rebinding), extra path segments and malformed URLs", async function () {
    const { port } = new URL(portal!.url);
    const ask = (path: string, host: string) =>
      new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
        const request = httpRequest({ host: "127.0.0.1", port, path, headers: { host } }, (response) => {
          response.resume();
          resolve({ status: response.statusCode!, headers: response.headers });
        });
        request.on("error", reject);
        request.end();
      });
    expect((await ask("/api/status", `127.0.0.1:${port}`)).status).to.equal(200);
    expect((await ask("/api/status", `localhost:${port}`)).status).to.equal(200);
    const rebound = await ask("/api/status", `attacker.example:${port}`);
    expect(rebound.status).to.equal(421);
    expect(rebound.headers["content-security-policy"]).to.be.a("string");
    for (const path of ["/api/status/extra", "/api/platform/x", "/api/lenders/0x" + "1".repeat(40) + "/x/y"]) {
      expect((await ask(path, `127.0.0.1:${port}`)).status, path).to.equal(404);
    }
    const malformed = await ask("/%E0%A4%A", `127.0.0.1:${port}`);
    expect(malformed.status).to.equal(400);
    expect(malformed.headers["x-content-type-options"]).to.equal("nosniff");
  });

  it("shows a lender its positions, payouts, monthly chart and statement as the chain has them", async function () {
    const lender = toAddress(portal!.store.lenders(1)[0]);
    const onChain = await splitter.positionsOf(lender);
    await go(`#/lender/${lender}`);
    const rows = page.locator("table").first().locator("tbody tr");
    await rows.first().waitFor();
    expect(await rows.count()).to.equal(onChain.length);
    for (const position of onChain) {
      const row = `tr[data-loan="${formatLoanId(position.loanId)}"]`;
      expect(await amountIn(`${row} [data-testid=claimable]`)).to.equal(position.owed);
    }
    // What the lender received is every token the splitter sent it: payouts pushed and claims.
    const token = SettlementToken__factory.connect(suite.token, provider);
    const transfers = await token.queryFilter(token.filters.Transfer(suite.splitter, lender));
    const received = transfers.reduce((sum, t) => sum + t.args.value, 0n);
    expect(await amountIn("[data-testid=received-total]")).to.equal(received);
    expect(await page.locator("figure.chart svg[role=img] rect").count()).to.be.greaterThan(0);
    expect(await page.locator("text=Download statement (CSV)").count()).to.equal(1);
    const csv = await (await fetch(`${portal!.url}/api/lenders/${lender}/statement.csv`)).text();
    const lines = csv.trim().split("\r\n");
    expect(lines.length - 1).to.equal(transfers.length);
    const total = lines.slice(1).reduce((sum, line) => sum + BigInt(line.split(",")[4]), 0n);
    expect(total).to.equal(received);

    // The headline figures and the receipts to come, each computed again from the chain.
    const commitments = await splitter.contract.queryFilter(splitter.contract.filters.Committed());
    const putIn = commitments.filter((e) => e.args.lender === lender).reduce((sum, e) => sum + e.args.amount, 0n);
    const figure = (name: string) => amountIn(`[data-testid=headline] [data-figure="${name}"] dd`);
    expect(await figure("Put in")).to.equal(putIn);
    expect(await figure("Received")).to.equal(received);
    const now = (await provider.getBlock(portal!.store.state()!.last!.number))!.timestamp;
    const first = operations.monthOf(now, "Asia/Shanghai");
    const months = [first, operations.addMonths(first, 1), operations.addMonths(first, 2)];
    const end = operations.monthSpan(months[2], "Asia/Shanghai").end;
    const expected = new Map(months.map((m) => [m, 0n]));
    for (const position of onChain) {
      const state = await loans.state(position.loanId);
      if (state.status !== 2 && state.status !== 3) continue;
      const loanCommitted = commitments
        .filter((e) => e.args.loanId === BigInt(position.loanId))
        .reduce((sum, e) => sum + e.args.amount, 0n);
      for (const row of schedule(await loans.terms(position.loanId))) {
        const due = state.activatedAt + row.dueAfter;
        if (row.k <= state.installmentsPaid || due >= end) continue;
        const month = due < now ? first : operations.monthOf(due, "Asia/Shanghai");
        expected.set(month, expected.get(month)! + (row.total * position.shares) / loanCommitted);
      }
    }
    expect(await page.locator("[data-testid=expected] tr").count()).to.equal(3);
    for (const [month, amount] of expected) {
      expect(await amountIn(`[data-testid=expected] tr[data-month="${month}"] td:nth-child(3)`), month).to.equal(
        amount,
      );
    }
    await shot("lender");
  });

  it("lets a borrower read a loan's terms and sign its agreement or an amendment with its browser wallet", async function () {
    const anchored = await loans.contract.queryFilter(loans.contract.filters.LoanAnchored());
    const loanId = toLoanId(anchored[0].args.loanId);
    const terms = await loans.terms(loanId);
    // A browser wallet (EIP-1193) the page finds as window.ethereum, whose key is the test's.
    const borrower = Wallet.createRandom();
    const signing = await browser!.newPage({
      viewport: { width: 1280, height: 900 },
      locale: "en-US",
      timezoneId: "Asia/Shanghai",
      bypassCSP: true,
    });
    try {
      await signing.exposeFunction("testWalletSign", (json: string) => {
        const typed = JSON.parse(json) as {
          domain: TypedDataDomain;
          types: Record<string, TypedDataField[]>;
          message: Record<string, unknown>;
        };
        const { EIP712Domain: _domain, ...types } = typed.types;
        return borrower.signTypedData(typed.domain, types, typed.message);
      });
      // As a string: the test's compiler would wrap a function's names in helpers the page does not have.
      await signing.addInitScript(`
        window.ethereum = {
          request: async ({ method, params }) => {
            if (method === "eth_requestAccounts") return [${JSON.stringify(borrower.address)}];
            if (method === "eth_signTypedData_v4") return window.testWalletSign(String(params[1]));
            throw new Error("unsupported " + method);
          },
        };
      `);
      const domain = await loans.consentDomain();
      for (const [hash, subject] of [
        [`#/sign/${formatLoanId(loanId)}`, { kind: "agreement" }],
        [`#/sign/${formatLoanId(loanId)}?kind=amendment&doc=${id("amended contract")}`, { kind: "amendment" }],
      ] as const) {
        await signing.goto(`${portal!.url}/${hash}`);
        await signing.waitForFunction('!document.querySelector("main .loading")');
        // What is signed, decoded for a person: the amounts, the schedule, the document.
        const title = await signing.locator("[data-testid=principal] .amount").getAttribute("title");
        expect(parseUnits(String(title).split(" ")[0], decimals)).to.equal(terms.principal);
        expect(await signing.locator("[data-testid=schedule] tr").count()).to.equal(terms.installments);
        expect(await signing.locator("[data-testid=document]").textContent()).to.equal(
          subject.kind === "agreement" ? terms.documentHash : id("amended contract"),
        );
        await signing.getByRole("button", { name: "Sign with my wallet" }).click();
        await signing.locator("[data-testid=signed], main [role=alert]").first().waitFor();
        expect(await signing.locator("main [role=alert]").allTextContents()).to.deep.equal([]);
        expect(await signing.locator("[data-testid=signed]").textContent()).to.contain(
          `Signature verified: it is ${borrower.address}'s`,
        );
        // The signature is the borrower's of exactly that subject, in the registry's domain.
        const signature = String(await signing.locator("[data-testid=signature]").textContent());
        const file = JSON.parse(
          decodeURIComponent(
            String(await signing.getByText("Download the signature file").getAttribute("href")).split(",")[1],
          ),
        ) as { subject: { deadline: string; version?: number }; signer: string };
        const consent =
          subject.kind === "agreement"
            ? { kind: "agreement" as const, loanId, deadline: BigInt(file.subject.deadline) }
            : {
                kind: "amendment" as const,
                loanId,
                version: file.subject.version!,
                documentHash: toHash32(id("amended contract")),
                deadline: BigInt(file.subject.deadline),
              };
        expect(recoverSigner(consentDigest(domain, consent), signature)).to.equal(borrower.address);
        expect(file.signer).to.equal(borrower.address);
        if (subject.kind === "agreement") await signing.screenshot({ path: join(SHOTS, "sign.png"), fullPage: true });
      }
      // Another key's signature is said to be refused, before the platform sends it.
      const other = Wallet.createRandom();
      const refused = (await (
        await fetch(
          `${portal!.url}/api/sign/${formatLoanId(loanId)}/verify?deadline=${(await provider.getBlock("latest"))!.timestamp + 86_400}&signer=${borrower.address}&signature=${(await other.signMessage("x")).slice(0, 132)}`,
        )
      ).json()) as { valid: boolean };
      expect(refused.valid).to.equal(false);
    } finally {
      await signing.close();
    }
  });

  it("lets an auditor browse, sort and filter loans and open a proven, decoded history", async function () {
    const anchored = await loans.contract.queryFilter(loans.contract.filters.LoanAnchored());
    const ids = anchored.map((e) => toLoanId(e.args.loanId));
    const states = await Promise.all(ids.map((id) => loans.state(id)));
    const terms = await Promise.all(ids.map((id) => loans.terms(id)));
    await go("#/auditor?sort=principal&dir=desc");
    expect(await page.locator("caption").first().textContent()).to.contain(`Loans: ${ids.length} found`);
    const biggest = terms.reduce((max, t) => (t.principal > max ? t.principal : max), 0n);
    expect(await amountIn("table tbody tr:first-child td:nth-child(5)")).to.equal(biggest);

    // Filtering by status through the form, as a person would.
    const defaulted = states.filter((s) => s.status === 5).length;
    await page.getByLabel("Status", { exact: true }).selectOption({ label: "Defaulted" });
    await page.waitForURL(/status=5/);
    await settled();
    expect(await page.locator("caption").first().textContent()).to.contain(`Loans: ${defaulted} found`);
    await shot("auditor-browser");

    // Searching by the platform's own reference, which the chain holds only as its hash.
    const byRef = terms.filter((t) => t.platformRef === textHash("B-2026-0002"));
    expect(byRef).to.have.length(1);
    await go("#/auditor");
    await page.getByLabel("Platform's reference").fill("B-2026-0002");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/ref=B-2026-0002/);
    await settled();
    expect(await page.locator("caption").first().textContent()).to.contain("Loans: 1 found");
    expect(await page.locator("table tbody tr").first().textContent()).to.contain(
      formatLoanId(loanIdOf(byRef[0])).slice(0, 6),
    );

    // The loan with the longest history: its page is proven at the index's block, and shows every fact decoded.
    const histories = await Promise.all(ids.map((id) => loanHistory(loans, id)));
    const longest = histories.reduce((a, b) => (b.entries.length > a.entries.length ? b : a));
    const loanId = formatLoanId(longest.loanId);
    await go(`#/loan/${loanId}`);
    const block = portal!.store.state()!.last!.number;
    expect(await page.locator("[data-testid=proof]").textContent()).to.contain(`Proven at block ${block}`);
    expect(await page.locator("[data-testid=timeline] li.fact").count()).to.equal(longest.entries.length);
    // Every External fact is named by the writer's fact it was proven to be, as the fact table names it.
    const heads = await page.locator("[data-testid=timeline] li.fact .timeline-head strong").allTextContents();
    const external = longest.entries.filter((e) => e.fact.kind === "External");
    expect(external.length, "the longest history has external facts").to.be.greaterThan(0);
    expect(heads.filter((h) => h === "External")).to.deep.equal([]);
    expect(heads.filter((h) => h.endsWith("(external fact)"))).to.deep.equal(
      external.map((e) => `${e.writerFact!.kind.replace(/([a-z])([A-Z])/g, "$1 $2")} (external fact)`),
    );
    const state = await loans.state(longest.loanId);
    expect(await amountIn("[data-testid=outstanding]")).to.equal(state.outstandingPrincipal);
    expect(await page.locator("[data-testid=status]").textContent()).to.equal(LOAN_STATUS_NAMES[state.status]);
    await shot("auditor-loan");
    // Every loan of the story is proven, whatever its life: repaid, funded by lenders, defaulted with its collateral
    // sold, cancelled, handed over to a successor.
    for (const id of ids) {
      const page = (await (await fetch(`${portal!.url}/api/loans/${formatLoanId(id)}`)).json()) as {
        proof: { proven: boolean; findings: string[] };
      };
      expect(page.proof.findings, formatLoanId(id)).to.deep.equal([]);
      expect(page.proof.proven).to.equal(true);
    }

    await go("#/auditor");
    const text = await page.locator("main").textContent();
    expect(text).to.contain("agrees with the ledger");
    // The last audit report, as it says: its verdict, scope, findings and the block its heads were proven at.
    const verdict = report.ok ? "Verified" : "Failed";
    expect(text).to.match(new RegExp(`${verdict} .*: ${report.loans.length} loans, ${report.entries} history entries`));
    expect(text).to.contain(`${report.findings.length} finding(s); heads proven against the chain at block`);
    // Its attestations: the signed file, which holds for this very report, and the record on chain.
    const attestations = page.locator("[data-testid=attestations] tr");
    expect(await attestations.count()).to.equal(2);
    expect(await page.locator('[data-testid=attestations] tr[data-source="file"]').textContent())
      .to.contain("auditor, active")
      .and.contain("yes");
    expect(await page.locator('[data-testid=attestations] tr[data-source="chain"]').textContent()).to.match(
      /on chain, block \d+/,
    );
  });

  it("shows a platform the book it services, as the chain's loan states add up, with every member's standing", async function () {
    const anchored = await loans.contract.queryFilter(loans.contract.filters.LoanAnchored());
    const ids = anchored.map((e) => toLoanId(e.args.loanId));
    // The servicer of record: a successor services the loans it took over, the expelled originator none of them.
    const servicers = await Promise.all(ids.map(async (id) => (await loans.servicerOf(id)).toLowerCase() as Address));
    const originators = anchored.map((e) => e.args.platform.toLowerCase() as Address);
    const handedOver = ids.filter((_, i) => servicers[i] !== originators[i]);
    expect(handedOver.length, "the demo hands loans over to a successor").to.be.greaterThan(0);
    // Every platform of the demo: one of them has a loan that was cancelled before it was funded.
    const platforms = [...new Set([...originators, ...servicers])];
    expect(platforms.length).to.be.greaterThan(1);
    const alliance = new AllianceClient(suite.alliance, provider);
    for (const platform of platforms.reverse()) {
      const mine = ids.filter((_, i) => servicers[i] === platform);
      const states = await Promise.all(mine.map((id) => loans.state(id)));
      await go(`#/platform/${platform}`);
      const member = await alliance.member(toAddress(platform));
      expect(
        await page.locator("[data-testid=platform-standing] [data-standing]").getAttribute("data-standing"),
      ).to.equal(member.status);
      const changed = ids.filter(
        (_, i) => servicers[i] !== originators[i] && [servicers[i], originators[i]].includes(platform),
      );
      if (changed.length) expect(await page.locator("[data-testid=handed-over] tr").count()).to.equal(changed.length);
      const counts = new Map<string, { loans: number; outstanding: bigint }>();
      for (const s of states) {
        const name = LOAN_STATUS_NAMES[s.status];
        const c = counts.get(name) ?? { loans: 0, outstanding: 0n };
        // A loan never disbursed (in funding, or cancelled) owes nothing, whatever principal the registry keeps for it.
        const owes = name !== "Funding" && name !== "Cancelled";
        counts.set(name, { loans: c.loans + 1, outstanding: c.outstanding + (owes ? s.outstandingPrincipal : 0n) });
      }
      const rows = page.locator("[data-testid=book] tr");
      expect(await rows.count()).to.equal(counts.size);
      // Its overdue loans by days past due, its book by month, and the CSV of its book, loan by loan.
      const now = portal!.store.state()!.last!.timestamp;
      const buckets = new Map<string, number>();
      for (const [i, id] of mine.entries()) {
        if (states[i].status !== 2 && states[i].status !== 3) continue;
        const { dueDate } = await loans.nextPayment(id);
        if (dueDate >= now) continue;
        const bucket = operations.bucketOf(Math.ceil((now - dueDate) / 86_400));
        buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
      }
      for (const bucket of operations.BUCKETS) {
        const cell = page.locator(`[data-testid=overdue] tr[data-bucket="${bucket}"] td`).first();
        expect(Number(await cell.textContent()), `${platform} ${bucket}`).to.equal(buckets.get(bucket) ?? 0);
      }
      const byMonth = await page.locator("[data-testid=months] tr td:first-of-type").allTextContents();
      expect(byMonth.reduce((sum, n) => sum + Number(n), 0)).to.equal(mine.length);
      const csv = await (await fetch(`${portal!.url}/api/platform/book.csv?platform=${platform}`)).text();
      const lines = csv.trim().split("\r\n");
      expect(lines.length - 1, "one line a loan serviced").to.equal(mine.length);
      expect(new Set(lines.slice(1).map((l) => l.split(",")[0]))).to.deep.equal(new Set(mine.map(formatLoanId)));
      for (const [name, c] of counts) {
        const row = `[data-testid=book] tr[data-status=${name}]`;
        expect(Number(await page.locator(`${row} td`).first().textContent())).to.equal(c.loans);
        expect(await amountIn(`${row} td:nth-child(4)`)).to.equal(c.outstanding);
      }
    }
    expect(await page.locator("figure.chart").count()).to.equal(1);
    await shot("platform");
  });

  it("shows the custody bank's book as the chain has it: the supply, the issues and redemptions with their references", async function () {
    await go("#/custody");
    const custody = new CustodyClient(suite.token, provider);
    const supply = await custody.totalSupply();
    const movements = await custody.movements();
    const banks = [...new Set(movements.map((m) => m.bank))];
    expect(await page.locator("[data-testid=banks] tr").count()).to.equal(banks.length);
    expect(await amountIn("[data-testid=banks] tr td:nth-child(6)")).to.equal(await custody.outstandingOf(banks[0]));
    expect(await custody.outstandingOf(banks[0])).to.equal(supply);
    expect(await page.locator("[data-testid=movements] tr").count()).to.equal(movements.length);
    const newest = movements[movements.length - 1];
    expect(await page.locator("[data-testid=movements] tr").first().textContent()).to.include(
      newest.kind === "redeem" ? "redeemed" : "issued",
    );
    await shot("custody");
  });

  it("shows the alliance's operations report, every figure as the client computes it from the chain", async function () {
    await go("#/alliance");
    const month = await page.locator("#month-select").inputValue();
    const head = await provider.getBlock("latest");
    const { months } = await operations.readOperations(
      nodeOperationsSource(provider, indexSourcesAt(suite, provider), 0),
      {
        month,
        timeZone: "Asia/Shanghai",
      },
    );
    const report = operations.buildReport(months, {
      timeZone: "Asia/Shanghai",
      chainId: String((await provider.getNetwork()).chainId),
      registry: suite.loans,
      token: { symbol: "x", decimals },
      block: head!.number,
      blockTime: head!.timestamp,
    });
    expect(report.platforms.length).to.be.greaterThan(1);
    for (const entity of [...report.platforms, report.alliance]) {
      for (const definition of operations.FIGURES) {
        const cell = `[data-testid=figures] tr[data-figure=${definition.name}] td[data-entity="${entity.entity}"]`;
        const value = entity.figures[definition.name];
        if (definition.unit === "token") expect(await amountIn(cell), definition.name).to.equal(BigInt(String(value)));
        else if (definition.unit === "count") {
          expect(Number((await page.locator(cell).textContent())!.replace(/,/g, "")), definition.name).to.equal(value);
        } else {
          const text = (await page.locator(cell).textContent())!;
          expect(text, definition.name).to.equal(
            value === null
              ? "—"
              : operations
                  .bpsText(Number(value))
                  .replace("%", " %")
                  .replace(/\.?0+ %$/, " %"),
          );
        }
      }
    }
    expect(await page.locator("[data-testid=trend] tr").count()).to.equal(report.trend.length);
    expect(await page.locator("figure.chart").count()).to.equal(4);
    const csv = await (await fetch(`${portal!.url}/api/alliance/report.csv?month=${month}`)).text();
    expect(csv).to.equal(operations.reportCsv(report).replace(/\n/g, "\n"));
    await shot("alliance");
  });

  it("gives, stopped at any block and resumed, the tables an index built from scratch gives, on the demo's ledger", async function () {
    const sources = indexSourcesAt(suite, provider);
    const head = await provider.getBlockNumber();
    const scratch = new SqliteStore(join(dir, "scratch.db"));
    await new Indexer(scratch, provider, sources).sync();
    const whole = scratch.dump();
    scratch.close();
    // The demo's ledger has every kind of derived row: positions, payouts, liens, losses, disclosures.
    for (const table of ["positions", "payouts", "liens", "losses", "disclosures", "reserve", "insurers"]) {
      expect(whole[table], table).to.have.length.greaterThan(0);
    }
    for (const stop of [Math.floor(head / 4), Math.floor(head / 2), head - 3]) {
      const file = join(dir, `resumed-${stop}.db`);
      const first = new SqliteStore(file);
      await new Indexer(first, provider, sources).sync(stop);
      first.close();
      const reopened = new SqliteStore(file);
      await new Indexer(reopened, provider, sources).sync();
      expect(reopened.dump(), `stopped at block ${stop}`).to.deep.equal(whole);
      reopened.close();
    }
  });

  it("writes every amount of every loan's history as an amount, never as a raw number of the token's smallest unit", async function () {
    const anchored = await loans.contract.queryFilter(loans.contract.filters.LoanAnchored());
    for (const event of anchored) {
      await go(`#/loan/${formatLoanId(toLoanId(event.args.loanId))}`);
      // Hashes, addresses and signatures are hex, and a random one holds a run of 19 decimal digits now and then.
      const text = ((await page.locator("main").textContent()) ?? "").replace(/0x[0-9a-fA-F]+/g, "0x…");
      // 10^19 of the smallest unit is 10 tokens: a number that long on the page is an amount left unformatted.
      expect(text.match(/\d{19,}/g), formatLoanId(toLoanId(event.args.loanId))).to.equal(null);
    }
  });

  it("stays usable on a narrow screen: nothing wider than the screen but the tables, which scroll", async function () {
    await page.setViewportSize({ width: 375, height: 800 });
    await go("#/auditor");
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).to.be.at.most(0);
    // Every form control has a name a screen reader can announce.
    const unnamed = await page.evaluate(`[...document.querySelectorAll("input, select, button")].filter(
      (e) => !e.labels?.length && !e.getAttribute("aria-label") && !e.textContent.trim()).length`);
    expect(unnamed).to.equal(0);
    await shot("auditor-narrow");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("says so on every page when the node's chain is no longer the one indexed", async function () {
    // The index commits one more block; then the node goes back before it and mines another block in its place.
    const snapshot = await provider.send("evm_snapshot", []);
    await provider.send("evm_mine", []);
    await portal!.server.sync();
    expect(portal!.server.syncError).to.equal(null);
    await provider.send("evm_revert", [snapshot]);
    await provider.send("evm_increaseTime", [3_600]);
    await provider.send("evm_mine", []);
    await portal!.server.sync();
    expect(portal!.server.syncError).to.match(/chain was reset or replaced/);
    await go("#/platform");
    expect(await page.locator(".banner[role=alert]").textContent()).to.contain("stopped following the chain");
  });
});
