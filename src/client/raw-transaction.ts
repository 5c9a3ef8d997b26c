/**
 * EIP-1559 transactions serialized with the runtime's buffers. ethers' RLP encoder turns calldata into an array of
 * numbers and back into hex, and a transaction sent through a wallet is serialized four times (to sign it, to send
 * it, then again to hash and to recover the sender of what was sent): for a batch of 150 loans, 62 KB of calldata,
 * that was most of the client's time, more than the node's. The bytes are the same as ethers' (a property test
 * compares them), made once to sign and once to send.
 */
import { getBytes, type SignatureLike, Signature } from "ethers";

/** The fields of an EIP-1559 transaction with no access list, as `populateTransaction` gives them. */
export interface Eip1559Fields {
  chainId: bigint;
  nonce: number;
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
  gasLimit: bigint;
  /** A 20-byte address (0x-prefixed hex). */
  to: string;
  value: bigint;
  /** 0x-prefixed hex. */
  data: string;
}

/** The RLP header of a string (0x80) or a list (0xc0) of `length` bytes. */
function header(length: number, offset: 0x80 | 0xc0): Buffer {
  if (length <= 55) return Buffer.from([offset + length]);
  const digits = length.toString(16);
  const size = Buffer.from(digits.length % 2 ? "0" + digits : digits, "hex");
  return Buffer.concat([Buffer.from([offset + 55 + size.length]), size]);
}

function item(bytes: Buffer): Buffer {
  if (bytes.length === 1 && bytes[0] < 0x80) return bytes;
  return Buffer.concat([header(bytes.length, 0x80), bytes]);
}

/** A quantity in its shortest big-endian form: zero is the empty string. */
function quantity(value: bigint | number): Buffer {
  const n = BigInt(value);
  if (n < 0n) throw new RangeError(`a transaction field cannot be negative: ${n}`);
  if (n === 0n) return item(Buffer.alloc(0));
  const digits = n.toString(16);
  return item(Buffer.from(digits.length % 2 ? "0" + digits : digits, "hex"));
}

function hexBytes(hex: string): Buffer {
  if (!/^0x(?:[0-9a-fA-F]{2})*$/.test(hex)) return Buffer.from(getBytes(hex));
  return Buffer.from(hex.slice(2), "hex");
}

/**
 * The typed transaction's bytes (0x02 || rlp(fields)): unsigned, whose keccak the sender signs, or signed with
 * `signature`, as `eth_sendRawTransaction` takes them.
 */
export function serializeEip1559(tx: Eip1559Fields, signature?: SignatureLike): Buffer {
  const to = hexBytes(tx.to);
  if (to.length !== 20) throw new RangeError(`a transaction's recipient must be 20 bytes, not ${to.length}`);
  const fields = [
    quantity(tx.chainId),
    quantity(tx.nonce),
    quantity(tx.maxPriorityFeePerGas),
    quantity(tx.maxFeePerGas),
    quantity(tx.gasLimit),
    item(to),
    quantity(tx.value),
    item(hexBytes(tx.data)),
    // The access list: always empty here.
    header(0, 0xc0),
  ];
  if (signature !== undefined) {
    const sig = Signature.from(signature);
    fields.push(quantity(sig.yParity), quantity(BigInt(sig.r)), quantity(BigInt(sig.s)));
  }
  const body = Buffer.concat(fields);
  return Buffer.concat([Buffer.from([2]), header(body.length, 0xc0), body]);
}
