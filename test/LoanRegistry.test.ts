import { expect } from "chai";
import { AbiCoder, id, Signature, ZeroHash } from "ethers";
import {
  AGREEMENT_TYPES,
  borrowerRef,
  Consent,
  decodeRevertData,
  freshBorrowerKey,
  LoanRegistryClient,
  signConsent,
  toAddress,
  toSignatures,
  type ConsentSignatures,
  type ConsentSubject,
  isTransitionAllowed,
  LIFECYCLE_ACTIONS,
  LOAN_STATUS_NAMES,
  loanIdOf,
  LoanStatus,
  replayHeads,
  lateInterest,
  schedule,
  ScheduleKind,
  TERMS_FIELD_NAMES,
  toHash32,
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
  asSystem,
  type AllianceFixture,
} from "./fixtures.js";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { loanHistory } from "../src/audit/index.js";

const field = (name: (typeof TERMS_FIELD_NAMES)[number]) => TERMS_FIELD_NAMES.indexOf(name);
const statusName = (s: LoanStatus) => LOAN_STATUS_NAMES[s];

/** The alliance with one anchored loan of platform A in Funding. */
async function withAnchoredLoanFixture() {
  const f = await deployAllianceFixture();
  const terms = await termsFor(f.platformA);
  await f.loans.connect(f.platformA).anchorLoan(terms);
  return { ...f, terms, loanId: loanIdOf(terms) };
}

/** Total owed to settle a loan now: next installment's interest and late interest, plus all principal. */
async function payoffAmount(f: AllianceFixture, terms: LoanTerms): Promise<bigint> {
  const due = await f.loans.nextPayment(terms);
  const state = await f.loans.loanState(loanIdOf(terms));
  return due.lateInterest + due.interest + state.outstandingPrincipal;
}

/** Brings platform A's loan `terms` into `status` along the shortest legal path. */
async function driveTo(f: AllianceFixture, terms: LoanTerms, status: LoanStatus): Promise<void> {
  const loans = f.loans.connect(f.platformA);
  if (status === LoanStatus.Funding) return;
  if (status === LoanStatus.Cancelled) {
    await loans.cancelLoan(terms);
    return;
  }
  await loans.activateLoan(terms);
  if (status === LoanStatus.Active) return;
  if (status === LoanStatus.Repaid) {
    await time.increase(DAY);
    await loans.recordPayment(terms, await payoffAmount(f, terms), ZeroHash);
    return;
  }
  await time.increase(terms.period + terms.gracePeriod + 1);
  await loans.markLate(terms);
  if (status === LoanStatus.Late) return;
  await time.increase(terms.defaultThreshold);
  await loans.markDefaulted(terms);
  if (status === LoanStatus.Defaulted) return;
  if (status === LoanStatus.Recovered) await loans.markRecovered(terms);
  if (status === LoanStatus.WrittenOff) await loans.writeOff(terms);
}

const ALL_STATUSES = [
  LoanStatus.Funding,
  LoanStatus.Active,
  LoanStatus.Late,
  LoanStatus.Repaid,
  LoanStatus.Defaulted,
  LoanStatus.Recovered,
  LoanStatus.WrittenOff,
  LoanStatus.Cancelled,
];

describe("LoanRegistry", function () {
  describe("anchorLoan", function () {
    it("anchors the loan in Funding under the id its terms hash to", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const terms = await termsFor(f.platformA);
      const loanId = loanIdOf(terms);
      expect(await f.loans.loanIdOf(terms)).to.equal(loanId);

      const tx = await f.loans.connect(f.platformA).anchorLoan(terms);
      await expect(tx).to.emit(f.loans, "LoanAnchored");
      const at = (await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp;
      const [head] = replayHeads(loanId, [{ kind: "Anchored", at }]);
      const state = await f.loans.loanState(loanId);
      expect(state.status).to.equal(LoanStatus.Funding);
      expect(state.outstandingPrincipal).to.equal(terms.principal);
      expect(state.documentVersion).to.equal(1);
      expect(await f.loans.historyHead(loanId)).to.equal(head);
    });

    it("adds the loan to the borrower's exposure, across platforms", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const a = await termsFor(f.platformA);
      const b = await termsFor(f.platformB, { principal: 5n * 10n ** 18n });
      await f.loans.connect(f.platformA).anchorLoan(a);
      await f.loans.connect(f.platformB).anchorLoan(b);
      const exposure = await f.loans.exposureOf(a.borrowerRef);
      expect(exposure.openLoans).to.equal(2);
      expect(exposure.outstandingPrincipal).to.equal(a.principal + b.principal);
    });

    it("reverts when the same agreement is anchored twice", async function () {
      const { loans, platformA, terms, loanId } = await loadFixture(withAnchoredLoanFixture);
      await expect(loans.connect(platformA).anchorLoan(terms))
        .to.be.revertedWithCustomError(loans, "LoanRegistryLoanExists")
        .withArgs(loanId);
    });

    for (const role of ["governance", "auditor", "lender", "outsider"] as const) {
      it(`reverts for ${role}, which is not an active platform`, async function () {
        const f = await loadFixture(deployAllianceFixture);
        await expect(f.loans.connect(f[role]).anchorLoan(await termsFor(f[role])))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotActivePlatform")
          .withArgs(f[role].address);
      });
    }

    it("reverts for a suspended platform", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await f.alliance.suspendMember(f.platformA);
      await expect(f.loans.connect(f.platformA).anchorLoan(await termsFor(f.platformA)))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotActivePlatform")
        .withArgs(f.platformA.address);
    });

    it("reverts when the terms name another platform", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await expect(f.loans.connect(f.platformA).anchorLoan(await termsFor(f.platformB)))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryPlatformMismatch")
        .withArgs(f.platformA.address, f.platformB.address);
    });

    it("reverts when the borrower reference or the document hash is zero", async function () {
      const f = await loadFixture(deployAllianceFixture);
      for (const key of ["borrowerRef", "documentHash"] as const) {
        const terms = await termsFor(f.platformA, { [key]: ZeroHash });
        await expect(f.loans.connect(f.platformA).anchorLoan(terms))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryMissingReference")
          .withArgs(field(key === "borrowerRef" ? "BorrowerRef" : "DocumentHash"));
      }
    });

    /** Each case: the override, and the error's field, value, min and max (as a function of now). */
    const bounds: [
      string,
      Partial<LoanTerms>,
      (now: number) => [string, bigint | number, bigint | number, bigint | number],
    ][] = [
      ["a zero principal", { principal: 0n }, () => ["Principal", 0, 1, 2n ** 96n - 1n]],
      ["a principal above 2^96-1", { principal: 2n ** 96n }, () => ["Principal", 2n ** 96n, 1, 2n ** 96n - 1n]],
      ["a rate above 100%", { annualRateBps: 10_001 }, () => ["AnnualRate", 10_001, 0, 10_000]],
      ["an unknown schedule kind", { scheduleKind: 4 as ScheduleKind }, () => ["ScheduleKind", 4, 0, 3]],
      ["zero installments", { installments: 0 }, () => ["Installments", 0, 1, 360]],
      ["more than 360 installments", { installments: 361 }, () => ["Installments", 361, 1, 360]],
      [
        "a bullet loan with two installments",
        { scheduleKind: ScheduleKind.Bullet, installments: 2 },
        () => ["Installments", 2, 1, 1],
      ],
      ["a period under a day", { period: DAY - 1 }, () => ["Period", DAY - 1, DAY, 1830 * DAY]],
      ["a period over five years", { period: 1830 * DAY + 1 }, () => ["Period", 1830 * DAY + 1, DAY, 1830 * DAY]],
      [
        "a term over thirty years",
        { installments: 360, period: 31 * DAY },
        () => ["Term", 360 * 31 * DAY, DAY, 30 * 365 * DAY],
      ],
      [
        "a grace period over 30 days",
        { gracePeriod: 30 * DAY + 1, defaultThreshold: 90 * DAY },
        () => ["GracePeriod", 30 * DAY + 1, 0, 30 * DAY],
      ],
      ["a late fee above 100%", { lateFeeBps: 10_001 }, () => ["LateFeeRate", 10_001, 0, 10_000]],
      [
        "a default threshold within the grace period",
        { gracePeriod: 5 * DAY, defaultThreshold: 5 * DAY },
        () => ["DefaultThreshold", 5 * DAY, 5 * DAY + 1, 365 * DAY],
      ],
      [
        "a default threshold over a year",
        { defaultThreshold: 365 * DAY + 1 },
        () => ["DefaultThreshold", 365 * DAY + 1, 3 * DAY + 1, 365 * DAY],
      ],
    ];
    for (const [what, override, expected] of bounds) {
      it(`reverts for ${what}`, async function () {
        const f = await loadFixture(deployAllianceFixture);
        const terms = await termsFor(f.platformA, override);
        const [name, value, min, max] = expected(await time.latest());
        await expect(f.loans.connect(f.platformA).anchorLoan(terms))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryTermOutOfBounds")
          .withArgs(field(name as (typeof TERMS_FIELD_NAMES)[number]), value, min, max);
      });
    }

    it("reverts for a funding deadline that has passed or lies beyond 90 days", async function () {
      const f = await loadFixture(deployAllianceFixture);
      for (const offset of [0, 90 * DAY + 2]) {
        const now = await time.latest();
        const terms = await termsFor(f.platformA, { fundingDeadline: now + offset });
        await time.setNextBlockTimestamp(now + 1);
        await expect(f.loans.connect(f.platformA).anchorLoan(terms))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryTermOutOfBounds")
          .withArgs(field("FundingDeadline"), now + offset, now + 2, now + 1 + 90 * DAY);
      }
    });

    it("previewAnchor reports the same error without a transaction, and nothing for good terms", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const { loans } = f.clientFor(f.platformA);
      const platform = (await termsFor(f.platformA)).platform;
      expect(await loans.previewAnchor(platform, await termsFor(f.platformA))).to.equal(undefined);
      const bad = await loans.previewAnchor(
        (await termsFor(f.platformA)).platform,
        await termsFor(f.platformA, { annualRateBps: 20_000 }),
      );
      expect(bad?.errorName).to.equal("LoanRegistryTermOutOfBounds");
      const outsider = await loans.previewAnchor((await termsFor(f.outsider)).platform, await termsFor(f.outsider));
      expect(outsider?.errorName).to.equal("LoanRegistryNotActivePlatform");
    });
  });

  describe("anchorLoans", function () {
    it("anchors a book of 100 loans in one transaction", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const book = await Promise.all(Array.from({ length: 100 }, () => termsFor(f.platformA)));
      await f.loans.connect(f.platformA).anchorLoans(book);
      for (const terms of [book[0], book[57], book[99]]) {
        expect((await f.loans.loanState(loanIdOf(terms))).status).to.equal(LoanStatus.Funding);
      }
      expect((await f.loans.exposureOf(book[0].borrowerRef)).openLoans).to.equal(100);
    });

    it("rejects the whole batch, naming the bad item and its own error", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const book = await Promise.all(Array.from({ length: 5 }, () => termsFor(f.platformA)));
      book[3] = { ...book[3], installments: 0 };
      const inner = f.loans.interface.encodeErrorResult("LoanRegistryTermOutOfBounds", [
        field("Installments"),
        0,
        1,
        360,
      ]);
      await expect(f.loans.connect(f.platformA).anchorLoans(book))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchItemRejected")
        .withArgs(3, inner);
      expect((await f.loans.loanState(loanIdOf(book[0]))).status).to.equal(LoanStatus.None);
      expect(decodeRevertData(inner)?.message).to.equal(
        "LoanRegistryTermOutOfBounds: Installments is 0, outside [1, 360]",
      );
    });

    it("rejects a batch that holds the same agreement twice", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const terms = await termsFor(f.platformA);
      const inner = f.loans.interface.encodeErrorResult("LoanRegistryLoanExists", [loanIdOf(terms)]);
      await expect(f.loans.connect(f.platformA).anchorLoans([terms, terms]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchItemRejected")
        .withArgs(1, inner);
    });

    it("reverts for an empty batch and for one above 150 loans", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await expect(f.loans.connect(f.platformA).anchorLoans([]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchSize")
        .withArgs(0, 150);
      const terms = await termsFor(f.platformA);
      await expect(f.loans.connect(f.platformA).anchorLoans(Array(151).fill(terms)))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchSize")
        .withArgs(151, 150);
    });

    for (const role of ["governance", "auditor", "lender", "outsider"] as const) {
      it(`reverts for ${role}, which is not an active platform`, async function () {
        const f = await loadFixture(deployAllianceFixture);
        await expect(f.loans.connect(f[role]).anchorLoans([await termsFor(f[role])]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotActivePlatform")
          .withArgs(f[role].address);
      });
    }
  });

  describe("transition table", function () {
    it("is the table the client mirrors, for every pair of statuses", async function () {
      const { loans } = await loadFixture(deployAllianceFixture);
      for (let from = 0; from <= 8; from++) {
        for (let to = 0; to <= 8; to++) {
          expect(await loans.isTransitionAllowed(from, to), `${from} → ${to}`).to.equal(
            isTransitionAllowed(from as LoanStatus, to as LoanStatus),
          );
        }
      }
    });
  });

  describe("lifecycle actions, from every state", function () {
    for (const { action, from: starts, to } of LIFECYCLE_ACTIONS) {
      for (const status of ALL_STATUSES) {
        // A default may also start from Active: the loan then passes through Late (see "member integrity").
        if ((starts as readonly LoanStatus[]).includes(status)) continue;
        if (action === "markDefaulted" && status === LoanStatus.Active) continue;
        it(`${action} reverts for a loan that is ${statusName(status)}`, async function () {
          const f = await loadFixture(withAnchoredLoanFixture);
          await driveTo(f, f.terms, status);
          await expect(f.loans.connect(f.platformA)[action](f.terms))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidTransition")
            .withArgs(f.loanId, status, to);
        });
      }
      for (const from of starts) {
        it(`${action} moves a loan from ${statusName(from)} to ${statusName(to)}`, async function () {
          const f = await loadFixture(withAnchoredLoanFixture);
          await driveTo(f, f.terms, from);
          // The guards of time: late after the grace period, defaulted after the threshold.
          if (action === "markLate") await time.increase(f.terms.period + f.terms.gracePeriod + 1);
          if (action === "markDefaulted") await time.increase(f.terms.defaultThreshold);
          const loans = f.loans.connect(f.platformA);
          const at = await pinNextBlock();
          await expect(loans[action](f.terms))
            .to.emit(loans, "LoanStatusChanged")
            .withArgs(f.loanId, from, to, at, (h: string) => h.length === 66);
          expect((await loans.loanState(f.loanId)).status).to.equal(to);
        });
      }
    }

    for (const status of ALL_STATUSES) {
      if (status === LoanStatus.Active || status === LoanStatus.Late) continue;
      it(`recordPayment reverts for a loan that is ${statusName(status)}`, async function () {
        const f = await loadFixture(withAnchoredLoanFixture);
        await driveTo(f, f.terms, status);
        await expect(f.loans.connect(f.platformA).recordPayment(f.terms, 1n, ZeroHash))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotServiceable")
          .withArgs(f.loanId, status);
      });
    }

    for (const status of [LoanStatus.Repaid, LoanStatus.Recovered, LoanStatus.WrittenOff, LoanStatus.Cancelled]) {
      it(`amendDocument reverts for a loan that is ${statusName(status)}`, async function () {
        const f = await loadFixture(withAnchoredLoanFixture);
        await driveTo(f, f.terms, status);
        await expect(f.loans.connect(f.platformA).amendDocument(f.terms, id("amendment")))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryLoanClosed")
          .withArgs(f.loanId, status);
      });
    }
  });

  describe("servicing functions, from every wrong role", function () {
    // markLate and markDefaulted are open to anyone after the public delay: their own tests follow.
    const calls = [
      ...LIFECYCLE_ACTIONS.map(({ action }) => action).filter((a) => a !== "markDefaulted" && a !== "markLate"),
      "recordPayment",
      "amendDocument",
    ] as const;
    const invoke = (
      f: AllianceFixture,
      signer: AllianceFixture["outsider"],
      name: (typeof calls)[number],
      terms: LoanTerms,
    ) => {
      const loans = f.loans.connect(signer);
      if (name === "recordPayment") return loans.recordPayment(terms, 1n, ZeroHash);
      if (name === "amendDocument") return loans.amendDocument(terms, id("amendment"));
      return loans[name as Exclude<typeof name, "recordPayment" | "amendDocument">](terms);
    };
    for (const name of calls) {
      for (const role of ["governance", "platformB", "auditor", "lender", "outsider"] as const) {
        it(`${name} reverts for ${role}`, async function () {
          const f = await loadFixture(withAnchoredLoanFixture);
          await expect(invoke(f, f[role], name, f.terms))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
            .withArgs(f.loanId, f[role].address);
        });
      }
      it(`${name} reverts for the originating platform once expelled`, async function () {
        const f = await loadFixture(withAnchoredLoanFixture);
        await f.alliance.expelMember(f.platformA);
        await expect(invoke(f, f.platformA, name, f.terms))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
          .withArgs(f.loanId, f.platformA.address);
      });
    }

    it("a suspended platform keeps servicing its loans", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await f.alliance.suspendMember(f.platformA);
      await f.loans.connect(f.platformA).activateLoan(f.terms);
      expect((await f.loans.loanState(f.loanId)).status).to.equal(LoanStatus.Active);
    });

    it("a system contract without the loan's delegation may not service it", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await expect(asSystem(f, f.loans, "activateLoan", [f.terms]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
        .withArgs(f.loanId, await f.system.getAddress());
    });

    it("reverts for terms that were never anchored", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      const unknown = { ...f.terms, principal: f.terms.principal + 1n };
      await expect(f.loans.connect(f.platformA).activateLoan(unknown))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnknownLoan")
        .withArgs(loanIdOf(unknown));
    });
  });

  describe("time guards", function () {
    it("activateLoan reverts once the funding deadline has passed; cancelLoan still works", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await pinNextBlock(f.terms.fundingDeadline + 1);
      await expect(f.loans.connect(f.platformA).activateLoan(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryFundingDeadlinePassed")
        .withArgs(f.loanId, f.terms.fundingDeadline, f.terms.fundingDeadline + 1);
      await f.loans.connect(f.platformA).cancelLoan(f.terms);
      const exposure = await f.loans.exposureOf(f.terms.borrowerRef);
      expect(exposure.openLoans).to.equal(0);
      expect(exposure.outstandingPrincipal).to.equal(0);
    });

    it("markLate reverts while the grace period runs", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await f.loans.connect(f.platformA).activateLoan(f.terms);
      const graceEnds = (await time.latest()) + f.terms.period + f.terms.gracePeriod;
      await time.setNextBlockTimestamp(graceEnds);
      await expect(f.loans.connect(f.platformA).markLate(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotOverdue")
        .withArgs(f.loanId, graceEnds, graceEnds);
    });

    it("markDefaulted reverts before the default threshold", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await driveTo(f, f.terms, LoanStatus.Late);
      const state = await f.loans.loanState(f.loanId);
      const eligibleAt = Number(state.activatedAt) + f.terms.period + f.terms.defaultThreshold;
      // One second short of the threshold.
      await pinNextBlock(eligibleAt - 1);
      await expect(f.loans.connect(f.platformA).markDefaulted(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryDefaultThresholdNotReached")
        .withArgs(f.loanId, eligibleAt, eligibleAt - 1);
    });
  });

  describe("recordPayment", function () {
    it("settles every installment of the schedule exactly as the client computes it, then marks the loan Repaid", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      const loans = f.loans.connect(f.platformA);
      await loans.activateLoan(f.terms);
      const rows = schedule(f.terms);
      for (const row of rows) {
        const due = await loans.nextPayment(f.terms);
        expect([due.installment, due.principal, due.interest, due.lateInterest]).to.deep.equal([
          BigInt(row.k),
          row.principal,
          row.interest,
          0n,
        ]);
        await loans.recordPayment(f.terms, row.total, ZeroHash);
      }
      const state = await loans.loanState(f.loanId);
      expect(state.status).to.equal(LoanStatus.Repaid);
      expect(state.outstandingPrincipal).to.equal(0);
      const exposure = await loans.exposureOf(f.terms.borrowerRef);
      expect([exposure.openLoans, exposure.outstandingPrincipal]).to.deep.equal([0n, 0n]);
    });

    it("charges late interest on an overdue installment and cures the loan when it is brought up to date", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      const loans = f.loans.connect(f.platformA);
      await driveTo(f, f.terms, LoanStatus.Late);
      const due = await loans.nextPayment(f.terms);
      expect(due.lateInterest).to.be.greaterThan(0n);
      const amount = due.principal + due.interest + due.lateInterest + 1n;
      await expect(loans.recordPayment(f.terms, amount, ZeroHash))
        .to.emit(loans, "CreditEventRecorded")
        .withArgs(f.terms.borrowerRef, f.loanId, f.platformA.address, 1, (t: bigint) => t > 0n);
      const state = await loans.loanState(f.loanId);
      expect(state.status).to.equal(LoanStatus.Active);
      expect(state.outstandingPrincipal).to.equal(f.terms.principal - due.principal - 1n);
      const exposure = await loans.exposureOf(f.terms.borrowerRef);
      expect([exposure.lateEvents, exposure.curedEvents]).to.deep.equal([1n, 1n]);
    });

    it("reverts for a payment below the next installment, and for one above the payoff", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      const loans = f.loans.connect(f.platformA);
      await loans.activateLoan(f.terms);
      const due = await loans.nextPayment(f.terms);
      const installment = due.principal + due.interest;
      await expect(loans.recordPayment(f.terms, installment - 1n, ZeroHash))
        .to.be.revertedWithCustomError(loans, "LoanRegistryPaymentBelowInstallment")
        .withArgs(f.loanId, installment - 1n, installment);
      const payoff = due.interest + f.terms.principal;
      await expect(loans.recordPayment(f.terms, payoff + 1n, ZeroHash))
        .to.be.revertedWithCustomError(loans, "LoanRegistryPaymentExceedsBalance")
        .withArgs(f.loanId, payoff + 1n, payoff);
    });
  });

  describe("amendDocument", function () {
    it("adds a version and keeps the earlier ones in the history", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      const { loans } = f.clientFor(f.platformA);
      await loans.amendDocument(f.loanId, toHash32(id("amendment 1")));
      await loans.amendDocument(f.loanId, toHash32(id("amendment 2")));
      expect((await loans.state(f.loanId)).documentVersion).to.equal(3);
      const history = await loanHistory(loans, f.loanId);
      const versions = history.entries.flatMap((e) => (e.fact.kind === "DocumentAmended" ? [e.fact] : []));
      expect(versions.map((v) => [v.version, v.documentHash])).to.deep.equal([
        [2, id("amendment 1")],
        [3, id("amendment 2")],
      ]);
    });

    it("reverts for a zero document hash", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await expect(f.loans.connect(f.platformA).amendDocument(f.terms, ZeroHash))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryMissingReference")
        .withArgs(field("DocumentHash"));
    });
  });

  describe("extendHistory", function () {
    it("records a history writer's fact in the chain", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await asSystem(f, f.loans, "extendHistory", [f.loanId, id("collateral pledged")]);
      const history = await loanHistory(f.clientFor(f.auditor).loans, f.loanId);
      expect(history.entries.at(-1)?.fact).to.include({ kind: "External", source: await f.system.getAddress() });
      expect(history.verified).to.equal(true);
    });

    for (const role of ["governance", "platformA", "auditor", "outsider"] as const) {
      it(`reverts for ${role}, which is not a history writer`, async function () {
        const f = await loadFixture(withAnchoredLoanFixture);
        await expect(f.loans.connect(f[role]).extendHistory(f.loanId, id("fact")))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotHistoryWriter")
          .withArgs(f[role].address);
      });
    }

    it("records a lien only for a history writer, and only for the loan's active servicer", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await expect(f.loans.connect(f.platformA).recordLien(f.loanId, f.platformA, f.platformA, id("lien")))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotHistoryWriter")
        .withArgs(f.platformA.address);
      await expect(asSystem(f, f.loans, "recordLien", [f.loanId, f.platformA.address, f.platformB.address, id("lien")]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotLienholder")
        .withArgs(f.loanId, f.platformB.address);
      await f.alliance.suspendMember(f.platformA);
      await expect(asSystem(f, f.loans, "recordLien", [f.loanId, f.platformA.address, f.platformA.address, id("lien")]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotLienholder")
        .withArgs(f.loanId, f.platformA.address);
      await f.alliance.reinstateMember(f.platformA);
      await expect(
        asSystem(f, f.loans, "recordLien", [f.loanId, f.platformA.address, f.platformA.address, id("lien")]),
      ).to.emit(f.loans, "LoanHistoryExtended");
    });

    it("reverts for a system contract whose powers do not include writing history", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await f.loans.setSystemPowers(f.system, 1);
      await expect(asSystem(f, f.loans, "extendHistory", [f.loanId, id("fact")]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotHistoryWriter")
        .withArgs(await f.system.getAddress());
    });

    it("reverts for an unknown loan", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await expect(asSystem(f, f.loans, "extendHistory", [42n, id("fact")]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnknownLoan")
        .withArgs(42n);
    });
  });

  describe("markDefaulted: by the platform, then by anyone", function () {
    /** Platform A's loan Late and just eligible for default. */
    async function eligibleFixture() {
      const f = await loadFixture(withAnchoredLoanFixture);
      await driveTo(f, f.terms, LoanStatus.Late);
      const state = await f.loans.loanState(f.loanId);
      const eligibleAt = Number(state.activatedAt) + f.terms.period + f.terms.defaultThreshold;
      await time.increaseTo(eligibleAt);
      return { ...f, eligibleAt };
    }

    it("records the loss: outstanding principal, and the interest and late interest due", async function () {
      const f = await loadFixture(eligibleFixture);
      const due = await f.loans.nextPayment(f.terms);
      const tx = f.loans.connect(f.platformA).markDefaulted(f.terms);
      await expect(tx).to.emit(f.loans, "LossRecorded");
      const loss = await f.loans.lossOf(f.loanId);
      expect(loss.principal).to.equal(f.terms.principal);
      // Late interest grew by at most a day between the quote and the block.
      expect(loss.interest).to.be.at.least(due.interest + due.lateInterest);
      expect((await loanHistory(f.clientFor(f.auditor).loans, f.loanId)).verified).to.equal(true);
    });

    for (const role of ["governance", "platformB", "auditor", "lender", "outsider"] as const) {
      it(`lets ${role} declare the default only once the public-default delay has passed`, async function () {
        const f = await loadFixture(eligibleFixture);
        const publicAt = f.eligibleAt + Number((await f.loans.alliancePolicy()).publicDefaultDelay);
        await time.setNextBlockTimestamp(publicAt - 1);
        await expect(f.loans.connect(f[role]).markDefaulted(f.terms))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotYetPublic")
          .withArgs(f.loanId, publicAt, publicAt - 1);
        await time.setNextBlockTimestamp(publicAt);
        await expect(f.loans.connect(f[role]).markDefaulted(f.terms)).to.emit(f.loans, "LoanStatusChanged");
      });
    }

    it("treats an expelled platform like anyone else, so a failed platform cannot hide a default", async function () {
      const f = await loadFixture(eligibleFixture);
      await f.alliance.expelMember(f.platformA);
      await expect(f.loans.connect(f.platformA).markDefaulted(f.terms)).to.be.revertedWithCustomError(
        f.loans,
        "LoanRegistryNotYetPublic",
      );
    });
  });

  describe("alliance policy", function () {
    it("caps one borrower's open loans and outstanding principal across platforms", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await f.loans.setAlliancePolicy({
        maxOpenLoans: 2,
        maxOutstandingPrincipal: 200_000n * 10n ** 18n,
        publicDefaultDelay: 7 * DAY,
      });
      const first = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(first);
      const tooMuch = await termsFor(f.platformB, { principal: 80_001n * 10n ** 18n });
      await expect(f.loans.connect(f.platformB).anchorLoan(tooMuch))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryExposureLimit")
        .withArgs(tooMuch.borrowerRef, 2, 200_001n * 10n ** 18n, 2, 200_000n * 10n ** 18n);
      expect(await f.loans.previewAnchor(f.platformB, tooMuch)).to.not.equal("0x");
      await f.loans.connect(f.platformB).anchorLoan(await termsFor(f.platformB, { principal: 10n ** 18n }));
      const third = await termsFor(f.platformA, { principal: 10n ** 18n });
      await expect(f.loans.connect(f.platformA).anchorLoans([third]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchItemRejected")
        .withArgs(0, (v: string) => v.startsWith(f.loans.interface.getError("LoanRegistryExposureLimit")!.selector));
    });

    it("is set by governance only", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const policy = { maxOpenLoans: 1, maxOutstandingPrincipal: 0n, publicDefaultDelay: 0 };
      for (const caller of [f.platformA, f.auditor, f.outsider]) {
        await expect(f.loans.connect(caller).setAlliancePolicy(policy))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotGovernance")
          .withArgs(caller.address);
      }
      await expect(f.loans.setAlliancePolicy(policy)).to.emit(f.loans, "AlliancePolicySet");
    });
  });

  describe("delegateServicing", function () {
    it("lets a funding delegate take over a Funding loan's money path, once, as a fact in its history", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      const system = await f.system.getAddress();
      await expect(asSystem(f, f.loans, "delegateServicing", [f.terms])).to.emit(f.loans, "LoanServicingDelegated");
      expect((await f.loans.loanState(f.loanId)).servicingDelegated).to.equal(true);
      expect(await f.loans.delegateOf(f.loanId)).to.equal(system);
      const history = await loanHistory(f.clientFor(f.auditor).loans, f.loanId);
      expect(history.entries.at(-1)?.fact).to.include({ kind: "ServicingDelegated", servicer: system });
      expect(history.verified).to.equal(true);
      await expect(asSystem(f, f.loans, "delegateServicing", [f.terms]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryCannotDelegate")
        .withArgs(f.loanId, LoanStatus.Funding, true);
      // The delegate itself moves the money; the platform keeps the actions that do not move money.
      await asSystem(f, f.loans, "activateLoan", [f.terms]);
      await time.increase(40 * DAY);
      await expect(f.loans.connect(f.platformA).markLate(f.terms)).to.emit(f.loans, "LoanStatusChanged");
    });

    for (const role of ["governance", "platformA", "auditor", "outsider"] as const) {
      it(`reverts for ${role}, which is not a funding delegate`, async function () {
        const f = await loadFixture(withAnchoredLoanFixture);
        await expect(f.loans.connect(f[role]).delegateServicing(f.terms))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotFundingDelegate")
          .withArgs(f[role].address);
      });
    }

    for (const status of ALL_STATUSES.filter((s) => s !== LoanStatus.Funding)) {
      it(`reverts for a loan that is ${statusName(status)}`, async function () {
        const f = await loadFixture(withAnchoredLoanFixture);
        await driveTo(f, f.terms, status);
        await expect(asSystem(f, f.loans, "delegateServicing", [f.terms]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryCannotDelegate")
          .withArgs(f.loanId, status, false);
      });
    }

    it("reverts for an unknown loan", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      const unknown = await termsFor(f.platformA);
      await expect(asSystem(f, f.loans, "delegateServicing", [unknown]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnknownLoan")
        .withArgs(loanIdOf(unknown));
    });
  });

  describe("history", function () {
    it("replays a full life to the on-chain head, and a changed fact does not", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await driveTo(f, f.terms, LoanStatus.WrittenOff);
      const history = await loanHistory(f.clientFor(f.auditor).loans, f.loanId);
      expect(history.entries.map((e) => e.fact.kind)).to.deep.equal([
        "Anchored",
        "StatusChanged",
        "StatusChanged",
        "StatusChanged",
        "LossRecorded",
        "StatusChanged",
      ]);
      expect(history.verified).to.equal(true);
      const tampered = history.entries.map((e) => e.fact);
      tampered[2] = { kind: "StatusChanged", from: LoanStatus.Active, to: LoanStatus.Repaid, at: tampered[2].at };
      expect(replayHeads(f.loanId, tampered).at(-1)).to.not.equal(history.onChainHead);
    });

    it("records credit events that every member can read", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await driveTo(f, f.terms, LoanStatus.WrittenOff);
      const exposure = await f.loans.connect(f.platformB).exposureOf(borrowerRef(NATIONAL_IDS[0], ALLIANCE_KEY));
      expect([exposure.lateEvents, exposure.defaultEvents, exposure.writeOffEvents, exposure.openLoans]).to.deep.equal([
        1n,
        1n,
        1n,
        0n,
      ]);
    });
  });

  describe("member integrity: no member can hide a default or strand a borrower", function () {
    /** Platform A's loan Active, with the times from which its next installment may be marked late or defaulted. */
    async function overdueFixture() {
      const f = await loadFixture(withAnchoredLoanFixture);
      await f.loans.connect(f.platformA).activateLoan(f.terms);
      const { activatedAt } = await f.loans.loanState(f.loanId);
      const dueDate = Number(activatedAt) + f.terms.period;
      const delay = Number((await f.loans.alliancePolicy()).publicDefaultDelay);
      return {
        ...f,
        lateFrom: dueDate + f.terms.gracePeriod + 1,
        publicLateAt: dueDate + f.terms.gracePeriod + 1 + delay,
        defaultFrom: dueDate + f.terms.defaultThreshold,
        publicDefaultAt: dueDate + f.terms.defaultThreshold + delay,
      };
    }

    it("lets anyone mark an overdue loan late once the public delay has passed, to the second", async function () {
      const f = await loadFixture(overdueFixture);
      await time.setNextBlockTimestamp(f.publicLateAt - 1);
      await expect(f.loans.connect(f.lender).markLate(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotYetPublic")
        .withArgs(f.loanId, f.publicLateAt, f.publicLateAt - 1);
      await time.setNextBlockTimestamp(f.publicLateAt);
      await expect(f.loans.connect(f.lender).markLate(f.terms))
        .to.emit(f.loans, "LoanStatusChanged")
        .withArgs(f.loanId, LoanStatus.Active, LoanStatus.Late, f.publicLateAt, (h: string) => h.length === 66);
    });

    it("lets the servicer mark it late the second the grace period ends", async function () {
      const f = await loadFixture(overdueFixture);
      await time.setNextBlockTimestamp(f.lateFrom);
      await expect(f.loans.connect(f.platformA).markLate(f.terms)).to.emit(f.loans, "LoanStatusChanged");
    });

    it("lets anyone take a silent platform's Active loan to Defaulted, with the facts a late mark and a default record", async function () {
      const f = await loadFixture(overdueFixture);
      // The same loan, taken to default by its platform, for comparison.
      const twin = await termsFor(f.platformA, { borrowerRef: borrowerRef(NATIONAL_IDS[1], ALLIANCE_KEY) });
      await f.loans.connect(f.platformA).anchorLoan(twin);
      await f.loans.connect(f.platformA).activateLoan(twin);

      await time.setNextBlockTimestamp(f.publicDefaultAt - 1);
      await expect(f.loans.connect(f.outsider).markDefaulted(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotYetPublic")
        .withArgs(f.loanId, f.publicDefaultAt, f.publicDefaultAt - 1);
      await time.setNextBlockTimestamp(f.publicDefaultAt);
      await f.loans.connect(f.outsider).markDefaulted(f.terms);
      await f.loans.connect(f.platformA).markLate(twin);
      await f.loans.connect(f.platformA).markDefaulted(twin);

      const kinds = async (loanId: LoanId) =>
        (await loanHistory(f.clientFor(f.auditor).loans, loanId)).entries.map((e) =>
          e.fact.kind === "StatusChanged" ? `${statusName(e.fact.from)}→${statusName(e.fact.to)}` : e.fact.kind,
        );
      expect(await kinds(f.loanId)).to.deep.equal(await kinds(loanIdOf(twin)));
      expect(await kinds(f.loanId)).to.deep.equal([
        "Anchored",
        "Funding→Active",
        "Active→Late",
        "Late→Defaulted",
        "LossRecorded",
      ]);
      const exposure = await f.loans.exposureOf(f.terms.borrowerRef);
      expect([exposure.lateEvents, exposure.defaultEvents]).to.deep.equal([1n, 1n]);
      expect((await f.loans.lossOf(f.loanId)).principal).to.equal(f.terms.principal);
      expect((await loanHistory(f.clientFor(f.auditor).loans, f.loanId)).verified).to.equal(true);
    });

    it("lets a lender default an expelled platform's loan after the public delay, and the expelled platform never", async function () {
      const f = await loadFixture(overdueFixture);
      await f.alliance.expelMember(f.platformA);
      await time.setNextBlockTimestamp(f.defaultFrom);
      await expect(f.loans.connect(f.platformA).markDefaulted(f.terms)).to.be.revertedWithCustomError(
        f.loans,
        "LoanRegistryNotYetPublic",
      );
      await time.setNextBlockTimestamp(f.publicDefaultAt);
      await expect(f.loans.connect(f.lender).markDefaulted(f.terms)).to.emit(f.loans, "LossRecorded");
    });

    it("bounds the public delay to a year, so governance cannot switch public defaults off", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const year = 365 * DAY;
      await expect(
        f.loans.setAlliancePolicy({ maxOpenLoans: 0, maxOutstandingPrincipal: 0n, publicDefaultDelay: year + 1 }),
      )
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryPublicDelayTooLong")
        .withArgs(year + 1, year);
      await f.loans.setAlliancePolicy({ maxOpenLoans: 0, maxOutstandingPrincipal: 0n, publicDefaultDelay: year });
    });

    it("lets anyone cancel a Funding loan once its deadline has passed, freeing the borrower's exposure", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await time.setNextBlockTimestamp(f.terms.fundingDeadline);
      await expect(f.loans.connect(f.outsider).cancelLoan(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
        .withArgs(f.loanId, f.outsider.address);
      await time.setNextBlockTimestamp(f.terms.fundingDeadline + 1);
      await expect(f.loans.connect(f.outsider).cancelLoan(f.terms)).to.emit(f.loans, "LoanStatusChanged");
      expect((await f.loans.exposureOf(f.terms.borrowerRef)).openLoans).to.equal(0n);
    });

    it("lets anyone cancel an expelled platform's Funding loan at once, and not the expelled platform", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await f.alliance.expelMember(f.platformA);
      await expect(f.loans.connect(f.platformA).cancelLoan(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
        .withArgs(f.loanId, f.platformA.address);
      await expect(f.loans.connect(f.lender).cancelLoan(f.terms)).to.emit(f.loans, "LoanStatusChanged");
    });

    it("gives system powers to contracts only, by governance only, with known bits", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await expect(f.loans.setSystemPowers(f.outsider, 2))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidSystemPowers")
        .withArgs(f.outsider.address, 2);
      await expect(f.loans.setSystemPowers(f.system, 4))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidSystemPowers")
        .withArgs(await f.system.getAddress(), 4);
      await expect(f.loans.connect(f.platformA).setSystemPowers(f.system, 0))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotGovernance")
        .withArgs(f.platformA.address);
      await expect(f.loans.setSystemPowers(f.system, 0)).to.emit(f.loans, "SystemPowersSet");
      expect(await f.loans.systemPowersOf(f.system)).to.equal(0n);
      // The suite's own contracts hold exactly the powers they use.
      expect(await f.loans.systemPowersOf(f.splitter)).to.equal(3n);
      expect(await f.loans.systemPowersOf(f.waterfall)).to.equal(2n);
      expect(await f.loans.systemPowersOf(f.collateral)).to.equal(2n);
    });
  });

  describe("money rules: skipping installments never pays less than paying on time", function () {
    /** Platform A's 12-month annuity, Active: the registry records its repayments directly (no splitter). */
    async function activeFixture() {
      const f = await loadFixture(withAnchoredLoanFixture);
      await f.loans.connect(f.platformA).activateLoan(f.terms);
      const { activatedAt } = await f.loans.loanState(f.loanId);
      return { ...f, activatedAt: Number(activatedAt) };
    }
    const installmentOf = (due: { lateInterest: bigint; interest: bigint; principal: bigint }) =>
      due.lateInterest + due.interest + due.principal;
    /** Interest and late interest the history records as paid. */
    async function chargesPaid(f: AllianceFixture, loanId: LoanId) {
      const history = await loanHistory(f.clientFor(f.auditor).loans, loanId);
      return history.entries.reduce(
        (sum, e) => (e.fact.kind === "RepaymentRecorded" ? sum + e.fact.interest + e.fact.lateInterest : sum),
        0n,
      );
    }

    it("refuses a prepayment while a later installment has fallen due, naming what to pay first", async function () {
      const f = await loadFixture(activeFixture);
      const nextDue = f.activatedAt + 2 * f.terms.period;
      await time.setNextBlockTimestamp(nextDue);
      const due = await f.loans.nextPayment(f.terms);
      const { outstandingPrincipal } = await f.loans.loanState(f.loanId);
      await expect(
        f.loans
          .connect(f.platformA)
          .recordPayment(f.terms, due.lateInterest + due.interest + outstandingPrincipal, ZeroHash),
      )
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryInstallmentsDue")
        // The installment to pay first, with its late interest as of that second.
        .withArgs(f.loanId, 2, nextDue, (v: bigint) => v > installmentOf(due));
    });

    it("charges a borrower who skips three months and then prepays at least what a punctual one pays", async function () {
      const f = await loadFixture(activeFixture);
      const punctual = await termsFor(f.platformA, { borrowerRef: borrowerRef(NATIONAL_IDS[1], ALLIANCE_KEY) });
      await f.loans.connect(f.platformA).anchorLoan(punctual);
      await f.loans.connect(f.platformA).activateLoan(punctual);
      const punctualStart = Number((await f.loans.loanState(loanIdOf(punctual))).activatedAt);
      const loans = f.loans.connect(f.platformA);
      const payoff = async (terms: LoanTerms) => {
        const due = await loans.nextPayment(terms);
        return due.lateInterest + due.interest + (await loans.loanState(loanIdOf(terms))).outstandingPrincipal;
      };
      // The punctual borrower pays three installments on their due dates, then everything.
      for (let k = 1; k <= 3; k++) {
        await time.setNextBlockTimestamp(punctualStart + k * f.terms.period);
        await loans.recordPayment(punctual, installmentOf(await loans.nextPayment(punctual)), ZeroHash);
      }
      // The skipper pays nothing for three months; then it must settle each due installment before it may prepay.
      const day = f.activatedAt + 3 * f.terms.period + DAY;
      await time.setNextBlockTimestamp(day);
      await expect(loans.recordPayment(f.terms, await payoff(f.terms), ZeroHash)).to.be.revertedWithCustomError(
        f.loans,
        "LoanRegistryInstallmentsDue",
      );
      // Each installment with its late interest as of the second it is paid.
      for (let k = 1; k <= 3; k++) {
        const due = await loans.nextPayment(f.terms);
        const at = day + k;
        const late = lateInterest(
          due.principal + due.interest,
          f.terms.lateFeeBps,
          Number(due.dueDate),
          f.terms.gracePeriod,
          at,
        );
        await time.setNextBlockTimestamp(at);
        await loans.recordPayment(f.terms, due.principal + due.interest + late, ZeroHash);
      }
      await loans.recordPayment(f.terms, await payoff(f.terms), ZeroHash);
      await loans.recordPayment(punctual, await payoff(punctual), ZeroHash);
      expect(await chargesPaid(f, f.loanId)).to.be.at.least(await chargesPaid(f, loanIdOf(punctual)));
    });

    it("records at default the interest and late interest of every missed installment, not only the first", async function () {
      const f = await loadFixture(activeFixture);
      // Four installments missed by the time of the default.
      const at = f.activatedAt + 4 * f.terms.period + DAY;
      await time.setNextBlockTimestamp(at);
      await f.loans.connect(f.platformA).markDefaulted(f.terms);
      const rows = schedule(f.terms).slice(0, 4);
      const interest = rows.reduce((sum, r) => sum + r.interest, 0n);
      const late = rows.reduce(
        (sum, r) =>
          sum +
          lateInterest(
            r.principal + r.interest,
            f.terms.lateFeeBps,
            f.activatedAt + r.k * f.terms.period,
            f.terms.gracePeriod,
            at,
          ),
        0n,
      );
      const loss = await f.loans.lossOf(f.loanId);
      expect(loss.principal).to.equal(f.terms.principal);
      expect(loss.interest).to.equal(interest + late);
    });
  });

  describe("servicing actions × the servicer's standing (generated)", function () {
    const ACTIONS = [
      { action: "activateLoan", from: LoanStatus.Funding, wait: 0 },
      { action: "cancelLoan", from: LoanStatus.Funding, wait: 0 },
      { action: "markLate", from: LoanStatus.Active, wait: 1 },
      { action: "markDefaulted", from: LoanStatus.Late, wait: 2 },
      { action: "markRecovered", from: LoanStatus.Defaulted, wait: 0 },
      { action: "writeOff", from: LoanStatus.Defaulted, wait: 0 },
      { action: "recordPayment", from: LoanStatus.Active, wait: 0 },
      { action: "amendDocument", from: LoanStatus.Active, wait: 0 },
    ] as const;
    // Active and suspended platforms service their loans; an expelled one services nothing (before the public
    // delay, which opens late marks and defaults to anyone); a successor services what it took over.
    const STANDINGS = ["active", "suspended", "expelled", "successor"] as const;
    for (const { action, from, wait } of ACTIONS) {
      for (const standing of STANDINGS) {
        const allowed = standing !== "expelled";
        it(
          `${action} from ${statusName(from)} is ${allowed ? "allowed" : "refused"} for a${standing === "active" ? "n" : ""} ${standing} ${standing === "successor" ? "" : "platform"}`.trimEnd(),
          async function () {
            const f = await loadFixture(withAnchoredLoanFixture);
            await driveTo(f, f.terms, from);
            if (wait === 1) await time.increase(f.terms.period + f.terms.gracePeriod + 1);
            if (wait === 2) await time.increase(f.terms.defaultThreshold);
            let actor = f.platformA;
            if (standing === "suspended") await f.alliance.suspendMember(f.platformA);
            if (standing === "expelled" || standing === "successor") await f.alliance.expelMember(f.platformA);
            if (standing === "successor") {
              await f.succession.appointSuccessor(f.platformA, f.platformB);
              await f.succession.takeOverLoans([f.terms]);
              actor = f.platformB;
            }
            const loans = f.loans.connect(actor);
            const send = () =>
              action === "recordPayment"
                ? payoffAmount(f, f.terms).then((amount) => loans.recordPayment(f.terms, amount, ZeroHash))
                : action === "amendDocument"
                  ? loans.amendDocument(f.terms, id("amendment"))
                  : loans[action](f.terms);
            if (allowed) {
              await expect(send()).to.not.be.revert(ethers);
            } else {
              const error =
                action === "markLate" || action === "markDefaulted"
                  ? "LoanRegistryNotYetPublic"
                  : "LoanRegistryUnauthorized";
              await expect(send()).to.be.revertedWithCustomError(f.loans, error);
            }
          },
        );
      }
    }
  });

  describe("successors: governance hands a failed platform's book to another platform", function () {
    /** Platform A expelled with one Active loan; platform B appointed its successor. */
    async function appointedFixture() {
      const f = await loadFixture(withAnchoredLoanFixture);
      await f.loans.connect(f.platformA).activateLoan(f.terms);
      await f.alliance.expelMember(f.platformA);
      await f.succession.appointSuccessor(f.platformA, f.platformB);
      return f;
    }

    it("appoints a successor for a suspended or expelled platform only, by governance only", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await expect(f.succession.appointSuccessor(f.platformA, f.platformB))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidSuccessor")
        .withArgs(f.platformA.address, f.platformB.address);
      await f.alliance.suspendMember(f.platformA);
      await expect(f.succession.connect(f.platformB).appointSuccessor(f.platformA, f.platformB))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotGovernance")
        .withArgs(f.platformB.address);
      for (const successor of [f.platformA, f.auditor, f.outsider]) {
        await expect(f.succession.appointSuccessor(f.platformA, successor))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidSuccessor")
          .withArgs(f.platformA.address, successor.address);
      }
      await expect(f.succession.appointSuccessor(f.platformA, f.platformB))
        .to.emit(f.loans, "SuccessorAppointed")
        .withArgs(f.platformA.address, f.platformB.address);
      expect(await f.succession.successorOf(f.platformA)).to.equal(f.platformB.address);
    });

    it("hands each loan over with a fact in its history, after which the successor services it", async function () {
      const f = await loadFixture(appointedFixture);
      await expect(f.succession.connect(f.outsider).takeOverLoans([f.terms]))
        .to.emit(f.loans, "LoanServicerChanged")
        .withArgs(
          f.loanId,
          f.platformA.address,
          f.platformB.address,
          (t: bigint) => t > 0n,
          (h: string) => h.length === 66,
        );
      expect(await f.loans.servicerOf(f.terms)).to.equal(f.platformB.address);
      expect((await f.loans.loanState(f.loanId)).handedOver).to.equal(true);
      const history = await loanHistory(f.clientFor(f.auditor).loans, f.loanId);
      expect(history.entries.at(-1)?.fact).to.include({
        kind: "ServicerChanged",
        from: f.platformA.address,
        to: f.platformB.address,
      });
      expect(history.verified).to.equal(true);
      await expect(f.succession.takeOverLoans([f.terms]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNoSuccessor")
        .withArgs(f.loanId, f.platformA.address);

      await time.increase(f.terms.period + f.terms.gracePeriod + 1);
      await expect(f.loans.connect(f.platformA).markLate(f.terms)).to.be.revertedWithCustomError(
        f.loans,
        "LoanRegistryNotYetPublic",
      );
      await f.loans.connect(f.platformB).markLate(f.terms);
      await time.increase(f.terms.defaultThreshold);
      await f.loans.connect(f.platformB).markDefaulted(f.terms);
      await expect(f.loans.connect(f.platformA).writeOff(f.terms))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
        .withArgs(f.loanId, f.platformA.address);
      await f.loans.connect(f.platformB).writeOff(f.terms);
    });

    it("takes over no loan without an appointment", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await expect(f.succession.takeOverLoans([f.terms]))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNoSuccessor")
        .withArgs(f.loanId, f.platformA.address);
    });

    it("lets governance transfer a list of loans to an active platform, whatever their platform's standing", async function () {
      const f = await loadFixture(withAnchoredLoanFixture);
      await expect(f.succession.connect(f.platformB).transferServicing([f.terms], f.platformB))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotGovernance")
        .withArgs(f.platformB.address);
      await expect(f.succession.transferServicing([f.terms], f.auditor))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidSuccessor")
        .withArgs(ethers.ZeroAddress, f.auditor.address);
      await expect(f.succession.transferServicing([f.terms], f.platformA))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidSuccessor")
        .withArgs(f.platformA.address, f.platformA.address);
      await f.succession.transferServicing([f.terms], f.platformB);
      expect(await f.loans.servicerOf(f.terms)).to.equal(f.platformB.address);
      await f.loans.connect(f.platformB).activateLoan(f.terms);
      await expect(f.loans.connect(f.platformA).amendDocument(f.terms, id("v2")))
        .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
        .withArgs(f.loanId, f.platformA.address);
    });
  });

  it("encodes terms exactly as the contract does", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const terms = await termsFor(f.platformA, {
      principal: 12345n,
      scheduleKind: ScheduleKind.Bullet,
      installments: 1,
    });
    expect(await f.loans.loanIdOf(terms)).to.equal(loanIdOf(terms));
    expect(AbiCoder.defaultAbiCoder().encode(["uint256"], [loanIdOf(terms)])).to.have.length(66);
  });

  // ---------------------------------------------------------------- consent

  describe("consent: agreements and amendments signed by the borrower and sent by the platform", function () {
    type Signer = Parameters<typeof signConsent>[0];
    const deadlineIn = async (seconds: number) => BigInt((await time.latest()) + seconds);

    /** The borrower's signature of `subject` in the registry's own domain (or `domain` when given). */
    async function signedBy(
      f: AllianceFixture,
      subject: ConsentSubject,
      borrower: Signer,
      domain?: Awaited<ReturnType<LoanRegistryClient["consentDomain"]>>,
    ): Promise<ConsentSignatures> {
      const d = domain ?? (await f.clientFor(f.platformA).loans.consentDomain());
      const b = await signConsent(borrower, d, subject);
      return { borrower: b.signer, deadline: subject.deadline, borrowerSignature: b.signature };
    }

    async function agreement(f: AllianceFixture, terms: LoanTerms, borrower: Signer) {
      const subject = { kind: "agreement" as const, loanId: loanIdOf(terms), deadline: await deadlineIn(DAY) };
      return signedBy(f, subject, borrower);
    }

    const consentOf = (f: AllianceFixture, signer: HardhatEthersSigner) =>
      new LoanRegistryClient(String(f.loans.target), signer).consent;

    /** Platform A's loan anchored with its borrower's signature, under the consent policy. */
    async function withSignedLoanFixture() {
      const f = await deployAllianceFixture();
      await f.loans.connect(f.governance).setConsentRequired(true);
      const terms = await termsFor(f.platformA);
      const borrower = freshBorrowerKey().wallet;
      const signatures = await agreement(f, terms, borrower);
      await consentOf(f, f.platformA).anchorSignedLoans([terms], [toSignatures(signatures)]);
      return { ...f, terms, loanId: loanIdOf(terms), borrower, signatures };
    }

    async function withContractWalletFixture() {
      const f = await deployAllianceFixture();
      const owner = freshBorrowerKey().wallet;
      const wallet = await ethers.deployContract("MockContractWallet", [owner.address]);
      return { ...f, owner, wallet };
    }

    describe("anchorSignedLoans", function () {
      it("anchors with the borrower's signature, records it and the sending platform as a fact after the anchoring, and marks the consent Signed", async function () {
        const f = await loadFixture(withSignedLoanFixture);
        const { loans } = f.clientFor(f.auditor);
        expect((await loans.state(f.loanId)).consent).to.equal(Consent.Signed);
        const history = await loanHistory(loans, f.loanId);
        expect(history.verified).to.equal(true);
        expect(history.entries.map((e) => e.fact.kind)).to.deep.equal(["Anchored", "AgreementSigned"]);
        expect(history.entries[1].fact).to.include({
          borrower: f.signatures.borrower,
          platform: toAddress(f.platformA.address),
          borrowerSignature: f.signatures.borrowerSignature,
        });
        expect(history.entries[1].fact).to.not.have.property("platformSignature");
      });

      it("accepts a borrower's contract wallet that approves, and refuses one that refuses", async function () {
        const f = await loadFixture(withContractWalletFixture);
        const walletAddress = toAddress(await f.wallet.getAddress());
        const terms = await termsFor(f.platformA);
        // The wallet's owner signs (in the 65-byte form the wallet reads); the wallet (ERC-1271) vouches for it.
        const signed = await agreement(f, terms, f.owner);
        const full = Signature.from(
          await f.owner.signTypedData(await f.clientFor(f.platformA).loans.consentDomain(), AGREEMENT_TYPES, {
            loanId: loanIdOf(terms),
            deadline: signed.deadline,
          }),
        ).serialized;
        const signatures = { ...signed, borrower: walletAddress, borrowerSignature: full };
        const consent = consentOf(f, f.platformA);
        await f.wallet.setRefusing(true);
        await expect(consent.anchorSignedLoans([terms], [toSignatures(signatures)]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchItemRejected")
          .withArgs(
            0,
            f.loans.interface.encodeErrorResult("LoanRegistryInvalidSignature", [loanIdOf(terms), walletAddress]),
          );
        await f.wallet.setRefusing(false);
        await consent.anchorSignedLoans([terms], [toSignatures(signatures)]);
        expect((await f.loans.loanState(loanIdOf(terms))).consent).to.equal(Consent.Signed);
      });

      it("rejects a signature for another loan, another chain or another registry, naming the item", async function () {
        const f = await loadFixture(deployAllianceFixture);
        const borrower = freshBorrowerKey().wallet;
        const [good, other] = [await termsFor(f.platformA), await termsFor(f.platformA)];
        const domain = await f.clientFor(f.platformA).loans.consentDomain();
        const subject = { kind: "agreement" as const, loanId: loanIdOf(good), deadline: await deadlineIn(DAY) };
        const cases = {
          "another loan": await signedBy(f, { ...subject, loanId: loanIdOf(other) }, borrower),
          "another chain": await signedBy(f, subject, borrower, { ...domain, chainId: 1n }),
          "another registry": await signedBy(f, subject, borrower, {
            ...domain,
            verifyingContract: f.outsider.address,
          }),
        };
        const consent = consentOf(f, f.platformA);
        for (const [what, bad] of Object.entries(cases)) {
          const reason = f.loans.interface.encodeErrorResult("LoanRegistryInvalidSignature", [
            loanIdOf(good),
            bad.borrower,
          ]);
          await expect(
            consent.anchorSignedLoans(
              [other, good],
              [toSignatures(await agreement(f, other, borrower)), toSignatures(bad)],
            ),
            what,
          )
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchItemRejected")
            .withArgs(1, reason);
          // The preview explains it without a transaction.
          expect(await consent.previewSignedAnchor(f.platformA, good, toSignatures(bad)), what).to.equal(reason);
        }
        expect(
          await consent.previewSignedAnchor(f.platformA, good, toSignatures(await agreement(f, good, borrower))),
        ).to.equal("0x");
      });

      it("takes the platform's consent from its own transaction only: anyone else sending a borrower's signature is refused", async function () {
        const f = await loadFixture(deployAllianceFixture);
        const terms = await termsFor(f.platformA);
        const loanId = loanIdOf(terms);
        const signed = toSignatures(await agreement(f, terms, freshBorrowerKey().wallet));
        // Another active platform holding a valid borrower signature cannot anchor platform A's loan, alone or in a batch.
        const mismatch = f.loans.interface.encodeErrorResult("LoanRegistryPlatformMismatch", [
          f.platformB.address,
          f.platformA.address,
        ]);
        await expect(consentOf(f, f.platformB).anchorSignedLoan(terms, signed))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryPlatformMismatch")
          .withArgs(f.platformB.address, f.platformA.address);
        await expect(consentOf(f, f.platformB).anchorSignedLoans([terms], [signed]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchItemRejected")
          .withArgs(0, mismatch);
        expect(await consentOf(f, f.platformB).previewSignedAnchor(f.platformB, terms, signed)).to.equal(mismatch);
        // Nor can anyone who is not an active platform, the borrower's own key included.
        for (const sender of [f.outsider, f.auditor]) {
          await expect(consentOf(f, sender).anchorSignedLoan(terms, signed))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotActivePlatform")
            .withArgs(sender.address);
        }
        expect((await f.loans.loanState(loanId)).status).to.equal(LoanStatus.None);
      });

      it("rejects a platform signing as its own borrower", async function () {
        const f = await loadFixture(deployAllianceFixture);
        const terms = await termsFor(f.platformA);
        const loanId = loanIdOf(terms);
        const consent = consentOf(f, f.platformA);
        const selfSigned = await agreement(f, terms, f.platformA);
        await expect(consent.anchorSignedLoans([terms], [toSignatures(selfSigned)]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchItemRejected")
          .withArgs(
            0,
            f.loans.interface.encodeErrorResult("LoanRegistryBorrowerIsPlatform", [loanId, f.platformA.address]),
          );
      });

      it("rejects signatures past their deadline", async function () {
        const f = await loadFixture(deployAllianceFixture);
        const terms = await termsFor(f.platformA);
        const signed = await agreement(f, terms, freshBorrowerKey().wallet);
        await time.increase(2 * DAY);
        const tx = consentOf(f, f.platformA).anchorSignedLoans([terms], [toSignatures(signed)]);
        await expect(tx).to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchItemRejected");
        const reason = await consentOf(f, f.platformA).previewSignedAnchor(f.platformA, terms, toSignatures(signed));
        expect(decodeRevertData(reason)?.errorName).to.equal("LoanRegistryConsentExpired");
      });

      it("needs one borrower signature per loan, an active platform, and the module only through the registry", async function () {
        const f = await loadFixture(deployAllianceFixture);
        const terms = await termsFor(f.platformA);
        const signed = toSignatures(await agreement(f, terms, freshBorrowerKey().wallet));
        await expect(consentOf(f, f.platformA).anchorSignedLoans([terms], [signed, signed]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryBatchLengthMismatch")
          .withArgs(1, 2);
        for (const role of ["governance", "auditor", "lender", "outsider"] as const) {
          await expect(consentOf(f, f[role]).anchorSignedLoans([terms], [signed]))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotActivePlatform")
            .withArgs(f[role].address);
          await expect(consentOf(f, f[role]).anchorLegacyLoans([terms]))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotActivePlatform")
            .withArgs(f[role].address);
        }
        const module = await ethers.getContractAt("LoanConsentModule", await f.loans.CONSENT_MODULE());
        await expect(module.connect(f.platformA).anchorSignedLoans([terms], [signed])).to.be.revertedWithCustomError(
          module,
          "LoanRegistryModuleNotDelegated",
        );
      });
    });

    describe("the consent policy", function () {
      it("is governance's to set", async function () {
        const f = await loadFixture(deployAllianceFixture);
        for (const role of ["platformA", "auditor", "outsider"] as const) {
          await expect(f.loans.connect(f[role]).setConsentRequired(true))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotGovernance")
            .withArgs(f[role].address);
        }
        await expect(f.loans.connect(f.governance).setConsentRequired(true))
          .to.emit(f.loans, "ConsentPolicySet")
          .withArgs(true);
        expect(await f.loans.consentRequired()).to.equal(true);
      });

      it("keeps an unsigned loan from opening funding or activating until its borrower signs and the platform sends it", async function () {
        const f = await loadFixture(withAnchoredLoanFixture);
        await f.loans.connect(f.governance).setConsentRequired(true);
        await expect(asSystem(f, f.loans, "delegateServicing", [f.terms]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryConsentMissing")
          .withArgs(f.loanId);
        await expect(f.loans.connect(f.platformA).activateLoan(f.terms))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryConsentMissing")
          .withArgs(f.loanId);
        const signed = await agreement(f, f.terms, freshBorrowerKey().wallet);
        await expect(consentOf(f, f.platformA).signAgreement(f.terms, toSignatures(signed))).to.emit(
          f.loans,
          "LoanAgreementSigned",
        );
        await expect(asSystem(f, f.loans, "delegateServicing", [f.terms])).to.emit(f.loans, "LoanServicingDelegated");
      });

      it("imports a legacy book signed on paper with a distinct fact in each loan's history", async function () {
        const f = await loadFixture(deployAllianceFixture);
        await f.loans.connect(f.governance).setConsentRequired(true);
        await consentOf(f, f.governance).allowLegacyImport(f.platformA, (await time.latest()) + DAY);
        const book = [await termsFor(f.platformA), await termsFor(f.platformA)];
        await expect(consentOf(f, f.platformA).anchorLegacyLoans(book)).to.emit(f.loans, "LegacyAgreementRecorded");
        const { loans } = f.clientFor(f.auditor);
        for (const terms of book) {
          const loanId = loanIdOf(terms);
          expect((await loans.state(loanId)).consent).to.equal(Consent.Legacy);
          const history = await loanHistory(loans, loanId);
          expect(history.verified).to.equal(true);
          expect(history.entries.map((e) => e.fact.kind)).to.deep.equal(["Anchored", "LegacyAgreement"]);
        }
        // A book financed off the ledger is activated by its servicer, as it was before the import.
        await f.loans.connect(f.platformA).activateLoan(book[0]);
        // A legacy book's document changes with on-chain signatures only.
        await expect(f.loans.connect(f.platformA).amendDocument(book[1], id("new")))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryConsentRequired")
          .withArgs(loanIdOf(book[1]), Consent.Legacy, LoanStatus.Funding);
      });

      it("lets a legacy loan open funding on the ledger only once its borrower signed it, while consent is required", async function () {
        const f = await loadFixture(deployAllianceFixture);
        await f.loans.connect(f.governance).setConsentRequired(true);
        await consentOf(f, f.governance).allowLegacyImport(f.platformA, (await time.latest()) + DAY);
        const terms = await termsFor(f.platformA);
        await consentOf(f, f.platformA).anchorLegacyLoans([terms]);
        await expect(asSystem(f, f.loans, "delegateServicing", [terms]))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryLegacyLoanFunding")
          .withArgs(loanIdOf(terms));
        const signed = await agreement(f, terms, freshBorrowerKey().wallet);
        await consentOf(f, f.platformA).signAgreement(terms, toSignatures(signed));
        await expect(asSystem(f, f.loans, "delegateServicing", [terms])).to.emit(f.loans, "LoanServicingDelegated");
      });

      it("imports a legacy book only for a platform governance allowed, until its cut-off", async function () {
        const f = await loadFixture(deployAllianceFixture);
        const book = [await termsFor(f.platformA)];
        let now = await pinNextBlock();
        await expect(consentOf(f, f.platformA).anchorLegacyLoans(book))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryLegacyImportClosed")
          .withArgs(f.platformA.address, 0, now);
        const until = now + DAY;
        await expect(consentOf(f, f.governance).allowLegacyImport(f.platformA, until))
          .to.emit(f.loans, "LegacyImportAllowed")
          .withArgs(f.platformA.address, until);
        expect(await consentOf(f, f.auditor).legacyImportUntil(f.platformA)).to.equal(BigInt(until));
        // Another platform's allowance is its own.
        await expect(
          consentOf(f, f.platformB).anchorLegacyLoans([await termsFor(f.platformB)]),
        ).to.be.revertedWithCustomError(f.loans, "LoanRegistryLegacyImportClosed");
        await time.increaseTo(until);
        await pinNextBlock(until + 1);
        await expect(consentOf(f, f.platformA).anchorLegacyLoans(book))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryLegacyImportClosed")
          .withArgs(f.platformA.address, until, until + 1);
        now = await pinNextBlock();
        await consentOf(f, f.governance).allowLegacyImport(f.platformA, now + DAY);
        await expect(consentOf(f, f.platformA).anchorLegacyLoans(book)).to.emit(f.loans, "LegacyAgreementRecorded");
      });

      it("takes the legacy allowance from governance only", async function () {
        const f = await loadFixture(deployAllianceFixture);
        for (const role of ["platformA", "platformB", "auditor", "lender", "outsider"] as const) {
          await expect(consentOf(f, f[role]).allowLegacyImport(f.platformA, (await time.latest()) + DAY))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryNotGovernance")
            .withArgs(f[role].address);
        }
      });
    });

    describe("signAgreement", function () {
      it("is for the loan's servicer only", async function () {
        const f = await loadFixture(withAnchoredLoanFixture);
        for (const role of ["platformB", "auditor", "outsider"] as const) {
          const signed = await agreement(f, f.terms, freshBorrowerKey().wallet);
          await expect(consentOf(f, f[role]).signAgreement(f.terms, toSignatures(signed)))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
            .withArgs(f.loanId, f[role].address);
        }
      });

      for (const status of ALL_STATUSES.filter((s) => s !== LoanStatus.Funding)) {
        it(`reverts from ${statusName(status)}`, async function () {
          const f = await loadFixture(withAnchoredLoanFixture);
          await driveTo(f, f.terms, status);
          const signed = await agreement(f, f.terms, freshBorrowerKey().wallet);
          await expect(consentOf(f, f.platformA).signAgreement(f.terms, toSignatures(signed)))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryCannotSignAgreement")
            .withArgs(f.loanId, status, 1, Consent.None);
        });
      }

      it("reverts once signed, and after the document changed (an amendment is signed instead)", async function () {
        const f = await loadFixture(withSignedLoanFixture);
        await expect(consentOf(f, f.platformA).signAgreement(f.terms, toSignatures(f.signatures)))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryCannotSignAgreement")
          .withArgs(f.loanId, LoanStatus.Funding, 1, Consent.Signed);
        const g = await loadFixture(withAnchoredLoanFixture);
        await g.loans.connect(g.platformA).amendDocument(g.terms, id("v2"));
        const signed = await agreement(g, g.terms, freshBorrowerKey().wallet);
        await expect(consentOf(g, g.platformA).signAgreement(g.terms, toSignatures(signed)))
          .to.be.revertedWithCustomError(g.loans, "LoanRegistryCannotSignAgreement")
          .withArgs(g.loanId, LoanStatus.Funding, 2, Consent.None);
      });
    });

    describe("amendDocumentSigned", function () {
      async function amendment(f: Awaited<ReturnType<typeof withSignedLoanFixture>>, version: number, doc: string) {
        const subject = {
          kind: "amendment" as const,
          loanId: f.loanId,
          version,
          documentHash: toHash32(id(doc)),
          deadline: await deadlineIn(DAY),
        };
        return signedBy(f, subject, f.borrower);
      }

      it("adds a version signed by the borrower and sent by the servicer, once: the old version stays and the signature cannot be replayed", async function () {
        const f = await loadFixture(withSignedLoanFixture);
        await asSystem(f, f.loans, "delegateServicing", [f.terms]);
        await asSystem(f, f.loans, "activateLoan", [f.terms]);
        const signed = await amendment(f, 2, "v2");
        const consent = consentOf(f, f.platformA);
        await expect(consent.amendDocumentSigned(f.terms, id("v2"), toSignatures(signed)))
          .to.emit(f.loans, "LoanAmendmentSigned")
          .and.to.emit(f.loans, "LoanDocumentAmended");
        // Replayed, it would make version 3, which it does not name.
        await expect(consent.amendDocumentSigned(f.terms, id("v2"), toSignatures(signed)))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidSignature")
          .withArgs(f.loanId, f.signatures.borrower);
        const history = await loanHistory(f.clientFor(f.auditor).loans, f.loanId);
        expect(history.verified).to.equal(true);
        const kinds = history.entries.map((e) => e.fact.kind);
        expect(kinds.slice(-2)).to.deep.equal(["DocumentAmended", "AmendmentSigned"]);
        expect(kinds[0]).to.equal("Anchored");
      });

      it("is the only way to change a funded or signed loan's document", async function () {
        const f = await loadFixture(withSignedLoanFixture);
        await expect(f.loans.connect(f.platformA).amendDocument(f.terms, id("v2")))
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryConsentRequired")
          .withArgs(f.loanId, Consent.Signed, LoanStatus.Funding);
        // Under the policy an unsigned loan's document changes unsigned only before funding.
        const g = await loadFixture(withAnchoredLoanFixture);
        await driveTo(g, g.terms, LoanStatus.Active);
        await g.loans.connect(g.governance).setConsentRequired(true);
        await expect(g.loans.connect(g.platformA).amendDocument(g.terms, id("v2")))
          .to.be.revertedWithCustomError(g.loans, "LoanRegistryConsentRequired")
          .withArgs(g.loanId, Consent.None, LoanStatus.Active);
      });

      it("re-asks the borrower before funding: a signature of the agreement does not sign a new document", async function () {
        const f = await loadFixture(withSignedLoanFixture);
        const withAgreementSignature = { ...(await amendment(f, 2, "v2")) };
        withAgreementSignature.borrowerSignature = f.signatures.borrowerSignature;
        await expect(
          consentOf(f, f.platformA).amendDocumentSigned(f.terms, id("v2"), toSignatures(withAgreementSignature)),
        )
          .to.be.revertedWithCustomError(f.loans, "LoanRegistryInvalidSignature")
          .withArgs(f.loanId, f.signatures.borrower);
      });

      it("is for the loan's servicer only", async function () {
        const f = await loadFixture(withSignedLoanFixture);
        const signed = await amendment(f, 2, "v2");
        for (const role of ["platformB", "auditor", "outsider"] as const) {
          await expect(consentOf(f, f[role]).amendDocumentSigned(f.terms, id("v2"), toSignatures(signed)))
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryUnauthorized")
            .withArgs(f.loanId, f[role].address);
        }
      });

      for (const status of [LoanStatus.Repaid, LoanStatus.Recovered, LoanStatus.WrittenOff, LoanStatus.Cancelled]) {
        it(`reverts from ${statusName(status)}, a closed loan`, async function () {
          const f = await loadFixture(withSignedLoanFixture);
          await driveTo(f, f.terms, status);
          await expect(
            consentOf(f, f.platformA).amendDocumentSigned(f.terms, id("v2"), toSignatures(await amendment(f, 2, "v2"))),
          )
            .to.be.revertedWithCustomError(f.loans, "LoanRegistryLoanClosed")
            .withArgs(f.loanId, status);
        });
      }
    });
  });
});
