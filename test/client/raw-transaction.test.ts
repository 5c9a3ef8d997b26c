import { expect } from "chai";
import fc from "fast-check";
import { computeAddress, getAddress, hexlify, keccak256, SigningKey, Transaction } from "ethers";
import { serializeEip1559, type Eip1559Fields } from "../../src/client/raw-transaction.js";

const uint = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
/** Quantities at the edges of RLP's forms too: zero, one byte below and at 0x80, and the widest. */
const edgy = (bits: number) => fc.oneof(uint(bits), fc.constantFrom(0n, 1n, 0x7fn, 0x80n, (1n << BigInt(bits)) - 1n));
/** Calldata of every RLP form: empty, one byte below or at 0x80, up to 55 bytes, and longer (a batch's is 62 KB). */
const calldata = fc.oneof(
  fc.uint8Array({ maxLength: 2 }),
  fc.uint8Array({ minLength: 54, maxLength: 57 }),
  fc.uint8Array({ maxLength: 600 }),
  fc.uint8Array({ minLength: 65_530, maxLength: 65_540 }),
);
// A priority fee above the fee cap is no transaction: ethers refuses to serialize it, and the signer leaves it to ethers.
const fields: fc.Arbitrary<Eip1559Fields> = fc
  .record({
    chainId: fc.oneof(fc.constant(31_337n), edgy(64)),
    nonce: fc.integer({ min: 0, max: 2 ** 32 }),
    maxPriorityFeePerGas: edgy(128),
    maxFeePerGas: edgy(128),
    gasLimit: edgy(64),
    to: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b))),
    value: edgy(256),
    data: calldata.map((b) => hexlify(b)),
  })
  .map((tx) => ({ ...tx, maxFeePerGas: tx.maxFeePerGas + tx.maxPriorityFeePerGas }));

function byEthers(tx: Eip1559Fields): Transaction {
  return Transaction.from({ type: 2, ...tx, accessList: [] });
}

describe("serializeEip1559", function () {
  it("gives ethers' bytes for any fee-market transaction, unsigned and signed", function () {
    fc.assert(
      fc.property(fields, fc.uint8Array({ minLength: 32, maxLength: 32 }), (tx, seed) => {
        const expected = byEthers(tx);
        const unsigned = serializeEip1559(tx);
        expect("0x" + unsigned.toString("hex")).to.equal(expected.unsignedSerialized);
        // Signed by a key: the same signature in ethers' transaction and in ours gives the same bytes to send.
        const key = new SigningKey(keccak256(seed));
        const signature = key.sign(keccak256(unsigned));
        expected.signature = signature;
        expect("0x" + serializeEip1559(tx, signature).toString("hex")).to.equal(expected.serialized);
        // What the node will recover the sender from: the signer of our bytes.
        expect(Transaction.from("0x" + serializeEip1559(tx, signature).toString("hex")).from).to.equal(
          computeAddress(key.publicKey),
        );
      }),
      { numRuns: 150 },
    );
  });

  it("refuses a recipient that is not 20 bytes and a negative quantity", function () {
    const tx = { chainId: 1n, nonce: 0, maxPriorityFeePerGas: 1n, maxFeePerGas: 2n, gasLimit: 21_000n, value: 0n };
    expect(() => serializeEip1559({ ...tx, to: "0x1234", data: "0x" })).to.throw(RangeError, /20 bytes/);
    expect(() => serializeEip1559({ ...tx, to: "0x" + "11".repeat(20), value: -1n, data: "0x" })).to.throw(
      RangeError,
      /negative/,
    );
  });
});
