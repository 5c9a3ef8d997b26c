/**
 * Every fact a loan's history can get, in one table: the registry's own facts (each recorded by one registry event)
 * and the facts its history writers add as External facts (each summarising one of the writer's events). The kind
 * numbers, the encodings (HistoryFacts.sol), the event list, the decoders and the labels of `loan history` all derive
 * from it, so a new fact is one row here beside its Solidity function.
 */
import { keccak256, ZeroHash } from "ethers";
import type { EventRecord, Json } from "../records/index.js";
import { formatLoanId, toAddress, toHash32, toLoanId, type Address, type Hash32, type LoanId } from "./ids.js";
// How `loan history` writes an amount: the CLI passes its token formatter, as it does to explain an error.
import type { AmountFormat } from "./errors.js";
import { LOAN_STATUS_NAMES, type LoanStatus } from "./types.js";

/**
 * The static ABI types a fact's fields take: each encodes as one 32-byte word. `bytes` (a signature, a payout's batch)
 * enters its fact as its keccak256 hash; `status` is a `LoanStatus`, a uint8.
 */
export type Word = "uint8" | "uint16" | "uint40" | "uint256" | "address" | "bytes32" | "bytes" | "status";
type Fields = readonly (readonly [string, Word])[];

/** The TypeScript value of a field of ABI type `W`. */
type ValueOf<W extends Word> = W extends "uint8" | "uint16" | "uint40"
  ? number
  : W extends "uint256"
    ? bigint
    : W extends "address"
      ? Address
      : W extends "bytes32"
        ? Hash32
        : W extends "status"
          ? LoanStatus
          : string;
type ValuesOf<F extends Fields> = { [E in F[number] as E[0]]: ValueOf<E[1]> };

/** One fact the registry records itself, with the event that records it. */
interface RegistryRow<F extends Fields, E extends string = string> {
  /** The fact's `FactKind` in ILoanRegistry.sol. */
  kind: number;
  event: E;
  /** Its fields after `(uint8 kind, uint256 loanId)`, in the order HistoryFacts.sol encodes them. */
  fields: F;
  label(fact: ValuesOf<F>, amount: AmountFormat): string;
}

/** The writers whose facts the registry records as External facts, with what each is. */
export const WRITER_NAMES = {
  RepaymentSplitter: "the repayment splitter",
  LossWaterfall: "the loss waterfall",
  CollateralRegistry: "the collateral registry",
} as const;
export type WriterName = keyof typeof WRITER_NAMES;

/** One fact a history writer adds, with the event of its own that the fact summarises. */
interface WriterRow<F extends Fields> {
  kind: number;
  writer: WriterName;
  event: string;
  /** Its fields after `(uint8 kind)`, in the order HistoryFacts.sol encodes them. */
  fields: F;
  /**
   * Which loans the event stands for a fact of: "loan", the loan it names; "asset", every loan whose lien is on its asset
   * (a revaluation, a sale).
   */
  scope: "loan" | "asset";
  /** The fields' values from the event (by default its arguments of the same names) and its transaction's events. */
  values?(event: EventRecord, tx: readonly EventRecord[], loanId: string): Record<string, Json>;
  /** Whether the event must have its fact in the loan's history (by default, yes). */
  required?(event: EventRecord, tx: readonly EventRecord[]): boolean;
  label(fact: ValuesOf<F>, amount: AmountFormat): string;
}

const registry = <const F extends Fields, const E extends string>(row: RegistryRow<F, E>) => row;
const writer = <const F extends Fields>(row: WriterRow<F>) => row;

/** An amount of an exported record (a decimal string), as a bigint; a missing one is zero. */
export const big = (v: Json | undefined) => BigInt(String(v ?? 0));

/** The loan a record names, in the checker's form, when it names one. */
export function loanOf(record: EventRecord): string | undefined {
  const raw = record.args.loanId;
  return raw === undefined ? undefined : formatLoanId(toLoanId(String(raw)));
}

/** The registry's own facts: `FactKind` 0 to 10 of ILoanRegistry.sol. */
export const REGISTRY_FACTS = {
  Anchored: registry({ kind: 0, event: "LoanAnchored", fields: [["at", "uint40"]], label: () => "anchored" }),
  StatusChanged: registry({
    kind: 1,
    event: "LoanStatusChanged",
    fields: [
      ["from", "status"],
      ["to", "status"],
      ["at", "uint40"],
    ],
    label: (f) => `${LOAN_STATUS_NAMES[f.from]} → ${LOAN_STATUS_NAMES[f.to]}`,
  }),
  RepaymentRecorded: registry({
    kind: 2,
    event: "RepaymentRecorded",
    fields: [
      ["installment", "uint16"],
      ["amount", "uint256"],
      ["lateInterest", "uint256"],
      ["interest", "uint256"],
      ["principal", "uint256"],
      ["prepayment", "uint256"],
      ["outstandingAfter", "uint256"],
      ["bankRef", "bytes32"],
      ["at", "uint40"],
    ],
    label: (f, amount) =>
      `installment ${f.installment}: paid ${amount(f.amount)}, principal ${amount(f.principal + f.prepayment)}`,
  }),
  DocumentAmended: registry({
    kind: 3,
    event: "LoanDocumentAmended",
    fields: [
      ["version", "uint16"],
      ["documentHash", "bytes32"],
      ["at", "uint40"],
    ],
    label: (f) => `document v${f.version} ${f.documentHash}`,
  }),
  External: registry({
    kind: 4,
    event: "LoanHistoryExtended",
    fields: [
      ["source", "address"],
      ["factHash", "bytes32"],
      ["at", "uint40"],
    ],
    label: (f) => `unrecognised fact ${f.factHash} by ${f.source}`,
  }),
  ServicingDelegated: registry({
    kind: 5,
    event: "LoanServicingDelegated",
    fields: [
      ["servicer", "address"],
      ["at", "uint40"],
    ],
    label: (f) => `money path delegated to ${f.servicer}`,
  }),
  LossRecorded: registry({
    kind: 6,
    event: "LossRecorded",
    fields: [
      ["principal", "uint256"],
      ["interest", "uint256"],
      ["at", "uint40"],
    ],
    label: (f, amount) => `loss recorded: principal ${amount(f.principal)}, interest ${amount(f.interest)}`,
  }),
  ServicerChanged: registry({
    kind: 7,
    event: "LoanServicerChanged",
    fields: [
      ["from", "address"],
      ["to", "address"],
      ["at", "uint40"],
    ],
    label: (f) => `servicing handed over from ${f.from} to ${f.to}`,
  }),
  AgreementSigned: registry({
    kind: 8,
    event: "LoanAgreementSigned",
    fields: [
      ["borrower", "address"],
      ["platform", "address"],
      ["deadline", "uint256"],
      ["borrowerSignature", "bytes"],
      ["at", "uint40"],
    ],
    label: (f) => `agreement signed by borrower ${f.borrower} and platform ${f.platform}`,
  }),
  AmendmentSigned: registry({
    kind: 9,
    event: "LoanAmendmentSigned",
    fields: [
      ["version", "uint16"],
      ["borrower", "address"],
      ["platform", "address"],
      ["deadline", "uint256"],
      ["borrowerSignature", "bytes"],
      ["at", "uint40"],
    ],
    label: (f) => `document v${f.version} signed by borrower ${f.borrower} and platform ${f.platform}`,
  }),
  LegacyAgreement: registry({
    kind: 10,
    event: "LegacyAgreementRecorded",
    fields: [["at", "uint40"]],
    label: () => "agreement signed on paper (legacy import): no on-chain consent",
  }),
} as const;

/** The allocation of a sale's proceeds to `loanId`: its DisposalAllocated of the transaction, or nothing. */
function allocated(sale: EventRecord, tx: readonly EventRecord[], loanId: string): bigint {
  const asset = big(sale.args.assetId);
  const allocation = tx.find(
    (e) => e.event === "DisposalAllocated" && big(e.args.assetId) === asset && loanOf(e) === loanId,
  );
  return big(allocation?.args.amount);
}

/** The facts the history writers add: `FactKind` 11 on of ILoanRegistry.sol, each named for the event it summarises. */
export const WRITER_FACTS = {
  FundingOpened: writer({
    kind: 11,
    writer: "RepaymentSplitter",
    event: "FundingOpened",
    fields: [
      ["borrowerPayout", "address"],
      ["insurer", "address"],
      ["platformFeeBps", "uint16"],
      ["premiumBps", "uint16"],
      ["reserveBps", "uint16"],
    ],
    scope: "loan",
    values: (e) => e.args.config as Record<string, Json>,
    label: (f) =>
      `opened for funding: fees ${f.platformFeeBps} bps, premium ${f.premiumBps} bps, reserve ${f.reserveBps} bps, ` +
      `paid out to ${f.borrowerPayout}`,
  }),
  RecoveryReceived: writer({
    kind: 12,
    writer: "RepaymentSplitter",
    event: "RecoveryReceived",
    fields: [
      ["from", "address"],
      ["amount", "uint256"],
    ],
    scope: "loan",
    label: (f, amount) => `recovery of ${amount(f.amount)} received for the lenders from ${f.from}`,
  }),
  PayoutsPushed: writer({
    kind: 13,
    writer: "RepaymentSplitter",
    event: "PayoutsPushed",
    fields: [
      ["batch", "bytes"],
      ["paid", "uint256"],
      ["skipped", "uint256"],
    ],
    scope: "loan",
    // A batch that paid nobody may still have settled positions (a closing payout), which the event does not say:
    // only one that paid must have its fact.
    required: (e) => big(e.args.paid) !== 0n,
    label: (f, amount) =>
      `payout of ${amount(f.paid)} to ${batchLenders(f.batch)?.length ?? "?"} lender(s), ${f.skipped} skipped`,
  }),
  LossSettled: writer({
    kind: 14,
    writer: "LossWaterfall",
    event: "LossSettled",
    fields: [
      ["loss", "uint256"],
      ["recoveredBefore", "uint256"],
      ["insurerBore", "uint256"],
      ["reserveBore", "uint256"],
      ["lendersBore", "uint256"],
    ],
    scope: "loan",
    label: (f, amount) =>
      `loss of ${amount(f.loss)} settled: insurer ${amount(f.insurerBore)}, reserve ${amount(f.reserveBore)}, ` +
      `lenders ${amount(f.lendersBore)}`,
  }),
  RecoveryApplied: writer({
    kind: 15,
    writer: "LossWaterfall",
    event: "RecoveryApplied",
    fields: [
      ["amount", "uint256"],
      ["toInsurer", "uint256"],
      ["toReserve", "uint256"],
      ["toLenders", "uint256"],
    ],
    scope: "loan",
    // Only a recovery after settlement is a fact of the waterfall (one before it reaches the lenders through the
    // splitter's RecoveryReceived), and the event does not say which it was.
    required: () => false,
    label: (f, amount) =>
      `recovery of ${amount(f.amount)} shared: insurer ${amount(f.toInsurer)}, reserve ${amount(f.toReserve)}, ` +
      `lenders ${amount(f.toLenders)}`,
  }),
  CollateralPledged: writer({
    kind: 16,
    writer: "CollateralRegistry",
    event: "CollateralPledged",
    fields: [
      ["assetId", "uint256"],
      ["securedAmount", "uint256"],
      ["priority", "uint8"],
    ],
    scope: "loan",
    label: (f, amount) => `asset ${f.assetId} pledged for ${amount(f.securedAmount)} at priority ${f.priority}`,
  }),
  LienReleased: writer({
    kind: 17,
    writer: "CollateralRegistry",
    event: "LienReleased",
    fields: [["assetId", "uint256"]],
    scope: "loan",
    // Returning a seized asset releases its lien too, and records the return's fact alone.
    required: (e, tx) =>
      !tx.some(
        (r) =>
          r.event === "SeizedAssetReturned" && big(r.args.assetId) === big(e.args.assetId) && loanOf(r) === loanOf(e),
      ),
    label: (f) => `lien on asset ${f.assetId} released`,
  }),
  CollateralSeized: writer({
    kind: 18,
    writer: "CollateralRegistry",
    event: "CollateralSeized",
    fields: [["assetId", "uint256"]],
    scope: "loan",
    label: (f) => `asset ${f.assetId} seized`,
  }),
  CollateralDisposed: writer({
    kind: 19,
    writer: "CollateralRegistry",
    event: "CollateralDisposed",
    fields: [
      ["assetId", "uint256"],
      ["proceeds", "uint256"],
      ["allocated", "uint256"],
      ["buyerRef", "bytes32"],
      ["saleDocHash", "bytes32"],
    ],
    scope: "asset",
    values: (e, tx, loanId) => ({ ...e.args, allocated: allocated(e, tx, loanId).toString() }),
    // Each lien's loan gets the fact; the loans that got money are named by DisposalAllocated (checked below).
    required: () => false,
    label: (f, amount) =>
      `asset ${f.assetId} sold for ${amount(f.proceeds)}, ${amount(f.allocated)} of it to this loan`,
  }),
  CollateralRevalued: writer({
    kind: 20,
    writer: "CollateralRegistry",
    event: "CollateralRevalued",
    fields: [
      ["assetId", "uint256"],
      ["appraisalValue", "uint256"],
      ["appraisalDocHash", "bytes32"],
    ],
    scope: "asset",
    // Every loan the asset secures gets it, which the event does not list.
    required: () => false,
    label: (f, amount) => `asset ${f.assetId} revalued at ${amount(f.appraisalValue)}`,
  }),
  SeizedAssetReturned: writer({
    kind: 21,
    writer: "CollateralRegistry",
    event: "SeizedAssetReturned",
    fields: [["assetId", "uint256"]],
    scope: "loan",
    label: (f) => `seized asset ${f.assetId} returned to its owner`,
  }),
} as const;

type RegistryFacts = typeof REGISTRY_FACTS;
type WriterFacts = typeof WRITER_FACTS;
type FactOf<T extends Record<string, { fields: Fields }>, K extends keyof T> = { kind: K } & ValuesOf<T[K]["fields"]>;

/** One fact the registry recorded about a loan, as its event carries it. */
export type LoanFact = { [K in keyof RegistryFacts]: FactOf<RegistryFacts, K> }[keyof RegistryFacts];
/** One fact a history writer added (the fact behind an External fact), as its event gives it. */
export type WriterFact = { [K in keyof WriterFacts]: FactOf<WriterFacts, K> }[keyof WriterFacts];
export type FactKindName = keyof RegistryFacts | keyof WriterFacts;

/** `FactKind` of ILoanRegistry.sol, by name. */
export const FactKind = Object.fromEntries(
  [...Object.entries(REGISTRY_FACTS), ...Object.entries(WRITER_FACTS)].map(([name, row]) => [name, row.kind]),
) as { readonly [K in keyof RegistryFacts]: RegistryFacts[K]["kind"] } & {
  readonly [K in keyof WriterFacts]: WriterFacts[K]["kind"];
};
export type FactKind = (typeof FactKind)[FactKindName];

/** Each registry fact's fields after `(uint8 kind, uint256 loanId)`, in the order HistoryFacts.sol encodes them. */
export const FACT_FIELDS = Object.fromEntries(
  Object.entries(REGISTRY_FACTS).map(([name, row]) => [name, row.fields]),
) as { readonly [K in keyof RegistryFacts]: RegistryFacts[K]["fields"] };

/** The registry events that record history facts (each carries the new head). */
export const HISTORY_EVENTS = Object.values(REGISTRY_FACTS).map((row) => row.event) as {
  [K in keyof RegistryFacts]: RegistryFacts[K]["event"];
}[keyof RegistryFacts][];

const REGISTRY_BY_EVENT = new Map<string, keyof RegistryFacts>(
  (Object.keys(REGISTRY_FACTS) as (keyof RegistryFacts)[]).map((kind) => [REGISTRY_FACTS[kind].event, kind]),
);
const WRITER_BY_EVENT = new Map<string, keyof WriterFacts>(
  (Object.keys(WRITER_FACTS) as (keyof WriterFacts)[]).map((kind) => [WRITER_FACTS[kind].event, kind]),
);

// ---------------------------------------------------------------- decoding

/** One field's value from an event's argument or an export's JSON, checked against its type. */
function decodeValue(value: unknown, type: Word): unknown {
  switch (type) {
    case "uint8":
    case "uint16":
    case "uint40": {
      if (value === undefined || value === null) throw new RangeError(`a ${type} is missing`);
      return Number(value);
    }
    case "status": {
      const status = Number(value);
      if (!Number.isInteger(status) || !(status in LOAN_STATUS_NAMES)) throw new RangeError(`${value} is no status`);
      return status;
    }
    case "uint256":
      if (value === undefined || value === null) throw new RangeError("an amount is missing");
      return typeof value === "bigint" ? value : BigInt(String(value));
    case "address":
      return toAddress(String(value));
    case "bytes32":
      return toHash32(String(value));
    case "bytes":
      return String(value);
  }
}

function decode<T>(kind: string, fields: Fields, values: Readonly<Record<string, unknown>>): T {
  const fact: Record<string, unknown> = { kind };
  for (const [name, type] of fields) fact[name] = decodeValue(values[name], type);
  return fact as T;
}

/**
 * A registry fact from the fields it was recorded or exported with: the arguments of its event (`kindOrEvent` the
 * event's name) or an exported record's fact (`kindOrEvent` the fact's kind). Undefined for a kind the table does not
 * know; a RangeError for a value its field cannot hold.
 */
export function decodeLoanFact(kindOrEvent: string, values: Readonly<Record<string, unknown>>): LoanFact | undefined {
  // Own keys only: an exported kind such as "toString" is no fact.
  const kind = Object.hasOwn(REGISTRY_FACTS, kindOrEvent)
    ? (kindOrEvent as keyof RegistryFacts)
    : REGISTRY_BY_EVENT.get(kindOrEvent);
  return kind === undefined ? undefined : decode<LoanFact>(kind, REGISTRY_FACTS[kind].fields, values);
}

/**
 * The fact `event` (a history writer's event, as exported) stands for in the history of `loanId`, with `tx` the
 * events of its transaction; undefined when it stands for none there.
 */
export function writerFactOf(event: EventRecord, tx: readonly EventRecord[], loanId: string): WriterFact | undefined {
  const kind = WRITER_BY_EVENT.get(event.event);
  if (kind === undefined) return undefined;
  const row: WriterRow<Fields> = WRITER_FACTS[kind];
  if (row.writer !== event.contract) return undefined;
  if (row.scope === "loan" && loanOf(event) !== loanId) return undefined;
  return decode<WriterFact>(kind, row.fields, row.values ? row.values(event, tx, loanId) : event.args);
}

/** Whether `event` (a history writer's event naming `loanId`) must have its fact in that loan's history. */
export function needsFact(event: EventRecord, tx: readonly EventRecord[]): boolean {
  const kind = WRITER_BY_EVENT.get(event.event);
  if (kind === undefined) return event.event === "DisposalAllocated";
  const row: WriterRow<Fields> = WRITER_FACTS[kind];
  return row.writer === event.contract && (row.required?.(event, tx) ?? true);
}

/** The lenders a payout's batch names, 20 bytes each, in order (lower case). */
export function batchLenders(batch: Json | undefined): string[] | undefined {
  const hex = String(batch ?? "");
  if (!/^0x([0-9a-fA-F]{40})*$/.test(hex)) return undefined;
  const lenders: string[] = [];
  for (let i = 2; i < hex.length; i += 40) lenders.push("0x" + hex.slice(i, i + 40).toLowerCase());
  return lenders;
}

// ---------------------------------------------------------------- encoding

const BITS = { uint8: 8n, uint16: 16n, uint40: 40n, status: 8n, uint256: 256n } as const;
const HEX_WORD = { address: /^0x[0-9a-fA-F]{40}$/, bytes32: /^0x[0-9a-fA-F]{64}$/ } as const;

/**
 * One value as its 32-byte ABI word, in hex. Every field of a fact is static, so `abi.encode` is these words one after
 * another: writing them directly spares parsing ABI type strings for every entry of every history.
 */
function word(value: unknown, type: Word): string {
  if (type === "bytes") {
    const hex = String(value);
    if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new RangeError(`${hex} is not bytes`);
    return keccak256(Buffer.from(hex.slice(2), "hex")).slice(2);
  }
  if (type === "address" || type === "bytes32") {
    const hex = String(value);
    if (!HEX_WORD[type].test(hex)) throw new RangeError(`${hex} is not an ${type}`);
    return hex.slice(2).toLowerCase().padStart(64, "0");
  }
  const n = typeof value === "bigint" ? value : BigInt(value as number);
  if (n < 0n || n >> BITS[type] !== 0n) throw new RangeError(`${n} does not fit a ${type}`);
  return n.toString(16).padStart(64, "0");
}

function hashWords(words: string): Hash32 {
  // Bytes from Buffer's native hex decoder: ethers would otherwise validate and convert the hex string in JavaScript.
  return keccak256(Buffer.from(words, "hex")) as Hash32;
}

function fieldWords(fields: Fields, fact: object): string {
  const values = fact as Record<string, unknown>;
  let encoded = "";
  for (const [name, type] of fields) encoded += word(values[name], type);
  return encoded;
}

/** The fact hash exactly as HistoryFacts.sol computes it: keccak256(abi.encode(kind, loanId, ...fields)). */
export function factHash(loanId: LoanId, fact: LoanFact): Hash32 {
  const row: RegistryRow<Fields> = REGISTRY_FACTS[fact.kind];
  return hashWords(word(row.kind, "uint8") + word(loanId, "uint256") + fieldWords(row.fields, fact));
}

/** A writer's fact hash (the `factHash` of its External fact), as HistoryFacts.sol computes it. */
export function writerFactHash(fact: WriterFact): Hash32 {
  const row: WriterRow<Fields> = WRITER_FACTS[fact.kind];
  return hashWords(word(row.kind, "uint8") + fieldWords(row.fields, fact));
}

/** `head' = keccak256(abi.encode(head, factHash))`. */
export function nextHead(head: Hash32, fact: Hash32): Hash32 {
  return hashWords(word(head, "bytes32") + word(fact, "bytes32"));
}

export const GENESIS_HEAD = ZeroHash as Hash32;

/** Replays `facts` from the genesis head and returns the head after each of them. */
export function replayHeads(loanId: LoanId, facts: readonly LoanFact[]): Hash32[] {
  const heads: Hash32[] = [];
  let head = GENESIS_HEAD;
  for (const fact of facts) {
    head = nextHead(head, factHash(loanId, fact));
    heads.push(head);
  }
  return heads;
}

// ---------------------------------------------------------------- labels

/**
 * What a history entry says, in words: its fact's label, or for an External fact the label of the writer's fact it
 * was proven to be (`writerFact`), naming the writer.
 */
export function describeFact(fact: LoanFact, writerFact?: WriterFact, amount: AmountFormat = String): string {
  if (fact.kind === "External" && writerFact) {
    const row: WriterRow<Fields> = WRITER_FACTS[writerFact.kind];
    return `${row.label(writerFact as never, amount)} (${row.writer} ${fact.source})`;
  }
  const row: RegistryRow<Fields> = REGISTRY_FACTS[fact.kind];
  return row.label(fact as never, amount);
}
