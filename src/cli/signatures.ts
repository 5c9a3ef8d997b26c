/**
 * Consent signature files: a borrower's signature of one agreement or amendment, written by `loan sign` and read by the
 * `--signatures` forms of `loan anchor` and `loan amend`, where the platform's transaction is its own consent.
 */
import { readFile } from "node:fs/promises";
import {
  InputError,
  formatLoanId,
  loanIdOf,
  shortLoanId,
  toAddress,
  toHash32,
  toLoanId,
  type ConsentSignatures,
  type ConsentSubject,
  type LoanId,
} from "../client/index.js";
import { termsToAnchor } from "./anchored-again.js";
import type { CliContext } from "./context.js";
import { arg, loanIdArg } from "./args.js";
import type { loan } from "./nouns/loan.js";
import type { Command, Input, Print } from "./table.js";
import { documentHash } from "./terms-file.js";

export const FORMAT = "loanledger-consent/1";

/** A signature file: one party's signature of one agreement or amendment, and the registry it is for. */
export interface SignatureFile {
  format: typeof FORMAT;
  chainId: string;
  registry: string;
  subject: {
    kind: "agreement" | "amendment";
    loanId: string;
    version?: number;
    documentHash?: string;
    deadline: string;
  };
  signer: string;
  signature: string;
}

async function readSignatureFile(path: string): Promise<SignatureFile> {
  let parsed: SignatureFile;
  try {
    parsed = JSON.parse(await readFile(path, "utf8")) as SignatureFile;
  } catch (error) {
    throw new InputError(`cannot read signature file ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (parsed?.format !== FORMAT || !parsed.subject || typeof parsed.signature !== "string") {
    throw new InputError(`${path} is not a signature file (${FORMAT})`);
  }
  return parsed;
}

/** The borrower's signature files by loan id, each checked to be for this chain and registry. */
async function borrowerSignatures(ctx: CliContext, paths: string): Promise<Map<LoanId, SignatureFile>> {
  const { chainId, verifyingContract } = await ctx.loans.consentDomain();
  const byLoan = new Map<LoanId, SignatureFile>();
  for (const path of paths.split(",").filter(Boolean)) {
    const file = await readSignatureFile(path);
    if (BigInt(file.chainId) !== BigInt(String(chainId)) || toAddress(file.registry) !== verifyingContract) {
      throw new InputError(`${path} is for registry ${file.registry} on chain ${file.chainId}, not this one`);
    }
    byLoan.set(toLoanId(file.subject.loanId), file);
  }
  return byLoan;
}

/** The borrower's signature of `subject` from its file; the platform's consent is the transaction the CLI sends. */
function signedBy(subject: ConsentSubject, borrower: SignatureFile): ConsentSignatures {
  return { borrower: toAddress(borrower.signer), deadline: subject.deadline, borrowerSignature: borrower.signature };
}

/** `loan anchor --signatures`: the platform anchors loans its borrowers signed; sending them is its consent. */
export function anchorSigned(p: Input<typeof loan.anchor>, paths: string, print: Print): Command {
  const file = p.file;
  return async (_p, ctx, io) => {
    const { platform, terms } = await termsToAnchor(ctx, file);
    const files = await borrowerSignatures(ctx, paths);
    const signatures: ConsentSignatures[] = [];
    for (const [i, t] of terms.entries()) {
      const loanId = loanIdOf(t);
      const borrower = files.get(loanId);
      if (!borrower || borrower.subject.kind !== "agreement") {
        throw new InputError(`loan ${i + 1} of ${file} (${shortLoanId(loanId)}) has no borrower signature file`);
      }
      signatures.push(signedBy({ kind: "agreement", loanId, deadline: BigInt(borrower.subject.deadline) }, borrower));
    }
    const { loanIds } = await ctx.loans.anchorSignedBatch(platform, terms, signatures);
    const ids = loanIds.map(formatLoanId);
    print(
      io,
      { loanIds: ids },
      ids.map((id) => `anchored loan ${id}, signed by its borrower and sent by the platform`).join("\n"),
    );
  };
}

/** `loan amend --signatures`: an amendment the borrower signed, sent (so agreed) by the servicer. */
export function amendSigned(p: Input<typeof loan.amend>, paths: string, print: Print): Command {
  const id = loanIdArg(arg(p.words, 2, "loan id"));
  const path = p.document;
  return async (_p, ctx, io) => {
    const hash = await documentHash(path);
    const borrower = (await borrowerSignatures(ctx, paths)).get(id);
    if (!borrower || borrower.subject.kind !== "amendment") {
      throw new InputError(`no borrower signature file of an amendment of loan ${shortLoanId(id)}`);
    }
    if (toHash32(String(borrower.subject.documentHash)) !== hash) {
      throw new InputError(`the borrower signed document ${borrower.subject.documentHash}, not ${path} (${hash})`);
    }
    const version = (await ctx.loans.state(id)).documentVersion + 1;
    const subject: ConsentSubject = {
      kind: "amendment",
      loanId: id,
      version,
      documentHash: hash,
      deadline: BigInt(borrower.subject.deadline),
    };
    const platform = toAddress(await ctx.signer.getAddress());
    const receipt = await ctx.loans.amendSigned(id, platform, hash, signedBy(subject, borrower));
    print(
      io,
      { loanId: formatLoanId(id), version, documentHash: hash, borrower: borrower.signer, tx: receipt.hash },
      `loan ${shortLoanId(id)} document v${version} ${hash}, signed by borrower ${borrower.signer} and sent by the platform`,
    );
  };
}
