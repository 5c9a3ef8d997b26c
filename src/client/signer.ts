/**
 * A signer that counts its own nonces, so that a platform can have many transactions in flight at once (each waits
 * only for its own receipt), without a failed one blocking those after it.
 *
 * ethers' `NonceManager` takes a nonce before it estimates the transaction's gas: a transaction that would revert takes
 * a nonce and is never sent, and every later transaction waits in the node's pool behind the gap for good. Here the
 * gas is estimated first, so a transaction that would fail is refused before it takes a nonce. A transaction that took
 * one and could not be sent leaves no gap either: when none was handed out after it, the count steps back; otherwise
 * the transactions after it already wait behind it, and an empty transaction to itself takes its nonce.
 */
import {
  AbstractSigner,
  BaseWallet,
  getAddress,
  JsonRpcApiProvider,
  keccak256,
  Transaction,
  type Provider,
  type TransactionResponse,
  type Signer,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { serializeEip1559, type Eip1559Fields } from "./raw-transaction.js";

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
  /** Nonces handed out whose transaction was not sent and which no empty transaction could take, lowest first. */
  private readonly holes: number[] = [];
  private inFlight = 0;
  /** Set when the node said a nonce was already used: count again once nothing is in flight. */
  private stale = false;
  /** Counts the counts: a nonce taken against a count that failed or was forgotten is nobody's to give back. */
  private generation = 0;
  /** Settles once the last transaction that took a nonce was handed to the node (or failed to be). */
  private handing: Promise<void> = Promise.resolve();

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
    this.generation += 1;
  }

  override async getNonce(blockTag?: string): Promise<number> {
    if (blockTag !== "pending") return this.signer.getNonce(blockTag);
    return (await this.counted()) + this.taken;
  }

  /**
   * The node's count, asked for once. A failed ask is not kept, so the next transaction asks again; and as no
   * transaction could be sent against it, the nonces taken against it are forgotten with it (each would otherwise be
   * filled with an empty transaction once the next count came).
   */
  private counted(): Promise<number> {
    if (!this.base) {
      const asked = this.signer.getNonce("pending");
      this.base = asked;
      asked.catch(() => {
        if (this.base === asked) this.reset();
      });
    }
    return this.base;
  }

  private take(): { nonce: Promise<number>; offset: number; generation: number } {
    if (this.stale && this.inFlight === 0) this.reset();
    const base = this.counted();
    const offset = this.holes.length ? this.holes.shift()! : this.taken++;
    return { nonce: base.then((n) => n + offset), offset, generation: this.generation };
  }

  /** The nonce at `offset` was taken and its transaction not sent: close the gap it would leave. */
  private async giveBack(offset: number, generation: number, from: string): Promise<void> {
    // Taken against a count since forgotten: no transaction was sent against it, so there is no gap.
    if (generation !== this.generation) return;
    if (offset === this.taken - 1) {
      this.taken -= 1;
      return;
    }
    try {
      const nonce = (await this.counted()) + offset;
      await this.signer.sendTransaction({ to: from, from, value: 0n, nonce, gasLimit: 21_000n });
    } catch (error) {
      // Its own transaction did reach the node after all: the gap is closed. Otherwise the next transaction takes it.
      if (!NONCE_USED.test(message(error))) {
        this.holes.push(offset);
        this.holes.sort((a, b) => a - b);
      }
    }
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const from = await this.getAddress();
    if (typeof tx.from === "string" && getAddress(tx.from) !== getAddress(from)) {
      throw new Error(`a transaction from ${tx.from} cannot be signed by ${from}`);
    }
    const request: TransactionRequest = { ...tx, from };
    // Gas first: a transaction that would revert is refused here, before it takes a nonce.
    if (request.gasLimit == null) request.gasLimit = await this.signer.estimateGas(request);
    const { nonce, offset, generation } = this.take();
    // Handed to the node in the order of their nonces, each once the one before it is (not mined: handed over), so
    // that no node sees a nonce ahead of its count (an automining one refuses it; others hold it).
    const before = this.handing;
    let handed!: () => void;
    this.handing = new Promise<void>((resolve) => (handed = resolve));
    this.inFlight += 1;
    try {
      await before;
      return await this.hand({ ...request, nonce: await nonce });
    } catch (error) {
      if (NONCE_USED.test(message(error))) this.stale = true;
      else await this.giveBack(offset, generation, from);
      throw error;
    } finally {
      this.inFlight -= 1;
      handed();
    }
  }

  /**
   * Signs `tx` and hands it to the node, as `signer.sendTransaction` would. A wallet's EIP-1559 transaction to a
   * JSON-RPC node is serialized here, once to sign and once to send (src/client/raw-transaction.ts), and its response
   * built from what was signed rather than parsed back from the bytes; anything else goes the signer's own way.
   */
  private async hand(tx: TransactionRequest): Promise<TransactionResponse> {
    const wallet = this.signer;
    const provider = wallet.provider;
    if (!(wallet instanceof BaseWallet) || !(provider instanceof JsonRpcApiProvider)) return wallet.sendTransaction(tx);
    const pop = await wallet.populateTransaction(tx);
    // Anything ethers would refuse to sign (a priority fee above the fee cap) goes its way too, for its own error.
    const plain =
      pop.type === 2 &&
      typeof pop.to === "string" &&
      BigInt(pop.maxPriorityFeePerGas ?? 0n) <= BigInt(pop.maxFeePerGas ?? 0n) &&
      !pop.accessList?.length &&
      !pop.authorizationList?.length &&
      !pop.blobVersionedHashes?.length;
    if (!plain) {
      delete pop.from;
      return provider.broadcastTransaction(await wallet.signTransaction(Transaction.from(pop)));
    }
    const fields: Eip1559Fields = {
      chainId: BigInt(pop.chainId!),
      nonce: Number(pop.nonce),
      maxPriorityFeePerGas: BigInt(pop.maxPriorityFeePerGas!),
      maxFeePerGas: BigInt(pop.maxFeePerGas!),
      gasLimit: BigInt(pop.gasLimit!),
      to: pop.to as string,
      value: BigInt(pop.value ?? 0n),
      data: pop.data ?? "0x",
    };
    const signature = wallet.signingKey.sign(keccak256(serializeEip1559(fields)));
    const signed = serializeEip1559(fields, signature);
    const hash = keccak256(signed);
    const [sent, blockNumber, network] = await Promise.all([
      provider.send("eth_sendRawTransaction", ["0x" + signed.toString("hex")]) as Promise<string>,
      provider.getBlockNumber(),
      provider.getNetwork(),
    ]);
    if (String(sent).toLowerCase() !== hash) throw new Error(`the node named transaction ${sent}, not ${hash}`);
    // The fields of what was signed, formatted by ethers as it formats the transaction it parses back: the same response.
    const signedFields = { ...fields, hash, type: 2, from: wallet.address, signature, accessList: [] };
    const response = provider._wrapTransactionResponse(
      signedFields as unknown as Parameters<typeof provider._wrapTransactionResponse>[0],
      network,
    );
    return response.replaceableTransaction(blockNumber);
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
