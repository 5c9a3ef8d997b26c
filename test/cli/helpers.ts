import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contextFor, contextFromEnv, main, type CliContext, type CliIo } from "../../src/cli/index.js";
import { connection, NATIONAL_IDS, type AllianceFixture } from "../fixtures.js";

export const KEY_HEX = "0x" + "07".repeat(32);

/** Runs the CLI in-process as `signer`, capturing what it prints. */
export async function run(f: AllianceFixture, signer: AllianceFixture["governance"], argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const context = async (): Promise<CliContext> => contextFor(f.suite.connect(signer), { allianceKeyHex: KEY_HEX });
  const code = await main(argv, io, context);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

export async function termsFile(entries: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "loanledger-"));
  const file = join(dir, "terms.json");
  await writeFile(file, JSON.stringify(entries));
  return file;
}

export const loanEntry = (ref: string) => ({
  borrowerNationalId: NATIONAL_IDS[1],
  documentHash: "signed contract v1",
  platformRef: ref,
  principal: "50000",
  annualRateBps: 860,
  schedule: "equal-principal",
  installments: 6,
  period: "30d",
  gracePeriod: "3d",
  lateFeeBps: 1500,
  defaultThreshold: "60d",
  fundingDeadline: "+7d",
});

/** Anchors the terms-file entry `ref` as platform A through the CLI, and returns the loan id the command printed. */
export async function anchorWithCli(f: AllianceFixture, ref: string): Promise<string> {
  const anchored = await run(f, f.platformA, ["loan", "anchor", "--file", await termsFile(loanEntry(ref)), "--json"]);
  if (anchored.code !== 0) throw new Error(`anchoring ${ref} failed: ${anchored.err}`);
  return (JSON.parse(anchored.out) as { loanIds: string[] }).loanIds[0];
}

/** The well-known private keys of the embedded network's first accounts (governance, platform A, platform B, …). */
export const DEV_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
] as const;

/**
 * Serves the embedded network over HTTP JSON-RPC on 127.0.0.1, so that the CLI's own start-up path (a URL in the
 * settings, the checks, the fast provider) runs against the fixtures. Resolves to its URL and a stop function.
 */
export async function serveJsonRpc(): Promise<{ url: string; close: () => Promise<void> }> {
  const answer = async (request: { id: unknown; method: string; params?: unknown[] }) => {
    try {
      return { jsonrpc: "2.0", id: request.id, result: await connection.provider.request(request) };
    } catch (error) {
      const e = error as { code?: number; message?: string; data?: unknown };
      return { jsonrpc: "2.0", id: request.id, error: { code: e.code ?? -32000, message: e.message, data: e.data } };
    }
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += String(chunk)));
    req.on("end", () => {
      const parsed = JSON.parse(body) as Parameters<typeof answer>[0] | Parameters<typeof answer>[0][];
      void (Array.isArray(parsed) ? Promise.all(parsed.map(answer)) : answer(parsed)).then((reply) => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(reply));
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(() => done())) };
}

/** The settings the CLI reads, for `f`'s deployment behind `url`, acting with `key`. */
export function envFor(f: AllianceFixture, url: string, key: string): NodeJS.ProcessEnv {
  return {
    LOANLEDGER_RPC_URL: url,
    LOANLEDGER_PRIVATE_KEY: key,
    LOANLEDGER_ALLIANCE_KEY: KEY_HEX,
    ...f.suite.settings(),
  };
}

/** Runs the CLI in-process with `env` as its settings, through its real start-up path. */
export async function runWithEnv(env: NodeJS.ProcessEnv, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, contextFromEnv(env));
  return { code, out: out.join("\n"), err: err.join("\n") };
}
