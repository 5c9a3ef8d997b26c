/**
 * Start-up checks: before a command sends anything, the CLI makes sure it talks to the right node, the right
 * contracts and the right token, with the alliance's own key. Each failed check is one sentence that says what to fix.
 */
import { ZeroHash, type ContractRunner } from "ethers";
import {
  AllianceRegistry__factory,
  CollateralRegistry__factory,
  CreditInsurance__factory,
  DisclosureRegistry__factory,
  LoanRegistry__factory,
  LossWaterfall__factory,
  RepaymentSplitter__factory,
  RiskReserveFund__factory,
  SettlementToken__factory,
} from "../../typechain-types/index.js";
import { allianceKeyFingerprint, LoanLedgerError, parseAllianceKey } from "../client/index.js";

/** A setting, the node or the deployment is not what the CLI needs; the message says which setting to fix. */
export class SettingsError extends LoanLedgerError {
  override readonly name: string = "SettingsError";
}

/** No JSON-RPC node answered at the configured endpoint. */
export class NodeUnreachableError extends SettingsError {
  override readonly name = "NodeUnreachableError";
}

/** Each contract: its name in the Ignition deployment record, and the variable that can override its address. */
export const CONTRACTS = {
  alliance: ["AllianceRegistry", "LOANLEDGER_ALLIANCE_REGISTRY"],
  loans: ["LoanRegistry", "LOANLEDGER_LOAN_REGISTRY"],
  splitter: ["RepaymentSplitter", "LOANLEDGER_SPLITTER"],
  collateral: ["CollateralRegistry", "LOANLEDGER_COLLATERAL"],
  insurance: ["CreditInsurance", "LOANLEDGER_INSURANCE"],
  reserve: ["RiskReserveFund", "LOANLEDGER_RESERVE"],
  waterfall: ["LossWaterfall", "LOANLEDGER_WATERFALL"],
  disclosures: ["DisclosureRegistry", "LOANLEDGER_DISCLOSURES"],
} as const;
export type ContractKey = keyof typeof CONTRACTS;
export type Addresses = Record<ContractKey, string>;

/** How long the node may take to answer the first request before the CLI gives up on it. */
const NODE_TIMEOUT_MS = 10_000;

/** The chain id the node at `url` reports; fails with one sentence when nothing answers there. */
export async function nodeChainId(url: string): Promise<bigint> {
  const unreachable = (why: string) =>
    new NodeUnreachableError(
      `no JSON-RPC node answers at ${url} (${why}): start the node, or set LOANLEDGER_RPC_URL to the network's endpoint`,
    );
  let body: { result?: unknown; error?: { message?: string } };
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(NODE_TIMEOUT_MS),
    });
    if (!response.ok) throw unreachable(`HTTP ${response.status}`);
    body = (await response.json()) as typeof body;
  } catch (error) {
    if (error instanceof NodeUnreachableError) throw error;
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw unreachable(cause ?? (error as Error).name);
  }
  if (typeof body.result !== "string") throw unreachable(body.error?.message ?? "no chain id in the answer");
  return BigInt(body.result);
}

/** Where a contract's address came from, to name in a message: its variable, or the deployment record. */
export type AddressSources = Record<ContractKey, string>;

/** The settlement token as the start-up checks found it. */
export interface TokenInfo {
  address: string;
  decimals: number;
  symbol: string;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Checks that every address holds the contract the CLI expects, all from one deployment (each contract's wired
 * references point at the others), that the settlement token answers, and that the alliance key, when set, matches
 * the fingerprint governance published. Reads only; returns the token's decimals and symbol.
 */
export async function checkDeployment(
  runner: ContractRunner,
  at: Addresses,
  sources: AddressSources,
  allianceKeyHex: string | undefined,
): Promise<TokenInfo> {
  const alliance = AllianceRegistry__factory.connect(at.alliance, runner);
  const loans = LoanRegistry__factory.connect(at.loans, runner);
  const splitter = RepaymentSplitter__factory.connect(at.splitter, runner);
  const collateral = CollateralRegistry__factory.connect(at.collateral, runner);
  const insurance = CreditInsurance__factory.connect(at.insurance, runner);
  const reserve = RiskReserveFund__factory.connect(at.reserve, runner);
  const waterfall = LossWaterfall__factory.connect(at.waterfall, runner);
  const disclosures = DisclosureRegistry__factory.connect(at.disclosures, runner);

  // Views only a contract of that kind has, and the addresses it was deployed with; all asked at once, so that they
  // travel to the node as one batch.
  const probes: Record<ContractKey, Record<string, () => Promise<unknown>>> = {
    alliance: { fingerprint: () => alliance.allianceKeyFingerprint(), members: () => alliance.memberCount() },
    loans: { alliance: () => loans.ALLIANCE(), maxBatch: () => loans.MAX_BATCH() },
    splitter: { alliance: () => splitter.ALLIANCE(), loans: () => splitter.LOANS(), token: () => splitter.TOKEN() },
    collateral: {
      alliance: () => collateral.ALLIANCE(),
      loans: () => collateral.LOANS(),
      splitter: () => collateral.SPLITTER(),
      waterfall: () => collateral.WATERFALL(),
      token: () => collateral.TOKEN(),
    },
    insurance: {
      alliance: () => insurance.ALLIANCE(),
      loans: () => insurance.LOANS(),
      splitter: () => insurance.SPLITTER(),
      token: () => insurance.TOKEN(),
    },
    reserve: { alliance: () => reserve.ALLIANCE(), splitter: () => reserve.SPLITTER(), token: () => reserve.TOKEN() },
    waterfall: {
      alliance: () => waterfall.ALLIANCE(),
      loans: () => waterfall.LOANS(),
      splitter: () => waterfall.SPLITTER(),
      insurance: () => waterfall.INSURANCE(),
      reserve: () => waterfall.RESERVE(),
      token: () => waterfall.TOKEN(),
    },
    disclosures: { alliance: () => disclosures.ALLIANCE() },
  };
  const keys = Object.keys(CONTRACTS) as ContractKey[];
  const answers = await Promise.all(
    keys.map((key) =>
      Promise.all(Object.entries(probes[key]).map(async ([view, call]) => [view, String(await call())] as const))
        .then((pairs) => Object.fromEntries(pairs))
        .catch(() => undefined),
    ),
  );
  const found = Object.fromEntries(keys.map((key, i) => [key, answers[i]])) as Record<
    ContractKey,
    Record<string, string> | undefined
  >;

  for (const key of keys) {
    if (found[key]) continue;
    const [name] = CONTRACTS[key];
    const code = await runner.provider?.getCode(at[key]).catch(() => "0x");
    const what = code === "0x" ? "holds no contract" : `holds a contract that is not a LoanLedger ${name}`;
    throw new SettingsError(
      `${at[key]} (${sources[key]}) ${what} on this chain: set it to the ${name} of this network's deployment`,
    );
  }

  // Wiring: every reference a contract holds must be the configured address of that contract.
  let token: string | undefined;
  for (const key of keys) {
    for (const [ref, value] of Object.entries(found[key]!)) {
      if (ref === "token") {
        token ??= value;
        if (!same(token, value))
          throw new SettingsError(
            `${CONTRACTS[key][0]} settles in token ${value} but the splitter in ${token}: ` +
              "the configured addresses come from different deployments; take them all from one deployment record",
          );
        continue;
      }
      if (!(ref in CONTRACTS) || same(value, at[ref as ContractKey])) continue;
      const [name] = CONTRACTS[ref as ContractKey];
      throw new SettingsError(
        `${CONTRACTS[key][0]} at ${at[key]} belongs to a deployment whose ${name} is ${value}, not ${at[ref as ContractKey]} ` +
          `(${sources[ref as ContractKey]}): take every address from one deployment record`,
      );
    }
  }

  const settlement = SettlementToken__factory.connect(token!, runner);
  let decimals: number;
  let symbol: string;
  try {
    [decimals, symbol] = await Promise.all([settlement.decimals().then(Number), settlement.symbol()]);
  } catch {
    throw new SettingsError(
      `the splitter's settlement token ${token} does not answer decimals() and symbol(): the deployment points at a ` +
        "token that is not an ERC-20; redeploy with the custodian bank's token address",
    );
  }

  const published = found.alliance!.fingerprint;
  if (allianceKeyHex && published !== ZeroHash) {
    const mine = allianceKeyFingerprint(parseAllianceKey(allianceKeyHex));
    if (!same(mine, published))
      throw new SettingsError(
        `LOANLEDGER_ALLIANCE_KEY is not this alliance's key (its fingerprint ${mine.slice(0, 10)}… differs from the ` +
          `${published.slice(0, 10)}… governance published): set the alliance key your alliance gave you`,
      );
  }
  return { address: token!, decimals, symbol };
}
