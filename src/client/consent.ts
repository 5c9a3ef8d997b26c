/**
 * Consent: the EIP-712 typed data a borrower signs for a loan's agreement or amendment (ILoanRegistry), signing it, and
 * checking a signature before anything is sent, for plain accounts and ERC-1271 contract wallets alike. The platform
 * signs nothing: it consents by sending the transaction, which only the terms' platform (or the loan's servicer) may.
 */
import {
  Contract,
  getBytes,
  isHexString,
  recoverAddress,
  Signature,
  TypedDataEncoder,
  Wallet,
  type Provider,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { InputError } from "./errors.js";
import { toAddress, type Address, type Hash32, type LoanId } from "./ids.js";

/** The registry's EIP-712 domain name and version (LoanConsent.sol). */
export const CONSENT_DOMAIN = { name: "LoanLedger Loans", version: "1" } as const;

export const AGREEMENT_TYPES: Record<string, TypedDataField[]> = {
  LoanAgreement: [
    { name: "loanId", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export const AMENDMENT_TYPES: Record<string, TypedDataField[]> = {
  LoanAmendment: [
    { name: "loanId", type: "uint256" },
    { name: "version", type: "uint16" },
    { name: "documentHash", type: "bytes32" },
    { name: "deadline", type: "uint256" },
  ],
};

/** What is signed: a loan's agreement (its id commits to every term and the first document), or one amendment. */
export type ConsentSubject =
  | { kind: "agreement"; loanId: LoanId; deadline: bigint }
  | { kind: "amendment"; loanId: LoanId; version: number; documentHash: Hash32; deadline: bigint };

/**
 * The borrower's signature a signed anchoring or amendment carries (the `Signatures` struct of ILoanRegistry); the
 * platform's consent is the transaction it sends.
 */
export interface ConsentSignatures {
  /** The borrower's signing address for this loan (an account, or a contract wallet). */
  borrower: Address;
  deadline: bigint;
  borrowerSignature: string;
}

/** One party's signature of a subject, as a signature file holds it. */
export interface SignedConsent {
  subject: ConsentSubject;
  signer: Address;
  signature: string;
}

/** The domain of the registry at `registry` on chain `chainId`: a signature is good there and nowhere else. */
export function consentDomain(chainId: bigint, registry: Address): TypedDataDomain {
  return { ...CONSENT_DOMAIN, chainId, verifyingContract: registry };
}

/** The typed data of `subject`: what a wallet shows its user and signs. */
export function consentTypedData(subject: ConsentSubject): {
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown>;
} {
  if (subject.kind === "agreement") {
    return {
      types: AGREEMENT_TYPES,
      primaryType: "LoanAgreement",
      message: { loanId: subject.loanId, deadline: subject.deadline },
    };
  }
  return {
    types: AMENDMENT_TYPES,
    primaryType: "LoanAmendment",
    message: {
      loanId: subject.loanId,
      version: subject.version,
      documentHash: subject.documentHash,
      deadline: subject.deadline,
    },
  };
}

/** The EIP-712 digest of `subject` in `domain` (what an ERC-1271 wallet is asked about). */
export function consentDigest(domain: TypedDataDomain, subject: ConsentSubject): Hash32 {
  const { types, message } = consentTypedData(subject);
  return TypedDataEncoder.hash(domain, types, message) as Hash32;
}

/** Anything that signs typed data: an ethers signer or wallet. */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/**
 * Signs `subject` with `signer`'s key, by default in the 64-byte compact form (ERC-2098) that the registry accepts for
 * less gas; `compact: false` gives the 65-byte form, which a contract wallet's owners may need.
 */
export async function signConsent(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  subject: ConsentSubject,
  { compact = true }: { compact?: boolean } = {},
): Promise<SignedConsent> {
  const { types, message } = consentTypedData(subject);
  const full = Signature.from(await signer.signTypedData(domain, types, message));
  const signature = compact ? full.compactSerialized : full.serialized;
  return { subject, signer: toAddress(await signer.getAddress()), signature };
}

/**
 * A fresh key for one borrower's signature of one loan. The borrower's signing address is not personal data, but every
 * loan it signs is linked to every other: a key per loan keeps a borrower's loans apart on chain.
 */
export function freshBorrowerKey(): { address: Address; privateKey: string; wallet: Wallet } {
  const wallet = Wallet.createRandom();
  return { address: toAddress(wallet.address), privateKey: wallet.privateKey, wallet: new Wallet(wallet.privateKey) };
}

const ERC1271_MAGIC = "0x1626ba7e";
const ERC1271_ABI = ["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"];

/** The address whose key made `signature` (65 bytes, or 64 compact) of `digest`, or undefined when it is not one. */
export function recoverSigner(digest: Hash32, signature: string): Address | undefined {
  if (!isHexString(signature) || ![64, 65].includes(getBytes(signature).length)) return undefined;
  try {
    // Signature.from refuses a high-s signature, as the registry's ECDSA recovery does.
    return toAddress(recoverAddress(digest, Signature.from(signature)));
  } catch {
    return undefined;
  }
}

/**
 * Whether `signature` is `signer`'s consent to `subject` in `domain`, checked as the registry checks it: the key's
 * signature, or else what `signer`'s ERC-1271 wallet says (asked through `provider`, at `blockTag` when given).
 */
export async function isValidConsent(
  provider: Provider | undefined,
  domain: TypedDataDomain,
  subject: ConsentSubject,
  signer: Address,
  signature: string,
  blockTag?: number,
): Promise<boolean> {
  const digest = consentDigest(domain, subject);
  if (recoverSigner(digest, signature) === signer) return true;
  if (!provider) return false;
  const code = await provider.getCode(signer, blockTag);
  if (code === "0x") return false;
  try {
    const wallet = new Contract(signer, ERC1271_ABI, provider);
    const answer: string = await wallet.isValidSignature(digest, signature, blockTag === undefined ? {} : { blockTag });
    return answer.toLowerCase() === ERC1271_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Refuses a borrower signature the registry would refuse, before `platform` (the account that will send the
 * transaction, whose sending is its consent) sends it.
 */
export async function requireValidConsent(
  provider: Provider | undefined,
  domain: TypedDataDomain,
  subject: ConsentSubject,
  signatures: ConsentSignatures,
  platform: Address,
  now: number,
): Promise<void> {
  const label = subject.kind === "agreement" ? "agreement" : `amendment to version ${subject.version}`;
  if (BigInt(now) > signatures.deadline) {
    throw new InputError(`the borrower's signature of the ${label} expired at ${signatures.deadline} (it is ${now})`);
  }
  if (signatures.borrower === platform) {
    throw new InputError(`the borrower's signing address ${signatures.borrower} is the platform's own`);
  }
  if (!(await isValidConsent(provider, domain, subject, signatures.borrower, signatures.borrowerSignature))) {
    throw new InputError(`the borrower's signature of the ${label} is not ${signatures.borrower}'s`);
  }
}

/** A history fact that carries the borrower's signature, as an export holds it (fields as JSON strings). */
interface ExportedFact {
  kind?: unknown;
  version?: unknown;
  documentHash?: unknown;
  borrower?: unknown;
  platform?: unknown;
  deadline?: unknown;
  borrowerSignature?: unknown;
}

/**
 * Reads from the chain, at `blockTag`, the ERC-1271 approvals of the signatures in `records` (a loan history export)
 * that no key made: the keys the verifier accepts for contract wallets (CheckOptions.walletApprovals). A signature that
 * no key made and no wallet approves is left out, and the verifier reports it.
 */
export async function readWalletApprovals(
  provider: Provider,
  domain: TypedDataDomain,
  records: readonly { loanId: string; fact: ExportedFact }[],
  blockTag?: number,
): Promise<Set<string>> {
  const approvals = new Set<string>();
  const documents = new Map<string, string>();
  for (const { loanId, fact } of records) {
    if (fact.kind === "DocumentAmended") documents.set(`${loanId}:${String(fact.version)}`, String(fact.documentHash));
    if (fact.kind !== "AgreementSigned" && fact.kind !== "AmendmentSigned") continue;
    const id = BigInt(loanId) as LoanId;
    const deadline = BigInt(String(fact.deadline));
    const subject: ConsentSubject =
      fact.kind === "AgreementSigned"
        ? { kind: "agreement", loanId: id, deadline }
        : {
            kind: "amendment",
            loanId: id,
            version: Number(fact.version),
            documentHash: (documents.get(`${loanId}:${String(fact.version)}`) ?? "0x") as Hash32,
            deadline,
          };
    if (fact.kind === "AmendmentSigned" && !documents.has(`${loanId}:${String(fact.version)}`)) continue;
    const digest = consentDigest(domain, subject);
    const signer = toAddress(String(fact.borrower));
    const signature = String(fact.borrowerSignature);
    if (recoverSigner(digest, signature) === signer) continue;
    if (await isValidConsent(provider, domain, subject, signer, signature, blockTag)) {
      approvals.add(`${signer.toLowerCase()}:${digest}:${signature.toLowerCase()}`);
    }
  }
  return approvals;
}
