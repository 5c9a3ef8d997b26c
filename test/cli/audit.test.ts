import { expect } from "chai";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readExport, writeExport } from "../../src/audit/index.js";
import { connection, DAY, deployAllianceFixture, loadFixture, time } from "../fixtures.js";
import { contextFor, main, type CliContext } from "../../src/cli/index.js";
import { anchorWithCli, KEY_HEX, run, runWithEnv } from "./helpers.js";

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
    expect(verified.out).to.include("Heads taken from the export only, for 1 loan(s): NOT proven against a chain");
    const report = JSON.parse(await readFile(join(out, "audit-report.json"), "utf8")) as { loans: string[] };
    expect(report.loans).to.deep.equal([f.loanId]);
    expect(await readFile(join(out, "audit-report.md"), "utf8")).to.include("| platform | loans |");
  });

  it("shows its progress on a terminal's progress line, and none under --json or in CI", async function () {
    const f = await loadFixture(exportedFixture);
    const ci = process.env.CI;
    delete process.env.CI;
    try {
      const run = async (argv: string[]) => {
        const status: string[] = [];
        const io = { out: () => {}, err: () => {}, status: (line: string) => status.push(line) };
        const context = async (): Promise<CliContext> =>
          contextFor(f.suite.connect(f.auditor), { allianceKeyHex: KEY_HEX });
        expect(await main(argv, io, context)).to.equal(0);
        return status;
      };
      const out = await mkdtemp(join(tmpdir(), "loanledger-export-"));
      expect(await run(["audit", "export", "--out", out])).to.satisfy((lines: string[]) =>
        lines.some((l) => / blocks read$/.test(l)),
      );
      expect(await run(["audit", "export", "--out", out, "--json"])).to.deep.equal([]);
      process.env.CI = "true";
      expect(await run(["audit", "export", "--out", out])).to.deep.equal([]);
    } finally {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
  });

  it("verifies the live chain too", async function () {
    const f = await loadFixture(exportedFixture);
    const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const verified = await run(f, f.auditor, ["audit", "verify", "--loan", f.loanId, "--out", out]);
    expect(verified.code, verified.err).to.equal(0);
  });

  it("exits 1 with one line, and lists the altered entry, after an amount in the export was changed", async function () {
    const f = await loadFixture(exportedFixture);
    const copy = await mkdtemp(join(tmpdir(), "loanledger-cli-edited-"));
    await cp(f.dir, copy, { recursive: true });
    const file = join(copy, "loans.jsonl");
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    const i = lines.findIndex((l) => l.includes('"RepaymentRecorded"'));
    const record = JSON.parse(lines[i]) as { fact: { amount: string } };
    record.fact.amount = String(BigInt(record.fact.amount) * 2n);
    lines[i] = JSON.stringify(record);
    await writeFile(file, lines.join("\n") + "\n");
    const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const verified = await run(f, f.auditor, ["audit", "verify", "--from-export", copy, "--out", out]);
    expect(verified.code).to.equal(1);
    expect(verified.err).to.equal("error: the ledger does not verify: 3 finding(s)");
    expect(verified.out)
      .to.include("manifest: file loans.jsonl: loans.jsonl has SHA-256")
      .and.include("history: loan")
      .and.include(`entry ${i + 1}`)
      .and.include("repayment: loan");
  });
});

/** A JSON-RPC endpoint on 127.0.0.1 in front of the embedded network, so `--rpc <url>` can be tested in-process. */
async function rpcEndpoint(): Promise<{ url: string; server: Server }> {
  type Request = { id: unknown; method: string; params?: unknown[] };
  const answer = async ({ id, method, params }: Request) => {
    try {
      return { jsonrpc: "2.0", id, result: await connection.provider.request({ method, params }) };
    } catch (error) {
      return { jsonrpc: "2.0", id, error: { code: -32000, message: (error as Error).message } };
    }
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const parsed = JSON.parse(body) as Request | Request[];
      void (Array.isArray(parsed) ? Promise.all(parsed.map(answer)) : answer(parsed)).then((result) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(result));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("loanledger CLI: audit verify --rpc", function () {
  let endpoint: { url: string; server: Server };
  before(async function () {
    endpoint = await rpcEndpoint();
  });
  after(async function () {
    await new Promise((resolve) => endpoint.server.close(resolve));
  });

  it("proves an export's heads against a node at the export's block", async function () {
    const f = await loadFixture(exportedFixture);
    await run(f, f.platformA, ["loan", "repay", f.loanId]);
    const manifest = JSON.parse(await readFile(join(f.dir, "manifest.json"), "utf8")) as { block: { number: number } };
    const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const verified = await run(f, f.auditor, [
      "audit",
      "verify",
      "--from-export",
      f.dir,
      "--rpc",
      endpoint.url,
      "--out",
      out,
    ]);
    expect(verified.code, verified.err).to.equal(0);
    expect(verified.out).to.include(`Heads proven against the chain at block ${manifest.block.number} (0x`);
    const report = JSON.parse(await readFile(join(out, "audit-report.json"), "utf8")) as {
      heads: { proven: string[] };
    };
    expect(report.heads.proven).to.deep.equal([f.loanId]);
  });

  it("needs nothing but --rpc: without settings it proves the export against the suite the chain's registry belongs to", async function () {
    const f = await loadFixture(exportedFixture);
    const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    // No LOANLEDGER_RPC_URL, no deployment addresses: only the node the auditor names.
    const verified = await runWithEnv({ LOANLEDGER_DEPLOYMENTS: out }, [
      "audit",
      "verify",
      "--from-export",
      f.dir,
      "--rpc",
      endpoint.url,
      "--out",
      out,
    ]);
    expect(verified.code, verified.err).to.equal(0);
    expect(verified.out).to.match(/Heads proven against the chain at block \d+ \(0x/);
    expect(verified.out).to.include("those the chain names from its loan registry");
    // Nothing vouches for that suite: the output says so, beside the verdict.
    expect(verified.out.split("\n")[1]).to.match(/^NOT vouched: the suite is the one the export names/);
    // A mistake in settings that do name a deployment never switches the deployment's check off.
    const typo = await runWithEnv(
      { ...f.suite.settings(), LOANLEDGER_RPC_URL: endpoint.url, LOANLEDGER_PRIVATE_KEY: "0x1234" },
      ["audit", "verify", "--from-export", f.dir, "--rpc", endpoint.url, "--out", out],
    );
    expect(typo.code).to.equal(1);
    expect(typo.err).to.match(/LOANLEDGER_PRIVATE_KEY is not a valid private key/);
  });

  it("exits 1 on a truncated export whose head was rewritten, which --from-export alone cannot tell", async function () {
    const f = await loadFixture(exportedFixture);
    const loansFile = join(f.dir, "loans.jsonl");
    const lines = (await readFile(loansFile, "utf8")).trim().split("\n");
    const kept = lines.slice(0, -1);
    const head = (JSON.parse(kept.at(-1)!) as { head: string }).head;
    const forged = await mkdtemp(join(tmpdir(), "loanledger-forged-"));
    const ledger = await readExport(f.dir);
    await writeExport(forged, {
      ...ledger,
      loans: ledger.loans.slice(0, -1),
      heads: { [f.loanId]: head },
    });
    const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
    const alone = await run(f, f.auditor, ["audit", "verify", "--from-export", forged, "--out", out]);
    expect(alone.code, alone.err).to.equal(0);
    expect(alone.out).to.include("NOT proven");
    const proven = await run(f, f.auditor, [
      "audit",
      "verify",
      "--from-export",
      forged,
      "--rpc",
      endpoint.url,
      "--out",
      out,
    ]);
    expect(proven.code).to.equal(1);
    expect(proven.out)
      .to.include(`history: loan`)
      .and.include(`entry ${kept.length}: the export gives the head ${head}`);
  });

  it("asks for the export to prove", async function () {
    const f = await loadFixture(exportedFixture);
    const result = await run(f, f.auditor, ["audit", "verify", "--rpc", endpoint.url]);
    expect(result.code).to.equal(1);
    expect(result.err).to.equal("error: --rpc proves an export: give the export with --from-export <dir>");
  });
});
