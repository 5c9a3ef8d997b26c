import { expect } from "chai";
import fc from "fast-check";
import {
  id,
  MaxUint256,
  Signature,
  ZeroAddress,
  type ContractTransactionResponse,
  type Interface,
  type Log,
  ZeroHash,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  AssetClass,
  assetKey,
  borrowerRef,
  CollateralClient,
  ContractError,
  LienStatus,
  AssetStatus,
  LoanRegistryClient,
  loanIdOf,
  LoanStatus,
  Role,
  toLoanLedgerError,
  type AssetId,
  type LoanId,
  type LoanTerms,
} from "../src/client/index.js";
import {
  ALLIANCE_KEY,
  DAY,
  deployAllianceFixture,
  ethers,
  loadFixture,
  NATIONAL_IDS,
  pinNextBlock,
  termsFor,
  time,
} from "./fixtures.js";
import { loanHistory } from "../src/audit/index.js";

/*
 * The whole suite as a state machine: random sequences of every public action, by honest and hostile actors, with the
 * rules of DESIGN.md ("Rules that hold against every member") checked after every step. A short run is part of
 * `npm test`; `npm run fuzz -- --runs N --seed S --steps K` runs a long one (FUZZ_RUNS / FUZZ_SEED / FUZZ_STEPS).
 * FUZZ_STATS=1 prints how often each action succeeded or met each refusal; FUZZ_VERBOSE=1 prints a failing run's steps;
 * FUZZ_SHRINK=0 reports the first failure unshrunk. On failure fast-check prints the seed, the replay path and the
 * shrunk counterexample.
 */

const UNIT = 10n ** 18n;
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const STEPS = Number(process.env.FUZZ_STEPS ?? 80);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const FuzzPhase = { None: 0, Funding: 1, Funded: 2, Cancelled: 3, Repaid: 4, Recovered: 5 } as const;

async function suiteFixture() {
  const f = await deployAllianceFixture();
  const s = await ethers.getSigners();
  const [insurer, lender2, lender3, borrower, payer, custodian] = [s[7], s[8], s[9], s[10], s[11], s[12]];
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  await f.alliance.admitMember(custodian, Role.Custodian, id("custodian licence"));
  const kyc = (await time.latest()) + 3650 * DAY;
  await f.alliance.connect(f.platformA).allowLender(f.lender, kyc);
  await f.alliance.connect(f.platformA).allowLender(lender2, kyc);
  // Platform B's colluding lender: B allowlisted it itself.
  await f.alliance.connect(f.platformB).allowLender(lender3, kyc);
  // Platform B may lend on others' loans; the rules must keep it from taking a share of its own.
  await f.alliance.connect(f.platformA).allowLender(f.platformB, kyc);
  const suite = [f.splitter, f.insurance, f.reserve, f.waterfall, f.collateral];
  const external = [
    f.platformA,
    f.platformB,
    f.lender,
    lender2,
    lender3,
    borrower,
    payer,
    insurer,
    f.outsider,
    custodian,
  ];
  let minted = 0n;
  for (const account of external) {
    await f.token.mint(account, 100_000_000n * UNIT);
    minted += 100_000_000n * UNIT;
    for (const spender of suite) await f.token.connect(account).approve(spender, MaxUint256);
  }
  await f.insurance.connect(insurer).depositCapital(1_000_000n * UNIT);
  await f.reserve.connect(f.platformA).deposit(50_000n * UNIT);
  await f.reserve.connect(f.platformB).deposit(10_000n * UNIT);
  // Short seasoning, so that runs of a few dozen steps reach reserve compensation.
  const { coverageBps, capPerLoan, quotaMultipleBps } = await f.reserve.policy();
  await f.reserve.setPolicy({
    coverageBps,
    capPerLoan,
    quotaMultipleBps,
    minLoanAge: 20 * DAY,
    minInstallmentsPaid: 1,
  });
  const assets = ["LSVAU2180N2183294", "WDD2050461F123456", "EQ-77-0042"].map((o) =>
    assetKey(AssetClass.Vehicle, o, ALLIANCE_KEY),
  );
  for (const [i, asset] of assets.entries()) {
    await f.collateral
      .connect(f.platformA)
      .registerCollateral(
        asset,
        borrower,
        AssetClass.Vehicle,
        BigInt(30 + 30 * i) * 1_000n * UNIT,
        id(`appraisal ${i}`),
      );
  }
  return { ...f, insurer, lender2, lender3, borrower, payer, custodian, suite, external, assets, minted };
}
type Suite = Awaited<ReturnType<typeof suiteFixture>>;

interface Loan {
  terms: LoanTerms;
  id: LoanId;
}
interface Model {
  loans: Loan[];
  minted: bigint;
  /** What the reserve's own events say came in and went out. */
  reserveTracked: bigint;
  /** Per loan: what the splitter paid to (or swept from) its lenders, by its events. */
  lendersReceived: Map<string, bigint>;
  /** Per loan and lender: what it committed, and what it was paid (pushed or claimed). */
  committedBy: Map<string, bigint>;
  paidTo: Map<string, bigint>;
  /** Loans whose shares changed hands: each lender's bound then depends on the price, only the loan's total is checked. */
  traded: Set<string>;
  /** Loans whose money moved in the last step, whose history is checked. */
  touched: Set<string>;
  expelled: boolean;
  log: string[];
}
interface Real {
  f: Suite;
}

/** Contract errors a random step may legitimately meet; anything else fails the property. */
const EXPECTED = new Set([
  "AllianceRegistryInvalidStatusTransition",
  "LoanRegistryUnauthorized",
  "LoanRegistryNotActivePlatform",
  "LoanRegistryInvalidTransition",
  "LoanRegistryNotServiceable",
  "LoanRegistryNotOverdue",
  "LoanRegistryDefaultThresholdNotReached",
  "LoanRegistryFundingDeadlinePassed",
  "LoanRegistryNotYetPublic",
  "LoanRegistryLoanNotOpen",
  "LoanRegistryNotLienholder",
  "LoanRegistryInstallmentsDue",
  "LoanRegistryNoSuccessor",
  "LoanRegistryInvalidSuccessor",
  "LoanRegistryExposureLimit",
  "LoanRegistryUnknownLoan",
  "RepaymentSplitterWrongPhase",
  "RepaymentSplitterOwnLoan",
  "RepaymentSplitterNotPlatform",
  "RepaymentSplitterFundingDeadlinePassed",
  "RepaymentSplitterFundingStillOpen",
  "RepaymentSplitterServicerExpelled",
  "RepaymentSplitterPaymentBelowDue",
  "RepaymentSplitterPaymentExceedsDue",
  "RepaymentSplitterNothingToClaim",
  "RepaymentSplitterInsufficientShares",
  "RepaymentSplitterNotAllowedLender",
  "RepaymentSplitterZeroAmount",
  "RepaymentSplitterNotWrittenOff",
  "AllianceRegistryUnknownLender",
  // Runs span years of loan time: a lender's KYC may lapse.
  "AllianceRegistryLenderKycExpired",
  "AllianceRegistrySelfVouching",
  "AllianceRegistryNotActivePlatform",
  "AllianceRegistryUnauthorized",
  "LossWaterfallWrongLoanStatus",
  "LossWaterfallNotFunded",
  "LossWaterfallAlreadySettled",
  "LossWaterfallNotSettled",
  "LossWaterfallNotYetPublic",
  "LossWaterfallNothingToRecover",
  "CreditInsuranceWrongPolicyStatus",
  "CreditInsuranceWrongLoanStatus",
  "CreditInsuranceNotNamedInsurer",
  "CreditInsuranceInstallmentUnpaid",
  "CreditInsuranceCapitalLocked",
  "CreditInsuranceUnderCapitalised",
  "CreditInsuranceInvalidPolicy",
  "CollateralRegistryWrongAssetStatus",
  "CollateralRegistryWrongLienStatus",
  "CollateralRegistryLienExists",
  // A new lien ranks behind the asset's liens unless they consent; it secures at most its loan's principal.
  "CollateralRegistryRankTaken",
  "CollateralRegistryRankConsentMissing",
  "CollateralRegistrySecuredAbovePrincipal",
  "CollateralRegistryFirstLiensExceedAppraisal",
  "CollateralRegistryTooManyLiens",
  "CollateralRegistryLoanNotClosed",
  "CollateralRegistryLoanNotDefaulted",
  "CollateralRegistryUnauthorized",
  "CollateralRegistryLossNotMadeWhole",
  "CollateralRegistryNothingToWithdraw",
  // A closed book's lien is only waived; a sale waits for an expelled servicer's successor; a book stays open while its
  // collateral is in custody.
  "CollateralRegistryBookClosed",
  "CollateralRegistryServicerExpelled",
  // A sale waits for a loan still funding against the asset: its lenders may yet lend on that lien.
  "CollateralRegistryLoanInFunding",
  "RepaymentSplitterCollateralInCustody",
  "RiskReserveFundNotPlatform",
]);

async function attempt(m: Model, what: string, step: () => Promise<unknown>): Promise<boolean> {
  try {
    await step();
    m.log.push(`${what}: ok`);
    return true;
  } catch (error) {
    const decoded = toLoanLedgerError(error);
    if (!(decoded instanceof ContractError) || !EXPECTED.has(decoded.errorName)) {
      throw new Error(`${what}: unexpected failure: ${decoded.message}`, { cause: error });
    }
    m.log.push(`${what}: ${decoded.errorName}`);
    return false;
  }
}

/** Sends a transaction and books what its events say into the model. */
async function send(m: Model, r: Real, tx: Promise<ContractTransactionResponse>) {
  const receipt = (await (await tx).wait())!;
  const { f } = r;
  let pushedFor: string | undefined;
  // 5. Every movement of money for a loan extends its history in the same transaction. (A commitment waiting in escrow,
  // and the distribution to lenders of money already recorded, are not movements for the loan.)
  const moved = new Set<string>();
  const extended = new Set<string>();
  const moneyEvents: [{ interface: Interface; target: unknown }, string[]][] = [
    [f.splitter, ["RepaymentSplit", "RecoveryReceived", "Disbursed"]],
    [f.collateral, ["DisposalAllocated"]],
    [f.waterfall, ["RecoveryApplied", "LossSettled"]],
    [f.reserve, ["Compensated", "ReserveReimbursed"]],
    [f.insurance, ["ClaimPaid", "InsurerReimbursed"]],
  ];
  for (const log of receipt.logs as Log[]) {
    if (log.address === f.loans.target) {
      const e = f.loans.interface.parseLog(log);
      if (e && e.fragment.inputs.some((input) => input.name === "head")) extended.add(String(e.args.loanId));
    }
    for (const [contract, names] of moneyEvents) {
      if (log.address !== contract.target) continue;
      const e = contract.interface.parseLog(log);
      if (e && names.includes(e.name)) moved.add(String(e.args.loanId));
    }
  }
  for (const loan of moved) {
    if (!extended.has(loan)) throw new Error(`money moved for loan ${loan} without a fact in its history`);
    m.touched.add(loan);
  }
  for (const log of receipt.logs as Log[]) {
    const at = log.address.toLowerCase();
    if (at === String(f.reserve.target).toLowerCase()) {
      const e = f.reserve.interface.parseLog(log);
      if (!e) continue;
      if (["Deposited", "ContributionsCollected", "ReserveReimbursed"].includes(e.name))
        m.reserveTracked += e.args.amount as bigint;
      if (e.name === "RemaindersCollected") m.reserveTracked += e.args.amount as bigint;
      if (e.name === "Compensated") m.reserveTracked -= e.args.paid as bigint;
    } else if (at === String(f.collateral.target).toLowerCase() || at === String(f.waterfall.target).toLowerCase()) {
      const e = f.collateral.interface.parseLog(log);
      if (e?.name === "MistakenTokensSwept" && e.args.token === f.token.target)
        m.reserveTracked += e.args.amount as bigint;
    } else if (at === String(f.splitter.target).toLowerCase()) {
      const e = f.splitter.interface.parseLog(log);
      if (!e) continue;
      const loan = String(e.args[0]);
      const add = (v: bigint) => m.lendersReceived.set(loan, (m.lendersReceived.get(loan) ?? 0n) + v);
      if (e.name === "PayoutsPushed") add(e.args.paid as bigint);
      if (e.name === "Claimed") add(e.args.amount as bigint);
      if (e.name === "RemainderSwept") add(e.args.amount as bigint);
      if (e.name === "Claimed") bump(m.paidTo, `${loan}|${e.args.lender}`, e.args.amount as bigint);
      if (e.name === "Committed") bump(m.committedBy, `${loan}|${e.args.lender}`, e.args.amount as bigint);
      if (e.name === "ShareTransferred") m.traded.add(loan);
      if (e.name === "PayoutsPushed") pushedFor = loan;
      if (["RepaymentSplit", "RecoveryReceived", "Disbursed"].includes(e.name)) m.touched.add(loan);
    }
  }
  if (pushedFor !== undefined) {
    // A payout serves one loan: each transfer out of the splitter in it pays one of that loan's lenders.
    for (const log of receipt.logs as Log[]) {
      if (log.address !== f.token.target) continue;
      const e = f.token.interface.parseLog(log);
      if (e?.name === "Transfer" && e.args.from === f.splitter.target)
        bump(m.paidTo, `${pushedFor}|${e.args.to}`, e.args.value as bigint);
    }
  }
  return receipt;
}

function bump(map: Map<string, bigint>, key: string, amount: bigint) {
  map.set(key, (map.get(key) ?? 0n) + amount);
}

const mayFail = (m: Model, r: Real, what: string, tx: () => Promise<ContractTransactionResponse>) =>
  attempt(m, what, () => send(m, r, tx()));

function pick<T>(list: readonly T[], i: number): T | undefined {
  return list.length === 0 ? undefined : list[i % list.length];
}

async function servicer(f: Suite, terms: LoanTerms): Promise<HardhatEthersSigner> {
  const s = await f.loans.servicerOf(terms);
  return s === f.platformA.address ? f.platformA : f.platformB;
}

// ---------------------------------------------------------------- invariants

async function checkInvariants(m: Model, r: Real) {
  const { f } = r;
  // 1. Every suite contract's balance covers, to the wei, what it owes.
  let splitterOwes = 0n;
  for (const loan of m.loans) {
    const book = await f.splitter.bookOf(loan.id);
    const phase = Number(book.phase);
    if (phase === FuzzPhase.Funding) splitterOwes += book.committed;
    else if (phase !== FuzzPhase.None) splitterOwes += book.lendersIn - book.lendersPaid;
    // 3. No loan's lenders received more than came in for them.
    expect(book.lendersPaid, `lenders paid beyond lendersIn on ${loan.id}`).to.be.at.most(book.lendersIn);
    expect(m.lendersReceived.get(String(loan.id)) ?? 0n, `payout events of ${loan.id}`).to.equal(book.lendersPaid);
    // ... and no lender more than its pro-rata part of it (rounded down, as the accumulator pays).
    if (book.committed === 0n || m.traded.has(String(loan.id))) continue;
    for (const lender of [f.lender, f.lender2, f.lender3, f.platformB]) {
      const key = `${loan.id}|${lender.address}`;
      const share = ((book.lendersIn * (m.committedBy.get(key) ?? 0n)) / book.committed) as bigint;
      expect(m.paidTo.get(key) ?? 0n, `paid to ${lender.address} on ${loan.id}`).to.be.at.most(share);
    }
  }
  for (const payee of [f.platformA, f.platformB, f.insurer]) splitterOwes += await f.splitter.feesOwed(payee);
  for (const platform of [f.platformA, f.platformB]) splitterOwes += await f.splitter.reserveOwed(platform);
  splitterOwes += await f.splitter.remaindersOwed();
  expect(await f.token.balanceOf(f.splitter), "splitter balance").to.equal(splitterOwes);
  expect(await f.token.balanceOf(f.insurance), "insurance balance").to.equal(
    (await f.insurance.capitalOf(f.insurer)).capital,
  );
  expect(await f.token.balanceOf(f.reserve), "reserve balance").to.equal(m.reserveTracked);
  let kept = 0n;
  for (const account of f.external) kept += await f.collateral.keptFor(account);
  expect(await f.token.balanceOf(f.collateral), "collateral balance").to.equal(kept);
  expect(await f.token.balanceOf(f.waterfall), "waterfall balance").to.equal(0n);
  // 2. Paid in = paid out + held: every token is with an actor or a suite contract, and none was made or destroyed.
  let held = 0n;
  for (const account of [...f.external, ...f.suite]) held += await f.token.balanceOf(account);
  expect(held, "tokens outside the actors and the suite").to.equal(m.minted);
  expect(await f.token.totalSupply()).to.equal(m.minted);
  // 5. Every loan whose money moved has a history that verifies against its head.
  const auditor = f.clientFor(f.auditor).loans;
  for (const loan of m.loans.filter((l) => m.touched.has(String(l.id)))) {
    expect((await loanHistory(auditor, loan.id)).verified, `history of ${loan.id}`).to.equal(true);
  }
  m.touched.clear();
}

// ---------------------------------------------------------------- commands

type Act = (m: Model, r: Real) => Promise<void>;

class Step implements fc.AsyncCommand<Model, Real> {
  constructor(
    private readonly label: string,
    private readonly act: Act,
  ) {}
  check() {
    return true;
  }
  async run(m: Model, r: Real) {
    await this.act(m, r);
    await checkInvariants(m, r);
  }
  toString() {
    return this.label;
  }
}

/** Each command's name, in the order of `commands`, for weighting. */
const NAMES: string[] = [];
function step<T>(name: string, arb: fc.Arbitrary<T>, act: (p: T, m: Model, r: Real) => Promise<void>) {
  NAMES.push(name);
  return arb.map((p) => new Step(`${name}(${fc.stringify(p)})`, (m, r) => act(p, m, r)));
}

const loanAt = (m: Model, i: number) => pick(m.loans, i);

/** Mostly a loan in one of `statuses` (so that sequences go deep), sometimes any loan (so that wrong states are tried). */
async function loanIn(m: Model, r: Real, i: number, ...statuses: LoanStatus[]): Promise<Loan | undefined> {
  if (i % 5 === 0) return loanAt(m, i);
  const ready = [];
  for (const loan of m.loans) {
    if (statuses.includes(Number((await r.f.loans.loanState(loan.id)).status) as LoanStatus)) ready.push(loan);
  }
  return pick(ready, i) ?? loanAt(m, i);
}

const commands = [
  step(
    "anchorAndOpen",
    fc.record({
      b: fc.boolean(),
      principalK: fc.integer({ min: 1, max: 60 }),
      kind: fc.nat(3),
      installments: fc.integer({ min: 1, max: 4 }),
      rate: fc.constantFrom(0, 720, 2_400),
      fees: fc.constantFrom(0, 100),
      premium: fc.constantFrom(0, 80, 80),
      reserve: fc.constantFrom(0, 50),
      borrower: fc.nat(2),
      ownPayout: fc.nat(3).map((n) => n === 0),
      // Left to the fund command, or funded at once: by one lender, split between two, or by B's colluding lender.
      fundedBy: fc.nat(3),
    }),
    async (p, m, { f }) => {
      const platform = p.b ? f.platformB : f.platformA;
      const terms = await termsFor(platform, {
        principal: BigInt(p.principalK) * 1_000n * UNIT + 7n,
        scheduleKind: p.kind as LoanTerms["scheduleKind"],
        // A bullet loan is one installment by definition.
        installments: p.kind === 3 ? 1 : p.installments,
        annualRateBps: p.rate,
        period: 30 * DAY,
        gracePeriod: 3 * DAY,
        defaultThreshold: 30 * DAY,
        borrowerRef: borrowerRef(NATIONAL_IDS[p.borrower], ALLIANCE_KEY),
        fundingDeadline: (await time.latest()) + 40 * DAY,
      });
      if (!(await mayFail(m, { f }, "anchor", () => f.loans.connect(platform).anchorLoan(terms)))) return;
      m.loans.push({ terms, id: loanIdOf(terms) });
      // The malicious platform tries to have the principal paid to itself: refused.
      const payout = p.b && p.ownPayout ? f.platformB.address : f.borrower.address;
      await mayFail(m, { f }, "openFunding", () =>
        f.splitter.connect(platform).openFunding(terms, {
          borrowerPayout: payout,
          insurer: p.premium ? f.insurer.address : ZeroAddress,
          platformFeeBps: p.fees,
          premiumBps: p.premium,
          reserveBps: p.reserve,
        }),
      );
      const part = (terms.principal * 3n) / 10n;
      const plan: [HardhatEthersSigner, bigint][] =
        p.fundedBy === 1
          ? [[f.lender, terms.principal]]
          : p.fundedBy === 2
            ? [
                [f.lender, part],
                [f.lender2, terms.principal],
              ]
            : p.fundedBy === 3
              ? [[f.lender3, terms.principal]]
              : [];
      for (const [lender, amount] of plan) {
        await mayFail(m, { f }, "fund", () => f.splitter.connect(lender).fund(terms, amount));
      }
    },
  ),
  step(
    "fund",
    fc.record({
      loan: fc.nat(),
      lender: fc.nat(3),
      // A dust commitment, a part, or more than is left (which fills what is left).
      bps: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 12_000 }), fc.constant(20_000)),
    }),
    async (p, m, r) => {
      const loan = await loanIn(m, r, p.loan, LoanStatus.Funding);
      if (!loan) return;
      const lender = [r.f.lender, r.f.lender2, r.f.lender3, r.f.platformB][p.lender];
      const amount = p.bps === 1 ? 1n : (loan.terms.principal * BigInt(p.bps)) / 10_000n + 1n;
      await mayFail(m, r, "fund", () => r.f.splitter.connect(lender).fund(loan.terms, amount));
    },
  ),
  step("cancelFunding", fc.record({ loan: fc.nat(), outsider: fc.boolean() }), async (p, m, r) => {
    const loan = loanAt(m, p.loan);
    if (!loan) return;
    const by = p.outsider ? r.f.outsider : await servicer(r.f, loan.terms);
    await mayFail(m, r, "cancelFunding", () => r.f.splitter.connect(by).cancelFunding(loan.terms));
  }),
  step(
    "repay",
    fc.record({ loan: fc.nat(), bps: fc.oneof(fc.constant(10_000), fc.integer({ min: 1, max: 40_000 })) }),
    async (p, m, r) => {
      const loan = await loanIn(m, r, p.loan, LoanStatus.Active, LoanStatus.Late);
      if (!loan) return;
      let total: bigint;
      try {
        [, total] = await r.f.splitter.amountDue(loan.terms);
      } catch {
        m.log.push("repay: nothing due");
        return;
      }
      const amount = (total * BigInt(p.bps)) / 10_000n;
      if (amount === 0n) return;
      await mayFail(m, r, "repay", () => r.f.splitter.connect(r.f.payer).repayLoan(loan.terms, amount, ZeroHash));
    },
  ),
  step("timeJump", fc.integer({ min: 1, max: 45 }), async (days, m) => {
    await time.increase(days * DAY);
    m.log.push(`+${days}d`);
  }),
  step(
    "markLateOrDefault",
    fc.record({ loan: fc.nat(), outsider: fc.boolean(), late: fc.boolean(), wait: fc.boolean() }),
    async (p, m, r) => {
      const loan = await loanIn(m, r, p.loan, LoanStatus.Active, LoanStatus.Late);
      if (!loan) return;
      // Often the borrower stops paying: time runs past the default threshold (and the public delay) first.
      if (p.wait) {
        const delay = p.outsider ? Number((await r.f.loans.alliancePolicy()).publicDefaultDelay) : 0;
        await time.increase(loan.terms.period + loan.terms.gracePeriod + loan.terms.defaultThreshold + delay + DAY);
      }
      const by = p.outsider ? r.f.outsider : await servicer(r.f, loan.terms);
      await mayFail(m, r, p.late ? "markLate" : "markDefaulted", () =>
        p.late ? r.f.loans.connect(by).markLate(loan.terms) : r.f.loans.connect(by).markDefaulted(loan.terms),
      );
    },
  ),
  step("settle", fc.record({ loan: fc.nat(), outsider: fc.boolean() }), async (p, m, r) => {
    const loan = await loanIn(m, r, p.loan, LoanStatus.Defaulted);
    if (!loan) return;
    const by = p.outsider ? r.f.outsider : await servicer(r.f, loan.terms);
    if (await mayFail(m, r, "settle", () => r.f.waterfall.connect(by).settle(loan.terms)))
      m.touched.add(String(loan.id));
  }),
  step("writeOff", fc.nat(), async (i, m, r) => {
    const loan = await loanIn(m, r, i, LoanStatus.Defaulted);
    if (!loan) return;
    await mayFail(m, r, "writeOff", () => r.f.waterfall.connect(r.f.outsider).writeOff(loan.terms));
  }),
  step(
    "recover",
    fc.record({ loan: fc.nat(), amount: fc.bigInt({ min: 1n, max: 80_000n * UNIT }) }),
    async (p, m, r) => {
      const loan = await loanIn(
        m,
        r,
        p.loan,
        LoanStatus.Defaulted,
        LoanStatus.WrittenOff,
        LoanStatus.Active,
        LoanStatus.Late,
      );
      if (!loan) return;
      if (await mayFail(m, r, "recover", () => r.f.waterfall.connect(r.f.payer).recover(loan.terms, p.amount)))
        m.touched.add(String(loan.id));
    },
  ),
  step(
    "pledge",
    fc.record({
      asset: fc.nat(2),
      loan: fc.nat(),
      securedBps: fc.integer({ min: 1, max: 11_000 }),
      priority: fc.integer({ min: 1, max: 3 }),
    }),
    async (p, m, r) => {
      const loan = loanAt(m, p.loan);
      if (!loan) return;
      const { f } = r;
      const secured = (loan.terms.principal * BigInt(p.securedBps)) / 10_000n + 1n;
      const request = { assetId: f.assets[p.asset], loanId: loan.id, securedAmount: secured, priority: p.priority };
      const owner = new CollateralClient(
        String(f.collateral.target),
        f.borrower,
        new LoanRegistryClient(String(f.loans.target), f.borrower),
      );
      let signed;
      try {
        signed = await owner.consent(request, (await time.latest()) + DAY);
      } catch {
        m.log.push("pledge: no consent (asset gone)");
        return;
      }
      const sig = Signature.from(signed.signature);
      const by = await servicer(f, loan.terms);
      await mayFail(m, r, "pledge", () =>
        f.collateral
          .connect(by)
          .pledge(request.assetId, loan.terms, secured, p.priority, signed.deadline, sig.r, sig.yParityAndS),
      );
    },
  ),
  step("seize", fc.record({ asset: fc.nat(2), loan: fc.nat() }), async (p, m, r) => {
    let loan = await loanIn(m, r, p.loan, LoanStatus.Defaulted, LoanStatus.WrittenOff);
    let asset = r.f.assets[p.asset];
    if (p.loan % 5 !== 0) {
      // Mostly a live lien of a loan in default, so that sequences reach disposal.
      const ready: [AssetId, Loan][] = [];
      for (const a of r.f.assets) {
        for (const l of m.loans) {
          const status = Number((await r.f.loans.loanState(l.id)).status);
          if (status !== LoanStatus.Defaulted && status !== LoanStatus.WrittenOff) continue;
          if (Number((await r.f.collateral.lienOf(a, l.id)).status) === LienStatus.Active) ready.push([a, l]);
        }
      }
      const chosen = pick(ready, p.loan);
      if (chosen) [asset, loan] = chosen;
    }
    if (!loan) return;
    const by = await servicer(r.f, loan.terms);
    await mayFail(m, r, "seize", () => r.f.collateral.connect(by).seize(asset, loan!.terms));
  }),
  step(
    "dispose",
    fc.record({ asset: fc.nat(2), proceeds: fc.bigInt({ min: 0n, max: 150_000n * UNIT }) }),
    async (p, m, r) => {
      const seized = [];
      for (const a of r.f.assets)
        if (Number((await r.f.collateral.assetOf(a)).status) === AssetStatus.Seized) seized.push(a);
      await dispose(m, r, pick(seized, p.asset) ?? r.f.assets[p.asset], p.proceeds);
    },
  ),
  step("releaseOrWaive", fc.record({ asset: fc.nat(2), loan: fc.nat(), waive: fc.boolean() }), async (p, m, r) => {
    const loan = loanAt(m, p.loan);
    if (!loan) return;
    const { f } = r;
    if (p.waive) {
      const by = await servicer(f, loan.terms);
      await mayFail(m, r, "waive", () => f.collateral.connect(by).waive(f.assets[p.asset], loan.terms));
    } else {
      await mayFail(m, r, "release", () => f.collateral.connect(f.outsider).release(f.assets[p.asset], loan.id));
    }
  }),
  step("returnSeized", fc.nat(2), async (a, m, r) => {
    await mayFail(m, r, "returnSeized", () => r.f.collateral.connect(r.f.outsider).returnSeized(r.f.assets[a]));
  }),
  step("payout", fc.nat(), async (i, m, r) => {
    const loan = await loanIn(
      m,
      r,
      i,
      LoanStatus.Active,
      LoanStatus.Late,
      LoanStatus.Repaid,
      LoanStatus.Defaulted,
      LoanStatus.Cancelled,
    );
    if (!loan) return;
    const lenders = await r.f.splitter.lendersOf(loan.id, 0, 100);
    await mayFail(m, r, "payout", () => r.f.splitter.connect(r.f.outsider).payout(loan.id, [...lenders]));
  }),
  step("claim", fc.nat(2), async (i, m, r) => {
    const lender = [r.f.lender, r.f.lender2, r.f.lender3][i];
    // A lender (or its wallet) claims over every loan it knows of, whether or not it holds a share of each.
    const ids = m.loans.map((l) => l.id);
    await mayFail(m, r, "claim", () => r.f.splitter.connect(lender).claim(ids, lender.address));
  }),
  step(
    "transferShare",
    fc.record({ loan: fc.nat(), from: fc.nat(2), to: fc.nat(3), bps: fc.integer({ min: 1, max: 10_000 }) }),
    async (p, m, r) => {
      const loan = await loanIn(m, r, p.loan, LoanStatus.Active, LoanStatus.Late);
      if (!loan) return;
      const lenders = [r.f.lender, r.f.lender2, r.f.lender3, r.f.platformB];
      const from = lenders[p.from];
      const shares = ((await r.f.splitter.positionOf(loan.id, from)).shares * BigInt(p.bps)) / 10_000n;
      await mayFail(m, r, "transferShare", () =>
        r.f.splitter.connect(from).transferShare(loan.id, lenders[p.to].address, shares === 0n ? 1n : shares),
      );
    },
  ),
  // Rare: once platform B is gone, its half of the actions only meet refusals.
  step("expelAndSucceed", fc.nat(3), async (p, m, r) => {
    if (p === 0 || m.expelled) await expelAndSucceed(m, r);
  }),
  step(
    "reserve",
    fc.record({ deposit: fc.boolean(), b: fc.boolean(), k: fc.integer({ min: 1, max: 20 }) }),
    async (p, m, r) => {
      const { f } = r;
      if (p.deposit) {
        const platform = p.b ? f.platformB : f.platformA;
        await mayFail(m, r, "reserveDeposit", () => f.reserve.connect(platform).deposit(BigInt(p.k) * 1_000n * UNIT));
      } else {
        await mayFail(m, r, "reserveCollect", () => f.reserve.connect(f.outsider).collect([f.platformA, f.platformB]));
      }
    },
  ),
  step(
    "insurer",
    fc.record({
      loan: fc.nat(),
      action: fc.nat(2),
      coverage: fc.integer({ min: 1, max: 10_000 }),
      days: fc.integer({ min: 1, max: 200 }),
    }),
    async (p, m, r) => {
      const { f } = r;
      const loan = await loanIn(
        m,
        r,
        p.loan,
        LoanStatus.Funding,
        LoanStatus.Active,
        LoanStatus.Repaid,
        LoanStatus.Recovered,
      );
      if (p.action === 2) {
        const { capital, locked } = await f.insurance.capitalOf(f.insurer);
        const free = capital - locked;
        if (free === 0n) return;
        await mayFail(m, r, "withdrawCapital", () =>
          f.insurance.connect(f.insurer).withdrawCapital(free / 2n + 1n, f.insurer),
        );
        return;
      }
      if (!loan) return;
      if (p.action === 0) {
        const end = (await time.latest()) + p.days * DAY;
        await mayFail(m, r, "writePolicy", () =>
          f.insurance.connect(f.insurer).writePolicy(loan.terms, p.coverage, end),
        );
      } else {
        await mayFail(m, r, "releasePolicy", () => f.insurance.connect(f.insurer).releasePolicy(loan.terms));
      }
    },
  ),
  // The malicious platform vouches for itself as a lender, to fund its own loans: refused.
  step("selfVouch", fc.constant(null), async (_p, m, r) => {
    const kyc = (await time.latest()) + 365 * DAY;
    await mayFail(m, r, "selfVouch", () => r.f.alliance.connect(r.f.platformB).allowLender(r.f.platformB, kyc));
  }),
  // The custodian revalues an asset (naming every live lien, whose histories record it): ranks and sales then follow the
  // new appraisal; a platform with a stake in the asset's loans may not.
  step(
    "revalue",
    fc.record({ asset: fc.nat(2), valueK: fc.integer({ min: 1, max: 150 }), byB: fc.boolean() }),
    async (p, m, r) => {
      const { f } = r;
      const liens: LoanTerms[] = [];
      for (const loan of m.loans) {
        if (Number((await f.collateral.lienOf(f.assets[p.asset], loan.id)).status) === LienStatus.Active)
          liens.push(loan.terms);
      }
      const by = p.byB ? f.platformB : f.custodian;
      await mayFail(m, r, "revalue", () =>
        f.collateral.connect(by).revalue(f.assets[p.asset], BigInt(p.valueK) * 1_000n * UNIT, id("revaluation"), liens),
      );
    },
  ),
  step("withdrawFees", fc.nat(2), async (i, m, r) => {
    const payee = [r.f.platformA, r.f.platformB, r.f.insurer][i];
    await mayFail(m, r, "withdrawFees", () => r.f.splitter.connect(payee).withdrawFees(payee));
  }),
  // Governance closes a written-off loan's book (or tries, on a loan in another state): its remainder must still reach
  // the reserve, and no recovery may reach it afterwards.
  step("closeWrittenOff", fc.nat(), async (i, m, r) => {
    const loan = await loanIn(m, r, i, LoanStatus.WrittenOff);
    if (!loan) return;
    await mayFail(m, r, "closeWrittenOff", () => r.f.splitter.connect(r.f.governance).closeWrittenOff(loan.id));
  }),
  // Someone sends settlement tokens to the collateral registry or the waterfall by mistake, and governance sweeps them
  // to the reserve: whatever the registry keeps for failed payments must stay.
  step(
    "mistakeAndSweep",
    fc.record({ at: fc.nat(1), amount: fc.bigInt({ min: 1n, max: 1_000n * UNIT }) }),
    async (p, m, r) => {
      const { f } = r;
      const target = [f.collateral, f.waterfall][p.at];
      await send(m, r, f.token.connect(f.payer).transfer(target, p.amount));
      await send(m, r, target.connect(f.governance).sweepMistakenTokens(f.token));
    },
  ),
];

/** Loans are opened, funded, repaid and left to age more often than the rest, so that runs reach default and loss. */
const often = new Set([
  "anchorAndOpen",
  "fund",
  "repay",
  "timeJump",
  "markLateOrDefault",
  "pledge",
  "settle",
  "seize",
  "dispose",
]);
const weighted = commands.flatMap((c, i) => (often.has(NAMES[i]) ? [c, c, c] : [c]));

async function expelAndSucceed(m: Model, r: Real) {
  const { f } = r;
  if (!m.expelled) {
    if (!(await mayFail(m, r, "expelB", () => f.alliance.expelMember(f.platformB)))) return;
    m.expelled = true;
    await send(m, r, f.succession.appointSuccessor(f.platformB, f.platformA));
  }
  const bLoans = [];
  for (const loan of m.loans) {
    if (loan.terms.platform === f.platformB.address && (await f.loans.servicerOf(loan.terms)) === f.platformB.address)
      bLoans.push(loan.terms);
  }
  if (bLoans.length) await send(m, r, f.succession.connect(f.outsider).takeOverLoans(bLoans));
}

/** The enforcing lien's servicer sells a seized asset; every live lien is discharged in rank order. */
async function dispose(m: Model, r: Real, assetId: bigint, proceeds: bigint) {
  const { f } = r;
  if (Number((await f.collateral.assetOf(assetId)).status) !== AssetStatus.Seized) return;
  const liens: { terms: LoanTerms; priority: number; enforcing: boolean; id: LoanId }[] = [];
  for (const loan of m.loans) {
    const lien = await f.collateral.lienOf(assetId, loan.id);
    const status = Number(lien.status);
    if (status === LienStatus.Active || status === LienStatus.Enforcing)
      liens.push({
        terms: loan.terms,
        priority: Number(lien.priority),
        enforcing: status === LienStatus.Enforcing,
        id: loan.id,
      });
  }
  liens.sort((a, b) => a.priority - b.priority);
  const enforcing = liens.find((l) => l.enforcing)!;
  const seller = await servicer(f, enforcing.terms);
  // The borrower buys its asset back at the auction, subject to the liens of its performing loans, so that later
  // steps can pledge it again; the custodian confirms whatever price the step chose.
  await mayFail(m, r, "proposeSale", () =>
    f.collateral
      .connect(seller)
      .proposeSale(assetId, enforcing.terms, proceeds, f.borrower.address, id("buyer"), id("sale")),
  );
  const proposed = await f.collateral.saleOf(assetId);
  if (proposed.proposedAt === 0n) return;
  await mayFail(m, r, "confirmSale", async () =>
    f.collateral.connect(f.custodian).confirmSale(assetId, await f.collateral.saleProposalHash(assetId)),
  );
  await time.increase((await f.collateral.saleRules())[0]);
  await mayFail(m, r, "dispose", () =>
    f.collateral.connect(seller).dispose(
      assetId,
      liens.map((l) => l.terms),
    ),
  );
  for (const l of liens) m.touched.add(String(l.id));
}

/** Ends a loan still in funding: its servicer gives it up if funding never opened, else anyone past its deadline. */
async function giveUpFunding(m: Model, r: Real, loan: Loan) {
  const { f } = r;
  const { terms } = loan;
  if (Number((await f.splitter.bookOf(loan.id)).phase) === FuzzPhase.None) {
    // Its funding was never opened (the platform's attempt was refused).
    await send(m, r, f.loans.connect(await servicer(f, terms)).cancelLoan(terms));
    return;
  }
  const now = await time.latest();
  if (now <= terms.fundingDeadline) await time.increase(terms.fundingDeadline - now + 1);
  await send(m, r, f.splitter.connect(f.outsider).cancelFunding(terms));
}

/** 4. Every lien can end: legal moves of the parties take every asset to Free or Disposed. */
async function drainLiens(m: Model, r: Real) {
  const { f } = r;
  if (Number((await f.alliance.memberOf(f.platformB)).status) === 3) await expelAndSucceed(m, r);
  for (const [a, assetId] of f.assets.entries()) {
    let round = 0;
    for (; round < 80; round++) {
      const asset = await f.collateral.assetOf(assetId);
      const status = Number(asset.status);
      if (status === AssetStatus.Disposed || (status === AssetStatus.Registered && asset.lienCount === 0n)) break;
      if (status === AssetStatus.Seized) {
        const enforcer = [];
        const funding = [];
        for (const loan of m.loans) {
          const lien = Number((await f.collateral.lienOf(assetId, loan.id)).status);
          if (lien === LienStatus.Enforcing) enforcer.push(loan);
          else if (
            lien === LienStatus.Active &&
            Number((await f.loans.loanState(loan.id)).status) === LoanStatus.Funding
          )
            funding.push(loan);
        }
        if (funding.length > 0) {
          // A sale waits for the loans still funding against the asset: they end first.
          await giveUpFunding(m, r, funding[0]);
        } else if (Number((await f.loans.loanState(enforcer[0].id)).status) === LoanStatus.Recovered) {
          await send(m, r, f.collateral.connect(f.outsider).returnSeized(assetId));
        } else {
          await dispose(m, r, assetId, 10n ** 21n);
        }
        continue;
      }
      let loan: Loan | undefined;
      for (const l of m.loans) {
        if (Number((await f.collateral.lienOf(assetId, l.id)).status) === LienStatus.Active) {
          loan = l;
          break;
        }
      }
      const { terms } = loan!;
      const by = await servicer(f, terms);
      const state = Number((await f.loans.loanState(loan!.id)).status) as LoanStatus;
      if (state === LoanStatus.Funding) {
        await giveUpFunding(m, r, loan!);
      } else if (state === LoanStatus.Active || state === LoanStatus.Late) {
        // Quoted at the very second it is paid: a day or grace boundary between quote and payment would raise the due.
        await pinNextBlock();
        const [, total] = await f.splitter.amountDue(terms, { blockTag: "pending" });
        await send(m, r, f.splitter.connect(f.payer).repayLoan(terms, total, ZeroHash));
      } else if (state === LoanStatus.Defaulted) {
        await send(m, r, f.collateral.connect(by).seize(assetId, terms));
      } else if (state === LoanStatus.WrittenOff) {
        await send(m, r, f.collateral.connect(by).waive(assetId, terms));
      } else {
        await send(m, r, f.collateral.connect(f.outsider).release(assetId, loan!.id));
      }
      await checkInvariants(m, r);
    }
    const end = await f.collateral.assetOf(assetId);
    const free = Number(end.status) === AssetStatus.Registered && end.lienCount === 0n;
    expect(free || Number(end.status) === AssetStatus.Disposed, `asset ${a} stuck after ${round} moves`).to.equal(true);
  }
  // Every loan's history, not only those touched, verifies at the end of a run.
  const auditor = f.clientFor(f.auditor).loans;
  for (const loan of m.loans)
    expect((await loanHistory(auditor, loan.id)).verified, `history of ${loan.id}`).to.equal(true);
}

describe("The suite (stateful property)", function () {
  this.timeout(0);
  /** How often each action succeeded or met each named refusal: printed with FUZZ_STATS, to see what a run reached. */
  const outcomes = new Map<string, number>();
  after(function () {
    if (process.env.FUZZ_STATS)
      console.log(
        [...outcomes]
          .sort()
          .map(([k, v]) => `${v}\t${k}`)
          .join("\n"),
      );
  });

  it("keeps every rule of DESIGN.md whoever acts and in whatever order", async function () {
    await fc.assert(
      fc.asyncProperty(fc.commands(weighted, { maxCommands: STEPS, size: "max" }), async (cmds) => {
        const f = await loadFixture(suiteFixture);
        const model: Model = {
          loans: [],
          minted: f.minted,
          reserveTracked: await f.token.balanceOf(f.reserve),
          lendersReceived: new Map(),
          committedBy: new Map(),
          paidTo: new Map(),
          traded: new Set(),
          touched: new Set(),
          expelled: false,
          log: [],
        };
        const real = { f };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          await drainLiens(model, real);
          for (const line of model.log) outcomes.set(line, (outcomes.get(line) ?? 0) + 1);
        } catch (error) {
          if (process.env.FUZZ_VERBOSE) console.log(model.log.join("\n"));
          throw error;
        }
      }),
      { numRuns: RUNS, seed: SEED, verbose: 0, endOnFailure: process.env.FUZZ_SHRINK === "0" },
    );
  });
});
