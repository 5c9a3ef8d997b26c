import { keccak256, toUtf8Bytes, ZeroHash, type ContractRunner, type ContractTransactionReceipt } from "ethers";
import {
  CustodyDepositToken__factory,
  ICustodyAccounts__factory,
  type CustodyDepositToken,
} from "../../typechain-types/index.js";
import { LoanLedgerError } from "./errors.js";
import { toAddress, toHash32, type Address, type Hash32 } from "./ids.js";
import { isTransient, LedgerReader, type LedgerReadOptions } from "./ledger.js";
import { read, transact } from "./transact.js";

/** The custody token's name in an audit export's and an index's records. */
export const CUSTODY_CONTRACT = "CustodyDepositToken";

/** The token's events that are custody facts: every one but the ERC-20 transfers and approvals. */
export const CUSTODY_EVENTS = [
  "Issued",
  "Redeemed",
  "WithdrawalRequested",
  "WithdrawalReturned",
  "AccountRegistered",
  "AccountClosed",
  "CustodyAccountSet",
] as const;

/** No bank payment behind a movement: a repayment paid from tokens already held on the ledger. */
export const NO_BANK_REF = ZeroHash as Hash32;

/** ISO 20022's `Max35Text`, the end-to-end id's type; a UETR is a UUID (RFC 4122, any version). */
const MAX_END_TO_END = 35;
const UETR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The ledger's reference of a bank payment: keccak256 of its ISO 20022 end-to-end id (as written, trimmed) or of its
 * UETR (lower case, since a UUID's case carries nothing). The id itself never goes on chain: it may name the payer.
 */
export function bankReference(endToEndId: string): Hash32 {
  const id = endToEndId.trim();
  if (UETR.test(id)) return toHash32(keccak256(toUtf8Bytes(id.toLowerCase())));
  if (id === "" || id === "NOTPROVIDED" || id.length > MAX_END_TO_END) {
    throw new LoanLedgerError(
      `"${endToEndId}" is no end-to-end id: the bank's payment needs one of 1 to ${MAX_END_TO_END} characters, or a UETR`,
    );
  }
  return toHash32(keccak256(toUtf8Bytes(id)));
}

/** How the ledger names a bank's custody account: keccak256 of its id (IBAN or the bank's id) as statements write it. */
export function custodyAccountHash(accountId: string): Hash32 {
  const id = accountId.trim();
  if (id === "") throw new LoanLedgerError("a custody account needs its id (IBAN or the bank's id)");
  return toHash32(keccak256(toUtf8Bytes(id)));
}

/** A movement of money across the ledger's edge: tokens issued against a credit, or redeemed against a payment. */
export interface CustodyMovement {
  kind: "issue" | "redeem";
  bank: Address;
  /** Who received the issued tokens, or whose withdrawal was redeemed. */
  account: Address;
  amount: bigint;
  bankRef: Hash32;
  /** The redeemed withdrawal's id. */
  withdrawal?: bigint;
  block: number;
  logIndex: number;
  /** The block's time, in seconds. */
  time: number;
  transaction: string;
}

export interface BankAccountInfo {
  bank: Address;
  registeredAt: number;
  accountRef: Hash32;
}

const WITHDRAWAL_STATUS = ["None", "Requested", "Redeemed", "Returned"] as const;
export type WithdrawalStatusName = (typeof WITHDRAWAL_STATUS)[number];

export interface WithdrawalInfo {
  id: bigint;
  holder: Address;
  bank: Address;
  amount: bigint;
  accountRef: Hash32;
  requestedAt: number;
  returnableAt: number;
  status: WithdrawalStatusName;
}

/** Typed access to the custody bank's deposit token: issues, redemptions, the account register. */
export class CustodyClient {
  readonly contract: CustodyDepositToken;

  constructor(
    address: string,
    runner: ContractRunner,
    private readonly fromBlock = 0,
    private readonly readOptions: LedgerReadOptions = {},
  ) {
    this.contract = CustodyDepositToken__factory.connect(address, runner);
  }

  /** Whether the token answers for the custody account register (ERC-165): a custody deposit token does. */
  async isCustodyToken(): Promise<boolean> {
    const selectors: bigint[] = [];
    ICustodyAccounts__factory.createInterface().forEachFunction((f) => selectors.push(BigInt(f.selector)));
    const interfaceId = `0x${selectors
      .reduce((a, b) => a ^ b, 0n)
      .toString(16)
      .padStart(8, "0")}`;
    try {
      return await this.contract.supportsInterface(interfaceId);
    } catch (error) {
      // A token without ERC-165 reverts (or returns nothing): it is no custody token. A node that failed for the
      // while is no answer, and a caller that retries must see it.
      if (isTransient(error)) throw error;
      return false;
    }
  }

  /** Issues `amount` to `to` against the custody-account credit of end-to-end id `endToEndId`. A custody bank only. */
  issue(to: Address, amount: bigint, endToEndId: string): Promise<ContractTransactionReceipt> {
    const ref = bankReference(endToEndId);
    return transact(() => this.contract.issue(to, amount, ref));
  }

  /** Redeems withdrawal `id` against the bank's payment of end-to-end id `endToEndId`. Its bank only. */
  redeem(id: bigint, endToEndId: string): Promise<ContractTransactionReceipt> {
    const ref = bankReference(endToEndId);
    return transact(() => this.contract.redeem(id, ref));
  }

  returnWithdrawal(id: bigint, reason: Hash32): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.returnWithdrawal(id, reason));
  }

  registerAccount(account: Address, accountRef: Hash32): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.registerAccount(account, accountRef));
  }

  /** Declares the custody account (its id as statements write it) the signing bank keeps the ledger's money in. */
  setCustodyAccount(accountId: string): Promise<ContractTransactionReceipt> {
    const hash = custodyAccountHash(accountId);
    return transact(() => this.contract.setCustodyAccount(hash));
  }

  /** The custody bank that declared custody account `accountId`, if any. */
  async bankOfCustodyAccount(accountId: string): Promise<Address | undefined> {
    const bank = await read(() => this.contract.bankOfCustodyAccount(custodyAccountHash(accountId)));
    return BigInt(bank) === 0n ? undefined : toAddress(bank);
  }

  closeAccount(account: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.closeAccount(account));
  }

  /** Asks for `amount` to be paid to the signer's registered bank account; returns the withdrawal's id. */
  async requestWithdrawal(amount: bigint): Promise<{ id: bigint; receipt: ContractTransactionReceipt }> {
    const receipt = await transact(() => this.contract.requestWithdrawal(amount));
    for (const log of receipt.logs) {
      const parsed = this.contract.interface.parseLog(log);
      if (parsed?.name === "WithdrawalRequested") return { id: parsed.args.id as bigint, receipt };
    }
    throw new LoanLedgerError(`withdrawal ${receipt.hash} emitted no WithdrawalRequested`);
  }

  reclaimWithdrawal(id: bigint): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.reclaimWithdrawal(id));
  }

  async accountOf(account: Address): Promise<BankAccountInfo | undefined> {
    const a = await read(() => this.contract.accountOf(account));
    if (BigInt(a.bank) === 0n) return undefined;
    return { bank: toAddress(a.bank), registeredAt: Number(a.registeredAt), accountRef: toHash32(a.accountRef) };
  }

  async withdrawal(id: bigint): Promise<WithdrawalInfo> {
    const w = await read(() => this.contract.withdrawalOf(id));
    return {
      id,
      holder: toAddress(w.holder),
      bank: toAddress(w.bank),
      amount: w.amount,
      accountRef: toHash32(w.accountRef),
      requestedAt: Number(w.requestedAt),
      returnableAt: Number(w.returnableAt),
      status: WITHDRAWAL_STATUS[Number(w.status)],
    };
  }

  /** What `bank` holds for the ledger (issued less redeemed), at `blockTag` (default: latest). */
  outstandingOf(bank: Address, blockTag?: number): Promise<bigint> {
    return read(() => this.contract.outstandingOf(bank, { blockTag }));
  }

  /** The token's supply at `blockTag` (default: latest). */
  totalSupply(blockTag?: number): Promise<bigint> {
    return read(() => this.contract.totalSupply({ blockTag }));
  }

  /**
   * Every issue and redemption from the deployment's first block to `toBlock` (default: latest), in chain order, read
   * at that block, each with its block's time.
   */
  async movements(toBlock?: number): Promise<CustodyMovement[]> {
    const provider = this.contract.runner?.provider;
    if (!provider) throw new LoanLedgerError("the custody token has no provider to read from");
    const reader = await LedgerReader.pin(provider, { ...this.readOptions, at: toBlock, fromBlock: this.fromBlock });
    const [issued, redeemed] = await Promise.all([
      reader.events(this.contract, this.contract.filters.Issued()),
      reader.events(this.contract, this.contract.filters.Redeemed()),
    ]);
    const movements: CustodyMovement[] = [
      ...issued.map((e) => ({
        kind: "issue" as const,
        bank: toAddress(e.args.bank),
        account: toAddress(e.args.to),
        amount: e.args.amount,
        bankRef: toHash32(e.args.bankRef),
        block: e.blockNumber,
        logIndex: e.index,
        time: 0,
        transaction: e.transactionHash,
      })),
      ...redeemed.map((e) => ({
        kind: "redeem" as const,
        bank: toAddress(e.args.bank),
        account: toAddress(e.args.holder),
        amount: e.args.amount,
        bankRef: toHash32(e.args.bankRef),
        withdrawal: e.args.id,
        block: e.blockNumber,
        logIndex: e.index,
        time: 0,
        transaction: e.transactionHash,
      })),
    ];
    movements.sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
    for (const m of movements) m.time = await reader.timestamp(m.block);
    return movements;
  }
}
