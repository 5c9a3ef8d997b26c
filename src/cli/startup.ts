/**
 * Start-up checks: before a command sends anything, the CLI makes sure it talks to the right node, the right
 * contracts and the right token, with the alliance's own key. Each failed check is one sentence that says what to fix.
 */
import { Interface, ZeroHash, type Provider } from "ethers";
import {
  allianceKeyFingerprint,
  isOptional,
  LoanLedgerError,
  parseAllianceKey,
  SUITE,
  SUITE_KEYS,
  toAddress,
  type DeploymentAddresses,
  type SuiteKey,
} from "../client/index.js";

/** A setting, the node or the deployment is not what the CLI needs; the message says which setting to fix. */
export class SettingsError extends LoanLedgerError {
  override readonly name: string = "SettingsError";
}

/**
 * The settings name no deployment at all: no LOANLEDGER_RPC_URL, or no deployment record for the node's chain (and no
 * LOANLEDGER_* addresses). A command that can work without one (proving an export with --rpc) goes on; any other
 * settings error stops it, so that a mistake never switches a check off.
 */
export class NoDeploymentError extends SettingsError {
  override readonly name = "NoDeploymentError";
}

/** No JSON-RPC node answered at the configured endpoint. */
export class NodeUnreachableError extends SettingsError {
  override readonly name = "NodeUnreachableError";
}

/** The suite's contracts as the settings give them: every one but an optional one (the token) has an address. */
export type Addresses = Partial<Record<SuiteKey, string>>;

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
export type AddressSources = Record<SuiteKey, string>;

/** The settlement token as the start-up checks found it. */
export interface TokenInfo {
  address: string;
  decimals: number;
  symbol: string;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** For each contract, an interface of only the views the checks ask it: parsing a whole ABI costs more than a check. */
const probeInterfaces = new Map<SuiteKey, Interface>();
function probeViews(key: SuiteKey): { iface: Interface; views: string[] } {
  const row = SUITE[key];
  const views: string[] = [...row.identity, ...Object.keys(row.wiring)];
  let iface = probeInterfaces.get(key);
  if (!iface) {
    const abi = row.factory.abi as readonly { type: string; name?: string }[];
    iface = new Interface(abi.filter((f) => f.type === "function" && views.includes(f.name!)) as never);
    probeInterfaces.set(key, iface);
  }
  return { iface, views };
}

/**
 * Asks the contract `key` at `address` every view of its kind (see SUITE's identity and wiring), all at once so that
 * they travel to the node in one batch. Undefined when any view does not answer as that contract's would.
 */
async function probe(provider: Provider, key: SuiteKey, address: string): Promise<Record<string, string> | undefined> {
  const { iface, views } = probeViews(key);
  try {
    const pairs = await Promise.all(
      views.map(async (view) => {
        const data = await provider.call({ to: address, data: iface.encodeFunctionData(view) });
        return [view, String(iface.decodeFunctionResult(view, data)[0])] as const;
      }),
    );
    return Object.fromEntries(pairs);
  } catch {
    return undefined;
  }
}

/**
 * Checks that every address holds the contract the CLI expects, all from one deployment (each contract's wired
 * references point at the others), that the settlement token answers, and that the alliance key, when set, matches
 * the fingerprint governance published. Reads only; returns every address (the token's as the splitter names it when
 * the settings do not) and the token's decimals and symbol.
 */
export async function checkDeployment(
  provider: Provider,
  at: Addresses,
  sources: AddressSources,
  allianceKeyHex: string | undefined,
): Promise<{ addresses: DeploymentAddresses; token: TokenInfo }> {
  sources = { ...sources };
  const given = SUITE_KEYS.filter((key) => at[key]);
  const answers = await Promise.all(given.map((key) => probe(provider, key, at[key]!)));
  const found = Object.fromEntries(given.map((key, i) => [key, answers[i]])) as Partial<
    Record<SuiteKey, Record<string, string> | undefined>
  >;
  const notThere = async (key: SuiteKey, address: string) => {
    const { name } = SUITE[key];
    const code = await provider.getCode(address).catch(() => "0x");
    const what = code === "0x" ? "holds no contract" : `holds a contract that is not a LoanLedger ${name}`;
    return new SettingsError(
      `${address} (${sources[key]}) ${what} on this chain: set it to the ${name} of this network's deployment`,
    );
  };
  for (const key of given) if (!found[key]) throw await notThere(key, at[key]!);

  // Wiring: every reference a contract holds must be the configured address of that contract. A contract the settings
  // may leave out (the token) is what the first reference to it names, and every other reference must agree.
  const resolved: Addresses = { ...at };
  for (const key of given) {
    for (const [view, target] of Object.entries<string | undefined>(SUITE[key].wiring)) {
      const value = found[key]![view];
      const wanted = target as SuiteKey;
      if (!resolved[wanted] && isOptional(wanted)) {
        resolved[wanted] = value;
        sources[wanted] = `named by the ${SUITE[key].name}`;
        continue;
      }
      if (!resolved[wanted] || same(value, resolved[wanted])) continue;
      throw new SettingsError(
        `${SUITE[key].name} at ${at[key]} belongs to a deployment whose ${SUITE[wanted].name} is ${value}, not ` +
          `${resolved[wanted]} (${sources[wanted]}): take every address from one deployment record`,
      );
    }
  }

  // A contract found only through another one's reference is checked now.
  for (const key of SUITE_KEYS.filter((k) => !at[k] && resolved[k])) {
    found[key] = await probe(provider, key, resolved[key]!);
    const { name, identity } = SUITE[key];
    if (!found[key])
      throw new SettingsError(
        `the ${name} ${resolved[key]} (${sources[key]}) does not answer ${identity.map((v) => `${v}()`).join(", ")}: ` +
          `the deployment points at a contract that is not a ${name}; redeploy with the right address`,
      );
  }
  const missing = SUITE_KEYS.filter((key) => !resolved[key]);
  if (missing.length) throw new LoanLedgerError(`no address for ${missing.map((key) => SUITE[key].name).join(", ")}`);

  const published = found.alliance!.allianceKeyFingerprint;
  if (allianceKeyHex && published !== ZeroHash) {
    const mine = allianceKeyFingerprint(parseAllianceKey(allianceKeyHex));
    if (!same(mine, published))
      throw new SettingsError(
        `LOANLEDGER_ALLIANCE_KEY is not this alliance's key (its fingerprint ${mine.slice(0, 10)}… differs from the ` +
          `${published.slice(0, 10)}… governance published): set the alliance key your alliance gave you`,
      );
  }
  const addresses = Object.fromEntries(
    SUITE_KEYS.map((key) => [key, toAddress(resolved[key]!)]),
  ) as DeploymentAddresses;
  const token = found.token!;
  return { addresses, token: { address: addresses.token, decimals: Number(token.decimals), symbol: token.symbol } };
}
