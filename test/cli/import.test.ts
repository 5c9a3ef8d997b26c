import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { id } from "ethers";
import { deployLocalSuite } from "../../deploy/local.js";
import { main, contextFor, type CliIo } from "../../src/cli/index.js";
import { deployAllianceFixture, loadFixture, time, type AllianceFixture } from "../fixtures.js";
import { DEV_KEYS, envFor, KEY_HEX, run, serveJsonRpc } from "./helpers.js";

const HEADER =
  "platformRef,borrowerRef,documentHash,principal,annualRateBps,schedule,installments,period,gracePeriod,lateFeeBps,defaultThreshold,fundingDeadline";

/** A CSV row of a loan book, each loan with its own borrower; `deadline` is relative, as platforms write it. */
function row(i: number, deadline = "+7d"): string {
  const borrower = id(`borrower ${i}`);
  return `BOOK-${i},${borrower},contract ${i},12000.50,900,equal-principal,12,30d,3d,1500,90d,${deadline}`;
}

async function book(lines: string[], name = "book.csv"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "loanledger-import-"));
  const file = join(dir, name);
  await writeFile(file, [HEADER, ...lines].join("\n") + "\n");
  return file;
}

interface JournalLine {
  ref?: string;
  loanId?: string;
  tx?: string;
  batch?: number;
  sending?: string[];
}
/** The journal's complete lines: one the import is still appending (a test polls while it runs) is not read yet. */
const journalOf = (file: string) => {
  const text = readFileSync(`${file}.journal.jsonl`, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalLine);
};

/** Every platform reference the registry anchored for `f`'s platform A, with how many loans carry it. */
async function anchoredRefs(f: AllianceFixture): Promise<Map<string, number>> {
  const events = await f.loans.queryFilter(f.loans.filters.LoanAnchored(undefined, f.platformA.address));
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.args.terms.platformRef, (counts.get(e.args.terms.platformRef) ?? 0) + 1);
  return counts;
}

describe("loanledger loan import", function () {
  it("--dry-run names every bad row by its line with the registry's preview of each loan, and sends nothing", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const file = await book([
      row(1),
      "BOOK-2,0x12,contract 2,100,900,equal-principal,12,30d,3d,1500,90d,+7d",
      row(3).replace(",12,30d,", ",12,12h,"),
      row(4),
      row(6).replace("BOOK-6", "BOOK-1"),
      row(5),
    ]);
    const result = await run(f, f.platformA, ["loan", "import", file, "--dry-run"]);
    expect(result.code).to.equal(1);
    expect(result.err).to.equal(`error: 3 of 6 rows of ${file} would not be anchored: fix them first`);
    const lines = result.out.split("\n");
    const at = (line: number) => lines.find((l) => l.trimStart().startsWith(`${line} `));
    // Line 3: the schema; line 4: the registry's own check (a period under a day); line 6: a reference given twice.
    expect(at(3)).to.match(/borrowerRef is not in a form it takes, not "0x12" \(the borrower reference itself/);
    expect(at(4)).to.match(/LoanRegistryTermOutOfBounds: Period is 43200, outside \[86400/);
    expect(at(6)).to.include('platformRef "BOOK-1" is on line 2 too');
    expect(at(2)).to.match(/BOOK-1 +0x[0-9a-f]{4}…[0-9a-f]{4} +12,000\.50 \w+ +would be anchored/);
    expect(lines.at(-1)).to.equal(`dry run of ${file}: 3 to anchor, 0 anchored already, 3 bad; nothing was sent`);
    expect(existsSync(`${file}.journal.jsonl`), "a dry run writes no journal").to.equal(false);
    expect((await anchoredRefs(f)).size).to.equal(0);

    const json = await run(f, f.platformA, ["loan", "import", file, "--dry-run", "--json"]);
    const report = JSON.parse(json.out) as { rows: { line: number; action: string; principal?: string }[] };
    expect(report.rows.map((r) => r.action)).to.deep.equal(["anchor", "bad", "refused", "anchor", "bad", "anchor"]);
    expect(report.rows[0].principal).to.equal("12000500000000000000000");
  });

  it("refuses a book with a bad row before sending anything, naming the row", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const file = await book([row(1), row(2).replace("equal-principal", "equal-principle"), row(3)]);
    const result = await run(f, f.platformA, ["loan", "import", file]);
    expect(result.code).to.equal(1);
    expect(result.err).to.equal(
      `error: ${file} line 3: schedule must be one of equal-installment, equal-principal, interest-only, bullet, ` +
        `not "equal-principle"; nothing was sent`,
    );
    expect((await anchoredRefs(f)).size).to.equal(0);
  });

  it("stops at a row the registry refuses, with the rows before it anchored, and resumes once the row is fixed", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const rows = Array.from({ length: 200 }, (_, i) => row(i + 1));
    // A period of half a day passes the schema but not the registry (a day at least): batch two holds it.
    const file = await book(rows.map((r, i) => (i === 179 ? r.replace(",12,30d,", ",12,12h,") : r)));
    const stopped = await run(f, f.platformA, ["loan", "import", file]);
    expect(stopped.code).to.equal(1);
    expect(stopped.err).to.equal(
      `error: ${file} line 181 (BOOK-180) would be refused: LoanRegistryTermOutOfBounds: Period is 43200, outside ` +
        "[86400, 158112000]; the 150 loan(s) before it are anchored and in the journal: fix the row and run the import again",
    );
    expect((await anchoredRefs(f)).size).to.equal(150);
    await writeFile(file, [HEADER, ...rows].join("\n"));
    const resumed = await run(f, f.platformA, ["loan", "import", file, "--json"]);
    expect(resumed.code, resumed.err).to.equal(0);
    expect(JSON.parse(resumed.out)).to.include({ anchored: 50, skipped: 150 });
    expect((await anchoredRefs(f)).size).to.equal(200);
  });

  it("anchors a book, journals reference → loan id → transaction, and a second run is a no-op", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const file = await book(Array.from({ length: 20 }, (_, i) => row(i + 1)));
    const first = await run(f, f.platformA, ["loan", "import", file, "--json"]);
    expect(first.code, first.err).to.equal(0);
    expect(JSON.parse(first.out)).to.include({ rows: 20, anchored: 20, skipped: 0 });
    const loans = journalOf(file).filter((l) => l.loanId);
    expect(loans.map((l) => l.ref)).to.deep.equal(Array.from({ length: 20 }, (_, i) => `BOOK-${i + 1}`));
    for (const loan of loans) {
      const state = await f.loans.loanState(loan.loanId!);
      expect(state.status, loan.ref).to.equal(1n);
      const receipt = await f.loans.runner!.provider!.getTransactionReceipt(loan.tx!);
      expect(receipt!.logs.some((log) => log.topics[1] === loan.loanId)).to.equal(true);
    }

    const again = await run(f, f.platformA, ["loan", "import", file, "--json"]);
    expect(again.code, again.err).to.equal(0);
    expect(JSON.parse(again.out)).to.deep.include({ anchored: 0, skipped: 20, transactions: [] });
    expect([...(await anchoredRefs(f)).values()].every((n) => n === 1)).to.equal(true);
  });

  it("skips a reference already anchored by the platform even when its relative deadline now gives another loan id", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const file = await book([row(1), row(2)]);
    expect((await run(f, f.platformA, ["loan", "import", file])).code).to.equal(0);
    // Without its journal, "+7d" counts from a later block: new terms, new ids; the chain still knows the references.
    await rm(`${file}.journal.jsonl`);
    await time.increase(3_600);
    const grown = await book([row(1), row(2), row(3)]);
    const result = await run(f, f.platformA, ["loan", "import", grown, "--json"]);
    expect(result.code, result.err).to.equal(0);
    expect(JSON.parse(result.out)).to.include({ anchored: 1, skipped: 2 });
    expect(Object.fromEntries(await anchoredRefs(f))).to.deep.equal({
      [id("BOOK-1")]: 1,
      [id("BOOK-2")]: 1,
      [id("BOOK-3")]: 1,
    });
    // The new journal names the loans anchored before it, as the chain has them.
    const found = journalOf(grown).filter((l) => l.loanId && l.batch === undefined);
    expect(found.map((l) => l.ref)).to.deep.equal(["BOOK-1", "BOOK-2"]);
  });

  it("refuses a reference already anchored with other terms, naming the reference and each term that differs", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const file = await book([row(1), row(2)]);
    expect((await run(f, f.platformA, ["loan", "import", file])).code).to.equal(0);
    // The book now says another principal and rate for BOOK-2 than the ledger has.
    const changed = await book([row(1), row(2).replace(",12000.50,900,", ",15000,950,"), row(3)]);
    for (const dryRun of [["--dry-run"], []]) {
      const result = await run(f, f.platformA, ["loan", "import", changed, ...dryRun]);
      expect(result.code).to.equal(1);
      expect(result.err + result.out).to.include(
        'reference "BOOK-2" is anchored already with other terms (principal: book 15,000.00 LLST, ledger 12,000.50 LLST; ' +
          "annualRateBps: book 950, ledger 900)",
      );
    }
    // Nothing was sent: BOOK-3 waits for the book to be put right.
    expect(Object.fromEntries(await anchoredRefs(f))).to.deep.equal({ [id("BOOK-1")]: 1, [id("BOOK-2")]: 1 });
  });

  it("sizes batches to the node's block gas limit by estimate", async function () {
    // A node whose blocks hold 4M gas (set once the suite is deployed): a batch of 150 loans (about 12.7M) cannot fit.
    const small = await network.create();
    const suite = await deployLocalSuite(small.ignition);
    await small.networkHelpers.setBlockGasLimit(4_000_000);
    const [governance, platform] = await small.ethers.getSigners();
    await suite.contracts.alliance.connect(governance).admitMember(platform, 1, id("small-node platform"));
    const file = await book(Array.from({ length: 120 }, (_, i) => row(i + 1)));
    const out: string[] = [];
    const io: CliIo = { out: (l) => out.push(l), err: (l) => out.push(l) };
    const code = await main(["loan", "import", file, "--json"], io, () =>
      contextFor(suite.connect(platform), { allianceKeyHex: KEY_HEX }),
    );
    expect(code, out.join("\n")).to.equal(0);
    const { transactions, anchored } = JSON.parse(out.join("\n")) as { transactions: string[]; anchored: number };
    expect(anchored).to.equal(120);
    let total = 0;
    const gas: bigint[] = [];
    for (const hash of transactions) {
      const receipt = await small.ethers.provider.getTransactionReceipt(hash);
      gas.push(receipt!.gasUsed);
      total += receipt!.logs.length;
    }
    expect(total).to.equal(120);
    // About 85k gas a loan: at most about 45 loans a block, so at least three batches, each filling most of a block.
    expect(transactions.length).to.be.at.least(3);
    for (const used of gas) expect(used).to.be.at.most(4_000_000n);
    expect(gas[0]).to.be.greaterThan(3_000_000n);
  });

  for (const [signal, how] of [
    ["SIGKILL", "the process was killed (a crash)"],
    ["SIGINT", "Ctrl-C (it stops after the batch in flight)"],
    ["SIGTERM", "`kill` (it stops after the batch in flight)"],
    ["orphan", "the process that started it was killed, as npx is (it stops after the batch in flight)"],
  ] as const) {
    it(`resumes after ${how} mid-import, without a duplicate or a gap`, async function () {
      this.timeout(300_000);
      const f = await loadFixture(deployAllianceFixture);
      const count = 1_500;
      const file = await book(Array.from({ length: count }, (_, i) => row(i + 1)));
      const server = await serveJsonRpc();
      try {
        const env = { ...process.env, ...envFor(f, server.url, DEV_KEYS[1]) };
        const command = [join(process.cwd(), "bin/loanledger.mjs"), "loan", "import", file];
        // "orphan": started by a parent process (as npx starts it) that is then killed, leaving the import behind.
        const parentScript =
          `require("node:child_process").spawn(process.execPath, ${JSON.stringify(command)}, { stdio: "inherit" });` +
          "setInterval(() => {}, 1000);";
        const child = spawn(process.execPath, signal === "orphan" ? ["-e", parentScript] : command, {
          env,
          stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        child.stderr.on("data", (d) => (err += String(d)));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
          child.on("close", (code, signal) => done({ code, signal })),
        );
        // Stopped once its journal shows two batches anchored.
        await new Promise<void>((done, fail) => {
          const poll = setInterval(() => {
            try {
              if (!existsSync(`${file}.journal.jsonl`)) return;
              const batches = new Set(journalOf(file).map((l) => (l.loanId ? l.batch : undefined)));
              if (batches.size >= 3) {
                clearInterval(poll);
                child.kill(signal === "orphan" ? "SIGKILL" : signal);
                done();
              }
            } catch (error) {
              // A failure here fails this test, not the whole run from a timer.
              clearInterval(poll);
              fail(error as Error);
            }
          }, 10);
          child.on("exit", () => {
            clearInterval(poll);
            fail(new Error("the import finished before it could be stopped"));
          });
        });
        const { code, signal: killedBy } = await exited;
        if (signal === "SIGKILL") expect(killedBy).to.equal("SIGKILL");
        else {
          // The orphan's own exit code is not this test's to see: its parent was killed. Its stderr says it stopped.
          if (signal !== "orphan") expect(code).to.equal(1);
          expect(err).to.match(/interrupted after \d+ of 1500 loans: run the same command again to resume/);
          // Nothing was left in flight: every batch written to the journal was seen mined.
          const lines = journalOf(file);
          const sentBatches = new Set(lines.filter((l) => l.sending).map((l) => l.batch));
          const minedBatches = new Set(lines.filter((l) => l.loanId).map((l) => l.batch));
          expect([...sentBatches]).to.deep.equal([...minedBatches]);
        }
        const before = journalOf(file).filter((l) => l.loanId).length;
        expect(before).to.be.within(1, count - 1);

        const resumed = await run(f, f.platformA, ["loan", "import", file, "--json"]);
        expect(resumed.code, resumed.err).to.equal(0);
        const summary = JSON.parse(resumed.out) as { anchored: number; skipped: number };
        expect(summary.anchored + summary.skipped).to.equal(count);
        const refs = await anchoredRefs(f);
        expect(refs.size).to.equal(count);
        expect(
          [...refs.values()].every((n) => n === 1),
          "no reference anchored twice",
        ).to.equal(true);
        const journaled = new Set(
          journalOf(file)
            .filter((l) => l.loanId)
            .map((l) => l.ref),
        );
        expect(journaled.size).to.equal(count);
      } finally {
        await server.close();
      }
    });
  }
});
