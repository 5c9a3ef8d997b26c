import { expect } from "chai";
import { formatAmount, table } from "../../src/cli/output.js";

describe("CLI output", function () {
  describe("formatAmount", function () {
    it("writes thousands separators, the minor unit's two decimals and the symbol", function () {
      expect(formatAmount(1_234_567n * 10n ** 18n, 18, "CNY")).to.equal("1,234,567.00 CNY");
      expect(formatAmount(50n * 10n ** 16n, 18, "CNY")).to.equal("0.50 CNY");
      expect(formatAmount(0n, 18, "CNY")).to.equal("0.00 CNY");
      expect(formatAmount(-1_000n * 10n ** 6n, 6, "USDC")).to.equal("-1,000.00 USDC");
    });

    it("rounds beyond the minor unit half up, and marks a rounded figure so that it is never read as exact", function () {
      expect(formatAmount(1n, 18, "CNY")).to.equal("≈0.00 CNY");
      expect(formatAmount(1_234_567_891n * 10n ** 15n, 18, "")).to.equal("≈1,234,567.89");
      expect(formatAmount(1_234_567_895n * 10n ** 15n, 18, "CNY")).to.equal("≈1,234,567.90 CNY");
      expect(formatAmount(-1_234_567_891n * 10n ** 15n, 18, "CNY")).to.equal("≈-1,234,567.89 CNY");
      expect(formatAmount(-1n, 18, "CNY")).to.equal("≈0.00 CNY");
      expect(formatAmount(999_999_999_999_999_999n, 18, "CNY")).to.equal("≈1.00 CNY");
    });

    it("follows a token with fewer decimals than the minor unit", function () {
      expect(formatAmount(1_234n, 0, "JPY")).to.equal("1,234 JPY");
      expect(formatAmount(12_345n, 1, "X")).to.equal("1,234.5 X");
    });
  });

  it("right-aligns the columns it is told to", function () {
    expect(
      table(
        ["name", "amount"],
        [
          ["a", "1.00"],
          ["b", "1,000.00"],
        ],
        { right: [1] },
      ).split("\n"),
    ).to.deep.equal(["name    amount", "----  --------", "a         1.00", "b     1,000.00"]);
  });
});
