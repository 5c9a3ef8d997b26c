import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, getAddress, Interface, Result, type EventFragment, type ParamType } from "ethers";
import { decodeEvent, parseLog } from "../../src/client/index.js";
import { SUITE_ABIS } from "./suite-abis.js";

const SUITE = Object.values(SUITE_ABIS).map((abi) => new Interface(abi));

const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"));

/** Any value of `param`'s type, at the edges of its range as often as inside it. */
function arbitrary(param: ParamType): fc.Arbitrary<unknown> {
  if (param.baseType === "tuple") return fc.tuple(...param.components!.map(arbitrary));
  if (param.baseType === "array") return fc.array(arbitrary(param.arrayChildren!), { maxLength: 3 });
  if (param.type === "address") return hex(20).map((h) => getAddress("0x" + h));
  if (param.type === "bool") return fc.boolean();
  if (param.type === "string") return fc.string();
  if (param.type === "bytes") return fc.uint8Array({ maxLength: 70 }).map((b) => "0x" + Buffer.from(b).toString("hex"));
  if (param.type.startsWith("bytes")) return hex(Number(param.type.slice(5))).map((h) => "0x" + h);
  const bits = Number(param.type.replace(/^u?int/, "") || 256);
  return param.type.startsWith("u")
    ? fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n })
    : fc.bigInt({ min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n });
}

/** A decoded Result as plain data, its names and its positions both: what a caller may read of it. */
function plain(value: unknown): unknown {
  if (value instanceof Result) {
    const names = (value as unknown as { toObject(deep?: boolean): object }).toObject(false);
    return {
      items: [...value].map(plain),
      names: Object.fromEntries(Object.entries(names).map(([k, v]) => [k, plain(v)])),
    };
  }
  return value;
}

describe("parseLog", function () {
  const events: [Interface, EventFragment][] = SUITE.flatMap((iface) => {
    const list: [Interface, EventFragment][] = [];
    iface.forEachEvent((event) => list.push([iface, event]));
    return list;
  });

  it("decodes every event of every suite contract as ethers decodes it, whatever its values", function () {
    const coder = AbiCoder.defaultAbiCoder();
    for (const [iface, event] of events) {
      fc.assert(
        fc.property(fc.tuple(...event.inputs.map(arbitrary)), (values) => {
          const { data, topics } = iface.encodeEventLog(event, values);
          const ours = parseLog(iface, { data, topics });
          const theirs = iface.parseLog({ data, topics });
          expect(ours?.name).to.equal(theirs?.name);
          expect(plain(ours!.args), event.format()).to.deep.equal(plain(theirs!.args));
          // The same words with one more appended: ethers reads past what it needs, and so must this.
          const longer = parseLog(iface, { data: data + coder.encode(["uint256"], [1n]).slice(2), topics });
          expect(plain(longer!.args), event.format()).to.deep.equal(plain(theirs!.args));
          // The same as plain objects: what ethers' deep toObject gives, tuples included.
          const decoded = decodeEvent(iface, { data, topics });
          expect(decoded?.name).to.equal(theirs?.name);
          expect(decoded!.args, event.format()).to.deep.equal(theirs!.args.toObject(true));
        }),
        { numRuns: 25 },
      );
    }
  });

  it("leaves an address word with high bits set to ethers, which fails on reading that value", function () {
    const iface = new Interface(SUITE_ABIS.SettlementToken);
    const event = iface.getEvent("Transfer")!;
    const parties = [getAddress("0x" + "11".repeat(20)), getAddress("0x" + "22".repeat(20)), 5n];
    const { data, topics } = iface.encodeEventLog(event, parties);
    const wide = [topics[0], "0x" + "ff".repeat(12) + topics[1].slice(26), topics[2]];
    const read = (args: Result) => () => args.toObject();
    expect(read(parseLog(iface, { data, topics: wide })!.args)).to.throw(/deferred error.*"from"/);
    expect(read(iface.decodeEventLog(event, data, wide))).to.throw(/deferred error.*"from"/);
  });

  it("reads a log whose words are not 32 bytes of hex as ethers does, or refuses it as ethers does", function () {
    const iface = new Interface(SUITE_ABIS.SettlementToken);
    const event = iface.getEvent("Transfer")!;
    const parties = [getAddress("0x" + "11".repeat(20)), getAddress("0x" + "22".repeat(20)), 5n];
    const { data, topics } = iface.encodeEventLog(event, parties);
    const outcome = (read: () => unknown) => {
      try {
        return { read: read() };
      } catch {
        return { refused: true };
      }
    };
    // A topic cut short or one byte long, data that is not hex: a node's answer is taken as it comes.
    const malformed = [
      { data, topics: [topics[0], topics[1].slice(0, 40), topics[2]] },
      { data, topics: [topics[0], topics[1] + "00", topics[2]] },
      { data: "0x" + "zz".repeat(32), topics },
    ];
    for (const log of malformed) {
      const byEthers = outcome(() => iface.parseLog(log)?.args.toObject(true));
      expect(outcome(() => parseLog(iface, log)?.args.toObject(true))).to.deep.equal(byEthers);
      expect(outcome(() => decodeEvent(iface, log)?.args)).to.deep.equal(byEthers);
    }
    expect(malformed.map((log) => outcome(() => decodeEvent(iface, log)?.args))).to.deep.include({ refused: true });
  });

  it("gives null for a log of an event the interface does not have", function () {
    expect(parseLog(SUITE[0], { data: "0x", topics: ["0x" + "ab".repeat(32)] })).to.equal(null);
  });
});
