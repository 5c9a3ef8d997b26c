/**
 * Consent on the command line: a borrower signs a loan's agreement or amendment into a signature file (`loan sign`), and
 * the platform anchors or amends with those files (`loan anchor --signatures`, `loan amend --signatures`): sending the
 * transaction with its own key is its consent, so it signs nothing itself.
 */
import { isoTime } from "../dates.js";
import { writeFile } from "node:fs/promises";
import {
  formatLoanId,
  shortLoanId,
  signConsent,
  type ConsentSubject,
  type TypedDataSigner,
} from "../../client/index.js";
import { arg, latestTime, loanIdArg } from "../args.js";
import { loan } from "../nouns/loan.js";
import { FORMAT, type SignatureFile } from "../signatures.js";
import { plan, type Plan } from "../table.js";
import { documentHash, parseTime } from "../terms-file.js";

export const plans: Record<string, Plan> = {
  "loan sign": plan(loan.sign, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const out = p.out;
    return async (_p, ctx, io) => {
      const domain = await ctx.loans.consentDomain();
      const deadline = BigInt(parseTime(p.deadline ?? "+7d", "--deadline", await latestTime(ctx)));
      let subject: ConsentSubject;
      if (p.document === undefined) {
        subject = { kind: "agreement", loanId: id, deadline };
      } else {
        const version = (await ctx.loans.state(id)).documentVersion + 1;
        subject = { kind: "amendment", loanId: id, version, documentHash: await documentHash(p.document), deadline };
      }
      const signed = await signConsent(ctx.signer as unknown as TypedDataSigner, domain, subject);
      const file: SignatureFile = {
        format: FORMAT,
        chainId: String(domain.chainId),
        registry: String(domain.verifyingContract),
        subject: {
          kind: subject.kind,
          loanId: formatLoanId(id),
          ...(subject.kind === "amendment" ? { version: subject.version, documentHash: subject.documentHash } : {}),
          deadline: String(deadline),
        },
        signer: signed.signer,
        signature: signed.signature,
      };
      await writeFile(out, JSON.stringify(file, null, 2) + "\n");
      print(
        io,
        file,
        `${signed.signer} signed the ${subject.kind} of loan ${shortLoanId(id)}, usable until ` +
          `${isoTime(Number(deadline), ctx.timeZone)}: ${out}\n` +
          "(a fresh key per loan keeps a borrower's loans from being linked by its signing address)",
      );
    };
  }),
};
