import { createHmac } from "node:crypto";
import { getBytes, isHexString } from "ethers";
import { toBorrowerRef, toHash32, type BorrowerRef, type Hash32 } from "./ids.js";

/** The alliance key must be at least as long as the HMAC-SHA256 output to give the reference its full strength. */
export const MIN_ALLIANCE_KEY_BYTES = 32;

export class BorrowerReferenceError extends Error {
  override readonly name = "BorrowerReferenceError";
}

const PRC_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const PRC_ID_CHECK = "10X98765432";

/**
 * The canonical form of a national id: upper case, without spaces, hyphens, dots or slashes. A PRC resident identity
 * number must also have its 18 characters, a birth date that exists and a valid ISO 7064 MOD 11-2 check character, so
 * that a mistyped id is caught here rather than producing the reference of nobody.
 */
export function normaliseNationalId(raw: string): string {
  const id = raw
    .normalize("NFKC")
    .toUpperCase()
    .replace(/[\s\-./]/g, "");
  if (!/^[0-9A-Z]{6,32}$/.test(id)) {
    throw new BorrowerReferenceError("a national id has 6 to 32 letters and digits after normalisation");
  }
  // Digits only (a final X allowed) from 9 characters up is a PRC resident identity number, which has 18 (GB 11643):
  // one with digits dropped or added would be the reference of nobody, or of somebody else.
  if (/^\d{8,}[\dX]$/.test(id)) {
    if (id.length !== 18) {
      throw new BorrowerReferenceError(`a resident identity number has 18 characters, this one ${id.length}`);
    }
    const [year, month, day] = [id.slice(6, 10), id.slice(10, 12), id.slice(12, 14)].map(Number);
    const born = new Date(Date.UTC(year, month - 1, day));
    if (year < 1800 || born.getUTCMonth() !== month - 1 || born.getUTCDate() !== day || born.getTime() > Date.now()) {
      throw new BorrowerReferenceError(`the resident identity number's birth date ${id.slice(6, 14)} is not a date`);
    }
    const sum = PRC_ID_WEIGHTS.reduce((acc, weight, i) => acc + weight * Number(id[i]), 0);
    if (PRC_ID_CHECK[sum % 11] !== id[17]) {
      throw new BorrowerReferenceError("the resident identity number's check character is wrong");
    }
  }
  return id;
}

/** Parses the alliance key (hex, 0x-prefixed) and refuses one too short to protect the ids. */
export function parseAllianceKey(hex: string | undefined): Uint8Array {
  if (!hex) throw new BorrowerReferenceError("LOANLEDGER_ALLIANCE_KEY is not set");
  if (!isHexString(hex)) throw new BorrowerReferenceError("LOANLEDGER_ALLIANCE_KEY must be 0x-prefixed hex");
  const key = getBytes(hex);
  if (key.length < MIN_ALLIANCE_KEY_BYTES) {
    throw new BorrowerReferenceError(`LOANLEDGER_ALLIANCE_KEY must be at least ${MIN_ALLIANCE_KEY_BYTES} bytes`);
  }
  return key;
}

/**
 * The borrower reference: HMAC-SHA256(alliance key, normalised national id). The same person gets the same
 * reference on every platform of the alliance; without the key, nobody can test guesses of an id against it.
 */
export function borrowerRef(nationalId: string, allianceKey: Uint8Array): BorrowerRef {
  const mac = createHmac("sha256", allianceKey).update(normaliseNationalId(nationalId), "utf8").digest("hex");
  return toBorrowerRef("0x" + mac);
}

/** The message the alliance key's fingerprint is the HMAC of (versioned, so a new scheme cannot collide with it). */
export const ALLIANCE_KEY_FINGERPRINT_MESSAGE = "LoanLedger alliance key fingerprint v1";

/**
 * The fingerprint governance publishes on chain (`AllianceRegistry.allianceKeyFingerprint()`):
 * HMAC-SHA256(alliance key, "LoanLedger alliance key fingerprint v1"). It tells a member whether its key is the
 * alliance's without revealing the key, and it is a different HMAC message than any normalised national id (which
 * has no spaces), so it cannot be mistaken for a borrower reference.
 */
export function allianceKeyFingerprint(allianceKey: Uint8Array): Hash32 {
  return toHash32(
    "0x" + createHmac("sha256", allianceKey).update(ALLIANCE_KEY_FINGERPRINT_MESSAGE, "utf8").digest("hex"),
  );
}
