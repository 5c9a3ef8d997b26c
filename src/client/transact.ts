import type {
  ContractTransactionReceipt,
  ContractTransactionResponse,
  Provider,
  TransactionReceipt,
  TransactionResponse,
} from "ethers";
import { ContractError, LoanLedgerError, toLoanLedgerError } from "./errors.js";

/**
 * Sends a contract transaction and waits for its receipt. Whatever goes wrong (a revert found while estimating gas,
 * a revert on chain, a provider failure) comes back as a LoanLedgerError with a readable reason.
 */
export async function transact(send: () => Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  try {
    const receipt = await mined(await send());
    if (!receipt) throw new Error("the transaction was dropped");
    return receipt as ContractTransactionReceipt;
  } catch (error) {
    throw toLoanLedgerError(error);
  }
}

/**
 * The receipt of `response` once mined, as `response.wait()` gives it (a reverted transaction throws), or null.
 *
 * ethers' wait() checks for the receipt once, then waits for the next block its poller sees; the poller's first read of
 * the block number counts as already seen. A transaction mined between the two (an automining node such as anvil mines
 * just after answering the send) is then only noticed at the next block, which an idle node never makes: the wait
 * never ends. Asking for the receipt ourselves as well ends it.
 */
export async function mined(response: TransactionResponse): Promise<TransactionReceipt | null> {
  let waiting = true;
  const polled = (async () => {
    for (let delay = 50; waiting; delay = Math.min(delay * 2, 2_000)) {
      // Unreferenced: once the wait is over, a pending poll must not keep the process alive.
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      if (waiting && (await response.provider.getTransactionReceipt(response.hash).catch(() => null))) return;
    }
    return new Promise<never>(() => {});
  })();
  try {
    // Once the receipt is there, wait() returns it at its first check, with its own status check.
    return await Promise.race([response.wait(), polled.then(() => response.wait())]);
  } finally {
    waiting = false;
  }
}

/** Runs a read and maps its failures the same way. */
export async function read<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toLoanLedgerError(error);
  }
}

/** The most gas one transaction may use from Osaka on (EIP-7825): 2^24. Networks on earlier forks have no such cap. */
export const TRANSACTION_GAS_CAP = 16_777_216n;

/**
 * The gas one batch transaction should plan for on the node behind `provider`: the smaller of the latest block's gas
 * limit and the per-transaction cap, less a tenth, because an estimate made before earlier batches land can come out
 * lower than the gas the transaction then uses.
 */
export async function batchGasBudget(provider: Provider): Promise<bigint> {
  const block = await read(() => provider.getBlock("latest"));
  const blockLimit = block?.gasLimit ?? TRANSACTION_GAS_CAP;
  const limit = blockLimit < TRANSACTION_GAS_CAP ? blockLimit : TRANSACTION_GAS_CAP;
  return (limit * 9n) / 10n;
}

/**
 * Splits `items` into consecutive batches of at most `maxItems`, each estimated to fit `budget`. A batch over budget
 * (or one whose estimate fails for want of gas) is shrunk in proportion and estimated again; a contract error is the
 * items' own fault and is thrown as it is. `estimate` gets each batch with the index of its first item.
 */
export async function splitByGas<T>(
  items: readonly T[],
  estimate: (batch: readonly T[], offset: number) => Promise<bigint>,
  budget: bigint,
  maxItems: number,
): Promise<{ items: T[]; offset: number; gas: bigint }[]> {
  const batches: { items: T[]; offset: number; gas: bigint }[] = [];
  let size = Math.max(1, Math.min(maxItems, items.length));
  for (let offset = 0; offset < items.length;) {
    size = Math.min(size, items.length - offset);
    const batch = items.slice(offset, offset + size);
    let gas: bigint | undefined;
    try {
      gas = await estimate(batch, offset);
    } catch (error) {
      const reason = toLoanLedgerError(error);
      if (reason instanceof ContractError || size === 1) throw reason;
    }
    if (gas !== undefined && gas <= budget) {
      batches.push({ items: batch, offset, gas });
      offset += size;
      continue;
    }
    if (size === 1)
      throw new LoanLedgerError(`one item needs ${gas} gas, more than the ${budget} a transaction may use`);
    // Over budget: the share of the batch that fits, a little less for the items that cost more than the average.
    size = gas === undefined ? Math.ceil(size / 2) : Math.max(1, Number((BigInt(size) * budget * 95n) / (gas * 100n)));
  }
  return batches;
}
