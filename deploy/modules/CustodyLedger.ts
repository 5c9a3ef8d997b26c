import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildSuite } from "./LoanLedger.js";

/**
 * The suite settling in its custody bank's deposit token (`CustodyDepositToken`), deployed with it: the alliance's own
 * money, issued only by its custody-bank members against credits on their custody accounts. The module's id is the
 * LoanLedger module's, so that a deployment's record names the suite's contracts alike whichever token it settles in;
 * the token's record is `LoanLedger#CustodyDepositToken`.
 *
 * Parameters: those of the LoanLedger module except `settlementToken`, and
 * - `tokenName`, `tokenSymbol`: the deposit token's ERC-20 name and symbol;
 * - `redemptionWindow`: seconds a custody bank has to redeem or return a withdrawal before its holder may take it back
 *   (default 3 days).
 */
export default buildModule("LoanLedger", (m) =>
  buildSuite(m, (alliance) =>
    m.contract("CustodyDepositToken", [
      alliance,
      m.getParameter("tokenName", "LoanLedger Custody Deposit"),
      m.getParameter("tokenSymbol", "LLCD"),
      m.getParameter("redemptionWindow", 3 * 24 * 60 * 60),
    ]),
  ),
);
