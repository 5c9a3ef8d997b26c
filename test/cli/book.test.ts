import { expect } from "chai";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id } from "ethers";
import { DAY, deployAllianceFixture, loadFixture, time, type AllianceFixture } from "../fixtures.js";
import { run } from "./helpers.js";

const HEADER =
  "platformRef,borrowerRef,documentHash,principal,annualRateBps,schedule,installments,period,gracePeriod,lateFeeBps,defaultThreshold,fundingDeadline";

/** Imports `count` loans (REF-1 …) as platform A and returns their ids by reference. */
async function importBook(f: AllianceFixture, count: number): Promise<Map<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "loanledger-book-"));
  const file = join(dir, "book.csv");
  const rows = Array.from(
    { length: count },
    (_, i) =>
      `REF-${i + 1},${id(`borrower ${i}`)},contract ${i},1234567.891,900,equal-principal,12,30d,3d,1500,90d,+7d`,
  );
  await writeFile(file, [HEADER, ...rows].join("\n"));
  const imported = await run(f, f.platformA, ["loan", "import", file]);
  if (imported.code !== 0) throw new Error(imported.err);
  const ids = new Map<string, string>();
  for (let i = 1; i <= count; i += 1) {
    const found = await run(f, f.platformA, ["loan", "find", "--ref", `REF-${i}`, "--json"]);
    ids.set(`REF-${i}`, (JSON.parse(found.out) as { loanId: string }[])[0].loanId);
  }
  return ids;
}

describe("loanledger loan find, loan list, keeper overdue", function () {
  describe("loan find", function () {
    it("finds a loan by the platform's own reference, and says when none carries it", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const ids = await importBook(f, 3);
      const found = await run(f, f.platformA, ["loan", "find", "--ref", "REF-2"]);
      expect(found.code, found.err).to.equal(0);
      expect(found.out).to.include(ids.get("REF-2")!).and.include("Funding").and.include("≈1,234,567.89 LLST");
      // An auditor names the platform.
      const audited = await run(f, f.auditor, ["loan", "find", "--ref", "REF-3", "--platform", f.platformA.address]);
      expect(audited.out).to.include(ids.get("REF-3")!);
      const missing = await run(f, f.platformB, ["loan", "find", "--ref", "REF-2"]);
      expect(missing.code).to.equal(1);
      expect(missing.err).to.equal(
        `error: ${f.platformB.address} anchored no loan with the reference "REF-2" (${id("REF-2")})`,
      );
    });

    it("prints the loan id alone for a script with --id-only, and exits 1 with nothing on stdout when there is none", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const ids = await importBook(f, 2);
      expect(await run(f, f.platformA, ["loan", "find", "--ref", "REF-2", "--id-only"])).to.include({
        code: 0,
        out: ids.get("REF-2")!,
      });
      const missing = await run(f, f.platformB, ["loan", "find", "--ref", "REF-2", "--id-only"]);
      expect(missing).to.include({ code: 1, out: "" });
    });
  });

  describe("shortened loan ids", function () {
    it("accepts a unique beginning of a loan id, or the short form tables print, and refuses an ambiguous one", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const ids = [...(await importBook(f, 20)).values()];
      const full = ids[1];
      for (const short of [full.slice(0, 14), `${full.slice(0, 6)}…${full.slice(-4)}`]) {
        const shown = await run(f, f.auditor, ["loan", "show", short]);
        expect(shown.code, shown.err).to.equal(0);
        expect(shown.out).to.include(full);
      }
      // Twenty ids, sixteen possible first digits: some digit begins two of them at least.
      const digit = [..."0123456789abcdef"].find((d) => ids.filter((id) => id[2] === d).length > 1)!;
      const count = ids.filter((id) => id[2] === digit).length;
      expect((await run(f, f.auditor, ["loan", "show", `0x${digit}`])).err).to.equal(
        `error: 0x${digit} matches ${count} loan ids: give more of its digits`,
      );
      const none = `0x${(BigInt(full.slice(0, 14)) ^ 1n).toString(16).padStart(12, "0")}`;
      expect((await run(f, f.auditor, ["loan", "show", none])).err).to.equal(
        `error: no anchored loan id matches ${none}`,
      );
    });

    it("accepts them in a flag that takes a loan id, as audit verify --loan", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const full = [...(await importBook(f, 2)).values()][0];
      const out = await mkdtemp(join(tmpdir(), "loanledger-audit-"));
      for (const short of [full.slice(0, 14), `${full.slice(0, 6)}…${full.slice(-4)}`]) {
        const verified = await run(f, f.auditor, ["audit", "verify", "--loan", short, "--out", out, "--json"]);
        expect(verified.code, verified.err).to.equal(0);
        expect(verified.out).to.include(full);
      }
    });
  });

  describe("loan list", function () {
    it("lists funding and due loans a page at a time, amounts right-aligned with separators and exact in --json", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const ids = await importBook(f, 5);
      for (const ref of ["REF-2", "REF-4"])
        expect((await run(f, f.platformA, ["loan", "activate", ids.get(ref)!])).code).to.equal(0);

      const funding = await run(f, f.platformA, ["loan", "list", "--status", "funding", "--json"]);
      const listed = JSON.parse(funding.out) as { total: number; loans: { loanId: string; principal: string }[] };
      expect(listed.total).to.equal(3);
      expect(listed.loans.map((l) => l.loanId)).to.deep.equal(["REF-1", "REF-3", "REF-5"].map((r) => ids.get(r)));
      expect(listed.loans[0].principal).to.equal("1234567891000000000000000");

      expect(JSON.parse((await run(f, f.platformA, ["loan", "list", "--status", "due", "--json"])).out)).to.include({
        total: 0,
      });
      await time.increase(31 * DAY);
      const page = await run(f, f.platformA, ["loan", "list", "--status", "due", "--limit", "1", "--offset", "1"]);
      expect(page.code, page.err).to.equal(0);
      const lines = page.out.split("\n");
      expect(lines[2]).to.include(ids.get("REF-4")!);
      expect(lines[0]).to.match(/^loan id +outstanding +due date +due now$/);
      // The outstanding column is right-aligned under its header.
      const amount = /≈1,234,567\.89 \w+/.exec(lines[2])!;
      expect(amount.index + amount[0].length).to.equal(lines[0].indexOf("outstanding") + "outstanding".length);
      expect(lines.at(-1)).to.equal(`due loans of ${f.platformA.address}: 2–2 of 2`);
    });

    it("refuses a status it does not know", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const result = await run(f, f.platformA, ["loan", "list", "--status", "overdue"]);
      expect(result.err).to.equal("error: --status must be one of funding, due, late");
    });
  });

  describe("keeper overdue", function () {
    it("marks overdue loans late as their servicer, and anyone defaults them once the public delay has passed", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await f.loans
        .connect(f.governance)
        .setAlliancePolicy({ maxOpenLoans: 0, maxOutstandingPrincipal: 0, publicDefaultDelay: 10 * DAY });
      const ids = await importBook(f, 3);
      for (const ref of ["REF-1", "REF-2"])
        expect((await run(f, f.platformA, ["loan", "activate", ids.get(ref)!])).code).to.equal(0);
      await time.increase(34 * DAY);

      // Past the grace period: the servicer may mark them late, an outsider not before the public delay.
      const early = await run(f, f.outsider, ["keeper", "overdue", "--json"]);
      const earlyReport = JSON.parse(early.out) as {
        overdue: number;
        actions: unknown[];
        notYet: { reason: string }[];
      };
      expect(earlyReport).to.include({ overdue: 2 }).and.have.property("actions").that.is.empty;
      expect(earlyReport.notYet[0].reason).to.match(/^LoanRegistryNotYetPublic/);

      const dry = await run(f, f.platformA, ["keeper", "overdue", "--dry-run"]);
      expect(dry.out).to.include(`would mark late: loan ${ids.get("REF-1")}`);
      expect(
        JSON.parse(
          (await run(f, f.auditor, ["loan", "list", "--status", "late", "--platform", f.platformA.address, "--json"]))
            .out,
        ),
      ).to.include({ total: 0 });

      const marked = await run(f, f.platformA, ["keeper", "overdue"]);
      expect(marked.code, marked.err).to.equal(0);
      expect(marked.out.split("\n").at(-1)).to.equal("2 open loan(s) checked, 2 overdue: 2 marked, 0 not yet");
      const late = JSON.parse(
        (await run(f, f.auditor, ["loan", "list", "--status", "late", "--platform", f.platformA.address, "--json"]))
          .out,
      ) as { total: number };
      expect(late.total).to.equal(2);

      // Past the due date, the default threshold (90 days) and the public delay (10 days): anyone defaults them.
      await time.increase(100 * DAY);
      const defaulted = await run(f, f.outsider, ["keeper", "overdue", "--json"]);
      const report = JSON.parse(defaulted.out) as { actions: { loanId: string; action: string }[] };
      expect(report.actions.map((a) => a.action)).to.deep.equal(["defaulted", "defaulted"]);
      for (const ref of ["REF-1", "REF-2"])
        expect((await run(f, f.auditor, ["loan", "show", ids.get(ref)!])).out).to.include("Defaulted");
      // Nothing is left to do.
      expect((await run(f, f.outsider, ["keeper", "overdue"])).out).to.equal(
        "0 open loan(s) checked, 0 overdue: 0 marked, 0 not yet",
      );
    });
  });
});
