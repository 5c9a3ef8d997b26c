import { expect } from "chai";
import { id, MaxUint256, Signature, ZeroHash } from "ethers";
import {
  AssetClass,
  assetKey,
  CollateralClient,
  decodeLoanFact,
  describeFact,
  factHash,
  formatLoanId,
  GENESIS_HEAD,
  loanIdOf,
  LoanRegistryClient,
  nextHead,
  Role,
  toLoanId,
  writerFactHash,
  type AssetId,
  type AuditSources,
  type LoanTerms,
  type WriterFact,
} from "../../src/client/index.js";
import { checkLedger, collectLedger, type LedgerExport, type LoanHistory, loanHistory } from "../../src/audit/index.js";
import { run } from "../cli/helpers.js";
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
 * A book with a fact of nearly every kind. Loan A (platform A) is insured, funded through the splitter by two lenders and
 * secured by a car; it defaults, the car is seized and sold, the loss is settled, a late recovery is shared and the
 * lenders are paid. Loan B (platform B) holds the car's second lien, is repaid once, amended, handed over to platform A
 * and defaults. Loan C's flat is released once it is cancelled.
 */
async function everyFactFixture() {
  const f = await deployAllianceFixture();
  const [owner, custodian, insurer, lender2, payer] = (await ethers.getSigners()).slice(12, 17);
  await f.alliance.admitMember(custodian, Role.Custodian, id("custodian licence"));
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 3650 * DAY);
  for (const account of [insurer, f.platformA, f.platformB, f.lender, lender2, payer]) {
    await f.token.mint(account, 10_000_000n * UNIT);
    for (const spender of [f.insurance, f.reserve, f.splitter, f.waterfall, f.collateral]) {
      await f.token.connect(account).approve(spender, MaxUint256);
    }
  }
  await f.insurance.connect(insurer).depositCapital(200_000n * UNIT);
  await f.reserve.connect(f.platformA).deposit(20_000n * UNIT);

  const car = assetKey(AssetClass.Vehicle, "LSVAU2180N2183294", ALLIANCE_KEY);
  const flat = assetKey(AssetClass.RealEstate, "BJ-2024-0001234", ALLIANCE_KEY);
  await f.collateral.connect(f.platformA).registerCollateral(car, owner, AssetClass.Vehicle, 80_000n * UNIT, id("car"));
  await f.collateral
    .connect(f.platformB)
    .registerCollateral(flat, owner, AssetClass.RealEstate, 300_000n * UNIT, id("flat"));
  const loanA = await termsFor(f.platformA, { principal: 50_000n * UNIT });
  const loanB = await termsFor(f.platformB, { principal: 20_000n * UNIT });
  const loanC = await termsFor(f.platformB, { principal: 100_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(loanA);
  await f.loans.connect(f.platformB).anchorLoans([loanB, loanC]);

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
  await pledge(flat, loanC, 100_000n * UNIT, 1);
  await f.loans.connect(f.platformB).cancelLoan(loanC);
  await f.collateral.connect(f.outsider).release(flat, loanIdOf(loanC));

  await f.splitter.connect(f.platformA).openFunding(loanA, {
    borrowerPayout: owner.address,
    insurer: insurer.address,
    platformFeeBps: 100,
    premiumBps: 80,
    reserveBps: 50,
  });
  await f.insurance.connect(insurer).writePolicy(loanA, 6_000, (await time.latest()) + 365 * DAY);
  await f.splitter.connect(f.lender).fund(loanA, 20_000n * UNIT);
  await f.splitter.connect(lender2).fund(loanA, 30_000n * UNIT);
  await f.loans.connect(f.platformB).activateLoan(loanB);
  await f.collateral.connect(custodian).revalue(car, 70_000n * UNIT, id("car, second appraisal"), [loanA, loanB]);
  await time.increase(30 * DAY);
  const clientB = new LoanRegistryClient(String(f.loans.target), f.platformB);
  const due = await clientB.nextPayment(loanIdOf(loanB));
  await f.loans.connect(f.platformB).recordPayment(loanB, due.principal + due.interest, ZeroHash);
  await f.loans.connect(f.platformB).amendDocument(loanB, id("loan B, amendment 1"));
  await f.succession.transferServicing([loanB], f.platformA);

  await time.increase(34 * DAY);
  await f.loans.connect(f.platformA).markLate(loanA);
  await f.loans.connect(f.platformA).markLate(loanB);
  await time.increase(90 * DAY);
  await f.loans.connect(f.platformA).markDefaulted(loanA);
  await f.loans.connect(f.platformA).markDefaulted(loanB);
  await f.collateral.connect(f.platformA).seize(car, loanA);
  await proposeSale(f.collateral, f.platformA, car, loanA, 30_000n * UNIT, { custodian });
  await f.collateral.connect(f.platformA).dispose(car, [loanA, loanB]);
  await f.waterfall.connect(f.platformA).settle(loanA);
  await f.waterfall.connect(payer).recover(loanA, 1_000n * UNIT);
  await f.splitter.payout(loanIdOf(loanA), [f.lender.address, lender2.address]);

  const sources: AuditSources = {
    loans: f.clientFor(f.auditor).loans,
    alliance: f.alliance,
    splitter: f.splitter,
    collateral: f.collateral,
    insurance: f.insurance,
    reserve: f.reserve,
    waterfall: f.waterfall,
  };
  return {
    ...f,
    ledger: await collectLedger(sources),
    loanIds: [loanA, loanB, loanC].map((terms) => loanIdOf(terms)),
  };
}

type Fixture = Awaited<ReturnType<typeof everyFactFixture>>;

async function histories(f: Fixture): Promise<LoanHistory[]> {
  const auditor = f.clientFor(f.auditor).loans;
  return Promise.all(f.loanIds.map((loanId) => loanHistory(auditor, loanId)));
}

/**
 * The export with the fact hash of entry `entry` of loan `loanId` replaced by `forged` and every head from it on
 * recomputed, heads.json included: a forger who knows the chaining leaves no broken head behind.
 */
function withForgedFact(ledger: LedgerExport, loanId: string, entry: number, forged: string): LedgerExport {
  let head = GENESIS_HEAD;
  let seen = 0;
  const loans = ledger.loans.map((record) => {
    if (record.loanId !== loanId) return record;
    seen += 1;
    const fact = seen === entry ? { ...record.fact, factHash: forged } : record.fact;
    head = nextHead(head, factHash(toLoanId(loanId), decodeLoanFact(String(fact.kind), fact)!));
    return { ...record, fact, head };
  });
  return { ...ledger, loans, heads: { ...ledger.heads, [loanId]: head } };
}

describe("history facts: every kind decoded, labelled and checked", function () {
  it("proves every External fact of `loan history` as the writer's fact of its transaction, of every kind", async function () {
    const f = await loadFixture(everyFactFixture);
    const kinds = new Set<string>();
    for (const history of await histories(f)) {
      expect(history.findings, formatLoanId(history.loanId)).to.deep.equal([]);
      expect(history.verified).to.equal(true);
      for (const entry of history.entries) {
        kinds.add(entry.fact.kind);
        if (entry.fact.kind !== "External") continue;
        expect(entry.writerFact, `entry of ${entry.transactionHash}`).to.not.equal(undefined);
        // The hash the registry recorded is the hash of the decoded fact.
        expect(writerFactHash(entry.writerFact!)).to.equal(entry.fact.factHash);
        kinds.add(entry.writerFact!.kind);
      }
    }
    expect([...kinds]).to.include.members([
      "Anchored",
      "StatusChanged",
      "RepaymentRecorded",
      "DocumentAmended",
      "External",
      "ServicingDelegated",
      "LossRecorded",
      "ServicerChanged",
      "FundingOpened",
      "RecoveryReceived",
      "PayoutsPushed",
      "LossSettled",
      "RecoveryApplied",
      "CollateralPledged",
      "LienReleased",
      "CollateralSeized",
      "CollateralDisposed",
      "CollateralRevalued",
    ]);
  });

  it("labels each entry of `loan history` by its own kind: a loss, a hand-over or a sale is never 'anchored'", async function () {
    const f = await loadFixture(everyFactFixture);
    const [, historyB] = await histories(f);
    const out = await run(f, f.auditor, ["loan", "history", formatLoanId(historyB.loanId)]);
    expect(out.code, out.err).to.equal(0);
    const rows = out.out.split("\n").filter((line) => /^\s*\d+\s/.test(line));
    expect(rows).to.have.length(historyB.entries.length);
    expect(rows.filter((row) => / anchored /.test(row))).to.have.length(1);
    expect(rows.some((row) => /loss recorded: principal/.test(row))).to.equal(true);
    expect(rows.some((row) => /servicing handed over from 0x/.test(row))).to.equal(true);
    expect(rows.some((row) => /asset \d+ pledged for .* at priority 2 \(CollateralRegistry 0x/.test(row))).to.equal(
      true,
    );
    expect(rows.some((row) => /asset \d+ revalued at /.test(row))).to.equal(true);
    expect(rows.some((row) => /asset \d+ sold for .* of it to this loan/.test(row))).to.equal(true);
    expect(rows.some((row) => /unrecognised fact/.test(row))).to.equal(false);
    // Each row says what the table says of its entry.
    historyB.entries.forEach((entry, i) => {
      const label = describeFact(entry.fact, entry.writerFact, () => "");
      expect(rows[i].includes(label.replace(/ +/g, " ").split(" ").slice(0, 2).join(" ")), rows[i]).to.equal(true);
    });
  });

  it("names the loan and entry of any External fact forged in an export, whichever kind it claims to be", async function () {
    const f = await loadFixture(everyFactFixture);
    expect(checkLedger(f.ledger).findings).to.deep.equal([]);
    const writers = new Set(
      [f.ledger.contracts!.RepaymentSplitter, f.ledger.contracts!.LossWaterfall].map((a) => a.toLowerCase()),
    );
    const forgeries = new Map<string, number>();
    for (const history of await histories(f)) {
      const loanId = formatLoanId(history.loanId);
      for (const [i, entry] of history.entries.entries()) {
        if (entry.fact.kind !== "External") continue;
        const writerFact = entry.writerFact as WriterFact;
        // The same event's fact with one amount or reference changed: what a forger who rewrote the event would chain.
        const changed = Object.fromEntries(
          Object.entries(writerFact).map(([key, value]) => [key, typeof value === "bigint" ? value + 1n : value]),
        ) as WriterFact;
        const forged =
          JSON.stringify(changed, (_, v) => (typeof v === "bigint" ? String(v) : v)) !==
          JSON.stringify(writerFact, (_, v) => (typeof v === "bigint" ? String(v) : v))
            ? writerFactHash(changed)
            : id(`another ${writerFact.kind}`);
        const report = checkLedger(withForgedFact(f.ledger, loanId, i + 1, forged));
        const check = writers.has(entry.fact.source.toLowerCase()) ? "fact" : "collateral";
        // The forged entry is named by its loan and index; the writer's event it no longer matches is named too.
        expect(
          report.findings.map((x) => [x.check, x.loanId, x.entry]),
          `${writerFact.kind} of ${loanId}`,
        ).to.deep.include([check, loanId, i + 1]);
        expect(report.findings.find((x) => x.entry === i + 1)?.message).to.match(
          new RegExp(`^entry ${i + 1}: the fact ${forged} of .* is the hash of none of its events in that transaction`),
        );
        forgeries.set(writerFact.kind, (forgeries.get(writerFact.kind) ?? 0) + 1);
      }
    }
    expect([...forgeries.keys()]).to.include.members([
      "FundingOpened",
      "RecoveryReceived",
      "PayoutsPushed",
      "LossSettled",
      "RecoveryApplied",
      "CollateralPledged",
      "LienReleased",
      "CollateralSeized",
      "CollateralDisposed",
      "CollateralRevalued",
    ]);
  });

  it("names a fact added by a contract that is none of the suite's history writers", async function () {
    const f = await loadFixture(everyFactFixture);
    const loanId = formatLoanId(f.loanIds[0]);
    const contracts = { ...f.ledger.contracts!, CollateralRegistry: "0x" + "11".repeat(20) };
    const report = checkLedger({ ...f.ledger, contracts });
    const pledge = f.ledger.loans.filter((r) => r.loanId === loanId).findIndex((r) => r.fact.kind === "External") + 1;
    expect(report.findings.find((x) => x.loanId === loanId && x.entry === pledge)?.message).to.match(
      /which is none of the suite's history writers/,
    );
  });
});
