import { resolve } from "node:path";
import {
  FetchRequest,
  getAddress,
  makeError,
  isAddress,
  JsonRpcProvider,
  Network,
  VoidSigner,
  Wallet,
  ZeroAddress,
  type FetchGetUrlFunc,
  type JsonRpcPayload,
  type JsonRpcResult,
  type Provider,
  type Signer,
  type TransactionResponse,
} from "ethers";
import {
  deploymentRecordFile,
  deploymentRecords,
  isOptional,
  readDeploymentRecord,
  addressesInRecord,
  Suite,
  SUITE,
  SUITE_KEYS,
  type SuiteClients,
  type SuiteKey,
  operations,
  SequencedSigner,
} from "../client/index.js";
import {
  checkDeployment,
  nodeChainId,
  NoDeploymentError,
  SettingsError,
  type AddressSources,
  type Addresses,
  type TokenInfo,
} from "./startup.js";

/**
 * What every command needs: who signs, the suite (its clients, each built on first use, are also the context's own
 * properties: `ctx.loans`, `ctx.splitter`, …), and how amounts are written.
 */
export interface CliContext extends SuiteClients {
  signer: Signer;
  suite: Suite;
  /** Block of the suite's deployment, where event searches start. */
  fromBlock: number;
  /** Decimals of the settlement token, read from the token itself (never from a setting). */
  decimals: number;
  /** The settlement token's symbol, printed beside amounts. */
  symbol: string;
  allianceKeyHex: string | undefined;
  /** The alliance's time zone (an IANA name): months begin and end there (LOANLEDGER_TIME_ZONE, Asia/Shanghai). */
  timeZone: string;
  /** The custody account a bank statement must be of (LOANLEDGER_CUSTODY_ACCOUNT), when set. */
  custodyAccount: string | undefined;
  /** The currency the settlement token stands for, ISO 4217 (LOANLEDGER_CURRENCY, CNY by default). */
  currency: string;
}

/** What the command line says about the context: the key profile to act as (`--from <profile>`). */
export interface ContextOptions {
  profile?: string;
}

export type ContextFactory = (options?: ContextOptions) => Promise<CliContext>;

/**
 * The signer of a read-only CLI (no key in the settings): it reads, simulates and estimates as `address` (an auditor's
 * or a lender's account, or nobody), and refuses to send with the sentence that says which setting to add.
 */
export class ReadOnlySigner extends VoidSigner {
  override signTransaction(): Promise<string> {
    throw new SettingsError(
      "this command sends a transaction, and no signing key is set: set LOANLEDGER_PRIVATE_KEY, or a key profile " +
        "LOANLEDGER_PRIVATE_KEY_<NAME> and --from <name> (reading needs no key)",
    );
  }
  override sendTransaction(): Promise<TransactionResponse> {
    return this.signTransaction().then(() => {
      throw new Error("unreachable");
    });
  }
  override signMessage(): Promise<string> {
    return this.signTransaction();
  }
  override signTypedData(): Promise<string> {
    return this.signTransaction();
  }
  override connect(provider: Provider | null): ReadOnlySigner {
    return new ReadOnlySigner(this.address, provider);
  }
}

/** The variable that holds the key of `profile`: `--from lender-2` reads LOANLEDGER_PRIVATE_KEY_LENDER_2. */
export function profileVariable(profile: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(profile))
    throw new SettingsError(`--from takes a profile name (letters, digits, - and _), not ${JSON.stringify(profile)}`);
  return `LOANLEDGER_PRIVATE_KEY_${profile.toUpperCase().replace(/-/g, "_")}`;
}

export { findEnvFile } from "./env-file.js";

/**
 * Addresses from the environment, or else from the Ignition deployment record of the connected chain (a setting still
 * overrides the record's address). The token may be left out: the start-up checks take the splitter's.
 */
async function addresses(env: NodeJS.ProcessEnv, chainId: bigint): Promise<{ at: Addresses; sources: AddressSources }> {
  const fromEnv = (key: SuiteKey) => env[SUITE[key].env] || undefined;
  const sources = {} as AddressSources;
  const name = (origin: string) => {
    for (const key of SUITE_KEYS) sources[key] = fromEnv(key) ? SUITE[key].env : origin;
  };
  if (SUITE_KEYS.every((key) => fromEnv(key) || isOptional(key))) {
    name("not set");
    return { at: Object.fromEntries(SUITE_KEYS.map((key) => [key, fromEnv(key)])) as Addresses, sources };
  }
  const folder = env.LOANLEDGER_DEPLOYMENTS || "deploy/deployments";
  const file = deploymentRecordFile(chainId, folder);
  let record: Record<string, string>;
  try {
    record = await readDeploymentRecord(file);
  } catch {
    const others = (await deploymentRecords(folder)).filter((name) => name.startsWith("chain-"));
    const hint = others.length
      ? `; ${resolve(folder)} has records for ${others.join(", ")}: is LOANLEDGER_RPC_URL the deployment's network?`
      : ": deploy first, or set every LOANLEDGER_* contract address";
    throw new NoDeploymentError(`the node is chain ${chainId} and there is no deployment record for it${hint}`);
  }
  const { found } = addressesInRecord(record);
  const at = Object.fromEntries(SUITE_KEYS.map((key) => [key, fromEnv(key) || found[key]])) as Addresses;
  const missing = SUITE_KEYS.filter((key) => !at[key] && !isOptional(key)).map((key) => SUITE[key].name);
  if (missing.length)
    throw new SettingsError(`${file} has no ${missing.join(", ")}: redeploy, or set the LOANLEDGER_* addresses`);
  name(`from ${file}`);
  return { at, sources };
}

/** True for a node on this machine, where blocks are mined the moment a transaction arrives. */
function isLocal(url: string): boolean {
  try {
    return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * Sends a JSON-RPC request with Node's fetch. ethers' own HTTP client grows a response body by copying all of it at
 * every chunk that arrives, which is quadratic: the log query that answers with the 100 000 anchoring events of a large
 * book (about 100 MB) took minutes and ran out of memory. fetch reads a body in one piece.
 */
const readWhole: FetchGetUrlFunc = async (req, signal) => {
  const controller = new AbortController();
  signal?.addListener(() => controller.abort());
  const timer = setTimeout(() => controller.abort(), req.timeout);
  try {
    const response = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body ?? undefined,
      signal: controller.signal,
    });
    const body = new Uint8Array(await response.arrayBuffer());
    return {
      statusCode: response.status,
      statusMessage: response.statusText,
      headers: Object.fromEntries(response.headers),
      body: body.length ? body : null,
    };
  } catch (error) {
    // A request cut off by its timeout is what the ledger reader retries: the code ethers' own client gives it.
    if (controller.signal.aborted)
      throw makeError("request timeout", "TIMEOUT", { operation: `${req.method} ${req.url}`, reason: "timeout" });
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const UTF8_OUT = new TextEncoder();

/**
 * JSON-RPC over {readWhole}, its answer decoded by the runtime: ethers decodes UTF-8 in JavaScript, about 1 s for the
 * 5 MB answer of 4 500 logs, which made reading a large book from a node five times slower than the node.
 */
class WholeJsonRpcProvider extends JsonRpcProvider {
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const request = this._getConnection();
    // As bytes encoded by the runtime: ethers encodes a string's UTF-8 in JavaScript, some 30 ms for a batch's 125 KB.
    request.body = UTF8_OUT.encode(JSON.stringify(payload));
    request.setHeader("content-type", "application/json");
    const response = await request.send();
    response.assertOk();
    let answer: JsonRpcResult | JsonRpcResult[];
    try {
      answer = JSON.parse(UTF8.decode(response.body ?? new Uint8Array())) as JsonRpcResult | JsonRpcResult[];
    } catch {
      // As ethers words it, so that an answer cut short is told apart the same way.
      throw makeError("response body is not valid JSON", "UNSUPPORTED_OPERATION", { operation: "bodyJson" });
    }
    return Array.isArray(answer) ? answer : [answer];
  }
}

/**
 * A provider that does not wait and does not remember: no 10 ms pause before each request batch, no cached answers,
 * no chain-id request before each call (the chain id was checked once at start-up and a network does not change it),
 * and on a local node receipts polled every 50 ms rather than every 4 s. A remote network is polled every second,
 * about half a QBFT block.
 */
export function fastProvider(url: string, chainId: bigint): JsonRpcProvider {
  const request = new FetchRequest(url);
  request.getUrlFunc = readWhole;
  return new WholeJsonRpcProvider(request, Network.from(chainId), {
    staticNetwork: true,
    batchStallTime: 0,
    // No answer from a cache: a nonce manager that counts again after an unsent transaction must read the node's count.
    cacheTimeout: -1,
    pollingInterval: isLocal(url) ? 50 : 1_000,
  });
}

/**
 * Builds the context from the environment (and `.env`): keys never come from command-line flags. Before any command
 * runs, the start-up checks make sure the node answers, its chain is the deployment's, every address holds the
 * expected contract of one deployment, and the alliance key is the alliance's.
 */
export function contextFromEnv(env: NodeJS.ProcessEnv = process.env): ContextFactory {
  return async (options = {}) => {
    if (!env.LOANLEDGER_RPC_URL)
      throw new NoDeploymentError(
        "LOANLEDGER_RPC_URL is not set: add it to the environment or .env (see .env.example)",
      );
    const url = env.LOANLEDGER_RPC_URL;
    // The key: a profile's (--from), or the default one; without any, the CLI reads as LOANLEDGER_ACCOUNT (or nobody).
    const keyVariable = options.profile === undefined ? "LOANLEDGER_PRIVATE_KEY" : profileVariable(options.profile);
    const key = env[keyVariable];
    if (options.profile !== undefined && !key)
      throw new SettingsError(`--from ${options.profile}: ${keyVariable} is not set: add the profile's key to .env`);
    let wallet: Wallet | undefined;
    try {
      wallet = key ? new Wallet(key) : undefined;
    } catch {
      throw new SettingsError(`${keyVariable} is not a valid private key: set the 0x-prefixed hex key`);
    }
    let viewer = ZeroAddress;
    if (!wallet && env.LOANLEDGER_ACCOUNT) {
      if (!isAddress(env.LOANLEDGER_ACCOUNT))
        throw new SettingsError(`LOANLEDGER_ACCOUNT is not an address: ${env.LOANLEDGER_ACCOUNT}`);
      viewer = getAddress(env.LOANLEDGER_ACCOUNT);
    }
    const chainId = await nodeChainId(url);
    if (env.LOANLEDGER_CHAIN_ID && String(chainId) !== env.LOANLEDGER_CHAIN_ID.trim())
      throw new SettingsError(
        `the node at ${url} is chain ${chainId}, not the deployment's chain ${env.LOANLEDGER_CHAIN_ID}: ` +
          "set LOANLEDGER_RPC_URL to the deployment's network (or fix LOANLEDGER_CHAIN_ID)",
      );
    const provider = fastProvider(url, chainId);
    const { at, sources } = await addresses(env, chainId);
    const { addresses: checked, token } = await checkDeployment(provider, at, sources, env.LOANLEDGER_ALLIANCE_KEY);
    const stale = env.LOANLEDGER_AMOUNT_DECIMALS;
    if (stale && Number(stale) !== token.decimals)
      throw new SettingsError(
        `LOANLEDGER_AMOUNT_DECIMALS is ${stale} but the settlement token ${token.symbol} has ${token.decimals} decimals, ` +
          "which the CLI reads from the token itself: remove LOANLEDGER_AMOUNT_DECIMALS from your settings",
      );
    const fromBlock = Number(env.LOANLEDGER_FROM_BLOCK ?? 0);
    // A command may send several transactions in a row (an approval, then the action), or many at once: the signer
    // counts them itself rather than asking a node that may not have caught up, and a refused one leaves no gap.
    const signer = wallet ? new SequencedSigner(wallet.connect(provider)) : new ReadOnlySigner(viewer, provider);
    return contextFor(Suite.at(checked, signer, { fromBlock }), {
      allianceKeyHex: env.LOANLEDGER_ALLIANCE_KEY,
      token,
      timeZone: env.LOANLEDGER_TIME_ZONE,
      custodyAccount: env.LOANLEDGER_CUSTODY_ACCOUNT,
      currency: env.LOANLEDGER_CURRENCY,
    });
  };
}

/**
 * The context of `suite`'s signer. Each client is built when a command first uses it. The settlement token's decimals
 * and symbol are read from the token unless the start-up checks already did.
 */
export async function contextFor(
  suite: Suite,
  settings: {
    allianceKeyHex: string | undefined;
    token?: Pick<TokenInfo, "decimals" | "symbol">;
    timeZone?: string;
    custodyAccount?: string;
    currency?: string;
  },
): Promise<CliContext> {
  const signer = suite.runner as Signer;
  if (typeof signer.getAddress !== "function")
    throw new SettingsError("the CLI's suite needs a signer (or a read-only one)");
  let token = settings.token;
  if (!token) {
    const contract = suite.contracts.token;
    const [decimals, symbol] = await Promise.all([contract.decimals(), contract.symbol()]);
    token = { decimals: Number(decimals), symbol };
  }
  const ctx = {
    signer,
    suite,
    fromBlock: suite.fromBlock,
    decimals: token.decimals,
    symbol: token.symbol,
    allianceKeyHex: settings.allianceKeyHex,
    timeZone: settings.timeZone?.trim() || operations.DEFAULT_TIME_ZONE,
    custodyAccount: settings.custodyAccount?.trim() || undefined,
    currency: settings.currency?.trim().toUpperCase() || "CNY",
  };
  for (const key of SUITE_KEYS) Object.defineProperty(ctx, key, { enumerable: true, get: () => suite.clients[key] });
  return ctx as CliContext;
}
