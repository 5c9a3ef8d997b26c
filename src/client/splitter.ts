import type { ContractRunner, ContractTransactionReceipt } from "ethers";
import {
  RepaymentSplitter__factory,
  type RepaymentSplitter,
  type SettlementToken,
} from "../../typechain-types/index.js";
import { LoanLedgerError } from "./errors.js";
import { NO_BANK_REF } from "./custody.js";
import { toAddress, toLoanId, type Address, type Hash32, type LoanId } from "./ids.js";
import { toStruct, type LoanRegistryClient } from "./loans.js";
import { queryEvents } from "./ledger.js";
import { settlementToken, signerAddress, transactPulling } from "./token.js";
import { read, transact } from "./transact.js";
import type { FundingConfig, FundingPhase, LenderPosition, LoanBook, Split } from "./types.js";

/** Lenders per pushed payout transaction: about 15 000 gas each keeps a batch near 3M gas. */
export const PAYOUT_BATCH = 200;

/** A Split from the contract's result (a typed array, read by name). */
function toSplit(s: Split): Split {
  return {
    lateInterest: s.lateInterest,
    platformFee: s.platformFee,
    premium: s.premium,
    reserve: s.reserve,
    interest: s.interest,
    principal: s.principal,
    prepayment: s.prepayment,
  };
}

/** The sum of a split: what the payer paid. */
export function splitTotal(s: Split): bigint {
  return s.lateInterest + s.platformFee + s.premium + s.reserve + s.interest + s.principal + s.prepayment;
}

/** The result of pushing payouts to a loan's lenders. */
export interface PayoutResult {
  loanId: LoanId;
  paid: bigint;
  /** Lenders whose transfer failed; their payouts stay claimable. */
  skipped: Address[];
  receipts: ContractTransactionReceipt[];
}

/**
 * Typed access to the RepaymentSplitter: funding, repayments, payouts, claims and share transfers. Actions on a loan
 * take its id and look its terms up through the loan registry client; token approvals are given as needed.
 */
export class SplitterClient {
  readonly contract: RepaymentSplitter;
  private tokenContract: SettlementToken | undefined;

  /** @param fromBlock the splitter's deployment block, where event searches start. */
  constructor(
    address: string,
    private readonly runner: ContractRunner,
    private readonly loans: LoanRegistryClient,
    private readonly fromBlock = 0,
  ) {
    this.contract = RepaymentSplitter__factory.connect(address, runner);
  }

  get address(): Address {
    return toAddress(this.contract.target as string);
  }

  /** The settlement token (an ERC-20; only its standard functions are used). */
  async token(): Promise<SettlementToken> {
    this.tokenContract ??= settlementToken(await read(() => this.contract.TOKEN()), this.runner);
    return this.tokenContract;
  }

  async openFunding(loanId: LoanId, config: FundingConfig): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(loanId));
    return transact(() => this.contract.openFunding(terms, config));
  }

  async fund(loanId: LoanId, amount: bigint): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(loanId));
    const { receipt } = await transactPulling(this.contract, {
      simulate: () => this.contract.fund.staticCall(terms, amount),
      send: () => this.contract.fund(terms, amount),
      limit: amount,
    });
    return receipt;
  }

  async cancelFunding(loanId: LoanId): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(loanId));
    return transact(() => this.contract.cancelFunding(terms));
  }

  /** The next installment with its fees, as of the latest block; `total` is the least a repayment must be. */
  async amountDue(loanId: LoanId): Promise<{ due: Split; total: bigint }> {
    const terms = toStruct(await this.loans.terms(loanId));
    const [due, total] = await read(() => this.contract.amountDue(terms));
    return { due: toSplit(due), total };
  }

  /**
   * Pays `amount` (by default exactly what is due now) and returns how it was split. `bankRef` names the custody bank's
   * payment that brought the money to the ledger (see `bankReference` in custody.ts); none when paid from tokens held.
   */
  async repay(
    loanId: LoanId,
    amount?: bigint,
    bankRef: Hash32 = NO_BANK_REF,
  ): Promise<{ split: Split; installment: number; amount: bigint; receipt: ContractTransactionReceipt }> {
    const terms = toStruct(await this.loans.terms(loanId));
    const paying = amount ?? (await this.amountDue(loanId)).total;
    const { receipt } = await transactPulling(this.contract, {
      simulate: () => this.contract.repayLoan.staticCall(terms, paying, bankRef),
      send: () => this.contract.repayLoan(terms, paying, bankRef),
      limit: paying,
    });
    const event = this.events(receipt, "RepaymentSplit")[0];
    if (!event) throw new LoanLedgerError(`repayment ${receipt.hash} emitted no RepaymentSplit`);
    return {
      split: toSplit(event.split as Split),
      installment: Number(event.installment),
      amount: paying,
      receipt,
    };
  }

  /**
   * Pushes what the loan owes to `lenders` (by default every lender owed something), in batches. Lenders whose
   * transfer fails are reported as skipped; their payouts stay claimable.
   */
  async payout(loanId: LoanId, lenders?: readonly Address[]): Promise<PayoutResult> {
    const targets = lenders ?? (await this.owedLenders(loanId));
    const result: PayoutResult = { loanId, paid: 0n, skipped: [], receipts: [] };
    for (let i = 0; i < targets.length; i += PAYOUT_BATCH) {
      const batch = targets.slice(i, i + PAYOUT_BATCH);
      const receipt = await transact(() => this.contract.payout(loanId, batch));
      result.receipts.push(receipt);
      for (const e of this.events(receipt, "PayoutsPushed")) result.paid += e.paid as bigint;
      for (const e of this.events(receipt, "PayoutSkipped")) result.skipped.push(toAddress(e.lender as string));
    }
    return result;
  }

  /** Claims the caller's payouts from `loanIds` in one transfer to `to` (by default the caller). */
  async claim(
    loanIds: readonly LoanId[],
    to?: Address,
  ): Promise<{ amount: bigint; receipt: ContractTransactionReceipt }> {
    const recipient = to ?? (await this.signerAddress());
    const amount = await read(() => this.contract.claim.staticCall([...loanIds], recipient));
    const receipt = await transact(() => this.contract.claim([...loanIds], recipient));
    return { amount, receipt };
  }

  transferShare(loanId: LoanId, to: Address, shares: bigint): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.transferShare(loanId, to, shares));
  }

  async withdrawFees(to?: Address): Promise<{ amount: bigint; receipt: ContractTransactionReceipt }> {
    const recipient = to ?? (await this.signerAddress());
    const amount = await read(() => this.contract.withdrawFees.staticCall(recipient));
    const receipt = await transact(() => this.contract.withdrawFees(recipient));
    return { amount, receipt };
  }

  async book(loanId: LoanId): Promise<LoanBook> {
    const b = await read(() => this.contract.bookOf(loanId));
    return {
      phase: Number(b.phase) as FundingPhase,
      insurer: toAddress(b.insurer),
      platformFeeBps: Number(b.platformFeeBps),
      premiumBps: Number(b.premiumBps),
      reserveBps: Number(b.reserveBps),
      borrowerPayout: toAddress(b.borrowerPayout),
      committed: b.committed,
      lendersIn: b.lendersIn,
      lendersPaid: b.lendersPaid,
      openPositions: Number(b.openPositions),
    };
  }

  /** Every account that ever held a share of the loan, read page by page. */
  async lenders(loanId: LoanId, pageSize = 500): Promise<Address[]> {
    const count = Number(await read(() => this.contract.lenderCount(loanId)));
    const pages = [];
    for (let offset = 0; offset < count; offset += pageSize) {
      pages.push(read(() => this.contract.lendersOf(loanId, offset, pageSize)));
    }
    return (await Promise.all(pages)).flat().map(toAddress);
  }

  async position(loanId: LoanId, lender: Address): Promise<LenderPosition> {
    const [p, owed] = await Promise.all([
      read(() => this.contract.positionOf(loanId, lender)),
      read(() => this.contract.owedTo(loanId, lender)),
    ]);
    return { loanId, lender, shares: p.shares, owed, open: p.shares !== 0n || p.debt !== 0n };
  }

  /** Every loan in which `lender` holds or held a share, with its shares and what it is owed now. */
  async positionsOf(lender: Address): Promise<LenderPosition[]> {
    const [committed, bought] = await Promise.all([
      queryEvents(this.contract, this.contract.filters.Committed(undefined, lender), this.fromBlock),
      queryEvents(this.contract, this.contract.filters.ShareTransferred(undefined, undefined, lender), this.fromBlock),
    ]);
    const loanIds = [...new Set([...committed, ...bought].map((e) => toLoanId(e.args.loanId)))];
    return Promise.all(loanIds.map((loanId) => this.position(loanId, lender)));
  }

  /**
   * What `lender` received from each loan so far: its claims, and the payouts pushed to it (the splitter's transfers to
   * it in a payout transaction, which names its loan).
   */
  async receivedBy(lender: Address): Promise<Map<LoanId, bigint>> {
    const token = await this.token();
    const [claimed, pushed, transfers] = await Promise.all([
      queryEvents(this.contract, this.contract.filters.Claimed(undefined, lender), this.fromBlock),
      queryEvents(this.contract, this.contract.filters.PayoutsPushed(), this.fromBlock),
      queryEvents(token, token.filters.Transfer(this.contract.target as string, lender), this.fromBlock),
    ]);
    const received = new Map<LoanId, bigint>();
    const add = (loanId: LoanId, amount: bigint) => received.set(loanId, (received.get(loanId) ?? 0n) + amount);
    for (const e of claimed) add(toLoanId(e.args.loanId), e.args.amount);
    const payoutOf = new Map(pushed.map((e) => [e.transactionHash, toLoanId(e.args.loanId)]));
    for (const e of transfers) {
      const loanId = payoutOf.get(e.transactionHash);
      if (loanId !== undefined) add(loanId, e.args.value);
    }
    return received;
  }

  async feesOwed(payee: Address): Promise<bigint> {
    return read(() => this.contract.feesOwed(payee));
  }

  /** Risk-reserve contributions accrued on `platform`'s loans, not yet collected by the reserve fund. */
  async reserveOwed(platform: Address): Promise<bigint> {
    return read(() => this.contract.reserveOwed(platform));
  }

  /** The loan's lenders that are owed something now (or, on a closed loan, whose positions are not yet final). */
  async owedLenders(loanId: LoanId): Promise<Address[]> {
    const lenders = await this.lenders(loanId);
    const positions = await Promise.all(lenders.map((l) => this.position(loanId, l)));
    const closing = [3, 4].includes((await this.book(loanId)).phase);
    return positions.filter((p) => p.owed > 0n || (closing && p.open)).map((p) => p.lender);
  }

  /**
   * The keeper's round: every loan that received money since `fromBlock` (repayments, recoveries, or cancelled
   * funding) and still owes its lenders gets its payouts pushed.
   */
  async pushPendingPayouts(fromBlock = this.fromBlock): Promise<PayoutResult[]> {
    const [repaid, cancelled, recovered] = await Promise.all([
      queryEvents(this.contract, this.contract.filters.RepaymentSplit(), fromBlock),
      queryEvents(this.contract, this.contract.filters.FundingCancelled(), fromBlock),
      queryEvents(this.contract, this.contract.filters.RecoveryReceived(), fromBlock),
    ]);
    const loanIds = [...new Set([...repaid, ...cancelled, ...recovered].map((e) => toLoanId(e.args.loanId)))];
    const results: PayoutResult[] = [];
    for (const loanId of loanIds) {
      const owed = await this.owedLenders(loanId);
      if (owed.length > 0) results.push(await this.payout(loanId, owed));
    }
    return results;
  }

  private signerAddress(): Promise<Address> {
    return signerAddress(this.runner);
  }

  private events(receipt: ContractTransactionReceipt, name: string): Record<string, unknown>[] {
    const iface = this.contract.interface;
    const topic = iface.getEvent(name as "RepaymentSplit").topicHash;
    return receipt.logs
      .filter((log) => log.topics[0] === topic && log.address.toLowerCase() === this.address.toLowerCase())
      .map((log) => iface.parseLog(log)!.args.toObject(true));
  }
}
