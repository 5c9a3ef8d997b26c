/**
 * The auditor's checks: pure functions of an export (and, when one was read, of what a chain says at the export's
 * block). Nothing here reads a file, and only {LedgerChecker.proveWalletSignatures} asks a chain (contract wallets, for
 * their approval of a signature); the reader (source.ts) and the renderers (report.ts) do the rest.
 */
import type { Provider } from "ethers";
import { type LedgerExport } from "./source.js";
import {
  decodeLoanFact,
  factHash,
  GENESIS_HEAD,
  nextHead,
  type LoanFact,
  WRITER_NAMES,
  type WriterFact,
  type WriterName,
} from "../client/history.js";
import { InputError } from "../client/errors.js";
import { formatLoanId, toAddress, toHash32, toLoanId, type Address, type Hash32 } from "../client/ids.js";
import { loanIdOf } from "../client/loans.js";
import { isTransitionAllowed, LOAN_STATUS_NAMES, LoanStatus, type LoanTerms } from "../client/types.js";
import { periodInterest } from "../client/schedule.js";
import { batchLenders, big, WriterTransaction } from "./facts.js";
import { type TypedDataDomain } from "ethers";
import { consentDigest, consentDomain, isValidConsent, recoverSigner, type ConsentSubject } from "../client/consent.js";
import { BalanceReplay, type Reconciliation, type TokenBalances } from "./balances.js";
import { CUSTODY_CONTRACT, CustodyReplay, type CustodyFigures, type CustodyStatement } from "./custody/ledger.js";
import {
  byChainOrder,
  positionOfRecord,
  type BlockRef,
  type CheckedRecord,
  type EventRecord,
  type Json,
  type LoanRecord,
  type Position,
} from "../records/index.js";
import type { AuditScope, FileStatement } from "./scope.js";

export type CheckKind =
  | "manifest"
  | "terms"
  | "history"
  | "order"
  | "transition"
  | "repayment"
  | "split"
  | "document"
  | "payout"
  | "compensation"
  | "position"
  | "collateral"
  | "fact"
  | "consent"
  | "funding"
  | "proof"
  | "balance"
  | "custody";

/** Every check the verifier runs, with what it establishes (the report lists them). */
export const CHECKS: Record<CheckKind, string> = {
  manifest:
    "every file of the export has the SHA-256 digest its manifest states; a proven export is of the chain named",
  terms: "every loan's terms hash to its id (keccak256 of their ABI encoding), so no term or document hash was changed",
  history: "every entry's head follows from the entry before it, and the last one is the loan's head on chain",
  order: "every loan's entries are in chain order",
  transition: "every status change is allowed by the transition table, from the status the loan was in",
  repayment: "every repayment's parts add up to its amount",
  split:
    "every split adds up to the amount paid, its late interest, interest, principal and prepayment are what the " +
    "registry recorded, and its fees are what the committed rates charge",
  document: "every document version's hash matches a file in the documents folder (when one is given)",
  payout: "no loan's lenders were paid more than came in for them",
  compensation:
    "every loss settlement paid the insurer's and the reserve's parts it states, every claim was paid by the insurer " +
    "the funding configuration names, and every recovery reimbursed the insurer, the reserve and the lenders the " +
    "parts the loss waterfall recorded",
  funding:
    "every disbursement paid the loan's principal to the borrower payout account its funding configuration names",
  position:
    "every lender's position is replayed from the splitter's events (commitments, share transfers, payouts, claims, " +
    "refunds): commitments add up to what was disbursed or refunded, a share transfer moves shares the seller holds, " +
    "each lender a payout names and each claim gets exactly what its replayed position was owed, and a remainder is " +
    "swept only once every position is settled",
  collateral:
    "every fact the collateral registry added to a history is the hash of one of its events of that transaction (a " +
    "pledge, release, seizure, return, revaluation, or a disposal with the loan's allocation), and every collateral " +
    "event about a loan has its fact",
  fact:
    "every fact the splitter or the loss waterfall added to a history is the hash, tagged by its kind, of one of its " +
    "events of that transaction (a funding configuration, a recovery received, a payout naming its lenders, a loss " +
    "settlement, a recovery shared); every such event that must have a fact has it; and a fact added by a contract " +
    "that is none of the suite's history writers is named",
  consent:
    "every signature of every agreement and amendment is its signer's (a key's, or an ERC-1271 wallet's proven approval), each amendment is signed by the agreement's borrower key, and the report names the loans without on-chain consent",
  proof:
    "every record of every export file is the chain's, read again at the export's block from the first block of the " +
    "suite's contracts, which come from the chain or the configured deployment, never from the manifest alone",
  balance:
    "every contract of the suite holds, at the export's block, exactly the settlement tokens its replayed history " +
    "says it holds (what is owed to lenders, platforms, insurers and the reserve, capital, kept payments); any " +
    "difference is named with the contract, the amounts and whether it is unexplained or missing",
  custody:
    "every issue and redemption of the custody token carries a bank reference, no bank uses one twice, each bank's " +
    "book at the export's block is what its issues and redemptions add up to, the books add up to the supply, the " +
    "escrow to the withdrawals pending, and a repayment that names a bank reference names one an issue used, for no " +
    "more than that issue brought in",
};

/** Something that does not hold, with the loan and entry it is about. */
export interface Finding {
  check: CheckKind;
  loanId?: string;
  platform?: string;
  /** 1-based position of the entry in the loan's history, when the finding is about one entry. */
  entry?: number;
  /** The export file, when the finding is about one. */
  file?: string;
  /** 1-based line of `file`, when the finding is about one record of it. */
  line?: number;
  blockNumber?: number;
  transactionHash?: string;
  logIndex?: number;
  /** A balance that does not reconcile: the contract, what its history says it holds, what it holds, the difference. */
  balance?: { contract: string; address: string; expected: string; actual: string; difference: string };
  message: string;
}

export interface PlatformSummary {
  loans: number;
  entries: number;
  repayments: number;
  findings: number;
}

/** What a chain says at the export's block, read by {proveExport} for the checks to compare the export with. */
export interface ChainProof {
  chainId: string;
  /** The node's block at the export's block number. */
  block: BlockRef;
  /** The loan registry the heads were read from (the export's manifest names it: check it is the alliance's). */
  registry: string;
  /** How the heads were read: `historyHead` calls at the block, or the last history event of each loan up to it. */
  method: "historyHead" | "events";
  /** The history head of every loan of the export, at that block. */
  heads: Record<string, string>;
  /** Every loan anchored on chain up to that block (undefined when only some loans are verified). */
  anchored?: string[];
  /**
   * For each loan funded through the splitter, its lenders in order of arrival and each one's position (shares, debt)
   * at that block; undefined when the node keeps no state that old.
   */
  lenders?: Record<string, { lenders: string[]; positions: Record<string, { shares: string; debt: string }> }>;
  /** The settlement token's balance of each contract at that block; undefined when the node keeps no state that old. */
  balances?: TokenBalances;
  /** The custody token's figures at that block, when the ledger settles in one. */
  custody?: CustodyFigures;
}

/** The checks `options` leaves no means to run, with why. */
function checksNotRun(options: CheckOptions): Partial<Record<CheckKind, string>> {
  const notRun: Partial<Record<CheckKind, string>> = {};
  const unknown = (names: [string, string | undefined][]) =>
    names.filter(([, address]) => !address).map(([name]) => name);
  const w = options.writers ?? {};
  if (!options.documents) notRun.document = "no documents folder was given";
  const money = unknown([
    ["RepaymentSplitter", w.RepaymentSplitter],
    ["LossWaterfall", w.LossWaterfall],
  ]);
  if (money.length) notRun.fact = `the address of ${money.join(" and ")} is not known, so its facts cannot be told`;
  if (!w.CollateralRegistry)
    notRun.collateral = "the address of CollateralRegistry is not known, so its facts cannot be told";
  return notRun;
}

/** Which heads the histories were checked against, and whether a chain vouched for them. */
export interface HeadsStatement {
  /** "chain": read from a node at `provenAt`; "export": taken from the export's heads.json, proven by nothing. */
  source: "chain" | "export";
  provenAt: BlockRef | null;
  /** The loan registry the proven heads were read from. */
  registry: string | null;
  /** How the chain gave them: `historyHead` at the block, or each loan's last history event up to it. */
  method: ChainProof["method"] | null;
  /** Loans whose head was read from the chain at `provenAt`. */
  proven: string[];
  /** Loans whose head comes from the export alone. */
  exportOnly: string[];
}

export interface AuditReport {
  chainId: string;
  verifiedAt: string;
  /** As of which block the export was taken, when it says. */
  block: BlockRef | null;
  /** SHA-256 of the verified export's manifest.json (which names every file's digest), when one was verified. */
  exportManifestSha256: string | null;
  loans: string[];
  entries: number;
  platforms: Record<string, PlatformSummary>;
  heads: HeadsStatement;
  /**
   * Whether the lenders' positions replayed from the export were compared with the splitter's at the export's block
   * ("chain", for `loans` loans), or rest on the export's events alone ("export").
   */
  positions: { source: "chain" | "export"; loans: number };
  /** The checks run, by name, with what each establishes. */
  checks: Partial<Record<CheckKind, string>>;
  /** The checks that could not run, by name, with why: none of them passed. */
  notRun: Partial<Record<CheckKind, string>>;
  /** What the report covers: the blocks read, and where the contracts and the first block come from. */
  scope?: AuditScope;
  /** Per export file: proven against the chain (at which block, from which first block) or taken from the export. */
  files?: FileStatement[];
  /** How each loan's borrower agreed to its current document: on chain, on paper (a legacy import), or not recorded. */
  consent: {
    signed: string[];
    legacy: string[];
    none: string[];
    /**
     * Signatures no key made, checked without a node: only a contract wallet's approval (ERC-1271, read from a chain)
     * can prove them, so they are neither proven nor findings until a node is asked (`--rpc`).
     */
    notProven: UnprovenSignature[];
  };
  /** Each contract's settlement-token balance at the block against its replayed history (balances.ts). */
  balances: Reconciliation;
  /** The custody token's supply and books against its issues and redemptions, when the ledger settles in one. */
  custody?: CustodyStatement;
  findings: Finding[];
  ok: boolean;
}

/** A signature that no key made, which only its contract wallet, asked on a chain, could prove. */
export interface UnprovenSignature {
  loanId: string;
  entry: number;
  role: string;
  signer: string;
}

/** The fact of an exported record, typed again (amounts back to bigint); undefined for a kind it does not know. */
function factOf(record: LoanRecord): LoanFact | undefined {
  const f = record.fact;
  return f && typeof f.kind === "string" ? decodeLoanFact(f.kind, f) : undefined;
}

/** The id the exported terms hash to, or why they cannot be hashed. */
function idOfTerms(terms: { [key: string]: Json }): { id: string } | { error: string } {
  try {
    // The registry's own encoding (loanIdOf) over the exported fields: decimal strings encode as the integers they are.
    return { id: formatLoanId(loanIdOf(terms as unknown as LoanTerms)) };
  } catch (error) {
    return { error: (error as Error).message.split("\n")[0] };
  }
}

function where(record: Position): Pick<Finding, "blockNumber" | "transactionHash" | "logIndex"> {
  return { blockNumber: record.blockNumber, transactionHash: record.transactionHash, logIndex: record.logIndex };
}

const sameHash = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** The export's files against its manifest's digests (only for an export read from disk). */
function checkManifest(ledger: LedgerFacts, findings: Finding[]): void {
  if (!ledger.digests) return;
  const manifest = ledger.manifest;
  if (!manifest) {
    findings.push({
      check: "manifest",
      file: "manifest.json",
      message: "the export has no manifest.json: its files cannot be checked against their digests",
    });
    return;
  }
  for (const [file, stated] of Object.entries(manifest.files ?? {})) {
    const actual = ledger.digests[file];
    if (actual === undefined) {
      findings.push({ check: "manifest", file, message: `the manifest lists ${file}, which the export does not hold` });
    } else if (actual !== String(stated.sha256).toLowerCase()) {
      findings.push({
        check: "manifest",
        file,
        message: `${file} has SHA-256 ${actual}, not the ${stated.sha256} its manifest states: the file was changed`,
      });
    }
  }
  for (const file of Object.keys(ledger.digests)) {
    if (!(file in (manifest.files ?? {}))) {
      findings.push({ check: "manifest", file, message: `${file} is not in the manifest, so nothing vouches for it` });
    }
  }
  if (String(manifest.chainId) !== ledger.chainId) {
    findings.push({
      check: "manifest",
      file: "heads.json",
      message: `heads.json is of chain ${ledger.chainId}, the manifest of chain ${manifest.chainId}`,
    });
  }
}

/** The export's block and chain against what a node says (when the export is being proven). */
function checkProofBlock(ledger: LedgerFacts, proof: ChainProof, findings: Finding[]): boolean {
  let ok = true;
  if (proof.chainId !== ledger.chainId) {
    ok = false;
    findings.push({
      check: "manifest",
      message: `the export is of chain ${ledger.chainId}, the node proving it is on chain ${proof.chainId}`,
    });
  }
  if (!sameHash(ledger.block?.hash, proof.block.hash)) {
    ok = false;
    findings.push({
      check: "manifest",
      blockNumber: proof.block.number,
      message: `the export says block ${proof.block.number} is ${ledger.block?.hash}, but the node's block ${proof.block.number} is ${proof.block.hash}`,
    });
  }
  return ok;
}

/** What the checker keeps per loan while records stream past: a few fields, whatever the loan's history length. */
interface LoanState {
  platform: string;
  summary: PlatformSummary;
  entries: number;
  anchored: boolean;
  head: string;
  status: LoanStatus;
  last?: Position;
  /** The loan's latest RepaymentRecorded (its transaction, amount and the principal outstanding before it), and a
   * split seen before it in its transaction. */
  repayment?: {
    tx: string;
    amount: bigint;
    outstandingBefore: bigint;
    fact: Extract<LoanFact, { kind: "RepaymentRecorded" }>;
  };
  /** The principal of the anchored terms. */
  principal?: bigint;
  /** Whom the funding configuration names: the borrower's payout account and the insurer (lower case). */
  funding?: { borrowerPayout: string; insurer: string };
  /** Governance closed the splitter's book of the written-off loan (BookClosed): its positions are final. */
  bookClosed?: boolean;
  /** Seconds between installments, from the anchored terms. */
  period?: number;
  /** The fee rates the splitter committed to when the loan opened for funding (bps a year). */
  rates?: { platformFeeBps: bigint; premiumBps: bigint; reserveBps: bigint };
  pendingSplit?: { record: EventRecord; lenders: bigint };
  /** The money events of the loan's current transaction, for checks across one transaction's events. */
  tx: EventRecord[];
  lendersIn: bigint;
  paidOut: bigint;
  /** The lenders' positions, replayed from the splitter's events (allocated for loans funded through it). */
  book?: LenderBook;
  consent: "signed" | "legacy" | "none";
  /** The borrower key of the loan's agreement (or first signed amendment). */
  borrower?: string;
  /** The loan's servicer once another platform took it over (before that, the terms' platform). */
  servicer?: string;
  /** The last document version and its hash, for the amendment signature that follows it. */
  document?: { version: number; documentHash: Hash32 };
  /** Signatures to check once the chain and the registry are known ({LedgerChecker-finish}). */
  signatures: {
    entry: number;
    at: ReturnType<typeof where>;
    subject: ConsentSubject;
    signer: Address;
    signature: string;
    role: string;
  }[];
}

/** A lender's position, as the splitter keeps it: owed `lendersIn * shares / committed - debt`, never below zero. */
interface LenderPosition {
  shares: bigint;
  debt: bigint;
}

/** A loan's lenders as the splitter's events tell them, replayed the way the splitter books them. */
interface LenderBook {
  committed: bigint;
  positions: Map<string, LenderPosition>;
  /** Every account that ever took shares, in order of arrival, as the splitter lists them (`lendersOf`). */
  listed: string[];
  /** A remainder swept in the current transaction, judged once its payouts and claims have been replayed. */
  sweep?: EventRecord;
}

/** Statuses in which the splitter's positions are final: a payout or claim settles them for good. */
const CLOSING: ReadonlySet<LoanStatus> = new Set([LoanStatus.Cancelled, LoanStatus.Repaid, LoanStatus.Recovered]);

const isOpen = (p: LenderPosition) => p.shares !== 0n || p.debt !== 0n;
const lower = (v: Json | undefined) => String(v ?? "").toLowerCase();

/** What the checker needs to know about the export beyond its records, once they have all been seen. */
export interface LedgerFacts {
  chainId: string;
  block?: BlockRef;
  contracts?: Record<string, string>;
  heads: Record<string, string>;
  headsProvenAt?: BlockRef;
  manifest?: LedgerExport["manifest"];
  manifestSha256?: string;
  digests?: Record<string, string>;
  balances?: TokenBalances;
  custody?: CustodyFigures;
}

export interface CheckOptions {
  /** Check only this loan. */
  loanId?: string;
  /** keccak256 of every file of the documents folder. */
  documents?: { hashes: ReadonlySet<string>; folder: string };
  now?: Date;
  /**
   * Contract wallets' ERC-1271 approvals read from the chain, as `signer:digest:signature` (lower case): a signature
   * that no key made is accepted only when its wallet's approval is here.
   */
  walletApprovals?: ReadonlySet<string>;
  /**
   * The history writers' addresses (the splitter's, the loss waterfall's, the collateral registry's), to check the facts
   * they add; an External fact of any other source is named as unverifiable.
   */
  writers?: Partial<Record<WriterName, string>>;
  /** Told about every entry checked: its fact, the head it replays to, and the writer's fact an External fact is. */
  onEntry?(loanId: string, entry: CheckedEntry): void;
}

/** One entry of a loan's history as the checker read it. */
export interface CheckedEntry {
  /** 1-based position in the loan's history. */
  entry: number;
  /** Undefined when the entry cannot be decoded. */
  fact?: LoanFact;
  /** The head replayed from the entry before it and this fact (empty when the fact cannot be hashed). */
  replayedHead: string;
  /** For an External fact: the writer's fact it was proven to be, from the writer's events of its transaction. */
  writerFact?: WriterFact;
}

/**
 * The verifier's state machine: it takes the export's loan and money records in chain order, one at a time, keeping a
 * few fields per loan (so memory does not grow with the length of histories), and judges what is left at the end:
 * the heads, the payouts, the files against the manifest and, with a proof, the export against the chain.
 */
export class LedgerChecker {
  private readonly findings: Finding[] = [];
  private readonly loans = new Map<string, LoanState>();
  private readonly platforms: Record<string, PlatformSummary> = {};
  private entries = 0;
  /** The history writers' events of the transaction being read, and the facts found for them. */
  private writerTx?: WriterTransaction;

  /** Contract wallets' approvals proven by {proveWalletSignatures}, beside those the options brought. */
  private readonly walletApprovals = new Set<string>();
  /** Whether the contract wallets were asked: until then a signature no key made is not proven, not a finding. */
  private walletsAsked = false;
  private keyHoldersSeen: Set<string> | undefined;
  /** The agreements of the loans a one-loan check leaves out: evidence of who holds a key all the same. */
  private readonly otherSignatures: { signer: string; signature: string; subject: ConsentSubject }[] = [];

  /** The signers any of whose signatures in the ledger (every loan's, not only those checked) its own key made. */
  private keyHolders(domain: TypedDataDomain): Set<string> {
    if (this.keyHoldersSeen) return this.keyHoldersSeen;
    this.keyHoldersSeen = new Set();
    const all = [...[...this.loans.values()].flatMap((state) => state.signatures), ...this.otherSignatures];
    for (const s of all) {
      if (recoverSigner(consentDigest(domain, s.subject), s.signature) === s.signer)
        this.keyHoldersSeen.add(s.signer.toLowerCase());
    }
    return this.keyHoldersSeen;
  }

  /** The suite's money events summed, for the totals to reconcile with the contracts' balances. */
  private readonly balanceReplay = new BalanceReplay();
  /** The custody token's issues and redemptions, and the bank references repayments name. */
  private readonly custodyReplay = new CustodyReplay();

  constructor(private readonly options: CheckOptions = {}) {}

  /**
   * Asks each contract wallet, at `blockTag`, whether it approves the signatures it is named for that no key made, so
   * that a borrower that signed through a contract wallet is proven (call before {finish}).
   */
  async proveWalletSignatures(provider: Provider, chainId: bigint, registry: string, blockTag?: number): Promise<void> {
    this.walletsAsked = true;
    const domain = consentDomain(chainId, toAddress(registry));
    for (const state of this.loans.values()) {
      for (const s of state.signatures) {
        const digest = consentDigest(domain, s.subject);
        if (recoverSigner(digest, s.signature) === s.signer) continue;
        if (await isValidConsent(provider, domain, s.subject, toAddress(s.signer), s.signature, blockTag)) {
          this.walletApprovals.add(`${s.signer.toLowerCase()}:${digest}:${s.signature.toLowerCase()}`);
        }
      }
    }
  }

  /** The loans whose lenders' positions were replayed (those funded through the splitter). */
  bookedLoans(): string[] {
    return [...this.loans].filter(([, state]) => state.book).map(([loanId]) => loanId);
  }

  /** The replayed lenders and positions of each booked loan against the splitter's at the proof's block. */
  private compareLenders(proof: ChainProof): void {
    const chain = proof.lenders!;
    for (const [loanId, state] of this.loans) {
      if (this.options.loanId && loanId !== this.options.loanId) continue;
      const onChain = chain[loanId];
      const book = state.book;
      if (!onChain || (!book && onChain.lenders.length === 0)) continue;
      const found = (message: string) => this.found(loanId, state, { check: "position", message });
      const listed = book?.listed ?? [];
      const theirs = onChain.lenders.map((l) => l.toLowerCase());
      if (theirs.join() !== listed.join()) {
        found(
          `at block ${proof.block.number} the splitter lists the lenders ${theirs.join(", ") || "(none)"}, but the export's ` +
            `events give ${listed.join(", ") || "(none)"}: a lender was renamed, left out or invented`,
        );
        continue;
      }
      for (const lender of theirs) {
        const mine = book!.positions.get(lender) ?? { shares: 0n, debt: 0n };
        const stated = onChain.positions[lender];
        if (!stated || BigInt(stated.shares) !== mine.shares || BigInt(stated.debt) !== mine.debt) {
          found(
            `at block ${proof.block.number} ${lender} holds ${stated?.shares ?? "?"} shares with debt ${stated?.debt ?? "?"}, ` +
              `but the export's events give ${mine.shares} and ${mine.debt}`,
          );
        }
      }
    }
  }

  /**
   * The totals of the whole ledger against each contract's balance at the block (a node's, with a proof that holds);
   * a verification of one loan reconciles nothing.
   */
  private reconcileBalances(facts: LedgerFacts, proof: ChainProof | undefined): Reconciliation {
    const contracts = facts.contracts ?? {};
    const { reconciliation, findings } = this.options.loanId
      ? this.balanceReplay.reconcile(contracts, undefined, undefined)
      : this.balanceReplay.reconcile(
          contracts,
          facts.balances,
          proof?.balances,
          Boolean(facts.headsProvenAt),
          facts.block?.number,
        );
    for (const { message, ...balance } of findings) {
      this.findings.push({ check: "balance", balance, message });
    }
    return reconciliation;
  }

  /** The loans seen so far, in the order of their first record. */
  loanIds(): string[] {
    return [...this.loans.keys()];
  }

  private stateOf(loanId: string, platform: string): LoanState {
    let state = this.loans.get(loanId);
    if (!state) {
      const summary = (this.platforms[platform] ??= { loans: 0, entries: 0, repayments: 0, findings: 0 });
      summary.loans += 1;
      state = {
        platform,
        summary,
        entries: 0,
        anchored: false,
        head: GENESIS_HEAD,
        status: LoanStatus.None,
        tx: [],
        lendersIn: 0n,
        paidOut: 0n,
        consent: "none",
        signatures: [],
      };
      this.loans.set(loanId, state);
    }
    return state;
  }

  private found(loanId: string, state: LoanState, finding: Omit<Finding, "loanId" | "platform">): void {
    this.findings.push({ loanId, platform: state.platform, ...finding });
    state.summary.findings += 1;
  }

  /** Follows a loan's consent, and keeps each signature to check once the registry's domain is known. */
  private consentFact(loanId: string, state: LoanState, record: LoanRecord, entry: number, fact: LoanFact): void {
    const at = where(record);
    if (fact.kind === "ServicerChanged") {
      state.servicer = fact.to.toLowerCase();
    } else if (fact.kind === "DocumentAmended") {
      state.document = { version: fact.version, documentHash: fact.documentHash };
      // A changed document carries consent only once its amendment signature follows.
      state.consent = "none";
    } else if (fact.kind === "LegacyAgreement") {
      state.consent = "legacy";
    } else if (fact.kind === "AgreementSigned" || fact.kind === "AmendmentSigned") {
      let subject: ConsentSubject;
      if (fact.kind === "AgreementSigned") {
        subject = { kind: "agreement", loanId: toLoanId(loanId), deadline: fact.deadline };
      } else {
        if (state.document?.version !== fact.version) {
          this.found(loanId, state, {
            check: "consent",
            entry,
            ...at,
            message: `entry ${entry} signs document version ${fact.version}, which the entry before it does not add`,
          });
          return;
        }
        subject = {
          kind: "amendment",
          loanId: toLoanId(loanId),
          version: fact.version,
          documentHash: state.document.documentHash,
          deadline: fact.deadline,
        };
      }
      if (state.borrower && state.borrower !== fact.borrower.toLowerCase()) {
        this.found(loanId, state, {
          check: "consent",
          entry,
          ...at,
          message: `entry ${entry} is signed by borrower key ${fact.borrower}, not ${state.borrower}, which signed before: the borrower's consent is not proven`,
        });
      }
      // The platform consents by sending the transaction, which the registry allows only the terms' platform (or the
      // loan's servicer after a takeover): the fact, proven by the history chain, names that sender.
      const servicer = state.servicer ?? state.platform.toLowerCase();
      if (fact.platform.toLowerCase() !== servicer) {
        this.found(loanId, state, {
          check: "consent",
          entry,
          ...at,
          message: `entry ${entry} was sent by ${fact.platform}, not the loan's platform ${servicer}: the platform's consent is not proven`,
        });
      }
      state.borrower ??= fact.borrower.toLowerCase();
      state.consent = "signed";
      state.signatures.push({
        entry,
        at,
        subject,
        signer: fact.borrower,
        signature: fact.borrowerSignature,
        role: "borrower",
      });
    }
  }

  /**
   * Every kept signature of `state`'s loan, in the registry's domain. One that no key made is a finding once the
   * contract wallets were asked; without a node it is returned as not proven.
   */
  private checkSignatures(loanId: string, state: LoanState, domain: TypedDataDomain | undefined): UnprovenSignature[] {
    const unproven: UnprovenSignature[] = [];
    const walletsAsked = this.walletsAsked || this.options.walletApprovals !== undefined;
    for (const s of state.signatures) {
      const digest = domain ? consentDigest(domain, s.subject) : undefined;
      const approved =
        digest !== undefined &&
        (recoverSigner(digest, s.signature) === s.signer ||
          [this.options.walletApprovals, this.walletApprovals].some((approvals) =>
            approvals?.has(`${s.signer.toLowerCase()}:${digest}:${s.signature.toLowerCase()}`),
          ));
      if (approved) continue;
      // Offline, a signature no key made may be a contract wallet's, unless its signer proved elsewhere that it is a
      // key (a wallet at that address cannot have signed with one): that is a forgery, found without a node.
      if (domain && !walletsAsked && !this.keyHolders(domain).has(s.signer.toLowerCase())) {
        unproven.push({ loanId, entry: s.entry, role: s.role, signer: s.signer });
        continue;
      }
      this.found(loanId, state, {
        check: "consent",
        entry: s.entry,
        ...s.at,
        message: domain
          ? `the ${s.role}'s signature is not ${s.signer}'s: not its key's, and no contract wallet at that address approves it`
          : `the export names no loan registry, so the ${s.role}'s signature cannot be checked`,
      });
    }
    return unproven;
  }

  /** One entry of a loan's history (loans.jsonl), in chain order. */
  loan(record: LoanRecord): void {
    const { loanId } = record;
    this.custodyReplay.fact(record);
    if (this.options.loanId && loanId !== this.options.loanId) {
      // Another loan's agreement still shows whether its signer holds a key (see keyHolders).
      if (record.fact?.kind === "AgreementSigned") {
        const fact = factOf(record);
        if (fact?.kind === "AgreementSigned") {
          this.otherSignatures.push({
            signer: fact.borrower,
            signature: fact.borrowerSignature,
            subject: { kind: "agreement", loanId: toLoanId(loanId), deadline: fact.deadline },
          });
        }
      }
      return;
    }
    const state = this.stateOf(loanId, String(record.terms?.platform ?? "unknown"));
    const found = (finding: Omit<Finding, "loanId" | "platform">) => this.found(loanId, state, finding);
    state.entries += 1;
    state.summary.entries += 1;
    this.entries += 1;
    const entry = state.entries;
    const previous = state.last;
    // Only the position is kept: the record itself (with its terms) can go.
    state.last = { blockNumber: record.blockNumber, transactionHash: "", logIndex: record.logIndex };
    let fact: LoanFact | undefined;
    let replayed: string;
    try {
      fact = factOf(record);
      replayed = fact ? nextHead(toHash32(state.head), factHash(toLoanId(loanId), fact)) : "";
    } catch (error) {
      fact = undefined;
      replayed = `: ${(error as Error).message.split("\n")[0]}`;
    }
    if (!fact) {
      this.options.onEntry?.(loanId, { entry, replayedHead: "" });
      found({
        check: "history",
        entry,
        ...where(record),
        message: `entry ${entry} records a fact of kind ${JSON.stringify(record.fact?.kind)} that the verifier cannot decode${replayed}`,
      });
      state.head = String(record.head).toLowerCase();
      return;
    }
    if (previous && byChainOrder(previous, record) >= 0) {
      found({
        check: "order",
        entry,
        ...where(record),
        message: `entry ${entry} comes before entry ${entry - 1} on chain: the entries are out of order`,
      });
    }
    if (replayed !== record.head.toLowerCase()) {
      found({
        check: "history",
        entry,
        ...where(record),
        message: `entry ${entry} (${fact.kind}) does not produce its recorded head from the entry before it: it was altered, or an entry is missing just before it`,
      });
    }
    state.head = record.head.toLowerCase();
    const writerFact = fact.kind === "External" ? this.proveWriterFact(loanId, state, record, entry, fact) : undefined;
    this.options.onEntry?.(loanId, { entry, fact, replayedHead: replayed, writerFact });
    this.consentFact(loanId, state, record, entry, fact);
    if (fact.kind === "Anchored") {
      state.anchored = true;
      state.status = LoanStatus.Funding;
      if (record.terms?.period !== undefined) state.period = Number(record.terms.period);
      if (record.terms?.principal !== undefined) state.principal = big(record.terms.principal);
      const hashed = record.terms ? idOfTerms(record.terms) : { error: "the entry carries no terms" };
      if ("error" in hashed) {
        found({
          check: "terms",
          entry,
          ...where(record),
          message: `entry ${entry}: the terms cannot be hashed to a loan id (${hashed.error})`,
        });
      } else if (hashed.id !== loanId) {
        found({
          check: "terms",
          entry,
          ...where(record),
          message: `entry ${entry}: the terms hash to loan id ${hashed.id}, not ${loanId}: a term or the document hash was changed`,
        });
      }
    }
    if (fact.kind === "StatusChanged") {
      if (fact.from !== state.status || !isTransitionAllowed(fact.from, fact.to)) {
        found({
          check: "transition",
          entry,
          ...where(record),
          message: `entry ${entry} moves the loan ${LOAN_STATUS_NAMES[fact.from]} → ${LOAN_STATUS_NAMES[fact.to]} while it was ${LOAN_STATUS_NAMES[state.status]}`,
        });
      }
      state.status = fact.to;
    }
    if (fact.kind === "RepaymentRecorded") {
      state.summary.repayments += 1;
      state.repayment = {
        tx: record.transactionHash,
        amount: fact.amount,
        outstandingBefore: fact.outstandingAfter + fact.principal + fact.prepayment,
        fact,
      };
      const parts = fact.lateInterest + fact.interest + fact.principal + fact.prepayment;
      if (parts !== fact.amount) {
        found({
          check: "repayment",
          entry,
          ...where(record),
          message: `entry ${entry}: the repayment's parts add up to ${parts}, not its amount ${fact.amount}`,
        });
      }
      const pending = state.pendingSplit;
      if (pending && pending.record.transactionHash === record.transactionHash) {
        state.pendingSplit = undefined;
        this.compareSplit(loanId, state, pending.record, pending.lenders);
      }
    }
    const documents = this.options.documents;
    if (documents) {
      const hash =
        fact.kind === "DocumentAmended"
          ? fact.documentHash
          : fact.kind === "Anchored"
            ? String(record.terms?.documentHash)
            : undefined;
      const version = fact.kind === "DocumentAmended" ? fact.version : 1;
      if (hash && !documents.hashes.has(hash.toLowerCase())) {
        found({
          check: "document",
          entry,
          ...where(record),
          message: `document version ${version} (${hash}) matches no file in ${documents.folder}`,
        });
      }
    }
  }

  /**
   * An External fact: the writer's fact it stands for, recomputed from the writer's events of its transaction (which
   * come before it on chain), or a finding naming the entry when none of them hashes to it.
   */
  private proveWriterFact(
    loanId: string,
    state: LoanState,
    record: LoanRecord,
    entry: number,
    fact: Extract<LoanFact, { kind: "External" }>,
  ): WriterFact | undefined {
    const writers = this.options.writers;
    // An export that names no writer (one made without its manifest) cannot say whose facts these are.
    if (!writers || !Object.values(writers).some(Boolean)) return undefined;
    const source = fact.source.toLowerCase();
    const writer = (Object.keys(writers) as WriterName[]).find((name) => writers[name]?.toLowerCase() === source);
    if (!writer) {
      // Only once every writer is named is a fact of any other source one that nothing can check.
      if (Object.keys(WRITER_NAMES).some((name) => !writers[name as WriterName])) return undefined;
      this.found(loanId, state, {
        check: "fact",
        entry,
        ...where(record),
        message: `entry ${entry}: a fact of ${source}, which is none of the suite's history writers (the splitter, the loss waterfall, the collateral registry), so nothing it summarises can be checked`,
      });
      return undefined;
    }
    const tx = this.writerTx?.hash === record.transactionHash ? this.writerTx : undefined;
    const proven = tx?.prove(loanId, writer, fact.factHash);
    if (!proven) {
      this.found(loanId, state, {
        check: writer === "CollateralRegistry" ? "collateral" : "fact",
        entry,
        ...where(record),
        message:
          writer === "CollateralRegistry"
            ? `entry ${entry}: the fact ${fact.factHash} of the collateral registry is the hash of none of its events in that transaction`
            : `entry ${entry}: the fact ${fact.factHash} of ${fact.source} is the hash of none of its events in that transaction`,
      });
    }
    return proven;
  }

  /**
   * One event of a history writer, in chain order: kept until its transaction's facts are judged. The verifier feeds
   * every money and collateral event here; a one-loan history only the writers' events of its External facts'
   * transactions.
   */
  writerEvent(record: EventRecord): void {
    if (this.writerTx?.hash !== record.transactionHash) {
      this.closeWriterTransaction();
      this.writerTx = new WriterTransaction(record.transactionHash);
    }
    this.writerTx!.events.push(record);
  }

  /** One collateral registry event (assets.jsonl), in chain order. */
  asset(record: EventRecord): void {
    this.balanceReplay.event(record);
    this.writerEvent(record);
  }

  /** Every writer event of the transaction read last that concerns a loan must have its fact in that history. */
  private closeWriterTransaction(): void {
    const tx = this.writerTx;
    this.writerTx = undefined;
    const writers = this.options.writers;
    if (!tx || !writers) return;
    for (const { event, loanId } of tx.missing()) {
      if (!writers[event.contract as WriterName]) continue;
      if (this.options.loanId && loanId !== this.options.loanId) continue;
      const state = this.loans.get(loanId) ?? this.stateOf(loanId, "unknown");
      const collateral = event.contract === "CollateralRegistry";
      this.found(loanId, state, {
        check: collateral ? "collateral" : "fact",
        ...where(event),
        message: collateral
          ? `${event.event} of asset ${String(event.args.assetId)} has no fact in the loan's history in its transaction`
          : event.event === "PayoutsPushed"
            ? `the payout of ${big(event.args.paid)} has no fact in the loan's history in its transaction`
            : `${event.event} has no fact in the loan's history in its transaction`,
      });
    }
  }

  /** One money event (money.jsonl), in chain order: splits add up and match the registry, payouts are counted. */
  money(record: EventRecord): void {
    this.custodyReplay.event(record);
    if (record.contract === CUSTODY_CONTRACT) return;
    this.balanceReplay.event(record);
    this.writerEvent(record);
    const raw = record.args.loanId;
    if (raw === undefined) return;
    const loanId = formatLoanId(toLoanId(String(raw)));
    if (this.options.loanId && loanId !== this.options.loanId) return;
    const state = this.loans.get(loanId) ?? this.stateOf(loanId, "unknown");
    if (state.tx.length && state.tx[0].transactionHash !== record.transactionHash) this.closeTransaction(loanId, state);
    state.tx.push(record);
    const a = record.args;
    switch (record.event) {
      case "RepaymentSplit": {
        const s = a.split as { [key: string]: Json };
        const fees = big(s.platformFee) + big(s.premium) + big(s.reserve);
        const lenders = big(s.lateInterest) + big(s.interest) + big(s.principal) + big(s.prepayment);
        if (fees + lenders !== big(a.amount)) {
          this.found(loanId, state, {
            check: "split",
            ...where(record),
            message: `a repayment of ${big(a.amount)} splits into ${fees + lenders}`,
          });
        }
        if (state.repayment?.tx === record.transactionHash) this.compareSplit(loanId, state, record, lenders);
        else state.pendingSplit = { record, lenders };
        state.lendersIn += lenders;
        break;
      }
      case "RecoveryReceived":
      case "PremiumToLenders":
        // A premium without cover goes to the lenders, like a recovery.
        state.lendersIn += big(a.amount);
        break;
      case "FundingCancelled":
        state.lendersIn += big(a.committed);
        break;
      case "FundingOpened": {
        const config = a.config as { [key: string]: Json };
        state.rates = {
          platformFeeBps: big(config.platformFeeBps),
          premiumBps: big(config.premiumBps),
          reserveBps: big(config.reserveBps),
        };
        state.funding = { borrowerPayout: lower(config.borrowerPayout), insurer: lower(config.insurer) };
        break;
      }
      case "Disbursed":
        this.checkDisbursement(loanId, state, record);
        break;
      case "BookClosed":
        state.bookClosed = true;
        break;
      case "ClaimPaid":
        if (state.funding && lower(a.insurer) !== state.funding.insurer) {
          this.found(loanId, state, {
            check: "compensation",
            ...where(record),
            message: `the claim was paid by ${String(a.insurer)}, but the funding configuration names the insurer ${state.funding.insurer}`,
          });
        }
        break;
      case "PayoutsPushed":
        state.paidOut += big(a.paid);
        break;
      case "Claimed":
        state.paidOut += big(a.amount);
        break;
    }
    if (record.contract === "RepaymentSplitter") this.replayPosition(loanId, state, record);
  }

  /**
   * Replays the lenders' positions through one splitter event, the way the splitter books them, and names every
   * address or amount that the replay contradicts.
   */
  private replayPosition(loanId: string, state: LoanState, record: EventRecord): void {
    const a = record.args;
    const found = (message: string) => this.found(loanId, state, { check: "position", ...where(record), message });
    const book: LenderBook = (state.book ??= {
      committed: 0n,
      positions: new Map<string, LenderPosition>(),
      listed: [],
    });
    const positionOf = (lender: string) => {
      let position = book.positions.get(lender);
      if (!position) book.positions.set(lender, (position = { shares: 0n, debt: 0n }));
      return position;
    };
    const list = (lender: string) => {
      if (!book.listed.includes(lender)) book.listed.push(lender);
    };
    const owed = (p: LenderPosition) => {
      if (book.committed === 0n) return 0n;
      const value = (state.lendersIn * p.shares) / book.committed - p.debt;
      return value > 0n ? value : 0n;
    };
    const closing = CLOSING.has(state.status) || Boolean(state.bookClosed);
    /** Marks `amount` paid to `p`, as the splitter's `_settle` does. */
    const settle = (p: LenderPosition, amount: bigint) => {
      if (closing) {
        p.shares = 0n;
        p.debt = 0n;
      } else p.debt += amount;
    };
    switch (record.event) {
      case "Committed": {
        const amount = big(a.amount);
        book.committed += amount;
        positionOf(lower(a.lender)).shares += amount;
        list(lower(a.lender));
        if (big(a.committed) !== book.committed) {
          found(
            `${a.lender} committed ${amount}, which brings the commitments to ${book.committed}, not the ${big(a.committed)} the event states`,
          );
        }
        break;
      }
      case "Disbursed":
      case "FundingCancelled": {
        const stated = big(record.event === "Disbursed" ? a.amount : a.committed);
        if (stated !== book.committed) {
          found(`${record.event} states ${stated}, but the lenders' commitments add up to ${book.committed}`);
        }
        break;
      }
      case "ShareTransferred": {
        const shares = big(a.shares);
        const seller = positionOf(lower(a.from));
        if (seller.shares < shares || book.committed === 0n) {
          found(`${a.from} moved ${shares} shares to ${a.to}, but holds ${seller.shares}`);
          break;
        }
        // The accrued payouts stay with the seller: its debt drops by their value rounded down, the buyer's grows by
        // it rounded up (IRepaymentSplitter's transferShare).
        const product = state.lendersIn * shares;
        const down = product / book.committed;
        const up = down + (product % book.committed === 0n ? 0n : 1n);
        seller.shares -= shares;
        seller.debt -= down;
        const buyer = positionOf(lower(a.to));
        buyer.shares += shares;
        buyer.debt += up;
        list(lower(a.to));
        break;
      }
      case "Claimed": {
        const lender = lower(a.lender);
        const position = positionOf(lender);
        const due = owed(position);
        if (due !== big(a.amount)) {
          found(`${a.lender} claimed ${big(a.amount)}, but its replayed position was owed ${due}`);
        }
        settle(position, due);
        break;
      }
      case "PayoutsPushed":
        this.replayPayout(record, state, book, { positionOf, owed, settle, closing, found });
        break;
      case "RemainderSwept":
        // Swept inside a payout or claim, before that call's own event: judged once the transaction has been replayed.
        book.sweep = record;
        break;
    }
  }

  /** A pushed payout: each lender of its batch gets what its replayed position was owed, unless its transfer failed. */
  private replayPayout(
    record: EventRecord,
    state: LoanState,
    book: LenderBook,
    r: {
      positionOf(lender: string): LenderPosition;
      owed(p: LenderPosition): bigint;
      settle(p: LenderPosition, amount: bigint): void;
      closing: boolean;
      found(message: string): void;
    },
  ): void {
    const a = record.args;
    const lenders = batchLenders(a.batch);
    if (!lenders) {
      r.found(`the payout's batch ${JSON.stringify(a.batch)} is not a list of 20-byte addresses`);
      return;
    }
    if (BigInt(lenders.length) !== big(a.lenders)) {
      r.found(`the payout says it named ${big(a.lenders)} lenders, but its batch names ${lenders.length}`);
    }
    // The transfers that failed, in the order the payout met them (each left its position as it was): those after any
    // earlier payout of the loan in the same transaction.
    const after = Math.max(
      -1,
      ...state.tx.filter((e) => e.event === "PayoutsPushed" && e.logIndex < record.logIndex).map((e) => e.logIndex),
    );
    const skips = state.tx.filter(
      (e) => e.event === "PayoutSkipped" && e.logIndex > after && e.logIndex < record.logIndex,
    );
    let next = 0;
    let paid = 0n;
    const got: string[] = [];
    for (const lender of lenders) {
      const position = r.positionOf(lender);
      const due = r.owed(position);
      if (due === 0n && !(r.closing && isOpen(position))) continue;
      const skip = skips[next];
      if (skip && lower(skip.args.lender) === lender) {
        next += 1;
        if (big(skip.args.amount) !== due) {
          r.found(`the payout to ${lender} that failed states ${big(skip.args.amount)}, but it was owed ${due}`);
        }
        continue;
      }
      r.settle(position, due);
      paid += due;
      got.push(`${lender} ${due}`);
    }
    if (next !== skips.length || BigInt(next) !== big(a.skipped)) {
      r.found(
        `the payout skipped ${big(a.skipped)} lenders, but ${skips.length} failed transfers are recorded and ${next} of them match lenders of its batch`,
      );
    }
    if (paid !== big(a.paid)) {
      r.found(
        `the payout paid ${big(a.paid)}, but the lenders its batch names were owed ${paid} by their replayed positions` +
          (got.length ? ` (${got.join(", ")})` : ""),
      );
    }
  }

  /** A disbursement pays the whole principal to the payout account the funding configuration committed to. */
  private checkDisbursement(loanId: string, state: LoanState, record: EventRecord): void {
    const a = record.args;
    const found = (message: string) => this.found(loanId, state, { check: "funding", ...where(record), message });
    if (state.funding && lower(a.borrowerPayout) !== state.funding.borrowerPayout) {
      found(
        `the principal was disbursed to ${String(a.borrowerPayout)}, but the funding configuration names the borrower payout account ${state.funding.borrowerPayout}`,
      );
    }
    if (state.principal !== undefined && big(a.amount) !== state.principal) {
      found(`${big(a.amount)} was disbursed, but the loan's principal is ${state.principal}`);
    }
  }

  private compareSplit(loanId: string, state: LoanState, record: EventRecord, lenders: bigint): void {
    const recorded = state.repayment?.amount;
    if (recorded !== undefined && recorded !== lenders) {
      this.found(loanId, state, {
        check: "split",
        ...where(record),
        message: `the lenders' part ${lenders} is not the ${recorded} the registry recorded`,
      });
    }
    // The splitter copies each part of the lenders' share from the registry's record of the same payment.
    const fact = state.repayment?.fact;
    const parts = record.args.split as { [key: string]: Json };
    if (fact && big(record.args.installment) !== BigInt(fact.installment)) {
      this.found(loanId, state, {
        check: "split",
        ...where(record),
        message: `the split is for installment ${big(record.args.installment)}, but the registry recorded installment ${fact.installment}`,
      });
    }
    for (const part of ["lateInterest", "interest", "principal", "prepayment"] as const) {
      if (fact && big(parts[part]) !== fact[part]) {
        this.found(loanId, state, {
          check: "split",
          ...where(record),
          message: `the split's ${part} of ${big(parts[part])} is not the ${fact[part]} the registry recorded for this payment`,
        });
      }
    }
    // The fees are recomputed from what the chain committed to, not taken from the split: the rates of the funding
    // configuration, the installment period, and the principal outstanding before the payment.
    const outstanding = state.repayment?.outstandingBefore;
    if (state.rates === undefined || state.period === undefined || outstanding === undefined) return;
    const split = record.args.split as { [key: string]: Json };
    const fee = (bps: bigint) => periodInterest(outstanding, Number(bps), state.period!);
    const expected = {
      platformFee: fee(state.rates.platformFeeBps),
      premium: fee(state.rates.premiumBps),
      reserve: fee(state.rates.reserveBps),
    };
    for (const [part, value] of Object.entries(expected)) {
      if (big(split[part]) !== value) {
        this.found(loanId, state, {
          check: "split",
          ...where(record),
          message: `the ${part} of ${big(split[part])} is not the ${value} the committed rate charges on ${outstanding}`,
        });
      }
    }
  }

  /** A recovery paid the insurer, the reserve and the lenders the parts the waterfall recorded (RecoveryApplied). */
  private checkRecoveryParts(loanId: string, state: LoanState, tx: readonly EventRecord[]): void {
    const ordered = [...tx].sort((a, b) => a.logIndex - b.logIndex);
    // Each recovery's payments follow its RecoveryApplied, before the next recovery or a settlement's first event.
    const ends = new Set(["RecoveryApplied", "ClaimPaid", "Compensated", "CompensationDeclined", "LossSettled"]);
    ordered.forEach((applied, k) => {
      if (applied.event !== "RecoveryApplied") return;
      const next = ordered.findIndex((r, j) => j > k && ends.has(r.event));
      const own = ordered.slice(k + 1, next < 0 ? undefined : next);
      this.checkRecovery(loanId, state, applied, own);
    });
  }

  private checkRecovery(loanId: string, state: LoanState, applied: EventRecord, own: readonly EventRecord[]): void {
    const paid = (event: string) =>
      own.filter((r) => r.event === event).reduce((sum, r) => sum + big(r.args.amount), 0n);
    const parts: [string, string, string][] = [
      ["toInsurer", "InsurerReimbursed", "the insurer"],
      ["toReserve", "ReserveReimbursed", "the reserve"],
      ["toLenders", "RecoveryReceived", "the lenders"],
    ];
    for (const [part, event, whom] of parts) {
      if (paid(event) !== big(applied.args[part])) {
        this.found(loanId, state, {
          check: "compensation",
          ...where(applied),
          message: `the recovery gives ${whom} ${big(applied.args[part])}, but its ${event} events pay ${paid(event)}`,
        });
      }
    }
  }

  /** Checks across the money events of one transaction of a loan: a loss settlement paid what it states. */
  private closeTransaction(loanId: string, state: LoanState): void {
    const tx = state.tx;
    state.tx = [];
    const sweep = state.book?.sweep;
    if (sweep && state.book) {
      state.book.sweep = undefined;
      const left = state.lendersIn - state.paidOut;
      const open = [...state.book.positions].filter(([, p]) => isOpen(p)).map(([lender]) => lender);
      if (big(sweep.args.amount) !== left || open.length) {
        this.found(loanId, state, {
          check: "position",
          ...where(sweep),
          message:
            `a remainder of ${big(sweep.args.amount)} was swept, but ${left} was left for the lenders` +
            (open.length ? ` and ${open.join(", ")} still held a position` : ""),
        });
      }
      state.paidOut += big(sweep.args.amount);
    }
    this.checkRecoveryParts(loanId, state, tx);
    const settled = tx.find((r) => r.event === "LossSettled");
    if (!settled) return;
    const claim = tx.find((r) => r.event === "ClaimPaid");
    const compensation = tx.find((r) => r.event === "Compensated");
    const a = settled.args;
    if (big(claim?.args.paid) !== big(a.insurerBore) || big(compensation?.args.paid) !== big(a.reserveBore)) {
      this.found(loanId, state, {
        check: "compensation",
        ...where(settled),
        message: `the settlement says insurer ${big(a.insurerBore)} and reserve ${big(a.reserveBore)}, but ${big(claim?.args.paid)} and ${big(compensation?.args.paid)} were paid`,
      });
    }
  }

  /**
   * Judges what only the whole export shows: each loan's last head against the heads (the chain's, with a `proof`),
   * payouts against what came in, the files against the manifest, and the loans on chain against the export's.
   */
  finish(facts: LedgerFacts, proof?: ChainProof): AuditReport {
    const { options } = this;
    this.closeWriterTransaction();
    const findings: Finding[] = [];
    checkManifest(facts, findings);
    const proofHolds = proof ? checkProofBlock(facts, proof, findings) : false;
    const headsProvenAt = proof ? (proofHolds ? proof.block : null) : (facts.headsProvenAt ?? null);
    const heads: HeadsStatement = {
      source: headsProvenAt ? "chain" : "export",
      provenAt: headsProvenAt,
      registry: headsProvenAt ? (proof?.registry ?? facts.contracts?.LoanRegistry ?? null) : null,
      method: headsProvenAt ? (proof?.method ?? "historyHead") : null,
      proven: [],
      exportOnly: [],
    };
    if (proof?.anchored && proofHolds && !options.loanId) {
      for (const loanId of proof.anchored) {
        if (!this.loans.has(loanId)) {
          findings.push({
            check: "history",
            loanId,
            message: `loan ${loanId} was anchored on chain by block ${proof.block.number}, but the export leaves it out`,
          });
        }
      }
    }
    // Findings about whole files and the chain come first, then those of each loan's entries, then the rest.
    this.findings.unshift(...findings);
    const positionsProven = Boolean(proof?.lenders && proofHolds);
    if (positionsProven) this.compareLenders(proof!);
    if (options.loanId && !this.loans.has(options.loanId)) {
      throw new InputError(`loan ${options.loanId} is not in the ledger`);
    }
    const registry = proof?.registry ?? facts.contracts?.LoanRegistry;
    const domain = registry ? consentDomain(BigInt(facts.chainId), toAddress(registry)) : undefined;
    const consent: AuditReport["consent"] = { signed: [], legacy: [], none: [], notProven: [] };
    for (const [loanId, state] of this.loans) {
      const found = (finding: Omit<Finding, "loanId" | "platform">) => this.found(loanId, state, finding);
      this.closeTransaction(loanId, state);
      if (!state.anchored) {
        found({ check: "terms", message: "the loan has no Anchored entry, so nothing gives its terms" });
      }
      const onChain = proof && proofHolds ? proof.heads[loanId] : facts.heads[loanId];
      if (headsProvenAt) heads.proven.push(loanId);
      else heads.exportOnly.push(loanId);
      if (proof && proofHolds && !sameHash(facts.heads[loanId], onChain)) {
        found({
          check: "history",
          entry: state.entries,
          message: `the export gives the head ${facts.heads[loanId] ?? "(none)"}, but the chain's head at block ${proof.block.number} is ${onChain ?? "(none)"}`,
        });
      }
      if (!onChain) {
        found({ check: "history", message: "no head is known for this loan, so the end of its history is unchecked" });
      } else if (state.head !== onChain.toLowerCase()) {
        found({
          check: "history",
          entry: state.entries,
          message: `the last entry's head ${state.head} is not the ${headsProvenAt ? `chain's head at block ${headsProvenAt.number}` : "head the export states"} ${onChain}: entries are missing at the end, or the heads were rewritten`,
        });
      }
      consent.notProven.push(...this.checkSignatures(loanId, state, domain));
      consent[state.consent].push(loanId);
      if (state.paidOut > state.lendersIn) {
        found({
          check: "payout",
          message: `the lenders were paid ${state.paidOut}, more than the ${state.lendersIn} that came in for them`,
        });
      }
    }
    const notRun = checksNotRun(options);
    const balances = this.reconcileBalances(facts, proofHolds ? proof : undefined);
    // A verification of one loan judges no bank's book.
    const custody = options.loanId
      ? { findings: [] }
      : proofHolds && proof?.custody
        ? this.custodyReplay.judge(proof.custody, "chain", facts.custody ?? null, proof.block.number)
        : this.custodyReplay.judge(
            facts.custody,
            facts.headsProvenAt ? "chain" : "export",
            undefined,
            facts.block?.number,
          );
    for (const finding of custody.findings) this.findings.push({ check: "custody", ...finding });
    // Whether the records are the chain's is for the caller to say: it proved them, read them, or could not.
    const checks = Object.fromEntries(
      (Object.keys(CHECKS) as CheckKind[])
        .filter((check) => !(check in notRun) && check !== "proof")
        .filter((check) => check !== "balance" || balances.source !== "none")
        .filter((check) => check !== "custody" || custody.statement)
        .map((check) => [check, CHECKS[check]]),
    );
    return {
      chainId: facts.chainId,
      verifiedAt: (options.now ?? new Date()).toISOString(),
      block: facts.block ?? null,
      exportManifestSha256: facts.manifestSha256 ?? null,
      loans: this.loanIds().filter((loanId) => this.loans.get(loanId)!.entries > 0),
      entries: this.entries,
      platforms: this.platforms,
      heads,
      positions: {
        source: positionsProven ? "chain" : "export",
        loans: positionsProven ? Object.keys(proof!.lenders!).length : 0,
      },
      checks,
      notRun,
      consent,
      balances,
      ...(custody.statement ? { custody: custody.statement } : {}),
      findings: this.findings,
      ok: this.findings.length === 0,
    };
  }
}

/** Hands `item` to the checker method for its file. */
export function checkRecord(checker: LedgerChecker, item: CheckedRecord): void {
  if ("loan" in item) checker.loan(item.loan);
  else if ("money" in item) checker.money(item.money);
  else checker.asset(item.asset);
}

/** Loan, money and collateral records of an export, merged into chain order (each list is in chain order already). */
export function* inChainOrder(
  loans: readonly LoanRecord[],
  money: readonly EventRecord[],
  assets: readonly EventRecord[] = [],
): Generator<CheckedRecord> {
  const lists: CheckedRecord[][] = [
    loans.map((loan) => ({ loan })),
    money.map((money) => ({ money })),
    assets.map((asset) => ({ asset })),
  ];
  const at = [0, 0, 0];
  for (;;) {
    let next = -1;
    for (let k = 0; k < lists.length; k += 1) {
      if (at[k] >= lists[k].length) continue;
      if (next < 0 || byChainOrder(positionOfRecord(lists[k][at[k]]), positionOfRecord(lists[next][at[next]])) < 0) {
        next = k;
      }
    }
    if (next < 0) return;
    yield lists[next][at[next]++];
  }
}

/** The contracts whose facts the checker recomputes, from an export's list of contracts. */
export function writersOf(contracts: Record<string, string> | undefined): NonNullable<CheckOptions["writers"]> {
  return {
    RepaymentSplitter: contracts?.RepaymentSplitter,
    LossWaterfall: contracts?.LossWaterfall,
    CollateralRegistry: contracts?.CollateralRegistry,
  };
}

/**
 * Checks a whole ledger held in memory (an export read back, or a ledger just read from a chain): every check of
 * {LedgerChecker}. With `proof`, the heads are the chain's at the export's block, and the export's own heads, block
 * and list of loans are checked against it.
 */
export function checkLedger(ledger: LedgerExport, options: CheckOptions & { proof?: ChainProof } = {}): AuditReport {
  const checker = new LedgerChecker({ writers: writersOf(ledger.contracts), ...options });
  for (const item of inChainOrder(ledger.loans, ledger.money, ledger.assets)) checkRecord(checker, item);
  return checker.finish(ledger, options.proof);
}
