/**
 * `loan import` speed on a local node: starts `hardhat node` on 127.0.0.1 (pinned to Cancun by hardhat.config.ts),
 * deploys the suite, admits a platform, writes a CSV book of N loans (each with its own borrower, the dearest case),
 * then runs `loanledger loan import` as a user would (a child process, through bin/loanledger.mjs) and prints loans/s.
 * A second run of the same command, which must find everything anchored and send nothing, is timed too.
 *
 *   npm run bench:import                 # 100 000 loans
 *   npm run bench:import -- --loans 5000
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { id } from "ethers";
import { contextFromEnv } from "../src/cli/context.js";
import { toAddress, toHash32 } from "../src/client/index.js";
import { freePort, waitForNode } from "../src/portal/devnet.js";

const ROOT = process.cwd();
const HARDHAT = join(ROOT, "node_modules/hardhat/dist/src/cli.js");
/** The well-known development accounts of `hardhat node` (never use them on a real network). */
const GOVERNANCE = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const PLATFORM = [
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
];

function loansWanted(): number {
  // `npm run bench:import -- --loans N`, or BENCH_LOANS=N.
  const flag = process.argv.indexOf("--loans");
  const value = flag >= 0 ? process.argv[flag + 1] : (process.env.BENCH_LOANS ?? "100000");
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--loans takes a whole number, not ${value}`);
  return Number(value);
}

/** Runs a command to its end; resolves to its output and how long it took. */
function exec(
  command: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string; s: number }> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(command[0], command.slice(1), { cwd: ROOT, env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += String(d)));
    child.stderr.on("data", (d) => (err += String(d)));
    child.on("error", fail);
    child.on("close", (code) =>
      done({ code: code ?? -1, out: out.trim(), err: err.trim(), s: (performance.now() - started) / 1000 }),
    );
  });
}

/** A CSV book of `count` loans, written as a stream: 100 000 rows are about 30 MB. */
async function writeBook(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  out.write(
    "platformRef,borrowerRef,documentHash,principal,annualRateBps,schedule,installments,period,gracePeriod," +
      "lateFeeBps,defaultThreshold,fundingDeadline\n",
  );
  for (let i = 1; i <= count; i += 1) {
    const line = `BENCH-${i},${id(`bench borrower ${i}`)},contract ${i},12000.00,900,equal-principal,12,30d,3d,1500,90d,+30d\n`;
    if (!out.write(line)) await new Promise<void>((done) => out.once("drain", () => done()));
  }
  await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
}

const count = loansWanted();
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const node: ChildProcess = spawn(
  process.execPath,
  [HARDHAT, "node", "--hostname", "127.0.0.1", "--port", String(port)],
  { cwd: ROOT, detached: true, stdio: "ignore" },
);
try {
  await waitForNode(url);
  const deployed = await exec([process.execPath, HARDHAT, "run", "scripts/deploy-local.ts"], {
    LOANLEDGER_LOCAL_RPC_URL: url,
    LOANLEDGER_DEPLOY_NETWORK: "localhost",
    LOANLEDGER_ALLIANCE_KEY: "",
  });
  const line = deployed.out.split("\n").find((l) => l.startsWith('{"LOANLEDGER_'));
  if (!line) throw new Error(`deployment printed no addresses: ${deployed.err || deployed.out}`);
  const env = { ...(JSON.parse(line) as Record<string, string>), LOANLEDGER_RPC_URL: url };
  const governance = await contextFromEnv({ ...env, LOANLEDGER_PRIVATE_KEY: GOVERNANCE })();
  await governance.alliance.admitMember(toAddress(PLATFORM[0]), ["Platform"], toHash32(id("bench platform")));

  const dir = await mkdtemp(join(tmpdir(), "loanledger-bench-import-"));
  const file = join(dir, "book.csv");
  await writeBook(file, count);
  console.log(`hardhat node at ${url}; a book of ${count} loans in ${file}`);

  const cli = [process.execPath, join(ROOT, "bin/loanledger.mjs"), "loan", "import", file, "--json"];
  const platformEnv = { ...env, LOANLEDGER_PRIVATE_KEY: PLATFORM[1] };
  // Compiles the CLI's bundle (done once after a change to the sources), so that it is not timed below.
  await exec([process.execPath, join(ROOT, "bin/loanledger.mjs"), "--version"], platformEnv);
  const first = await exec(cli, platformEnv);
  if (first.code !== 0) throw new Error(`the import failed: ${first.err}`);
  const summary = JSON.parse(first.out) as { anchored: number; transactions: string[] };
  if (summary.anchored !== count) throw new Error(`the import anchored ${summary.anchored} of ${count} loans`);
  const journal = readFileSync(`${file}.journal.jsonl`, "utf8")
    .split("\n")
    .filter((l) => l.includes('"loanId"'));
  console.log(
    `loan import of ${count} loans: ${(count / first.s).toFixed(1)} loans/s (${first.s.toFixed(1)} s for the ` +
      `whole command, start-up, checks and reading the book and the chain included; ${summary.transactions.length} transactions; ` +
      `${journal.length} loans in the journal); load average ${loadavg()[0].toFixed(2)}`,
  );
  const again = await exec(cli, platformEnv);
  if (again.code !== 0) throw new Error(`the second run failed: ${again.err}`);
  const rerun = JSON.parse(again.out) as { anchored: number; skipped: number };
  if (rerun.anchored !== 0 || rerun.skipped !== count) throw new Error(`the second run was not a no-op: ${again.out}`);
  console.log(
    `the same import again: nothing sent, ${count} found anchored on chain, in ${again.s.toFixed(1)} s; ` +
      `load average ${loadavg()[0].toFixed(2)}`,
  );
} finally {
  if (node.pid) process.kill(-node.pid, "SIGTERM");
}
