import { expect } from "chai";
import { InputError } from "../../src/client/index.js";
import { parseTime } from "../../src/cli/terms-file.js";

const NOW = 1_800_000_000;

function refusal(value: unknown): string {
  try {
    parseTime(value, "fundingDeadline", NOW);
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(value)} was accepted`);
}

describe("parseTime", function () {
  it("reads ISO dates, unix seconds and durations from now", function () {
    expect(parseTime("2027-02-28T00:00:00Z", "t", NOW)).to.equal(Date.UTC(2027, 1, 28) / 1000);
    expect(parseTime("2028-02-29", "t", NOW)).to.equal(Date.UTC(2028, 1, 29) / 1000);
    expect(parseTime("1800000123", "t", NOW)).to.equal(1_800_000_123);
    expect(parseTime("+7d", "t", NOW)).to.equal(NOW + 7 * 86_400);
  });

  it("refuses a day the calendar does not have, instead of rolling it over to the next month", function () {
    expect(refusal("2027-02-30")).to.equal(
      "fundingDeadline is not a date: 2027-02-30 does not exist (2027-02 has 28 days)",
    );
    expect(refusal("2027-02-29T12:00:00Z")).to.contain("2027-02 has 28 days");
    expect(refusal("2027-04-31")).to.contain("2027-04 has 30 days");
    expect(refusal("2027-13-01")).to.satisfy((m: string) => m.includes("not a date") || m.includes("must be a date"));
    expect(refusal("tomorrow")).to.equal('fundingDeadline must be a date, unix seconds or "+7d", not "tomorrow"');
  });
});
