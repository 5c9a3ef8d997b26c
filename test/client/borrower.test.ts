import { expect } from "chai";
import { hexlify, toUtf8Bytes } from "ethers";
import { borrowerRef, BorrowerReferenceError, normaliseNationalId, parseAllianceKey } from "../../src/client/index.js";
import { ALLIANCE_KEY, connection, deployAllianceFixture, loadFixture, NATIONAL_IDS, termsFor } from "../fixtures.js";

describe("borrower reference", function () {
  it("is the same for differently written forms of one id", function () {
    expect(borrowerRef("11010519491231002x", ALLIANCE_KEY)).to.equal(
      borrowerRef(" 110105-19491231-002X ", ALLIANCE_KEY),
    );
  });

  it("differs under another alliance key", function () {
    expect(borrowerRef(NATIONAL_IDS[0], ALLIANCE_KEY)).to.not.equal(
      borrowerRef(NATIONAL_IDS[0], new Uint8Array(32).fill(8)),
    );
  });

  it("rejects a resident identity number whose check character is wrong", function () {
    expect(() => normaliseNationalId("110105194912310021")).to.throw(BorrowerReferenceError, "check character");
  });

  it("rejects a resident identity number with digits dropped, or whose birth date does not exist", function () {
    // 11010519491231002X, two digits dropped: once the reference of another borrower.
    expect(() => normaliseNationalId("110105194912312X")).to.throw(
      BorrowerReferenceError,
      "18 characters, this one 16",
    );
    expect(() => normaliseNationalId("1101051949123100211")).to.throw(BorrowerReferenceError, "this one 19");
    // 30 February, with a check character computed for it.
    expect(() => normaliseNationalId("110105194902300013")).to.throw(BorrowerReferenceError, "19490230 is not a date");
    expect(normaliseNationalId("1101 0519 4912 31002x")).to.equal("11010519491231002X");
    // Other kinds of id carry letters, and stay as they are.
    expect(normaliseNationalId("E12345678")).to.equal("E12345678");
  });

  it("refuses a missing or short alliance key", function () {
    expect(() => parseAllianceKey(undefined)).to.throw(BorrowerReferenceError, "not set");
    expect(() => parseAllianceKey("0x" + "11".repeat(16))).to.throw(BorrowerReferenceError, "at least 32 bytes");
  });

  it("keeps the raw national id and the alliance key out of calldata, storage and events", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const terms = await termsFor(f.platformA);
    const tx = await f.loans.connect(f.platformA).anchorLoan(terms);
    const receipt = await tx.wait();

    // Every form a secret could take on chain: the id as text, its digits as a number, and the key bytes.
    const id = normaliseNationalId(NATIONAL_IDS[0]);
    const needles = [
      hexlify(toUtf8Bytes(id)).slice(2),
      BigInt(id.slice(0, 17)).toString(16),
      hexlify(ALLIANCE_KEY).slice(2),
    ];

    const haystacks: string[] = [tx.data.toLowerCase()];
    for (const log of receipt!.logs) haystacks.push(log.data.toLowerCase(), ...log.topics.map((t) => t.toLowerCase()));
    // Every slot and value written to storage by the anchoring, read from the transaction's trace.
    const trace = (await connection.provider.request({
      method: "debug_traceTransaction",
      params: [tx.hash, {}],
    })) as { structLogs: { op: string; stack?: string[] }[] };
    const stores = trace.structLogs.filter((s) => s.op === "SSTORE");
    expect(stores.length).to.be.greaterThanOrEqual(3);
    for (const s of stores) haystacks.push(...(s.stack ?? []).slice(-2).map((v) => v.toLowerCase()));

    for (const needle of needles) {
      for (const hay of haystacks) expect(hay).to.not.include(needle);
    }
    // What the chain does hold is the keyed reference.
    expect(haystacks.join("")).to.include(terms.borrowerRef.slice(2));
  });
});
