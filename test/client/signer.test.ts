import { expect } from "chai";
import { AbstractSigner, type TransactionRequest, type TransactionResponse } from "ethers";
import { LoanRegistryClient, SequencedSigner, ContractError } from "../../src/client/index.js";
import { deployAllianceFixture, ethers, expectRejection, loadFixture, termsFor } from "../fixtures.js";

describe("SequencedSigner", function () {
  it("has many transactions in flight at once, each with its own nonce, each waiting only for its own receipt", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const signer = new SequencedSigner(f.platformA);
    const client = new LoanRegistryClient(String(f.loans.target), signer);
    const before = await ethers.provider.getTransactionCount(f.platformA.address);
    const book = await Promise.all(Array.from({ length: 20 }, () => termsFor(f.platformA)));
    const anchored = await Promise.all(book.map((terms) => client.anchor(terms)));
    const nonces = await Promise.all(
      anchored.map(async ({ receipt }) => (await ethers.provider.getTransaction(receipt.hash))!.nonce),
    );
    expect([...nonces].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 20 }, (_, i) => before + i));
  });

  it("refuses a transaction that would revert before it takes a nonce, so that those after it are not held up", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const signer = new SequencedSigner(f.platformA);
    const client = new LoanRegistryClient(String(f.loans.target), signer);
    const first = await termsFor(f.platformA);
    await client.anchor(first);
    const before = await ethers.provider.getTransactionCount(f.platformA.address);
    const others = await Promise.all(Array.from({ length: 5 }, () => termsFor(f.platformA)));
    // The same loan again is refused by the registry: in the middle of the others, it must not leave a gap.
    const results = await Promise.allSettled([
      ...others.slice(0, 2).map((terms) => client.anchor(terms)),
      client.anchor(first),
      ...others.slice(2).map((terms) => client.anchor(terms)),
    ]);
    expect(results.map((r) => r.status)).to.deep.equal([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    expect((results[2] as PromiseRejectedResult).reason).to.be.instanceOf(ContractError);
    expect(await ethers.provider.getTransactionCount(f.platformA.address)).to.equal(before + 5);
  });

  it("gives back the nonce of a transaction it could not send, and the next transaction takes it", async function () {
    const f = await loadFixture(deployAllianceFixture);
    /** A signer whose first send fails on the way to the node. */
    class Flaky extends AbstractSigner {
      failures = 1;
      constructor(private readonly inner: typeof f.platformA) {
        super(inner.provider);
      }
      getAddress() {
        return this.inner.getAddress();
      }
      connect(): Flaky {
        return this;
      }
      signTransaction(tx: TransactionRequest) {
        return this.inner.signTransaction(tx);
      }
      signMessage(m: string) {
        return this.inner.signMessage(m);
      }
      signTypedData(...args: Parameters<typeof f.platformA.signTypedData>) {
        return this.inner.signTypedData(...args);
      }
      override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
        if (this.failures-- > 0) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        return this.inner.sendTransaction(tx);
      }
    }
    const signer = new SequencedSigner(new Flaky(f.platformA));
    const client = new LoanRegistryClient(String(f.loans.target), signer);
    const before = await ethers.provider.getTransactionCount(f.platformA.address);
    await expectRejection(client.anchor(await termsFor(f.platformA)), /socket hang up/);
    const { receipt } = await client.anchor(await termsFor(f.platformA));
    expect((await ethers.provider.getTransaction(receipt.hash))!.nonce).to.equal(before);
  });

  it("counts again after the node said a nonce was used (the account sent elsewhere)", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const signer = new SequencedSigner(f.platformA);
    const client = new LoanRegistryClient(String(f.loans.target), signer);
    await client.anchor(await termsFor(f.platformA));
    // The same key sends a transaction this signer does not see.
    await (await f.loans.connect(f.platformA).anchorLoan(await termsFor(f.platformA))).wait();
    await expectRejection(client.anchor(await termsFor(f.platformA)), /nonce/i);
    const { receipt } = await client.anchor(await termsFor(f.platformA));
    expect(receipt.status).to.equal(1);
  });
});
