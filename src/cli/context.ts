import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { JsonRpcProvider, Wallet, type Signer } from "ethers";
import { AllianceClient, CollateralClient, InputError, LoanRegistryClient, SplitterClient } from "../client/index.js";

/** What every command needs: who signs, the contracts, and how amounts are written. */
export interface CliContext {
  signer: Signer;
  alliance: AllianceClient;
  loans: LoanRegistryClient;
  splitter: SplitterClient;
  collateral: CollateralClient;
  /** Decimals of the settlement currency, for reading and printing amounts. */
  decimals: number;
  allianceKeyHex: string | undefined;
}

export type ContextFactory = () => Promise<CliContext>;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new InputError(`${name} is not set (see .env.example)`);
  return value;
}

/** Addresses from the environment, or else from the Ignition deployment record of the connected chain. */
async function registryAddresses(
  env: NodeJS.ProcessEnv,
  chainId: bigint,
): Promise<{ alliance: string; loans: string; splitter: string; collateral: string }> {
  const { LOANLEDGER_ALLIANCE_REGISTRY, LOANLEDGER_LOAN_REGISTRY, LOANLEDGER_SPLITTER, LOANLEDGER_COLLATERAL } = env;
  if (LOANLEDGER_ALLIANCE_REGISTRY && LOANLEDGER_LOAN_REGISTRY && LOANLEDGER_SPLITTER && LOANLEDGER_COLLATERAL) {
    return {
      alliance: LOANLEDGER_ALLIANCE_REGISTRY,
      loans: LOANLEDGER_LOAN_REGISTRY,
      splitter: LOANLEDGER_SPLITTER,
      collateral: LOANLEDGER_COLLATERAL,
    };
  }
  const file = resolve(
    env.LOANLEDGER_DEPLOYMENTS ?? "deploy/deployments",
    `chain-${chainId}`,
    "deployed_addresses.json",
  );
  let record: Record<string, string>;
  try {
    record = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
  } catch {
    throw new InputError(`no deployment for chain ${chainId}: deploy first or set the LOANLEDGER_* addresses`);
  }
  return {
    alliance: record["LoanLedger#AllianceRegistry"],
    loans: record["LoanLedger#LoanRegistry"],
    splitter: record["LoanLedger#RepaymentSplitter"],
    collateral: record["LoanLedger#CollateralRegistry"],
  };
}

/** Builds the context from the environment (and `.env`): keys never come from command-line flags. */
export function contextFromEnv(env: NodeJS.ProcessEnv = process.env): ContextFactory {
  return async () => {
    const provider = new JsonRpcProvider(required(env, "LOANLEDGER_RPC_URL"));
    let signer: Wallet;
    try {
      signer = new Wallet(required(env, "LOANLEDGER_PRIVATE_KEY"), provider);
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError("LOANLEDGER_PRIVATE_KEY is not a valid private key");
    }
    const { chainId } = await provider.getNetwork();
    const addresses = await registryAddresses(env, chainId);
    const fromBlock = Number(env.LOANLEDGER_FROM_BLOCK ?? 0);
    const loans = new LoanRegistryClient(addresses.loans, signer, fromBlock);
    return {
      signer,
      alliance: new AllianceClient(addresses.alliance, signer),
      loans,
      splitter: new SplitterClient(addresses.splitter, signer, loans, fromBlock),
      collateral: new CollateralClient(addresses.collateral, signer, loans, fromBlock),
      decimals: Number(env.LOANLEDGER_AMOUNT_DECIMALS ?? 18),
      allianceKeyHex: env.LOANLEDGER_ALLIANCE_KEY,
    };
  };
}
