/**
 * The auditor's checks: pure functions of an export (and, when one was read, of what a chain says at the export's
 * block). Nothing here reads a chain or a file; the reader (audit-export.ts) and the renderers (audit-report.ts) do.
 */
import {
  byChainOrder,
  type BlockRef,
  type EventRecord,
  type Json,
  type LedgerExport,
  type LoanRecord,
  type Position,
} from "./audit-export.js";
import { factHash, GENESIS_HEAD, nextHead, type LoanFact } from "./history.js";
import { formatLoanId, toAddress, toHash32, toLoanId } from "./ids.js";
import { loanIdOf } from "./loans.js";
import { isTransitionAllowed, LOAN_STATUS_NAMES, LoanStatus, type LoanTerms } from "./types.js";

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
  | "compensation";

/** Every check the verifier runs, with what it establishes (the report lists them). */
export const CHECKS: Record<CheckKind, string> = {
  manifest:
    "every file of the export has the SHA-256 digest its manifest states; a proven export is of the chain named",
  terms: "every loan's terms hash to its id (keccak256 of their ABI encoding), so no term or document hash was changed",
  history: "every entry's head follows from the entry before it, and the last one is the loan's head on chain",
  order: "every loan's entries are in chain order",
  transition: "every status change is allowed by the transition table, from the status the loan was in",
  repayment: "every repayment's parts add up to its amount",
  split: "every split adds up to the amount paid, and its lenders' part is what the registry recorded",
  document: "every document version's hash matches a file in the documents folder (when one is given)",
  payout: "no loan's lenders were paid more than came in for them",
  compensation: "every loss settlement paid the insurer's and the reserve's parts it states",
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
  blockNumber?: number;
  transactionHash?: string;
  logIndex?: number;
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
  /** The history head of every loan of the export, at that block. */
  heads: Record<string, string>;
  /** Every loan anchored on chain up to that block (undefined when only some loans are verified). */
  anchored?: string[];
}

/** Which heads the histories were checked against, and whether a chain vouched for them. */
export interface HeadsStatement {
  /** "chain": read from a node at `provenAt`; "export": taken from the export's heads.json, proven by nothing. */
  source: "chain" | "export";
  provenAt: BlockRef | null;
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
  loans: string[];
  entries: number;
  platforms: Record<string, PlatformSummary>;
  heads: HeadsStatement;
  /** The checks run, by name, with what each establishes. */
  checks: Partial<Record<CheckKind, string>>;
  findings: Finding[];
  ok: boolean;
}

const big = (v: Json | undefined) => BigInt(String(v ?? 0));

/** The fact of an exported record, typed again (amounts back to bigint); undefined for a kind it does not know. */
function factOf(record: LoanRecord): LoanFact | undefined {
  const f = record.fact;
  const at = Number(f.at);
  switch (f.kind) {
    case "StatusChanged":
      return { kind: "StatusChanged", from: Number(f.from) as LoanStatus, to: Number(f.to) as LoanStatus, at };
    case "RepaymentRecorded":
      return {
        kind: "RepaymentRecorded",
        installment: Number(f.installment),
        amount: big(f.amount),
        lateInterest: big(f.lateInterest),
        interest: big(f.interest),
        principal: big(f.principal),
        prepayment: big(f.prepayment),
        outstandingAfter: big(f.outstandingAfter),
        at,
      };
    case "DocumentAmended":
      return {
        kind: "DocumentAmended",
        version: Number(f.version),
        documentHash: toHash32(String(f.documentHash)),
        at,
      };
    case "External":
      return { kind: "External", source: toAddress(String(f.source)), factHash: toHash32(String(f.factHash)), at };
    case "ServicingDelegated":
      return { kind: "ServicingDelegated", servicer: toAddress(String(f.servicer)), at };
    case "ServicerChanged":
      return { kind: "ServicerChanged", from: toAddress(String(f.from)), to: toAddress(String(f.to)), at };
    case "LossRecorded":
      return { kind: "LossRecorded", principal: big(f.principal), interest: big(f.interest), at };
    case "Anchored":
      return { kind: "Anchored", at };
    default:
      return undefined;
  }
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
function checkManifest(ledger: LedgerExport, findings: Finding[]): void {
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
function checkProofBlock(ledger: LedgerExport, proof: ChainProof, findings: Finding[]): boolean {
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

/**
 * Checks an export (or a freshly read ledger): the files against the manifest, every loan's terms against its id,
 * every hash chain entry by entry and against the loan's head, chain order, the transition table, that repayments add
 * up, documents against `documents` (keccak256 of each file of the documents folder), and that payouts and compensation
 * are accounted for. With `proof`, the heads are the chain's at the export's block, and the export's own heads, block
 * and list of loans are checked against it.
 */
export function checkLedger(
  ledger: LedgerExport,
  options: {
    loanId?: string;
    documents?: { hashes: ReadonlySet<string>; folder: string };
    proof?: ChainProof;
    now?: Date;
  } = {},
): AuditReport {
  const findings: Finding[] = [];
  checkManifest(ledger, findings);
  const { proof } = options;
  const proofHolds = proof ? checkProofBlock(ledger, proof, findings) : false;
  const headsProvenAt = proof ? (proofHolds ? proof.block : null) : (ledger.headsProvenAt ?? null);
  const headOf = (loanId: string) => (proof && proofHolds ? proof.heads[loanId] : ledger.heads[loanId]);

  const byLoan = new Map<string, LoanRecord[]>();
  for (const record of ledger.loans) {
    if (options.loanId && record.loanId !== options.loanId) continue;
    const list = byLoan.get(record.loanId) ?? [];
    list.push(record);
    byLoan.set(record.loanId, list);
  }
  const money = groupMoney(ledger.money);
  const platforms: Record<string, PlatformSummary> = {};
  const lendersPartByTx = new Map<string, bigint>();
  const heads: HeadsStatement = {
    source: headsProvenAt ? "chain" : "export",
    provenAt: headsProvenAt,
    proven: [],
    exportOnly: [],
  };
  let entries = 0;

  if (proof?.anchored && proofHolds && !options.loanId) {
    for (const loanId of proof.anchored) {
      if (!byLoan.has(loanId)) {
        findings.push({
          check: "history",
          loanId,
          message: `loan ${loanId} was anchored on chain by block ${proof.block.number}, but the export leaves it out`,
        });
      }
    }
  }

  for (const [loanId, records] of byLoan) {
    const anchored = records.find((r) => r.fact.kind === "Anchored");
    const platform = String(anchored?.terms?.platform ?? "unknown");
    const summary = (platforms[platform] ??= { loans: 0, entries: 0, repayments: 0, findings: 0 });
    summary.loans += 1;
    summary.entries += records.length;
    entries += records.length;
    const found = (finding: Omit<Finding, "loanId" | "platform">) => {
      findings.push({ loanId, platform, ...finding });
      summary.findings += 1;
    };

    if (!anchored) {
      found({ check: "terms", message: "the loan has no Anchored entry, so nothing gives its terms" });
    }
    let head: string = GENESIS_HEAD;
    let status: LoanStatus = LoanStatus.None;
    records.forEach((record, i) => {
      const entry = i + 1;
      const fact = factOf(record);
      if (!fact) {
        found({
          check: "history",
          entry,
          ...where(record),
          message: `entry ${entry} records a fact of kind ${JSON.stringify(record.fact.kind)}, which the verifier cannot decode`,
        });
        head = record.head.toLowerCase();
        return;
      }
      if (i > 0 && byChainOrder(records[i - 1], record) >= 0) {
        found({
          check: "order",
          entry,
          ...where(record),
          message: `entry ${entry} comes before entry ${i} on chain: the entries are out of order`,
        });
      }
      const replayed = nextHead(toHash32(head), factHash(toLoanId(loanId), fact));
      if (replayed !== record.head.toLowerCase()) {
        found({
          check: "history",
          entry,
          ...where(record),
          message: `entry ${entry} (${fact.kind}) does not produce its recorded head from the entry before it: it was altered, or an entry is missing just before it`,
        });
      }
      head = record.head.toLowerCase();
      if (fact.kind === "Anchored") {
        status = LoanStatus.Funding;
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
        if (fact.from !== status || !isTransitionAllowed(fact.from, fact.to)) {
          found({
            check: "transition",
            entry,
            ...where(record),
            message: `entry ${entry} moves the loan ${LOAN_STATUS_NAMES[fact.from]} → ${LOAN_STATUS_NAMES[fact.to]} while it was ${LOAN_STATUS_NAMES[status]}`,
          });
        }
        status = fact.to;
      }
      if (fact.kind === "RepaymentRecorded") {
        summary.repayments += 1;
        lendersPartByTx.set(`${record.transactionHash}:${loanId}`, fact.amount);
        const parts = fact.lateInterest + fact.interest + fact.principal + fact.prepayment;
        if (parts !== fact.amount) {
          found({
            check: "repayment",
            entry,
            ...where(record),
            message: `entry ${entry}: the repayment's parts add up to ${parts}, not its amount ${fact.amount}`,
          });
        }
      }
      const documents = options.documents;
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
    });

    const onChain = headOf(loanId);
    if (headsProvenAt) heads.proven.push(loanId);
    else heads.exportOnly.push(loanId);
    if (proof && proofHolds && !sameHash(ledger.heads[loanId], onChain)) {
      found({
        check: "history",
        entry: records.length,
        message: `the export gives the head ${ledger.heads[loanId] ?? "(none)"}, but the chain's head at block ${proof.block.number} is ${onChain ?? "(none)"}`,
      });
    }
    if (!onChain) {
      found({ check: "history", message: "no head is known for this loan, so the end of its history is unchecked" });
    } else if (head !== onChain.toLowerCase()) {
      found({
        check: "history",
        entry: records.length,
        message: `the last entry's head ${head} is not the ${headsProvenAt ? `chain's head at block ${headsProvenAt.number}` : "head the export states"} ${onChain}: entries are missing at the end, or the heads were rewritten`,
      });
    }
    checkMoney(money.get(loanId) ?? [], lendersPartByTx, loanId, found);
  }
  const checks = Object.fromEntries(
    (Object.keys(CHECKS) as CheckKind[])
      .filter((check) => check !== "document" || options.documents)
      .map((check) => [check, CHECKS[check]]),
  );
  return {
    chainId: ledger.chainId,
    verifiedAt: (options.now ?? new Date()).toISOString(),
    block: ledger.block ?? null,
    loans: [...byLoan.keys()],
    entries,
    platforms,
    heads,
    checks,
    findings,
    ok: findings.length === 0,
  };
}

function groupMoney(records: EventRecord[]): Map<string, EventRecord[]> {
  const byLoan = new Map<string, EventRecord[]>();
  for (const record of records) {
    const raw = record.args.loanId;
    if (raw === undefined) continue;
    const loanId = formatLoanId(toLoanId(String(raw)));
    const list = byLoan.get(loanId) ?? [];
    list.push(record);
    byLoan.set(loanId, list);
  }
  return byLoan;
}

/** Repayment splits add up and match the registry; payouts never exceed what came in; compensation was paid. */
function checkMoney(
  records: EventRecord[],
  lendersPartByTx: Map<string, bigint>,
  loanId: string,
  found: (finding: Omit<Finding, "loanId" | "platform">) => void,
): void {
  let lendersIn = 0n;
  let paidOut = 0n;
  for (const record of records) {
    const a = record.args;
    if (record.event === "RepaymentSplit") {
      const s = a.split as { [key: string]: Json };
      const fees = big(s.platformFee) + big(s.premium) + big(s.reserve);
      const lenders = big(s.lateInterest) + big(s.interest) + big(s.principal) + big(s.prepayment);
      if (fees + lenders !== big(a.amount)) {
        found({
          check: "split",
          ...where(record),
          message: `a repayment of ${big(a.amount)} splits into ${fees + lenders}`,
        });
      }
      const recorded = lendersPartByTx.get(`${record.transactionHash}:${loanId}`);
      if (recorded !== undefined && recorded !== lenders) {
        found({
          check: "split",
          ...where(record),
          message: `the lenders' part ${lenders} is not the ${recorded} the registry recorded`,
        });
      }
      lendersIn += lenders;
    } else if (record.event === "RecoveryReceived") {
      lendersIn += big(a.amount);
    } else if (record.event === "FundingCancelled") {
      lendersIn += big(a.committed);
    } else if (record.event === "PayoutsPushed") {
      paidOut += big(a.paid);
    } else if (record.event === "Claimed") {
      paidOut += big(a.amount);
    } else if (record.event === "RemainderSwept") {
      paidOut += big(a.amount);
    } else if (record.event === "LossSettled") {
      const tx = records.filter((r) => r.transactionHash === record.transactionHash);
      const claim = tx.find((r) => r.event === "ClaimPaid");
      const compensation = tx.find((r) => r.event === "Compensated");
      if (big(claim?.args.paid) !== big(a.insurerBore) || big(compensation?.args.paid) !== big(a.reserveBore)) {
        found({
          check: "compensation",
          ...where(record),
          message: `the settlement says insurer ${big(a.insurerBore)} and reserve ${big(a.reserveBore)}, but ${big(claim?.args.paid)} and ${big(compensation?.args.paid)} were paid`,
        });
      }
    }
  }
  if (paidOut > lendersIn) {
    found({
      check: "payout",
      message: `the lenders were paid ${paidOut}, more than the ${lendersIn} that came in for them`,
    });
  }
}
