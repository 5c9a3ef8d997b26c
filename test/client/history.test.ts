import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, keccak256 } from "ethers";
import {
  decodeLoanFact,
  describeFact,
  FACT_FIELDS,
  FactKind,
  factHash,
  GENESIS_HEAD,
  HISTORY_EVENTS,
  nextHead,
  REGISTRY_FACTS,
  toAddress,
  toHash32,
  toLoanId,
  WRITER_FACTS,
  writerFactHash,
  type LoanFact,
  type WriterFact,
} from "../../src/client/index.js";

const coder = AbiCoder.defaultAbiCoder();
const MAX = { uint8: 255n, uint16: 65_535n, uint40: 2n ** 40n - 1n, uint256: 2n ** 256n - 1n } as const;
/** The ABI type a field of the table encodes as: a signature or a batch as its hash, a status as a uint8. */
const abiType = (type: string) => (type === "bytes" ? "bytes32" : type === "status" ? "uint8" : type);
const abiValue = (type: string, value: unknown) => (type === "bytes" ? keccak256(value as string) : value);

/** A value of each ABI type, over its whole range. */
const valueOf = (type: string) => {
  if (type === "address")
    return fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toAddress("0x" + Buffer.from(b).toString("hex")));
  if (type === "bytes32")
    return fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHash32("0x" + Buffer.from(b).toString("hex")));
  // A signature: any length, as an ERC-1271 wallet may take.
  if (type === "bytes") return fc.uint8Array({ maxLength: 200 }).map((b) => "0x" + Buffer.from(b).toString("hex"));
  if (type === "status") return fc.integer({ min: 0, max: 8 });
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

/** Any fact a history writer adds, of any kind, every field over its type's whole range. */
const anyWriterFact = fc.constantFrom(...(Object.keys(WRITER_FACTS) as WriterFact["kind"][])).chain((kind) => {
  const fields = WRITER_FACTS[kind].fields as readonly (readonly [string, string])[];
  return fc
    .tuple(...fields.map(([, type]) => valueOf(type)))
    .map((values) => ({ kind, ...Object.fromEntries(fields.map(([name], i) => [name, values[i]])) }) as WriterFact);
});

/** A sample of each fact kind, for the labels. */
const sample = (fields: readonly (readonly [string, string])[]) =>
  Object.fromEntries(
    fields.map(([name, type]) => [
      name,
      type === "address"
        ? toAddress("0x" + "ab".repeat(20))
        : type === "bytes32"
          ? toHash32("0x" + "cd".repeat(32))
          : type === "bytes"
            ? "0x" + "ef".repeat(40)
            : type === "uint256"
              ? 7n
              : 2,
    ]),
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
            ["uint8", "uint256", ...fields.map(([, type]) => abiType(type))],
            [FactKind[fact.kind], id, ...fields.map(([name, type]) => abiValue(type, values[name]))],
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

  it("hash every writer's fact exactly as abi.encode(kind, ...fields) does (HistoryFacts.sol)", function () {
    fc.assert(
      fc.property(anyWriterFact, (fact) => {
        const fields = WRITER_FACTS[fact.kind].fields as readonly (readonly [string, string])[];
        const values = fact as unknown as Record<string, unknown>;
        const reference = keccak256(
          coder.encode(
            ["uint8", ...fields.map(([, type]) => abiType(type))],
            [FactKind[fact.kind], ...fields.map(([name, type]) => abiValue(type, values[name]))],
          ),
        );
        expect(writerFactHash(fact)).to.equal(reference);
      }),
      { numRuns: 300 },
    );
  });

  it("decode a fact from its event or its export by the table, refusing a kind or status it does not know", function () {
    const values = { source: "0x" + "ab".repeat(20), factHash: "0x" + "cd".repeat(32), at: "7" };
    expect(decodeLoanFact("LoanHistoryExtended", values)).to.deep.equal(decodeLoanFact("External", values));
    expect(decodeLoanFact("External", values)).to.deep.include({ kind: "External", at: 7 });
    expect(decodeLoanFact("toString", values)).to.equal(undefined);
    expect(decodeLoanFact("CollateralPledged", values)).to.equal(undefined);
    expect(() => decodeLoanFact("StatusChanged", { from: 9, to: 1, at: 0 })).to.throw(RangeError, /no status/);
  });

  it("number the kinds as FactKind does in ILoanRegistry.sol: the registry's 0 to 10, the writers' 11 to 21", function () {
    expect(Object.values(REGISTRY_FACTS).map((row) => row.kind)).to.deep.equal([...Array(11).keys()]);
    expect(Object.values(WRITER_FACTS).map((row) => row.kind)).to.deep.equal([...Array(11).keys()].map((k) => k + 11));
    expect(Object.keys(FactKind)).to.have.length(22);
  });

  it("list one registry event per registry fact, each named once", function () {
    expect(HISTORY_EVENTS).to.have.length(Object.keys(REGISTRY_FACTS).length);
    expect(new Set(HISTORY_EVENTS).size).to.equal(HISTORY_EVENTS.length);
  });

  it("label each fact by its own kind: only the Anchored fact reads 'anchored', a loss and a hand-over say what they are", function () {
    const labels = new Map<string, string>();
    for (const [kind, row] of Object.entries(REGISTRY_FACTS)) {
      labels.set(kind, describeFact({ kind, ...sample(row.fields) } as LoanFact));
    }
    const external = { kind: "External", ...sample(REGISTRY_FACTS.External.fields) } as LoanFact;
    for (const [kind, row] of Object.entries(WRITER_FACTS)) {
      labels.set(kind, describeFact(external, { kind, ...sample(row.fields) } as WriterFact));
    }
    expect(labels.size).to.equal(22);
    expect(new Set(labels.values()).size, "two kinds share a label").to.equal(22);
    for (const [kind, label] of labels) {
      if (kind !== "Anchored") expect(label, kind).to.not.equal("anchored");
    }
    expect(labels.get("LossRecorded")).to.match(/^loss recorded: principal 7, interest 7$/);
    expect(labels.get("ServicerChanged")).to.match(/^servicing handed over from 0x/);
    expect(labels.get("CollateralPledged")).to.match(/^asset 7 pledged for 7 at priority 2 \(CollateralRegistry 0x/);
    expect(labels.get("LossSettled")).to.match(/^loss of 7 settled: .* \(LossWaterfall 0x/);
    expect(labels.get("PayoutsPushed")).to.match(/^payout of 7 to 2 lender\(s\), 7 skipped \(RepaymentSplitter 0x/);
    // An External fact nobody proved is said to be unrecognised, never given another kind's words.
    expect(describeFact(external)).to.match(/^unrecognised fact 0x/);
  });
});
