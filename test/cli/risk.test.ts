import { expect } from "chai";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id } from "ethers";
import { Role, toAddress } from "../../src/client/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, NATIONAL_IDS, time } from "../fixtures.js";
import { anchorWithCli, run } from "./helpers.js";

const UNIT = 10n ** 18n;

async function jsonFile(value: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "loanledger-json-")), "report.json");
  await writeFile(file, JSON.stringify(value));
  return file;
}

/** An insured loan of 50 000 funded through the splitter by one lender, then defaulted; the reserve holds a deposit. */
async function defaultedFixture() {
  const f = await deployAllianceFixture();
  const [insurer, borrower] = (await ethers.getSigners()).slice(7, 9);
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  for (const account of [insurer, f.lender, f.platformA]) await f.token.mint(account, 1_000_000n * UNIT);
  const loanId = await anchorWithCli(f, "R-1");
  await run(f, f.platformA, [
    "loan",
    "open-funding",
    loanId,
    "--payout",
    borrower.address,
    "--insurer",
    insurer.address,
    "--premium-bps",
    "50",
    // The reserve compensates only a loan that paid into it.
    "--reserve-bps",
    "30",
  ]);
  expect((await run(f, insurer, ["insurance", "capital", "100000"])).out).to.match(
    /^capital 100,000.00 LLST, of which 100,000.00 LLST free/,
  );
  const written = await run(f, insurer, [
    "insurance",
    "write",
    loanId,
    "--coverage-bps",
    "5000",
    "--term-end",
    "+365d",
  ]);
  expect(written.code, written.err).to.equal(0);
  await run(f, f.lender, ["loan", "fund", loanId, "50000"]);
  expect((await run(f, f.platformA, ["reserve", "deposit", "10000"])).code).to.equal(0);
  // One installment paid, so the loan is seasoned when it defaults: the reserve compensates only such loans.
  await time.increase(30 * DAY);
  const repaid = await run(f, borrower, ["loan", "repay", loanId]);
  expect(repaid.code, repaid.err).to.equal(0);
  await time.increase(34 * DAY);
  await run(f, f.platformA, ["loan", "late", loanId]);
  await time.increase(60 * DAY);
  expect((await run(f, f.platformA, ["loan", "default", loanId])).out).to.include("Defaulted");
  return { ...f, insurer, borrower, loanId };
}

describe("loanledger CLI: loss waterfall, reserve, insurance, borrowers, disclosures", function () {
  it("settles a defaulted loan: the insurer's claim, then the reserve, and the lenders bear the rest", async function () {
    const f = await loadFixture(defaultedFixture);
    const settled = await run(f, f.platformA, ["loan", "settle", f.loanId]);
    expect(settled.code, settled.err).to.equal(0);
    expect(settled.out)
      .to.match(/insurer\s+≈?2[\d.]+/)
      .and.match(/reserve\s+[1-9][\d.]*/);
    const shown = await run(f, f.auditor, ["insurance", "show", f.loanId]);
    expect(shown.out).to.match(/^Claimed policy by 0x[0-9a-fA-F]{40}: 50% cover up to 25,000.00 LLST/);
    const reserve = await run(f, f.auditor, ["reserve", "show", f.platformA.address]);
    expect(reserve.out).to.include("compensation received");
    const recovered = await run(f, f.platformA, ["loan", "recovery", f.loanId, "1000"]);
    expect(recovered.code, recovered.err).to.equal(0);
    expect(recovered.out).to.include("took 1,000.00 LLST");
  });

  it("shows a policy by a shortened loan id, and an insurer's capital by its address", async function () {
    const f = await loadFixture(defaultedFixture);
    for (const short of [f.loanId.slice(0, 14), `${f.loanId.slice(0, 6)}…${f.loanId.slice(-4)}`]) {
      const shown = await run(f, f.auditor, ["insurance", "show", short]);
      expect(shown.code, shown.err).to.equal(0);
      expect(shown.out).to.match(/^Active policy by 0x[0-9a-fA-F]{40}: 50% cover up to 25,000.00 LLST/);
    }
    const capital = await run(f, f.auditor, ["insurance", "show", f.insurer.address]);
    expect(capital.code, capital.err).to.equal(0);
    expect(capital.out).to.match(/^capital 100,[\d,.]+ LLST: /);
  });

  it("shows a borrower's exposure and credit events across platforms, from a national id hashed locally", async function () {
    const f = await loadFixture(defaultedFixture);
    const exposure = await run(f, f.platformB, ["borrower", "exposure", "--national-id", NATIONAL_IDS[1]]);
    expect(exposure.out).to.match(
      /1 open loan\(s\), ≈?4\d,\d{3}\.\d{2} LLST outstanding; late 1, cured 0, defaulted 1/,
    );
    const events = await run(f, f.platformB, ["borrower", "events", "--national-id", NATIONAL_IDS[1], "--json"]);
    expect(events.err).to.equal("");
    expect((JSON.parse(events.out) as unknown[]).length).to.equal(2);
  });

  it("rejects an under-capitalised insurer's policy in one line", async function () {
    const f = await loadFixture(defaultedFixture);
    const loanId = await anchorWithCli(f, "R-2");
    await run(f, f.platformA, [
      "loan",
      "open-funding",
      loanId,
      "--payout",
      f.borrower.address,
      "--insurer",
      f.insurer.address,
    ]);
    // 25 000 of the 100 000 backs the first policy; after this withdrawal 15 000 is free.
    expect((await run(f, f.insurer, ["insurance", "capital", "60000", "--withdraw"])).out).to.include(
      "15,000.00 LLST free",
    );
    const result = await run(f, f.insurer, [
      "insurance",
      "write",
      loanId,
      "--coverage-bps",
      "10000",
      "--term-end",
      "+30d",
    ]);
    expect(result.code).to.equal(1);
    expect(result.err).to.match(
      // In the token's units, as the rest of the CLI writes amounts: never in the token's smallest unit.
      /^error: CreditInsuranceUnderCapitalised: insurer 0x[0-9a-fA-F]{40} has 15,000\.00 LLST of free capital, less than the policy's maximum claim ≈?[\d,]+\.\d{2} LLST$/,
    );
  });

  it("publishes a disclosure, and check names the bad-debt rate that differs from the ledger", async function () {
    const f = await loadFixture(defaultedFixture);
    const period = new Date((await time.latest()) * 1000).toISOString().slice(0, 7);
    const report = {
      schemaVersion: 1,
      platform: toAddress(f.platformA.address),
      period,
      loansOriginated: 0,
      volume: "0",
      outstandingPrincipal: String((await f.loans.loanState(BigInt(f.loanId))).outstandingPrincipal),
      overdueRateBps: 0,
      badDebtRateBps: 120,
      borrowers: 1,
      lenders: 1,
      reserve: { contributed: "0" },
      insurance: { claimsPaid: "0" },
    };
    const published = await run(f, f.platformA, ["disclosure", "publish", "--file", await jsonFile(report)]);
    expect(published.code, published.err).to.equal(0);
    const checked = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, period]);
    expect(checked.code).to.equal(1);
    expect(checked.out).to.match(/badDebtRateBps\s+120\s+10000/);
    expect(checked.err).to.equal("error: 1 figure(s) of the disclosure differ from the ledger: badDebtRateBps");

    const correct = { ...report, badDebtRateBps: 10_000 };
    await run(f, f.platformA, ["disclosure", "publish", "--file", await jsonFile(correct), "--correction"]);
    expect((await run(f, f.auditor, ["disclosure", "check", f.platformA.address, period])).code).to.equal(0);
    const attested = await run(f, f.auditor, [
      "disclosure",
      "attest",
      "--file",
      await jsonFile(correct),
      "--version",
      "2",
    ]);
    expect(attested.code, attested.err).to.equal(0);
    const bad = await run(f, f.platformA, [
      "disclosure",
      "publish",
      "--file",
      await jsonFile({ ...report, period: "2026-13" }),
    ]);
    expect(bad.err).to.match(
      /^error: the report does not follow the disclosure format: period is not in a form it takes, not "/,
    );
  });
});
