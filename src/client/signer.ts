/**
 * A signer that counts its own nonces, so that a platform can have many transactions in flight at once (each waits
 * only for its own receipt), without a failed one blocking those after it.
 *
 * ethers' `NonceManager` takes a nonce before it estimates the transaction's gas: a transaction that would revert takes
 * a nonce and is never sent, and every later transaction waits in the node's pool behind the gap for good. Here the
 * gas is estimated first, so a transaction that would fail is refused before it takes a nonce; and a transaction that
 * took one and could not be sent gives it back, for the next transaction to take.
 */
import {
  AbstractSigner,
  type Provider,
  type Signer,
  type TransactionRequest,
  type TransactionResponse,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

/** What a node says when a nonce is already used: the transaction it was given to did reach the chain or its pool. */
const NONCE_USED =
  /nonce too low|nonce has already been used|already known|replacement (fee too low|transaction underpriced)|NONCE_EXPIRED/i;

function message(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; error?: { message?: unknown } } | undefined;
  return [e?.code, e?.message, e?.error?.message].map(String).join(" ");
}

export class SequencedSigner extends AbstractSigner {
  /** The account's count of transactions as the node gave it, asked for once. */
  private base?: Promise<number>;
  /** Nonces handed out past `base`. */
  private taken = 0;
  /** Nonces handed out and given back (their transaction was not sent), lowest first. */
  private readonly holes: number[] = [];
  private inFlight = 0;
  /** Set when the node said a nonce was already used: count again once nothing is in flight. */
  private stale = false;

  constructor(readonly signer: Signer) {
    super(signer.provider);
  }

  connect(provider: null | Provider): SequencedSigner {
    return new SequencedSigner(this.signer.connect(provider));
  }

  getAddress(): Promise<string> {
    return this.signer.getAddress();
  }

  /** Forget the count: the next transaction asks the node. Only for when no transaction of this signer is in flight. */
  reset(): void {
    this.base = undefined;
    this.taken = 0;
    this.holes.length = 0;
    this.stale = false;
  }

  override async getNonce(blockTag?: string): Promise<number> {
    if (blockTag !== "pending") return this.signer.getNonce(blockTag);
    this.base ??= this.signer.getNonce("pending");
    return (await this.base) + this.taken;
  }

  private take(): { nonce: Promise<number>; offset: number } {
    if (this.stale && this.inFlight === 0) this.reset();
    this.base ??= this.signer.getNonce("pending");
    const base = this.base;
    const offset = this.holes.length ? this.holes.shift()! : this.taken++;
    return { nonce: base.then((n) => n + offset), offset };
  }

  private giveBack(offset: number): void {
    this.holes.push(offset);
    this.holes.sort((a, b) => a - b);
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const from = await this.getAddress();
    const request: TransactionRequest = { ...tx, from };
    // Gas first: a transaction that would revert is refused here, before it takes a nonce.
    if (request.gasLimit == null) request.gasLimit = await this.signer.estimateGas(request);
    const { nonce, offset } = this.take();
    this.inFlight += 1;
    try {
      return await this.signer.sendTransaction({ ...request, nonce: await nonce });
    } catch (error) {
      if (NONCE_USED.test(message(error))) this.stale = true;
      else this.giveBack(offset);
      throw error;
    } finally {
      this.inFlight -= 1;
    }
  }

  signTransaction(tx: TransactionRequest): Promise<string> {
    return this.signer.signTransaction(tx);
  }

  signMessage(text: string | Uint8Array): Promise<string> {
    return this.signer.signMessage(text);
  }

  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    return this.signer.signTypedData(domain, types, value);
  }
}
