import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, ZeroHash } from "ethers";
import { operations, Role, toBorrowerRef } from "../../src/client/index.js";
import {
  Indexer,
  SqliteStore,
  indexOperationsSource,
  indexSourcesAt,
  nodeOperationsSource,
} from "../../src/indexer/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, termsFor, time } from "../fixtures.js";
import { run } from "./helpers.js";

const UNIT = 10n ** 18n;

/**
 * Three months of two platforms' books: platform A lends twice (one loan paid on time, one that stops paying) and
 * leaves one in funding; platform B lends once, to a borrower it declared a related party.
 */
async function bookFixture() {
  const f = await deployAllianceFixture();
  const asA = f.loans.connect(f.platformA);
  const asB = f.loans.connect(f.platformB);
  const paid = await termsFor(f.platformA, { principal: 60_000n * UNIT, defaultThreshold: 200 * DAY });
  const silent = await termsFor(f.platformA, { principal: 40_000n * UNIT, defaultThreshold: 200 * DAY });
  const pending = await termsFor(f.platformA, {
    principal: 10_000n * UNIT,
    fundingDeadline: (await time.latest()) + 80 * DAY,
  });
  const related = await termsFor(f.platformB, {
    principal: 25_000n * UNIT,
    borrowerRef: toBorrowerRef(id("B's director")),
  });
  await asA.anchorLoans([paid, silent, pending]);
  await asB.anchorLoans([related]);
  await f.disclosures.connect(f.platformB).declareRelatedParties([id("B's director")], [], true);
  for (const terms of [paid, silent]) await asA.activateLoan(terms);
  await asB.activateLoan(related);
  for (let month = 0; month < 3; month += 1) {
    await time.increase(30 * DAY);
    const due = await asA.nextPayment(paid);
    await asA.recordPayment(paid, due.principal + due.interest, ZeroHash);
  }
  await time.increase(40 * DAY);
  const latest = await time.latest();
  const month = operations.addMonths(operations.monthOf(latest), -1);
  return { ...f, month, latest };
}

describe("loanledger report", function () {
  it("prints the month's report as JSON that follows its schema, per platform and for the alliance", async function () {
    const f = await loadFixture(bookFixture);
    const { code, out, err } = await run(f, f.auditor, ["report", "--month", f.month]);
    expect(code, err).to.equal(0);
    const report = operations.validateOperationsReport(JSON.parse(out));
    expect(report.month).to.equal(f.month);
    expect(report.timeZone).to.equal("Asia/Shanghai");
    expect(report.period.end).to.match(/T00:00:00\+08:00$/);
    expect(report.platforms.map((p) => p.entity)).to.have.members([f.platformA.address, f.platformB.address]);
    const a = report.platforms.find((p) => p.entity === f.platformA.address)!.figures;
    const b = report.platforms.find((p) => p.entity === f.platformB.address)!.figures;
    // The loan in funding is not lent; the silent one is overdue, in exactly one bucket.
    expect(a.loansLentCount).to.equal(2);
    expect(a.loansLentAmount).to.equal(String(100_000n * UNIT));
    expect(a.overdueCount).to.equal(1);
    expect(a.overdueAmount).to.equal(String(40_000n * UNIT));
    const buckets = operations.BUCKETS.map((k) => BigInt(a[`overdue${k}Amount` as "overdueAmount"] as string));
    expect(buckets.filter((v) => v > 0n)).to.deep.equal([40_000n * UNIT]);
    expect(b.relatedPartyLentCount).to.equal(1);
    expect(b.relatedPartyOutstandingPrincipal).to.equal(String(25_000n * UNIT));
    expect(report.alliance.figures.loansLentCount).to.equal(3);
    expect(report.alliance.figures.borrowersCumulative).to.equal(2);
    expect(report.trend.length).to.be.within(2, 12);
  });

  it("keeps a loan related when its platform withdraws the declaration before the month's end", async function () {
    const f = await loadFixture(bookFixture);
    // Platform B withdraws its director's declaration, hoping the next month's report shows no related-party loan.
    await f.disclosures.connect(f.platformB).declareRelatedParties([id("B's director")], [], false);
    const next = operations.monthOf(await time.latest());
    await time.increaseTo(operations.monthSpan(next).end + DAY);
    const { code, out, err } = await run(f, f.auditor, ["report", "--month", next, "--platform", f.platformB.address]);
    expect(code, err).to.equal(0);
    const b = operations.validateOperationsReport(JSON.parse(out)).platforms[0].figures;
    expect(b.relatedPartyLentCount).to.equal(1);
    expect(b.relatedPartyOutstandingPrincipal).to.equal(String(25_000n * UNIT));
  });

  it("writes CSV (a row per platform and the alliance), xBRL-JSON facts and an HTML page with charts", async function () {
    const f = await loadFixture(bookFixture);
    const dir = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    for (const format of ["csv", "xbrl", "html"]) {
      const { code, err } = await run(f, f.auditor, ["report", "--month", f.month, "--format", format, "--out", dir]);
      expect(code, err).to.equal(0);
    }
    const csv = (await readFile(join(dir, `operations-report-${f.month}.csv`), "utf8")).trim().split("\n");
    expect(csv).to.have.length(4);
    expect(csv[0].split(",").slice(3, -1)).to.deep.equal([...operations.FIGURE_NAMES]);
    expect(csv[3]).to.contain(",alliance,");
    const xbrl = JSON.parse(await readFile(join(dir, `operations-report-${f.month}.xbrl.json`), "utf8")) as {
      documentInfo: { documentType: string };
      facts: Record<string, { value: string; dimensions: Record<string, string> }>;
    };
    expect(xbrl.documentInfo.documentType).to.equal("https://xbrl.org/2021/xbrl-json");
    const lent = Object.values(xbrl.facts).find(
      (fact) =>
        fact.dimensions.concept === "loanledger:LoansLentCount" && fact.dimensions.entity === "loanledger:alliance",
    );
    expect(lent?.value).to.equal("3");
    const html = await readFile(join(dir, `operations-report-${f.month}.html`), "utf8");
    expect(html).to.contain(`Operations report, ${f.month}`).and.to.contain("<svg").and.to.contain("Asia/Shanghai");
    expect(html).not.to.contain("<script");
  });

  it("gives one sentence and exit 1 for a malformed month, one not ended, one before the ledger, a non-platform", async function () {
    const f = await loadFixture(bookFixture);
    const current = operations.monthOf(f.latest);
    const cases: [string[], RegExp][] = [
      [["--month", "2027-13"], /a month is written YYYY-MM/],
      [["--month", current], /has not ended in Asia\/Shanghai/],
      [["--month", operations.addMonths(current, 5)], /has not ended/],
      [["--month", "2001-01"], /ended before the ledger began/],
      [["--month", f.month, "--platform", f.outsider.address], /is not a platform member/],
      [["--month", f.month, "--platform", "0x1234"], /not an address/],
      [["--month", f.month, "--time-zone", "Mars/Olympus"], /is not a time zone/],
      [["--month", f.month, "--format", "pdf"], /--format must be one of json, csv, xbrl, html/],
    ];
    for (const [argv, reason] of cases) {
      const { code, err } = await run(f, f.auditor, ["report", ...argv]);
      expect(code, argv.join(" ")).to.equal(1);
      expect(err, argv.join(" ")).to.match(reason);
      expect(err.split("\n"), argv.join(" ")).to.have.length(1);
    }
  });

  it("reads the same report from the portal's index as from the node", async function () {
    const f = await loadFixture(bookFixture);
    const dir = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const db = join(dir, "index.db");
    const sources = indexSourcesAt(f.suite.addresses, f.auditor);
    const store = new SqliteStore(db);
    await new Indexer(store, ethers.provider, sources).sync();
    const options = { month: f.month, timeZone: "Asia/Shanghai" };
    const fromIndex = await operations.readOperations(indexOperationsSource(store), options);
    const fromNode = await operations.readOperations(nodeOperationsSource(ethers.provider, sources, 0), options);
    store.close();
    expect(fromIndex.months.map((m) => m.platforms)).to.deep.equal(fromNode.months.map((m) => m.platforms));
    expect(fromIndex.months.map((m) => m.alliance)).to.deep.equal(fromNode.months.map((m) => m.alliance));
    const viaCli = await run(f, f.auditor, ["report", "--month", f.month, "--db", db, "--format", "csv"]);
    const viaNode = await run(f, f.auditor, ["report", "--month", f.month, "--format", "csv"]);
    expect(viaCli.out).to.equal(viaNode.out);
  });
});

describe("loanledger disclosure publish-month / check / attest (operations reports)", function () {
  it("publishes a platform's month, which the auditor's recomputation finds equal and attests", async function () {
    const f = await loadFixture(bookFixture);
    const dir = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const published = await run(f, f.platformA, ["disclosure", "publish-month", "--month", f.month, "--out", dir]);
    expect(published.code, published.err).to.equal(0);
    const file = join(dir, `operations-report-${f.month}-${f.platformA.address}.json`);
    const check = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, f.month]);
    expect(check.code, check.err).to.equal(0);
    expect(check.out).to.contain("agrees with the ledger");
    const attest = await run(f, f.auditor, ["disclosure", "attest", "--file", file, "--version", "1"]);
    expect(attest.code, attest.err).to.equal(0);
    const report = operations.validateOperationsReport(JSON.parse(await readFile(file, "utf8")));
    expect(
      await f.disclosures.isAttested(
        f.platformA,
        operations.parseMonth(f.month)[0] * 100 + operations.parseMonth(f.month)[1],
        1,
        f.auditor,
      ),
    ).to.equal(true);
    expect(report.platforms).to.have.length(1);
  });

  it("names each figure a platform published that the ledger does not show, given the published report", async function () {
    const f = await loadFixture(bookFixture);
    const dir = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const honest = await run(f, f.platformA, ["report", "--month", f.month, "--platform", f.platformA.address]);
    const report = operations.validateOperationsReport(JSON.parse(honest.out));
    // Platform A hides its overdue loan: it publishes a report whose figures say nothing is overdue.
    const figures = report.platforms[0].figures;
    const flattering = {
      ...report,
      platforms: [{ ...report.platforms[0], figures: { ...figures, overdueCount: 0, overdueRateAmountBps: 0 } }],
    };
    await f.suite.connect(f.platformA).clients.disclosures.publishOperations(flattering);
    const forged = join(dir, "published.json");
    await writeFile(forged, JSON.stringify(flattering));
    const blind = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, f.month]);
    expect(blind.code).to.equal(1);
    expect(blind.err).to.match(/digest is not the ledger's: give the published report/);
    const named = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, f.month, "--file", forged]);
    expect(named.code).to.equal(1);
    expect(named.err).to.contain(
      "2 figure(s) of the published report differ from the ledger: overdueCount, overdueRateAmountBps",
    );
    // A file that is not the published report is named as such, not compared.
    await writeFile(forged, JSON.stringify(report));
    const other = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, f.month, "--file", forged]);
    expect(other.err).to.match(/the file is not the published report/);
  });

  it("refuses a document whose figures are not the digest published beside it, and will not attest it", async function () {
    const f = await loadFixture(bookFixture);
    const dir = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const honest = await run(f, f.platformA, ["report", "--month", f.month, "--platform", f.platformA.address]);
    const report = operations.validateOperationsReport(JSON.parse(honest.out));
    // Platform A puts the honest digest on chain but circulates a document that hides its overdue loan.
    const fake = {
      ...report,
      platforms: [{ ...report.platforms[0], figures: { ...report.platforms[0].figures, overdueCount: 0 } }],
    };
    const period = Number(f.month.replace("-", ""));
    await f.disclosures
      .connect(f.platformA)
      .publishOperations(
        period,
        operations.operationsReportHash(fake),
        operations.figuresDigest(report, report.platforms[0]),
        false,
      );
    const file = join(dir, "fake.json");
    await writeFile(file, JSON.stringify(fake));
    const digestOnly = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, f.month]);
    expect(digestOnly.code).to.equal(0);
    expect(digestOnly.out).to.contain("give --file to check the published document too");
    const checked = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, f.month, "--file", file]);
    expect(checked.code).to.equal(1);
    expect(checked.err).to.contain("the published digest is not that of the published report's own figures");
    const attest = await run(f, f.auditor, ["disclosure", "attest", "--file", file, "--version", "1"]);
    expect(attest.code).to.equal(1);
    expect(attest.err).to.match(/not attesting version 1/);
    expect(await f.disclosures.isAttested(f.platformA, period, 1, f.auditor)).to.equal(false);
    // A document in another time zone is not the alliance's month, whatever its hash.
    const elsewhere = { ...report, timeZone: "Etc/GMT+12" };
    await f.suite.connect(f.platformA).clients.disclosures.publishOperations(elsewhere, true);
    await writeFile(file, JSON.stringify(elsewhere));
    const zone = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, f.month, "--file", file]);
    expect(zone.err, zone.err + zone.out).to.contain("in Etc/GMT+12; the alliance reports");
  });

  it("reports a platform with no loan yet as zeros, and checks its month", async function () {
    const f = await loadFixture(bookFixture);
    const [fresh] = (await ethers.getSigners()).slice(12, 13);
    await f.alliance.admitMember(fresh, Role.Platform, id("new platform"));
    const shown = await run(f, f.auditor, ["report", "--month", f.month, "--platform", fresh.address]);
    expect(shown.code, shown.err).to.equal(0);
    const figures = operations.validateOperationsReport(JSON.parse(shown.out)).platforms[0].figures;
    expect(figures.loansLentCount).to.equal(0);
    const published = await run(f, fresh, [
      "disclosure",
      "publish-month",
      "--month",
      f.month,
      "--out",
      await mkdtemp(join(tmpdir(), "ll-")),
    ]);
    expect(published.code, published.err).to.equal(0);
    const check = await run(f, f.auditor, ["disclosure", "check", fresh.address, f.month]);
    expect(check.code, check.err).to.equal(0);
  });

  it("declares and withdraws related parties, refusing an empty or malformed list before sending", async function () {
    const f = await loadFixture(bookFixture);
    const declared = await run(f, f.platformA, ["disclosure", "related", "--accounts", f.lender.address]);
    expect(declared.code, declared.err).to.equal(0);
    expect(await f.disclosures.isRelatedAccount(f.platformA, f.lender)).to.equal(true);
    await run(f, f.platformA, ["disclosure", "related", "--accounts", f.lender.address, "--withdraw"]);
    expect(await f.disclosures.isRelatedAccount(f.platformA, f.lender)).to.equal(false);
    for (const argv of [[], ["--borrower-refs", "0x12"], ["--accounts", "nobody"]]) {
      const { code, err } = await run(f, f.platformA, ["disclosure", "related", ...argv]);
      expect(code, argv.join(" ")).to.equal(1);
      expect(err.split("\n")).to.have.length(1);
    }
    const outsider = await run(f, f.outsider, ["disclosure", "related", "--accounts", f.lender.address]);
    expect(outsider.code).to.equal(1);
    expect(outsider.err).to.contain("is not an active platform member");
    expect(Role.Platform).to.equal(1);
  });
});
