import { expect } from "chai";
import { id } from "ethers";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freshBorrowerKey,
  loanIdOf,
  readWalletApprovals,
  signConsent,
  toAddress,
  toHash32,
  type ConsentSignatures,
  type ConsentSubject,
  type LoanRecord,
} from "../../src/client/index.js";
import {
  collectLedger,
  signaturesSentence,
  verifyChain,
  verifyExport,
  verifyLedger,
  writeExport,
} from "../../src/audit/index.js";
import { DAY, deployAllianceFixture, ethers, expectRejection, loadFixture, termsFor, time } from "../fixtures.js";

describe("consent (client and verifier)", function () {
  /** Three loans of platform A: signed by a key, signed through a contract wallet then amended, and legacy. */
  async function consentLedgerFixture() {
    const f = await deployAllianceFixture();
    const { loans } = f.clientFor(f.platformA);
    const platform = toAddress(f.platformA.address);
    const domain = await loans.consentDomain();
    const deadline = BigInt((await time.latest()) + DAY);
    const [byKey, byWallet, legacy] = [
      await termsFor(f.platformA),
      await termsFor(f.platformA),
      await termsFor(f.platformA),
    ];
    const borrower = freshBorrowerKey().wallet;
    const officer = freshBorrowerKey().wallet;
    const wallet = await ethers.deployContract("MockContractWallet", [officer.address]);
    const sign = async (subject: ConsentSubject, signer: typeof borrower, as?: string): Promise<ConsentSignatures> => {
      const b = await signConsent(signer, domain, subject, { compact: as === undefined });
      return { borrower: as ? toAddress(as) : b.signer, deadline, borrowerSignature: b.signature };
    };
    const agreement = (terms: typeof byKey) => ({ kind: "agreement" as const, loanId: loanIdOf(terms), deadline });
    await loans.anchorSignedBatch(
      platform,
      [byKey, byWallet],
      [await sign(agreement(byKey), borrower), await sign(agreement(byWallet), officer, await wallet.getAddress())],
    );
    await f.clientFor(f.governance).loans.allowLegacyImport(platform, (await time.latest()) + DAY);
    await loans.anchorLegacyBatch([legacy]);
    const documentHash = toHash32(id("amended"));
    const amendment = { kind: "amendment" as const, loanId: loanIdOf(byKey), version: 2, documentHash, deadline };
    // The client holds the borrower to the agreement's key.
    const other = freshBorrowerKey().wallet;
    await expectRejection(
      loans.amendSigned(loanIdOf(byKey), platform, documentHash, await sign(amendment, other)),
      /signs with/,
    );
    await loans.amendSigned(loanIdOf(byKey), platform, documentHash, await sign(amendment, borrower));
    const sources = f.suite.connect(f.auditor).auditSources;
    const ledger = await collectLedger(sources);
    return { ...f, ledger, sources, domain, byKey, byWallet, legacy };
  }

  it("verifies every signature, proving the contract wallet's against the chain, and reports consent per loan", async function () {
    const f = await loadFixture(consentLedgerFixture);
    const walletApprovals = await readWalletApprovals(
      ethers.provider,
      f.domain,
      f.ledger.loans,
      f.ledger.block?.number,
    );
    const report = await verifyLedger(f.ledger, { walletApprovals });
    expect(report.findings).to.deep.equal([]);
    const ids = (t: typeof f.byKey) => report.loans.find((l) => BigInt(l) === loanIdOf(t));
    expect(report.consent.signed).to.have.members([ids(f.byKey), ids(f.byWallet)]);
    expect(report.consent.legacy).to.deep.equal([ids(f.legacy)]);
    // Without a node nobody can ask the wallet: its signature is not proven, and not a finding either.
    const offline = await verifyLedger(f.ledger);
    expect(offline.findings).to.deep.equal([]);
    expect(offline.consent.notProven.map((x) => [x.loanId, x.role])).to.deep.equal([[ids(f.byWallet), "borrower"]]);
    expect(report.consent.notProven).to.deep.equal([]);
  });

  it("proves the contract wallet's signature when it verifies the chain itself, or an export with a node at hand", async function () {
    const f = await loadFixture(consentLedgerFixture);
    const { report } = await verifyChain(f.sources);
    expect(report.findings).to.deep.equal([]);
    const dir = await mkdtemp(join(tmpdir(), "loanledger-consent-"));
    await writeExport(dir, f.ledger);
    expect((await verifyExport(dir, { provider: ethers.provider })).findings).to.deep.equal([]);
    // Offline nobody can ask the wallet: its signature is reported as not proven, never as a finding.
    const offline = await verifyExport(dir);
    expect(offline.findings).to.deep.equal([]);
    expect(offline.ok).to.equal(true);
    expect(signaturesSentence(offline)).to.match(
      /^1 signature\(s\) no key made, NOT proven: .*verify with `--rpc <url>`/,
    );
  });

  it("reports a forged signature in an export", async function () {
    const f = await loadFixture(consentLedgerFixture);
    const forged = structuredClone(f.ledger);
    const record = forged.loans.find((r: LoanRecord) => r.fact.kind === "AmendmentSigned")!;
    // Another key's signature, made to look like the borrower's.
    const impostor = freshBorrowerKey().wallet;
    const subject = {
      kind: "amendment" as const,
      loanId: loanIdOf(f.byKey),
      version: 2,
      documentHash: toHash32(id("amended")),
      deadline: BigInt(String(record.fact.deadline)),
    };
    record.fact.borrowerSignature = (await signConsent(impostor, f.domain, subject)).signature;
    const report = await verifyLedger(forged);
    const consent = report.findings.filter((x) => x.check === "consent");
    expect(consent.some((x) => /borrower's signature is not/.test(x.message))).to.equal(true);
  });

  it("proves the platform's consent by the sender the fact names, and reports another sender in an export", async function () {
    const f = await loadFixture(consentLedgerFixture);
    const signed = f.ledger.loans.filter((r: LoanRecord) => r.fact.kind === "AgreementSigned");
    expect(signed.map((r: LoanRecord) => toAddress(String(r.fact.platform)))).to.deep.equal([
      toAddress(f.platformA.address),
      toAddress(f.platformA.address),
    ]);
    const forged = structuredClone(f.ledger);
    const record = forged.loans.find((r: LoanRecord) => r.fact.kind === "AgreementSigned")!;
    // The agreement made to look sent by another platform, which may not anchor platform A's loans.
    record.fact.platform = f.platformB.address;
    const report = await verifyLedger(forged);
    const consent = report.findings.filter((x) => x.check === "consent");
    expect(consent.map((x) => x.message)).to.satisfy((messages: string[]) =>
      messages.some((m) => m.includes(`sent by ${f.platformB.address}`) && /platform's consent is not proven/.test(m)),
    );
  });
});
