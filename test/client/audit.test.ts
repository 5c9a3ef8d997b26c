import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, MaxUint256, toUtf8Bytes } from "ethers";
import {
  collectLedger,
  formatLoanId,
  loanIdOf,
  readExport,
  toHash32,
  verifyLedger,
  writeExport,
  type AuditSources,
  type LoanRecord,
} from "../../src/client/index.js";
import { DAY, deployAllianceFixture, loadFixture, termsFor, time } from "../fixtures.js";

const UNIT = 10n ** 18n;

/** A small ledger: a loan repaid twice and amended, and a loan funded and repaid through the splitter. */
async function ledgerFixture() {
  const f = await deployAllianceFixture();
  const docs = await mkdtemp(join(tmpdir(), "loanledger-docs-"));
  const document = async (name: string) => {
    await writeFile(join(docs, name), `signed contract ${name}`);
    return toHash32(keccak256(toUtf8Bytes(`signed contract ${name}`)));
  };
  const direct = await termsFor(f.platformA, { documentHash: await document("direct.pdf") });
  const funded = await termsFor(f.platformA, { documentHash: await document("funded.pdf"), principal: 10_000n * UNIT });
  const loans = f.loans.connect(f.platformA);
  await loans.anchorLoans([direct, funded]);
  await loans.activateLoan(direct);
  await f.splitter.connect(f.platformA).openFunding(funded, {
    borrowerPayout: f.outsider.address,
    insurer: "0x0000000000000000000000000000000000000000",
    platformFeeBps: 100,
    premiumBps: 0,
    reserveBps: 50,
  });
  await f.token.mint(f.lender, 10_000n * UNIT);
  await f.token.connect(f.lender).approve(f.splitter, MaxUint256);
  await f.splitter.connect(f.lender).fund(funded, 10_000n * UNIT);
  for (let month = 0; month < 2; month += 1) {
    await time.increase(30 * DAY);
    const due = await loans.nextPayment(direct);
    await loans.recordRepayment(direct, due.principal + due.interest);
    const [, total] = await f.splitter.amountDue(funded);
    await f.token.mint(f.platformB, total);
    await f.token.connect(f.platformB).approve(f.splitter, total);
    await f.splitter.connect(f.platformB).repay(funded, total);
  }
  await loans.amendDocument(direct, await document("direct-amendment.pdf"));
  await f.splitter.payout(loanIdOf(funded), [f.lender.address]);

  const sources: AuditSources = {
    loans: f.clientFor(f.auditor).loans,
    alliance: f.alliance,
    splitter: f.splitter,
    collateral: f.collateral,
    insurance: f.insurance,
    reserve: f.reserve,
    waterfall: f.waterfall,
  };
  const dir = await mkdtemp(join(tmpdir(), "loanledger-export-"));
  await writeExport(dir, await collectLedger(sources));
  return { ...f, docs, dir, direct: formatLoanId(loanIdOf(direct)), funded: formatLoanId(loanIdOf(funded)) };
}

type Fixture = Awaited<ReturnType<typeof ledgerFixture>>;

/** Rewrites loans.jsonl of a copy of the export through `change`, and returns the copy's folder. */
async function tampered(f: Fixture, change: (records: LoanRecord[]) => LoanRecord[]): Promise<string> {
  const ledger = await readExport(f.dir);
  const copy = await mkdtemp(join(tmpdir(), "loanledger-tampered-"));
  await writeExport(copy, { ...ledger, loans: change(ledger.loans) });
  return copy;
}

/** Index in the export of entry `entry` (1-based) of loan `loanId`. */
function indexOf(records: LoanRecord[], loanId: string, entry: number): number {
  let seen = 0;
  return records.findIndex((r) => r.loanId === loanId && ++seen === entry);
}

describe("audit export and verification", function () {
  it("verifies an untouched export: every loan, its documents and its money", async function () {
    const f = await loadFixture(ledgerFixture);
    const report = await verifyLedger(await readExport(f.dir), { docsDir: f.docs });
    expect(report.findings).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.loans).to.have.members([f.direct, f.funded]);
    expect(report.platforms[f.platformA.address]).to.include({ loans: 2, repayments: 4, findings: 0 });
  });

  it("names the loan and entry after a dropped entry", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(f, (records) => records.filter((_, i) => i !== indexOf(records, f.direct, 4)));
    const report = await verifyLedger(await readExport(dir));
    expect(report.ok).to.equal(false);
    expect(report.findings.map((x) => [x.check, x.loanId, x.entry])).to.deep.include(["history", f.direct, 4]);
    expect(report.findings.every((x) => x.loanId === f.direct)).to.equal(true);
  });

  it("names the loan and entry whose amount was altered", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(f, (records) => {
      const i = indexOf(records, f.direct, 4);
      expect(records[i].fact.kind).to.equal("RepaymentRecorded");
      records[i] = {
        ...records[i],
        fact: { ...records[i].fact, amount: String(BigInt(String(records[i].fact.amount)) + 1n) },
      };
      return records;
    });
    const report = await verifyLedger(await readExport(dir));
    const named = report.findings.map((x) => [x.check, x.loanId, x.entry]);
    expect(named).to.deep.include(["history", f.direct, 4]);
    expect(named).to.deep.include(["repayment", f.direct, 4]);
    expect(report.findings.every((x) => x.loanId === f.direct && x.entry === 4)).to.equal(true);
  });

  it("names the entries of a loan that were reordered", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(f, (records) => {
      const [a, b] = [indexOf(records, f.direct, 4), indexOf(records, f.direct, 5)];
      [records[a], records[b]] = [records[b], records[a]];
      return records;
    });
    const report = await verifyLedger(await readExport(dir));
    expect(report.findings.map((x) => [x.check, x.loanId, x.entry])).to.deep.include(["order", f.direct, 5]);
    expect(report.findings.every((x) => x.loanId === f.direct && (x.entry === 4 || x.entry === 5))).to.equal(true);
  });

  it("names the loan and document version whose file was changed", async function () {
    const f = await loadFixture(ledgerFixture);
    await writeFile(join(f.docs, "direct-amendment.pdf"), "signed contract direct-amendment.pdf, with a clause added");
    const report = await verifyLedger(await readExport(f.dir), { docsDir: f.docs });
    expect(report.findings).to.have.length(1);
    expect(report.findings[0]).to.include({ check: "document", loanId: f.direct });
    expect(report.findings[0].message).to.match(/^document version 2 \(0x[0-9a-f]{64}\) matches no file/);
    expect(await readFile(join(f.docs, "funded.pdf"), "utf8")).to.equal("signed contract funded.pdf");
  });

  it("notices entries missing at the end, which no entry's head can show", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(f, (records) =>
      records.filter((_, i) => i !== records.findLastIndex((r) => r.loanId === f.direct)),
    );
    const report = await verifyLedger(await readExport(dir));
    expect(report.findings.map((x) => [x.check, x.loanId])).to.deep.equal([["history", f.direct]]);
    expect(report.findings[0].message).to.match(/is not the on-chain head/);
  });

  it("checks only the loan asked for", async function () {
    const f = await loadFixture(ledgerFixture);
    const report = await verifyLedger(await readExport(f.dir), { loanId: f.funded });
    expect(report.loans).to.deep.equal([f.funded]);
  });
});
