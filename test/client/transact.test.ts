import { expect } from "chai";
import type { TransactionReceipt, TransactionResponse } from "ethers";
import { mined } from "../../src/client/transact.js";

/**
 * A sent transaction whose ethers wait() missed its block (it never settles, as on an idle automining node) and whose
 * receipt the node has from `after` milliseconds on. Once the receipt is there, wait() returns it at its first check.
 */
function missedBlock(after: number, receipt = { status: 1 } as TransactionReceipt) {
  const sentAt = Date.now();
  const available = () => Date.now() - sentAt >= after;
  let waits = 0;
  const response = {
    hash: "0x" + "ab".repeat(32),
    provider: { getTransactionReceipt: async () => (available() ? receipt : null) },
    wait: () => {
      waits += 1;
      return available()
        ? receipt.status === 1
          ? Promise.resolve(receipt)
          : Promise.reject(new Error("transaction execution reverted"))
        : new Promise<TransactionReceipt>(() => {});
    },
  } as unknown as TransactionResponse;
  return { response, receipt, waits: () => waits };
}

describe("transact: waiting for a receipt", function () {
  it("returns the receipt of a transaction mined where ethers' own wait missed it", async function () {
    const { response, receipt } = missedBlock(120);
    expect(await mined(response)).to.equal(receipt);
  });

  it("throws as wait() does for a transaction that reverted", async function () {
    const { response } = missedBlock(60, { status: 0 } as TransactionReceipt);
    const outcome = await mined(response).then(
      () => "returned",
      (error: Error) => error.message,
    );
    expect(outcome).to.include("reverted");
  });

  it("asks wait() once when it settles first", async function () {
    const { response, receipt, waits } = missedBlock(0);
    expect(await mined(response)).to.equal(receipt);
    expect(waits()).to.equal(1);
  });
});
