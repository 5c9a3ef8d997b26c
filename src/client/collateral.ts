import { createHmac } from "node:crypto";
import {
  Signature,
  ZeroAddress,
  ZeroHash,
  type ContractRunner,
  type ContractTransactionReceipt,
  type Signer,
} from "ethers";
import { CollateralRegistry__factory, type CollateralRegistry } from "../../typechain-types/index.js";
import { InputError, LoanLedgerError } from "./errors.js";
import {
  toAddress,
  toAssetId,
  toHash32,
  toLoanId,
  type Address,
  type AssetId,
  type Hash32,
  type LoanId,
} from "./ids.js";
import { queryEvents } from "./ledger.js";
import { toStruct, type LoanRegistryClient } from "./loans.js";
import { transactPulling } from "./token.js";
import { read, transact } from "./transact.js";
import {
  ASSET_CLASS_NAMES,
  type AssetClass,
  type AssetInfo,
  type AssetStatus,
  type LienInfo,
  LienStatus,
} from "./types.js";

/**
 * The canonical form of an official asset id (land-registry number, VIN, serial number): Unicode NFKC (so full-width
 * characters count as their ASCII forms), upper case, and nothing but letters and digits, so that "ABC-123",
 * "abc 123" and "ＡＢＣ／１２３" are the same asset.
 */
export function normaliseOfficialId(raw: string): string {
  const id = raw
    .normalize("NFKC")
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]/gu, "");
  if (id.length < 3) throw new InputError("an official asset id has at least 3 letters or digits after normalisation");
  return id;
}

/**
 * The asset's id on chain: HMAC-SHA256 under the alliance key of "<Class>:<normalised official id>". The official id
 * never leaves the client; the same asset gets the same id whichever platform registers it.
 */
export function assetKey(assetClass: AssetClass, officialId: string, allianceKey: Uint8Array): AssetId {
  const input = `${ASSET_CLASS_NAMES[assetClass]}:${normaliseOfficialId(officialId)}`;
  return toAssetId(BigInt("0x" + createHmac("sha256", allianceKey).update(input, "utf8").digest("hex")));
}

/** The EIP-712 type of a pledge consent, as `CollateralRegistry.PLEDGE_TYPEHASH` spells it. */
export const PLEDGE_TYPES = {
  Pledge: [
    { name: "assetId", type: "uint256" },
    { name: "loanId", type: "uint256" },
    { name: "securedAmount", type: "uint256" },
    { name: "priority", type: "uint8" },
    { name: "nonce", type: "uint32" },
    { name: "deadline", type: "uint256" },
  ],
};

/** An owner's consent to one pledge: its signature and the deadline it names. */
/** A proposed sale of a seized asset. */
export interface SaleInfo {
  price: bigint;
  /** The account that takes the asset; undefined when the token is burnt. */
  buyer?: Address;
  buyerRef: Hash32;
  saleDocHash: Hash32;
  proposer: Address;
  proposedAt: number;
  /** From when the sale may complete: the lienholders' window ends. */
  completesAt: number;
  /**
   * The custodian member that confirmed it (what a price below the appraisal floor needs); a confirmation by the
   * account that completes the sale counts for nothing.
   */
  confirmer?: Address;
  /** What a custodian confirms. */
  proposalHash: Hash32;
}

export interface PledgeConsent {
  signature: string;
  deadline: number;
}

/** What a pledge secures. */
export interface PledgeRequest {
  assetId: AssetId;
  loanId: LoanId;
  securedAmount: bigint;
  /** 1 is first priority. */
  priority: number;
}

/**
 * Typed access to the CollateralRegistry. Actions on a lien take the loan's id and look its terms up through the loan
 * registry client; a disposal finds the asset's liens from events and passes them in priority order.
 */
export class CollateralClient {
  readonly contract: CollateralRegistry;

  /** @param fromBlock the registry's deployment block, where event searches start. */
  constructor(
    address: string,
    private readonly runner: ContractRunner,
    private readonly loans: LoanRegistryClient,
    private readonly fromBlock = 0,
  ) {
    this.contract = CollateralRegistry__factory.connect(address, runner);
  }

  get address(): Address {
    return toAddress(this.contract.target as string);
  }

  register(
    assetId: AssetId,
    owner: Address,
    assetClass: AssetClass,
    appraisalValue: bigint,
    appraisalDocHash: Hash32,
  ): Promise<ContractTransactionReceipt> {
    return transact(() =>
      this.contract.registerCollateral(assetId, owner, assetClass, appraisalValue, appraisalDocHash),
    );
  }

  /** Records a new appraisal; every loan with an active lien on the asset is named, so its history records it. */
  async revalue(
    assetId: AssetId,
    appraisalValue: bigint,
    appraisalDocHash: Hash32,
  ): Promise<ContractTransactionReceipt> {
    const active = (await this.liens(assetId)).filter((l) => l.status === LienStatus.Active);
    const terms = await Promise.all(active.map((l) => this.loans.terms(l.loanId)));
    return transact(() => this.contract.revalue(assetId, appraisalValue, appraisalDocHash, terms.map(toStruct)));
  }

  revokeConsents(assetId: AssetId): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.revokeConsents(assetId));
  }

  /** Signs, as the asset's owner (this client's signer), the EIP-712 consent to `request`, valid until `deadline`. */
  async consent(request: PledgeRequest, deadline: number): Promise<PledgeConsent> {
    const signer = this.runner as Signer;
    if (typeof signer.signTypedData !== "function") throw new LoanLedgerError("consenting needs a signer");
    const [domain, asset] = await Promise.all([
      read(() => this.contract.eip712Domain()),
      read(() => this.contract.assetOf(request.assetId)),
    ]);
    const signature = await signer.signTypedData(
      {
        name: domain.name,
        version: domain.version,
        chainId: domain.chainId,
        verifyingContract: domain.verifyingContract,
      },
      PLEDGE_TYPES,
      { ...request, nonce: asset.consentNonce, deadline },
    );
    return { signature, deadline };
  }

  /**
   * Pledges, as the loan's servicer (its platform or successor), with the owner's consent signature; a servicer that
   * owns the asset itself needs none. The owner alone can no longer pledge: a lien takes both parties.
   */
  async pledge(request: PledgeRequest, consent?: PledgeConsent): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(request.loanId));
    const { assetId, securedAmount, priority } = request;
    // The contract takes the 64-byte (ERC-2098) form of the signature.
    const signature = consent ? Signature.from(consent.signature) : undefined;
    return transact(() =>
      this.contract.pledge(
        assetId,
        terms,
        securedAmount,
        priority,
        consent?.deadline ?? 0,
        signature?.r ?? ZeroHash,
        signature?.yParityAndS ?? ZeroHash,
      ),
    );
  }

  /**
   * Pledges beside or ahead of the asset's existing liens: each lien it would rank with or ahead of must have agreed
   * ({@link consentToRank}); every active lien is named, so that none is jumped unseen.
   */
  async pledgeWithRankConsent(request: PledgeRequest, consent?: PledgeConsent): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(request.loanId));
    const active = (await this.liens(request.assetId)).filter((l) => l.status === LienStatus.Active);
    const liens = await Promise.all(active.map(async (l) => toStruct(await this.loans.terms(l.loanId))));
    const signature = consent ? Signature.from(consent.signature) : undefined;
    return transact(() =>
      this.contract.pledgeWithRankConsent(
        request.assetId,
        terms,
        request.securedAmount,
        request.priority,
        consent?.deadline ?? 0,
        signature?.r ?? ZeroHash,
        signature?.yParityAndS ?? ZeroHash,
        liens,
      ),
    );
  }

  /** As the servicer of `lienLoanId`'s lien on the asset, agrees that `newLoanId`'s lien may take rank `priority`. */
  async consentToRank(
    assetId: AssetId,
    lienLoanId: LoanId,
    newLoanId: LoanId,
    priority: number,
  ): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(lienLoanId));
    return transact(() => this.contract.consentToRank(assetId, terms, newLoanId, priority));
  }

  release(assetId: AssetId, loanId: LoanId): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.release(assetId, loanId));
  }

  /** Gives a seized asset back to its owner once the loan that seized it was made whole otherwise (anyone). */
  returnSeized(assetId: AssetId): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.returnSeized(assetId));
  }

  async seize(assetId: AssetId, loanId: LoanId): Promise<ContractTransactionReceipt> {
    const terms = toStruct(await this.loans.terms(loanId));
    return transact(() => this.contract.seize(assetId, terms));
  }

  /**
   * Proposes, as the servicer of the loan that seized the asset, to sell it for `price` to `buyerRef` under the sale
   * document `saleDocHash`. `buyer` is the account that takes the asset (and the liens of performing loans that survive
   * the sale); without one the token is burnt, which only a sale that leaves no lien behind may do.
   */
  async proposeSale(
    assetId: AssetId,
    sale: { price: bigint; buyerRef: Hash32; saleDocHash: Hash32; buyer?: Address },
  ): Promise<ContractTransactionReceipt> {
    const enforcing = (await this.liens(assetId)).find((l) => l.status === LienStatus.Enforcing);
    if (!enforcing) throw new InputError(`asset ${assetId.toString(16)} is not seized`);
    const terms = toStruct(await this.loans.terms(enforcing.loanId));
    return transact(() =>
      this.contract.proposeSale(assetId, terms, sale.price, sale.buyer ?? ZeroAddress, sale.buyerRef, sale.saleDocHash),
    );
  }

  /** The sale proposed for the asset, with the hash a custodian confirms; undefined when none is. */
  async sale(assetId: AssetId): Promise<SaleInfo | undefined> {
    const s = await read(() => this.contract.saleOf(assetId));
    if (s.proposedAt === 0n) return undefined;
    return {
      price: s.price,
      buyer: s.buyer === ZeroAddress ? undefined : toAddress(s.buyer),
      buyerRef: toHash32(s.buyerRef),
      saleDocHash: toHash32(s.saleDocHash),
      proposer: toAddress(s.proposer),
      proposedAt: Number(s.proposedAt),
      completesAt: Number(s.completesAt),
      confirmer: s.confirmer === ZeroAddress ? undefined : toAddress(s.confirmer),
      proposalHash: toHash32(await read(() => this.contract.saleProposalHash(assetId))),
    };
  }

  /**
   * Confirms, as a custodian member, the proposal of hash `proposalHash` that it read: a proposal replaced meanwhile
   * is not confirmed.
   */
  confirmSale(assetId: AssetId, proposalHash: Hash32): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.confirmSale(assetId, proposalHash));
  }

  /** Completes the proposed sale once its window has passed, paying its price in (approving the registry first). */
  async dispose(assetId: AssetId): Promise<ContractTransactionReceipt> {
    const sale = await this.sale(assetId);
    if (!sale) throw new InputError(`no sale of asset ${assetId.toString(16)} is proposed`);
    const liens = (await this.liens(assetId))
      .filter((l) => l.status === LienStatus.Active || l.status === LienStatus.Enforcing)
      .sort((a, b) => a.priority - b.priority);
    const terms = await Promise.all(liens.map(async (l) => toStruct(await this.loans.terms(l.loanId))));
    const { receipt } = await transactPulling(this.contract, {
      simulate: () => this.contract.dispose.staticCall(assetId, terms),
      send: () => this.contract.dispose(assetId, terms),
      limit: sale.price,
    });
    return receipt;
  }

  async withdraw(to: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.withdraw(to));
  }

  async asset(assetId: AssetId): Promise<AssetInfo> {
    const a = await read(() => this.contract.assetOf(assetId));
    if (Number(a.status) === 0) throw new InputError(`asset ${assetId.toString(16)} is not registered`);
    let holder: Address | undefined;
    try {
      holder = toAddress(await this.contract.ownerOf(assetId));
    } catch {
      holder = undefined;
    }
    return {
      assetId,
      holder: holder && holder !== ZeroAddress ? holder : undefined,
      assetClass: Number(a.assetClass) as AssetClass,
      status: Number(a.status) as AssetStatus,
      appraisalValue: a.appraisalValue,
      appraisalDocHash: await this.latestAppraisalDoc(assetId),
      registrar: toAddress(a.registrar),
      firstPrioritySecured: a.firstPrioritySecured,
      lienCount: Number(a.lienCount),
      consentNonce: Number(a.consentNonce),
      lastRank: Number(a.lastRank),
      locked: holder !== undefined && (await read(() => this.contract.locked(assetId))),
    };
  }

  /** The document hash of the asset's latest appraisal: it lives in the events, not in storage. */
  private async latestAppraisalDoc(assetId: AssetId): Promise<Hash32> {
    const [registered, revalued] = await Promise.all([
      queryEvents(this.contract, this.contract.filters.CollateralRegistered(assetId), this.fromBlock),
      queryEvents(this.contract, this.contract.filters.CollateralRevalued(assetId), this.fromBlock),
    ]);
    const latest = [...registered, ...revalued]
      .sort((x, y) => x.blockNumber - y.blockNumber || x.index - y.index)
      .at(-1);
    return toHash32(latest ? latest.args.appraisalDocHash : ZeroHash);
  }

  /** Every lien the asset ever carried, with its status now. */
  async liens(assetId: AssetId): Promise<LienInfo[]> {
    const events = await queryEvents(this.contract, this.contract.filters.CollateralPledged(assetId), this.fromBlock);
    const loanIds = [...new Set(events.map((e) => toLoanId(e.args.loanId)))];
    return Promise.all(
      loanIds.map(async (loanId) => {
        const l = await read(() => this.contract.lienOf(assetId, loanId));
        return {
          assetId: toAssetId(assetId),
          loanId,
          securedAmount: l.securedAmount,
          priority: Number(l.priority),
          status: Number(l.status) as LienStatus,
          since: Number(l.since),
        };
      }),
    );
  }

  async kept(account: Address): Promise<bigint> {
    return read(() => this.contract.keptFor(account));
  }
}
