/**
 * The proof of a served history: the verifier's own checks (checkLedger) run over the loan's indexed facts and money
 * events, with the loan's head read from the chain at the index's last block, and that block's hash compared with the
 * node's. A page says "proven at block N" only when this returned `proven: true` for block N.
 */
import type { Provider } from "ethers";
import { LoanRegistry__factory } from "../../typechain-types/index.js";
import {
  byChainOrder,
  consentDomain,
  readWalletApprovals,
  toAddress,
  toJson,
  type EventRecord,
  type LoanRecord,
  withinTime,
  withoutUrls,
} from "../client/index.js";
import { checkLedger } from "../audit/index.js";
import type { LoanProof } from "./rows.js";
import type { IndexStore } from "./store.js";

/** Proves loans' indexed histories against a node; a proof is kept until the index moves to another block. */
export class LoanProver {
  private readonly cache = new Map<string, LoanProof>();

  constructor(
    private readonly store: IndexStore,
    private readonly provider: Provider,
  ) {}

  async prove(loanId: string): Promise<LoanProof> {
    const state = this.store.state();
    const last = state?.last;
    const key = `${loanId}@${last?.number}:${last?.hash}`;
    const cached = this.cache.get(key);
    if (cached?.proven && last) {
      // A proof holds only while the node still has the indexed block: a node reset (or a reorganisation) since the
      // proof was made takes it away, so the node is asked again each time.
      let hash: string | undefined;
      try {
        hash = (await withinTime(this.provider.getBlock(last.number)))?.hash ?? undefined;
      } catch (error) {
        return { ...cached, proven: false, findings: [`the node could not be asked: ${reasonOf(error)}`] };
      }
      if (hash === last.hash) return cached;
      this.cache.delete(key);
      return {
        ...cached,
        proven: false,
        chainHead: null,
        findings: [
          `the node's block ${last.number} is ${hash ?? "missing"}, not the indexed ${last.hash}: the node was reset ` +
            "or its chain reorganised, so this history is no longer proven against it",
        ],
      };
    }
    if (cached) return cached;
    const loan = this.store.loan(loanId);
    const unproven = (finding: string): LoanProof => ({
      loanId,
      proven: false,
      block: last ? { number: last.number, hash: last.hash } : null,
      chainHead: null,
      indexHead: loan?.head ?? null,
      findings: [finding],
    });
    if (!state || !last) return unproven("nothing is indexed yet");
    if (!loan) return unproven(`loan ${loanId} is not in the index`);
    const registryAddress = state.contracts.LoanRegistry;
    let chainHead: string;
    let nodeBlock;
    try {
      const registry = LoanRegistry__factory.connect(registryAddress, this.provider);
      [nodeBlock, chainHead] = await withinTime(
        Promise.all([this.provider.getBlock(last.number), registry.historyHead(loanId, { blockTag: last.number })]),
      );
    } catch (error) {
      return unproven(`the node could not be asked: ${reasonOf(error)}`);
    }
    // The checks compare each fact with the events of its own transaction (a collateral fact with the collateral
    // registry's events, which do not all name the loan): every event of those transactions is handed over, sorted
    // as the export sorts them, and the checker judges this loan's alone.
    const seen = new Set<string>();
    const loans: LoanRecord[] = [];
    const money: EventRecord[] = [];
    const assets: EventRecord[] = [];
    const transactions = new Set(this.store.eventsOf(loanId).map((e) => e.record.transactionHash));
    for (const tx of transactions) {
      for (const { kind, record } of this.store.eventsInTx(tx)) {
        const key = `${record.blockNumber}:${record.logIndex}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (kind === "history") {
          if ((record as LoanRecord).loanId === loanId) loans.push(record as LoanRecord);
        } else if ((record as EventRecord).contract === "CollateralRegistry") assets.push(record as EventRecord);
        else if (isMoney((record as EventRecord).contract)) money.push(record as EventRecord);
      }
    }
    for (const list of [loans, money, assets]) list.sort(byChainOrder);
    const block = { number: last.number, hash: last.hash };
    // A borrower or platform that signed through a contract wallet is proven by the wallet's approval at the block.
    let walletApprovals: Set<string>;
    try {
      const domain = consentDomain(BigInt(state.chainId), toAddress(registryAddress));
      walletApprovals = await readWalletApprovals(this.provider, domain, loans, last.number);
    } catch (error) {
      return unproven(`the node could not be asked: ${(error as Error).message.split("\n")[0]}`);
    }
    const writerFacts: Record<number, Record<string, unknown>> = {};
    const report = checkLedger(
      {
        chainId: state.chainId,
        block,
        contracts: state.contracts,
        loans,
        money,
        assets,
        members: [],
        heads: { [loanId]: loan.head },
      },
      {
        loanId,
        walletApprovals,
        onEntry: (_id, checked) => {
          if (checked.writerFact) writerFacts[checked.entry] = toJson(checked.writerFact) as Record<string, unknown>;
        },
        proof: {
          chainId: state.chainId,
          block: { number: last.number, hash: nodeBlock?.hash ?? "(no such block)" },
          registry: registryAddress,
          method: "historyHead",
          heads: { [loanId]: chainHead },
        },
      },
    );
    const proof: LoanProof = {
      loanId,
      proven: report.ok && report.heads.provenAt?.number === last.number,
      block,
      chainHead,
      indexHead: loan.head,
      findings: report.findings.map((f) => (f.entry ? `entry ${f.entry}: ` : "") + f.message),
      writerFacts,
    };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, proof);
    return proof;
  }
}

/** The contracts whose events the verifier reads as a loan's money (the export's money.jsonl). */
function isMoney(contract: string): boolean {
  return ["RepaymentSplitter", "CreditInsurance", "RiskReserveFund", "LossWaterfall"].includes(contract);
}

/** The first line of why a read failed, without the node's URL (it may carry credentials). */
function reasonOf(error: unknown): string {
  return withoutUrls((error as Error).message.split("\n")[0]);
}
