import { expect } from "chai";
import type { Signer, TransactionRequest } from "ethers";
import { anchorInBatches } from "../../src/cli/anchor-batches.js";
import { contextFor } from "../../src/cli/index.js";
import { formatLoanId, loanIdOf, SequencedSigner, toStruct, type LoanTerms } from "../../src/client/index.js";
import { deployAllianceFixture, loadFixture, termsFor, type AllianceFixture } from "../fixtures.js";
import { KEY_HEX } from "./helpers.js";

describe("anchorInBatches", function () {
  this.timeout(120_000);

  /** A book of more loans than one batch holds (MAX_BATCH), so that several batches are in flight at once. */
  async function bookFixture() {
    const f = await deployAllianceFixture();
    const max = Number(await f.loans.MAX_BATCH());
    const book: LoanTerms[] = [];
    for (let i = 0; i < 2 * max + 10; i += 1) book.push(await termsFor(f.platformA));
    return { ...f, book, max };
  }

  /** The platform's signer, with `before` run ahead of its `n`-th transaction. */
  function signerWith(f: AllianceFixture, n: number, before: () => Promise<void>): Signer {
    const inner = new SequencedSigner(f.platformA);
    let sends = 0;
    return new Proxy(inner, {
      get(target, key, receiver) {
        if (key !== "sendTransaction") return Reflect.get(target, key, receiver);
        return async (tx: TransactionRequest) => {
          if (++sends === n) await before();
          return target.sendTransaction(tx);
        };
      },
    });
  }

  it("anchors a book of several batches whole, in its order", async function () {
    const f = await loadFixture(bookFixture);
    const ctx = await contextFor(f.suite.connect(new SequencedSigner(f.platformA)), { allianceKeyHex: KEY_HEX });
    const anchored = await anchorInBatches(ctx, f.book);
    expect(anchored).to.deep.equal(f.book.map(loanIdOf));
  });

  it("names a batch the chain refused after its estimate, and exactly which loans the batches before it anchored", async function () {
    const f = await loadFixture(bookFixture);
    // Between the plan and the second batch, one of that batch's loans is anchored by another transaction: the batch
    // then reverts on chain, and the third is not sent.
    const stolen = f.book[f.max + 5];
    const signer = signerWith(f, 2, async () => {
      await (await f.loans.connect(f.platformA).anchorLoan(toStruct(stolen))).wait();
      (ctx.signer as SequencedSigner).reset();
    });
    const ctx = await contextFor(f.suite.connect(signer), { allianceKeyHex: KEY_HEX });
    const first = f.book.slice(0, f.max).map(loanIdOf);
    const error = await anchorInBatches(ctx, f.book).then(
      () => expect.fail("the book was anchored whole"),
      (e: Error) => e,
    );
    expect(error.message).to.match(
      new RegExp(
        `^loans ${f.max + 1} to ${2 * f.max} were refused \\(.*\\); the ${first.length} before them are anchored: `,
      ),
    );
    for (const id of first) expect(error.message).to.include(formatLoanId(id));
    for (const terms of f.book.slice(f.max)) {
      if (terms !== stolen) expect(await f.loans.historyHead(loanIdOf(terms))).to.match(/^0x0{64}$/);
    }
  });
});
