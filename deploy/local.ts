import LoanLedgerModule from "./modules/LoanLedger.js";
import SettlementTokenModule from "./modules/SettlementToken.js";
import type { network } from "hardhat";
import type {
  AllianceRegistry,
  CollateralRegistry,
  CreditInsurance,
  DisclosureRegistry,
  LossWaterfall,
  RiskReserveFund,
  LoanRegistry,
  RepaymentSplitter,
  SettlementToken,
} from "../typechain-types/index.js";

/** A network connection's Ignition helper. */
type Ignition = Awaited<ReturnType<typeof network.create>>["ignition"];

export interface LocalSuite {
  token: SettlementToken;
  alliance: AllianceRegistry;
  loans: LoanRegistry;
  splitter: RepaymentSplitter;
  collateral: CollateralRegistry;
  insurance: CreditInsurance;
  reserve: RiskReserveFund;
  waterfall: LossWaterfall;
  disclosures: DisclosureRegistry;
}

/**
 * Deploys the suite on a local or test network: first the stand-in settlement token, then the LoanLedger module with
 * the token's address, as a production deployment would with the real token's. On a node (not the embedded network)
 * Ignition records the deployment under `deploy/deployments/<deploymentId>`, and reuses what it finds there.
 */
export async function deployLocalSuite(ignition: Ignition, deploymentId?: string): Promise<LocalSuite> {
  const { token } = await ignition.deploy(SettlementTokenModule, { deploymentId });
  const tokenAddress = String(token.target);
  const suite = await ignition.deploy(LoanLedgerModule, {
    deploymentId,
    parameters: { LoanLedger: { settlementToken: tokenAddress } },
  });
  return {
    token: token as unknown as SettlementToken,
    alliance: suite.alliance as unknown as AllianceRegistry,
    loans: suite.loans as unknown as LoanRegistry,
    splitter: suite.splitter as unknown as RepaymentSplitter,
    collateral: suite.collateral as unknown as CollateralRegistry,
    insurance: suite.insurance as unknown as CreditInsurance,
    reserve: suite.reserve as unknown as RiskReserveFund,
    waterfall: suite.waterfall as unknown as LossWaterfall,
    disclosures: suite.disclosures as unknown as DisclosureRegistry,
  };
}
