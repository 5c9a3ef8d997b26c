import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DAY, deployAllianceFixture, loadFixture, time } from "../fixtures.js";
import { anchorWithCli, run } from "./helpers.js";

/** A loan anchored, activated and repaid twice through the CLI, and the chain exported by the auditor. */
async function exportedFixture() {
  const f = await deployAllianceFixture();
  const loanId = await anchorWithCli(f, "A-1");
  await run(f, f.platformA, ["loan", "activate", loanId]);
  for (let month = 0; month < 2; month += 1) {
    await time.increase(30 * DAY);
    const due = await f.loans.nextPayment(await f.clientFor(f.platformA).loans.terms(BigInt(loanId) as never));
    await run(f, f.platformA, ["loan", "repay", loanId, String((due.principal + due.interest) / 10n ** 18n + 1n)]);
  }
  const dir = await mkdtemp(join(tmpdir(), "loanledger-cli-export-"));
  const exported = await run(f, f.auditor, ["audit", "export", "--out", dir]);
  expect(exported.code, exported.err).to.equal(0);
  return { ...f, loanId, dir };
}

describe("loanledger CLI: audit", function () {
  it("exports the chain and verifies the export without a chain connection, writing both reports", async function () {
    const f = await loadFixture(exportedFixture);
    const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const verified = await run(f, f.auditor, ["audit", "verify", "--from-export", f.dir, "--out", out]);
    expect(verified.code, verified.err).to.equal(0);
    expect(verified.out).to.match(/^verified 1 loan\(s\), 4 history entries, 0 finding\(s\)/);
    const report = JSON.parse(await readFile(join(out, "audit-report.json"), "utf8")) as { loans: string[] };
    expect(report.loans).to.deep.equal([f.loanId]);
    expect(await readFile(join(out, "audit-report.md"), "utf8")).to.include("| platform | loans |");
  });

  it("verifies the live chain too", async function () {
    const f = await loadFixture(exportedFixture);
    const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const verified = await run(f, f.auditor, ["audit", "verify", "--loan", f.loanId, "--out", out]);
    expect(verified.code, verified.err).to.equal(0);
  });

  it("exits 1 with one line, and lists the altered entry, after an amount in the export was changed", async function () {
    const f = await loadFixture(exportedFixture);
    const file = join(f.dir, "loans.jsonl");
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    const i = lines.findIndex((l) => l.includes('"RepaymentRecorded"'));
    const record = JSON.parse(lines[i]) as { fact: { amount: string } };
    record.fact.amount = String(BigInt(record.fact.amount) * 2n);
    lines[i] = JSON.stringify(record);
    await writeFile(file, lines.join("\n") + "\n");
    const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const verified = await run(f, f.auditor, ["audit", "verify", "--from-export", f.dir, "--out", out]);
    expect(verified.code).to.equal(1);
    expect(verified.err).to.equal("error: the ledger does not verify: 2 finding(s)");
    expect(verified.out)
      .to.include("history: loan")
      .and.include(`entry ${i + 1}`)
      .and.include("repayment: loan");
  });
});
