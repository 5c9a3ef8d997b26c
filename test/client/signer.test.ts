import { expect } from "chai";
import { randomBytes } from "node:crypto";
import {
  AbstractSigner,
  hexlify,
  toQuantity,
  Transaction,
  Wallet,
  ZeroHash,
  type JsonRpcProvider,
  type TransactionRequest,
  type TransactionResponse,
} from "ethers";
import { fastProvider } from "../../src/cli/context.js";
import { startLocalNode, type LocalNode } from "../../src/portal/index.js";
import { LoanRegistryClient, SequencedSigner, ContractError } from "../../src/client/index.js";
import { deployAllianceFixture, ethers, expectRejection, loadFixture, termsFor } from "../fixtures.js";

type Inner = Awaited<ReturnType<typeof ethers.getSigners>>[number];
const lost = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });

/** A signer whose sends (and asks for its nonce) numbered in `fail` fail on the way to the node. */
class Flaky extends AbstractSigner {
  private sends = 0;
  private counts = 0;
  constructor(
    private readonly inner: Inner,
    private readonly fail: { sends?: number[]; counts?: number[] },
  ) {
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
  signTypedData(...args: Parameters<Inner["signTypedData"]>) {
    return this.inner.signTypedData(...args);
  }
  override async getNonce(blockTag?: string): Promise<number> {
    if (this.fail.counts?.includes(++this.counts)) throw lost();
    return this.inner.getNonce(blockTag);
  }
  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    // A send fails as a connection does: after a while, by which time later transactions have taken their nonces.
    if (this.fail.sends?.includes(++this.sends)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw lost();
    }
    return this.inner.sendTransaction(tx);
  }
}

/** The platform's registry client, signing through a SequencedSigner over a Flaky signer, and the account's count. */
async function flakyClient(fail: { sends?: number[]; counts?: number[] }) {
  const f = await loadFixture(deployAllianceFixture);
  const client = new LoanRegistryClient(String(f.loans.target), new SequencedSigner(new Flaky(f.platformA, fail)));
  const before = await ethers.provider.getTransactionCount(f.platformA.address);
  return { f, client, before };
}

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
    const { f, client, before } = await flakyClient({ sends: [1] });
    await expectRejection(client.anchor(await termsFor(f.platformA)), /socket hang up/);
    const { receipt } = await client.anchor(await termsFor(f.platformA));
    expect((await ethers.provider.getTransaction(receipt.hash))!.nonce).to.equal(before);
  });

  it("closes the gap a transaction it could not send leaves behind those sent after it, so that they are mined", async function () {
    const { f, client, before } = await flakyClient({ sends: [2] });
    const book = await Promise.all(Array.from({ length: 3 }, () => termsFor(f.platformA)));
    // As a node that mines blocks at its own pace, and keeps a transaction whose nonce is ahead until the gap closes
    // (an automining Hardhat refuses it at once instead).
    await ethers.provider.send("evm_setAutomine", [false]);
    const miner = setInterval(() => void ethers.provider.send("evm_mine", []), 20);
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(book.map((terms) => client.anchor(terms)));
    } finally {
      clearInterval(miner);
      await ethers.provider.send("evm_setAutomine", [true]);
    }
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
    // The first and the third are mined; an empty transaction to itself took the second's nonce.
    expect(await ethers.provider.getTransactionCount(f.platformA.address)).to.equal(before + 3);
    const { receipt } = await client.anchor(await termsFor(f.platformA));
    expect((await ethers.provider.getTransaction(receipt.hash))!.nonce).to.equal(before + 3);
  });

  it("asks the node for its count again after an ask failed, rather than failing every transaction after it", async function () {
    const { f, client } = await flakyClient({ counts: [1] });
    await expectRejection(client.anchor(await termsFor(f.platformA)), /socket hang up/);
    const { receipt } = await client.anchor(await termsFor(f.platformA));
    expect(receipt.status).to.equal(1);
  });

  it("forgets the nonce taken against a count that failed: those after it take the account's next nonces, and no empty transaction fills a gap", async function () {
    const { f, client, before } = await flakyClient({ counts: [1] });
    const book = await Promise.all(Array.from({ length: 4 }, () => termsFor(f.platformA)));
    const results = await Promise.allSettled(book.map((terms) => client.anchor(terms)));
    // The first asked for the count, and the ask failed; the others asked again.
    expect(results.map((r) => r.status)).to.deep.equal(["rejected", "fulfilled", "fulfilled", "fulfilled"]);
    const nonces = await Promise.all(
      results.map(async (r) =>
        r.status === "fulfilled" ? (await ethers.provider.getTransaction(r.value.receipt.hash))!.nonce : null,
      ),
    );
    expect(nonces.slice(1).sort()).to.deep.equal([before, before + 1, before + 2]);
    expect(await ethers.provider.getTransactionCount(f.platformA.address)).to.equal(before + 3);
  });

  it("refuses a transaction from another account", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const signer = new SequencedSigner(f.platformA);
    await expectRejection(
      signer.sendTransaction({ from: f.platformB.address, to: f.platformB.address, value: 1n }),
      /cannot be signed by/,
    );
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

describe("SequencedSigner over a JSON-RPC node, signing a wallet's transactions itself", function () {
  this.timeout(120_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  /** How many transactions went ethers' own way (`broadcastTransaction`) rather than the signer's. */
  let broadcasts = 0;

  before(async function () {
    node = await startLocalNode();
    provider = fastProvider(node.url, 31_337n);
    const broadcast = provider.broadcastTransaction.bind(provider);
    provider.broadcastTransaction = (signed: string) => (broadcasts++, broadcast(signed));
  });
  after(async function () {
    provider?.destroy();
    await node?.stop();
  });

  async function fundedWallet(): Promise<Wallet> {
    const wallet = Wallet.createRandom().connect(provider) as unknown as Wallet;
    await provider.send("hardhat_setBalance", [wallet.address, toQuantity(10n ** 20n)]);
    return wallet;
  }

  it("hands the node each transaction under the hash, sender, nonce, value and calldata it was signed with", async function () {
    const wallet = await fundedWallet();
    const signer = new SequencedSigner(wallet);
    const to = Wallet.createRandom().address;
    const before = broadcasts;
    // Calldata as long as a batch's, so that every length form of the encoding is on the way.
    const payloads = [new Uint8Array(0), Uint8Array.of(0x7f), randomBytes(100), randomBytes(62_000)];
    const sent = await Promise.all(
      payloads.map((data, i) => signer.sendTransaction({ to, value: BigInt(i + 1), data: hexlify(data) })),
    );
    expect(broadcasts, "sent by the signer, not by ethers").to.equal(before);
    const network = await provider.getNetwork();
    for (const [i, response] of sent.entries()) {
      // The response is the one ethers would have made from the bytes it sent, field for field.
      const signed = Transaction.from({ ...response, accessList: [] }).serialized;
      const byEthers = provider._wrapTransactionResponse(Transaction.from(signed) as never, network);
      expect(response.toJSON()).to.deep.equal(byEthers.toJSON());
      const receipt = await response.wait();
      expect(receipt!.status).to.equal(1);
      const mined = (await provider.getTransaction(response.hash))!;
      expect(mined.from).to.equal(wallet.address);
      expect(mined.nonce).to.equal(i);
      expect(response.nonce).to.equal(i);
      expect(mined.value).to.equal(BigInt(i + 1));
      expect(mined.data).to.equal(hexlify(payloads[i]));
      expect(mined.gasLimit).to.equal(response.gasLimit);
    }
    expect(await provider.getBalance(to)).to.equal(10n);
  });

  it("leaves to ethers what it does not sign itself (an access list), and keeps counting nonces across both ways", async function () {
    const wallet = await fundedWallet();
    const signer = new SequencedSigner(wallet);
    const to = Wallet.createRandom().address;
    const before = broadcasts;
    const first = await signer.sendTransaction({ to, value: 1n });
    const listed = await signer.sendTransaction({
      to,
      value: 2n,
      accessList: [{ address: to, storageKeys: [ZeroHash] }],
    });
    const third = await signer.sendTransaction({ to, value: 3n });
    expect(broadcasts).to.equal(before + 1);
    expect([first.nonce, listed.nonce, third.nonce]).to.deep.equal([0, 1, 2]);
    for (const response of [first, listed, third]) expect((await response.wait())!.status).to.equal(1);
    expect(await provider.getBalance(to)).to.equal(6n);
  });

  it("fails as ethers' own send does when the node refuses, or before sending what ethers would not sign, and gives the nonce back", async function () {
    const broke = Wallet.createRandom().connect(provider) as unknown as Wallet;
    const signer = new SequencedSigner(broke);
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (error: unknown) => error as RpcFailure,
      );
    type RpcFailure = { code?: string; shortMessage?: string; error?: { message?: string } };
    const refused = await failure(signer.sendTransaction({ to: broke.address, value: 1n, gasLimit: 21_000n }));
    const byEthers = await failure(broke.sendTransaction({ to: broke.address, value: 1n, gasLimit: 21_000n }));
    // The same error, to the node's own words, for the CLI to explain.
    expect(refused?.code).to.be.a("string");
    expect(refused?.code).to.equal(byEthers?.code);
    expect(refused?.error?.message).to.match(/funds/);
    expect(refused?.error?.message).to.equal(byEthers?.error?.message);
    expect(await signer.getNonce("pending")).to.equal(0);
    // A priority fee above the fee cap: ethers refuses to sign it, and so does the signer, with ethers' words.
    const fees = {
      to: broke.address,
      gasLimit: 21_000n,
      maxFeePerGas: 10n ** 9n,
      maxPriorityFeePerGas: 2n * 10n ** 9n,
    };
    const inverted = await failure(signer.sendTransaction(fees));
    const invertedByEthers = await failure(broke.sendTransaction(fees));
    expect(inverted?.code).to.equal("BAD_DATA");
    expect(inverted?.shortMessage).to.equal(invertedByEthers?.shortMessage);
    expect(await signer.getNonce("pending")).to.equal(0);
  });

  it("closes the gap a transaction it could not hand over leaves behind the next, so that both are mined", async function () {
    const wallet = await fundedWallet();
    const flaky = fastProvider(node.url, 31_337n);
    try {
      // The second raw transaction is lost on the way, as a dropped connection loses it.
      const send = flaky.send.bind(flaky);
      let raw = 0;
      flaky.send = async (method: string, params: unknown[] | Record<string, unknown>) => {
        if (method === "eth_sendRawTransaction" && ++raw === 2) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          throw lost();
        }
        return send(method, params);
      };
      const signer = new SequencedSigner(wallet.connect(flaky));
      const to = Wallet.createRandom().address;
      const results = await Promise.allSettled(
        [1n, 2n, 3n].map((value) => signer.sendTransaction({ to, value, gasLimit: 21_000n })),
      );
      expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
      for (const r of results) if (r.status === "fulfilled") expect((await r.value.wait())!.status).to.equal(1);
      // The lost one's nonce went to an empty transaction to itself, so the third was mined behind it.
      expect(await provider.getTransactionCount(wallet.address)).to.equal(3);
      expect(await provider.getBalance(to)).to.equal(4n);
    } finally {
      flaky.destroy();
    }
  });
});
