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
