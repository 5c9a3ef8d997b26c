/**
 * An auditor's attestation of a report: the auditor signs (EIP-191, its own key) a statement naming the SHA-256 of
 * audit-report.json and of the verified export's manifest.json, the chain and block, and the verdict. Anyone holding
 * the report (and the export) checks it: the digests are recomputed from the files, the statement from the report, and
 * the signer recovered from the signature.
 *
 * An auditor member may also put the attestation on chain, by hash: the disclosure registry records the report's
 * SHA-256 with the manifest's and the export's block, for the auditor that sent it ({attestOnChain}); anyone then
 * finds who attested a report, and at which block ({onChainAttestations}, {checkOnChain}).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { verifyMessage, ZeroHash, type ContractTransactionReceipt, type Signer } from "ethers";
import type { DisclosureRegistry } from "../../typechain-types/index.js";
import type { AuditReport } from "./check.js";
import { MANIFEST_FILE, type Manifest } from "./source.js";
import { InputError } from "../client/errors.js";
import { toAddress, type Address } from "../client/ids.js";
import { LedgerReader, type LedgerReadOptions } from "../client/ledger.js";
import { transact } from "../client/transact.js";

export const ATTESTATION_FORMAT = "loanledger-audit-attestation/1";

/** What an auditor signs, field by field; `statement` is the text of these fields that the signature is over. */
export interface Attestation {
  format: string;
  auditor: Address;
  /** SHA-256 (hex) of the audit-report.json bytes attested. */
  reportSha256: string;
  /** SHA-256 (hex) of the manifest.json of the export the report verified, or null for a report read from a chain. */
  exportManifestSha256: string | null;
  chainId: string;
  block: { number: number; hash: string } | null;
  ok: boolean;
  findings: number;
  statement: string;
  /** EIP-191 signature of `statement` by `auditor`. */
  signature: string;
}

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

function parseReport(reportBytes: Uint8Array): AuditReport {
  try {
    const report = JSON.parse(Buffer.from(reportBytes).toString("utf8")) as AuditReport;
    if (typeof report.chainId !== "string" || !Array.isArray(report.findings)) throw new Error("not a report");
    return report;
  } catch {
    throw new InputError("the file given as the report is not an audit-report.json");
  }
}

/** The fields an attestation states about `reportBytes`, and the text that is signed. */
function statementOf(reportBytes: Uint8Array, auditor: Address): Omit<Attestation, "signature"> {
  const report = parseReport(reportBytes);
  const fields = {
    format: ATTESTATION_FORMAT,
    auditor,
    reportSha256: sha256(reportBytes),
    exportManifestSha256: report.exportManifestSha256 ?? null,
    chainId: report.chainId,
    block: report.block ? { number: report.block.number, hash: report.block.hash } : null,
    ok: report.ok,
    findings: report.findings.length,
  };
  const statement = [
    "LoanLedger audit attestation",
    `auditor: ${fields.auditor}`,
    `report: sha256 ${fields.reportSha256}`,
    `export manifest: ${fields.exportManifestSha256 ? `sha256 ${fields.exportManifestSha256}` : "none (read from the chain)"}`,
    `chain ${fields.chainId}, block ${fields.block ? `${fields.block.number} ${fields.block.hash}` : "not stated"}`,
    `result: ${fields.ok ? "verified" : "does not verify"}, ${fields.findings} finding(s)`,
  ].join("\n");
  return { ...fields, statement };
}

/** Signs the report `reportBytes` (audit-report.json as written) with `signer`, the auditor's key. */
export async function attestReport(signer: Signer, reportBytes: Uint8Array): Promise<Attestation> {
  const auditor = toAddress(await signer.getAddress());
  const fields = statementOf(reportBytes, auditor);
  return { ...fields, signature: await signer.signMessage(fields.statement) };
}

/** The outcome of checking an attestation: who signed it, and everything that does not hold. */
export interface AttestationCheck {
  ok: boolean;
  /** The account the signature recovers to, when it is a signature at all. */
  signer: Address | null;
  problems: string[];
}

/**
 * Checks `attestation` against the report it names (`reportBytes`) and, when given, the export's manifest
 * (`manifestBytes`): the signature recovers to the stated auditor, the statement is the report's, the report's digest
 * is the attested one, and the manifest is the one the report verified.
 */
export function checkAttestation(
  attestation: Attestation,
  reportBytes: Uint8Array,
  manifestBytes?: Uint8Array,
): AttestationCheck {
  const problems: string[] = [];
  if (attestation.format !== ATTESTATION_FORMAT) {
    problems.push(`the attestation is of format ${JSON.stringify(attestation.format)}, not ${ATTESTATION_FORMAT}`);
  }
  let signer: Address | null = null;
  try {
    signer = toAddress(verifyMessage(attestation.statement, attestation.signature));
  } catch {
    problems.push("the signature is not a signature of the statement");
  }
  if (signer && signer.toLowerCase() !== String(attestation.auditor).toLowerCase()) {
    problems.push(`the statement was signed by ${signer}, not by the auditor ${attestation.auditor} it names`);
  }
  const expected = statementOf(reportBytes, toAddress(String(attestation.auditor)));
  if (expected.reportSha256 !== attestation.reportSha256) {
    problems.push(
      `the report has SHA-256 ${expected.reportSha256}, not the ${attestation.reportSha256} attested: it is another report, or it was changed`,
    );
  }
  if (expected.statement !== attestation.statement) {
    problems.push("the signed statement is not the statement of this report");
  }
  if (manifestBytes) {
    const manifest = sha256(manifestBytes);
    if (manifest !== expected.exportManifestSha256) {
      problems.push(
        `the export's manifest.json has SHA-256 ${manifest}, but the report verified the export whose manifest is ${expected.exportManifestSha256 ?? "(none)"}`,
      );
    }
  }
  return { ok: problems.length === 0, signer, problems };
}

/** SHA-256 (hex) of the file at `path`, read as a stream, or undefined when there is no such file. */
async function fileSha256(path: string): Promise<string | undefined> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    return undefined;
  }
  return hash.digest("hex");
}

/**
 * {checkAttestation} against the export in `dir` as it is now: its manifest must be the one the report verified, and
 * every file the manifest lists must still have the digest it states. The manifest alone proves nothing about files
 * that were changed beside it after the report was attested.
 */
export async function checkAttestedExport(
  attestation: Attestation,
  reportBytes: Uint8Array,
  dir: string,
): Promise<AttestationCheck> {
  let manifestBytes: Buffer;
  try {
    manifestBytes = await readFile(join(dir, MANIFEST_FILE));
  } catch {
    throw new InputError(`cannot read ${join(dir, MANIFEST_FILE)}`);
  }
  const result = checkAttestation(attestation, reportBytes, manifestBytes);
  const problems = [...result.problems];
  let files: Manifest["files"] = {};
  try {
    files = (JSON.parse(manifestBytes.toString("utf8")) as Manifest).files ?? {};
  } catch {
    problems.push(`the export's ${MANIFEST_FILE} is not JSON`);
  }
  for (const [file, stated] of Object.entries(files)) {
    // A manifest names files of its own folder only: anything else would have the check read outside the export.
    const actual = basename(file) === file ? await fileSha256(join(dir, file)) : undefined;
    if (actual === undefined) {
      problems.push(`the export has no ${file}, which its manifest lists`);
    } else if (actual !== String(stated?.sha256).toLowerCase()) {
      problems.push(
        `the export's ${file} has SHA-256 ${actual}, not the ${String(stated?.sha256)} its manifest states: it was changed after the export the report verified`,
      );
    }
  }
  return { ok: problems.length === 0, signer: result.signer, problems };
}

// ---------------------------------------------------------------- on chain

/** An auditor's attestation of an audit report as the disclosure registry recorded it ({AuditReportAttested}). */
export interface OnChainAttestation {
  auditor: Address;
  /** SHA-256 (hex, no 0x) of the attested audit-report.json. */
  reportSha256: string;
  /** SHA-256 (hex, no 0x) of the verified export's manifest.json, or null for a report read from a chain. */
  exportManifestSha256: string | null;
  /** The block the audited ledger was read at, as the auditor stated it (0: the report states none). */
  exportBlock: number;
  /** Where the attestation was recorded. */
  blockNumber: number;
  transactionHash: string;
}

const asBytes32 = (hex: string) => "0x" + hex.toLowerCase();
const asHex = (bytes32: string) => bytes32.slice(2).toLowerCase();

/**
 * Records `attestation` on chain in the disclosure registry `registry` (connected to the auditor's signer): the report's
 * SHA-256, its export's manifest SHA-256 and the export's block. The registry takes it from active auditor members only,
 * once per report and auditor.
 */
export async function attestOnChain(
  registry: DisclosureRegistry,
  attestation: Pick<Attestation, "reportSha256" | "exportManifestSha256" | "block">,
): Promise<{ receipt: ContractTransactionReceipt; onChain: OnChainAttestation }> {
  if (!/^[0-9a-f]{64}$/.test(attestation.reportSha256)) {
    throw new InputError(`the attestation's report digest ${attestation.reportSha256} is not a SHA-256`);
  }
  const manifest = attestation.exportManifestSha256;
  if (manifest !== null && !/^[0-9a-f]{64}$/.test(manifest)) {
    throw new InputError(`the attestation's manifest digest ${manifest} is not a SHA-256`);
  }
  const exportBlock = attestation.block?.number ?? 0;
  // The registry takes only a settled block that holds a ledger: not genesis, not the block being mined.
  if (exportBlock === 0) {
    throw new InputError("the report names no block the ledger was read at, so there is nothing to attest on chain");
  }
  const receipt = await transact(() =>
    registry.attestAudit(
      asBytes32(attestation.reportSha256),
      manifest === null ? ZeroHash : asBytes32(manifest),
      exportBlock,
    ),
  );
  const event = registry.interface.getEvent("AuditReportAttested");
  const log = receipt.logs.find((l) => l.topics[0] === event.topicHash);
  const parsed = log ? registry.interface.parseLog(log) : null;
  if (!log || !parsed) throw new InputError("the registry recorded the attestation without its event");
  return { receipt, onChain: fromEvent(parsed.args.toObject(), log.blockNumber, log.transactionHash) };
}

function fromEvent(args: Record<string, unknown>, blockNumber: number, transactionHash: string): OnChainAttestation {
  const manifest = String(args.manifestSha256);
  return {
    auditor: toAddress(String(args.auditor)),
    reportSha256: asHex(String(args.reportSha256)),
    exportManifestSha256: manifest === ZeroHash ? null : asHex(manifest),
    exportBlock: Number(args.exportBlock),
    blockNumber,
    transactionHash,
  };
}

/** Every on-chain attestation of the report of SHA-256 `reportSha256`, in chain order (read in bounded block ranges). */
export async function onChainAttestations(
  registry: DisclosureRegistry,
  reportSha256: string,
  options: LedgerReadOptions & { fromBlock?: number } = {},
): Promise<OnChainAttestation[]> {
  const provider = registry.runner?.provider;
  if (!provider) throw new InputError("the disclosure registry client has no provider to read events from");
  const reader = await LedgerReader.pin(provider, options);
  const events = await reader.events(registry, registry.filters.AuditReportAttested(asBytes32(reportSha256)));
  return events.map((e) => {
    const { auditor, reportSha256: report, manifestSha256, exportBlock } = e.args;
    return fromEvent({ auditor, reportSha256: report, manifestSha256, exportBlock }, e.blockNumber, e.transactionHash);
  });
}

/** Whether `attestation`'s auditor put it on chain, as `found` (the report's on-chain attestations) tells. */
export interface OnChainCheck {
  ok: boolean;
  /** The auditor's own on-chain attestation of the report, when there is one. */
  recorded: OnChainAttestation | null;
  /** Every auditor that attested the report on chain, the attestation's auditor included. */
  attestedBy: OnChainAttestation[];
  problems: string[];
}

/**
 * Checks that the auditor of `attestation` attested its report on chain (among `found`, the report's on-chain
 * attestations) and stated there the same export manifest and block as the signed attestation.
 */
export function checkOnChain(
  attestation: Pick<Attestation, "auditor" | "reportSha256" | "exportManifestSha256" | "block">,
  found: readonly OnChainAttestation[],
): OnChainCheck {
  const problems: string[] = [];
  const attestedBy = found.filter((a) => a.reportSha256 === attestation.reportSha256.toLowerCase());
  const recorded = attestedBy.find((a) => a.auditor.toLowerCase() === String(attestation.auditor).toLowerCase());
  if (!recorded) {
    problems.push(
      `${attestation.auditor} has not attested report sha256 ${attestation.reportSha256} on chain` +
        (attestedBy.length ? ` (${attestedBy.map((a) => a.auditor).join(", ")} did)` : ""),
    );
  } else {
    if (recorded.exportManifestSha256 !== (attestation.exportManifestSha256 ?? null)) {
      problems.push(
        `on chain, ${recorded.auditor} attested the report with export manifest ${recorded.exportManifestSha256 ?? "none"}, ` +
          `not the ${attestation.exportManifestSha256 ?? "none"} the signed attestation names`,
      );
    }
    if (recorded.exportBlock !== (attestation.block?.number ?? 0)) {
      problems.push(
        `on chain, ${recorded.auditor} attested the report as of block ${recorded.exportBlock}, ` +
          `not the block ${attestation.block?.number ?? 0} the signed attestation names`,
      );
    }
  }
  return { ok: problems.length === 0, recorded: recorded ?? null, attestedBy, problems };
}
