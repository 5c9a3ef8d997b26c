import type { ContractRunner, ContractTransactionReceipt } from "ethers";
import {
  CreditInsurance__factory,
  LossWaterfall__factory,
  RiskReserveFund__factory,
  type CreditInsurance,
  type LossWaterfall,
  type RiskReserveFund,
} from "../../typechain-types/index.js";
import { toAddress, type Address, type LoanId } from "./ids.js";
import { toStruct, type LoanRegistryClient } from "./loans.js";
import { transactPulling } from "./token.js";
import { read, transact } from "./transact.js";

export interface PolicyInfo {
  insurer: Address;
  coverageBps: number;
  premiumBps: number;
  termEnd: number;
  status: "None" | "Active" | "Claimed" | "Released";
  maxClaim: bigint;
  claimPaid: bigint;
  reimbursed: bigint;
}

const POLICY_STATUS = ["None", "Active", "Claimed", "Released"] as const;

/** Typed access to CreditInsurance: capital, policies, claims. */
export class InsuranceClient {
  readonly contract: CreditInsurance;

  constructor(
    address: string,
    runner: ContractRunner,
    private readonly loans: LoanRegistryClient,
  ) {
    this.contract = CreditInsurance__factory.connect(address, runner);
  }

  async depositCapital(amount: bigint): Promise<ContractTransactionReceipt> {
    const { receipt } = await transactPulling(this.contract, {
      simulate: () => this.contract.depositCapital.staticCall(amount),
      send: () => this.contract.depositCapital(amount),
      limit: amount,
    });
    return receipt;
  }

  withdrawCapital(amount: bigint, to: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.withdrawCapital(amount, to));
  }

  async writePolicy(loanId: LoanId, coverageBps: number, termEnd: number): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(loanId));
    return transact(() => this.contract.writePolicy(terms, coverageBps, termEnd));
  }

  async releasePolicy(loanId: LoanId): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(loanId));
    return transact(() => this.contract.releasePolicy(terms));
  }

  async policy(loanId: LoanId): Promise<PolicyInfo> {
    const p = await read(() => this.contract.policyOf(loanId));
    return {
      insurer: toAddress(p.insurer),
      coverageBps: Number(p.coverageBps),
      premiumBps: Number(p.premiumBps),
      termEnd: Number(p.termEnd),
      status: POLICY_STATUS[Number(p.status)],
      maxClaim: p.maxClaim,
      claimPaid: p.claimPaid,
      reimbursed: p.reimbursed,
    };
  }

  async capital(insurer: Address): Promise<{ capital: bigint; locked: bigint; free: bigint }> {
    const c = await read(() => this.contract.capitalOf(insurer));
    return { capital: c.capital, locked: c.locked, free: c.capital - c.locked };
  }
}

export interface ReservePolicyInfo {
  coverageBps: number;
  capPerLoan: bigint;
  /** Contributions paid by the platform's borrowers count this many bps toward its quota; deposits count once. */
  quotaMultipleBps: number;
  /** Seconds from disbursement to default below which a loan gets no compensation. */
  minLoanAge: number;
  /** Installments a loan must have repaid before defaulting to be compensated. */
  minInstallmentsPaid: number;
}

/** Typed access to the RiskReserveFund: contributions, deposits, policy and positions. */
export class ReserveClient {
  readonly contract: RiskReserveFund;

  constructor(address: string, runner: ContractRunner) {
    this.contract = RiskReserveFund__factory.connect(address, runner);
  }

  async deposit(amount: bigint): Promise<ContractTransactionReceipt> {
    const { receipt } = await transactPulling(this.contract, {
      simulate: () => this.contract.deposit.staticCall(amount),
      send: () => this.contract.deposit(amount),
      limit: amount,
    });
    return receipt;
  }

  collect(platforms: readonly Address[]): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.collect([...platforms]));
  }

  setPolicy(policy: ReservePolicyInfo): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.setPolicy(policy));
  }

  async policy(): Promise<ReservePolicyInfo> {
    const p = await read(() => this.contract.policy());
    return {
      coverageBps: Number(p.coverageBps),
      capPerLoan: p.capPerLoan,
      quotaMultipleBps: Number(p.quotaMultipleBps),
      minLoanAge: Number(p.minLoanAge),
      minInstallmentsPaid: Number(p.minInstallmentsPaid),
    };
  }

  async position(platform: Address) {
    const [p, quota] = await Promise.all([
      read(() => this.contract.positionOf(platform)),
      read(() => this.contract.quotaRemaining(platform)),
    ]);
    return {
      contributed: p.contributed,
      deposited: p.deposited,
      compensated: p.compensated,
      reimbursed: p.reimbursed,
      quotaRemaining: quota,
    };
  }

  balance(): Promise<bigint> {
    return read(() => this.contract.balance());
  }
}

export interface LossCaseInfo {
  loss: bigint;
  recoveredBefore: bigint;
  insurerBore: bigint;
  reserveBore: bigint;
  lendersBore: bigint;
  insurerRecovered: bigint;
  reserveRecovered: bigint;
  lendersRecovered: bigint;
  settled: boolean;
}

/** Typed access to the LossWaterfall: settlement, recoveries and write-offs of defaulted loans. */
export class WaterfallClient {
  readonly contract: LossWaterfall;

  constructor(
    address: string,
    runner: ContractRunner,
    private readonly loans: LoanRegistryClient,
  ) {
    this.contract = LossWaterfall__factory.connect(address, runner);
  }

  async settle(loanId: LoanId): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(loanId));
    return transact(() => this.contract.settle(terms));
  }

  /** Pays up to `amount` recovered on the loan; only what the loss has left is taken. */
  async recover(loanId: LoanId, amount: bigint): Promise<{ taken: bigint; receipt: ContractTransactionReceipt }> {
    const terms = toStruct(await this.loans.terms(loanId));
    const { result: taken, receipt } = await transactPulling(this.contract, {
      simulate: () => this.contract.recover.staticCall(terms, amount),
      send: () => this.contract.recover(terms, amount),
      limit: amount,
    });
    return { taken, receipt };
  }

  async writeOff(loanId: LoanId): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(loanId));
    return transact(() => this.contract.writeOff(terms));
  }

  async lossCase(loanId: LoanId): Promise<LossCaseInfo> {
    const c = await read(() => this.contract.caseOf(loanId));
    return {
      loss: c.loss,
      recoveredBefore: c.recoveredBefore,
      insurerBore: c.insurerBore,
      reserveBore: c.reserveBore,
      lendersBore: c.lendersBore,
      insurerRecovered: c.insurerRecovered,
      reserveRecovered: c.reserveRecovered,
      lendersRecovered: c.lendersRecovered,
      settled: c.settled,
    };
  }
}
