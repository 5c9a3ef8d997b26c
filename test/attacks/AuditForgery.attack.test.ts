import { expect } from "chai";
import { readFile, writeFile, mkdtemp, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, MaxUint256, Signature, ZeroAddress, ZeroHash } from "ethers";
import {
  AssetClass,
  assetKey,
  CollateralClient,
  formatLoanId,
  loanIdOf,
  LoanRegistryClient,
  periodInterest,
  toLoanId,
  type AuditSources,
  type EventRecord,
  type LoanTerms,
} from "../../src/client/index.js";
import {
  collectLedger,
  readExport,
  verifyChain,
  verifyExport,
  writeExport,
  type AuditReport,
  type LedgerExport,
} from "../../src/audit/index.js";
import { ALLIANCE_KEY, DAY, deployAllianceFixture, ethers, loadFixture, termsFor, time } from "../fixtures.js";
import { run, serveJsonRpc } from "../cli/helpers.js";

/**
 * The auditor's verifier attacked from both sides (issue 12): a forger edits an export and keeps every digest
 * consistent, and expects `audit verify --from-export <dir> --rpc <node>` to pass; an honest auditor verifies ledgers
 * the suite really produces and expects them to pass. Every test asserts the right outcome, so each one fails for as
 * long as its attack works.
 */

const UNIT = 10n ** 18n;

function sourcesOf(f: Awaited<ReturnType<typeof deployAllianceFixture>>): AuditSources {
  return {
    loans: f.clientFor(f.auditor).loans,
    alliance: f.alliance,
    splitter: f.splitter,
    collateral: f.collateral,
    insurance: f.insurance,
    reserve: f.reserve,
    waterfall: f.waterfall,
  };
}

/**
 * A loan funded by two lenders and repaid in full (fees to the platform and the reserve, a claim on the way, a payout at
 * the end), the platform withdrawing its fees; before it, a loan whose funding was cancelled and whose commitments were
 * refunded by one payout. Exported at the end.
 */
async function forgeryFixture() {
  const f = await deployAllianceFixture();
  const [lender2, borrower, payer, claimTo] = (await ethers.getSigners()).slice(12, 16);
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 365 * DAY);
  for (const account of [f.lender, lender2, payer]) {
    await f.token.mint(account, 1_000_000n * UNIT);
    await f.token.connect(account).approve(f.splitter, MaxUint256);
  }
  const config = {
    borrowerPayout: borrower.address,
    insurer: ZeroAddress,
    platformFeeBps: 100,
    premiumBps: 0,
    reserveBps: 50,
  };
  const repaid = await termsFor(f.platformA, { principal: 9_000n * UNIT, installments: 3 });
  const cancelled = await termsFor(f.platformA, { principal: 10_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(cancelled);
  await f.splitter.connect(f.platformA).openFunding(cancelled, config);
  await f.splitter.connect(f.lender).fund(cancelled, 7_000n * UNIT);
  await f.splitter.connect(lender2).fund(cancelled, 2_000n * UNIT);
  await f.splitter.connect(f.platformA).cancelFunding(cancelled);
  await f.splitter.payout(loanIdOf(cancelled), [f.lender.address, lender2.address]);

  // The second loan is anchored in a later block than the first.
  await f.loans.connect(f.platformA).anchorLoan(repaid);
  await f.splitter.connect(f.platformA).openFunding(repaid, config);

  await f.splitter.connect(f.lender).fund(repaid, 6_000n * UNIT);
  await f.splitter.connect(lender2).fund(repaid, 3_000n * UNIT);
  for (let i = 0; i < 3; i += 1) {
    await time.increase(30 * DAY);
    const [, total] = await f.splitter.amountDue(repaid);
    await f.splitter.connect(payer).repayLoan(repaid, total, ZeroHash);
    if (i === 0) await f.splitter.connect(lender2).claim([loanIdOf(repaid)], claimTo.address);
  }
  await f.splitter.payout(loanIdOf(repaid), [f.lender.address, lender2.address]);
  await f.splitter.connect(f.platformA).withdrawFees(f.platformA.address);

  const dir = await mkdtemp(join(tmpdir(), "loanledger-attack-"));
  await writeExport(dir, await collectLedger(sourcesOf(f)));
  return {
    ...f,
    lender2,
    borrower,
    claimTo,
    dir,
    repaidTerms: repaid,
    repaid: formatLoanId(loanIdOf(repaid)),
    cancelled: formatLoanId(loanIdOf(cancelled)),
  };
}
type ForgeryFixture = Awaited<ReturnType<typeof forgeryFixture>>;

/** A copy of the export rewritten by `change`, with a fresh manifest whose digests all match, as a forger writes it. */
async function forge(f: ForgeryFixture, change: (ledger: LedgerExport) => LedgerExport | void): Promise<string> {
  const ledger = await readExport(f.dir);
  const forged = change(ledger) ?? ledger;
  const copy = await mkdtemp(join(tmpdir(), "loanledger-forged-"));
  await writeExport(copy, forged);
  return copy;
}

/** What `audit verify --from-export <dir> --rpc <node>` reports: the export proven against the node at its block. */
const proven = (dir: string) => verifyExport(dir, { provider: ethers.provider });

const loanOf = (r: EventRecord) => formatLoanId(toLoanId(String(r.args.loanId)));

function nth(events: EventRecord[], event: string, loanId?: string, n = 0): EventRecord {
  const found = events.filter((r) => r.event === event && (loanId === undefined || loanOf(r) === loanId))[n];
  expect(found, `${event} #${n}${loanId ? ` of ${loanId}` : ""}`).to.not.equal(undefined);
  return found;
}

const summary = (report: AuditReport) => report.findings.map((x) => `${x.check} ${x.loanId ?? "-"}: ${x.message}`);

describe("Audit forgery: an export edited with every digest consistent, proven against the chain", function () {
  it("(baseline) the untouched export verifies clean against the chain, with heads and positions proven", async function () {
    const f = await loadFixture(forgeryFixture);
    const report = await proven(f.dir);
    expect(summary(report)).to.deep.equal([]);
    expect(report.heads.source).to.equal("chain");
    expect(report.positions.source).to.equal("chain");
  });

  it("names a claim whose recipient was changed (the money went to another account)", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      const claim = nth(ledger.money, "Claimed", f.repaid);
      expect(String(claim.args.to)).to.equal(f.claimTo.address);
      claim.args.to = f.outsider.address;
    });
    const report = await proven(dir);
    expect(report.ok, "a claim paid to another account verifies clean").to.equal(false);
    expect(report.findings.map((x) => x.loanId)).to.include(f.repaid);
  });

  it("names a disbursement whose recipient was changed from the borrower's payout account the chain committed to", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      nth(ledger.money, "Disbursed", f.repaid).args.borrowerPayout = f.outsider.address;
    });
    const report = await proven(dir);
    expect(report.ok, "the principal disbursed to another account verifies clean").to.equal(false);
    expect(report.findings.map((x) => x.loanId)).to.include(f.repaid);
  });

  it("names commitments moved from one lender to another on a closed book (cancelled and refunded)", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      const [first, second] = [0, 1].map((n) => nth(ledger.money, "Committed", f.cancelled, n));
      // 7 000 and 2 000 become 2 000 and 7 000: the refund payout's total, and every final position (zero), still hold.
      first.args.amount = String(2_000n * UNIT);
      first.args.committed = String(2_000n * UNIT);
      second.args.amount = String(7_000n * UNIT);
    });
    const report = await proven(dir);
    expect(report.ok, "a lender's stake moved to another lender verifies clean").to.equal(false);
    expect(report.findings.map((x) => x.loanId)).to.include(f.cancelled);
  });

  it("names a repayment split whose interest and principal were swapped by the same wei", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      const split = nth(ledger.money, "RepaymentSplit", f.repaid).args.split as Record<string, string>;
      split.interest = String(BigInt(split.interest) + UNIT);
      split.principal = String(BigInt(split.principal) - UNIT);
    });
    const report = await proven(dir);
    expect(report.ok, "a split that books principal as interest verifies clean").to.equal(false);
    expect(report.findings.map((x) => [x.check, x.loanId])).to.deep.include(["split", f.repaid]);
  });

  it("names a fee withdrawal whose recipient was changed (money events that name no loan are checked too)", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      nth(ledger.money, "FeesWithdrawn").args.to = f.outsider.address;
    });
    const report = await proven(dir);
    expect(report.ok, "the platform's fees withdrawn to another account verify clean").to.equal(false);
  });

  it("names a lender removed from the alliance's allowlist in members.jsonl", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      const allowed = nth(ledger.members, "LenderAllowed", undefined, 1);
      expect(String(allowed.args.lender)).to.equal(f.lender2.address);
      ledger.members = ledger.members.filter((r) => r !== allowed);
    });
    const report = await proven(dir);
    expect(report.ok, "members.jsonl is hashed but never checked: a lender left out verifies clean").to.equal(false);
  });

  it("names a history entry moved to a transaction that does not exist", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      const anchored = ledger.loans.find((r) => r.loanId === f.repaid && r.fact.kind === "Anchored")!;
      anchored.transactionHash = "0x" + "ab".repeat(32);
    });
    const report = await proven(dir);
    expect(report.ok, "an entry's block position is taken from the export unproven").to.equal(false);
    expect(report.findings.map((x) => x.loanId)).to.include(f.repaid);
  });

  it("names a loan left out with its head by an export that says it starts after the loan was anchored", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      // The manifest's first block is raised past the cancelled loan's whole life, and the loan is left out.
      ledger.fromBlock = ledger.loans.find((r) => r.loanId === f.repaid && r.fact.kind === "Anchored")!.blockNumber;
      ledger.loans = ledger.loans.filter((r) => r.loanId !== f.cancelled);
      ledger.money = ledger.money.filter((r) => r.args.loanId === undefined || loanOf(r) !== f.cancelled);
      delete ledger.heads[f.cancelled];
    });
    const report = await proven(dir);
    expect(report.ok, "a loan anchored before the export's stated first block disappears unseen").to.equal(false);
    expect(report.findings.map((x) => x.loanId)).to.include(f.cancelled);
  });

  it("does not switch off the fact checks when the manifest leaves the splitter out (a fee raised at its rate and in every split)", async function () {
    const f = await loadFixture(forgeryFixture);
    const dir = await forge(f, (ledger) => {
      // The manifest no longer names the splitter, the loss waterfall or the collateral registry.
      ledger.contracts = {
        LoanRegistry: ledger.contracts!.LoanRegistry,
        AllianceRegistry: ledger.contracts!.AllianceRegistry,
      };
      const opened = nth(ledger.money, "FundingOpened", f.repaid);
      (opened.args.config as Record<string, string>).platformFeeBps = "300";
      // Each split charges the forged rate on the principal outstanding before it, as the checker recomputes it.
      const recorded = ledger.loans.filter((r) => r.loanId === f.repaid && r.fact.kind === "RepaymentRecorded");
      ledger.money
        .filter((r) => r.event === "RepaymentSplit" && loanOf(r) === f.repaid)
        .forEach((split, k) => {
          const fact = recorded[k].fact;
          const before =
            BigInt(String(fact.outstandingAfter)) + BigInt(String(fact.principal)) + BigInt(String(fact.prepayment));
          const parts = split.args.split as Record<string, string>;
          const fee = periodInterest(before, 300, f.repaidTerms.period);
          split.args.amount = String(BigInt(String(split.args.amount)) - BigInt(parts.platformFee) + fee);
          parts.platformFee = String(fee);
        });
    });
    const report = await proven(dir);
    expect(report.ok, "a fee tripled verifies clean once the manifest omits the splitter").to.equal(false);
  });
});

const NO_FEES = { insurer: ZeroAddress, platformFeeBps: 0, premiumBps: 0, reserveBps: 0 };

/**
 * Ledgers the suite really produces, all on one chain: a written-off loan whose book governance closed and whose lenders
 * were then paid out (a rounding remainder swept); an insured loan whose claim was paid and whose insurer was then
 * reimbursed by a recovery; a secured loan made whole while its car was in custody, the car returned to its owner; a
 * loan of a platform later expelled, taken over by its successor, repaid and amended by it.
 */
async function honestFixture() {
  const f = await deployAllianceFixture();
  const [lender2, lender3, owner, insurer, payer] = (await ethers.getSigners()).slice(12, 17);
  for (const lender of [lender2, lender3]) {
    await f.alliance.connect(f.platformA).allowLender(lender, (await time.latest()) + 365 * DAY);
  }
  await f.alliance.admitMember(insurer, 2, id("insurer licence"));
  for (const account of [f.lender, lender2, lender3, payer, f.outsider, insurer]) {
    await f.token.mint(account, 1_000_000n * UNIT);
    for (const spender of [f.splitter, f.waterfall, f.insurance]) {
      await f.token.connect(account).approve(spender, MaxUint256);
    }
  }
  const lenders = [f.lender, lender2, lender3].map((l) => l.address);

  // Written off: three lenders of odd commitments, so that each payout leaves a rounding remainder.
  const writtenOff = await termsFor(f.platformA, { principal: 3_000n * UNIT + 2n });
  await f.loans.connect(f.platformA).anchorLoan(writtenOff);
  await f.splitter.connect(f.platformA).openFunding(writtenOff, { borrowerPayout: owner.address, ...NO_FEES });
  await f.splitter.connect(f.lender).fund(writtenOff, 1_000n * UNIT);
  await f.splitter.connect(lender2).fund(writtenOff, 1_000n * UNIT + 1n);
  await f.splitter.connect(lender3).fund(writtenOff, 1_000n * UNIT + 1n);

  // Insured at 100% for a year.
  const insured = await termsFor(f.platformA, { principal: 10_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(insured);
  await f.splitter
    .connect(f.platformA)
    .openFunding(insured, { borrowerPayout: owner.address, ...NO_FEES, insurer: insurer.address, premiumBps: 200 });
  await f.insurance.connect(insurer).depositCapital(20_000n * UNIT);
  await f.splitter.connect(f.lender).fund(insured, insured.principal);
  await f.insurance.connect(insurer).writePolicy(insured, 10_000, (await time.latest()) + 365 * DAY);

  // Secured by a car.
  const car = assetKey(AssetClass.Vehicle, "LSVAU2180N2183294", ALLIANCE_KEY);
  await f.collateral.connect(f.platformA).registerCollateral(car, owner, AssetClass.Vehicle, 80_000n * UNIT, id("car"));
  const secured = await termsFor(f.platformA, { principal: 50_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(secured);
  const owners = new CollateralClient(
    String(f.collateral.target),
    owner,
    new LoanRegistryClient(String(f.loans.target), owner),
  );
  const deadline = (await time.latest()) + DAY;
  const consent = await owners.consent(
    { assetId: car, loanId: loanIdOf(secured), securedAmount: 40_000n * UNIT, priority: 1 },
    deadline,
  );
  const sig = Signature.from(consent.signature);
  await f.collateral.connect(f.platformA).pledge(car, secured, 40_000n * UNIT, 1, deadline, sig.r, sig.yParityAndS);
  await f.splitter.connect(f.platformA).openFunding(secured, { borrowerPayout: owner.address, ...NO_FEES });
  await f.splitter.connect(f.lender).fund(secured, secured.principal);

  // Platform B's loan, taken over by platform A once B is expelled.
  const handedOver = await termsFor(f.platformB, { principal: 6_000n * UNIT, installments: 6 });
  await f.loans.connect(f.platformB).anchorLoan(handedOver);
  await f.splitter
    .connect(f.platformB)
    .openFunding(handedOver, { borrowerPayout: owner.address, ...NO_FEES, platformFeeBps: 100 });
  await f.splitter.connect(f.lender).fund(handedOver, handedOver.principal);

  const repay = async (terms: LoanTerms) => {
    const [, total] = await f.splitter.amountDue(terms);
    await f.splitter.connect(payer).repayLoan(terms, total, ZeroHash);
  };
  await time.increase(30 * DAY);
  await repay(writtenOff);
  await f.splitter.payout(loanIdOf(writtenOff), lenders);
  await repay(handedOver);
  await f.alliance.expelMember(f.platformB);
  await f.succession.appointSuccessor(f.platformB, f.platformA);
  await f.succession.connect(f.platformA).takeOverLoans([handedOver]);
  await f.loans.connect(f.platformA).amendDocument(handedOver, id("amended by the successor"));
  await time.increase(30 * DAY);
  await repay(handedOver);
  await f.splitter.payout(loanIdOf(handedOver), [f.lender.address]);

  // Day 151: the three other loans can be declared in default.
  await time.increase(91 * DAY);
  for (const terms of [writtenOff, insured, secured]) await f.loans.connect(f.platformA).markDefaulted(terms);

  await f.waterfall.connect(f.platformA).settle(writtenOff);
  await f.waterfall.connect(f.platformA).writeOff(writtenOff);
  await f.splitter.connect(f.governance).closeWrittenOff(loanIdOf(writtenOff));
  await f.splitter.payout(loanIdOf(writtenOff), lenders);

  await f.waterfall.connect(f.platformA).settle(insured);
  await f.waterfall.connect(f.outsider).recover(insured, 1_000n * UNIT);

  await f.collateral.connect(f.platformA).seize(car, secured);
  await f.waterfall.connect(f.outsider).recover(secured, await f.waterfall.recoverable(loanIdOf(secured)));
  await f.collateral.connect(owner).returnSeized(car);
  await f.splitter.payout(loanIdOf(secured), [f.lender.address]);

  return {
    ...f,
    writtenOff: formatLoanId(loanIdOf(writtenOff)),
    insured: formatLoanId(loanIdOf(insured)),
    secured: formatLoanId(loanIdOf(secured)),
    handedOver: formatLoanId(loanIdOf(handedOver)),
  };
}
type HonestFixture = Awaited<ReturnType<typeof honestFixture>>;

/** The honest ledger verified as `audit verify` reads the chain, and as an export proven against the node. */
async function bothWays(f: HonestFixture) {
  const chain = (await verifyChain(sourcesOf(f))).report;
  const dir = await mkdtemp(join(tmpdir(), "loanledger-honest-"));
  await writeExport(dir, await collectLedger(sourcesOf(f)));
  return { chain, proven: await proven(dir) };
}

const about = (report: AuditReport, loanId: string) => summary(report).filter((line) => line.includes(loanId));

describe("Audit of honest ledgers: nothing honest fails", function () {
  it("verifies a written-off loan whose book was closed and whose lenders were paid out afterwards", async function () {
    const f = await loadFixture(honestFixture);
    const { chain, proven } = await bothWays(f);
    expect(about(chain, f.writtenOff), "read from the chain").to.deep.equal([]);
    expect(about(proven, f.writtenOff), "an export proven against the chain").to.deep.equal([]);
  });

  it("verifies a secured loan made whole while its car was in custody, the car returned to its owner", async function () {
    const f = await loadFixture(honestFixture);
    const { chain, proven } = await bothWays(f);
    expect(about(chain, f.secured), "read from the chain").to.deep.equal([]);
    expect(about(proven, f.secured), "an export proven against the chain").to.deep.equal([]);
  });

  it("verifies an insured loan whose claim was paid and whose insurer was reimbursed by a later recovery", async function () {
    const f = await loadFixture(honestFixture);
    const { chain, proven } = await bothWays(f);
    expect(about(chain, f.insured), "read from the chain").to.deep.equal([]);
    expect(about(proven, f.insured), "an export proven against the chain").to.deep.equal([]);
  });

  it("verifies a loan of an expelled platform, taken over, repaid and amended by its successor", async function () {
    const f = await loadFixture(honestFixture);
    const { chain, proven } = await bothWays(f);
    expect(about(chain, f.handedOver), "read from the chain").to.deep.equal([]);
    expect(about(proven, f.handedOver), "an export proven against the chain").to.deep.equal([]);
  });

  it("verifies an alliance with no loans yet, from the chain and from its export", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const out = await mkdtemp(join(tmpdir(), "loanledger-empty-"));
    const chain = await run(f, f.auditor, ["audit", "verify", "--out", out]);
    expect(chain.code, chain.out + chain.err).to.equal(0);
    const dir = await mkdtemp(join(tmpdir(), "loanledger-empty-export-"));
    expect((await run(f, f.auditor, ["audit", "export", "--out", dir])).code).to.equal(0);
    const exported = await run(f, f.auditor, ["audit", "verify", "--from-export", dir, "--out", out]);
    expect(exported.code, exported.out + exported.err).to.equal(0);
  });

  it("exits 0 from `audit verify` on the whole honest ledger", async function () {
    const f = await loadFixture(honestFixture);
    const out = await mkdtemp(join(tmpdir(), "loanledger-honest-report-"));
    const verified = await run(f, f.auditor, ["audit", "verify", "--out", out]);
    expect(verified.code, verified.out).to.equal(0);
  });
});

describe("Audit forgery: the loss waterfall's money, proven against the chain", function () {
  /** The honest ledger's export rewritten by `change`, proven against the node: the findings about the insured loan. */
  async function forgedInsured(f: HonestFixture, change: (money: EventRecord[]) => void) {
    const ledger = await collectLedger(sourcesOf(f));
    change(ledger.money);
    const dir = await mkdtemp(join(tmpdir(), "loanledger-forged-loss-"));
    await writeExport(dir, ledger);
    return about(await proven(dir), f.insured);
  }

  it("names an insurance claim attributed to another insurer", async function () {
    const f = await loadFixture(honestFixture);
    const findings = await forgedInsured(f, (money) => {
      nth(money, "ClaimPaid", f.insured).args.insurer = f.outsider.address;
    });
    expect(findings, "a claim paid by another insurer verifies clean").to.not.deep.equal([]);
  });

  it("names a recovery whose insurer's part was changed", async function () {
    const f = await loadFixture(honestFixture);
    const findings = await forgedInsured(f, (money) => {
      const reimbursed = nth(money, "InsurerReimbursed", f.insured);
      reimbursed.args.amount = String(BigInt(String(reimbursed.args.amount)) / 2n);
    });
    expect(findings, "half a recovery's insurer part verifies clean").to.not.deep.equal([]);
  });
});

describe("Audit forgery through the CLI: the manifest and the attestation", function () {
  it("refuses an export whose manifest names another suite than the alliance's it is set up for, even when proven", async function () {
    const f = await loadFixture(forgeryFixture);
    // The forger deploys a suite of its own on the same chain, anchors a loan book there, and exports that suite.
    const rogue = await deployAllianceFixture();
    expect(String(rogue.loans.target)).to.not.equal(String(f.loans.target));
    await rogue.loans.connect(rogue.platformA).anchorLoan(await termsFor(rogue.platformA));
    const dir = await mkdtemp(join(tmpdir(), "loanledger-rogue-"));
    await writeExport(dir, await collectLedger(sourcesOf(rogue)));
    const endpoint = await serveJsonRpc();
    try {
      const out = await mkdtemp(join(tmpdir(), "loanledger-rogue-report-"));
      // The auditor's CLI is set up for the alliance's suite (f), and proves the export against the chain.
      const verified = await run(f, f.auditor, [
        "audit",
        "verify",
        "--from-export",
        dir,
        "--rpc",
        endpoint.url,
        "--out",
        out,
      ]);
      expect(verified.code, `another suite's export verifies clean: ${verified.out}`).to.equal(1);
    } finally {
      await endpoint.close();
    }
  });

  it("does not vouch for an attested export whose files were changed after the report was attested", async function () {
    const f = await loadFixture(forgeryFixture);
    const out = await mkdtemp(join(tmpdir(), "loanledger-attested-"));
    expect((await run(f, f.auditor, ["audit", "verify", "--from-export", f.dir, "--out", out])).code).to.equal(0);
    const report = join(out, "audit-report.json");
    expect((await run(f, f.auditor, ["audit", "attest", report])).code).to.equal(0);

    // The export handed on with the attestation: its manifest kept byte for byte, a repayment's amount raised.
    const copy = await mkdtemp(join(tmpdir(), "loanledger-attested-copy-"));
    await cp(f.dir, copy, { recursive: true });
    const money = join(copy, "money.jsonl");
    const lines = (await readFile(money, "utf8")).split("\n");
    const k = lines.findIndex((line) => line.includes('"RepaymentSplit"'));
    const record = JSON.parse(lines[k]) as EventRecord;
    record.args.amount = String(BigInt(String(record.args.amount)) * 2n);
    lines[k] = JSON.stringify(record);
    await writeFile(money, lines.join("\n"));

    const checked = await run(f, f.outsider, [
      "audit",
      "check-attestation",
      join(out, "audit-attestation.json"),
      report,
      "--from-export",
      copy,
    ]);
    expect(checked.code, `a changed export is said to be the attested one: ${checked.out}`).to.equal(1);
    expect(checked.out).to.match(/money\.jsonl/);
  });
});

describe("Disclosure check of an honest disclosure", function () {
  it("agrees with a disclosure of the month a loan was repaid and its lenders paid out, figured from the chain's state", async function () {
    const f = await loadFixture(forgeryFixture);
    const latest = await ethers.provider.getBlock("latest");
    const period = new Date(latest!.timestamp * 1000).toISOString().slice(0, 7);
    const inPeriod = async (blockNumber: number) =>
      new Date((await ethers.provider.getBlock(blockNumber))!.timestamp * 1000).toISOString().slice(0, 7) === period;
    let loansOriginated = 0;
    let volume = 0n;
    for (const log of await f.loans.queryFilter(f.loans.filters.LoanAnchored())) {
      if (!(await inPeriod(log.blockNumber))) continue;
      loansOriginated += 1;
      volume += log.args.terms.principal;
    }
    let reserve = 0n;
    for (const log of await f.splitter.queryFilter(f.splitter.filters.RepaymentSplit())) {
      if (await inPeriod(log.blockNumber)) reserve += log.args.split.reserve;
    }
    // Every loan of the platform is repaid or cancelled, and every lender's position settled: nobody holds a share.
    const holders = new Set<string>();
    for (const loanId of [f.repaid, f.cancelled]) {
      for (const lender of [f.lender.address, f.lender2.address]) {
        if ((await f.splitter.positionOf(loanId, lender)).shares > 0n) holders.add(lender);
      }
      expect((await f.loans.loanState(loanId)).outstandingPrincipal === 0n || loanId === f.cancelled).to.equal(true);
    }
    const report = {
      schemaVersion: 1,
      platform: f.platformA.address,
      period,
      loansOriginated,
      volume: String(volume),
      outstandingPrincipal: "0",
      overdueRateBps: 0,
      badDebtRateBps: 0,
      borrowers: 0,
      lenders: holders.size,
      reserve: { contributed: String(reserve) },
      insurance: { claimsPaid: "0" },
    };
    const file = join(await mkdtemp(join(tmpdir(), "loanledger-disclosure-")), "report.json");
    await writeFile(file, JSON.stringify(report));
    expect((await run(f, f.platformA, ["disclosure", "publish", "--file", file])).code).to.equal(0);
    const checked = await run(f, f.auditor, ["disclosure", "check", f.platformA.address, period]);
    expect(checked.code, checked.out).to.equal(0);
  });
});
