import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
// Types only, of the engine the Ignition plugin re-exports `buildModule` from.
import type { ContractFuture, ModuleParameterRuntimeValue } from "@nomicfoundation/ignition-core";

/**
 * Deploys the LoanLedger suite and wires it: the alliance registry, governed by the deployer (or by the account named
 * in the `governance` parameter); the loan registry that asks it who may do what; the repayment splitter; credit
 * insurance and the risk reserve fund; the loss waterfall; the collateral registry; and the disclosure registry. The splitter
 * is the funding delegate, the splitter, the loss waterfall and the collateral registry write history facts, the
 * splitter takes recoveries from (and closes losses for) the waterfall only, the reserve fund receives the splitter's
 * reserve contributions, and insurance and reserve pay claims and compensation to the waterfall only.
 *
 * Parameters (an Ignition parameters file, see README):
 * - `settlementToken` (required): the custodian bank's settlement token. Local networks deploy the SettlementToken
 *   module first and pass its address.
 * - `governance`: initial governance account; defaults to the deploying account. The wiring calls are sent by the
 *   deployer, so deploy with the default and hand governance over afterwards (the two-step, delayed transfer).
 * - `adminTransferDelay`: seconds between proposing and accepting a new governance account; defaults to 2 days.
 * - `maxPlatformFeeBps`, `maxPremiumBps`, `maxReserveBps`: the alliance's caps on per-loan rates (a year).
 * - `reserveCoverageBps`, `reserveCapPerLoan`, `reserveQuotaMultipleBps`, `reserveMinLoanAge` (seconds, default 60 days),
 *   `reserveMinInstallmentsPaid` (default 1): the reserve fund's compensation policy; only seasoned loans are
 *   compensated.
 * - `minCommitment`: the least a lender may commit to a loan unless it completes the funding (default 0: none), so that
 *   a network with no transaction fees can refuse dust commitments.
 */
export default buildModule("LoanLedger", (m) => {
  const { token: _token, ...suite } = buildSuite(m, () => m.getParameter<string>("settlementToken"));
  return suite;
});

/** The module builder's handle: what `buildModule` gives its callback. */
type Builder = Parameters<Parameters<typeof buildModule>[1]>[0];

/**
 * Deploys and wires the suite in module `m`, settling in the token that `settlementToken` names once the alliance
 * registry exists (a custody deposit token is issued under the alliance's roles, so it is deployed after it).
 */
export function buildSuite<T extends ContractFuture<string> | ModuleParameterRuntimeValue<string>>(
  m: Builder,
  settlementToken: (alliance: ContractFuture<"AllianceRegistry">) => T,
) {
  const deployer = m.getAccount(0);
  const governance = m.getParameter("governance", deployer);
  const adminTransferDelay = m.getParameter("adminTransferDelay", 2 * 24 * 60 * 60);
  const caps = {
    platformFeeBps: m.getParameter("maxPlatformFeeBps", 300),
    premiumBps: m.getParameter("maxPremiumBps", 200),
    reserveBps: m.getParameter("maxReserveBps", 100),
  };
  const reservePolicy = {
    coverageBps: m.getParameter("reserveCoverageBps", 5_000),
    capPerLoan: m.getParameter("reserveCapPerLoan", 100_000n * 10n ** 18n),
    quotaMultipleBps: m.getParameter("reserveQuotaMultipleBps", 30_000),
    minLoanAge: m.getParameter("reserveMinLoanAge", 60 * 24 * 60 * 60),
    minInstallmentsPaid: m.getParameter("reserveMinInstallmentsPaid", 1),
  };

  const alliance = m.contract("AllianceRegistry", [adminTransferDelay, governance]);
  const token = settlementToken(alliance);
  const loans = m.contract("LoanRegistry", [alliance]);
  // The splitter needs a reserve account at construction; it is switched to the fund once that exists.
  const splitter = m.contract("RepaymentSplitter", [alliance, loans, token, deployer, caps]);
  const insurance = m.contract("CreditInsurance", [alliance, loans, splitter]);
  const reserve = m.contract("RiskReserveFund", [alliance, splitter, reservePolicy]);
  const waterfall = m.contract("LossWaterfall", [alliance, loans, splitter, insurance, reserve]);
  const collateralSales = m.library("CollateralSales");
  const collateralLiens = m.library("CollateralLiens");
  const collateral = m.contract("CollateralRegistry", [alliance, loans, splitter, waterfall], {
    libraries: { CollateralSales: collateralSales, CollateralLiens: collateralLiens },
  });
  const disclosures = m.contract("DisclosureRegistry", [alliance]);

  // Each system contract gets only the powers it uses (POWER_FUNDING_DELEGATE = 1, POWER_HISTORY_WRITER = 2): the
  // splitter takes over funding loans' money paths and writes its facts; the loss waterfall and the collateral registry
  // write theirs.
  m.call(loans, "setSystemPowers", [splitter, 3], { id: "SplitterPowers" });
  m.call(loans, "setSystemPowers", [waterfall, 2], { id: "WaterfallPowers" });
  m.call(loans, "setSystemPowers", [collateral, 2], { id: "CollateralPowers" });
  m.call(splitter, "setReserve", [reserve]);
  m.call(splitter, "setWaterfall", [waterfall]);
  m.call(splitter, "setInsurance", [insurance]);
  m.call(splitter, "setCollateral", [collateral]);
  m.call(splitter, "setMinCommitment", [m.getParameter("minCommitment", 0n)]);
  m.call(insurance, "setWaterfall", [waterfall]);
  m.call(reserve, "setWaterfall", [waterfall]);

  return { alliance, loans, splitter, insurance, reserve, waterfall, collateral, disclosures, token };
}
