/**
 * The auditor's verification: reading the ledger (audit-export.ts, over the ledger reader), checking it (audit-check.ts,
 * pure) and reporting it (audit-report.ts). This module joins them where a check needs files or a chain.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { keccak256, type Provider } from "ethers";
import { LoanRegistry__factory } from "../../typechain-types/index.js";
import { checkLedger, type AuditReport, type ChainProof } from "./audit-check.js";
import type { LedgerExport, Progress } from "./audit-export.js";
import { InputError } from "./errors.js";
import { formatLoanId, toLoanId } from "./ids.js";
import { LedgerReader, type LedgerReadOptions } from "./ledger.js";

export * from "./audit-export.js";
export * from "./audit-check.js";
export * from "./audit-report.js";

/** keccak256 of every file under `dir`: the document index a loan's document hashes are looked up in. */
async function documentIndex(dir: string): Promise<Set<string>> {
  const hashes = new Set<string>();
  const walk = async (folder: string) => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      throw new InputError(`cannot read the documents folder ${folder}`);
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) hashes.add(keccak256(await readFile(path)).toLowerCase());
    }
  };
  await walk(dir);
  return hashes;
}

/**
 * Verifies an exported (or freshly read) ledger with every check of {checkLedger}; documents are looked up in
 * `docsDir`, and with `proof` (from {proveExport}) the heads are the chain's at the export's block.
 */
export async function verifyLedger(
  ledger: LedgerExport,
  options: { loanId?: string; docsDir?: string; proof?: ChainProof; progress?: Progress } = {},
): Promise<AuditReport> {
  if (options.loanId && !ledger.loans.some((r) => r.loanId === options.loanId)) {
    throw new InputError(`loan ${options.loanId} is not in the ledger`);
  }
  const documents = options.docsDir
    ? { hashes: await documentIndex(options.docsDir), folder: options.docsDir }
    : undefined;
  const report = checkLedger(ledger, { loanId: options.loanId, documents, proof: options.proof });
  options.progress?.(report.loans.length, report.loans.length, "loans verified");
  return report;
}

/**
 * Reads from `provider` what the chain says at the export's block: the block's hash, every exported loan's history head,
 * and every loan anchored by then (unless only `loanId` is verified). Any node of the network can prove an export,
 * long after it was taken, as long as it serves that block's state.
 */
export async function proveExport(
  ledger: LedgerExport,
  provider: Provider,
  options: LedgerReadOptions & { loanId?: string; progress?: Progress } = {},
): Promise<ChainProof> {
  const block = ledger.block;
  const registryAddress = ledger.contracts?.LoanRegistry;
  if (!block || !registryAddress) {
    throw new InputError("the export's manifest does not name its block and loan registry, so it cannot be proven");
  }
  const reader = await LedgerReader.pin(provider, { ...options, at: block.number, fromBlock: ledger.fromBlock ?? 0 });
  const { chainId } = await reader.call(() => provider.getNetwork());
  const registry = LoanRegistry__factory.connect(registryAddress, provider);
  const ids = options.loanId
    ? [options.loanId]
    : [...new Set([...Object.keys(ledger.heads), ...ledger.loans.map((r) => r.loanId)])];
  const heads: Record<string, string> = {};
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    const found = await Promise.all(
      batch.map((loanId) => reader.call(() => registry.historyHead(loanId, { blockTag: reader.blockTag }))),
    );
    batch.forEach((loanId, k) => (heads[loanId] = found[k]));
    options.progress?.(Math.min(i + 100, ids.length), ids.length, "heads proven");
  }
  let anchored: string[] | undefined;
  if (!options.loanId) {
    const topic = registry.interface.getEvent("LoanAnchored").topicHash;
    const logs = await reader.logs({ address: registryAddress, topics: [topic] });
    anchored = logs.map((log) => formatLoanId(toLoanId(BigInt(log.topics[1]))));
  }
  return { chainId: chainId.toString(), block: reader.block, heads, anchored };
}
