/**
 * What the facts other contracts add to loan histories hash to, recomputed from their own events: the splitter's and
 * the loss waterfall's (IRepaymentSplitter, ILossWaterfall) and the collateral registry's (ICollateralRegistry). The
 * one place in TypeScript where those encodings are written; the checker (audit-check.ts) compares them with the
 * External facts of an export.
 */
import { AbiCoder, id as keccakText, keccak256 } from "ethers";
import type { EventRecord, Json } from "./audit-export.js";
import { formatLoanId, toLoanId } from "./ids.js";

/** An amount of an exported record (a decimal string), as a bigint; a missing one is zero. */
export const big = (v: Json | undefined) => BigInt(String(v ?? 0));

const abi = AbiCoder.defaultAbiCoder();

/** The fact a payout adds to its loan's history (IRepaymentSplitter): its batch of lenders, what it paid and skipped. */
export function payoutFactHash(e: EventRecord): string {
  const a = e.args;
  return keccak256(
    abi.encode(
      ["bytes32", "bytes32", "uint256", "uint256"],
      [keccakText("PayoutsPushed"), keccak256(String(a.batch)), BigInt(String(a.paid)), BigInt(String(a.skipped))],
    ),
  );
}

/** The lenders a payout's batch names, 20 bytes each, in order (lower case). */
export function batchLenders(batch: Json | undefined): string[] | undefined {
  const hex = String(batch ?? "");
  if (!/^0x([0-9a-fA-F]{40})*$/.test(hex)) return undefined;
  const lenders: string[] = [];
  for (let i = 2; i < hex.length; i += 40) lenders.push("0x" + hex.slice(i, i + 40).toLowerCase());
  return lenders;
}

/**
 * The fact hashes the money events of a transaction stand for, as the splitter and the loss waterfall write them into a
 * loan's history (IRepaymentSplitter, ILossWaterfall): the funding configuration, each recovery received, a settlement,
 * and each recovery shared after it.
 */
export function moneyFactHashes(events: readonly EventRecord[]): Set<string> {
  const hashes = new Set<string>();
  for (const e of events) {
    const a = e.args;
    const n = (key: string) => BigInt(String(a[key]));
    if (e.event === "FundingOpened") {
      const c = a.config as { [key: string]: Json };
      hashes.add(
        keccak256(
          abi.encode(
            ["tuple(address,address,uint16,uint16,uint16)"],
            [[c.borrowerPayout, c.insurer, c.platformFeeBps, c.premiumBps, c.reserveBps].map(String)],
          ),
        ),
      );
    } else if (e.event === "RecoveryReceived") {
      hashes.add(
        keccak256(abi.encode(["bytes32", "address", "uint256"], [keccakText("RecoveryReceived"), a.from, n("amount")])),
      );
    } else if (e.event === "PayoutsPushed") {
      hashes.add(payoutFactHash(e));
    } else if (e.event === "LossSettled") {
      const parts = [n("loss"), n("recoveredBefore"), n("insurerBore"), n("reserveBore"), n("lendersBore")];
      hashes.add(keccak256(abi.encode(Array(5).fill("uint256"), parts)));
    } else if (e.event === "RecoveryApplied") {
      const parts = [n("amount"), n("toInsurer"), n("toReserve"), n("toLenders")];
      hashes.add(keccak256(abi.encode(Array(4).fill("uint256"), parts)));
    }
  }
  return hashes;
}

/** `CollateralFact` in ICollateralRegistry: the tag of each fact the collateral registry adds to a loan's history. */
const COLLATERAL_FACT = { Pledged: 0, Released: 1, Seized: 2, Disposed: 3, Revalued: 4, Returned: 5 } as const;

/** The loan a record names, in the checker's form, when it names one. */
export function loanOf(record: EventRecord): string | undefined {
  const raw = record.args.loanId;
  return raw === undefined ? undefined : formatLoanId(toLoanId(String(raw)));
}

/**
 * The fact `event` (a collateral registry event) stands for in the history of `loanId`, as ICollateralRegistry writes
 * it, or undefined when it stands for none there. A revaluation stands for a fact in the history of every loan with a
 * lien on the asset, a disposal for one in each lien's loan, with the part of the proceeds allocated to that loan (its
 * DisposalAllocated of the same transaction, or nothing).
 */
export function collateralFactOf(event: EventRecord, tx: readonly EventRecord[], loanId: string): string | undefined {
  const a = event.args;
  // The registry's other events (ERC-721 transfers, kept payments) stand for no fact.
  if (a.assetId === undefined) return undefined;
  const asset = BigInt(String(a.assetId));
  const tagged = (kind: number) => keccak256(abi.encode(["uint8", "uint256"], [kind, asset]));
  const names = loanOf(event) === loanId;
  switch (event.event) {
    case "CollateralPledged":
      return names
        ? keccak256(
            abi.encode(
              ["uint8", "uint256", "uint256", "uint8"],
              [COLLATERAL_FACT.Pledged, asset, big(a.securedAmount), big(a.priority)],
            ),
          )
        : undefined;
    case "LienReleased":
      return names ? tagged(COLLATERAL_FACT.Released) : undefined;
    case "CollateralSeized":
      return names ? tagged(COLLATERAL_FACT.Seized) : undefined;
    case "SeizedAssetReturned":
      return names ? tagged(COLLATERAL_FACT.Returned) : undefined;
    case "CollateralRevalued":
      return keccak256(
        abi.encode(
          ["uint8", "uint256", "uint256", "bytes32"],
          [COLLATERAL_FACT.Revalued, asset, big(a.appraisalValue), String(a.appraisalDocHash)],
        ),
      );
    case "CollateralDisposed": {
      const allocation = tx.find(
        (e) => e.event === "DisposalAllocated" && big(e.args.assetId) === asset && loanOf(e) === loanId,
      );
      return keccak256(
        abi.encode(
          ["uint8", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
          [
            COLLATERAL_FACT.Disposed,
            asset,
            big(a.proceeds),
            big(allocation?.args.amount),
            String(a.buyerRef),
            String(a.saleDocHash),
          ],
        ),
      );
    }
    default:
      return undefined;
  }
}

/** What `compute` gives, or undefined where a forged record cannot even be encoded (the finding names it then). */
export function factOrNothing(compute: () => string | undefined): string | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}

/** The collateral events that must each have a fact in the history of the loan they name. */
export const COLLATERAL_EVENTS_WITH_FACTS = new Set([
  "CollateralPledged",
  "LienReleased",
  "CollateralSeized",
  "SeizedAssetReturned",
  "DisposalAllocated",
]);
