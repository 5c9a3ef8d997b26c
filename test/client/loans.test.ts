import { expect } from "chai";
import fc from "fast-check";
import {
  anchorLoansCalldata,
  loanIdOf,
  toAddress,
  toBorrowerRef,
  toHash32,
  type LoanTerms,
} from "../../src/client/index.js";
import { deployAllianceFixture, loadFixture } from "../fixtures.js";

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => "0x" + Buffer.from(b).toString("hex"));
const hex32 = bytes32.map(toHash32);
const uint = (bits: number) => fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n });
const terms: fc.Arbitrary<LoanTerms> = fc.record({
  platform: fc
    .uint8Array({ minLength: 20, maxLength: 20 })
    .map((b) => toAddress("0x" + Buffer.from(b).toString("hex"))),
  borrowerRef: bytes32.map(toBorrowerRef),
  documentHash: hex32,
  platformRef: hex32,
  principal: uint(128),
  annualRateBps: uint(16).map(Number),
  scheduleKind: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<LoanTerms["scheduleKind"]>,
  installments: uint(16).map(Number),
  period: uint(32).map(Number),
  gracePeriod: uint(32).map(Number),
  lateFeeBps: uint(16).map(Number),
  defaultThreshold: uint(32).map(Number),
  fundingDeadline: uint(40).map(Number),
});

describe("loan ids and batch calldata", function () {
  it("loanIdOf gives the id the registry gives, for any terms", async function () {
    const f = await loadFixture(deployAllianceFixture);
    await fc.assert(
      fc.asyncProperty(terms, async (t) => {
        expect(loanIdOf(t)).to.equal(await f.loans.loanIdOf(t));
      }),
      { numRuns: 60 },
    );
  });

  it("anchorLoansCalldata encodes as the contract's ABI does", async function () {
    const f = await loadFixture(deployAllianceFixture);
    await fc.assert(
      fc.property(fc.array(terms, { maxLength: 5 }), (batch) => {
        expect(anchorLoansCalldata(batch)).to.equal(f.loans.interface.encodeFunctionData("anchorLoans", [batch]));
      }),
      { numRuns: 60 },
    );
  });

  it("refuses a value that does not fit its member", function () {
    const [t] = fc.sample(terms, 1);
    expect(() => loanIdOf({ ...t, installments: 65_536 })).to.throw(RangeError, "does not fit 16 bits");
  });
});
