import LoanLedgerModule from "./modules/LoanLedger.js";
import SettlementTokenModule from "./modules/SettlementToken.js";
import CustodyLedgerModule from "./modules/CustodyLedger.js";
import type { network } from "hardhat";
import { Suite } from "../src/client/suite.js";

/** A network connection's Ignition helper. */
type Ignition = Awaited<ReturnType<typeof network.create>>["ignition"];

/**
 * Deploys the suite on a local or test network: first the stand-in settlement token, then the LoanLedger module with
 * the token's address, as a production deployment would with the real token's. On a node (not the embedded network)
 * Ignition records the deployment under `deploy/deployments/<deploymentId>`, and reuses what it finds there. The suite
 * is seen by the deploying account (governance).
 */
export async function deployLocalSuite(ignition: Ignition, deploymentId?: string): Promise<Suite> {
  const { token } = await ignition.deploy(SettlementTokenModule, { deploymentId });
  const deployed = await ignition.deploy(LoanLedgerModule, {
    deploymentId,
    parameters: { LoanLedger: { settlementToken: String(token.target) } },
  });
  return Suite.fromDeployed({ ...deployed, token });
}

/**
 * Deploys the suite settling in its custody bank's deposit token (the CustodyLedger module): money reaches the ledger
 * only when a custody-bank member issues it against a credit on its custody account. The suite is seen by the deploying
 * account (governance), which admits the bank.
 */
export async function deployCustodySuite(ignition: Ignition, deploymentId?: string): Promise<Suite> {
  return Suite.fromDeployed(await ignition.deploy(CustodyLedgerModule, { deploymentId }));
}
