import { expect } from "chai";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id } from "ethers";
import { Role, toAddress } from "../../src/client/index.js";
import { checkOnChain, type Attestation, type OnChainAttestation } from "../../src/audit/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, time } from "../fixtures.js";
import { anchorWithCli, envFor, run, runWithEnv, serveJsonRpc } from "./helpers.js";

/** A loan anchored and repaid through the CLI, the chain exported, and the export verified into a report folder. */
async function reportFixture() {
  const f = await deployAllianceFixture();
  const loanId = await anchorWithCli(f, "A-1");
  await run(f, f.platformA, ["loan", "activate", loanId]);
  await time.increase(30 * DAY);
  const due = await f.loans.nextPayment(await f.clientFor(f.platformA).loans.terms(BigInt(loanId) as never));
  await run(f, f.platformA, ["loan", "repay", loanId, String((due.principal + due.interest) / 10n ** 18n + 1n)]);
  const dir = await mkdtemp(join(tmpdir(), "loanledger-cli-export-"));
  expect((await run(f, f.auditor, ["audit", "export", "--out", dir])).code).to.equal(0);
  const out = await mkdtemp(join(tmpdir(), "loanledger-report-"));
  const verified = await run(f, f.auditor, ["audit", "verify", "--from-export", dir, "--out", out]);
  expect(verified.code, verified.err).to.equal(0);
  return { ...f, loanId, dir, out, report: join(out, "audit-report.json") };
}

describe("loanledger CLI: the audit report a person reads, and the auditor's attestation", function () {
  it("writes a self-contained HTML report with the verdict, the scope, the checks and every loan", async function () {
    const f = await loadFixture(reportFixture);
    const html = await readFile(join(f.out, "audit-report.html"), "utf8");
    expect(html).to.match(/^<!doctype html>/);
    expect(html).to.include("Every history is consistent with the export&#39;s heads.");
    expect(html).to.include(f.loanId);
    expect(html).to.include("<th>what it establishes</th>");
    // Self-contained: no script, no outside stylesheet, image or font.
    expect(html).to.not.match(/<script|<link|src=|url\(/i);
  });

  it("escapes what an export says, so a forged value cannot inject markup into the page", async function () {
    const { reportHtml } = await import("../../src/audit/index.js");
    const f = await loadFixture(reportFixture);
    const report = JSON.parse(await readFile(f.report, "utf8")) as Parameters<typeof reportHtml>[0];
    report.findings.push({ check: "history", loanId: "<script>alert(1)</script>", message: "<img src=x>" });
    const html = reportHtml({ ...report, ok: false });
    expect(html).to.include("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).to.not.include("<img src=x>");
  });

  it("lets an auditor attest the report, and anyone check the attestation against the report and the export", async function () {
    const f = await loadFixture(reportFixture);
    const attested = await run(f, f.auditor, ["audit", "attest", f.report]);
    expect(attested.code, attested.err).to.equal(0);
    const file = join(f.out, "audit-attestation.json");
    const attestation = JSON.parse(await readFile(file, "utf8")) as Attestation;
    expect(attestation).to.include({ auditor: f.auditor.address, ok: true, findings: 0 });
    const manifest = await readFile(join(f.dir, "manifest.json"));
    const { createHash } = await import("node:crypto");
    expect(attestation.exportManifestSha256).to.equal(createHash("sha256").update(manifest).digest("hex"));

    const checked = await run(f, f.outsider, ["audit", "check-attestation", file, f.report, "--from-export", f.dir]);
    expect(checked.code, checked.err).to.equal(0);
    expect(checked.out).to.match(new RegExp(`^attestation holds: ${f.auditor.address} signed report sha256`));
  });

  it("refuses an attestation by an account that is no auditor member", async function () {
    const f = await loadFixture(reportFixture);
    const refused = await run(f, f.platformA, ["audit", "attest", f.report]);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.match(/is not an active auditor member of the alliance: it cannot attest a report/);
  });

  it("says an attestation needs the auditor's key when none is set, rather than blaming the zero address", async function () {
    const f = await loadFixture(reportFixture);
    const rpc = await serveJsonRpc();
    try {
      const env = { ...envFor(f, rpc.url, ""), LOANLEDGER_PRIVATE_KEY: "" };
      const refused = await runWithEnv(env, ["audit", "attest", f.report]);
      expect(refused.code).to.equal(1);
      expect(refused.err).to.equal(
        "error: audit attest signs the report with the auditor's own key, and no signing key is set: set " +
          "LOANLEDGER_PRIVATE_KEY, or a key profile LOANLEDGER_PRIVATE_KEY_<NAME> and --from <name>",
      );
    } finally {
      await rpc.close();
    }
  });

  it("says the attestation comes first when the two files of a check are swapped", async function () {
    const f = await loadFixture(reportFixture);
    expect((await run(f, f.auditor, ["audit", "attest", f.report])).code).to.equal(0);
    const file = join(f.out, "audit-attestation.json");
    const swapped = await run(f, f.outsider, ["audit", "check-attestation", f.report, file]);
    expect(swapped.code).to.equal(1);
    expect(swapped.err).to.equal(
      `error: ${f.report} is an audit report, not an attestation: the attestation comes first ` +
        `(check-attestation <audit-attestation.json> <audit-report.json>); was it given as ${file}?`,
    );
    const other = await run(f, f.outsider, ["audit", "check-attestation", join(f.dir, "manifest.json"), f.report]);
    expect(other.err).to.match(/is not an attestation: it has no auditor, reportSha256 and signature/);
  });

  it("fails the check of an attestation whose report, export or signer was changed", async function () {
    const f = await loadFixture(reportFixture);
    expect((await run(f, f.auditor, ["audit", "attest", f.report])).code).to.equal(0);
    const file = join(f.out, "audit-attestation.json");
    const attestation = JSON.parse(await readFile(file, "utf8")) as Attestation;

    // The report edited after it was attested (a finding removed, say): its digest no longer matches.
    const edited = join(await mkdtemp(join(tmpdir(), "loanledger-edited-")), "audit-report.json");
    await writeFile(edited, (await readFile(f.report, "utf8")).replace('"entries": ', '"entries": 1'));
    const report = await run(f, f.outsider, ["audit", "check-attestation", file, edited]);
    expect(report.code).to.equal(1);
    expect(report.out).to.match(/the report has SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64} attested/);

    // Another export than the one the report verified.
    const other = await mkdtemp(join(tmpdir(), "loanledger-other-"));
    await cp(f.dir, other, { recursive: true });
    await writeFile(join(other, "manifest.json"), (await readFile(join(other, "manifest.json"), "utf8")) + " ");
    const exported = await run(f, f.outsider, ["audit", "check-attestation", file, f.report, "--from-export", other]);
    expect(exported.code).to.equal(1);
    expect(exported.out).to.match(/the export's manifest.json has SHA-256 [0-9a-f]{64}, but the report verified/);

    // The attestation claiming another auditor than the key that signed it.
    const claimed = join(f.out, "claimed.json");
    await writeFile(claimed, JSON.stringify({ ...attestation, auditor: f.platformB.address }));
    const signer = await run(f, f.outsider, ["audit", "check-attestation", claimed, f.report]);
    expect(signer.code).to.equal(1);
    expect(signer.out).to.include(`signed by ${f.auditor.address}, not by the auditor ${f.platformB.address}`);
  });

  it("puts the attestation on chain by hash, and the check says by whom and at which block", async function () {
    const f = await loadFixture(reportFixture);
    const attested = await run(f, f.auditor, ["audit", "attest", f.report, "--on-chain", "--json"]);
    expect(attested.code, attested.err).to.equal(0);
    const printed = JSON.parse(attested.out) as Attestation & { onChain: OnChainAttestation };
    expect(printed.onChain).to.include({
      auditor: f.auditor.address,
      reportSha256: printed.reportSha256,
      exportManifestSha256: printed.exportManifestSha256,
      exportBlock: printed.block!.number,
    });
    const recorded = await f.disclosures.auditAttestationOf("0x" + printed.reportSha256, f.auditor);
    expect(recorded.attestedBlock).to.equal(BigInt(printed.onChain.blockNumber));

    const file = join(f.out, "audit-attestation.json");
    const args = ["audit", "check-attestation", file, f.report, "--from-export", f.dir, "--on-chain"];
    const checked = await run(f, f.outsider, args);
    expect(checked.code, checked.err).to.equal(0);
    expect(checked.out).to.include(
      `attested on chain by ${f.auditor.address} at block ${printed.onChain.blockNumber}, an active auditor member then`,
    );

    // Once is enough: a second attestation of the same report by the same auditor is refused, with the reason.
    const again = await run(f, f.auditor, ["audit", "attest", f.report, "--on-chain"]);
    expect(again.code).to.equal(1);
    expect(again.err).to.match(
      /DisclosureRegistryAuditAlreadyAttested: .* already attested the audit report .* at block \d+/,
    );
  });

  it("fails the on-chain check of an attestation that was only signed, naming who did attest the report on chain", async function () {
    const f = await loadFixture(reportFixture);
    expect((await run(f, f.auditor, ["audit", "attest", f.report])).code).to.equal(0);
    const file = join(f.out, "audit-attestation.json");
    const offChain = await run(f, f.outsider, ["audit", "check-attestation", file, f.report, "--on-chain"]);
    expect(offChain.code).to.equal(1);
    expect(offChain.out).to.include(`${f.auditor.address} has not attested report sha256`);

    // Another auditor attests it on chain: the check names that auditor, and still fails for the signed one.
    const [second] = (await ethers.getSigners()).slice(7, 8);
    await f.alliance.admitMember(second, Role.Auditor, id("second auditor"));
    expect(
      (await run(f, second, ["audit", "attest", f.report, "--on-chain", "--out", join(f.out, "b.json")])).code,
    ).to.equal(0);
    const other = await run(f, f.outsider, ["audit", "check-attestation", file, f.report, "--on-chain"]);
    expect(other.code).to.equal(1);
    expect(other.out).to.include(`(${second.address} did)`);
  });

  it("refuses to put an attestation on chain for an account that is no auditor member, before anything is sent", async function () {
    const f = await loadFixture(reportFixture);
    const refused = await run(f, f.platformA, ["audit", "attest", f.report, "--on-chain"]);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.match(/is not an active auditor member of the alliance/);
    const { createHash } = await import("node:crypto");
    const digest =
      "0x" +
      createHash("sha256")
        .update(await readFile(f.report))
        .digest("hex");
    expect((await f.disclosures.auditAttestationOf(digest, f.platformA)).attestedBlock).to.equal(0n);
  });
});

describe("checkOnChain", function () {
  const attestation = {
    auditor: toAddress("0x" + "11".repeat(20)),
    reportSha256: "ab".repeat(32),
    exportManifestSha256: "cd".repeat(32),
    block: { number: 42, hash: "0x" + "ef".repeat(32) },
  };
  const onChain = { ...attestation, exportBlock: 42, blockNumber: 50, transactionHash: "0x" + "01".repeat(32) };

  it("holds when the auditor recorded the same manifest and block on chain", function () {
    const result = checkOnChain(attestation, [onChain]);
    expect(result).to.include({ ok: true, recorded: onChain });
  });

  it("names an on-chain attestation of another export or another block than the signed one", function () {
    const result = checkOnChain(attestation, [{ ...onChain, exportManifestSha256: null, exportBlock: 41 }]);
    expect(result.ok).to.equal(false);
    expect(result.problems).to.deep.equal([
      `on chain, ${attestation.auditor} attested the report with export manifest none, not the ${"cd".repeat(32)} the signed attestation names`,
      `on chain, ${attestation.auditor} attested the report as of block 41, not the block 42 the signed attestation names`,
    ]);
  });
});
