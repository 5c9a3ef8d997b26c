import { expect } from "chai";
import { ContractError, InputError, toLoanId } from "../../src/client/index.js";
import { reason } from "../../src/cli/reason.js";

const LLST = { decimals: 18, symbol: "LLST", timeZone: "Asia/Shanghai" };
const UNIT = 10n ** 18n;
const LOAN = toLoanId(0xabcn);

describe("CLI failure reasons", function () {
  it("gives a contract error's loan ids in their hex form under --json, and its amounts exact", function () {
    const error = new ContractError("RepaymentSplitterCommitmentTooSmall", [LOAN, UNIT / 2n, 1_000n * UNIT, 0n]);
    expect(error.jsonArgs()).to.deep.equal([
      "0x" + "abc".padStart(64, "0"),
      String(UNIT / 2n),
      String(1_000n * UNIT),
      "0",
    ]);
  });

  it("says a loan is not open for funding yet, rather than naming the splitter's empty phase", function () {
    expect(reason(new ContractError("RepaymentSplitterWrongPhase", [LOAN, 0n]), LLST)).to.match(
      /is not open for funding in the splitter \(its servicer opens it: loan open-funding\)$/,
    );
    expect(reason(new ContractError("RepaymentSplitterWrongPhase", [LOAN, 4n]), LLST)).to.match(
      /is Repaid in the splitter, where this cannot be done$/,
    );
  });

  it("writes a contract error's token amounts in the token's units, never in its smallest unit", function () {
    const tooSmall = new ContractError("RepaymentSplitterCommitmentTooSmall", [
      LOAN,
      UNIT / 2n,
      1_000n * UNIT,
      1_234_500n * UNIT,
    ]);
    expect(reason(tooSmall, LLST)).to.match(
      /: a commitment of 0\.50 LLST is below the minimum 1,000\.00 LLST and does not complete the 1,234,500\.00 LLST still to fund$/,
    );
    // The error keeps its exact values for --json.
    expect(tooSmall.args[1]).to.equal(UNIT / 2n);
    const balance = new ContractError("ERC20InsufficientBalance", [
      "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
      0n,
      1n,
    ]);
    expect(reason(balance, LLST)).to.equal(
      "ERC20InsufficientBalance: 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 holds 0.00 LLST, fewer than the " +
        "≈0.00 LLST needed",
    );
  });

  it("writes the amounts of a rejected batch item's own error, and a principal out of bounds", function () {
    const exposure = new ContractError("LoanRegistryExposureLimit", [
      "0x" + "11".repeat(32),
      3n,
      90_000n * UNIT,
      2n,
      0n,
    ]);
    const batch = new ContractError("LoanRegistryBatchItemRejected", [1n, "0x"], exposure);
    expect(reason(batch, LLST)).to.match(
      / would have 3 open loans and 90,000\.00 LLST outstanding across the alliance, beyond its limits \(2 loans, 0\.00 LLST principal; 0 is no limit\)$/,
    );
    const principal = new ContractError("LoanRegistryTermOutOfBounds", [3n, 0n, 1n, 10n ** 30n]);
    expect(reason(principal, LLST)).to.equal(
      "LoanRegistryTermOutOfBounds: Principal is 0.00 LLST, outside [≈0.00 LLST, 1,000,000,000,000.00 LLST]",
    );
    const installments = new ContractError("LoanRegistryTermOutOfBounds", [6n, 400n, 1n, 360n]);
    expect(reason(installments, LLST)).to.equal("LoanRegistryTermOutOfBounds: Installments is 400, outside [1, 360]");
  });

  it("writes a contract error's times as dates in the alliance's time zone, never as unix seconds", function () {
    // 2027-03-01T00:00:00Z is 08:00 in Shanghai.
    const deadline = new ContractError("LoanRegistryFundingDeadlinePassed", [LOAN, 1_803_859_200n]);
    expect(reason(deadline, LLST)).to.match(/funding deadline 2027-03-01T08:00:00\+08:00 has passed$/);
    expect(reason(deadline, { ...LLST, timeZone: "Europe/Berlin" })).to.match(/2027-03-01T01:00:00\+01:00 has/);
    expect(reason(deadline, LLST)).not.to.match(/1803859200/);
  });

  it("keeps exact integers where the token is not known, and the first line of any other error", function () {
    const due = new ContractError("RepaymentSplitterPaymentBelowDue", [LOAN, UNIT, 3n * UNIT]);
    expect(reason(due)).to.match(
      /: payment 1000000000000000000 does not cover the next installment with its fees, 3000000000000000000$/,
    );
    expect(reason(new InputError("first\nsecond"), LLST)).to.equal("first");
  });
});
