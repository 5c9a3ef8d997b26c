import { expect } from "chai";
import type { Provider } from "ethers";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { JsonRpcProvider, Network } from "ethers";
import { NODE_READ_TIMEOUT_MS, textHash } from "../../src/client/index.js";
import { LoanProver, type IndexStore } from "../../src/indexer/index.js";
import { PortalApi } from "../../src/portal/api.js";
import type { CustodyPage, LenderPage } from "../../src/portal/wire.js";

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
    handedOver: () => [],
    bookLines: () => [],
    reserve: () => [],
    insurers: () => [],
  };
  return { store: store as unknown as IndexStore, asked };
}

/** An index that has committed block 9 of chain 31337, answering the rest as `reads` say. */
function indexedAt(reads: Record<string, () => unknown>): IndexStore {
  return {
    state: () => ({
      chainId: "31337",
      contracts: { LoanRegistry: "0x" + "1".repeat(40) },
      fromBlock: 0,
      last: { number: 9, hash: "0x" + "2".repeat(64), timestamp: 1_800_000_000 },
    }),
    ...reads,
  } as unknown as IndexStore;
}

describe("PortalApi", function () {
  it("gives the custody page from the index: each bank's book, the withdrawals pending, the movements newest first", async function () {
    const bank = "0x" + "b".repeat(40);
    const [alice, bob] = ["0x" + "a".repeat(40), "0x" + "c".repeat(40)];
    const at = (blockNumber: number) => ({
      blockNumber,
      transactionHash: "0x" + String(blockNumber).padStart(64, "0"),
      logIndex: 0,
    });
    const records = [
      { event: "CustodyAccountSet", args: { bank, accountHash: "0x" + "1".repeat(64) }, ...at(1) },
      { event: "AccountRegistered", args: { account: alice, bank, accountRef: "0x01" }, ...at(2) },
      { event: "AccountRegistered", args: { account: bob, bank, accountRef: "0x02" }, ...at(2) },
      { event: "Issued", args: { bank, to: alice, amount: "700", bankRef: "0xaa" }, ...at(3) },
      { event: "Issued", args: { bank, to: bob, amount: "300", bankRef: "0xbb" }, ...at(4) },
      {
        event: "WithdrawalRequested",
        args: { id: "1", holder: alice, bank, amount: "200", accountRef: "0x01" },
        ...at(5),
      },
      {
        event: "WithdrawalRequested",
        args: { id: "2", holder: bob, bank, amount: "50", accountRef: "0x02" },
        ...at(5),
      },
      {
        event: "Redeemed",
        args: { id: "1", bank, holder: alice, amount: "200", bankRef: "0xcc", accountRef: "0x01" },
        ...at(6),
      },
      { event: "AccountClosed", args: { account: bob, bank }, ...at(7) },
    ].map((r) => ({ kind: "event", record: { contract: "CustodyDepositToken", ...r } }));
    const store = {
      state: () => ({ chainId: "31337", contracts: {}, fromBlock: 0, last: { number: 9, hash: "0x", timestamp: 0 } }),
      recordsNamed: () => records,
    } as unknown as IndexStore;
    const api = new PortalApi(store, {} as Provider, {} as LoanProver, { decimals: 18, symbol: "LLCD" });
    const { json: body } = (await api.handle("/api/custody", new URLSearchParams())) as { json: CustodyPage };
    expect(body.custody).to.equal(true);
    expect(body.supply).to.equal("800");
    expect(body.banks).to.deep.equal([
      { bank, custodyAccount: "0x" + "1".repeat(64), issued: "1000", redeemed: "200", outstanding: "800" },
    ]);
    expect(body.accounts).to.deep.equal({ [bank]: 1 });
    expect(body.pending.map((w) => [w.id, w.amount])).to.deep.equal([["2", "50"]]);
    expect(body.movements.map((m) => [m.kind, m.amount, m.bankRef])).to.deep.equal([
      ["redemption", "200", "0xcc"],
      ["issue", "300", "0xbb"],
      ["issue", "700", "0xaa"],
    ]);
  });

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
    const store = indexedAt({
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
    });
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

  it("answers a signing page's bad input with 400 and a sentence: a version it cannot sign, a mistyped address, a torn signature", async function () {
    const loanId = "0x" + "ab".repeat(32);
    const store = indexedAt({
      loan: () => ({
        loanId,
        documentVersion: 2,
        terms: {
          scheduleKind: 0,
          principal: "1000",
          annualRateBps: 800,
          installments: 2,
          period: 2_592_000,
          documentHash: "0x" + "4".repeat(64),
        },
      }),
    });
    const api = new PortalApi(store, {} as Provider, {} as LoanProver, { decimals: 18, symbol: "LLST" });
    const ask = (path: string, query: Record<string, string>) =>
      api.handle(path, new URLSearchParams(query)) as Promise<{ status: number; json: { error?: string } }>;
    const doc = "0x" + "5".repeat(64);
    for (const version of ["2", "70000"]) {
      const answer = await ask(`/api/sign/${loanId}`, { kind: "amendment", doc, version });
      expect(answer.status, version).to.equal(400);
      expect(answer.json.error).to.match(/cannot be signed: the loan's document is at version 2/);
    }
    expect((await ask(`/api/sign/${loanId}`, { kind: "amendment", doc })).status).to.equal(200);
    const verify = (signer: string, signature: string) => ask(`/api/sign/${loanId}/verify`, { signer, signature });
    const mistyped = await verify("0xAbCdEf0123456789abcdef0123456789ABCDEF01", "0x" + "1".repeat(130));
    expect([mistyped.status, mistyped.json.error]).to.deep.equal([
      400,
      "not an address (or a mistyped one, by its checksum): 0xAbCdEf0123456789abcdef0123456789ABCDEF01",
    ]);
    const torn = await verify("0x" + "a".repeat(40), "0x" + "1".repeat(129));
    expect(torn.status).to.equal(400);
    expect(torn.json.error).to.match(/an even number of hex digits/);
  });

  it("counts a lender's commitment to a loan in funding or cancelled as owed back, not as the loan's principal", async function () {
    const loanId = "0x" + "cd".repeat(32);
    const lender = "0x" + "9".repeat(40);
    for (const [status, received] of [
      [1, "0"], // in funding
      [8, "4000"], // cancelled, its refund claimed
    ] as const) {
      const store = {
        state: () => ({
          chainId: "31337",
          contracts: { RepaymentSplitter: "0x" + "1".repeat(40) },
          fromBlock: 0,
          last: { number: 9, hash: "0x" + "2".repeat(64), timestamp: 1_800_000_000 },
        }),
        positionsOf: () => [{ loanId, lender, shares: "4000", committed: "4000", received }],
        loan: () => ({ loanId, status, committed: "10000", outstanding: "10000", principal: "10000", nextDueAt: null }),
        payoutsTo: () => (received === "0" ? [] : [{ loanId, amount: received }]),
      } as unknown as IndexStore;
      const api = new PortalApi(store, {} as Provider, {} as LoanProver, { decimals: 18, symbol: "LLST" });
      const page = ((await api.handle(`/api/lenders/${lender}`, new URLSearchParams())) as { json: LenderPage }).json;
      expect(page.summary, `status ${status}, received ${received}`).to.deep.include({
        putIn: "4000",
        received,
        income: "0",
        realisedYieldBps: 0,
      });
      // In funding its commitment is still out; cancelled and refunded, nothing is.
      expect(page.positions[0].outstandingPart).to.equal(status === 1 ? "4000" : "0");
      expect(page.summary.stillOwed).to.equal(status === 1 ? "4000" : "0");
    }
  });

  it("names a member from the alliance's directory only as the name it registered, and says so of any other", async function () {
    const registered = "0x" + "a1".repeat(20);
    const renamed = "0x" + "b2".repeat(20);
    const store = {
      state: () => ({ chainId: "31337", contracts: {}, fromBlock: 0, last: { number: 9, hash: "0x", timestamp: 1 } }),
      platforms: () => [],
      lenders: () => [],
      members: () => [
        { account: registered, roles: 1, status: 1, metadataHash: textHash("Platform A Ltd") },
        { account: renamed, roles: 1, status: 3, metadataHash: textHash("Platform B Ltd") },
      ],
    } as unknown as IndexStore;
    const api = new PortalApi(
      store,
      {} as Provider,
      {} as LoanProver,
      { decimals: 18, symbol: "LLST" },
      {
        memberNames: { [registered]: "Platform A Ltd", [renamed]: "Someone Else Ltd" },
      },
    );
    const { members } = api.status();
    expect(members[registered]).to.deep.equal({
      roles: ["Platform"],
      standing: "Active",
      name: "Platform A Ltd",
      nameProven: true,
    });
    expect(members[renamed]).to.include({ standing: "Expelled", name: "Someone Else Ltd", nameProven: false });
  });
});
