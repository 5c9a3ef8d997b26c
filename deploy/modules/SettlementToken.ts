import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Local and test networks only: a settlement token issued by the deployer, standing in for the custodian bank's
 * deposit token. Production passes the real token's address to the LoanLedger module instead.
 */
export default buildModule("SettlementToken", (m) => {
  const token = m.contract("SettlementToken", [m.getAccount(0)]);
  return { token };
});
