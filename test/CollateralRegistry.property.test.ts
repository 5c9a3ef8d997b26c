import { expect } from "chai";
import fc from "fast-check";
import { id, MaxUint256, Signature, ZeroHash } from "ethers";
import {
  AssetClass,
  CollateralClient,
  LoanRegistryClient,
  AssetStatus,
  assetKey,
  ContractError,
  LienStatus,
  loanIdOf,
  LoanStatus,
  toLoanLedgerError,
  type LoanTerms,
} from "../src/client/index.js";
import {
  ALLIANCE_KEY,
  DAY,
  deployAllianceFixture,
  ethers,
  loadFixture,
  proposeSale,
  termsFor,
  time,
} from "./fixtures.js";

const UNIT = 10n ** 18n;
const OFFICIAL_IDS = ["LSVAU2180N2183294", "WDD2050461F123456", "EQ-77-0042"];

/** Three assets of one owner; four loans of two platforms, three of them Active and one still Funding. */
async function propertyFixture() {
  const f = await deployAllianceFixture();
  const [owner, custodian] = (await ethers.getSigners()).slice(7, 9);
  await f.alliance.admitMember(custodian, 8, id("custodian licence"));
  const assets = OFFICIAL_IDS.map((official) => assetKey(AssetClass.Vehicle, official, ALLIANCE_KEY));
  for (const [i, asset] of assets.entries()) {
    await f.collateral
      .connect(f.platformA)
      .registerCollateral(asset, owner, AssetClass.Vehicle, BigInt(50 + 25 * i) * 1_000n * UNIT, id(`appraisal ${i}`));
  }
  const loans: LoanTerms[] = [];
  for (const [i, platform] of [f.platformA, f.platformB, f.platformA, f.platformB].entries()) {
    const terms = await termsFor(platform, { principal: BigInt(20 + 10 * i) * 1_000n * UNIT });
    await f.loans.connect(platform).anchorLoan(terms);
    if (i < 3) await f.loans.connect(platform).activateLoan(terms);
    loans.push(terms);
  }
  for (const platform of [f.platformA, f.platformB]) {
    await f.token.mint(platform, 10n ** 30n);
    await f.token.connect(platform).approve(f.collateral, MaxUint256);
  }
  return { ...f, owner, custodian, assets, loanTerms: loans };
}

// Weighted so that sequences often get as far as seizure and disposal.
const action = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("pledge" as const),
      asset: fc.nat(2),
      loan: fc.nat(3),
      securedK: fc.integer({ min: 1, max: 60 }),
      priority: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("repay" as const), loan: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel" as const), loan: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("default" as const), loan: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("release" as const), asset: fc.nat(2), loan: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("seize" as const), asset: fc.nat(2), loan: fc.nat(3) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("dispose" as const),
      asset: fc.nat(2),
      proceedsK: fc.integer({ min: 0, max: 150 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("expel" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("register" as const),
      asset: fc.nat(2),
      valueK: fc.integer({ min: 10, max: 120 }),
    }),
  },
);

/** Contract errors a random step may legitimately meet; anything else fails the property. */
const EXPECTED = new Set([
  "CollateralRegistryWrongAssetStatus",
  "CollateralRegistryUnknownAsset",
  "CollateralRegistryAlreadyRegistered",
  "LoanRegistryLoanNotOpen",
  "CollateralRegistryLossNotMadeWhole",
  "CollateralRegistryLienExists",
  "CollateralRegistryFirstLiensExceedAppraisal",
  "CollateralRegistryTooManyLiens",
  "CollateralRegistryWrongLienStatus",
  "CollateralRegistryLoanNotClosed",
  "CollateralRegistryLoanNotDefaulted",
  "LoanRegistryInvalidTransition",
  "LoanRegistryNotServiceable",
  "LoanRegistryNotOverdue",
  "LoanRegistryDefaultThresholdNotReached",
  "LoanRegistryFundingDeadlinePassed",
  // Platform B may have been expelled: it then acts on nothing.
  "LoanRegistryUnauthorized",
  "LoanRegistryNotLienholder",
  "LoanRegistryNotYetPublic",
  "CollateralRegistryUnauthorized",
  "CollateralRegistryNotSeizingPlatform",
  "AllianceRegistryInvalidStatusTransition",
  // A payoff is refused while later installments are due: they are paid first.
  "LoanRegistryInstallmentsDue",
  // A new lien ranks behind the asset's liens, and secures at most its loan's principal.
  "CollateralRegistryRankTaken",
  "CollateralRegistrySecuredAbovePrincipal",
]);

async function attempt(step: () => Promise<unknown>): Promise<boolean> {
  try {
    await step();
    return true;
  } catch (error) {
    const decoded = toLoanLedgerError(error);
    if (!(decoded instanceof ContractError) || !EXPECTED.has(decoded.errorName)) throw error;
    return false;
  }
}

describe("CollateralRegistry (property)", function () {
  it("never lets first-priority liens exceed the appraisal, keeps no lien alive on a repaid loan, and conserves disposal proceeds", async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 6, maxLength: 24 }), async (steps) => {
        const f = await loadFixture(propertyFixture);
        const ids = f.loanTerms.map(loanIdOf);
        const platformOf = (t: LoanTerms) => (t.platform === f.platformA.address ? f.platformA : f.platformB);
        const activeLiens = async () => {
          const found: [number, number][] = [];
          for (const [a, assetId] of f.assets.entries()) {
            for (const [l, loanId] of ids.entries()) {
              if (Number((await f.collateral.lienOf(assetId, loanId)).status) === LienStatus.Active) found.push([a, l]);
            }
          }
          return found;
        };

        for (const step of steps) {
          if (step.kind === "pledge") {
            const secured = BigInt(step.securedK) * 1_000n * UNIT;
            const terms = f.loanTerms[step.loan];
            await attempt(async () => {
              // A lien takes both parties: the owner signs its consent, the loan's platform sends the pledge.
              const request = {
                assetId: f.assets[step.asset],
                loanId: loanIdOf(terms),
                securedAmount: secured,
                priority: step.priority,
              };
              const loans = new LoanRegistryClient(String(f.loans.target), f.owner);
              const signed = await new CollateralClient(String(f.collateral.target), f.owner, loans).consent(
                request,
                (await time.latest()) + DAY,
              );
              const sig = Signature.from(signed.signature);
              await f.collateral
                .connect(platformOf(terms))
                .pledge(request.assetId, terms, secured, step.priority, signed.deadline, sig.r, sig.yParityAndS);
            });
          } else if (step.kind === "repay") {
            const terms = f.loanTerms[step.loan];
            await attempt(async () => {
              const due = await f.loans.nextPayment(terms);
              const state = await f.loans.loanState(ids[step.loan]);
              await f.loans
                .connect(platformOf(terms))
                .recordPayment(terms, due.lateInterest + due.interest + state.outstandingPrincipal, ZeroHash);
            });
          } else if (step.kind === "cancel") {
            await attempt(() => f.loans.connect(platformOf(f.loanTerms[step.loan])).cancelLoan(f.loanTerms[step.loan]));
          } else if (step.kind === "default") {
            // Aim at a loan that carries a lien when there is one.
            const live = await activeLiens();
            const terms = f.loanTerms[live.length ? live[step.loan % live.length][1] : step.loan];
            await time.increase(terms.period + terms.gracePeriod + terms.defaultThreshold + DAY);
            await attempt(() => f.loans.connect(platformOf(terms)).markLate(terms));
            await attempt(() => f.loans.connect(platformOf(terms)).markDefaulted(terms));
          } else if (step.kind === "release" || step.kind === "seize") {
            // Aim at a live lien when there is one, so that sequences reach seizure and disposal.
            const wanted: LoanStatus[] =
              step.kind === "seize" ? [LoanStatus.Defaulted] : [LoanStatus.Repaid, LoanStatus.Cancelled];
            const live = await activeLiens();
            const ready = [];
            for (const lien of live) {
              if (wanted.includes(Number((await f.loans.loanState(ids[lien[1]])).status) as LoanStatus))
                ready.push(lien);
            }
            const pool = ready.length && step.loan !== 0 ? ready : live;
            const [a, l] = pool.length ? pool[(step.asset * 4 + step.loan) % pool.length] : [step.asset, step.loan];
            const terms = f.loanTerms[l];
            await attempt(() =>
              step.kind === "release"
                ? f.collateral.connect(f.outsider).release(f.assets[a], ids[l])
                : f.collateral.connect(platformOf(terms)).seize(f.assets[a], terms),
            );
          } else if (step.kind === "expel") {
            await attempt(() => f.alliance.expelMember(f.platformB));
          } else if (step.kind === "register") {
            await attempt(() =>
              f.collateral
                .connect(f.platformB)
                .registerCollateral(
                  f.assets[step.asset],
                  f.owner,
                  AssetClass.Vehicle,
                  BigInt(step.valueK) * 1_000n * UNIT,
                  id("re-registration"),
                ),
            );
          } else {
            const seized = [];
            for (const candidate of f.assets) {
              if (Number((await f.collateral.assetOf(candidate)).status) === AssetStatus.Seized) seized.push(candidate);
            }
            if (seized.length === 0) continue;
            const assetId = seized[step.asset % seized.length];
            const liens = [];
            for (const [i, loanId] of ids.entries()) {
              const lien = await f.collateral.lienOf(assetId, loanId);
              const status = Number(lien.status);
              if (status === LienStatus.Active || status === LienStatus.Enforcing) {
                const funding = Number((await f.loans.loanState(loanId)).status) === LoanStatus.Funding;
                liens.push({
                  terms: f.loanTerms[i],
                  priority: Number(lien.priority),
                  enforcing: status === 3,
                  funding,
                });
              }
            }
            liens.sort((a, b) => a.priority - b.priority);
            const enforcing = liens.find((l) => l.enforcing)!.terms;
            // Only the seizing loan's servicer sells; an expelled platform without a successor yet cannot.
            if (!(await f.loans.mayService(enforcing, platformOf(enforcing)))) continue;
            const seizer = platformOf(enforcing);
            const proceeds = BigInt(step.proceedsK) * 1_000n * UNIT + 3n;
            // The liens of performing loans pass to a buyer with the asset; the custodian confirms any price.
            await proposeSale(f.collateral, seizer, assetId, enforcing, proceeds, {
              custodian: f.custodian,
              buyer: f.owner.address,
            });
            const sale = f.collateral.connect(seizer).dispose(
              assetId,
              liens.map((l) => l.terms),
            );
            if (liens.some((l) => l.funding)) {
              // A loan still in funding may yet disburse against its lien: no sale wipes it.
              await expect(sale).to.be.revertedWithCustomError(f.collateral, "CollateralRegistryLoanInFunding");
              continue;
            }
            const receipt = await (await sale).wait();
            // Conservation: the liens' allocations and the owner's surplus add up to the proceeds, to the wei.
            const parsed = receipt!.logs
              .filter((log) => log.address === f.collateral.target)
              .map((log) => f.collateral.interface.parseLog(log)!)
              .filter((e) => e.name === "DisposalAllocated" || e.name === "CollateralDisposed");
            const allocated = parsed
              .filter((e) => e.name === "DisposalAllocated")
              .reduce((sum, e) => sum + (e.args.amount as bigint), 0n);
            const surplus = parsed.find((e) => e.name === "CollateralDisposed")!.args.ownerSurplus as bigint;
            expect(allocated + surplus).to.equal(proceeds);
          }

          // Invariants after every step.
          for (const assetId of f.assets) {
            const asset = await f.collateral.assetOf(assetId);
            let firstPriority = 0n;
            let live = 0n;
            for (const [i, loanId] of ids.entries()) {
              const lien = await f.collateral.lienOf(assetId, loanId);
              const status = Number(lien.status);
              if (status !== LienStatus.Active && status !== LienStatus.Enforcing) continue;
              live += 1n;
              if (Number(lien.priority) === 1) firstPriority += lien.securedAmount;
              const loanStatus = Number((await f.loans.loanState(loanId)).status);
              if (loanStatus === LoanStatus.Repaid && status === LienStatus.Active) {
                // A lien on a repaid loan cannot be enforced, and anyone can release it at once.
                await expect(
                  f.collateral.connect(platformOf(f.loanTerms[i])).seize.staticCall(assetId, f.loanTerms[i]),
                ).to.be.revert(ethers);
                if (Number(asset.status) === AssetStatus.Registered) {
                  await f.collateral.connect(f.outsider).release.staticCall(assetId, loanId);
                }
              }
            }
            expect(asset.lienCount).to.equal(live);
            expect(asset.firstPrioritySecured).to.equal(firstPriority);
            expect(firstPriority).to.be.at.most(asset.appraisalValue);
          }
        }

        // Every lien can end: from wherever the steps left the suite, each asset reaches Free or Disposed by legal
        // moves of the parties (governance names a successor for an expelled platform, servicers act, time passes).
        if (Number((await f.alliance.memberOf(f.platformB)).status) === 3) {
          await f.succession.appointSuccessor(f.platformB, f.platformA);
          const handedOver = f.loanTerms.filter((t) => t.platform === f.platformB.address);
          await f.succession.connect(f.outsider).takeOverLoans(handedOver);
        }
        const servicer = async (t: LoanTerms) =>
          (await f.loans.servicerOf(t)) === f.platformA.address ? f.platformA : f.platformB;
        for (const [a, assetId] of f.assets.entries()) {
          for (let round = 0; round < 40; round++) {
            const asset = await f.collateral.assetOf(assetId);
            const status = Number(asset.status);
            if (status === AssetStatus.Disposed || (status === AssetStatus.Registered && asset.lienCount === 0n)) break;
            const liens: { i: number; terms: LoanTerms; lien: LienStatus; loan: LoanStatus; priority: number }[] = [];
            for (const [i, loanId] of ids.entries()) {
              const lien = await f.collateral.lienOf(assetId, loanId);
              const lienStatus = Number(lien.status) as LienStatus;
              if (lienStatus !== LienStatus.Active && lienStatus !== LienStatus.Enforcing) continue;
              const loan = Number((await f.loans.loanState(loanId)).status) as LoanStatus;
              liens.push({ i, terms: f.loanTerms[i], lien: lienStatus, loan, priority: Number(lien.priority) });
            }
            if (status === AssetStatus.Seized) {
              const enforcing = liens.find((l) => l.lien === LienStatus.Enforcing)!;
              const funding = liens.find((l) => l.loan === LoanStatus.Funding);
              if (enforcing.loan === LoanStatus.Recovered) {
                await f.collateral.connect(f.outsider).returnSeized(assetId);
              } else if (funding) {
                // The sale waits for a loan in funding; its servicer cancels it (at its deadline, anyone could).
                await f.loans.connect(await servicer(funding.terms)).cancelLoan(funding.terms);
              } else {
                const ordered = [...liens].sort((x, y) => x.priority - y.priority).map((l) => l.terms);
                const seller = await servicer(enforcing.terms);
                await f.token.mint(seller, 10n ** 24n);
                await f.token.connect(seller).approve(f.collateral, MaxUint256);
                await proposeSale(f.collateral, seller, assetId, enforcing.terms, 10n ** 21n, {
                  custodian: f.custodian,
                  buyer: f.owner.address,
                });
                await f.collateral.connect(seller).dispose(assetId, ordered);
              }
              continue;
            }
            const { terms, loan, i } = liens[0];
            const by = await servicer(terms);
            if (loan === LoanStatus.Funding) await f.loans.connect(by).cancelLoan(terms);
            else if (loan === LoanStatus.Active || loan === LoanStatus.Late) {
              // Every installment due is paid before the rest of the principal can be.
              const due = await f.loans.nextPayment(terms);
              const { outstandingPrincipal, activatedAt, installmentsPaid } = await f.loans.loanState(ids[i]);
              const laterDue = Number(activatedAt) + (Number(installmentsPaid) + 2) * terms.period;
              const installment = due.lateInterest + due.interest + due.principal;
              const payoff = due.lateInterest + due.interest + outstandingPrincipal;
              await f.loans
                .connect(by)
                .recordPayment(terms, (await time.latest()) + 1 >= laterDue ? installment : payoff, ZeroHash);
            } else if (loan === LoanStatus.Defaulted) await f.collateral.connect(by).seize(assetId, terms);
            else if (loan === LoanStatus.WrittenOff) await f.collateral.connect(by).waive(assetId, terms);
            else await f.collateral.connect(f.outsider).release(assetId, ids[i]);
          }
          const end = await f.collateral.assetOf(assetId);
          const free = Number(end.status) === AssetStatus.Registered && end.lienCount === 0n;
          expect(free || Number(end.status) === AssetStatus.Disposed, `asset ${a} stuck`).to.equal(true);
        }
      }),
      { numRuns: 40 },
    );
  });
});
