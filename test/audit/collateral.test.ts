import { expect } from "chai";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, MaxUint256, Signature, ZeroAddress } from "ethers";
import {
  AssetClass,
  assetKey,
  CollateralClient,
  formatLoanId,
  LoanRegistryClient,
  loanIdOf,
  toLoanId,
  type AssetId,
  type AuditSources,
  type EventRecord,
  type LoanTerms,
} from "../../src/client/index.js";
import {
  collectLedger,
  proveExport,
  readExport,
  verifyExport,
  verifyLedger,
  writeExport,
  type LedgerExport,
} from "../../src/audit/index.js";
import {
  ALLIANCE_KEY,
  DAY,
  deployAllianceFixture,
  ethers,
  loadFixture,
  proposeSale,
  termsFor,
  time,
} from "../fixtures.js";

const UNIT = 10n ** 18n;

/**
 * A car pledged to platform A's loan (funded through the splitter, rank 1) and platform B's (rank 2), revalued by a
 * custodian, both loans defaulted, the car seized by A and sold; a flat pledged to B's third loan, released once that
 * loan was cancelled. Exported at the end.
 */
async function collateralLedgerFixture() {
  const f = await deployAllianceFixture();
  const [owner, custodian, lender2] = (await ethers.getSigners()).slice(12, 15);
  await f.alliance.admitMember(custodian, 8, id("custodian licence"));
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 365 * DAY);
  const car = assetKey(AssetClass.Vehicle, "LSVAU2180N2183294", ALLIANCE_KEY);
  const flat = assetKey(AssetClass.RealEstate, "BJ-2024-0001234", ALLIANCE_KEY);
  await f.collateral.connect(f.platformA).registerCollateral(car, owner, AssetClass.Vehicle, 80_000n * UNIT, id("car"));
  await f.collateral
    .connect(f.platformB)
    .registerCollateral(flat, owner, AssetClass.RealEstate, 300_000n * UNIT, id("flat"));
  const loanA = await termsFor(f.platformA, { principal: 50_000n * UNIT });
  const loanB = await termsFor(f.platformB, { principal: 20_000n * UNIT });
  const loanC = await termsFor(f.platformB, { principal: 100_000n * UNIT });
  const loanD = await termsFor(f.platformB, { principal: 5_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(loanA);
  await f.loans.connect(f.platformB).anchorLoans([loanB, loanC, loanD]);

  const owners = new CollateralClient(
    String(f.collateral.target),
    owner,
    new LoanRegistryClient(String(f.loans.target), owner),
  );
  const pledge = async (asset: AssetId, terms: LoanTerms, secured: bigint, priority: number) => {
    const deadline = (await time.latest()) + DAY;
    const signed = await owners.consent(
      { assetId: asset, loanId: loanIdOf(terms), securedAmount: secured, priority },
      deadline,
    );
    const sig = Signature.from(signed.signature);
    const platform = terms.platform === f.platformA.address ? f.platformA : f.platformB;
    await f.collateral.connect(platform).pledge(asset, terms, secured, priority, deadline, sig.r, sig.yParityAndS);
  };
  await pledge(car, loanA, 40_000n * UNIT, 1);
  await pledge(car, loanB, 20_000n * UNIT, 2);
  await pledge(car, loanD, 5_000n * UNIT, 3);
  await pledge(flat, loanC, 100_000n * UNIT, 1);
  await f.loans.connect(f.platformB).cancelLoan(loanC);
  await f.collateral.connect(f.outsider).release(flat, loanIdOf(loanC));

  await f.splitter.connect(f.platformA).openFunding(loanA, {
    borrowerPayout: owner.address,
    insurer: ZeroAddress,
    platformFeeBps: 0,
    premiumBps: 0,
    reserveBps: 0,
  });
  for (const [lender, amount] of [
    [f.lender, 20_000n * UNIT],
    [lender2, 30_000n * UNIT],
  ] as const) {
    await f.token.mint(lender, amount);
    await f.token.connect(lender).approve(f.splitter, MaxUint256);
    await f.splitter.connect(lender).fund(loanA, amount);
  }
  await f.loans.connect(f.platformB).activateLoan(loanB);
  await f.loans.connect(f.platformB).activateLoan(loanD);
  await f.collateral
    .connect(custodian)
    .revalue(car, 70_000n * UNIT, id("car, second appraisal"), [loanA, loanB, loanD]);
  await time.increase(34 * DAY);
  await f.loans.connect(f.platformA).markLate(loanA);
  await f.loans.connect(f.platformB).markLate(loanB);
  await time.increase(90 * DAY);
  await f.loans.connect(f.platformA).markDefaulted(loanA);
  await f.loans.connect(f.platformB).markDefaulted(loanB);
  await f.collateral.connect(f.platformA).seize(car, loanA);
  await f.token.mint(f.platformA, 65_000n * UNIT);
  await f.token.connect(f.platformA).approve(f.collateral, MaxUint256);
  // Loan D still performs: its lien survives the sale, and the buyer takes the car with it.
  await proposeSale(f.collateral, f.platformA, car, loanA, 65_000n * UNIT, { custodian, buyer: f.outsider.address });
  await f.collateral.connect(f.platformA).dispose(car, [loanA, loanB, loanD]);

  const sources: AuditSources = {
    loans: f.clientFor(f.auditor).loans,
    alliance: f.alliance,
    splitter: f.splitter,
    collateral: f.collateral,
    insurance: f.insurance,
    reserve: f.reserve,
    waterfall: f.waterfall,
  };
  const dir = await mkdtemp(join(tmpdir(), "loanledger-collateral-"));
  await writeExport(dir, await collectLedger(sources));
  return {
    ...f,
    dir,
    loanA: formatLoanId(loanIdOf(loanA)),
    loanB: formatLoanId(loanIdOf(loanB)),
    loanC: formatLoanId(loanIdOf(loanC)),
    loanD: formatLoanId(loanIdOf(loanD)),
  };
}

type Fixture = Awaited<ReturnType<typeof collateralLedgerFixture>>;

/** A copy of the export with assets.jsonl rewritten by `change`, and a fresh manifest, as a forger would write it. */
async function forged(f: Fixture, change: (assets: EventRecord[]) => EventRecord[] | void): Promise<LedgerExport> {
  const ledger = await readExport(f.dir);
  const assets = change(ledger.assets) ?? ledger.assets;
  const copy = await mkdtemp(join(tmpdir(), "loanledger-forged-"));
  await writeExport(copy, { ...ledger, assets });
  return readExport(copy);
}

function named(assets: EventRecord[], event: string, loanId?: string): EventRecord {
  const found = assets.find(
    (r) => r.event === event && (loanId === undefined || formatLoanId(toLoanId(String(r.args.loanId))) === loanId),
  );
  expect(found, event).to.not.equal(undefined);
  return found!;
}

/** [check, loan, entry] of each finding. */
const findingsOf = (report: Awaited<ReturnType<typeof verifyLedger>>) =>
  report.findings.map((x) => [x.check, x.loanId, x.entry]);

/** The 1-based entry of `loanId`'s history whose fact the collateral registry added in `event`'s transaction. */
function entryOf(ledger: LedgerExport, loanId: string, event: EventRecord): number {
  const history = ledger.loans.filter((r) => r.loanId === loanId);
  const registry = String(ledger.contracts?.CollateralRegistry).toLowerCase();
  return (
    history.findIndex(
      (r) =>
        r.transactionHash === event.transactionHash &&
        r.fact.kind === "External" &&
        String(r.fact.source).toLowerCase() === registry,
    ) + 1
  );
}

describe("audit: collateral facts checked against the collateral events", function () {
  it("verifies an honest export with pledges, a release, a revaluation, a seizure and a disposal", async function () {
    const f = await loadFixture(collateralLedgerFixture);
    const ledger = await readExport(f.dir);
    expect(new Set(ledger.assets.map((r) => r.event))).to.include.members([
      "CollateralPledged",
      "LienReleased",
      "CollateralRevalued",
      "CollateralSeized",
      "CollateralDisposed",
      "DisposalAllocated",
    ]);
    const report = await verifyLedger(ledger, { proof: await proveExport(ledger, ethers.provider) });
    expect(report.findings).to.deep.equal([]);
    expect(report.checks).to.have.property("collateral");
    expect((await verifyExport(f.dir)).findings).to.deep.equal([]);
  });

  it("names the entry whose pledge was changed in the export", async function () {
    const f = await loadFixture(collateralLedgerFixture);
    const ledger = await forged(f, (assets) => {
      const pledge = named(assets, "CollateralPledged", f.loanB);
      pledge.args.securedAmount = String(BigInt(String(pledge.args.securedAmount)) * 2n);
    });
    const pledge = named(ledger.assets, "CollateralPledged", f.loanB);
    const entry = entryOf(ledger, f.loanB, pledge);
    const report = await verifyLedger(ledger);
    expect(findingsOf(report)).to.deep.include(["collateral", f.loanB, entry]);
    expect(findingsOf(report)).to.deep.include(["collateral", f.loanB, undefined]);
    expect(report.findings.every((x) => x.loanId === f.loanB)).to.equal(true);
  });

  it("names every loan whose revaluation, or whose share of a sale, was changed", async function () {
    const f = await loadFixture(collateralLedgerFixture);
    const revalued = await forged(f, (assets) => {
      named(assets, "CollateralRevalued").args.appraisalValue = String(90_000n * UNIT);
    });
    const revaluation = named(revalued.assets, "CollateralRevalued");
    expect(findingsOf(await verifyLedger(revalued))).to.deep.equal([
      ["collateral", f.loanA, entryOf(revalued, f.loanA, revaluation)],
      ["collateral", f.loanB, entryOf(revalued, f.loanB, revaluation)],
      ["collateral", f.loanD, entryOf(revalued, f.loanD, revaluation)],
    ]);

    const sold = await forged(f, (assets) => {
      const allocation = named(assets, "DisposalAllocated", f.loanB);
      allocation.args.amount = String(BigInt(String(allocation.args.amount)) + UNIT);
    });
    const report = await verifyLedger(sold);
    expect(report.findings.map((x) => [x.check, x.loanId])).to.deep.include(["collateral", f.loanB]);
    expect(report.findings.some((x) => x.loanId === f.loanA)).to.equal(false);
  });

  it("names every lien's loan, the surviving one too, when a sale's document is changed", async function () {
    const f = await loadFixture(collateralLedgerFixture);
    const ledger = await forged(f, (assets) => {
      named(assets, "CollateralDisposed").args.saleDocHash = id("another sale contract");
    });
    const sale = named(ledger.assets, "CollateralDisposed");
    // Every lien's loan records the sale, the surviving one too (with nothing allocated to it); the two allocations
    // then have no fact of theirs either.
    expect(findingsOf(await verifyLedger(ledger))).to.deep.equal([
      ...[f.loanA, f.loanB, f.loanD].map((loanId) => ["collateral", loanId, entryOf(ledger, loanId, sale)]),
      ["collateral", f.loanA, undefined],
      ["collateral", f.loanB, undefined],
    ]);
  });

  it("names a fact whose collateral event was dropped, and an event whose fact is missing", async function () {
    const f = await loadFixture(collateralLedgerFixture);
    const honest = await readExport(f.dir);
    const release = named(honest.assets, "LienReleased", f.loanC);
    const dropped = await forged(f, (assets) => assets.filter((r) => r.event !== "LienReleased"));
    expect(findingsOf(await verifyLedger(dropped))).to.deep.equal([
      ["collateral", f.loanC, entryOf(honest, f.loanC, release)],
    ]);

    // A seizure the export invents for loan B, in a transaction of its own: its fact is nowhere in B's history.
    const invented = await forged(f, (assets) => {
      const seized = named(assets, "CollateralSeized", f.loanA);
      const copy = { ...seized, args: { ...seized.args, loanId: String(toLoanId(f.loanB)) } };
      assets.push({ ...copy, transactionHash: "0x" + "ab".repeat(32), logIndex: 9_999 });
      assets.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
    });
    const report = await verifyLedger(invented);
    expect(findingsOf(report)).to.deep.equal([["collateral", f.loanB, undefined]]);
    expect(report.findings[0].message).to.match(/CollateralSeized of asset \d+ has no fact in the loan's history/);
  });
});
