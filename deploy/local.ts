import LoanLedgerModule from "./modules/LoanLedger.js";
import SettlementTokenModule from "./modules/SettlementToken.js";
import type { AllianceRegistry, LoanRegistry, RepaymentSplitter, SettlementToken } from "../typechain-types/index.js";

/** The part of a network connection's Ignition helper that local deployments use. */
interface Ignition {
  deploy(
    module: typeof LoanLedgerModule | typeof SettlementTokenModule,
    options?: { parameters?: Record<string, Record<string, string | number | bigint>> },
  ): Promise<Record<string, unknown>>;
}

export interface LocalSuite {
  token: SettlementToken;
  alliance: AllianceRegistry;
  loans: LoanRegistry;
  splitter: RepaymentSplitter;
}

/**
 * Deploys the suite on a local or test network: first the stand-in settlement token, then the LoanLedger module with
 * the token's address, as a production deployment would with the real token's.
 */
export async function deployLocalSuite(ignition: Ignition): Promise<LocalSuite> {
  const { token } = await ignition.deploy(SettlementTokenModule);
  const tokenAddress = String((token as SettlementToken).target);
  const suite = await ignition.deploy(LoanLedgerModule, {
    parameters: { LoanLedger: { settlementToken: tokenAddress } },
  });
  return {
    token: token as SettlementToken,
    alliance: suite.alliance as AllianceRegistry,
    loans: suite.loans as LoanRegistry,
    splitter: suite.splitter as RepaymentSplitter,
  };
}
