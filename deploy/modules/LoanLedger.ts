import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Deploys the LoanLedger suite and wires it: the alliance registry, governed by the deployer (or by the account named
 * in the `governance` parameter, a multisig in production), and the loan registry that asks it who may do what.
 *
 * Parameters (an Ignition parameters file, see README):
 * - `governance`: initial governance account; defaults to the deploying account.
 * - `adminTransferDelay`: seconds between proposing and accepting a new governance account; defaults to 2 days.
 */
export default buildModule("LoanLedger", (m) => {
  const governance = m.getParameter("governance", m.getAccount(0));
  const adminTransferDelay = m.getParameter("adminTransferDelay", 2 * 24 * 60 * 60);

  const alliance = m.contract("AllianceRegistry", [adminTransferDelay, governance]);
  const loans = m.contract("LoanRegistry", [alliance]);

  return { alliance, loans };
});
