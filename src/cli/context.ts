import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { JsonRpcProvider, NonceManager, Wallet, type Signer } from "ethers";
import {
  AllianceClient,
  CollateralClient,
  DisclosureClient,
  InputError,
  InsuranceClient,
  LoanRegistryClient,
  ReserveClient,
  SplitterClient,
  WaterfallClient,
} from "../client/index.js";

/** What every command needs: who signs, the contracts, and how amounts are written. */
export interface CliContext {
  signer: Signer;
  alliance: AllianceClient;
  loans: LoanRegistryClient;
  splitter: SplitterClient;
  collateral: CollateralClient;
  insurance: InsuranceClient;
  reserve: ReserveClient;
  waterfall: WaterfallClient;
  disclosures: DisclosureClient;
  /** Block of the suite's deployment, where event searches start. */
  fromBlock: number;
  /** Decimals of the settlement currency, for reading and printing amounts. */
  decimals: number;
  allianceKeyHex: string | undefined;
}

export type ContextFactory = () => Promise<CliContext>;

/** Each contract: its name in the Ignition deployment record, and the variable that can override its address. */
const CONTRACTS = {
  alliance: ["AllianceRegistry", "LOANLEDGER_ALLIANCE_REGISTRY"],
  loans: ["LoanRegistry", "LOANLEDGER_LOAN_REGISTRY"],
  splitter: ["RepaymentSplitter", "LOANLEDGER_SPLITTER"],
  collateral: ["CollateralRegistry", "LOANLEDGER_COLLATERAL"],
  insurance: ["CreditInsurance", "LOANLEDGER_INSURANCE"],
  reserve: ["RiskReserveFund", "LOANLEDGER_RESERVE"],
  waterfall: ["LossWaterfall", "LOANLEDGER_WATERFALL"],
  disclosures: ["DisclosureRegistry", "LOANLEDGER_DISCLOSURES"],
} as const;
type ContractKey = keyof typeof CONTRACTS;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new InputError(`${name} is not set (see .env.example)`);
  return value;
}

/** Addresses from the environment, or else from the Ignition deployment record of the connected chain. */
async function addresses(env: NodeJS.ProcessEnv, chainId: bigint): Promise<Record<ContractKey, string>> {
  const keys = Object.keys(CONTRACTS) as ContractKey[];
  if (keys.every((key) => env[CONTRACTS[key][1]])) {
    return Object.fromEntries(keys.map((key) => [key, env[CONTRACTS[key][1]]!])) as Record<ContractKey, string>;
  }
  const file = resolve(
    env.LOANLEDGER_DEPLOYMENTS || "deploy/deployments",
    `chain-${chainId}`,
    "deployed_addresses.json",
  );
  let record: Record<string, string>;
  try {
    record = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
  } catch {
    throw new InputError(`no deployment for chain ${chainId}: deploy first or set the LOANLEDGER_* addresses`);
  }
  const found = Object.fromEntries(
    keys.map((key) => [key, env[CONTRACTS[key][1]] || record[`LoanLedger#${CONTRACTS[key][0]}`]]),
  ) as Record<ContractKey, string | undefined>;
  const missing = keys.filter((key) => !found[key]).map((key) => CONTRACTS[key][0]);
  if (missing.length)
    throw new InputError(`${file} has no ${missing.join(", ")}: redeploy, or set the LOANLEDGER_* addresses`);
  return found as Record<ContractKey, string>;
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
    const at = await addresses(env, chainId);
    const fromBlock = Number(env.LOANLEDGER_FROM_BLOCK ?? 0);
    // A command may send several transactions in a row (an approval, then the action): the nonce manager counts them
    // itself rather than asking a node that may not have caught up.
    return contextFor(new NonceManager(signer), at, fromBlock, {
      decimals: Number(env.LOANLEDGER_AMOUNT_DECIMALS ?? 18),
      allianceKeyHex: env.LOANLEDGER_ALLIANCE_KEY,
    });
  };
}

/** Every client for `signer`, over the contracts at `at`. */
export function contextFor(
  signer: Signer,
  at: Record<ContractKey, string>,
  fromBlock: number,
  settings: { decimals: number; allianceKeyHex: string | undefined },
): CliContext {
  const loans = new LoanRegistryClient(at.loans, signer, fromBlock);
  const splitter = new SplitterClient(at.splitter, signer, loans, fromBlock);
  return {
    signer,
    alliance: new AllianceClient(at.alliance, signer),
    loans,
    splitter,
    collateral: new CollateralClient(at.collateral, signer, loans, fromBlock),
    insurance: new InsuranceClient(at.insurance, signer, loans),
    reserve: new ReserveClient(at.reserve, signer),
    waterfall: new WaterfallClient(at.waterfall, signer, loans),
    disclosures: new DisclosureClient(at.disclosures, signer, { loans, splitter, insurance: at.insurance }, fromBlock),
    fromBlock,
    ...settings,
  };
}
