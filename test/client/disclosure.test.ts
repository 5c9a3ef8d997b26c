import { expect } from "chai";
import { id, MaxUint256, ZeroHash } from "ethers";
import {
  DisclosureClient,
  loanIdOf,
  LoanRegistryClient,
  LoanStatus,
  reportFromFigures,
  Role,
  SplitterClient,
  toAddress,
  type KeyFigures,
} from "../../src/client/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, termsFor, time } from "../fixtures.js";

const UNIT = 10n ** 18n;

/**
 * Platform A's month with everything a disclosure counts: a loan from the month before still outstanding, three
 * originations in the month (one repaid through the splitter with a reserve contribution, one overdue, one defaulted
 * and settled by an insurance claim), and two lenders.
 */
async function monthFixture() {
  const f = await deployAllianceFixture();
  const [insurer, lender2] = (await ethers.getSigners()).slice(7, 9);
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 3650 * DAY);
  for (const account of [insurer, f.platformA, f.lender, lender2]) {
    await f.token.mint(account, 10_000_000n * UNIT);
    for (const spender of [f.insurance, f.splitter, f.waterfall]) {
      await f.token.connect(account).approve(spender, MaxUint256);
    }
  }
  await f.insurance.connect(insurer).depositCapital(500_000n * UNIT);
  const loans = f.loans.connect(f.platformA);
  const short = { period: 5 * DAY, gracePeriod: DAY, defaultThreshold: 3 * DAY, installments: 4 };

  const earlier = await termsFor(f.platformA, { principal: 30_000n * UNIT });
  await loans.anchorLoan(earlier);
  await loans.activateLoan(earlier);

  // The month starts; everything below happens within its first three weeks.
  const now = new Date((await time.latest()) * 1000);
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) / 1000;
  await time.increaseTo(monthStart + 3_600);
  const period = new Date(monthStart * 1000).toISOString().slice(0, 7);

  const repaid = await termsFor(f.platformA, { principal: 20_000n * UNIT, ...short });
  const overdue = await termsFor(f.platformA, { principal: 50_000n * UNIT, ...short });
  const defaulted = await termsFor(f.platformA, { principal: 100_000n * UNIT, ...short });
  await loans.anchorLoans([repaid, overdue, defaulted]);
  const config = (insurerAddress: string) => ({
    borrowerPayout: f.outsider.address,
    insurer: insurerAddress,
    platformFeeBps: 100,
    premiumBps: 80,
    reserveBps: 50,
  });
  await f.splitter.connect(f.platformA).openFunding(repaid, config(insurer.address));
  await f.splitter.connect(f.platformA).openFunding(defaulted, config(insurer.address));
  await f.insurance.connect(insurer).writePolicy(defaulted, 6_000, (await time.latest()) + 365 * DAY);
  await f.splitter.connect(f.lender).fund(repaid, 20_000n * UNIT);
  await f.splitter.connect(f.lender).fund(defaulted, 40_000n * UNIT);
  await f.splitter.connect(lender2).fund(defaulted, 60_000n * UNIT);
  await loans.activateLoan(overdue);

  await time.increase(5 * DAY);
  const [, total] = await f.splitter.amountDue(repaid);
  const repayment = await (await f.splitter.connect(f.platformA).repayLoan(repaid, total, ZeroHash)).wait();
  const split = f.splitter.interface.parseLog(
    repayment!.logs.find((l) => l.topics[0] === f.splitter.interface.getEvent("RepaymentSplit").topicHash)!,
  )!;
  await time.increase(DAY + 1);
  await loans.markLate(overdue);
  await loans.markLate(defaulted);
  await time.increase(3 * DAY);
  await loans.markDefaulted(defaulted);
  const settlement = await (await f.waterfall.connect(f.platformA).settle(defaulted)).wait();
  const claim = f.insurance.interface.parseLog(
    settlement!.logs.find((l) => l.topics[0] === f.insurance.interface.getEvent("ClaimPaid").topicHash)!,
  )!;

  const client = (signer: typeof f.platformA) => {
    const registry = new LoanRegistryClient(String(f.loans.target), signer);
    return new DisclosureClient(String(f.disclosures.target), signer, {
      loans: registry,
      splitter: new SplitterClient(String(f.splitter.target), signer, registry),
      insurance: String(f.insurance.target),
    });
  };
  return {
    ...f,
    period,
    earlier,
    repaid,
    overdue,
    defaulted,
    reserveContributed: split.args.split.reserve as bigint,
    claimPaid: claim.args.paid as bigint,
    asPlatform: client(f.platformA),
    asAuditor: client(f.auditor),
  };
}

/** The month's figures worked out from the chain's state by hand, as an honest platform would disclose them. */
async function honestFigures(f: Awaited<ReturnType<typeof monthFixture>>): Promise<KeyFigures> {
  const state = async (terms: typeof f.repaid) => f.loans.loanState(loanIdOf(terms));
  const [earlier, repaid, overdue, defaulted] = await Promise.all(
    [f.earlier, f.repaid, f.overdue, f.defaulted].map(state),
  );
  expect([earlier, repaid, overdue, defaulted].map((s) => Number(s.status))).to.deep.equal([
    LoanStatus.Active,
    LoanStatus.Active,
    LoanStatus.Late,
    LoanStatus.Defaulted,
  ]);
  const open =
    earlier.outstandingPrincipal +
    repaid.outstandingPrincipal +
    overdue.outstandingPrincipal +
    defaulted.outstandingPrincipal;
  return {
    loansOriginated: 3,
    volume: 170_000n * UNIT,
    outstandingPrincipal: open,
    overdueRateBps: Number((overdue.outstandingPrincipal * 10_000n) / open),
    badDebtRateBps: Number((defaulted.outstandingPrincipal * 10_000n) / open),
    borrowers: 1,
    lenders: 2,
    reserveContributed: f.reserveContributed,
    insuranceClaimsPaid: f.claimPaid,
  };
}

describe("DisclosureClient: checking a disclosure against the ledger", function () {
  it("computes a month's figures from originations, repayments, overdue loans and claims", async function () {
    const f = await loadFixture(monthFixture);
    const expected = await honestFigures(f);
    expect(f.reserveContributed > 0n && f.claimPaid > 0n).to.equal(true);
    expect(await f.asAuditor.ledgerFigures(toAddress(f.platformA.address), f.period)).to.deep.equal(expected);
  });

  it("passes an honest disclosure and names every figure an under-reporting one hides", async function () {
    const f = await loadFixture(monthFixture);
    const platform = toAddress(f.platformA.address);
    const honest = await honestFigures(f);
    await f.asPlatform.publish(reportFromFigures(platform, f.period, honest));
    expect(await f.asAuditor.check(platform, f.period)).to.deep.equal([]);

    const hidden = { ...honest, loansOriginated: 2, volume: 70_000n * UNIT, insuranceClaimsPaid: 0n };
    await f.asPlatform.publish(reportFromFigures(platform, f.period, hidden), true);
    expect(await f.asAuditor.check(platform, f.period)).to.deep.equal([
      { figure: "loansOriginated", disclosed: 2, ledger: 3 },
      { figure: "volume", disclosed: 70_000n * UNIT, ledger: 170_000n * UNIT },
      { figure: "insuranceClaimsPaid", disclosed: 0n, ledger: f.claimPaid },
    ]);
  });

  it("counts only the month: the month before has its own originations and none of this month's claims", async function () {
    const f = await loadFixture(monthFixture);
    const before = new Date(Date.parse(`${f.period}-01T00:00:00Z`) - DAY * 1000).toISOString().slice(0, 7);
    const figures = await f.asAuditor.ledgerFigures(toAddress(f.platformA.address), before);
    expect(figures).to.include({ loansOriginated: 1, volume: 30_000n * UNIT, insuranceClaimsPaid: 0n, lenders: 0 });
    expect(figures.reserveContributed).to.equal(0n);
  });

  it("reads the ledger in a few bulk log queries, however many loans the platform has", async function () {
    const f = await loadFixture(monthFixture);
    const provider = ethers.provider;
    const getLogs = provider.getLogs.bind(provider);
    let queries = 0;
    provider.getLogs = async (filter) => {
      queries += 1;
      return getLogs(filter);
    };
    try {
      await f.asAuditor.ledgerFigures(toAddress(f.platformA.address), f.period);
    } finally {
      provider.getLogs = getLogs;
    }
    // One query per 2 000 blocks: the fixture's chain is a few dozen blocks long.
    expect(queries).to.equal(1);
  });
});
