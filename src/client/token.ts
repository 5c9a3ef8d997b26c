import type { ContractRunner } from "ethers";
import { SettlementToken__factory, type SettlementToken } from "../../typechain-types/index.js";
import { LoanLedgerError } from "./errors.js";
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

/**
 * Approves `contract` for `amount` of the settlement token it names (its `TOKEN()`), when the signer's current
 * allowance is short: what every client does before an action that pulls tokens.
 */
export async function ensureAllowanceFor(
  contract: { TOKEN(): Promise<string>; target: unknown; runner: ContractRunner | null },
  amount: bigint,
): Promise<void> {
  if (!contract.runner) throw new LoanLedgerError("this action needs a signer");
  const token = settlementToken(await read(() => contract.TOKEN()), contract.runner);
  await ensureAllowance(token, toAddress(String(contract.target)), amount);
}

/** Approves `spender` for `amount` of the token when the signer's current allowance is short. */
export async function ensureAllowance(token: SettlementToken, spender: Address, amount: bigint): Promise<void> {
  const owner = await signerAddress(token.runner!);
  const allowance = await read(() => token.allowance(owner, spender));
  if (allowance < amount) await transact(() => token.approve(spender, amount));
}
