import { expect } from "chai";
import type { Provider } from "ethers";
import type { IndexStore, LoanProver } from "../../src/indexer/index.js";
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
});
