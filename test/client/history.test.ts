import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, keccak256 } from "ethers";
import {
  FACT_FIELDS,
  FactKind,
  factHash,
  GENESIS_HEAD,
  nextHead,
  toAddress,
  toHash32,
  toLoanId,
  type LoanFact,
} from "../../src/client/index.js";

const coder = AbiCoder.defaultAbiCoder();
const MAX = { uint8: 255n, uint16: 65_535n, uint40: 2n ** 40n - 1n, uint256: 2n ** 256n - 1n } as const;

/** A value of each ABI type, over its whole range. */
const valueOf = (type: string) => {
  if (type === "address")
    return fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toAddress("0x" + Buffer.from(b).toString("hex")));
  if (type === "bytes32")
    return fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHash32("0x" + Buffer.from(b).toString("hex")));
  // A signature: any length, as an ERC-1271 wallet may take.
  if (type === "bytes") return fc.uint8Array({ maxLength: 200 }).map((b) => "0x" + Buffer.from(b).toString("hex"));
  const max = MAX[type as keyof typeof MAX];
  const n = fc.bigInt({ min: 0n, max });
  return type === "uint256" ? n : n.map((v) => Number(v));
};

/** Any fact of any kind, with every field drawn over its type's whole range. */
const anyFact = fc
  .constantFrom(...(Object.keys(FACT_FIELDS) as LoanFact["kind"][]))
  .chain((kind) =>
    fc
      .tuple(...FACT_FIELDS[kind].map(([, type]) => valueOf(type)))
      .map(
        (values) =>
          ({ kind, ...Object.fromEntries(FACT_FIELDS[kind].map(([name], i) => [name, values[i]])) }) as LoanFact,
      ),
  );

describe("history facts", function () {
  it("hash every fact exactly as abi.encode(kind, loanId, ...fields) does", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX.uint256 }), anyFact, (id, fact) => {
        const fields = FACT_FIELDS[fact.kind];
        const values = fact as unknown as Record<string, unknown>;
        // A signature enters its fact as keccak256(signature), the contracts' `keccak256(signatures.borrowerSignature)`.
        const reference = keccak256(
          coder.encode(
            ["uint8", "uint256", ...fields.map(([, type]) => (type === "bytes" ? "bytes32" : type))],
            [
              FactKind[fact.kind],
              id,
              ...fields.map(([name, type]) => (type === "bytes" ? keccak256(values[name] as string) : values[name])),
            ],
          ),
        );
        expect(factHash(toLoanId(id), fact)).to.equal(reference);
      }),
      { numRuns: 300 },
    );
  });

  it("chains heads as keccak256(abi.encode(head, factHash))", function () {
    const fact = toHash32(keccak256("0x01"));
    expect(nextHead(GENESIS_HEAD, fact)).to.equal(
      keccak256(coder.encode(["bytes32", "bytes32"], [GENESIS_HEAD, fact])),
    );
  });

  it("refuses a value its field cannot hold rather than hashing something else", function () {
    const loanId = toLoanId(1n);
    expect(() => factHash(loanId, { kind: "Anchored", at: 2 ** 40 })).to.throw(RangeError, /does not fit a uint40/);
    expect(() => factHash(loanId, { kind: "StatusChanged", from: -1 as never, to: 1 as never, at: 0 })).to.throw(
      RangeError,
    );
    expect(() => factHash(loanId, { kind: "ServicingDelegated", servicer: "0x1234" as never, at: 0 })).to.throw(
      RangeError,
      /is not an address/,
    );
  });
});
