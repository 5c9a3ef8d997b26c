/**
 * A local development network for the portal: `hardhat node` on 127.0.0.1 (a free port), the demo's story run on it
 * over JSON-RPC, and the addresses of the suite it deployed. Used by `npm run portal` and the portal's browser tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  addressesInRecord,
  readDeploymentRecord,
  SUITE,
  SUITE_KEYS,
  toAddress,
  type DeploymentAddresses,
} from "../client/index.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HARDHAT = join(ROOT, "node_modules/hardhat/dist/src/cli.js");

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it, so parallel runs do not collide). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** Waits until a node answers JSON-RPC at `url` (a minute at most), or throws. */
export async function waitForNode(url: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (await answers(url)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no node answered at ${url}`);
}

export interface LocalNode {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `hardhat node` (the `node` network, pinned to Cancun) and waits until it answers. */
export async function startLocalNode(): Promise<LocalNode> {
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    const child = spawn(process.execPath, [HARDHAT, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let exited = false;
    child.once("exit", () => (exited = true));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (exited) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    };
    for (let wait = 0; wait < 300 && !exited; wait += 1) {
      if (await answers(url)) return { url, process: child, stop };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stop();
    // Another process took the port between our probe and the node's start: try another one.
    if (attempt >= 2) throw new Error(`hardhat node did not start on 127.0.0.1:${port}`);
  }
}

/** The suite's addresses (and the settlement token's) that an Ignition deployment recorded. */
export type DeployedSuite = DeploymentAddresses;

/**
 * Runs the demo's story (scripts/demo.ts) against the node at `url`, under its own Ignition deployment id, and returns
 * the addresses it deployed. The deployment record is removed afterwards: the node it describes will not outlive us.
 */
export async function runDemoOn(url: string, log?: (line: string) => void): Promise<DeployedSuite> {
  const deploymentId = `local-portal-${process.pid}-${Date.now()}`;
  const child = spawn(process.execPath, [HARDHAT, "run", "--network", "localhost", "scripts/demo.ts"], {
    cwd: ROOT,
    env: { ...process.env, LOANLEDGER_LOCAL_RPC_URL: url, LOANLEDGER_DEPLOYMENT_ID: deploymentId },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += String(d);
    log?.(String(d).trimEnd());
  });
  child.stderr?.on("data", (d: Buffer) => (output += String(d)));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const folder = join(ROOT, "deploy", "deployments", deploymentId);
  try {
    if (code !== 0) throw new Error(`the demo failed on ${url} (exit ${code}):\n${output.slice(-2_000)}`);
    const { found } = addressesInRecord(await readDeploymentRecord(join(folder, "deployed_addresses.json")));
    // The demo deploys its custody token in the suite's module: every address, the token's included, is in its record.
    const absent = SUITE_KEYS.filter((key) => !found[key]).map((key) => SUITE[key].record);
    if (absent.length) throw new Error(`the demo's deployment recorded no ${absent.join(", ")}`);
    return Object.fromEntries(SUITE_KEYS.map((key) => [key, toAddress(found[key]!)])) as DeployedSuite;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
