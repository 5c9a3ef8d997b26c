import { keccak256, ZeroHash } from "ethers";
import type { Address, Hash32, LoanId } from "./ids.js";
import { FactKind, type LoanStatus } from "./types.js";

/** One recorded fact about a loan, as its event carries it. */
export type LoanFact =
  | { kind: "Anchored"; at: number }
  | { kind: "StatusChanged"; from: LoanStatus; to: LoanStatus; at: number }
  | {
      kind: "RepaymentRecorded";
      installment: number;
      amount: bigint;
      lateInterest: bigint;
      interest: bigint;
      principal: bigint;
      prepayment: bigint;
      outstandingAfter: bigint;
      at: number;
    }
  | { kind: "DocumentAmended"; version: number; documentHash: Hash32; at: number }
  | { kind: "External"; source: Address; factHash: Hash32; at: number }
  | { kind: "ServicingDelegated"; servicer: Address; at: number }
  | { kind: "LossRecorded"; principal: bigint; interest: bigint; at: number }
  | { kind: "ServicerChanged"; from: Address; to: Address; at: number }
  | {
      kind: "AgreementSigned";
      borrower: Address;
      platform: Address;
      deadline: bigint;
      borrowerSignature: string;
      at: number;
    }
  | {
      kind: "AmendmentSigned";
      version: number;
      borrower: Address;
      platform: Address;
      deadline: bigint;
      borrowerSignature: string;
      at: number;
    }
  | { kind: "LegacyAgreement"; at: number };

/**
 * The static ABI types a fact's fields take: each encodes as one 32-byte word. `bytes` stands for a signature, which a
 * fact holds as its keccak256 hash.
 */
type Word = "uint8" | "uint16" | "uint40" | "uint256" | "address" | "bytes32" | "bytes";
type Layout = {
  [K in LoanFact["kind"]]: readonly (readonly [Exclude<keyof Extract<LoanFact, { kind: K }>, "kind">, Word])[];
};

/**
 * Each fact's fields after `(uint8 kind, uint256 loanId)`, in the order ILoanRegistry's `abi.encode` takes them: the
 * one place a fact's encoding is written in TypeScript.
 */
export const FACT_FIELDS = {
  Anchored: [["at", "uint40"]],
  StatusChanged: [
    ["from", "uint8"],
    ["to", "uint8"],
    ["at", "uint40"],
  ],
  RepaymentRecorded: [
    ["installment", "uint16"],
    ["amount", "uint256"],
    ["lateInterest", "uint256"],
    ["interest", "uint256"],
    ["principal", "uint256"],
    ["prepayment", "uint256"],
    ["outstandingAfter", "uint256"],
    ["at", "uint40"],
  ],
  DocumentAmended: [
    ["version", "uint16"],
    ["documentHash", "bytes32"],
    ["at", "uint40"],
  ],
  External: [
    ["source", "address"],
    ["factHash", "bytes32"],
    ["at", "uint40"],
  ],
  ServicingDelegated: [
    ["servicer", "address"],
    ["at", "uint40"],
  ],
  LossRecorded: [
    ["principal", "uint256"],
    ["interest", "uint256"],
    ["at", "uint40"],
  ],
  ServicerChanged: [
    ["from", "address"],
    ["to", "address"],
    ["at", "uint40"],
  ],
  AgreementSigned: [
    ["borrower", "address"],
    ["platform", "address"],
    ["deadline", "uint256"],
    ["borrowerSignature", "bytes"],
    ["at", "uint40"],
  ],
  AmendmentSigned: [
    ["version", "uint16"],
    ["borrower", "address"],
    ["platform", "address"],
    ["deadline", "uint256"],
    ["borrowerSignature", "bytes"],
    ["at", "uint40"],
  ],
  LegacyAgreement: [["at", "uint40"]],
} as const satisfies Layout;

const BITS = { uint8: 8n, uint16: 16n, uint40: 40n, uint256: 256n } as const;
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

/** The fact hash exactly as ILoanRegistry documents it: keccak256(abi.encode(kind, loanId, ...fields)). */
export function factHash(loanId: LoanId, fact: LoanFact): Hash32 {
  const fields = FACT_FIELDS[fact.kind] as readonly (readonly [string, Word])[];
  const values = fact as unknown as Record<string, unknown>;
  let encoded = word(FactKind[fact.kind], "uint8") + word(loanId, "uint256");
  for (const [name, type] of fields) encoded += word(values[name], type);
  // Bytes from Buffer's native hex decoder: ethers would otherwise validate and convert the hex string in JavaScript.
  return keccak256(Buffer.from(encoded, "hex")) as Hash32;
}

/** `head' = keccak256(abi.encode(head, factHash))`. */
export function nextHead(head: Hash32, fact: Hash32): Hash32 {
  return keccak256(Buffer.from(word(head, "bytes32") + word(fact, "bytes32"), "hex")) as Hash32;
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
