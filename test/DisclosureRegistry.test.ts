import { expect } from "chai";
import { createHash } from "node:crypto";
import { id, ZeroHash } from "ethers";
import {
  canonicalJson,
  DisclosureClient,
  InputError,
  LoanRegistryClient,
  noKeyFigures,
  reportFromFigures,
  reportHash,
  Role,
  SplitterClient,
  toAddress,
  validateReport,
  type KeyFigures,
} from "../src/client/index.js";
import { DAY, deployAllianceFixture, ethers, expectRejection, loadFixture, termsFor, time } from "./fixtures.js";

const UNIT = 10n ** 18n;

/** A month with nothing to disclose. */
const NO_FIGURES = noKeyFigures();

function clientFor(f: Awaited<ReturnType<typeof deployAllianceFixture>>, signer: typeof f.platformA) {
  const loans = new LoanRegistryClient(String(f.loans.target), signer);
  return new DisclosureClient(String(f.disclosures.target), signer, {
    loans,
    splitter: new SplitterClient(String(f.splitter.target), signer, loans),
    insurance: String(f.insurance.target),
  });
}

async function currentPeriod(): Promise<string> {
  return new Date((await time.latest()) * 1000).toISOString().slice(0, 7);
}

const reportFrom = (platform: string, period: string, figures: KeyFigures) =>
  reportFromFigures(toAddress(platform), period, figures);

/** Platform A with three loans: one repaid on schedule so far, one defaulted, one still Funding. */
async function ledgerFixture() {
  const f = await deployAllianceFixture();
  const loans = f.loans.connect(f.platformA);
  const healthy = await termsFor(f.platformA, { principal: 60_000n * UNIT, defaultThreshold: 60 * DAY });
  const bad = await termsFor(f.platformA, { principal: 40_000n * UNIT, defaultThreshold: 60 * DAY });
  const pending = await termsFor(f.platformA, {
    principal: 10_000n * UNIT,
    fundingDeadline: (await time.latest()) + 90 * DAY,
  });
  await loans.anchorLoans([healthy, bad, pending]);
  await loans.activateLoan(healthy);
  await loans.activateLoan(bad);
  for (let month = 0; month < 3; month += 1) {
    await time.increase(30 * DAY);
    const due = await loans.nextPayment(healthy);
    await loans.recordPayment(healthy, due.principal + due.interest, ZeroHash);
  }
  await loans.markLate(bad);
  await loans.markDefaulted(bad);
  const client = clientFor(f, f.platformA);
  return { ...f, client, healthy, bad, period: await currentPeriod() };
}

describe("DisclosureRegistry", function () {
  describe("the unified format", function () {
    it("accepts a well-formed report and hashes its canonical JSON", async function () {
      const f = await loadFixture(ledgerFixture);
      const report = reportFrom(
        f.platformA.address,
        f.period,
        await f.client.ledgerFigures(toAddress(f.platformA.address), f.period),
      );
      expect(validateReport(report)).to.equal(report);
      const reordered = JSON.parse(JSON.stringify({ ...report, insurance: report.insurance, volume: report.volume }));
      expect(reportHash(reordered)).to.equal(reportHash(report));
      expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).to.equal('{"a":[{"c":3,"d":2}],"b":1}');
    });

    it("rejects a report that fails the schema, naming each problem, before anything is sent", async function () {
      const f = await loadFixture(ledgerFixture);
      const good = reportFrom(
        f.platformA.address,
        f.period,
        await f.client.ledgerFigures(toAddress(f.platformA.address), f.period),
      );
      for (const [bad, problem] of [
        [{ ...good, period: "2026-13" }, /: period is not in a form it takes, not "2026-13"/],
        [{ ...good, overdueRateBps: 10_001 }, /: overdueRateBps must be at most 10000, not 10001/],
        [{ ...good, volume: "-5" }, /: volume is not in a form it takes, not "-5"/],
        [{ ...good, borrowerName: "Wang Ming" }, /: the report has a key it does not know: "borrowerName"/],
        [{ ...good, reserve: {} }, /: reserve: contributed is missing/],
      ] as const) {
        expect(() => validateReport(bad)).to.throw(InputError, problem);
        await expectRejection(f.client.publish(bad), problem, InputError);
      }
    });
  });

  describe("publishing and attesting", function () {
    it("keeps one report per period, corrections as new versions beside the old, and auditors attest by content hash", async function () {
      const f = await loadFixture(ledgerFixture);
      const platform = toAddress(f.platformA.address);
      const figures = await f.client.ledgerFigures(platform, f.period);
      const first = reportFrom(platform, f.period, { ...figures, badDebtRateBps: 0 });
      expect((await f.client.publish(first)).version).to.equal(1);
      await expectRejection(
        f.client.publish(first),
        /DisclosureRegistryAlreadyPublished: .* already published 1 version/,
      );

      const corrected = reportFrom(platform, f.period, figures);
      expect((await f.client.publish(corrected, true)).version).to.equal(2);
      expect((await f.client.report(platform, f.period, 1)).figures.badDebtRateBps).to.equal(0);
      expect((await f.client.report(platform, f.period)).contentHash).to.equal(reportHash(corrected));

      const auditor = clientFor(f, f.auditor);
      await expectRejection(auditor.attest(corrected, 1), /DisclosureRegistryUnknownReport/);
      await auditor.attest(corrected, 2);
      expect(await f.disclosures.isAttested(platform, Number(f.period.replace("-", "")), 2, f.auditor)).to.equal(true);
      await expectRejection(auditor.attest(corrected, 2), /DisclosureRegistryAlreadyAttested/);
      await expectRejection(clientFor(f, f.platformB).attest(corrected, 2), /DisclosureRegistryNotAuditor/);
    });

    it("takes reports from active platforms only, for a real month and a known schema", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const figures = NO_FIGURES;
      for (const caller of [f.auditor, f.outsider, f.governance]) {
        await expect(f.disclosures.connect(caller).publish(202611, 1, id("report"), figures))
          .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryNotPlatform")
          .withArgs(caller.address);
      }
      const publish = (period: number, version: number, hash: string) =>
        f.disclosures.connect(f.platformA).publish(period, version, hash, figures);
      await expect(publish(202613, 1, id("r")))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidPeriod")
        .withArgs(202613);
      await expect(publish(202611, 2, id("r"))).to.be.revertedWithCustomError(
        f.disclosures,
        "DisclosureRegistryInvalidReport",
      );
      await expect(f.disclosures.connect(f.platformA).correct(202611, 1, id("r"), figures))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryNothingToCorrect")
        .withArgs(f.platformA.address, 202611);
    });
  });

  describe("checking a disclosure against the ledger", function () {
    it("computes the figures from the chain: outstanding, overdue and bad-debt rates, borrowers", async function () {
      const f = await loadFixture(ledgerFixture);
      const figures = await f.client.ledgerFigures(toAddress(f.platformA.address), f.period);
      const healthyOutstanding = (await f.loans.loanState(await f.loans.loanIdOf(f.healthy))).outstandingPrincipal;
      expect(figures.outstandingPrincipal).to.equal(healthyOutstanding + 40_000n * UNIT);
      expect(figures.badDebtRateBps).to.equal(
        Number((40_000n * UNIT * 10_000n) / (healthyOutstanding + 40_000n * UNIT)),
      );
      expect(figures.overdueRateBps).to.equal(0);
      // One borrower reference in the fixture's terms, with two open loans.
      expect(figures.borrowers).to.equal(1);
    });

    it("reports a disclosed bad-debt rate that differs from the ledger's", async function () {
      const f = await loadFixture(ledgerFixture);
      const platform = toAddress(f.platformA.address);
      const ledger = await f.client.ledgerFigures(platform, f.period);
      await f.client.publish(reportFrom(platform, f.period, { ...ledger, badDebtRateBps: 150 }));
      expect(await f.client.check(platform, f.period)).to.deep.equal([
        { figure: "badDebtRateBps", disclosed: 150, ledger: ledger.badDebtRateBps },
      ]);
      await f.client.publish(reportFrom(platform, f.period, ledger), true);
      expect(await f.client.check(platform, f.period)).to.deep.equal([]);
    });
  });

  describe("attestAudit", function () {
    const report = createHash("sha256").update("audit-report.json bytes").digest();
    const manifest = createHash("sha256").update("manifest.json bytes").digest();

    /** Every account that is not an active auditor member: each other role, a lender, an outsider, governance, and
     * auditors that were suspended or expelled. */
    async function wrongRolesFixture() {
      const f = await deployAllianceFixture();
      const [insurer, custodian, suspended, expelled, allButAuditor] = (await ethers.getSigners()).slice(7, 12);
      await f.alliance.admitMember(insurer, Role.Insurer, id("insurer"));
      await f.alliance.admitMember(custodian, Role.Custodian, id("custodian"));
      await f.alliance.admitMember(allButAuditor, Role.Platform | Role.Insurer | Role.Custodian, id("all but"));
      for (const auditor of [suspended, expelled]) await f.alliance.admitMember(auditor, Role.Auditor, id("auditor"));
      await f.alliance.suspendMember(suspended);
      await f.alliance.expelMember(expelled);
      const wrong = {
        governance: f.governance,
        platform: f.platformA,
        insurer,
        custodian,
        "platform, insurer and custodian": allButAuditor,
        lender: f.lender,
        outsider: f.outsider,
        "suspended auditor": suspended,
        "expelled auditor": expelled,
      };
      return { ...f, wrong, suspended };
    }

    it("records the report's digest, its export's manifest digest and block for the auditor that sent it", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const exportBlock = await ethers.provider.getBlockNumber();
      await expect(f.disclosures.connect(f.auditor).attestAudit(report, manifest, exportBlock))
        .to.emit(f.disclosures, "AuditReportAttested")
        .withArgs(report, f.auditor.address, manifest, exportBlock);
      const recorded = await f.disclosures.auditAttestationOf(report, f.auditor);
      expect(recorded.manifestSha256).to.equal("0x" + manifest.toString("hex"));
      expect(recorded.exportBlock).to.equal(BigInt(exportBlock));
      expect(recorded.attestedBlock).to.equal(BigInt(await ethers.provider.getBlockNumber()));
      expect(recorded.attestedAt).to.equal(BigInt(await time.latest()));
      // Nobody else attested it.
      expect((await f.disclosures.auditAttestationOf(report, f.platformA)).attestedBlock).to.equal(0n);
    });

    it("lets several auditors attest the same report, and a report read from a chain without a manifest", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const [second] = (await ethers.getSigners()).slice(7, 8);
      await f.alliance.admitMember(second, Role.Auditor, id("second auditor"));
      await f.disclosures.connect(f.auditor).attestAudit(report, manifest, 1);
      await expect(f.disclosures.connect(second).attestAudit(report, ZeroHash, 1))
        .to.emit(f.disclosures, "AuditReportAttested")
        .withArgs(report, second.address, ZeroHash, 1);
    });

    it("keeps an attestation as it was when its auditor is expelled or another auditor attests the same report", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const [second] = (await ethers.getSigners()).slice(7, 8);
      await f.alliance.admitMember(second, Role.Auditor, id("second auditor"));
      await f.disclosures.connect(f.auditor).attestAudit(report, manifest, 1);
      const before = await f.disclosures.auditAttestationOf(report, f.auditor);
      // Another auditor's different statement of the same report is its own record, not a rewrite of the first.
      await f.disclosures.connect(second).attestAudit(report, ZeroHash, 2);
      await f.alliance.expelMember(f.auditor);
      expect(await f.disclosures.auditAttestationOf(report, f.auditor)).to.deep.equal(before);
      await expect(f.disclosures.connect(f.auditor).attestAudit(manifest, report, 1))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryNotAuditor")
        .withArgs(f.auditor.address);
    });

    it("reverts when the auditor attested the report already, naming the block it did", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await f.disclosures.connect(f.auditor).attestAudit(report, manifest, 1);
      const at = await ethers.provider.getBlockNumber();
      await expect(f.disclosures.connect(f.auditor).attestAudit(report, ZeroHash, 2))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryAuditAlreadyAttested")
        .withArgs(report, f.auditor.address, at);
    });

    it("reverts for a zero digest, for genesis, and for a block that is not settled yet", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const next = (await ethers.provider.getBlockNumber()) + 1;
      for (const [digest, block] of [
        [ZeroHash, 1],
        // Genesis holds no transaction, so no suite: nothing there to audit.
        [report, 0],
        // The block the attestation lands in is not final while it is being mined, and later ones do not exist.
        [report, next],
        [report, next + 1],
      ] as const) {
        await expect(f.disclosures.connect(f.auditor).attestAudit(digest, manifest, block))
          .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidAuditReport")
          .withArgs(digest, block, next);
      }
      // The block before the one the transaction lands in is the latest that may be audited.
      await expect(f.disclosures.connect(f.auditor).attestAudit(report, manifest, next - 1)).to.emit(
        f.disclosures,
        "AuditReportAttested",
      );
    });

    it("reverts for every account that is not an active auditor member", async function () {
      const f = await loadFixture(wrongRolesFixture);
      for (const [role, caller] of Object.entries(f.wrong)) {
        await expect(f.disclosures.connect(caller).attestAudit(report, manifest, 1), role)
          .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryNotAuditor")
          .withArgs(caller.address);
      }
      // Reinstated, the suspended auditor may attest again.
      await f.alliance.reinstateMember(f.suspended);
      await expect(f.disclosures.connect(f.suspended).attestAudit(report, manifest, 1)).to.emit(
        f.disclosures,
        "AuditReportAttested",
      );
    });
  });

  describe("operations reports (schema version 2)", function () {
    const digest = id("figures");

    it("publishes a month's report hash and figures digest as a version, and corrections as later versions", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const asA = f.disclosures.connect(f.platformA);
      await expect(asA.publishOperations(202706, id("report v1"), digest, false))
        .to.emit(f.disclosures, "OperationsReportPublished")
        .withArgs(f.platformA.address, 202706, 1, id("report v1"), digest);
      const first = await f.disclosures.reportOf(f.platformA, 202706, 1);
      expect(first.schemaVersion).to.equal(2);
      expect(first.contentHash).to.equal(id("report v1"));
      expect(await f.disclosures.figuresDigestOf(f.platformA, 202706, 1)).to.equal(digest);
      await expect(asA.publishOperations(202706, id("report v2"), digest, false))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryAlreadyPublished")
        .withArgs(f.platformA.address, 202706, 1);
      await asA.publishOperations(202706, id("report v2"), id("figures v2"), true);
      expect(await f.disclosures.versionsOf(f.platformA, 202706)).to.equal(2);
      expect(await f.disclosures.figuresDigestOf(f.platformA, 202706, 2)).to.equal(id("figures v2"));
      expect(await f.disclosures.figuresDigestOf(f.platformA, 202706, 1)).to.equal(digest);
      await expect(asA.publishOperations(202707, id("r"), digest, true))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryNothingToCorrect")
        .withArgs(f.platformA.address, 202707);
      // An auditor attests a version by the hash of the document it read, as for any report.
      await expect(f.disclosures.connect(f.auditor).attest(f.platformA, 202706, 2, id("report v2"))).to.emit(
        f.disclosures,
        "ReportAttested",
      );
      await expect(f.disclosures.connect(f.auditor).attest(f.platformA, 202706, 2, id("report v1")))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryUnknownReport")
        .withArgs(f.platformA.address, 202706, 2, id("report v1"));
    });

    it("is refused to anyone but a servicing platform, and without a hash, a digest or a valid month", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const [expelled] = (await ethers.getSigners()).slice(12, 13);
      await f.alliance.admitMember(expelled, Role.Platform, id("platform"));
      await f.alliance.expelMember(expelled);
      for (const caller of [f.auditor, f.outsider, f.governance, expelled]) {
        await expect(f.disclosures.connect(caller).publishOperations(202706, id("r"), digest, false))
          .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryNotPlatform")
          .withArgs(caller.address);
      }
      const asA = f.disclosures.connect(f.platformA);
      await expect(asA.publishOperations(202706, id("r"), ZeroHash, false))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryMissingFiguresDigest")
        .withArgs(f.platformA.address, 202706);
      await expect(asA.publishOperations(202706, ZeroHash, digest, false))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidReport")
        .withArgs(ZeroHash, 2, 2);
      await expect(asA.publishOperations(202700, id("r"), digest, false))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidPeriod")
        .withArgs(202700);
      // The key-figure form stays version 1: a version-2 report cannot be published without its digest.
      const none = NO_FIGURES;
      await expect(asA.publish(202706, 2, id("r"), none))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidReport")
        .withArgs(id("r"), 2, 1);
      // A period keeps one schema: no key-figure correction on top of an operations report, nor the reverse.
      await asA.publishOperations(202708, id("ops"), digest, false);
      await expect(asA.correct(202708, 1, id("r"), none))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidReport")
        .withArgs(id("r"), 1, 2);
      await asA.publish(202709, 1, id("key figures"), none);
      await expect(asA.publishOperations(202709, id("ops"), digest, true))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidReport")
        .withArgs(id("ops"), 2, 1);
      // A suspended platform keeps reporting: reporting is servicing.
      await f.alliance.suspendMember(f.platformB);
      await expect(f.disclosures.connect(f.platformB).publishOperations(202706, id("r"), digest, false)).to.emit(
        f.disclosures,
        "OperationsReportPublished",
      );
    });
  });

  describe("related parties", function () {
    it("records a platform's declarations and withdrawals of borrower references and accounts", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const asA = f.disclosures.connect(f.platformA);
      const ref = id("borrower ref");
      await expect(asA.declareRelatedParties([ref], [f.lender.address], true))
        .to.emit(f.disclosures, "RelatedBorrowerDeclared")
        .withArgs(f.platformA.address, ref, true)
        .and.to.emit(f.disclosures, "RelatedAccountDeclared")
        .withArgs(f.platformA.address, f.lender.address, true);
      expect(await f.disclosures.isRelatedBorrower(f.platformA, ref)).to.equal(true);
      expect(await f.disclosures.isRelatedAccount(f.platformA, f.lender)).to.equal(true);
      // Another platform's declarations are its own.
      expect(await f.disclosures.isRelatedAccount(f.platformB, f.lender)).to.equal(false);
      await asA.declareRelatedParties([], [f.lender.address], false);
      expect(await f.disclosures.isRelatedAccount(f.platformA, f.lender)).to.equal(false);
      expect(await f.disclosures.isRelatedBorrower(f.platformA, ref)).to.equal(true);
    });

    it("refuses an empty declaration, a zero entry, and anyone but a servicing platform", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const asA = f.disclosures.connect(f.platformA);
      await expect(asA.declareRelatedParties([], [], true))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidRelatedParty")
        .withArgs(0, 0);
      await expect(asA.declareRelatedParties([id("a"), ZeroHash], [], true))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidRelatedParty")
        .withArgs(1, 0);
      await expect(asA.declareRelatedParties([], [f.lender.address, ethers.ZeroAddress], true))
        .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryInvalidRelatedParty")
        .withArgs(0, 1);
      for (const caller of [f.auditor, f.outsider, f.governance, f.lender]) {
        await expect(f.disclosures.connect(caller).declareRelatedParties([id("a")], [], true))
          .to.be.revertedWithCustomError(f.disclosures, "DisclosureRegistryNotPlatform")
          .withArgs(caller.address);
      }
    });
  });
});
