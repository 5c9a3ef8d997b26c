import { expect } from "chai";
import { JsonRpcProvider, Wallet, type JsonRpcPayload } from "ethers";
import { contextFor } from "../../src/cli/context.js";
import { loanStates } from "../../src/cli/loan-states.js";
import { toLoanId } from "../../src/client/index.js";
import { deployAllianceFixture, loadFixture } from "../fixtures.js";
import { anchorWithCli, DEV_KEYS, KEY_HEX, run, serveJsonRpc } from "./helpers.js";

/** A provider that remembers every request it sends to the node. */
class RecordingProvider extends JsonRpcProvider {
  readonly sent: JsonRpcPayload[][] = [];
  override _send(payload: JsonRpcPayload | JsonRpcPayload[]) {
    this.sent.push(Array.isArray(payload) ? payload : [payload]);
    return super._send(payload);
  }
}

describe("CLI loan states of a book", function () {
  it("reads every loan's state in JSON-RPC batches, each call at the same block, as the registry answers one by one", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const ids = [];
    for (const ref of ["B-1", "B-2", "B-3", "B-4", "B-5"]) ids.push(toLoanId(await anchorWithCli(f, ref)));
    expect((await run(f, f.platformA, ["loan", "activate", String(ids[1])])).code).to.equal(0);
    const rpc = await serveJsonRpc();
    const provider = new RecordingProvider(rpc.url, undefined, { staticNetwork: true, batchMaxCount: 1 });
    try {
      const ctx = await contextFor(f.suite.connect(new Wallet(DEV_KEYS[1], provider)), { allianceKeyHex: KEY_HEX });
      provider.sent.length = 0;
      const states = await loanStates(ctx, ids, 2);
      const batches = provider.sent.filter((requests) => requests.every((r) => r.method === "eth_call"));
      expect(batches.map((b) => b.length)).to.deep.equal([2, 2, 1]);
      const blocks = new Set(batches.flat().map((r) => JSON.stringify((r.params as unknown[])[1])));
      expect(blocks.size).to.equal(1);
      const oneByOne = await Promise.all(ids.map((id) => ctx.loans.state(id)));
      expect(states).to.deep.equal(oneByOne);
      expect(states.map((s) => s.status)).to.deep.equal([1, 2, 1, 1, 1]);
    } finally {
      provider.destroy();
      await rpc.close();
    }
  });

  it("reads the same states through a provider without JSON-RPC batches", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const id = toLoanId(await anchorWithCli(f, "B-6"));
    const ctx = await contextFor(f.suite.connect(f.platformA), { allianceKeyHex: KEY_HEX });
    expect(await loanStates(ctx, [id, id])).to.deep.equal([await ctx.loans.state(id), await ctx.loans.state(id)]);
  });
});
