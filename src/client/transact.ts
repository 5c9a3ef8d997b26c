import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { toLoanLedgerError } from "./errors.js";

/**
 * Sends a contract transaction and waits for its receipt. Whatever goes wrong (a revert found while estimating gas,
 * a revert on chain, a provider failure) comes back as a LoanLedgerError with a readable reason.
 */
export async function transact(send: () => Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  try {
    const response = await send();
    const receipt = await response.wait();
    if (!receipt) throw new Error("the transaction was dropped");
    return receipt;
  } catch (error) {
    throw toLoanLedgerError(error);
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
