/**
 * Totals reconciled to the token balances of the suite's contracts: what each contract holds of the settlement token
 * at the export's block, against what the replayed history says it must hold. Reading the balances is one call per
 * contract at that block ({readBalances}); the replay and the comparison are pure ({BalanceReplay}).
 *
 * What each contract holds, from what it exposes (IRepaymentSplitter, IRiskReserveFund, ICreditInsurance,
 * ICollateralRegistry, ILossWaterfall, ITokenSweep), replayed from its events:
 * - RepaymentSplitter: commitments of loans still in funding (Committed − Disbursed − FundingCancelled); what is owed
 *   to lenders, refunds of cancelled loans included (FundingCancelled + the lenders' part of every RepaymentSplit +
 *   PremiumToLenders + RecoveryReceived − PayoutsPushed.paid − Claimed − RemainderSwept); platform fees and premiums
 *   not yet withdrawn (RepaymentSplit platformFee + premium − PremiumToLenders − FeesWithdrawn); reserve contributions
 *   not yet collected (RepaymentSplit reserve − ReserveCollected); rounding remainders not yet collected (RemainderSwept
 *   − the reserve's RemaindersCollected).
 * - RiskReserveFund: ContributionsCollected + RemaindersCollected + Deposited + ReserveReimbursed + settlement tokens
 *   swept to it (MistakenTokensSwept) − Compensated.paid.
 * - CreditInsurance: the insurers' capital, CapitalDeposited + InsurerReimbursed − CapitalWithdrawn − ClaimPaid.paid.
 *   Premiums are not here: the splitter keeps them as the insurer's fees until it withdraws them.
 * - CollateralRegistry: failed payments kept for their recipients, PaymentKept − Withdrawn (a sale's proceeds leave
 *   within the call that brought them).
 * - LossWaterfall: nothing between calls; what it takes in (RecoveryApplied, ClaimPaid, Compensated) it passes on
 *   within the call (RecoveryReceived, InsurerReimbursed, ReserveReimbursed).
 * - Any other contract of the suite (AllianceRegistry, LoanRegistry): nothing.
 * A sweep of the settlement token (MistakenTokensSwept) takes out of a contract what its history never brought in, so it
 * leaves that contract's expected balance as it was. Whatever a balance holds beyond its history is "unexplained"
 * (tokens sent straight to the contract); whatever it lacks is missing.
 */
import { Contract, type Provider } from "ethers";
import type { EventRecord, Json } from "../records/index.js";

/** The settlement token's balance of each contract of the suite at one block, as an export records it. */
export interface TokenBalances {
  /** The settlement token's address. */
  token: string;
  /** The block the balances were read at (the export's block). */
  block: number;
  /** Each contract's balance, by the contract's name in the export's list, in the token's smallest unit. */
  balances: Record<string, string>;
}

/** One part of what a contract must hold, as the history gives it (negative: what left it). */
export interface BalancePart {
  part: string;
  amount: string;
}

/** One contract's balance against its history. */
export interface BalanceLine {
  contract: string;
  address: string;
  /** What the replayed history says the contract holds. */
  expected: string;
  /** What it holds at the block (null when no balance is known for it). */
  actual: string | null;
  /** `actual − expected`: positive is unexplained, negative is missing. */
  difference: string | null;
  status: "reconciled" | "unexplained" | "missing" | "unknown";
  parts: BalancePart[];
}

/** The reconciliation a report states. */
export interface Reconciliation {
  token: string | null;
  block: number | null;
  /**
   * "chain": the balances were read from a node at `block` by this verification; "export": taken from the export's
   * manifest and proven by nothing; "none": the export records none, so nothing was reconciled.
   */
  source: "chain" | "export" | "none";
  contracts: BalanceLine[];
}

/** A difference the reconciliation found: the contract, what it should hold, what it holds, and by how much they differ. */
export interface BalanceFinding {
  contract: string;
  address: string;
  expected: string;
  actual: string;
  difference: string;
  message: string;
}

const ERC20_BALANCE = ["function balanceOf(address account) view returns (uint256)"];

/**
 * Reads the settlement token `token`'s balance of every contract of `contracts` at block `blockTag`, each call through
 * `call` (a ledger reader's retries, for instance).
 */
export async function readBalances(
  provider: Provider,
  token: string,
  contracts: Record<string, string>,
  blockTag: number,
  call: <T>(read: () => Promise<T>) => Promise<T> = (read) => read(),
): Promise<TokenBalances> {
  const erc20 = new Contract(token, ERC20_BALANCE, provider);
  const names = Object.keys(contracts);
  const found = await Promise.all(
    names.map((name) => call(() => erc20.balanceOf(contracts[name], { blockTag }) as Promise<bigint>)),
  );
  return { token, block: blockTag, balances: Object.fromEntries(names.map((name, k) => [name, found[k].toString()])) };
}

const amountOf = (value: Json | undefined): bigint => {
  try {
    return BigInt(String(value ?? 0));
  } catch {
    return 0n;
  }
};

/** A sum the replay keeps: `Contract.Event.field` (a split's parts as `RepaymentSplitter.RepaymentSplit.split.x`). */
type Counter = string;

/** Each contract's expected balance as signed sums of counters, part by part (the formulas of this module's header). */
const FORMULAS: Record<string, { part: string; terms: [1n | -1n, Counter][] }[]> = {
  RepaymentSplitter: [
    {
      part: "commitments of loans still in funding",
      terms: [
        [1n, "RepaymentSplitter.Committed.amount"],
        [-1n, "RepaymentSplitter.Disbursed.amount"],
        [-1n, "RepaymentSplitter.FundingCancelled.committed"],
      ],
    },
    {
      part: "owed to lenders (payouts and refunds not yet paid)",
      terms: [
        [1n, "RepaymentSplitter.FundingCancelled.committed"],
        [1n, "RepaymentSplitter.RepaymentSplit.amount"],
        [-1n, "RepaymentSplitter.RepaymentSplit.split.platformFee"],
        [-1n, "RepaymentSplitter.RepaymentSplit.split.premium"],
        [-1n, "RepaymentSplitter.RepaymentSplit.split.reserve"],
        [1n, "RepaymentSplitter.PremiumToLenders.amount"],
        [1n, "RepaymentSplitter.RecoveryReceived.amount"],
        [-1n, "RepaymentSplitter.PayoutsPushed.paid"],
        [-1n, "RepaymentSplitter.Claimed.amount"],
        [-1n, "RepaymentSplitter.RemainderSwept.amount"],
      ],
    },
    {
      part: "platform fees and premiums not yet withdrawn",
      terms: [
        [1n, "RepaymentSplitter.RepaymentSplit.split.platformFee"],
        [1n, "RepaymentSplitter.RepaymentSplit.split.premium"],
        [-1n, "RepaymentSplitter.PremiumToLenders.amount"],
        [-1n, "RepaymentSplitter.FeesWithdrawn.amount"],
      ],
    },
    {
      part: "reserve contributions not yet collected",
      terms: [
        [1n, "RepaymentSplitter.RepaymentSplit.split.reserve"],
        [-1n, "RepaymentSplitter.ReserveCollected.amount"],
      ],
    },
    {
      part: "rounding remainders not yet collected",
      terms: [
        [1n, "RepaymentSplitter.RemainderSwept.amount"],
        [-1n, "RiskReserveFund.RemaindersCollected.amount"],
      ],
    },
  ],
  RiskReserveFund: [
    { part: "contributions collected", terms: [[1n, "RiskReserveFund.ContributionsCollected.amount"]] },
    { part: "rounding remainders collected", terms: [[1n, "RiskReserveFund.RemaindersCollected.amount"]] },
    { part: "direct deposits", terms: [[1n, "RiskReserveFund.Deposited.amount"]] },
    { part: "reimbursed from recoveries", terms: [[1n, "RiskReserveFund.ReserveReimbursed.amount"]] },
    { part: "mistaken tokens swept to it", terms: [[1n, "swept to the reserve"]] },
    { part: "compensation paid", terms: [[-1n, "RiskReserveFund.Compensated.paid"]] },
  ],
  CreditInsurance: [
    { part: "capital deposited", terms: [[1n, "CreditInsurance.CapitalDeposited.amount"]] },
    { part: "reimbursed from recoveries", terms: [[1n, "CreditInsurance.InsurerReimbursed.amount"]] },
    { part: "capital withdrawn", terms: [[-1n, "CreditInsurance.CapitalWithdrawn.amount"]] },
    { part: "claims paid", terms: [[-1n, "CreditInsurance.ClaimPaid.paid"]] },
  ],
  CollateralRegistry: [
    {
      part: "failed payments kept for their recipients",
      terms: [
        [1n, "CollateralRegistry.PaymentKept.amount"],
        [-1n, "CollateralRegistry.Withdrawn.amount"],
      ],
    },
  ],
  LossWaterfall: [
    {
      part: "taken in and not passed on",
      terms: [
        [1n, "LossWaterfall.RecoveryApplied.amount"],
        [1n, "CreditInsurance.ClaimPaid.paid"],
        [1n, "RiskReserveFund.Compensated.paid"],
        [-1n, "RepaymentSplitter.RecoveryReceived.amount"],
        [-1n, "CreditInsurance.InsurerReimbursed.amount"],
        [-1n, "RiskReserveFund.ReserveReimbursed.amount"],
      ],
    },
  ],
};

/** The amount fields each event brings to the replay's sums. */
const COUNTED: Record<string, string[]> = {
  Committed: ["amount"],
  Disbursed: ["amount"],
  FundingCancelled: ["committed"],
  RepaymentSplit: ["amount", "split.platformFee", "split.premium", "split.reserve"],
  PremiumToLenders: ["amount"],
  RecoveryReceived: ["amount"],
  PayoutsPushed: ["paid"],
  Claimed: ["amount"],
  RemainderSwept: ["amount"],
  FeesWithdrawn: ["amount"],
  ReserveCollected: ["amount"],
  RemaindersCollected: ["amount"],
  ContributionsCollected: ["amount"],
  Deposited: ["amount"],
  ReserveReimbursed: ["amount"],
  Compensated: ["paid"],
  CapitalDeposited: ["amount"],
  CapitalWithdrawn: ["amount"],
  InsurerReimbursed: ["amount"],
  ClaimPaid: ["paid"],
  PaymentKept: ["amount"],
  Withdrawn: ["amount"],
  RecoveryApplied: ["amount"],
};

function field(args: { [key: string]: Json }, path: string): Json | undefined {
  let value: Json | undefined = args;
  for (const key of path.split(".")) {
    value = value !== null && typeof value === "object" && !Array.isArray(value) ? value[key] : undefined;
  }
  return value;
}

/** A recorded balance as an amount, or undefined when it is none (an export may be forged in any way). */
function balanceOf(value: unknown): bigint | undefined {
  if (typeof value !== "string" || !/^\d+$/.test(value)) return undefined;
  return BigInt(value);
}

const eq = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * Sums the suite's money events as they stream past (a few counters, whatever the length of the ledger), then
 * reconciles the sums with the balances at the export's block.
 */
export class BalanceReplay {
  private readonly sums = new Map<Counter, bigint>();
  /** Settlement-token sweeps, kept until the token and the reserve are known: [token, reserve, amount]. */
  private readonly sweeps: [string, string, bigint][] = [];

  /** One event of the suite's contracts (money.jsonl or assets.jsonl), in any order. */
  event(record: EventRecord): void {
    if (record.event === "MistakenTokensSwept") {
      this.sweeps.push([String(record.args.token), String(record.args.reserve), amountOf(record.args.amount)]);
      return;
    }
    for (const path of COUNTED[record.event] ?? []) {
      const counter = `${record.contract}.${record.event}.${path}`;
      this.sums.set(counter, (this.sums.get(counter) ?? 0n) + amountOf(field(record.args, path)));
    }
  }

  /** What each contract of `contracts` must hold of `token`, part by part. */
  expected(contracts: Record<string, string>, token: string | undefined): Map<string, BalancePart[]> {
    const reserve = contracts.RiskReserveFund;
    const swept = this.sweeps
      .filter(([t, to]) => eq(t, token) && eq(to, reserve))
      .reduce((sum, [, , amount]) => sum + amount, 0n);
    const sum = (counter: Counter) => (counter === "swept to the reserve" ? swept : (this.sums.get(counter) ?? 0n));
    return new Map(
      Object.keys(contracts).map((name) => [
        name,
        (FORMULAS[name] ?? []).map(({ part, terms }) => ({
          part,
          amount: terms.reduce((total, [sign, counter]) => total + sign * sum(counter), 0n).toString(),
        })),
      ]),
    );
  }

  /**
   * Reconciles the replayed history with the balances: those a node gave at the export's block (`proven`), or else
   * those the export records (`recorded`, read from a chain by this very verification when `readHere`). A proven
   * balance that the export records otherwise is a finding too: the export was edited.
   */
  reconcile(
    contracts: Record<string, string>,
    recorded: TokenBalances | undefined,
    proven: TokenBalances | undefined,
    readHere = false,
    /** The export's block, which the recorded balances must be of. */
    block?: number,
  ): { reconciliation: Reconciliation; findings: BalanceFinding[] } {
    const findings: BalanceFinding[] = [];
    const balances = proven ?? recorded;
    if (recorded && block !== undefined && recorded.block !== block) {
      findings.push({
        contract: "(all)",
        address: "",
        expected: String(block),
        actual: String(recorded.block),
        difference: "?",
        message: `the export records balances read at block ${recorded.block}, not at its own block ${block}`,
      });
    }
    const expected = this.expected(contracts, balances?.token);
    const lines: BalanceLine[] = [];
    for (const [contract, address] of Object.entries(contracts)) {
      const parts = expected.get(contract) ?? [];
      const should = parts.reduce((total, p) => total + BigInt(p.amount), 0n);
      const stated = balanceOf(balances?.balances[contract])?.toString();
      const taken = balanceOf(recorded?.balances[contract])?.toString();
      if (proven && recorded && taken !== stated) {
        findings.push({
          contract,
          address,
          expected: stated ?? "?",
          actual: taken ?? "(none)",
          difference: stated !== undefined && taken !== undefined ? (BigInt(taken) - BigInt(stated)).toString() : "?",
          message:
            `the export records a balance of ${taken ?? "(none)"} for ${contract}, but the node's balance at block ` +
            `${proven.block} is ${stated ?? "(none)"}: the recorded balance was edited`,
        });
      }
      if (stated === undefined && balances && !proven) {
        // A balance left out of the export would hide whatever its contract's history no longer explains.
        findings.push({
          contract,
          address,
          expected: should.toString(),
          actual: "(none)",
          difference: "?",
          message: `the export records balances at block ${balances.block}, but no amount for ${contract}: its total is not reconciled`,
        });
      }
      if (stated === undefined) {
        lines.push({
          contract,
          address,
          expected: should.toString(),
          actual: null,
          difference: null,
          status: "unknown",
          parts,
        });
        continue;
      }
      const actual = BigInt(stated);
      const difference = actual - should;
      const status = difference === 0n ? "reconciled" : difference > 0n ? "unexplained" : "missing";
      lines.push({
        contract,
        address,
        expected: should.toString(),
        actual: stated,
        difference: difference.toString(),
        status,
        parts,
      });
      if (difference !== 0n) {
        const where = `at block ${balances!.block}${proven || readHere ? "" : " (as the export records it)"}`;
        findings.push({
          contract,
          address,
          expected: should.toString(),
          actual: stated,
          difference: difference.toString(),
          message:
            difference > 0n
              ? `${contract} holds ${stated} ${where}, ${difference} more than the ${should} its history accounts ` +
                `for: ${difference} unexplained (tokens sent to it outside the suite's functions, or events missing ` +
                `from the export)`
              : `${contract} holds ${stated} ${where}, ${-difference} less than the ${should} its history says it ` +
                `holds: tokens are missing, or the export's events or recorded balance were altered`,
        });
      }
    }
    const source = proven || (recorded && readHere) ? "chain" : recorded ? "export" : "none";
    return {
      reconciliation: { token: balances?.token ?? null, block: balances?.block ?? null, source, contracts: lines },
      findings: source === "none" ? [] : findings,
    };
  }
}
