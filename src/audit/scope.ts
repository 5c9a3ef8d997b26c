/**
 * What an audit covers: the suite's contracts an export holds, and the bounds (block, first block, contracts) a report
 * states with where each came from. Shared by the checks, which state the scope, and the proof, which establishes it.
 */
import type { BlockRef } from "../records/index.js";
import { SUITE, SUITE_KEYS } from "../client/suite.js";

/** The suite's contracts whose events make up the ledger, by the names an export's manifest gives them. */
export const SUITE_CONTRACTS = [
  "AllianceRegistry",
  "LoanRegistry",
  "RepaymentSplitter",
  "CollateralRegistry",
  "CreditInsurance",
  "RiskReserveFund",
  "LossWaterfall",
] as const;
export type SuiteContract = (typeof SUITE_CONTRACTS)[number];
// The names are spelled out for their types; the suite's table decides which contracts an export holds.
{
  const exported = SUITE_KEYS.filter((key) => SUITE[key].exported).map((key) => SUITE[key].name);
  if (exported.join() !== SUITE_CONTRACTS.join())
    throw new Error(
      `SUITE_CONTRACTS (${SUITE_CONTRACTS.join()}) is not the suite's exported contracts (${exported.join()})`,
    );
}
export type SuiteAddresses = Record<SuiteContract, string>;

/** What a report covers, and where its bounds come from. */
export interface AuditScope {
  /** The block the ledger is as of. */
  block: BlockRef | null;
  /** The first block read. */
  fromBlock: number | null;
  /**
   * "chain": the block the first of the suite's contracts was created in, found on the chain ("genesis" when the node
   * keeps no state to find it, so everything from block 0 was read); "setting": the reader's configured first block;
   * "export": the manifest's, proven by nothing.
   */
  fromBlockSource: "chain" | "genesis" | "setting" | "export";
  contracts: Partial<Record<SuiteContract, string>>;
  /** "deployment": the auditor's configured deployment; "chain": read from the chain, starting at the loan registry the
   * manifest names; "export": the manifest's, proven by nothing. */
  contractsSource: "deployment" | "chain" | "export";
}

/** One export file: whether the chain vouched for it, and how. */
export interface FileStatement {
  file: string;
  source: "chain" | "export";
  /** The block the chain was read at to prove the file. */
  provenAt: BlockRef | null;
  /** The first block of that reading. */
  fromBlock: number | null;
  /** The file's records (lines), as read. */
  records: number;
  /** Records that differ from the chain's, are not on it, or are left out. */
  differences: number;
  how: string;
}
