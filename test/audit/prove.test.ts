import { expect } from "chai";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, MaxUint256, ZeroAddress, ZeroHash } from "ethers";
import {
  formatLoanId,
  InputError,
  loanIdOf,
  toLoanId,
  type AuditSources,
  type EventRecord,
} from "../../src/client/index.js";
import {
  collectLedger,
  readExport,
  suiteAddressesOf,
  verifyChain,
  verifyExport,
  verifyLedger,
  writeExport,
  type AuditReport,
  type LedgerExport,
} from "../../src/audit/index.js";
import {
  asSystem,
  DAY,
  deployAllianceFixture,
  ethers,
  expectRejection,
  loadFixture,
  termsFor,
  time,
} from "../fixtures.js";

const UNIT = 10n ** 18n;

/**
 * A loan funded by a lender and repaid once with fees, and an insured loan that defaulted, whose claim was paid and whose
 * loss was partly recovered afterwards; exported at the end.
 */
async function proveFixture() {
  const f = await deployAllianceFixture();
  const [borrower, insurer, payer] = (await ethers.getSigners()).slice(12, 15);
  await f.alliance.admitMember(insurer, 2, id("insurer licence"));
  for (const account of [f.lender, payer, insurer, f.outsider]) {
    await f.token.mint(account, 1_000_000n * UNIT);
    for (const spender of [f.splitter, f.waterfall, f.insurance]) {
      await f.token.connect(account).approve(spender, MaxUint256);
    }
  }
  const config = {
    borrowerPayout: borrower.address,
    insurer: ZeroAddress,
    platformFeeBps: 100,
    premiumBps: 0,
    reserveBps: 50,
  };
  const repaid = await termsFor(f.platformA, { principal: 6_000n * UNIT, installments: 3 });
  await f.loans.connect(f.platformA).anchorLoan(repaid);
  await f.splitter.connect(f.platformA).openFunding(repaid, config);
  await f.splitter.connect(f.lender).fund(repaid, repaid.principal);

  const insured = await termsFor(f.platformA, { principal: 10_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(insured);
  await f.splitter
    .connect(f.platformA)
    .openFunding(insured, { ...config, platformFeeBps: 0, reserveBps: 0, insurer: insurer.address, premiumBps: 200 });
  await f.insurance.connect(insurer).depositCapital(20_000n * UNIT);
  await f.splitter.connect(f.lender).fund(insured, insured.principal);
  await f.insurance.connect(insurer).writePolicy(insured, 10_000, (await time.latest()) + 365 * DAY);

  await time.increase(30 * DAY);
  const [, total] = await f.splitter.amountDue(repaid);
  await f.splitter.connect(payer).repayLoan(repaid, total, ZeroHash);
  await time.increase(121 * DAY);
  await f.loans.connect(f.platformA).markDefaulted(insured);
  await f.waterfall.connect(f.platformA).settle(insured);
  await f.waterfall.connect(f.outsider).recover(insured, 1_000n * UNIT);

  const sources: AuditSources = {
    loans: f.clientFor(f.auditor).loans,
    alliance: f.alliance,
    splitter: f.splitter,
    collateral: f.collateral,
    insurance: f.insurance,
    reserve: f.reserve,
    waterfall: f.waterfall,
  };
  const dir = await mkdtemp(join(tmpdir(), "loanledger-prove-"));
  await writeExport(dir, await collectLedger(sources));
  return {
    ...f,
    sources,
    dir,
    insurer,
    repaid: formatLoanId(loanIdOf(repaid)),
    insured: formatLoanId(loanIdOf(insured)),
  };
}
type ProveFixture = Awaited<ReturnType<typeof proveFixture>>;

/** A copy of the export rewritten by `change`, every digest of its new manifest matching, as a forger writes it. */
async function forged(f: ProveFixture, change: (ledger: LedgerExport) => void): Promise<string> {
  const ledger = await readExport(f.dir);
  change(ledger);
  const copy = await mkdtemp(join(tmpdir(), "loanledger-prove-forged-"));
  await writeExport(copy, ledger);
  return copy;
}

const loanOf = (r: EventRecord) =>
  r.args.loanId === undefined ? undefined : formatLoanId(toLoanId(String(r.args.loanId)));

function first(money: EventRecord[], event: string, loanId?: string): EventRecord {
  const found = money.find((r) => r.event === event && (loanId === undefined || loanOf(r) === loanId));
  expect(found, event).to.not.equal(undefined);
  return found!;
}

const kinds = (report: AuditReport) => report.findings.map((x) => [x.check, x.loanId ?? null]);

describe("audit proof: every export file proven against the chain", function () {
  it("states each file proven at the export's block, read from the block the suite's first contract was created in", async function () {
    const f = await loadFixture(proveFixture);
    const report = await verifyExport(f.dir, { provider: ethers.provider });
    expect(report.findings).to.deep.equal([]);
    const { block } = await readExport(f.dir);
    const scope = report.scope!;
    expect(scope).to.deep.include({ fromBlockSource: "chain", contractsSource: "chain" });
    expect(scope.contracts).to.deep.equal(suiteAddressesOf(f.sources));
    // The first block holds the code of a suite contract, and the block before it holds none.
    const codeAt = (block: number) =>
      Promise.all(Object.values(scope.contracts).map((a) => ethers.provider.getCode(a!, block)));
    expect((await codeAt(scope.fromBlock!)).some((code) => code !== "0x")).to.equal(true);
    expect((await codeAt(scope.fromBlock! - 1)).every((code) => code === "0x")).to.equal(true);
    expect(report.files!.map((x) => [x.file, x.source, x.provenAt?.number, x.differences])).to.deep.equal([
      ["loans.jsonl", "chain", block!.number, 0],
      ["money.jsonl", "chain", block!.number, 0],
      ["assets.jsonl", "chain", block!.number, 0],
      ["members.jsonl", "chain", block!.number, 0],
      ["heads.json", "chain", block!.number, 0],
      ["manifest.json", "chain", block!.number, 0],
    ]);
    expect(report.files!.slice(0, 4).every((x) => x.fromBlock === scope.fromBlock)).to.equal(true);
    expect(report.checks).to.have.property("proof");
    expect(report.notRun).to.not.have.property("proof");
  });

  it("says that every file verified without a node is taken from the export, and that the proof did not run", async function () {
    const f = await loadFixture(proveFixture);
    const report = await verifyExport(f.dir);
    expect(report.ok).to.equal(true);
    expect(report.files!.map((x) => [x.file, x.source])).to.deep.equal([
      ["loans.jsonl", "export"],
      ["money.jsonl", "export"],
      ["assets.jsonl", "export"],
      ["members.jsonl", "export"],
      ["heads.json", "export"],
    ]);
    expect(report.scope).to.deep.include({ fromBlockSource: "export", contractsSource: "export" });
    expect(report.checks).to.not.have.property("proof");
    expect(report.notRun.proof).to.include("--rpc");
    expect(report.notRun.document).to.equal("no documents folder was given");
  });

  it("names a record the chain does not hold by its file and line", async function () {
    const f = await loadFixture(proveFixture);
    let line = 0;
    const dir = await forged(f, (ledger) => {
      const claim = first(ledger.money, "RepaymentSplit", f.repaid);
      const invented = { ...claim, logIndex: claim.logIndex + 50 };
      ledger.money.splice(ledger.money.indexOf(claim) + 1, 0, invented);
      line = ledger.money.indexOf(invented) + 1;
    });
    const report = await verifyExport(dir, { provider: ethers.provider });
    const proof = report.findings.filter((x) => x.check === "proof");
    expect(proof.map((x) => [x.file, x.line, x.loanId])).to.deep.equal([["money.jsonl", line, f.repaid]]);
    expect(proof[0].message).to.include("is not on chain");
    expect(report.files!.find((x) => x.file === "money.jsonl")!.differences).to.equal(1);
  });

  it("names each field a record differs in, with the loan and the entry", async function () {
    const f = await loadFixture(proveFixture);
    const dir = await forged(f, (ledger) => {
      const entry = ledger.loans.filter((r) => r.loanId === f.insured)[1];
      entry.head = "0x" + "11".repeat(32);
    });
    const report = await verifyExport(dir, { provider: ethers.provider });
    const proof = report.findings.find((x) => x.check === "proof")!;
    expect([proof.file, proof.loanId, proof.entry]).to.deep.equal(["loans.jsonl", f.insured, 2]);
    expect(proof.message).to.match(/head is "0x1111.*" in the export, "0x[0-9a-f]{64}" on chain/);
  });

  it("names a loan heads.json invents or leaves out, against each loan's last history event on chain", async function () {
    const f = await loadFixture(proveFixture);
    const invented = formatLoanId(toLoanId(id("no such loan")));
    const dir = await forged(f, (ledger) => {
      ledger.heads = { ...ledger.heads, [invented]: id("a head") };
      delete ledger.heads[f.repaid];
    });
    const report = await verifyExport(dir, { provider: ethers.provider });
    const heads = report.findings.filter((x) => x.check === "proof" && x.file === "heads.json");
    expect(heads.map((x) => x.loanId)).to.deep.equal([f.repaid, invented]);
    expect(report.files!.find((x) => x.file === "heads.json")).to.deep.include({ source: "chain", differences: 2 });
  });

  it("takes the suite from the chain, not the manifest: another splitter named there is a finding, and facts are still checked", async function () {
    const f = await loadFixture(proveFixture);
    const dir = await forged(f, (ledger) => {
      ledger.contracts = { ...ledger.contracts, RepaymentSplitter: String(f.system.target) };
      const opened = first(ledger.money, "FundingOpened", f.repaid);
      (opened.args.config as Record<string, string>).reserveBps = "0";
    });
    const report = await verifyExport(dir, { provider: ethers.provider });
    expect(report.findings[0]).to.deep.include({ check: "manifest", file: "manifest.json" });
    expect(report.findings[0].message).to.equal(
      `the manifest names ${String(f.system.target)} as RepaymentSplitter, but the chain's RepaymentSplitter is ${String(f.splitter.target)}`,
    );
    expect(report.checks).to.have.property("fact");
    expect(kinds(report)).to.deep.include(["fact", f.repaid]);
  });

  it("refuses an export naming contracts other than the auditor's deployment", async function () {
    const f = await loadFixture(proveFixture);
    const deployment = { ...suiteAddressesOf(f.sources), LoanRegistry: String(f.system.target) };
    await expectRejection(
      verifyExport(f.dir, { provider: ethers.provider, deployment }),
      /the export's manifest names LoanRegistry .* another suite's export/,
      InputError,
    );
    const report = await verifyExport(f.dir, { provider: ethers.provider, deployment: suiteAddressesOf(f.sources) });
    expect(report.findings).to.deep.equal([]);
    expect(report.scope!.contractsSource).to.equal("deployment");
  });

  it("names a fact added by a history writer that is none of the suite's contracts", async function () {
    const f = await loadFixture(proveFixture);
    await asSystem(f, f.loans, "extendHistory", [f.repaid, id("a fact nobody can decode")]);
    const { report } = await verifyChain(f.sources);
    expect(kinds(report)).to.deep.equal([["fact", f.repaid]]);
    expect(report.findings[0].message).to.include(`a fact of ${String(f.system.target).toLowerCase()}, which is none`);
  });
});

describe("audit: what the chain committed to, checked without a node", function () {
  /** The findings of the export rewritten by `change`, verified offline. */
  async function offline(f: ProveFixture, change: (ledger: LedgerExport) => void) {
    return (await verifyLedger(await readExport(await forged(f, change)))).findings;
  }

  it("names a split whose interest and principal were moved by the same wei, against the registry's record", async function () {
    const f = await loadFixture(proveFixture);
    const findings = await offline(f, (ledger) => {
      const split = first(ledger.money, "RepaymentSplit", f.repaid).args.split as Record<string, string>;
      split.interest = String(BigInt(split.interest) + 1n);
      split.principal = String(BigInt(split.principal) - 1n);
    });
    expect(findings.map((x) => [x.check, x.loanId])).to.deep.equal([
      ["split", f.repaid],
      ["split", f.repaid],
    ]);
    expect(findings[0].message).to.match(/the split's interest of \d+ is not the \d+ the registry recorded/);
  });

  it("names a disbursement of another amount or to another account than the funding configuration names", async function () {
    const f = await loadFixture(proveFixture);
    const findings = await offline(f, (ledger) => {
      const disbursed = first(ledger.money, "Disbursed", f.repaid);
      disbursed.args.borrowerPayout = f.outsider.address;
    });
    expect(findings.map((x) => [x.check, x.loanId])).to.deep.equal([["funding", f.repaid]]);
    const amount = await offline(f, (ledger) => {
      const disbursed = first(ledger.money, "Disbursed", f.repaid);
      disbursed.args.amount = String(BigInt(String(disbursed.args.amount)) - 1n);
    });
    expect(amount.map((x) => x.message)).to.deep.include(
      `${6_000n * UNIT - 1n} was disbursed, but the loan's principal is ${6_000n * UNIT}`,
    );
  });

  it("names a claim attributed to an insurer the funding configuration does not name", async function () {
    const f = await loadFixture(proveFixture);
    const findings = await offline(f, (ledger) => {
      first(ledger.money, "ClaimPaid", f.insured).args.insurer = f.outsider.address;
    });
    expect(findings.map((x) => [x.check, x.loanId])).to.deep.equal([["compensation", f.insured]]);
  });

  it("names a recovery whose payments differ from the parts the loss waterfall recorded", async function () {
    const f = await loadFixture(proveFixture);
    const findings = await offline(f, (ledger) => {
      const reimbursed = first(ledger.money, "InsurerReimbursed", f.insured);
      reimbursed.args.amount = String(BigInt(String(reimbursed.args.amount)) - 1n);
    });
    expect(findings.map((x) => [x.check, x.loanId ?? x.balance?.contract])).to.deep.equal([
      ["compensation", f.insured],
      // The wei the forger took from the insurer's reimbursement is then missing from its balance and left over in
      // the waterfall, which holds nothing between calls.
      ["balance", "CreditInsurance"],
      ["balance", "LossWaterfall"],
    ]);
    expect(findings[0].message).to.match(
      /the recovery gives the insurer \d+, but its InsurerReimbursed events pay \d+/,
    );
  });
});
