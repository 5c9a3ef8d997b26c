/**
 * Every contract of the suite by name, with its ABI: stated here from the generated types, apart from the client's
 * own list, so that a test over "every suite contract" also catches a contract the client forgot.
 */
import {
  AllianceRegistry__factory,
  CollateralRegistry__factory,
  CreditInsurance__factory,
  CustodyDepositToken__factory,
  DisclosureRegistry__factory,
  LoanRegistry__factory,
  LossWaterfall__factory,
  RepaymentSplitter__factory,
  RiskReserveFund__factory,
  SettlementToken__factory,
} from "../../typechain-types/index.js";

export const SUITE_ABIS = {
  AllianceRegistry: AllianceRegistry__factory.abi,
  LoanRegistry: LoanRegistry__factory.abi,
  RepaymentSplitter: RepaymentSplitter__factory.abi,
  CollateralRegistry: CollateralRegistry__factory.abi,
  CreditInsurance: CreditInsurance__factory.abi,
  RiskReserveFund: RiskReserveFund__factory.abi,
  LossWaterfall: LossWaterfall__factory.abi,
  DisclosureRegistry: DisclosureRegistry__factory.abi,
  SettlementToken: SettlementToken__factory.abi,
  CustodyDepositToken: CustodyDepositToken__factory.abi,
};
