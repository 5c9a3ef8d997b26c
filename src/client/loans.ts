import { decodeEvent } from "./logs.js";
import {
  dataSlice,
  keccak256,
  zeroPadValue,
  ZeroAddress,
  toBeHex,
  type ContractRunner,
  type ContractTransactionReceipt,
  type Log,
  type Result,
} from "ethers";
import {
  ILoanConsent__factory,
  ILoanSuccession__factory,
  LoanRegistry__factory,
  type ILoanConsent,
  type ILoanSuccession,
  type LoanRegistry,
} from "../../typechain-types/index.js";
import type { LoanTermsStruct } from "../../typechain-types/LoanRegistry.js";
import { NO_BANK_REF } from "./custody.js";
import { decodeRevertData, InputError, LoanLedgerError, type ContractError } from "./errors.js";
import { decodeLoanFact, HISTORY_EVENTS, type LoanFact, type WriterFact } from "./history.js";
import { LedgerReader, queryEvents } from "./ledger.js";
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
import { consentDomain, requireValidConsent, type ConsentSignatures, type ConsentSubject } from "./consent.js";
import type {
  AlliancePolicy,
  BorrowerExposure,
  Consent,
  CreditEvent,
  Loan,
  LossRecord,
  LoanState,
  LoanStatus,
  LoanTerms,
  PaymentDue,
  ScheduleKind,
} from "./types.js";

/**
 * One ABI word of `bits` bits, as 64 hex digits: an integer (a decimal string is the integer it writes, as ethers reads
 * it), or a 0x-prefixed 20- or 32-byte value.
 */
function word(value: bigint | number | string, bits: number): string {
  let hex: string | undefined;
  if (typeof value === "string" && /^0x[0-9a-fA-F]*$/.test(value)) hex = value.slice(2).toLowerCase();
  else if (typeof value === "string" && /^[0-9]+$/.test(value)) hex = BigInt(value).toString(16);
  else if (typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value)))
    hex = value < 0 ? undefined : value.toString(16);
  if (hex === undefined || hex.replace(/^0+/, "").length * 4 > bits)
    throw new RangeError(`${String(value)} does not fit ${bits} bits`);
  return hex.padStart(64, "0");
}

/**
 * `abi.encode(terms)` as hex without 0x. Every member of LoanTerms is static, so the encoding is the members' words in
 * order. Written out here because ethers' general encoder takes about half a millisecond a loan: a minute, twice, for
 * a book of 100 000 loans. A test checks it against the contract's own `loanIdOf`.
 */
export function encodeTerms(t: LoanTerms): string {
  return (
    word(t.platform, 160) +
    word(t.borrowerRef, 256) +
    word(t.documentHash, 256) +
    word(t.platformRef, 256) +
    word(t.principal, 128) +
    word(t.annualRateBps, 16) +
    word(t.scheduleKind, 8) +
    word(t.installments, 16) +
    word(t.period, 32) +
    word(t.gracePeriod, 32) +
    word(t.lateFeeBps, 16) +
    word(t.defaultThreshold, 32) +
    word(t.fundingDeadline, 40)
  );
}

/** The id the registry gives `terms`: keccak256 of their ABI encoding. */
export function loanIdOf(terms: LoanTerms): LoanId {
  return toLoanId(BigInt(keccak256("0x" + encodeTerms(terms))));
}

/** Signatures as the registry takes them. */
export function toSignatures(s: ConsentSignatures) {
  return {
    borrower: s.borrower,
    deadline: s.deadline,
    borrowerSignature: s.borrowerSignature,
  };
}

/** The calldata of `anchorLoans(terms)`: a dynamic array of static tuples, so an offset, a length, then each tuple. */
export function anchorLoansCalldata(terms: readonly LoanTerms[]): string {
  anchorLoansSelector ??= LoanRegistry__factory.createInterface().getFunction("anchorLoans").selector;
  return anchorLoansSelector + word(32, 256) + word(terms.length, 256) + terms.map(encodeTerms).join("");
}
let anchorLoansSelector: string | undefined;

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

/** A loan's state as the registry's `loanState` returns it, in the client's types (for readers that batch the call). */
export function toLoanState(s: {
  status: bigint;
  installmentsPaid: bigint;
  documentVersion: bigint;
  activatedAt: bigint;
  statusSince: bigint;
  outstandingPrincipal: bigint;
  servicingDelegated: boolean;
  handedOver: boolean;
  consent: bigint;
}): LoanState {
  return {
    status: Number(s.status) as LoanStatus,
    installmentsPaid: Number(s.installmentsPaid),
    documentVersion: Number(s.documentVersion),
    activatedAt: Number(s.activatedAt),
    statusSince: Number(s.statusSince),
    outstandingPrincipal: s.outstandingPrincipal,
    servicingDelegated: s.servicingDelegated,
    handedOver: s.handedOver,
    consent: Number(s.consent) as Consent,
  };
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
  /** For an External fact: the writer's fact it was proven to be, from the writer's events of its transaction. */
  writerFact?: WriterFact;
}

/** Where a loan was anchored, as its `LoanAnchored` event says, with the platform's reference from its terms. */
export interface AnchoredLoan {
  loanId: LoanId;
  platform: Address;
  platformRef: Hash32;
  blockNumber: number;
  transactionHash: Hash32;
  /** The event itself, for {LoanRegistryClient.termsOf}. */
  log: Log;
}

/** About how many anchoring events one log query of {LoanRegistryClient.anchoredLoans} asks for (some 5 MB of JSON). */
const ANCHORED_LOGS_PER_QUERY = 5_000;

/** Typed access to the LoanRegistry. Methods that act on a loan take its id and look its terms up on chain. */
export class LoanRegistryClient {
  readonly contract: LoanRegistry;
  /** The registry's functions that take signatures, served at the same address. */
  readonly consent: ILoanConsent;
  /** The registry's functions that hand loans to successors, served at the same address. */
  readonly succession: ILoanSuccession;
  private readonly termsCache = new Map<LoanId, LoanTerms>();

  /** @param fromBlock the registry's deployment block, where event searches start. */
  constructor(
    address: string,
    runner: ContractRunner,
    readonly fromBlock = 0,
  ) {
    this.contract = LoanRegistry__factory.connect(address, runner);
    this.consent = ILoanConsent__factory.connect(address, runner);
    this.succession = ILoanSuccession__factory.connect(address, runner);
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

  /** The EIP-712 domain of this registry on its chain: what every consent signature names. */
  async consentDomain() {
    const provider = this.contract.runner?.provider;
    if (!provider) throw new LoanLedgerError("the client's runner has no provider to read the chain id from");
    return consentDomain((await provider.getNetwork()).chainId, this.address);
  }

  /**
   * Anchors a loan book with each loan's agreement signed by its borrower and agreed by `platform`, the sender (its
   * transaction is its consent). Every signature is checked first, as the registry will check it, so that a bad one is
   * named before anything is sent.
   */
  async anchorSignedBatch(
    platform: Address,
    terms: readonly LoanTerms[],
    signatures: readonly ConsentSignatures[],
  ): Promise<{ loanIds: LoanId[]; receipt: ContractTransactionReceipt }> {
    if (terms.length !== signatures.length) {
      throw new InputError(`${terms.length} loans but ${signatures.length} borrower signatures`);
    }
    const domain = await this.consentDomain();
    const now = await this.now();
    for (const [i, t] of terms.entries()) {
      const subject: ConsentSubject = { kind: "agreement", loanId: loanIdOf(t), deadline: signatures[i].deadline };
      try {
        await requireValidConsent(
          this.contract.runner?.provider ?? undefined,
          domain,
          subject,
          signatures[i],
          platform,
          now,
        );
      } catch (error) {
        throw new InputError(`loan ${i + 1} of ${terms.length}: ${(error as Error).message}`);
      }
    }
    const receipt = await transact(() =>
      this.consent.anchorSignedLoans(terms.map(toStruct), signatures.map(toSignatures)),
    );
    const loanIds = this.anchoredIds(receipt);
    loanIds.forEach((id, i) => this.termsCache.set(id, terms[i]));
    return { loanIds, receipt };
  }

  /** Anchors one loan with its signed agreement (see {anchorSignedBatch}). */
  async anchorSigned(
    platform: Address,
    terms: LoanTerms,
    signatures: ConsentSignatures,
  ): Promise<{ loanId: LoanId; receipt: ContractTransactionReceipt }> {
    const { loanIds, receipt } = await this.anchorSignedBatch(platform, [terms], [signatures]);
    return { loanId: loanIds[0], receipt };
  }

  /** Imports a book signed on paper: each loan's history records that its consent is not on chain. */
  async anchorLegacyBatch(
    terms: readonly LoanTerms[],
  ): Promise<{ loanIds: LoanId[]; receipt: ContractTransactionReceipt }> {
    const receipt = await transact(() => this.consent.anchorLegacyLoans(terms.map(toStruct)));
    const loanIds = this.anchoredIds(receipt);
    loanIds.forEach((id, i) => this.termsCache.set(id, terms[i]));
    return { loanIds, receipt };
  }

  /** Governance: allows `platform` to import a book signed on paper until `until` (unix seconds; 0 withdraws it). */
  allowLegacyImport(platform: Address, until: number): Promise<ContractTransactionReceipt> {
    return transact(() => this.consent.allowLegacyImport(platform, until));
  }

  /** Until when `platform` may import a book signed on paper (unix seconds), or null when it may not. */
  async legacyImportUntil(platform: Address): Promise<number | null> {
    const until = Number(await read(() => this.consent.legacyImportUntil(platform)));
    return until === 0 ? null : until;
  }

  /** Records the signed agreement of a loan anchored without it (Funding, first document), checked before sending. */
  async signAgreement(loanId: LoanId, servicer: Address, signatures: ConsentSignatures) {
    const subject: ConsentSubject = { kind: "agreement", loanId, deadline: signatures.deadline };
    await this.requireConsent(subject, signatures, servicer);
    return this.act(loanId, (t) => this.consent.signAgreement(t, toSignatures(signatures)));
  }

  /**
   * Adds document version `documentHash` signed by the borrower and agreed by the servicer, the sender. Besides checking
   * the signature, refuses a borrower key other than the one that signed the loan's agreement or last amendment: the registry does not
   * keep that address, so this check (and the verifier's) is what holds a borrower to one key per loan.
   */
  async amendSigned(loanId: LoanId, servicer: Address, documentHash: Hash32, signatures: ConsentSignatures) {
    const state = await this.state(loanId);
    const subject: ConsentSubject = {
      kind: "amendment",
      loanId,
      version: state.documentVersion + 1,
      documentHash,
      deadline: signatures.deadline,
    };
    const known = await this.borrowerSigner(loanId);
    if (known !== undefined && known !== signatures.borrower) {
      throw new InputError(`the loan's borrower signs with ${known}, not ${signatures.borrower}`);
    }
    await this.requireConsent(subject, signatures, servicer);
    return this.act(loanId, (t) => this.consent.amendDocumentSigned(t, documentHash, toSignatures(signatures)));
  }

  /** The borrower's signing address of the loan's last signed agreement or amendment, if any. */
  async borrowerSigner(loanId: LoanId): Promise<Address | undefined> {
    const facts = (await this.historyEntries(loanId)).map((e) => e.fact);
    for (const fact of facts.reverse()) {
      if (fact.kind === "AgreementSigned" || fact.kind === "AmendmentSigned") return fact.borrower;
    }
    return undefined;
  }

  /** The error anchoring `terms` with `signatures` by `caller` would raise now, or undefined if it would succeed. */
  async previewSignedAnchor(
    caller: Address,
    terms: LoanTerms,
    signatures: ConsentSignatures,
  ): Promise<ContractError | undefined> {
    const reason = await read(() =>
      this.consent.previewSignedAnchor(caller, toStruct(terms), toSignatures(signatures)),
    );
    if (reason === "0x") return undefined;
    const decoded = decodeRevertData(reason);
    if (!decoded) throw new LoanLedgerError(`unrecognised validation result ${reason}`);
    return decoded;
  }

  /** Governance: requires (or stops requiring) consent before a loan opens funding. */
  setConsentRequired(required: boolean): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.setConsentRequired(required));
  }

  consentRequired(): Promise<boolean> {
    return read(() => this.contract.consentRequired());
  }

  private async requireConsent(subject: ConsentSubject, signatures: ConsentSignatures, platform: Address) {
    await requireValidConsent(
      this.contract.runner?.provider ?? undefined,
      await this.consentDomain(),
      subject,
      signatures,
      platform,
      await this.now(),
    );
  }

  /** The latest block's time: what the registry compares deadlines with. */
  private async now(): Promise<number> {
    const block = await this.contract.runner?.provider?.getBlock("latest");
    return block?.timestamp ?? Math.floor(Date.now() / 1000);
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
  /** Records a repayment made off the splitter; `bankRef` names the custody bank's payment behind it, if any. */
  recordRepayment(loanId: LoanId, amount: bigint, bankRef: Hash32 = NO_BANK_REF) {
    return this.act(loanId, (t) => this.contract.recordPayment(t, amount, bankRef));
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
    const events = await queryEvents(this.contract, this.contract.filters.LoanAnchored(loanId), this.fromBlock);
    if (events.length === 0) throw new LoanLedgerError(`loan ${toBeHex(loanId, 32)} was never anchored`);
    const terms = fromStruct(events[0].args.terms as unknown as TermsResult);
    this.termsCache.set(loanId, terms);
    return terms;
  }

  async state(loanId: LoanId): Promise<LoanState> {
    return toLoanState(await read(() => this.contract.loanState(loanId)));
  }

  /** The loan's servicer: the successor it was handed over to, or its originating platform. */
  async servicerOf(loanId: LoanId): Promise<Address> {
    const terms = await this.terms(loanId);
    return toAddress(await read(() => this.contract.servicerOf(toStruct(terms))));
  }

  /** Governance: names `successor` to take over every loan of the suspended or expelled `platform`. */
  appointSuccessor(platform: Address, successor: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.succession.appointSuccessor(platform, successor));
  }

  /** Governance: withdraws the appointment of a successor for `platform`'s loans. */
  withdrawSuccessor(platform: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.succession.withdrawSuccessor(platform));
  }

  /** The successor whose appointment for `platform`'s loans stands now, or null. */
  async successorOf(platform: Address): Promise<Address | null> {
    const successor = await read(() => this.succession.successorOf(platform));
    return successor === ZeroAddress ? null : toAddress(successor);
  }

  /** Hands each loan over to the successor appointed for its platform (anyone may send it). */
  async takeOverLoans(loanIds: readonly LoanId[]): Promise<ContractTransactionReceipt> {
    const terms = await Promise.all(loanIds.map((id) => this.terms(id)));
    return transact(() => this.succession.takeOverLoans(terms.map(toStruct)));
  }

  /** Governance: hands these loans over to `successor`, whatever their platform's standing. */
  async transferServicing(loanIds: readonly LoanId[], successor: Address): Promise<ContractTransactionReceipt> {
    const terms = await Promise.all(loanIds.map((id) => this.terms(id)));
    return transact(() => this.succession.transferServicing(terms.map(toStruct), successor));
  }

  /** Every loan `platform` anchored, in order. */
  async loansOf(platform: Address): Promise<LoanId[]> {
    const events = await queryEvents(
      this.contract,
      this.contract.filters.LoanAnchored(undefined, platform),
      this.fromBlock,
    );
    return events.map((e) => toLoanId(e.args.loanId));
  }

  /**
   * Every loan anchored by `platform` (by any platform when none is given), in chain order, from the `LoanAnchored`
   * events up to the reader's block (the latest by default). Reads the raw logs and takes what it needs from their
   * topics and fixed places in the data, so that a book of 100 000 loans is listed in seconds; {termsOf} decodes the
   * terms of the few a caller needs.
   */
  async anchoredLoans(platform?: Address, reader?: LedgerReader): Promise<AnchoredLoan[]> {
    const provider = this.contract.runner?.provider;
    if (!provider) throw new LoanLedgerError("the client's runner has no provider to read events from");
    const at = reader ?? (await LedgerReader.pin(provider, { fromBlock: this.fromBlock }));
    const topic = this.contract.interface.getEvent("LoanAnchored").topicHash;
    const filter = {
      address: this.contract.target as string,
      topics: [topic, null, platform ? zeroPadValue(platform, 32) : null],
    };
    const loans: AnchoredLoan[] = [];
    // A book anchored in batches puts a hundred loans or more in a block, about a kilobyte of JSON each: the ranges are
    // sized to what the last one returned, so that no answer grows to hundreds of megabytes (one range of a
    // 100 000-loan book was), and grow again where the chain is sparse.
    let span = 64;
    for (let from = at.fromBlock; from <= at.block.number;) {
      const to = Math.min(at.block.number, from + span - 1);
      const logs = await at.logs(filter, { fromBlock: from, toBlock: to });
      from = to + 1;
      if (logs.length > ANCHORED_LOGS_PER_QUERY)
        span = Math.max(1, Math.floor((span * ANCHORED_LOGS_PER_QUERY) / logs.length));
      else if (logs.length < ANCHORED_LOGS_PER_QUERY / 4) span = Math.min(span * 2, 2_000);
      for (const log of logs) {
        loans.push({
          loanId: toLoanId(BigInt(log.topics[1])),
          platform: toAddress(dataSlice(log.topics[2], 12)),
          // Every member of LoanTerms is static, so the tuple is encoded in place at the head of the data: the
          // reference is its fourth word.
          platformRef: toHash32(dataSlice(log.data, 3 * 32, 4 * 32)),
          blockNumber: log.blockNumber,
          transactionHash: toHash32(log.transactionHash),
          log,
        });
      }
    }
    return loans;
  }

  /** The terms of a loan {anchoredLoans} listed, decoded from its event (and remembered for later calls). */
  termsOf(anchored: AnchoredLoan): LoanTerms {
    let terms = this.termsCache.get(anchored.loanId);
    if (!terms) {
      terms = this.parseHistoryLog(anchored.log).terms;
      if (!terms) throw new LoanLedgerError(`log ${anchored.transactionHash}:${anchored.log.index} anchors no loan`);
      this.termsCache.set(anchored.loanId, terms);
    }
    return terms;
  }

  /**
   * The loans of {anchoredLoans} by the platform's own reference (its terms' `platformRef`). The contract lets two loans
   * share a reference, so each reference maps to every loan that carries it, in chain order.
   *
   * No event indexes the reference: `LoanAnchored` already indexes three topics (loan id, platform, borrower), and a
   * second event with the reference as a topic would cost every anchor gas that the batch target cannot spare. So the
   * platform's anchoring events are read (the platform is a topic) and the reference is taken from the event data.
   */
  async anchoredByReference(platform?: Address, reader?: LedgerReader): Promise<Map<Hash32, AnchoredLoan[]>> {
    const byRef = new Map<Hash32, AnchoredLoan[]>();
    for (const loan of await this.anchoredLoans(platform, reader)) {
      const list = byRef.get(loan.platformRef);
      if (list) list.push(loan);
      else byRef.set(loan.platformRef, [loan]);
    }
    return byRef;
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
    const events = await queryEvents(
      this.contract,
      this.contract.filters.CreditEventRecorded(borrowerRef),
      this.fromBlock,
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

  /**
   * The loan's history as the registry's events record it, decoded but not verified, in chain order at one block. The
   * auditor's verifier ({loanHistory} in src/audit) checks it against the on-chain head and the writers' events.
   */
  async historyEntries(loanId: LoanId): Promise<(Omit<HistoryEntry, "replayedHead"> & { loanId: LoanId })[]> {
    const provider = this.contract.runner?.provider;
    if (!provider) throw new LoanLedgerError("the client's runner has no provider to read events from");
    const reader = await LedgerReader.pin(provider, { fromBlock: this.fromBlock });
    const topics = HISTORY_EVENTS.map((name) => this.contract.interface.getEvent(name).topicHash);
    const logs = await reader.logs({ address: String(this.contract.target), topics: [topics, toBeHex(loanId, 32)] });
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    await reader.confirmPin();
    return logs.map((log) => this.parseHistoryLog(log));
  }

  /** One history event of the registry as a history entry (without its replayed head). */
  parseHistoryLog(log: Log): Omit<HistoryEntry, "replayedHead"> & { loanId: LoanId; terms?: LoanTerms } {
    // Read as a plain object: a Result is an Array, on which names like `at` resolve to its methods.
    const parsed = decodeEvent(this.contract.interface, log);
    if (!parsed) throw new LoanLedgerError(`unrecognised log ${log.transactionHash}:${log.index}`);
    const a = parsed.args;
    const fact = decodeLoanFact(parsed.name, a);
    if (!fact) throw new LoanLedgerError(`unexpected event ${parsed.name}`);
    return {
      loanId: toLoanId(a.loanId as bigint),
      ...(parsed.name === "LoanAnchored" ? { terms: fromStruct(a.terms as TermsResult) } : {}),
      fact,
      blockNumber: log.blockNumber,
      transactionHash: toHash32(log.transactionHash),
      logIndex: log.index,
      head: toHash32(a.head as string),
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
