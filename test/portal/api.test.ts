import { expect } from "chai";
import type { Provider } from "ethers";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { JsonRpcProvider, Network } from "ethers";
import { NODE_READ_TIMEOUT_MS } from "../../src/client/index.js";
import { LoanProver, type IndexStore } from "../../src/indexer/index.js";
import { PortalApi } from "../../src/portal/api.js";

/** A store that answers the platform page's reads with nothing, and records the window of loans due it was asked. */
function recordingStore(indexedAt: number) {
  const asked: [number, number][] = [];
  const store = {
    state: () => ({
      chainId: "31337",
      contracts: {},
      fromBlock: 0,
      last: { number: 9, hash: "0x", timestamp: indexedAt },
    }),
    book: () => [],
    dueLoans: (from: number, to: number) => (asked.push([from, to]), []),
    funding: () => [],
    reserve: () => [],
    insurers: () => [],
  };
  return { store: store as unknown as IndexStore, asked };
}

describe("PortalApi", function () {
  it("lists a platform's loans due as of the indexed block's time, not the server's clock", async function () {
    // A chain whose clock runs a year ahead of the server's, as a test network's does after time travel.
    const indexedAt = Math.floor(Date.now() / 1000) + 365 * 86_400;
    const { store, asked } = recordingStore(indexedAt);
    const api = new PortalApi(store, {} as Provider, {} as LoanProver, { decimals: 18, symbol: "LLST" });
    await api.handle("/api/platform", new URLSearchParams());
    expect(asked).to.deep.equal([[indexedAt, indexedAt + 30 * 86_400]]);
    await api.handle("/api/platform", new URLSearchParams({ now: "1000" }));
    expect(asked[1]).to.deep.equal([1000, 1000 + 30 * 86_400]);
  });

  it("answers a loan page within the node-read timeout when the node stalls, naming no URL", async function () {
    this.timeout(20_000);
    // A node that accepts connections and never answers, at a URL that carries credentials.
    const stalled = createServer(() => {});
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
    const { port } = stalled.address() as AddressInfo;
    const provider = new JsonRpcProvider(`http://user:secret@127.0.0.1:${port}`, Network.from(31337), {
      staticNetwork: true,
    });
    const loanId = "0x" + "ab".repeat(32);
    const store = {
      state: () => ({
        chainId: "31337",
        contracts: { LoanRegistry: "0x" + "1".repeat(40) },
        fromBlock: 0,
        last: { number: 9, hash: "0x" + "2".repeat(64), timestamp: 1_800_000_000 },
      }),
      loan: () => ({
        loanId,
        nextDueAt: null,
        head: "0x" + "3".repeat(64),
        terms: { documentHash: "0x" + "4".repeat(64) },
      }),
      eventsOf: () => [],
      eventsInTx: () => [],
      positionsIn: () => [],
      liensOf: () => [],
      lossOf: () => undefined,
    } as unknown as IndexStore;
    const api = new PortalApi(store, provider, new LoanProver(store, provider), { decimals: 18, symbol: "LLST" });
    const started = Date.now();
    const answer = (await api.handle(`/api/loans/${loanId}`, new URLSearchParams())) as {
      status: number;
      json: { proof: { proven: boolean; findings: string[] } };
    };
    const took = Date.now() - started;
    provider.destroy();
    stalled.closeAllConnections();
    stalled.close();
    expect(answer.status).to.equal(200);
    expect(took).to.be.below(NODE_READ_TIMEOUT_MS + 2_000);
    expect(answer.json.proof.proven).to.equal(false);
    expect(answer.json.proof.findings.join(" ")).to.contain("did not answer within 5 s").and.not.contain("secret");
  });
});
