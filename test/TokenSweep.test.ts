import { expect } from "chai";
import { deployAllianceFixture, ethers, loadFixture } from "./fixtures.js";
import type { MockToken } from "../typechain-types/index.js";

const UNIT = 10n ** 18n;

/** The suite, and a token nobody uses here: what members send to a contract by mistake. */
async function sweepFixture() {
  const f = await deployAllianceFixture();
  const stray = (await ethers.deployContract("MockToken", [0])) as unknown as MockToken;
  const holders = {
    RepaymentSplitter: f.splitter,
    CollateralRegistry: f.collateral,
    CreditInsurance: f.insurance,
    LossWaterfall: f.waterfall,
  } as const;
  return { ...f, stray, holders };
}

describe("TokenSweep: tokens sent to a contract of the suite by mistake", function () {
  for (const name of ["RepaymentSplitter", "CollateralRegistry", "CreditInsurance", "LossWaterfall"] as const) {
    describe(name, function () {
      it("sends a stray token to the risk reserve on governance's call, and to nobody else", async function () {
        const f = await loadFixture(sweepFixture);
        const holder = f.holders[name];
        await f.stray.mint(holder, 5n * UNIT);
        for (const caller of [f.platformA, f.lender, f.auditor, f.outsider]) {
          await expect(holder.connect(caller).sweepMistakenTokens(f.stray))
            .to.be.revertedWithCustomError(holder, "TokenSweepNotGovernance")
            .withArgs(caller.address);
        }
        await expect(holder.sweepMistakenTokens(f.stray))
          .to.emit(holder, "MistakenTokensSwept")
          .withArgs(f.stray.target, f.reserve.target, f.governance.address, 5n * UNIT);
        expect(await f.stray.balanceOf(f.reserve)).to.equal(5n * UNIT);
        await expect(holder.sweepMistakenTokens(f.stray))
          .to.be.revertedWithCustomError(holder, "TokenSweepNothingToSweep")
          .withArgs(f.stray.target);
      });
    });
  }

  it("sweeps settlement tokens only where the contract knows it owes them to nobody", async function () {
    const f = await loadFixture(sweepFixture);
    for (const holder of Object.values(f.holders)) await f.token.mint(holder, UNIT);
    // The waterfall and the collateral registry know what they owe between calls; the splitter and the insurance hold
    // lenders', platforms' and insurers' money in many accounts and sweep none of it.
    for (const holder of [f.waterfall, f.collateral]) {
      await expect(holder.sweepMistakenTokens(f.token)).to.changeTokenBalance(ethers, f.token, f.reserve, UNIT);
    }
    for (const holder of [f.splitter, f.insurance]) {
      await expect(holder.sweepMistakenTokens(f.token))
        .to.be.revertedWithCustomError(holder, "TokenSweepNothingToSweep")
        .withArgs(f.token.target);
    }
  });
});
