import {
  AbiCoder,
  keccak256,
  toBeHex,
  type ContractRunner,
  type ContractTransactionReceipt,
  type Log,
  type Result,
} from "ethers";
import { LoanRegistry__factory, type LoanRegistry } from "../../typechain-types/index.js";
import type { LoanTermsStruct } from "../../typechain-types/LoanRegistry.js";
import { decodeRevertData, LoanLedgerError, type ContractError } from "./errors.js";
import { replayHeads, type LoanFact } from "./history.js";
import {
  toAddress,
  toBorrowerRef,
  toHash32,
  toLoanId,
  type Address,
  type BorrowerRef,
  type Hash32,
  type LoanId,
} from "./ids.js";
import { read, transact } from "./transact.js";
import type {
  AlliancePolicy,
  BorrowerExposure,
  CreditEvent,
  Loan,
  LossRecord,
  LoanState,
  LoanStatus,
  LoanTerms,
  PaymentDue,
  ScheduleKind,
} from "./types.js";

const TERMS_TUPLE =
  "tuple(address platform, bytes32 borrowerRef, bytes32 documentHash, bytes32 platformRef, uint128 principal, " +
  "uint16 annualRateBps, uint8 scheduleKind, uint16 installments, uint32 period, uint32 gracePeriod, " +
  "uint16 lateFeeBps, uint32 defaultThreshold, uint40 fundingDeadline)";

/** The id the registry gives `terms`: keccak256 of their ABI encoding. */
export function loanIdOf(terms: LoanTerms): LoanId {
  return toLoanId(BigInt(keccak256(AbiCoder.defaultAbiCoder().encode([TERMS_TUPLE], [toStruct(terms)]))));
}

/** The terms as the contracts take them. */
export function toStruct(terms: LoanTerms): LoanTermsStruct {
  return { ...terms };
}

interface TermsResult {
  platform: string;
  borrowerRef: string;
  documentHash: string;
  platformRef: string;
  principal: bigint;
  annualRateBps: bigint;
  scheduleKind: bigint;
  installments: bigint;
  period: bigint;
  gracePeriod: bigint;
  lateFeeBps: bigint;
  defaultThreshold: bigint;
  fundingDeadline: bigint;
}

function fromStruct(t: TermsResult): LoanTerms {
  return {
    platform: toAddress(t.platform),
    borrowerRef: toBorrowerRef(t.borrowerRef),
    documentHash: toHash32(t.documentHash),
    platformRef: toHash32(t.platformRef),
    principal: t.principal,
    annualRateBps: Number(t.annualRateBps),
    scheduleKind: Number(t.scheduleKind) as ScheduleKind,
    installments: Number(t.installments),
    period: Number(t.period),
    gracePeriod: Number(t.gracePeriod),
    lateFeeBps: Number(t.lateFeeBps),
    defaultThreshold: Number(t.defaultThreshold),
    fundingDeadline: Number(t.fundingDeadline),
  };
}

/** One entry of a loan's history, with where it is on chain and the head it produced. */
export interface HistoryEntry {
  fact: LoanFact;
  blockNumber: number;
  transactionHash: Hash32;
  logIndex: number;
  /** The head the event carries. */
  head: Hash32;
  /** The head recomputed from the genesis head and every fact up to this one. */
  replayedHead: Hash32;
}

export interface LoanHistory {
  loanId: LoanId;
  entries: HistoryEntry[];
  onChainHead: Hash32;
  /** True when every event's head equals the replayed head and the last one equals the on-chain head. */
  verified: boolean;
}

/** The registry events that record history facts (each carries the new head). */
export const HISTORY_EVENTS = [
  "LoanAnchored",
  "LoanStatusChanged",
  "RepaymentRecorded",
  "LoanDocumentAmended",
  "LoanHistoryExtended",
  "LoanServicingDelegated",
  "LoanServicerChanged",
  "LossRecorded",
] as const;

/** Typed access to the LoanRegistry. Methods that act on a loan take its id and look its terms up on chain. */
export class LoanRegistryClient {
  readonly contract: LoanRegistry;
  private readonly termsCache = new Map<LoanId, LoanTerms>();

  /** @param fromBlock the registry's deployment block, where event searches start. */
  constructor(
    address: string,
    runner: ContractRunner,
    private readonly fromBlock = 0,
  ) {
    this.contract = LoanRegistry__factory.connect(address, runner);
  }

  get address(): Address {
    return toAddress(this.contract.target as string);
  }

  /** Anchors one loan and returns its id. */
  async anchor(terms: LoanTerms): Promise<{ loanId: LoanId; receipt: ContractTransactionReceipt }> {
    const receipt = await transact(() => this.contract.anchorLoan(toStruct(terms)));
    const [loanId] = this.anchoredIds(receipt);
    this.termsCache.set(loanId, terms);
    return { loanId, receipt };
  }

  /** Anchors a loan book atomically; a bad item rejects the whole batch with the item's index and reason. */
  async anchorBatch(terms: readonly LoanTerms[]): Promise<{ loanIds: LoanId[]; receipt: ContractTransactionReceipt }> {
    const receipt = await transact(() => this.contract.anchorLoans(terms.map(toStruct)));
    const loanIds = this.anchoredIds(receipt);
    loanIds.forEach((id, i) => this.termsCache.set(id, terms[i]));
    return { loanIds, receipt };
  }

  /** The error anchoring `terms` by `caller` would raise now, or undefined if it would succeed. */
  async previewAnchor(caller: Address, terms: LoanTerms): Promise<ContractError | undefined> {
    const reason = await read(() => this.contract.previewAnchor(caller, toStruct(terms)));
    if (reason === "0x") return undefined;
    const decoded = decodeRevertData(reason);
    if (!decoded) throw new LoanLedgerError(`unrecognised validation result ${reason}`);
    return decoded;
  }

  activate(loanId: LoanId) {
    return this.act(loanId, (t) => this.contract.activateLoan(t));
  }
  cancel(loanId: LoanId) {
    return this.act(loanId, (t) => this.contract.cancelLoan(t));
  }
  markLate(loanId: LoanId) {
    return this.act(loanId, (t) => this.contract.markLate(t));
  }
  markDefaulted(loanId: LoanId) {
    return this.act(loanId, (t) => this.contract.markDefaulted(t));
  }
  markRecovered(loanId: LoanId) {
    return this.act(loanId, (t) => this.contract.markRecovered(t));
  }
  writeOff(loanId: LoanId) {
    return this.act(loanId, (t) => this.contract.writeOff(t));
  }
  recordRepayment(loanId: LoanId, amount: bigint) {
    return this.act(loanId, (t) => this.contract.recordRepayment(t, amount));
  }
  amendDocument(loanId: LoanId, documentHash: Hash32) {
    return this.act(loanId, (t) => this.contract.amendDocument(t, documentHash));
  }

  /** Sets the alliance's exposure limits and public-default delay (governance). */
  setAlliancePolicy(policy: AlliancePolicy): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.setAlliancePolicy(policy));
  }

  async alliancePolicy(): Promise<AlliancePolicy> {
    const p = await read(() => this.contract.alliancePolicy());
    return {
      maxOpenLoans: Number(p.maxOpenLoans),
      maxOutstandingPrincipal: p.maxOutstandingPrincipal,
      publicDefaultDelay: Number(p.publicDefaultDelay),
    };
  }

  /** The loss recorded when the loan defaulted (zero amounts if it did not). */
  async lossOf(loanId: LoanId): Promise<LossRecord> {
    const l = await read(() => this.contract.lossOf(loanId));
    return { principal: l.principal, interest: l.interest };
  }

  /** The anchored terms of `loanId`, from its `LoanAnchored` event. */
  async terms(loanId: LoanId): Promise<LoanTerms> {
    const cached = this.termsCache.get(loanId);
    if (cached) return cached;
    const events = await read(() =>
      this.contract.queryFilter(this.contract.filters.LoanAnchored(loanId), this.fromBlock),
    );
    if (events.length === 0) throw new LoanLedgerError(`loan ${toBeHex(loanId, 32)} was never anchored`);
    const terms = fromStruct(events[0].args.terms as unknown as TermsResult);
    this.termsCache.set(loanId, terms);
    return terms;
  }

  async state(loanId: LoanId): Promise<LoanState> {
    const s = await read(() => this.contract.loanState(loanId));
    return {
      status: Number(s.status) as LoanStatus,
      installmentsPaid: Number(s.installmentsPaid),
      documentVersion: Number(s.documentVersion),
      activatedAt: Number(s.activatedAt),
      statusSince: Number(s.statusSince),
      outstandingPrincipal: s.outstandingPrincipal,
      servicingDelegated: s.servicingDelegated,
      handedOver: s.handedOver,
    };
  }

  /** The loan's servicer: the successor it was handed over to, or its originating platform. */
  async servicerOf(loanId: LoanId): Promise<Address> {
    const terms = await this.terms(loanId);
    return toAddress(await read(() => this.contract.servicerOf(toStruct(terms))));
  }

  /** Governance: names `successor` to take over every loan of the suspended or expelled `platform`. */
  appointSuccessor(platform: Address, successor: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.appointSuccessor(platform, successor));
  }

  /** Hands each loan over to the successor appointed for its platform (anyone may send it). */
  async takeOverLoans(loanIds: readonly LoanId[]): Promise<ContractTransactionReceipt> {
    const terms = await Promise.all(loanIds.map((id) => this.terms(id)));
    return transact(() => this.contract.takeOverLoans(terms.map(toStruct)));
  }

  /** Governance: hands these loans over to `successor`, whatever their platform's standing. */
  async transferServicing(loanIds: readonly LoanId[], successor: Address): Promise<ContractTransactionReceipt> {
    const terms = await Promise.all(loanIds.map((id) => this.terms(id)));
    return transact(() => this.contract.transferServicing(terms.map(toStruct), successor));
  }

  /** Every loan `platform` anchored, in order. */
  async loansOf(platform: Address): Promise<LoanId[]> {
    const events = await read(() =>
      this.contract.queryFilter(this.contract.filters.LoanAnchored(undefined, platform), this.fromBlock),
    );
    return events.map((e) => toLoanId(e.args.loanId));
  }

  async loan(loanId: LoanId): Promise<Loan> {
    const [terms, state, head] = await Promise.all([
      this.terms(loanId),
      this.state(loanId),
      read(() => this.contract.historyHead(loanId)),
    ]);
    return { id: loanId, terms, state, head: toHash32(head) };
  }

  async nextPayment(loanId: LoanId): Promise<PaymentDue> {
    const terms = await this.terms(loanId);
    const due = await read(() => this.contract.nextPayment(toStruct(terms)));
    return {
      installment: Number(due.installment),
      dueDate: Number(due.dueDate),
      principal: due.principal,
      interest: due.interest,
      lateInterest: due.lateInterest,
    };
  }

  /** Every credit event of `borrowerRef`, on every platform, in chain order. */
  async creditEvents(
    borrowerRef: BorrowerRef,
  ): Promise<{ loanId: LoanId; platform: Address; kind: CreditEvent; at: number }[]> {
    const events = await read(() =>
      this.contract.queryFilter(this.contract.filters.CreditEventRecorded(borrowerRef), this.fromBlock),
    );
    // Read the fields as a plain object: on the Result array, `at` would be Array.prototype.at.
    return events.map((e) => {
      const a = (e.args as unknown as Result).toObject();
      return {
        loanId: toLoanId(a.loanId),
        platform: toAddress(a.platform),
        kind: Number(a.kind) as CreditEvent,
        at: Number(a.at),
      };
    });
  }

  async exposure(borrowerRef: BorrowerRef): Promise<BorrowerExposure> {
    const e = await read(() => this.contract.exposureOf(borrowerRef));
    return {
      outstandingPrincipal: e.outstandingPrincipal,
      openLoans: Number(e.openLoans),
      lateEvents: Number(e.lateEvents),
      curedEvents: Number(e.curedEvents),
      defaultEvents: Number(e.defaultEvents),
      writeOffEvents: Number(e.writeOffEvents),
    };
  }

  /** Rebuilds the loan's history from its events and checks it against the on-chain head. */
  async history(loanId: LoanId): Promise<LoanHistory> {
    const iface = this.contract.interface;
    const runner = this.contract.runner;
    const provider = runner?.provider;
    if (!provider) throw new LoanLedgerError("the client's runner has no provider to read events from");
    const topics = HISTORY_EVENTS.map((name) => iface.getEvent(name).topicHash);
    const [logs, onChainHead] = await Promise.all([
      read(() =>
        provider.getLogs({
          address: this.contract.target as string,
          fromBlock: this.fromBlock,
          toBlock: "latest",
          topics: [topics, toBeHex(loanId, 32)],
        }),
      ),
      read(() => this.contract.historyHead(loanId)),
    ]);
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const parsed = logs.map((log) => this.parseHistoryLog(log));
    const replayed = replayHeads(
      loanId,
      parsed.map((p) => p.fact),
    );
    const entries = parsed.map((p, i) => ({ ...p, replayedHead: replayed[i] }));
    const head = toHash32(onChainHead);
    const verified =
      entries.length > 0 && entries.every((e) => e.head === e.replayedHead) && entries.at(-1)?.replayedHead === head;
    return { loanId, entries, onChainHead: head, verified };
  }

  /** One history event of the registry as a history entry (without its replayed head). */
  parseHistoryLog(log: Log): Omit<HistoryEntry, "replayedHead"> & { loanId: LoanId; terms?: LoanTerms } {
    const parsed = this.contract.interface.parseLog(log);
    if (!parsed) throw new LoanLedgerError(`unrecognised log ${log.transactionHash}:${log.index}`);
    // Result is an Array, so names like `at` would resolve to Array methods: read the fields as a plain object.
    const a = parsed.args.toObject();
    let fact: LoanFact;
    switch (parsed.name) {
      case "LoanAnchored":
        fact = { kind: "Anchored", at: Number(a.at) };
        break;
      case "LoanStatusChanged":
        fact = {
          kind: "StatusChanged",
          from: Number(a.from) as LoanStatus,
          to: Number(a.to) as LoanStatus,
          at: Number(a.at),
        };
        break;
      case "RepaymentRecorded":
        fact = {
          kind: "RepaymentRecorded",
          installment: Number(a.installment),
          amount: a.amount,
          lateInterest: a.lateInterest,
          interest: a.interest,
          principal: a.principal,
          prepayment: a.prepayment,
          outstandingAfter: a.outstandingAfter,
          at: Number(a.at),
        };
        break;
      case "LoanDocumentAmended":
        fact = {
          kind: "DocumentAmended",
          version: Number(a.version),
          documentHash: toHash32(a.documentHash),
          at: Number(a.at),
        };
        break;
      case "LoanHistoryExtended":
        fact = { kind: "External", source: toAddress(a.source), factHash: toHash32(a.factHash), at: Number(a.at) };
        break;
      case "LossRecorded":
        fact = { kind: "LossRecorded", principal: a.principal, interest: a.interest, at: Number(a.at) };
        break;
      case "LoanServicingDelegated":
        fact = { kind: "ServicingDelegated", servicer: toAddress(a.servicer), at: Number(a.at) };
        break;
      case "LoanServicerChanged":
        fact = { kind: "ServicerChanged", from: toAddress(a.from), to: toAddress(a.to), at: Number(a.at) };
        break;
      default:
        throw new LoanLedgerError(`unexpected event ${parsed.name}`);
    }
    return {
      loanId: toLoanId(a.loanId as bigint),
      ...(parsed.name === "LoanAnchored" ? { terms: fromStruct(a.terms as TermsResult) } : {}),
      fact,
      blockNumber: log.blockNumber,
      transactionHash: toHash32(log.transactionHash),
      logIndex: log.index,
      head: toHash32(a.head),
    };
  }

  private anchoredIds(receipt: ContractTransactionReceipt): LoanId[] {
    const topic = this.contract.interface.getEvent("LoanAnchored").topicHash;
    return receipt.logs.filter((log) => log.topics[0] === topic).map((log) => toLoanId(BigInt(log.topics[1])));
  }

  private async act(
    loanId: LoanId,
    send: (terms: LoanTermsStruct) => ReturnType<LoanRegistry["activateLoan"]>,
  ): Promise<ContractTransactionReceipt> {
    const terms = await this.terms(loanId);
    return transact(() => send(toStruct(terms)));
  }
}
