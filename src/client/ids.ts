import { getAddress, isHexString, keccak256, toUtf8Bytes } from "ethers";

declare const brand: unique symbol;
/** A value of type `T` that only the named constructor below can produce. */
export type Brand<T, Name extends string> = T & { readonly [brand]: Name };

/** A loan id: the keccak256 hash of the anchored terms, as an unsigned 256-bit integer. */
export type LoanId = Brand<bigint, "LoanId">;
/** A collateral asset id (its ERC-721 token id): HMAC-SHA256 of its class and normalised official id. */
export type AssetId = Brand<bigint, "AssetId">;
/** HMAC-SHA256 of a normalised national id under the alliance key: never personal data. */
export type BorrowerRef = Brand<string, "BorrowerRef">;
/** A 32-byte hash written as 0x-prefixed hex (document hashes, history heads, metadata). */
export type Hash32 = Brand<string, "Hash32">;
/** A checksummed account address. */
export type Address = Brand<string, "Address">;

const MAX_UINT256 = (1n << 256n) - 1n;

export function toLoanId(value: bigint | string): LoanId {
  let id: bigint;
  try {
    id = BigInt(value);
  } catch {
    throw new RangeError(`not a loan id: ${String(value)}`);
  }
  if (id <= 0n || id > MAX_UINT256) throw new RangeError(`not a loan id: ${String(value)}`);
  return id as LoanId;
}

export function toAssetId(value: bigint | string): AssetId {
  let id: bigint;
  try {
    id = BigInt(value);
  } catch {
    throw new RangeError(`not an asset id: ${String(value)}`);
  }
  if (id <= 0n || id > MAX_UINT256) throw new RangeError(`not an asset id: ${String(value)}`);
  return id as AssetId;
}

/** The canonical text form of an asset id: 0x and 64 hex digits. */
export function formatAssetId(id: AssetId): string {
  return "0x" + id.toString(16).padStart(64, "0");
}

/** The canonical text form of a loan id: 0x and 64 hex digits. */
export function formatLoanId(id: LoanId): string {
  return "0x" + id.toString(16).padStart(64, "0");
}

/** A short form for tables: the first and last four hex digits. */
export function shortLoanId(id: LoanId): string {
  const hex = formatLoanId(id);
  return `${hex.slice(0, 6)}…${hex.slice(-4)}`;
}

export function toHash32(value: string): Hash32 {
  if (!isHexString(value, 32)) throw new RangeError(`not a 32-byte hex hash: ${value}`);
  return value.toLowerCase() as Hash32;
}

export function toBorrowerRef(value: string): BorrowerRef {
  if (!isHexString(value, 32) || BigInt(value) === 0n) throw new RangeError(`not a borrower reference: ${value}`);
  return value.toLowerCase() as BorrowerRef;
}

export function toAddress(value: string): Address {
  try {
    return getAddress(value) as Address;
  } catch {
    throw new RangeError(`not an address: ${value}`);
  }
}

/**
 * A 32-byte hash as given, or the keccak256 of the text: how a platform's own loan reference (and a title, a reason)
 * goes on chain, so that anyone holding the text finds what it names.
 */
export function textHash(value: string): Hash32 {
  return toHash32(isHexString(value, 32) ? value : keccak256(toUtf8Bytes(value)));
}
