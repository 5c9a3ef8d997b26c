import { expect } from "chai";
import { createHash } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, MaxUint256, toUtf8Bytes, type Provider, ZeroHash } from "ethers";
import {
  formatLoanId,
  loanIdOf,
  LoanRegistryClient,
  toHash32,
  toLoanId,
  type AuditSources,
  type LoanRecord,
} from "../../src/client/index.js";
import {
  collectLedger,
  exportLedger,
  verifyChain,
  verifyExport,
  proveExport,
  readExport,
  verifyLedger,
  writeExport,
  type LedgerExport,
  type Manifest,
} from "../../src/audit/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, termsFor, time } from "../fixtures.js";

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
    await loans.recordPayment(direct, due.principal + due.interest, ZeroHash);
    const [, total] = await f.splitter.amountDue(funded);
    await f.token.mint(f.platformB, total);
    await f.token.connect(f.platformB).approve(f.splitter, total);
    await f.splitter.connect(f.platformB).repayLoan(funded, total, ZeroHash);
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
  return {
    ...f,
    sources,
    document,
    docs,
    dir,
    directTerms: direct,
    direct: formatLoanId(loanIdOf(direct)),
    funded: formatLoanId(loanIdOf(funded)),
  };
}

type Fixture = Awaited<ReturnType<typeof ledgerFixture>>;

/**
 * Rewrites loans.jsonl of a copy of the export through `change` (and the rest through `more`), as a forger would: with a
 * fresh manifest whose digests match. Returns the copy's folder.
 */
async function tampered(
  f: Fixture,
  change: (records: LoanRecord[]) => LoanRecord[],
  more: (ledger: LedgerExport) => LedgerExport = (ledger) => ledger,
): Promise<string> {
  const ledger = await readExport(f.dir);
  const copy = await mkdtemp(join(tmpdir(), "loanledger-tampered-"));
  await writeExport(copy, more({ ...ledger, loans: change(ledger.loans) }));
  return copy;
}

const findingsOf = (report: Awaited<ReturnType<typeof verifyLedger>>) =>
  report.findings.map((x) => [x.check, x.loanId, x.entry]);

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

  it("names a repayment whose amount and platform fee were raised by the same wei: fees follow the committed rates", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(
      f,
      (records) => records,
      (ledger) => {
        const money = ledger.money.map((r) => ({ ...r, args: { ...r.args } }));
        const i = money.findIndex((r) => r.event === "RepaymentSplit");
        const split = { ...(money[i].args.split as Record<string, string>) };
        split.platformFee = String(BigInt(split.platformFee) + 1n);
        money[i].args = { ...money[i].args, amount: String(BigInt(String(money[i].args.amount)) + 1n), split };
        return { ...ledger, money };
      },
    );
    const report = await verifyLedger(await readExport(dir));
    expect(report.findings.map((x) => [x.check, x.loanId])).to.deep.include(["split", f.funded]);
    expect(
      report.findings.some((x) => /platformFee of \d+ is not the \d+ the committed rate charges/.test(x.message)),
    ).to.equal(true);
  });

  it("names a funding configuration changed in the export: the splitter's fact in the history no longer matches", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(
      f,
      (records) => records,
      (ledger) => {
        const money = ledger.money.map((r) =>
          r.event === "FundingOpened"
            ? {
                ...r,
                args: { ...r.args, config: { ...(r.args.config as Record<string, string>), platformFeeBps: "1" } },
              }
            : r,
        );
        return { ...ledger, money };
      },
    );
    const report = await verifyLedger(await readExport(dir));
    const facts = report.findings.filter((x) => x.check === "fact");
    // The history's fact matches no event any more, and the changed event has no fact of its own.
    expect(facts.map((x) => x.loanId)).to.deep.equal([f.funded, f.funded]);
    expect(facts[0].message).to.match(/^entry \d+: .* is the hash of none of its events in that transaction/);
    expect(facts[1].message).to.equal("FundingOpened has no fact in the loan's history in its transaction");
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
    expect(report.findings[0].message).to.match(/is not the head the export states/);
  });

  it("checks only the loan asked for", async function () {
    const f = await loadFixture(ledgerFixture);
    const report = await verifyLedger(await readExport(f.dir), { loanId: f.funded });
    expect(report.loans).to.deep.equal([f.funded]);
  });
});

describe("audit: terms are checked against the loan id", function () {
  it("names the loan and its Anchored entry when the principal was doubled in the export", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(f, (records) => {
      const i = indexOf(records, f.direct, 1);
      const terms = records[i].terms!;
      records[i] = { ...records[i], terms: { ...terms, principal: String(BigInt(String(terms.principal)) * 2n) } };
      return records;
    });
    const report = await verifyLedger(await readExport(dir));
    expect(findingsOf(report)).to.deep.equal([["terms", f.direct, 1]]);
    expect(report.findings[0].message).to.match(/terms hash to loan id 0x[0-9a-f]{64}, not 0x/);
  });

  it("names it when the contract document was swapped together with its hash", async function () {
    const f = await loadFixture(ledgerFixture);
    const docs = await mkdtemp(join(tmpdir(), "loanledger-forged-docs-"));
    for (const name of ["direct.pdf", "funded.pdf", "direct-amendment.pdf"]) {
      await writeFile(join(docs, name), `signed contract ${name}`);
    }
    await writeFile(join(docs, "forged.pdf"), "a contract the borrower never signed");
    const forged = keccak256(toUtf8Bytes("a contract the borrower never signed"));
    const dir = await tampered(f, (records) => {
      const i = indexOf(records, f.direct, 1);
      records[i] = { ...records[i], terms: { ...records[i].terms!, documentHash: forged } };
      return records;
    });
    const report = await verifyLedger(await readExport(dir), { docsDir: docs });
    expect(findingsOf(report)).to.deep.equal([["terms", f.direct, 1]]);
  });

  it("names a loan whose Anchored entry lost its terms", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(f, (records) => {
      const i = indexOf(records, f.funded, 1);
      records[i] = { ...records[i], terms: undefined };
      return records;
    });
    const report = await verifyLedger(await readExport(dir));
    expect(findingsOf(report)).to.deep.equal([["terms", f.funded, 1]]);
  });
});

/**
 * The embedded node, busy: before it answers the first contract call (and the first log query) of a reader, another
 * repayment is recorded, as happens when an export is taken while platforms keep working.
 */
function busyProvider(f: Fixture) {
  const node = ethers.provider;
  let repayments = 0;
  const repay = async () => {
    const loans = f.loans.connect(f.platformA);
    const due = await loans.nextPayment(f.directTerms);
    await (await loans.recordPayment(f.directTerms, due.principal + due.interest, ZeroHash)).wait();
    repayments += 1;
  };
  const busy = new Set<string>(["call", "getLogs"]);
  const proxy: Provider = new Proxy(node, {
    get(target, key, receiver) {
      if (key === "provider") return proxy;
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== "function") return value;
      const method = (value as (...a: unknown[]) => Promise<unknown>).bind(target);
      if (typeof key === "string" && busy.has(key)) {
        return async (...args: unknown[]) => {
          if (busy.delete(key)) await repay();
          return method(...args);
        };
      }
      return method;
    },
  }) as unknown as Provider;
  return { provider: proxy, repayments: () => repayments };
}

describe("audit: an export reads everything at one block", function () {
  it("verifies an export taken while repayments are being recorded, and says at which block it was read", async function () {
    const f = await loadFixture(ledgerFixture);
    await time.increase(30 * DAY);
    const busy = busyProvider(f);
    const entriesBefore = (await readExport(f.dir)).loans.length;
    const ledger = await collectLedger({
      ...f.sources,
      loans: new LoanRegistryClient(String(f.loans.target), busy.provider),
    });
    expect(busy.repayments()).to.equal(2);
    expect(ledger.loans).to.have.length(entriesBefore);
    expect(ledger.block!.hash).to.equal((await ethers.provider.getBlock(ledger.block!.number))!.hash);
    expect(ledger.block!.number).to.be.lessThan(await ethers.provider.getBlockNumber());
    const report = await verifyLedger(ledger);
    expect(report.findings).to.deep.equal([]);
    expect(report.heads.provenAt).to.deep.equal(ledger.block);
    expect(report.heads.proven).to.have.members([f.direct, f.funded]);
  });
});

describe("audit: which heads were proven", function () {
  /** The forgery: the direct loan's last entry dropped, and its head in heads.json rewritten to match. */
  async function truncatedWithRewrittenHead(f: Fixture): Promise<string> {
    let lastKept = "";
    return tampered(
      f,
      (records) => {
        const last = records.findLastIndex((r) => r.loanId === f.direct);
        const kept = records.filter((_, i) => i !== last);
        lastKept = kept.findLast((r) => r.loanId === f.direct)!.head;
        return kept;
      },
      (ledger) => ({ ...ledger, heads: { ...ledger.heads, [f.direct]: lastKept } }),
    );
  }

  it("says that heads taken from an export alone are not proven", async function () {
    const f = await loadFixture(ledgerFixture);
    const report = await verifyLedger(await readExport(f.dir));
    expect(report.ok).to.equal(true);
    expect(report.heads).to.deep.include({ source: "export", provenAt: null, proven: [] });
    expect(report.heads.exportOnly).to.have.members([f.direct, f.funded]);
  });

  it("passes a truncated export with a rewritten head only as unproven, and names the loan once proven", async function () {
    const f = await loadFixture(ledgerFixture);
    const ledger = await readExport(await truncatedWithRewrittenHead(f));
    const unproven = await verifyLedger(ledger);
    expect(unproven.ok).to.equal(true);
    expect(unproven.heads.source).to.equal("export");

    const proven = await verifyLedger(ledger, { proof: await proveExport(ledger, ethers.provider) });
    expect(proven.ok).to.equal(false);
    const entries = ledger.loans.filter((r) => r.loanId === f.direct).length;
    expect(findingsOf(proven)).to.deep.include(["history", f.direct, entries]);
    expect(proven.findings.every((x) => x.loanId === f.direct)).to.equal(true);
    expect(proven.findings.map((x) => x.message).join("\n")).to.match(
      new RegExp(`the chain's head at block ${ledger.block!.number} is 0x`),
    );
  });

  it("proves an honest export later, at the export's block, after the chain has moved on", async function () {
    const f = await loadFixture(ledgerFixture);
    await time.increase(30 * DAY);
    const due = await f.loans.nextPayment(f.directTerms);
    await f.loans.connect(f.platformA).recordPayment(f.directTerms, due.principal + due.interest, ZeroHash);
    const ledger = await readExport(f.dir);
    const report = await verifyLedger(ledger, { proof: await proveExport(ledger, ethers.provider) });
    expect(report.findings).to.deep.equal([]);
    expect(report.heads.provenAt).to.deep.equal({
      number: ledger.block!.number,
      hash: ledger.block!.hash,
      timestamp: ledger.block!.timestamp,
    });
    expect(report.heads.proven).to.have.members([f.direct, f.funded]);
    expect(report.heads.registry).to.equal(String(f.loans.target));
  });

  it("proves heads from the history events on a node that keeps no state that old", async function () {
    const f = await loadFixture(ledgerFixture);
    const node = ethers.provider;
    const pruned: Provider = new Proxy(node, {
      get(target, key, receiver) {
        if (key === "provider") return pruned;
        if (key === "call") return async () => Promise.reject(new Error("World state not available for block"));
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as unknown as Provider;
    const honest = await readExport(f.dir);
    const proven = await verifyLedger(honest, { proof: await proveExport(honest, pruned) });
    expect(proven.findings).to.deep.equal([]);
    expect(proven.heads).to.deep.include({ source: "chain", method: "events" });
    expect(proven.heads.proven).to.have.members([f.direct, f.funded]);

    const forged = await readExport(await truncatedWithRewrittenHead(f));
    const caught = await verifyLedger(forged, { proof: await proveExport(forged, pruned) });
    expect(findingsOf(caught)).to.deep.include([
      "history",
      f.direct,
      forged.loans.filter((r) => r.loanId === f.direct).length,
    ]);
  });

  it("names a loan the export leaves out altogether", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(
      f,
      (records) => records.filter((r) => r.loanId !== f.funded),
      (ledger) => ({
        ...ledger,
        heads: Object.fromEntries(Object.entries(ledger.heads).filter(([id]) => id !== f.funded)),
        money: ledger.money.filter(
          (r) => r.args.loanId === undefined || formatLoanId(toLoanId(String(r.args.loanId))) !== f.funded,
        ),
      }),
    );
    const ledger = await readExport(dir);
    // Without a node, the loan's money missing from the export still shows: the splitter holds more than the rest of
    // the history accounts for.
    const unproven = await verifyLedger(ledger);
    expect(findingsOf(unproven)).to.deep.equal([["balance", undefined, undefined]]);
    expect(unproven.findings[0].balance?.contract).to.equal("RepaymentSplitter");
    const report = await verifyLedger(ledger, { proof: await proveExport(ledger, ethers.provider) });
    expect(findingsOf(report)).to.deep.equal([
      ["history", f.funded, undefined],
      ["balance", undefined, undefined],
    ]);
    expect(report.findings[0].message).to.match(/anchored on chain by block \d+, but the export leaves it out/);
  });

  it("refuses a proof when the export's block is not the node's block", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(
      f,
      (records) => records,
      (ledger) => ({ ...ledger, block: { ...ledger.block!, hash: toHash32("0x" + "ab".repeat(32)) } }),
    );
    const ledger = await readExport(dir);
    const report = await verifyLedger(ledger, { proof: await proveExport(ledger, ethers.provider) });
    expect(report.findings.map((x) => x.check)).to.deep.equal(["manifest"]);
    expect(report.findings[0].message).to.match(/the export says block \d+ is 0xabab.*but the node's block/);
    expect(report.heads).to.deep.include({ source: "export", provenAt: null });
  });
});

describe("audit: the export's manifest", function () {
  it("names the chain, the block, the contracts, the tool, and the SHA-256 digest of every file", async function () {
    const f = await loadFixture(ledgerFixture);
    const manifest = JSON.parse(await readFile(join(f.dir, "manifest.json"), "utf8")) as Manifest;
    const block = await ethers.provider.getBlock(manifest.block!.number);
    expect(manifest.chainId).to.equal(String((await ethers.provider.getNetwork()).chainId));
    expect(manifest.block).to.deep.equal({ number: block!.number, hash: block!.hash, timestamp: block!.timestamp });
    expect(manifest.contracts).to.include({
      LoanRegistry: String(f.loans.target),
      RepaymentSplitter: String(f.splitter.target),
      AllianceRegistry: String(f.alliance.target),
    });
    const pkg = JSON.parse(await readFile("package.json", "utf8")) as { version: string };
    expect(manifest.tool).to.deep.equal({ name: "loanledger", version: pkg.version });
    expect(Object.keys(manifest.files)).to.have.members([
      "loans.jsonl",
      "money.jsonl",
      "assets.jsonl",
      "members.jsonl",
      "heads.json",
    ]);
    for (const [file, stated] of Object.entries(manifest.files)) {
      const bytes = await readFile(join(f.dir, file));
      expect(stated.sha256, file).to.equal(createHash("sha256").update(bytes).digest("hex"));
      expect(stated.bytes, file).to.equal(bytes.length);
    }
    // The report names the manifest's own digest, which pins every file: what an auditor's attestation refers to.
    const report = await verifyExport(f.dir);
    expect(report.exportManifestSha256).to.equal(
      createHash("sha256")
        .update(await readFile(join(f.dir, "manifest.json")))
        .digest("hex"),
    );
  });

  it("names a file changed after the export was written", async function () {
    const f = await loadFixture(ledgerFixture);
    const copy = await mkdtemp(join(tmpdir(), "loanledger-edited-"));
    await cp(f.dir, copy, { recursive: true });
    const money = join(copy, "money.jsonl");
    await writeFile(money, (await readFile(money, "utf8")).replace(/"amount":"(\d)/, '"amount":"9$1'));
    const report = await verifyLedger(await readExport(copy));
    expect(report.findings.filter((x) => x.check === "manifest").map((x) => x.file)).to.deep.equal(["money.jsonl"]);
    expect(report.findings[0].message).to.match(
      /^money.jsonl has SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64} its manifest states/,
    );
  });

  it("says when an export has no manifest", async function () {
    const f = await loadFixture(ledgerFixture);
    const copy = await mkdtemp(join(tmpdir(), "loanledger-no-manifest-"));
    await cp(f.dir, copy, { recursive: true });
    await rm(join(copy, "manifest.json"));
    const report = await verifyLedger(await readExport(copy));
    expect(report.findings.map((x) => [x.check, x.file])).to.deep.equal([["manifest", "manifest.json"]]);
  });
});

describe("audit: streaming verification", function () {
  it("reports from the files streamed exactly what it reports from the export held in memory", async function () {
    const f = await loadFixture(ledgerFixture);
    const altered = await tampered(f, (records) => {
      const i = indexOf(records, f.direct, 4);
      records[i] = { ...records[i], fact: { ...records[i].fact, amount: "1" } };
      return records;
    });
    for (const dir of [f.dir, altered]) {
      const now = new Date(0);
      const streamed = await verifyExport(dir, { docsDir: f.docs });
      const held = await verifyLedger(await readExport(dir), { docsDir: f.docs });
      expect({ ...streamed, verifiedAt: now }).to.deep.equal({ ...held, verifiedAt: now });
    }
  });

  it("verifies the chain as it reads it, with the heads proven at the block read", async function () {
    const f = await loadFixture(ledgerFixture);
    const { report, header } = await verifyChain(f.sources);
    expect(report.findings).to.deep.equal([]);
    expect(report.loans).to.have.members([f.direct, f.funded]);
    expect(report.heads.provenAt).to.deep.equal(header.block);
  });

  it("writes the same export streamed from the chain as from the ledger read into memory", async function () {
    const f = await loadFixture(ledgerFixture);
    const streamed = await mkdtemp(join(tmpdir(), "loanledger-streamed-"));
    const { manifest } = await exportLedger(f.sources, streamed);
    const held = JSON.parse(await readFile(join(f.dir, "manifest.json"), "utf8")) as Manifest;
    expect(manifest).to.deep.equal(held);
  });

  it("names an entry whose fact it cannot decode, rather than taking it for another kind", async function () {
    const f = await loadFixture(ledgerFixture);
    const dir = await tampered(f, (records) => {
      const [i, j] = [indexOf(records, f.direct, 2), indexOf(records, f.direct, 3)];
      records[i] = { ...records[i], fact: { ...records[i].fact, kind: "Forgiven" } };
      records[j] = { ...records[j], fact: { ...records[j].fact, at: "-1" } };
      return records;
    });
    const report = await verifyExport(dir);
    expect(findingsOf(report)).to.deep.equal([
      ["history", f.direct, 2],
      ["history", f.direct, 3],
    ]);
    expect(report.findings[0].message).to.match(/kind "Forgiven" that the verifier cannot decode/);
    expect(report.findings[1].message).to.match(/-1 does not fit a uint40/);
  });
});
