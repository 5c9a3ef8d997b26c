import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Deploys the LoanLedger suite and wires it: the alliance registry, governed by the deployer (or by the account named
 * in the `governance` parameter), the loan registry that asks it who may do what, and the two contracts the alliance
 * names loan servicers: the repayment splitter and the collateral registry.
 *
 * Parameters (an Ignition parameters file, see README):
 * - `settlementToken` (required): the custodian bank's settlement token. Local networks deploy the SettlementToken
 *   module first and pass its address.
 * - `governance`: initial governance account; defaults to the deploying account. The servicer-role grant is sent by
 *   the deployer, so deploy with the default and hand governance over afterwards (the two-step, delayed transfer).
 * - `adminTransferDelay`: seconds between proposing and accepting a new governance account; defaults to 2 days.
 * - `reserve`: the account that receives risk-reserve contributions and rounding remainders; defaults to the deployer.
 * - `maxPlatformFeeBps`, `maxPremiumBps`, `maxReserveBps`: the alliance's caps on per-loan rates (a year).
 */
export default buildModule("LoanLedger", (m) => {
  const deployer = m.getAccount(0);
  const settlementToken = m.getParameter<string>("settlementToken");
  const governance = m.getParameter("governance", deployer);
  const adminTransferDelay = m.getParameter("adminTransferDelay", 2 * 24 * 60 * 60);
  const reserve = m.getParameter("reserve", deployer);
  const caps = {
    platformFeeBps: m.getParameter("maxPlatformFeeBps", 300),
    premiumBps: m.getParameter("maxPremiumBps", 200),
    reserveBps: m.getParameter("maxReserveBps", 100),
  };

  const alliance = m.contract("AllianceRegistry", [adminTransferDelay, governance]);
  const loans = m.contract("LoanRegistry", [alliance]);
  const splitter = m.contract("RepaymentSplitter", [alliance, loans, settlementToken, reserve, caps]);
  const collateral = m.contract("CollateralRegistry", [alliance, loans, splitter]);
  const servicerRole = m.staticCall(alliance, "LOAN_SERVICER_ROLE");
  m.call(alliance, "grantRole", [servicerRole, splitter], { id: "GrantSplitterServicerRole" });
  m.call(alliance, "grantRole", [servicerRole, collateral], { id: "GrantCollateralServicerRole" });

  return { alliance, loans, splitter, collateral };
});
