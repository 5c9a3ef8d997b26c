import { expect } from "chai";
import fc from "fast-check";
import { lateInterest, levelPayment, schedule, ScheduleKind } from "../../src/client/index.js";
import type { ScheduleMathHarness } from "../../typechain-types/index.js";
import { DAY, ethers, loadFixture } from "../fixtures.js";

async function harnessFixture() {
  return (await ethers.deployContract("ScheduleMathHarness")) as unknown as ScheduleMathHarness;
}

/** Random terms within the registry's bounds. */
const termsArb = fc
  .record({
    scheduleKind: fc.constantFrom(
      ScheduleKind.EqualInstallment,
      ScheduleKind.EqualPrincipal,
      ScheduleKind.InterestOnly,
      ScheduleKind.Bullet,
    ),
    principal: fc.bigInt({ min: 1n, max: 2n ** 96n - 1n }),
    annualRateBps: fc.integer({ min: 0, max: 10_000 }),
    installments: fc.integer({ min: 1, max: 360 }),
    periodDays: fc.integer({ min: 1, max: 1830 }),
  })
  .map((t) => {
    const installments = t.scheduleKind === ScheduleKind.Bullet ? 1 : t.installments;
    const maxDays = Math.min(1830, Math.floor((30 * 365) / installments));
    return { ...t, installments, period: Math.min(t.periodDays, maxDays) * DAY };
  });

/**
 * Random annuity terms within the registry's bounds, drawn towards the corners where rounding hurts most: the largest
 * principals, the smallest rates, short and long terms.
 */
const annuityArb = fc
  .record({
    principal: fc.oneof(
      fc.bigInt({ min: 1n, max: 2n ** 96n - 1n }),
      fc.bigInt({ min: 2n ** 96n - 2n ** 40n, max: 2n ** 96n - 1n }),
    ),
    annualRateBps: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 10 })),
    installments: fc.oneof(fc.integer({ min: 1, max: 360 }), fc.integer({ min: 2, max: 6 })),
    periodDays: fc.oneof(fc.integer({ min: 1, max: 1830 }), fc.constant(1)),
  })
  .map((t) => {
    const maxDays = Math.min(1830, Math.floor((30 * 365) / t.installments));
    return { ...t, scheduleKind: ScheduleKind.EqualInstallment, period: Math.min(t.periodDays, maxDays) * DAY };
  });

const BPS_YEAR = 10_000n * 365n * BigInt(DAY);

/**
 * The exact annuity `P * i * (1+i)^n / ((1+i)^n - 1)` with `i = rate * period / (10 000 * 365 days)`, as a fraction:
 * with `i = a / b`, it is `P * a * (a+b)^n / (b * ((a+b)^n - b^n))`. No rounding anywhere.
 */
function exactAnnuity(principal: bigint, annualRateBps: number, installments: number, period: number) {
  const a = BigInt(annualRateBps) * BigInt(period);
  const n = BigInt(installments);
  if (a === 0n) return { numerator: principal, denominator: n };
  const growth = (a + BPS_YEAR) ** n;
  return { numerator: principal * a * growth, denominator: BPS_YEAR * (growth - BPS_YEAR ** n) };
}

/**
 * ScheduleMath's promise: never below the exact annuity rounded up, and one wei above that only when the exact value
 * is an integer or lies within 4e-10 wei below one.
 */
function expectWithinTheBound(
  level: bigint,
  principal: bigint,
  annualRateBps: number,
  installments: number,
  period: number,
) {
  const { numerator, denominator } = exactAnnuity(principal, annualRateBps, installments, period);
  const roundedUp = (numerator + denominator - 1n) / denominator;
  expect(level, "never short of the exact annuity").to.be.gte(roundedUp);
  expect(level, "at most one wei above it, rounded up").to.be.lte(roundedUp + 1n);
  if (level > roundedUp) {
    // ceil(A) - A < 4e-10 wei, in integers.
    expect((roundedUp * denominator - numerator) * 2_500_000_000n, "one wei more only next to an integer").to.be.lt(
      denominator,
    );
  }
}

describe("schedule (TypeScript mirror of ScheduleMath)", function () {
  it("agrees with the contract to the wei on random terms", async function () {
    const harness = await loadFixture(harnessFixture);
    await fc.assert(
      fc.asyncProperty(termsArb, async (t) => {
        const [principalParts, interestParts] = await harness.schedule(
          t.scheduleKind,
          t.principal,
          t.annualRateBps,
          t.installments,
          t.period,
        );
        const rows = schedule(t);
        expect(rows.map((r) => r.principal)).to.deep.equal([...principalParts]);
        expect(rows.map((r) => r.interest)).to.deep.equal([...interestParts]);
        expect(levelPayment(t.principal, t.annualRateBps, t.installments, t.period)).to.equal(
          await harness.levelPayment(t.principal, t.annualRateBps, t.installments, t.period),
        );
      }),
      { numRuns: 60 },
    );
  });

  it("repays exactly the principal for every kind", function () {
    fc.assert(
      fc.property(termsArb, (t) => {
        const rows = schedule(t);
        expect(rows.reduce((sum, r) => sum + r.principal, 0n)).to.equal(t.principal);
        expect(rows.at(-1)?.balanceAfter).to.equal(0n);
      }),
      { numRuns: 300 },
    );
  });

  it("computes late interest as the contract does", async function () {
    const harness = await loadFixture(harnessFixture);
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 2n ** 100n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 2 ** 33 }),
        fc.integer({ min: 0, max: 30 * DAY }),
        fc.integer({ min: 0, max: 400 * DAY }),
        async (amount, feeBps, dueDate, grace, elapsed) => {
          const now = dueDate + elapsed;
          expect(lateInterest(amount, feeBps, dueDate, grace, now)).to.equal(
            await harness.lateInterest(amount, feeBps, dueDate, grace, now),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  describe("levelPayment against the exact annuity", function () {
    const corners = [
      // Where 27-decimal compounding was 12 600 235 wei short.
      { name: "2^96 - 1 wei at 1 bps in two daily installments", principal: 2n ** 96n - 1n, rate: 1, n: 2, days: 1 },
      // Where it was 159 wei short.
      { name: "1 000 000 tokens at 1 bps in two daily installments", principal: 10n ** 24n, rate: 1, n: 2, days: 1 },
      { name: "2^96 - 1 wei at 1 bps in 360 daily installments", principal: 2n ** 96n - 1n, rate: 1, n: 360, days: 1 },
      {
        name: "2^96 - 1 wei at 100% in 360 monthly installments",
        principal: 2n ** 96n - 1n,
        rate: 10_000,
        n: 360,
        days: 30,
      },
      {
        name: "2^96 - 1 wei at 100% in five 1830-day periods",
        principal: 2n ** 96n - 1n,
        rate: 10_000,
        n: 5,
        days: 1830,
      },
      {
        name: "2^96 - 1 wei at 100% in one 1830-day period",
        principal: 2n ** 96n - 1n,
        rate: 10_000,
        n: 1,
        days: 1830,
      },
      {
        name: "1 000 000 tokens at 8.6% in 24 monthly installments",
        principal: 10n ** 24n,
        rate: 860,
        n: 24,
        days: 30,
      },
      { name: "1 wei at 1 bps in 360 daily installments", principal: 1n, rate: 1, n: 360, days: 1 },
    ];
    for (const c of corners) {
      it(`is the exact annuity rounded up for ${c.name}, in the contract and in the mirror`, async function () {
        const harness = await loadFixture(harnessFixture);
        const period = c.days * DAY;
        const { numerator, denominator } = exactAnnuity(c.principal, c.rate, c.n, period);
        const roundedUp = (numerator + denominator - 1n) / denominator;
        expect(await harness.levelPayment(c.principal, c.rate, c.n, period)).to.equal(roundedUp);
        expect(levelPayment(c.principal, c.rate, c.n, period)).to.equal(roundedUp);
      });
    }

    it("refuses no installments, and a rate times period beyond a uint16 rate and a uint32 period", async function () {
      const harness = await loadFixture(harnessFixture);
      await expect(harness.levelPayment(1000n, 100, 0, DAY)).to.be.revertedWithPanic(0x12);
      expect(() => levelPayment(1000n, 100, 0, DAY)).to.throw(RangeError);
      await expect(harness.levelPayment(1000n, 2n ** 16n, 1, 2n ** 32n)).to.be.revertedWithPanic(0x11);
      expect(() => levelPayment(1000n, 2 ** 16, 1, 2 ** 32)).to.throw(RangeError);
    });

    it("keeps the bound in the contract on random terms", async function () {
      const harness = await loadFixture(harnessFixture);
      await fc.assert(
        fc.asyncProperty(annuityArb, async (t) => {
          const level = await harness.levelPayment(t.principal, t.annualRateBps, t.installments, t.period);
          expectWithinTheBound(level, t.principal, t.annualRateBps, t.installments, t.period);
        }),
        { numRuns: 60 },
      );
    });

    it("keeps the bound in the mirror on random terms, so the last installment never exceeds the level", function () {
      fc.assert(
        fc.property(annuityArb, (t) => {
          const level = levelPayment(t.principal, t.annualRateBps, t.installments, t.period);
          expectWithinTheBound(level, t.principal, t.annualRateBps, t.installments, t.period);
          expect(schedule(t).at(-1)?.total).to.be.lte(level);
        }),
        { numRuns: 1000 },
      );
    });
  });

  it("pays a 12-month annuity of 120 000 at 7.2% in level installments, the last settling the balance", function () {
    const rows = schedule({
      scheduleKind: ScheduleKind.EqualInstallment,
      principal: 120_000n * 10n ** 18n,
      annualRateBps: 720,
      installments: 12,
      period: 30 * DAY,
    });
    const level = rows[0].total;
    expect(rows.slice(0, 11).every((r) => r.total === level)).to.equal(true);
    // By hand: i = 0.072 * 30 / 365 = 0.0059178, (1 + i)^12 = 1.073372, A = P * i * 1.073372 / 0.073372 ≈ 10 388.8.
    expect(level / 10n ** 18n).to.equal(10_388n);
    expect(rows[11].balanceAfter).to.equal(0n);
  });
});
