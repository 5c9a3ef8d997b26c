import { expect } from "chai";
import { JsonRpcProvider, type Filter, type JsonRpcPayload, type JsonRpcResult, type Log, type Provider } from "ethers";
import {
  forEachBlockRange,
  inBlockRanges,
  isRangeRefusal,
  isTransient,
  LedgerReader,
  loanIdOf,
  LoanLedgerError,
  LoanRegistryClient,
  readLogs,
} from "../../src/client/index.js";
import { collectLedger, verifyLedger, loanHistory } from "../../src/audit/index.js";
import { deployAllianceFixture, ethers, expectRejection, loadFixture, termsFor } from "../fixtures.js";

/** Runs `work`, and the rejections no one handled while it ran (a read ahead that nobody waits for ends the process). */
async function unhandledDuring(work: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const note = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", note);
  try {
    await work();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off("unhandledRejection", note);
  }
  return unhandled;
}

/** Records each range asked for; fails as `fail` says. */
function fakeNode(fail: (from: number, to: number, call: number) => Error | undefined = () => undefined) {
  const asked: [number, number][] = [];
  const fetch = async (from: number, to: number) => {
    asked.push([from, to]);
    const error = fail(from, to, asked.length);
    if (error) throw error;
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  };
  return { asked, fetch };
}

/** Besu's answer to a log query over more blocks than its limit allows. */
const besuRefusal = () =>
  Object.assign(new Error("could not coalesce error"), {
    error: { code: -32005, message: "Exceeds maximum RPC range limit" },
  });

/**
 * The embedded node, except that it refuses (as Besu does) every log query spanning more than `limit` blocks, and
 * counts the queries.
 */
function rangeLimitedProvider(limit: number) {
  const node = ethers.provider;
  const counts = { queries: 0, refused: 0 };
  const proxy: Provider = new Proxy(node, {
    get(target, key, receiver) {
      if (key === "provider") return proxy;
      if (key === "getLogs") {
        return async (filter: Filter): Promise<Log[]> => {
          counts.queries += 1;
          const latest = await target.getBlockNumber();
          const block = (tag: unknown) =>
            typeof tag === "number" ? tag : tag === undefined || tag === "latest" ? latest : Number(tag);
          if (block(filter.toBlock) - block(filter.fromBlock ?? 0) + 1 > limit) {
            counts.refused += 1;
            throw besuRefusal();
          }
          return target.getLogs(filter);
        };
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as Provider;
  return { provider: proxy, counts };
}

describe("the ledger reader", function () {
  describe("inBlockRanges", function () {
    it("reads a span in consecutive ranges of at most the configured size, in order", async function () {
      const node = fakeNode();
      const got = await inBlockRanges(10, 4_509, node.fetch, { blockRange: 2_000 });
      expect(node.asked).to.deep.equal([
        [10, 2_009],
        [2_010, 4_009],
        [4_010, 4_509],
      ]);
      expect(got).to.have.length(4_500);
      expect(got[0]).to.equal(10);
      expect(got.at(-1)).to.equal(4_509);
    });

    it("halves a range the node refuses for its size, and keeps the smaller size", async function () {
      const node = fakeNode((from, to) => (to - from + 1 > 300 ? besuRefusal() : undefined));
      const got = await inBlockRanges(0, 999, node.fetch, { blockRange: 2_000 });
      expect(got).to.deep.equal(Array.from({ length: 1_000 }, (_, i) => i));
      const served = node.asked.filter(([from, to]) => to - from + 1 <= 300);
      expect(served.every(([from, to]) => to - from + 1 === 250 || to === 999)).to.equal(true);
      expect(served).to.have.length(4);
      expect(node.asked).to.have.length(2 + served.length);
    });

    it("retries a transient failure with a growing wait, then goes on", async function () {
      const timeout = Object.assign(new Error("request timeout"), { code: "TIMEOUT" });
      const node = fakeNode((_from, _to, call) => (call <= 2 ? timeout : undefined));
      const got = await inBlockRanges(0, 9, node.fetch, { blockRange: 5, retryDelayMs: 1 });
      expect(got).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(node.asked).to.deep.equal([
        [0, 4],
        [0, 4],
        [0, 4],
        [5, 9],
      ]);
    });

    it("tells a throttled query (retried as it is) from one refused for its size (halved)", function () {
      const rpcError = (message: string) => ({ error: { code: -32005, message } });
      expect(isTransient(rpcError("rate limit exceeded"))).to.equal(true);
      expect(isRangeRefusal(rpcError("rate limit exceeded"))).to.equal(false);
      expect(isRangeRefusal(rpcError("Exceeds maximum RPC range limit"))).to.equal(true);
      expect(isRangeRefusal(rpcError("query returned more than 10000 results"))).to.equal(true);
      expect(isTransient(rpcError("query returned more than 10000 results"))).to.equal(false);
      expect(isTransient({ code: "TIMEOUT", message: "request timeout" })).to.equal(true);
      expect(isTransient(new Error("invalid block 502"))).to.equal(false);
    });

    it("gives up after the configured retries, naming the blocks it could not read", async function () {
      const node = fakeNode(() => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
      await expectRejection(
        inBlockRanges(100, 199, node.fetch, { retries: 2, retryDelayMs: 1 }),
        /^reading events of blocks 100–199 failed: socket hang up/,
        LoanLedgerError,
      );
      expect(node.asked).to.have.length(3);
    });

    it("fails at once on an error that is neither transient nor about the range", async function () {
      const node = fakeNode(() => new Error("invalid params"));
      await expectRejection(inBlockRanges(0, 9, node.fetch), /blocks 0–9 failed: invalid params/, LoanLedgerError);
      expect(node.asked).to.have.length(1);
    });

    it("asks for the next range while the last is handled, one ahead at most, and hands them over in order", async function () {
      const events: string[] = [];
      let inFlight = 0;
      let most = 0;
      const fetch = async (from: number, to: number) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        events.push(`ask ${from}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight -= 1;
        return [from, to];
      };
      await forEachBlockRange(
        0,
        39,
        fetch,
        async ([from]) => {
          events.push(`handle ${from}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        },
        { blockRange: 10 },
      );
      expect(events.filter((e) => e.startsWith("handle"))).to.deep.equal([
        "handle 0",
        "handle 10",
        "handle 20",
        "handle 30",
      ]);
      // Each range is asked for as the one before it is handed over, not after it is handled.
      expect(events.slice(0, 3)).to.deep.equal(["ask 0", "ask 10", "handle 0"]);
      expect(most).to.equal(1);
    });

    it("stops at a failure of the handler, and the range asked for ahead fails quietly", async function () {
      const node = fakeNode((from) => (from >= 10 ? new Error("invalid params") : undefined));
      const unhandled = await unhandledDuring(() =>
        expectRejection(
          forEachBlockRange(
            0,
            39,
            node.fetch,
            () => {
              throw new Error("the handler failed");
            },
            { blockRange: 10 },
          ),
          /^the handler failed$/,
        ),
      );
      expect(node.asked).to.deep.equal([
        [0, 9],
        [10, 19],
      ]);
      expect(unhandled).to.deep.equal([]);
    });

    it("reports a range asked for ahead that fails while the handler still works, as its own failure, in its turn", async function () {
      const node = fakeNode((from) => (from >= 5 ? new Error("invalid params") : undefined));
      const handled: number[] = [];
      const slowly = async (items: number[]) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        handled.push(...items);
      };
      const unhandled = await unhandledDuring(() =>
        expectRejection(
          forEachBlockRange(0, 9, node.fetch, slowly, { blockRange: 5, retries: 0 }),
          /^reading events of blocks 5–9 failed: invalid params/,
          LoanLedgerError,
        ),
      );
      expect(handled).to.deep.equal([0, 1, 2, 3, 4]);
      expect(unhandled).to.deep.equal([]);
    });

    it("refuses a block range that is not a whole positive number of blocks", async function () {
      await expectRejection(inBlockRanges(0, 9, fakeNode().fetch, { blockRange: 0 }), /whole number of blocks/);
    });
  });

  describe("on a node that limits the block range of log queries", function () {
    async function chainFixture() {
      const f = await deployAllianceFixture();
      const terms = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(terms);
      await f.loans.connect(f.platformA).activateLoan(terms);
      await ethers.provider.send("hardhat_mine", ["0x60"]);
      await f.loans
        .connect(f.platformA)
        .markLate(terms)
        .catch(() => undefined);
      return { ...f, loanId: loanIdOf(terms) };
    }

    it("rebuilds a loan's history and its terms", async function () {
      const f = await loadFixture(chainFixture);
      const { provider, counts } = rangeLimitedProvider(10);
      const client = new LoanRegistryClient(String(f.loans.target), provider);
      const history = await loanHistory(client, f.loanId);
      expect(history.verified).to.equal(true);
      expect(history.entries.map((e) => e.fact.kind)).to.deep.equal(["Anchored", "StatusChanged"]);
      expect((await client.terms(f.loanId)).platform).to.equal(f.platformA.address);
      expect(counts.refused).to.be.greaterThan(0);
    });

    it("exports the whole ledger, which then verifies", async function () {
      const f = await loadFixture(chainFixture);
      const { provider } = rangeLimitedProvider(10);
      const ledger = await collectLedger(f.suite.connect(provider).auditSources);
      expect(ledger.loans).to.have.length(2);
      expect(ledger.members.length).to.be.greaterThan(3);
      expect((await verifyLedger(ledger)).ok).to.equal(true);
    });
  });

  describe("readLogs", function () {
    /** A JSON-RPC provider whose requests the in-process network answers, as a node over HTTP would. */
    class InProcessRpc extends JsonRpcProvider {
      override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
        const requests = Array.isArray(payload) ? payload : [payload];
        return Promise.all(
          requests.map(async ({ id, method, params }) => ({
            id,
            result: await ethers.provider.send(method, params as unknown[]),
          })),
        );
      }
    }

    it("gives from a JSON-RPC node what ethers' getLogs gives, field by field", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const terms = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(terms);
      await f.loans.connect(f.platformA).activateLoan(terms);
      const rpc = new InProcessRpc(undefined, undefined, { staticNetwork: true, batchMaxCount: 1 });
      const head = await ethers.provider.getBlockNumber();
      const filter = { address: [String(f.loans.target), String(f.alliance.target)], fromBlock: 0, toBlock: head };
      const fields = (log: Log) => ({
        address: log.address,
        topics: [...log.topics],
        data: log.data,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash,
        transactionHash: log.transactionHash,
        transactionIndex: log.transactionIndex,
        index: log.index,
        removed: log.removed,
      });
      const ours = await readLogs(rpc, filter);
      expect(ours.length).to.be.greaterThan(3);
      expect(ours.map(fields)).to.deep.equal((await ethers.provider.getLogs(filter)).map(fields));
      expect(ours.every((log) => log.provider === rpc)).to.equal(true);
      rpc.destroy();
    });
  });

  describe("pinned to a block", function () {
    it("reads logs and calls as of that block, whatever is mined after it", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const terms = await termsFor(f.platformA);
      await f.loans.connect(f.platformA).anchorLoan(terms);
      const reader = await LedgerReader.pin(ethers.provider);
      const headThen = await f.loans.historyHead(loanIdOf(terms));
      await f.loans.connect(f.platformA).activateLoan(terms);

      const logs = await reader.logs({ address: String(f.loans.target) });
      expect(logs.every((log) => log.blockNumber <= reader.block.number)).to.equal(true);
      expect(await f.loans.historyHead(loanIdOf(terms), { blockTag: reader.blockTag })).to.equal(headThen);
      expect(await f.loans.historyHead(loanIdOf(terms))).to.not.equal(headThen);
      expect(reader.block.hash).to.equal((await ethers.provider.getBlock(reader.block.number))!.hash);
      await reader.confirmPin();
    });

    it("finds the last block of a time by binary search", async function () {
      await loadFixture(deployAllianceFixture);
      const reader = await LedgerReader.pin(ethers.provider);
      const middle = Math.floor(reader.block.number / 2);
      const time = (await ethers.provider.getBlock(middle))!.timestamp;
      const found = await reader.lastBlockAtOrBefore(time);
      expect((await ethers.provider.getBlock(found))!.timestamp).to.be.at.most(time);
      if (found < reader.block.number) {
        expect((await ethers.provider.getBlock(found + 1))!.timestamp).to.be.greaterThan(time);
      }
      expect(await reader.lastBlockAtOrBefore(0)).to.equal(-1);
      expect(await reader.lastBlockAtOrBefore(reader.block.timestamp + 1)).to.equal(reader.block.number);
    });
  });
});
