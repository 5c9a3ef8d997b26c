import { expect } from "chai";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, MaxUint256, ZeroAddress, ZeroHash } from "ethers";
import { loanIdOf, Role, type AuditSources } from "../../src/client/index.js";
import {
  exportLedger,
  readExport,
  reportHtml,
  reportMarkdown,
  verifyChain,
  verifyExport,
  writeExport,
  type AuditReport,
  type Manifest,
} from "../../src/audit/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, termsFor, time } from "../fixtures.js";

const UNIT = 10n ** 18n;

/**
 * Money in every contract of the suite: an insurer's capital (part withdrawn), a platform's deposit in the reserve, an
 * insured loan repaid twice, its fees withdrawn and its contributions collected, then defaulted, settled (claim and
 * compensation), recovered after settlement, written off and its book closed, with payouts and a claim; a loan
 * cancelled with its refund still owed, and a loan still in funding.
 */
async function suiteLedgerFixture() {
  const f = await deployAllianceFixture();
  const [insurer, lender2, borrower, payer] = (await ethers.getSigners()).slice(7, 11);
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 3650 * DAY);
  for (const account of [insurer, f.platformA, f.lender, lender2, payer]) {
    await f.token.mint(account, 10_000_000n * UNIT);
    for (const spender of [f.insurance, f.reserve, f.splitter, f.waterfall]) {
      await f.token.connect(account).approve(spender, MaxUint256);
    }
  }
  await f.insurance.connect(insurer).depositCapital(200_000n * UNIT);
  await f.insurance.connect(insurer).withdrawCapital(1_000n * UNIT, insurer);
  const p = await f.reserve.policy();
  const { coverageBps, capPerLoan, quotaMultipleBps } = p;
  await f.reserve.setPolicy({ coverageBps, capPerLoan, quotaMultipleBps, minLoanAge: 0, minInstallmentsPaid: 0 });
  await f.reserve.connect(f.platformA).deposit(20_000n * UNIT);

  const insured = await termsFor(f.platformA, { principal: 100_000n * UNIT });
  const cancelled = await termsFor(f.platformA, { principal: 50_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoans([insured, cancelled]);
  const config = { borrowerPayout: borrower.address, insurer: insurer.address, platformFeeBps: 100, reserveBps: 50 };
  await f.splitter.connect(f.platformA).openFunding(insured, { ...config, premiumBps: 80 });
  await f.splitter.connect(f.platformA).openFunding(cancelled, { ...config, insurer: ZeroAddress, premiumBps: 0 });
  await f.insurance.connect(insurer).writePolicy(insured, 6_000, (await time.latest()) + 365 * DAY);
  await f.splitter.connect(f.lender).fund(insured, 40_000n * UNIT);
  await f.splitter.connect(lender2).fund(insured, 60_000n * UNIT);
  await f.splitter.connect(f.lender).fund(cancelled, 7_000n * UNIT);
  await f.splitter.connect(f.platformA).cancelFunding(cancelled);

  for (let month = 0; month < 2; month += 1) {
    await time.increase(30 * DAY);
    const [, total] = await f.splitter.amountDue(insured);
    await f.splitter.connect(payer).repayLoan(insured, total, ZeroHash);
  }
  const loanId = loanIdOf(insured);
  await f.splitter.payout(loanId, [f.lender.address]);
  await f.splitter.connect(f.platformA).withdrawFees(f.platformA);
  await f.splitter.connect(insurer).withdrawFees(insurer);
  await f.reserve.collect([f.platformA.address]);

  await time.increase(insured.period + insured.gracePeriod + 1);
  await f.loans.connect(f.platformA).markLate(insured);
  await time.increase(insured.defaultThreshold);
  await f.loans.connect(f.platformA).markDefaulted(insured);
  await f.waterfall.connect(f.platformA).settle(insured);
  await f.waterfall.connect(payer).recover(insured, 5_000n * UNIT);
  await f.waterfall.connect(f.platformA).writeOff(insured);
  await f.splitter.closeWrittenOff(loanId);
  await f.splitter.payout(loanId, [f.lender.address]);
  await f.splitter.connect(lender2).claim([loanId], lender2);
  await f.reserve.collect([f.platformA.address]);
  const pending = await termsFor(f.platformA, { principal: 30_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(pending);
  await f.splitter.connect(f.platformA).openFunding(pending, { ...config, insurer: ZeroAddress, premiumBps: 0 });
  await f.splitter.connect(lender2).fund(pending, 3_000n * UNIT);

  const sources: AuditSources = {
    loans: f.clientFor(f.auditor).loans,
    alliance: f.alliance,
    splitter: f.splitter,
    collateral: f.collateral,
    insurance: f.insurance,
    reserve: f.reserve,
    waterfall: f.waterfall,
  };
  const dir = await mkdtemp(join(tmpdir(), "loanledger-balances-"));
  await exportLedger(sources, dir);
  return { ...f, insurer, lender2, payer, sources, dir };
}

type Fixture = Awaited<ReturnType<typeof suiteLedgerFixture>>;

/** Each contract's balance line of the report, by name. */
const linesOf = (report: AuditReport) => Object.fromEntries(report.balances.contracts.map((l) => [l.contract, l]));

const balanceFindings = (report: AuditReport) =>
  report.findings.filter((x) => x.check === "balance").map((x) => [x.balance?.contract, x.balance?.difference]);

/** A copy of the export with its manifest changed by `change` (the manifest is the root: nothing else names its digest). */
async function withManifest(f: Fixture, change: (manifest: Manifest) => void): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), "loanledger-balances-edited-"));
  await cp(f.dir, copy, { recursive: true });
  const manifest = JSON.parse(await readFile(join(copy, "manifest.json"), "utf8")) as Manifest;
  change(manifest);
  await writeFile(join(copy, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return copy;
}

describe("audit: totals reconciled to the contracts' token balances", function () {
  it("reconciles an honest ledger to the wei, contract by contract, with the balances read at the export's block", async function () {
    const f = await loadFixture(suiteLedgerFixture);
    const { report, header } = await verifyChain(f.sources);
    expect(report.findings).to.deep.equal([]);
    expect(report.balances).to.include({ source: "chain", block: header.block.number, token: String(f.token.target) });
    const lines = linesOf(report);
    for (const [name, contract] of [
      ["RepaymentSplitter", f.splitter],
      ["RiskReserveFund", f.reserve],
      ["CreditInsurance", f.insurance],
      ["CollateralRegistry", f.collateral],
      ["LossWaterfall", f.waterfall],
      ["LoanRegistry", f.loans],
      ["AllianceRegistry", f.alliance],
    ] as const) {
      const held = await f.token.balanceOf(contract, { blockTag: header.block.number });
      expect(lines[name], name).to.include({ actual: String(held), expected: String(held), difference: "0" });
      expect(lines[name].status, name).to.equal("reconciled");
    }
    // The ledger moved money through every contract that holds any.
    for (const name of ["RepaymentSplitter", "RiskReserveFund", "CreditInsurance"]) {
      expect(BigInt(lines[name].actual!), name).to.be.greaterThan(0n);
    }
    const parts = Object.fromEntries(lines.RepaymentSplitter.parts.map((p) => [p.part, BigInt(p.amount)]));
    expect(parts["commitments of loans still in funding"]).to.equal(3_000n * UNIT);
    // The cancelled loan's refund is still owed to its lender.
    expect(parts["owed to lenders (payouts and refunds not yet paid)"]).to.be.at.least(7_000n * UNIT);
    const capital = await f.insurance.capitalOf(f.insurer);
    expect(lines.CreditInsurance.actual).to.equal(String(capital.capital));
  });

  it("reconciles from the export, saying the balances were taken from it until a node proves them", async function () {
    const f = await loadFixture(suiteLedgerFixture);
    const manifest = JSON.parse(await readFile(join(f.dir, "manifest.json"), "utf8")) as Manifest;
    expect(manifest.balances?.block).to.equal(manifest.block?.number);
    expect(Object.keys(manifest.balances!.balances)).to.have.members(Object.keys(manifest.contracts));

    const taken = await verifyExport(f.dir);
    expect(taken.findings).to.deep.equal([]);
    expect(taken.balances.source).to.equal("export");
    expect(reportMarkdown(taken)).to.match(/taken from the export at block \d+, NOT proven against a chain/);

    await time.increase(DAY);
    await f.token.mint(f.splitter, 5n);
    const proven = await verifyExport(f.dir, { provider: ethers.provider });
    expect(proven.findings).to.deep.equal([]);
    expect(proven.balances.source).to.equal("chain");
    expect(reportMarkdown(proven)).to.match(/Totals reconciled to the wei .* read from the chain at block \d+/);
  });

  it("shows tokens sent straight to the splitter as unexplained, with their amount", async function () {
    const f = await loadFixture(suiteLedgerFixture);
    await f.token.connect(f.lender).transfer(f.splitter, 123n);
    const { report } = await verifyChain(f.sources);
    expect(balanceFindings(report)).to.deep.equal([["RepaymentSplitter", "123"]]);
    expect(report.ok).to.equal(false);
    expect(linesOf(report).RepaymentSplitter.status).to.equal("unexplained");
    expect(report.findings[0].message).to.match(
      /RepaymentSplitter holds \d+ at block \d+, 123 more than .*123 unexplained/,
    );
    expect(reportHtml(report)).to.include("unexplained");
  });

  it("accounts for a mistaken transfer once governance has swept it to the reserve", async function () {
    const f = await loadFixture(suiteLedgerFixture);
    await f.token.connect(f.lender).transfer(f.waterfall, 77n);
    expect(balanceFindings((await verifyChain(f.sources)).report)).to.deep.equal([["LossWaterfall", "77"]]);
    await f.waterfall.connect(f.governance).sweepMistakenTokens(f.token);
    const { report } = await verifyChain(f.sources);
    expect(report.findings).to.deep.equal([]);
    expect(linesOf(report).RiskReserveFund.parts).to.deep.include({
      part: "mistaken tokens swept to it",
      amount: "77",
    });
  });

  it("finds a recorded balance that was edited or left out, and names the edit once a node proves the export", async function () {
    const f = await loadFixture(suiteLedgerFixture);
    const edited = await withManifest(f, (m) => {
      m.balances!.balances.RiskReserveFund = String(BigInt(m.balances!.balances.RiskReserveFund) + 1_000n);
    });
    const taken = await verifyExport(edited);
    expect(balanceFindings(taken)).to.deep.equal([["RiskReserveFund", "1000"]]);
    expect(taken.findings[0].message).to.match(/as the export records it/);

    const dropped = await verifyExport(
      await withManifest(f, (m) => {
        delete m.balances!.balances.CreditInsurance;
      }),
    );
    expect(balanceFindings(dropped)).to.deep.equal([["CreditInsurance", "?"]]);
    expect(dropped.findings[0].message).to.match(/no amount for CreditInsurance: its total is not reconciled/);
    const garbled = await verifyExport(
      await withManifest(f, (m) => {
        m.balances!.balances.CreditInsurance = "lots";
        m.balances!.block -= 1;
      }),
    );
    expect(balanceFindings(garbled)).to.deep.equal([
      ["(all)", "?"],
      ["CreditInsurance", "?"],
    ]);
    expect(garbled.findings[0].message).to.match(/records balances read at block \d+, not at its own block \d+/);

    const proven = await verifyExport(edited, { provider: ethers.provider });
    expect(proven.findings.map((x) => x.check)).to.deep.equal(["balance"]);
    expect(proven.findings[0].message).to.match(
      /the export records a balance of \d+ for RiskReserveFund, but the node's balance at block \d+ is \d+: the recorded balance was edited/,
    );
  });

  it("names the contract whose history lost a money event, even when the forger rewrote the manifest", async function () {
    const f = await loadFixture(suiteLedgerFixture);
    const ledger = await readExport(f.dir);
    const copy = await mkdtemp(join(tmpdir(), "loanledger-balances-forged-"));
    // Hiding the insurer's withdrawal of capital: every digest matches, but the insurance holds less than it would.
    await writeExport(copy, { ...ledger, money: ledger.money.filter((r) => r.event !== "CapitalWithdrawn") });
    const report = await verifyExport(copy);
    expect(balanceFindings(report)).to.deep.equal([["CreditInsurance", String(-1_000n * UNIT)]]);
    expect(report.findings[0].message).to.match(/less than the \d+ its history says it holds/);
  });

  it("reconciles nothing when one loan is verified, and says an export without balances is not reconciled", async function () {
    const f = await loadFixture(suiteLedgerFixture);
    const ledger = await readExport(f.dir);
    const one = await verifyExport(f.dir, { loanId: ledger.loans[0].loanId });
    expect(one.balances.source).to.equal("none");
    expect(one.checks).to.not.have.property("balance");
    const bare = await withManifest(f, (m) => delete m.balances);
    const report = await verifyExport(bare);
    expect(report.balances.source).to.equal("none");
    expect(reportMarkdown(report)).to.include("Totals NOT reconciled");
    // A node reconciles it all the same.
    expect((await verifyExport(bare, { provider: ethers.provider })).balances.source).to.equal("chain");
  });
});
