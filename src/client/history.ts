import { AbiCoder, keccak256, ZeroHash } from "ethers";
import type { Address, Hash32, LoanId } from "./ids.js";
import { FactKind, type LoanStatus } from "./types.js";

const coder = AbiCoder.defaultAbiCoder();

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
  | { kind: "ServicerChanged"; from: Address; to: Address; at: number };

/** The fact hash exactly as ILoanRegistry documents it. */
export function factHash(loanId: LoanId, fact: LoanFact): Hash32 {
  switch (fact.kind) {
    case "Anchored":
      return keccak256(coder.encode(["uint8", "uint256", "uint40"], [FactKind.Anchored, loanId, fact.at])) as Hash32;
    case "StatusChanged":
      return keccak256(
        coder.encode(
          ["uint8", "uint256", "uint8", "uint8", "uint40"],
          [FactKind.StatusChanged, loanId, fact.from, fact.to, fact.at],
        ),
      ) as Hash32;
    case "RepaymentRecorded":
      return keccak256(
        coder.encode(
          ["uint8", "uint256", "uint16", "uint256", "uint256", "uint256", "uint256", "uint256", "uint256", "uint40"],
          [
            FactKind.RepaymentRecorded,
            loanId,
            fact.installment,
            fact.amount,
            fact.lateInterest,
            fact.interest,
            fact.principal,
            fact.prepayment,
            fact.outstandingAfter,
            fact.at,
          ],
        ),
      ) as Hash32;
    case "DocumentAmended":
      return keccak256(
        coder.encode(
          ["uint8", "uint256", "uint16", "bytes32", "uint40"],
          [FactKind.DocumentAmended, loanId, fact.version, fact.documentHash, fact.at],
        ),
      ) as Hash32;
    case "External":
      return keccak256(
        coder.encode(
          ["uint8", "uint256", "address", "bytes32", "uint40"],
          [FactKind.External, loanId, fact.source, fact.factHash, fact.at],
        ),
      ) as Hash32;
    case "LossRecorded":
      return keccak256(
        coder.encode(
          ["uint8", "uint256", "uint256", "uint256", "uint40"],
          [FactKind.LossRecorded, loanId, fact.principal, fact.interest, fact.at],
        ),
      ) as Hash32;
    case "ServicerChanged":
      return keccak256(
        coder.encode(
          ["uint8", "uint256", "address", "address", "uint40"],
          [FactKind.ServicerChanged, loanId, fact.from, fact.to, fact.at],
        ),
      ) as Hash32;
    case "ServicingDelegated":
      return keccak256(
        coder.encode(
          ["uint8", "uint256", "address", "uint40"],
          [FactKind.ServicingDelegated, loanId, fact.servicer, fact.at],
        ),
      ) as Hash32;
  }
}

/** `head' = keccak256(abi.encode(head, factHash))`. */
export function nextHead(head: Hash32, fact: Hash32): Hash32 {
  return keccak256(coder.encode(["bytes32", "bytes32"], [head, fact])) as Hash32;
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
