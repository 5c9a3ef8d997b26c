import {
  formatUnits,
  NonceManager,
  type ContractRunner,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
} from "ethers";
import { SettlementToken__factory, type SettlementToken } from "../../typechain-types/index.js";
import { ContractError, LoanLedgerError, toLoanLedgerError } from "./errors.js";
import { toAddress, type Address } from "./ids.js";
import { read, transact } from "./transact.js";

/** The settlement token at `address` (an ERC-20: only its standard functions are used). */
export function settlementToken(address: string, runner: ContractRunner): SettlementToken {
  return SettlementToken__factory.connect(address, runner);
}

/** The signing account behind `runner`. */
export async function signerAddress(runner: ContractRunner): Promise<Address> {
  const signer = runner as { getAddress?: () => Promise<string> };
  if (!signer.getAddress) throw new LoanLedgerError("this action needs a signer");
  return toAddress(await signer.getAddress());
}

/** A contract of the suite that pulls the settlement token it names. */
export interface TokenPuller {
  TOKEN(): Promise<string>;
  target: unknown;
  runner: ContractRunner | null;
}

/** An action that pulls settlement tokens from the signer, described so that it can be tried before it is sent. */
export interface PullingAction<T> {
  /** The action as a call (`staticCall`): it reverts as the transaction would, and returns its result. */
  simulate: () => Promise<T>;
  send: () => Promise<ContractTransactionResponse>;
  /** The most the action may take: the amount the caller named. */
  limit: bigint;
}

async function attempt<T>(call: () => Promise<T>): Promise<{ value: T } | { error: LoanLedgerError }> {
  try {
    return { value: await call() };
  } catch (error) {
    return { error: toLoanLedgerError(error) };
  }
}

/**
 * A nonce manager counted a transaction that was never sent (it failed while estimating gas): count again. The next
 * send then asks the node for the account's count, which a provider must not answer from a cache (the CLI's does not).
 */
function forgetUnsentNonce(runner: ContractRunner): void {
  if (runner instanceof NonceManager) runner.reset();
}

/** Whether a failed send reached the chain (it was mined and reverted), so its nonce is used. */
function mined(error: unknown): boolean {
  return typeof error === "object" && error !== null && "receipt" in error && Boolean(error.receipt);
}

/**
 * Runs an action that pulls settlement tokens without ever leaving an approval behind that it did not use. The action
 * is tried first as a call: if it would fail for any reason other than the allowance, nothing is sent. If only the
 * allowance is short, the signer's balance is checked, the allowance is raised by exactly what the action will take
 * (the token's ERC20InsufficientAllowance names it; a token that does not say is approved for `limit`), the action is
 * tried again, then sent; once it has taken its part, the allowance is what it was before. If it fails after the
 * approval, the allowance is set back to what it was.
 */
export async function transactPulling<T>(
  contract: TokenPuller,
  action: PullingAction<T>,
): Promise<{ result: T; receipt: ContractTransactionReceipt }> {
  const runner = contract.runner;
  if (!runner) throw new LoanLedgerError("this action needs a signer");
  const first = await attempt(action.simulate);
  if ("value" in first) return { result: first.value, receipt: await transact(action.send) };

  const spender = toAddress(String(contract.target));
  const token = settlementToken(await read(() => contract.TOKEN()), runner);
  const owner = await signerAddress(runner);
  const shortfall =
    first.error instanceof ContractError &&
    first.error.errorName === "ERC20InsufficientAllowance" &&
    String(first.error.args[0]).toLowerCase() === spender.toLowerCase();
  const allowance = await read(() => token.allowance(owner, spender));
  // A known contract error other than the allowance is the action's own refusal; an unrecognised revert may be a
  // token that words its allowance error differently, so it is retried with an allowance (and cleaned up after).
  if (!shortfall && (first.error instanceof ContractError || allowance >= action.limit)) throw first.error;
  const needed = shortfall ? BigInt((first.error as ContractError).args[2] as bigint) : action.limit;
  if (needed > action.limit) {
    const [decimals, symbol] = await Promise.all([read(() => token.decimals()), read(() => token.symbol())]);
    throw new LoanLedgerError(
      `the action would take ${formatUnits(needed, decimals)} ${symbol}, more than the ` +
        `${formatUnits(action.limit, decimals)} ${symbol} it was given`,
    );
  }
  const balance = await read(() => token.balanceOf(owner));
  // The token's own refusal, as it would come had the action been sent: callers write its amounts as they write money.
  if (balance < needed) throw new ContractError("ERC20InsufficientBalance", [owner, balance, needed]);

  // On top of what was approved before, so that afterwards the allowance is what the signer had left it.
  await transact(() => token.approve(spender, allowance + needed));
  const restore = async (error: LoanLedgerError): Promise<never> => {
    await transact(() => token.approve(spender, allowance));
    throw error;
  };
  // A refused try is a call: it uses no nonce, so the account's count stays as the approval left it.
  const second = await attempt(action.simulate);
  if ("error" in second) return restore(second.error);
  try {
    return { result: second.value, receipt: await transact(action.send) };
  } catch (error) {
    if (!mined(error)) forgetUnsentNonce(runner);
    return restore(toLoanLedgerError(error));
  }
}
