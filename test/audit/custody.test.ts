import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, MaxUint256 } from "ethers";
import { deployCustodySuite } from "../../deploy/local.js";
import { bankReference, CustodyClient, loanIdOf, Role, toAddress, toHash32 } from "../../src/client/index.js";
import {
  collectLedger,
  custodySentences,
  reportMarkdown,
  verifyChain,
  verifyExport,
  verifyLedger,
  writeExport,
  type LedgerExport,
} from "../../src/audit/index.js";
import { DAY, deployAllianceFixture, ethers, ignition, loadFixture, termsFor, time } from "../fixtures.js";

const UNIT = 10n ** 18n;

/**
 * A ledger settling in the custody token: the bank issues to a lender and a borrower, the loan is funded and disbursed
 * to the borrower's registered account, the borrower repays naming its deposit's reference, and the lender withdraws
 * part of its money (one withdrawal redeemed, one pending).
 */
async function custodyLedgerFixture() {
  const [, bank, platform, lender, borrower] = await ethers.getSigners();
  const suite = await deployCustodySuite(ignition);
  const { alliance, loans, splitter } = suite.contracts;
  await alliance.admitMember(bank, Role.CustodyBank, id("custody bank licence"));
  await alliance.admitMember(platform, Role.Platform, id("platform licence"));
  await alliance.connect(platform).allowLender(lender, (await time.latest()) + 365 * DAY);
  const custody = new CustodyClient(await splitter.TOKEN(), bank);
  for (const account of [lender, borrower]) {
    await custody.registerAccount(toAddress(account.address), toHash32(id(`account of ${account.address}`)));
  }
  await custody.issue(toAddress(lender.address), 50_000n * UNIT, "E2E-LENDER");
  await custody.issue(toAddress(borrower.address), 5_000n * UNIT, "E2E-BORROWER");
  const terms = await termsFor(platform, { principal: 10_000n * UNIT, installments: 4 });
  await loans.connect(platform).anchorLoan(terms);
  const config = { borrowerPayout: borrower.address, insurer: ethers.ZeroAddress, platformFeeBps: 0, premiumBps: 0 };
  await splitter.connect(platform).openFunding(terms, { ...config, reserveBps: 0 });
  const token = custody.contract;
  await token.connect(lender).approve(splitter, MaxUint256);
  await token.connect(borrower).approve(splitter, MaxUint256);
  await splitter.connect(lender).fund(terms, terms.principal);
  await time.increase(30 * DAY);
  const [, total] = await splitter.amountDue(terms);
  await splitter.connect(borrower).repayLoan(terms, total, bankReference("E2E-BORROWER"));
  const asLender = new CustodyClient(String(token.target), lender);
  const { id: first } = await asLender.requestWithdrawal(1_000n * UNIT);
  await custody.redeem(first, "E2E-PAYOUT-1");
  await asLender.requestWithdrawal(500n * UNIT);
  return { suite, bank, lender, borrower, terms, loanId: loanIdOf(terms) };
}

async function ledgerOf(f: Awaited<ReturnType<typeof custodyLedgerFixture>>): Promise<LedgerExport> {
  return collectLedger(f.suite.auditSources);
}

describe("audit: custody", function () {
  it("exports the token's issues, redemptions and withdrawals with their references, and its figures", async function () {
    const f = await loadFixture(custodyLedgerFixture);
    const ledger = await ledgerOf(f);
    const custodyEvents = ledger.money.filter((r) => r.contract === "CustodyDepositToken").map((r) => r.event);
    expect(custodyEvents).to.include.members(["Issued", "Redeemed", "WithdrawalRequested", "AccountRegistered"]);
    expect(custodyEvents).to.not.include("Transfer");
    expect(ledger.custody?.supply).to.equal(String(54_000n * UNIT));
    expect(ledger.custody?.escrow).to.equal(String(500n * UNIT));
    expect(ledger.custody?.books[f.bank.address.toLowerCase()]).to.deep.equal({
      issued: String(55_000n * UNIT),
      redeemed: String(1_000n * UNIT),
    });
    const dir = await mkdtemp(join(tmpdir(), "loanledger-custody-export-"));
    await writeExport(dir, ledger);
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
    expect(manifest.custody).to.deep.equal(ledger.custody);
  });

  it("verifies every issue and redemption has its reference and the books add up to the supply", async function () {
    const f = await loadFixture(custodyLedgerFixture);
    const { report } = await verifyChain(f.suite.auditSources);
    expect(report.findings).to.deep.equal([]);
    expect(report.checks).to.have.property("custody");
    expect(report.custody).to.include({ source: "chain", issues: 2, redemptions: 1, referencedRepayments: 1 });
    expect(custodySentences(report)[0]).to.match(/^Custody: supply 54000000000000000000000 .* the books adding up\.$/);
    expect(reportMarkdown(report)).to.include("Custody: supply");
  });

  it("leaves a ledger on a stand-in token without a custody check, whatever references its repayments name", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const [borrower] = (await ethers.getSigners()).slice(9, 10);
    await f.token.mint(f.lender, 20_000n * UNIT);
    await f.token.connect(f.lender).approve(f.splitter, MaxUint256);
    const terms = await termsFor(f.platformA, { principal: 10_000n * UNIT, installments: 2 });
    await f.loans.connect(f.platformA).anchorLoan(terms);
    const config = { borrowerPayout: borrower.address, insurer: ethers.ZeroAddress, platformFeeBps: 0, premiumBps: 0 };
    await f.splitter.connect(f.platformA).openFunding(terms, { ...config, reserveBps: 0 });
    await f.splitter.connect(f.lender).fund(terms, terms.principal);
    await time.increase(30 * DAY);
    const [, total] = await f.splitter.amountDue(terms);
    await f.splitter.connect(f.lender).repayLoan(terms, total, id("a reference no custody token keeps"));
    const { report } = await verifyChain(f.suite.auditSources);
    expect(report.findings).to.deep.equal([]);
    expect(report.checks).to.not.have.property("custody");
    expect(report.custody).to.equal(undefined);
  });

  describe("finds a forged export", function () {
    const forgeries: [string, (ledger: LedgerExport) => void, RegExp][] = [
      [
        "an issue without its reference",
        (l) => {
          const issue = l.money.find((r) => r.event === "Issued")!;
          issue.args.bankRef = "0x" + "0".repeat(64);
        },
        /an issue of .* carries no bank reference/,
      ],
      [
        "a reference used twice",
        (l) => {
          const [a, b] = l.money.filter((r) => r.event === "Issued");
          b.args.bankRef = a.args.bankRef;
        },
        /used reference .* a second time/,
      ],
      [
        "a redemption left out",
        (l) => {
          l.money = l.money.filter((r) => r.event !== "Redeemed");
        },
        /book shows .* redeemed, but its events add up to .* and 0/,
      ],
      [
        "a repayment naming a reference no issue used",
        (l) => {
          const repayment = l.loans.find((r) => r.fact.kind === "RepaymentRecorded")!;
          repayment.fact.bankRef = id("a payment the bank never saw");
        },
        /names bank reference .* which no issue before it used/,
      ],
      [
        "an event the custody token does not have",
        (l) => {
          const issue = l.money.find((r) => r.event === "Issued")!;
          l.money.push({ ...issue, event: "Minted", logIndex: issue.logIndex + 100 });
        },
        /has no event Minted/,
      ],
      [
        "an amount edited into something else",
        (l) => {
          l.money.find((r) => r.event === "Issued")!.args.amount = "1.5";
        },
        /Issued's amount "1\.5" is no amount/,
      ],
      [
        "figures that cannot be read",
        (l) => {
          l.custody!.supply = "lots";
        },
        /the custody figures cannot be read: the supply "lots" is no amount/,
      ],
      [
        "figures of another block",
        (l) => {
          l.custody!.block = 1;
        },
        /the custody figures are of block 1, not the export's block/,
      ],
      [
        "a supply that is not the banks' books",
        (l) => {
          l.custody!.supply = String(BigInt(l.custody!.supply) + 1n);
        },
        /the supply is .* but the banks hold/,
      ],
    ];
    for (const [what, forge, finding] of forgeries) {
      it(what, async function () {
        const f = await loadFixture(custodyLedgerFixture);
        const ledger = await ledgerOf(f);
        forge(ledger);
        const report = await verifyLedger({ ...ledger, headsProvenAt: undefined });
        const custody = report.findings.filter((x) => x.check === "custody").map((x) => x.message);
        expect(custody.join("\n")).to.match(finding);
        expect(report.ok).to.equal(false);
      });
    }

    it("whose figures differ from the chain's, when proven against a node", async function () {
      const f = await loadFixture(custodyLedgerFixture);
      const ledger = await ledgerOf(f);
      const dir = await mkdtemp(join(tmpdir(), "loanledger-custody-proof-"));
      await writeExport(dir, ledger);
      const manifestFile = join(dir, "manifest.json");
      const manifest = JSON.parse(await readFile(manifestFile, "utf8"));
      manifest.custody.escrow = "0";
      await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
      // Unproven, the export's own figures disagree with its events; proven, the chain's agree with them.
      const unproven = await verifyExport(dir);
      expect(unproven.findings.map((x) => x.message).join("\n")).to.match(/holds 0 in escrow/);
      expect(unproven.custody?.source).to.equal("export");
      const proven = await verifyExport(dir, { provider: ethers.provider });
      expect(proven.custody?.source).to.equal("chain");
      const messages = proven.findings.filter((x) => x.check === "custody").map((x) => x.message);
      expect(messages).to.have.length(1);
      expect(messages[0]).to.match(/the export's custody figures are not the chain's at block \d+/);
      // Left out altogether, the figures are missed too.
      delete manifest.custody;
      await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
      const without = await verifyExport(dir, { provider: ethers.provider });
      expect(without.findings.map((x) => x.message)).to.include(
        "the ledger settles in a custody token, but the export records no custody figures",
      );
    });
  });
});
