/**
 * CLI and client speed on a local node: starts `hardhat node` on 127.0.0.1 (pinned to Cancun by hardhat.config.ts),
 * deploys the suite, then through the CLI's own context (its provider, its start-up checks) times single anchors
 * (one at a time, and 25 in flight: target ≥ 50/s) and a loan book anchored in gas-sized batches (target ≥ 400
 * loans/s); both print the load average beside them; measures the gas of a batch by
 * its size to size MAX_BATCH under the 2^24 per-transaction cap; and times the CLI's start-up for one command, and
 * `loan list` and `keeper overdue` over that book (each reads the state of every loan the platform anchored).
 *
 *   npm run bench:cli
 *
 * To compare the CLI with another checkout (say the commit before a change), give its entry file: both are then run
 * in turn, so that both see the same load on the machine.
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" "$PWD/typechain-types" /tmp/before/
 *   BENCH_CLI_COMPARE=/tmp/before/bin/loanledger.mjs npm run bench:cli
 *
 * BENCH_CLI_STARTUP_ONLY=1 times the start-up alone. Where GNU time is installed, the CPU time of each start-up is
 * printed beside its wall-clock time: on a shared machine the CPU time is the steadier figure.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { id, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { contextFromEnv } from "../src/cli/context.js";
import { anchorInBatches } from "../src/cli/anchor-batches.js";
import { loanStates, STATE_BATCH } from "../src/cli/loan-states.js";
import {
  borrowerRef,
  LoanRegistryClient,
  ScheduleKind,
  SequencedSigner,
  toAddress,
  toHash32,
  type LoanTerms,
} from "../src/client/index.js";
import { batchGasBudget, TRANSACTION_GAS_CAP } from "../src/client/transact.js";
import { freePort, waitForNode } from "../src/portal/devnet.js";

const ROOT = process.cwd();
const SINGLES = Number(process.env.BENCH_SINGLES ?? 300);
const BOOK = Number(process.env.BENCH_BOOK ?? 3000);
const IN_FLIGHT = 25;
const SINGLES_TARGET = 50;
const BATCHED_TARGET = 400;
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 9);
const BOOK_RUNS = Number(process.env.BENCH_BOOK_RUNS ?? 3);
const CLI_ENTRY = join(ROOT, "bin/loanledger.mjs");
const COMPARE_ENTRY = process.env.BENCH_CLI_COMPARE;
/** BENCH_CLI_STARTUP_ONLY=1 times only the CLI's start-up (no anchoring, no gas by batch size). */
const STARTUP_ONLY = process.env.BENCH_CLI_STARTUP_ONLY === "1";
/** GNU time, to measure the CPU a start-up takes: on a shared machine, its wall-clock time is mostly the others' load. */
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
/** The well-known development accounts of `hardhat node` (never use them on a real network). */
const GOVERNANCE = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const PLATFORM = [
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
];
const DAY = 86_400;

function run(
  command: string[],
  env: NodeJS.ProcessEnv,
): { code: number; out: string; err: string; ms: number; cpuMs?: number } {
  const timed = GNU_TIME ? [GNU_TIME, "-f", "cpu %U %S", ...command] : command;
  const started = performance.now();
  const r = spawnSync(timed[0], timed.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
  const ms = performance.now() - started;
  let err = r.stderr.trim();
  let cpuMs: number | undefined;
  const cpu = GNU_TIME ? /(?:^|\n)cpu ([\d.]+) ([\d.]+)$/.exec(err) : null;
  if (cpu) {
    cpuMs = (Number(cpu[1]) + Number(cpu[2])) * 1000;
    err = err.slice(0, cpu.index).trim();
  }
  return { code: r.status ?? -1, out: r.stdout.trim(), err, ms, cpuMs };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const node: ChildProcess = spawn(
  process.execPath,
  [join(ROOT, "node_modules/hardhat/dist/src/cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port)],
  { cwd: ROOT, detached: true, stdio: "ignore" },
);
try {
  await waitForNode(url);
  const deployed = run(
    [process.execPath, join(ROOT, "node_modules/hardhat/dist/src/cli.js"), "run", "scripts/deploy-local.ts"],
    {
      LOANLEDGER_LOCAL_RPC_URL: url,
      LOANLEDGER_DEPLOY_NETWORK: "localhost",
      LOANLEDGER_ALLIANCE_KEY: "",
    },
  );
  const line = deployed.out.split("\n").find((l) => l.startsWith('{"LOANLEDGER_'));
  if (!line) throw new Error(`deployment printed no addresses: ${deployed.err || deployed.out}`);
  const addresses = JSON.parse(line) as Record<string, string>;
  const env = { ...addresses, LOANLEDGER_RPC_URL: url, LOANLEDGER_ALLIANCE_KEY: "0x" + "5a".repeat(32) };

  const governance = await contextFromEnv({ ...env, LOANLEDGER_PRIVATE_KEY: GOVERNANCE })();
  await governance.alliance.admitMember(toAddress(PLATFORM[0]), ["Platform"], toHash32(id("bench platform")));
  const ctx = await contextFromEnv({ ...env, LOANLEDGER_PRIVATE_KEY: PLATFORM[1] })();
  const provider = ctx.signer.provider!;
  const block = await provider.getBlock("latest");
  console.log(
    `hardhat node at ${url}: block gas limit ${block!.gasLimit}, chain ${(await provider.getNetwork()).chainId}`,
  );

  const key = new Uint8Array(32).fill(0x5a);
  const deadline = block!.timestamp + 30 * DAY;
  // Every loan has its own borrower: the most storage a loan can write, so the gas measured is the worst case.
  const loan = (i: number): LoanTerms => ({
    platform: toAddress(PLATFORM[0]),
    borrowerRef: borrowerRef(`BENCH${String(i).padStart(10, "0")}`, key),
    documentHash: toHash32(id(`document ${i}`)),
    platformRef: toHash32(id(`bench loan ${i}`)),
    principal: 12_000n * 10n ** 18n,
    annualRateBps: 900,
    scheduleKind: ScheduleKind.EqualPrincipal,
    installments: 12,
    period: 30 * DAY,
    gracePeriod: 3 * DAY,
    lateFeeBps: 1_500,
    defaultThreshold: 90 * DAY,
    fundingDeadline: deadline,
  });
  let next = 0;

  if (!STARTUP_ONLY) {
    // Single anchors, one transaction each, as `loanledger loan anchor` sends them: one after another, each waiting for
    // its receipt (what one loan costs a platform in time), then as a platform's service sends them as loans come,
    // IN_FLIGHT at a time, each waiting only for its own receipt (the throughput).
    await ctx.loans.anchor(loan(next++)); // warm-up
    let started = performance.now();
    for (let i = 0; i < SINGLES; i += 1) await ctx.loans.anchor(loan(next++));
    const serial = SINGLES / ((performance.now() - started) / 1000);
    console.log(`single anchors through the client, one at a time: ${serial.toFixed(1)}/s (${SINGLES} loans)`);
    started = performance.now();
    for (let i = 0; i < SINGLES; i += IN_FLIGHT) {
      const wave = Array.from({ length: Math.min(IN_FLIGHT, SINGLES - i) }, () => loan(next++));
      await Promise.all(wave.map((terms) => ctx.loans.anchor(terms)));
    }
    const singles = SINGLES / ((performance.now() - started) / 1000);
    console.log(
      `single anchors through the client, ${IN_FLIGHT} in flight: ${singles.toFixed(1)}/s (${SINGLES} loans; ` +
        `target ≥ ${SINGLES_TARGET}/s: ${singles >= SINGLES_TARGET ? "holds" : "MISSED"}); load average ${loadavg()[0].toFixed(2)}`,
    );
    // The same through a provider with ethers' defaults (10 ms batch wait, chain id asked again, 4 s polling), as the CLI
    // had before, right after, so that both see the same load on the machine.
    const plain = new JsonRpcProvider(url);
    const plainLoans = new LoanRegistryClient(ctx.loans.address, new NonceManager(new Wallet(PLATFORM[1], plain)));
    const PLAIN = Math.max(1, Math.floor(SINGLES / 5));
    started = performance.now();
    for (let i = 0; i < PLAIN; i += 1) await plainLoans.anchor(loan(next++));
    const plainRate = PLAIN / ((performance.now() - started) / 1000);
    plain.destroy();
    // The platform's own nonce manager did not see those transactions: it asks the node again.
    (ctx.signer as SequencedSigner).reset();
    console.log(`single anchors through a provider with ethers' defaults: ${plainRate.toFixed(1)}/s (${PLAIN} loans)`);

    // A book in batches sized by gas estimate, as `loanledger loan anchor` sends a file of many loans.
    const book = Array.from({ length: BOOK }, () => loan(next++));
    started = performance.now();
    await anchorInBatches(ctx, book);
    const batched = BOOK / ((performance.now() - started) / 1000);
    const budget = await batchGasBudget(provider);
    console.log(
      `batched anchors through the client: ${batched.toFixed(1)} loans/s (${BOOK} loans, batches up to ` +
        `${await ctx.loans.contract.MAX_BATCH()} loans within ${budget} gas; target ≥ ${BATCHED_TARGET} loans/s: ` +
        `${batched >= BATCHED_TARGET ? "holds" : "MISSED"}); load average ${loadavg()[0].toFixed(2)}`,
    );

    // What `loan list` and `keeper overdue` spend their time on over that book: the platform's anchoring events, then
    // every loan's state, read in JSON-RPC batches (as the CLI does) and, for comparison, one contract call each.
    let at = performance.now();
    const anchoredBook = await ctx.loans.anchoredLoans(toAddress(PLATFORM[0]));
    const eventsMs = performance.now() - at;
    const bookIds = anchoredBook.map((l) => l.loanId);
    at = performance.now();
    await loanStates(ctx, bookIds);
    const batchedMs = performance.now() - at;
    at = performance.now();
    for (let i = 0; i < bookIds.length; i += 500)
      await Promise.all(bookIds.slice(i, i + 500).map((loanId) => ctx.loans.state(loanId)));
    const oneByOneMs = performance.now() - at;
    console.log(
      `reading a book of ${bookIds.length} loans: anchoring events ${eventsMs.toFixed(0)} ms; states in JSON-RPC ` +
        `batches of ${STATE_BATCH} ${batchedMs.toFixed(0)} ms, one contract call each ${oneByOneMs.toFixed(0)} ms`,
    );

    // Gas of one batch by its size, each loan with a new borrower (the dearest case), up to the largest batch the
    // registry accepts.
    const maxBatch = Number(await ctx.loans.contract.MAX_BATCH());
    const sizes = [1, 10, 50, 100, 150, 180, 200].filter((size) => size <= maxBatch);
    const gas: [number, bigint][] = [];
    for (const size of sizes) {
      const receipt = await ctx.loans.anchorBatch(Array.from({ length: size }, () => loan(next++)));
      gas.push([size, receipt.receipt.gasUsed]);
    }
    const [smallN, smallGas] = gas[1];
    const [bigN, bigGas] = gas[gas.length - 1];
    const perLoan = (bigGas - smallGas) / BigInt(bigN - smallN);
    const base = bigGas - perLoan * BigInt(bigN);
    const fits = (cap: bigint) => Number((cap - base) / perLoan);
    console.log(`batch gas by size: ${gas.map(([n, g]) => `${n}: ${g}`).join(", ")}`);
    console.log(
      `about ${perLoan} gas a loan plus ${base}: at most ${fits(TRANSACTION_GAS_CAP)} loans fit 2^24 gas, ` +
        `${fits((TRANSACTION_GAS_CAP * 9n) / 10n)} with a tenth to spare; 250 loans would need ${base + perLoan * 250n}`,
    );
    // The unsized batch the contract allows today, sent as one transaction.
    try {
      const receipt = await ctx.loans.anchorBatch(Array.from({ length: maxBatch }, () => loan(next++)));
      console.log(`one batch of MAX_BATCH = ${maxBatch} loans used ${receipt.receipt.gasUsed} gas on this Cancun node`);
    } catch (error) {
      console.log(`one batch of MAX_BATCH = ${maxBatch} loans failed: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  // CLI start-up: the whole process, as a shell runs it, for a command without a chain and for one with the checks.
  const cliEnv = { ...env, LOANLEDGER_PRIVATE_KEY: PLATFORM[1] };
  const entries = COMPARE_ENTRY ? [COMPARE_ENTRY, CLI_ENTRY] : [CLI_ENTRY];
  // Each entry once untimed: it compiles its bundle when its sources changed since the last run.
  for (const entry of entries) run([process.execPath, entry, "--help"], cliEnv);
  // `--help` needs no chain; `member list` runs the start-up checks and one read; `loan list` and `keeper overdue`
  // read the state of every loan of the book (all of them Funding: the list shows 10, the keeper finds none overdue).
  const anchoredLoans = (await ctx.loans.anchoredLoans(toAddress(PLATFORM[0]))).length;
  const commands: [string[], number][] = [
    [["--help"], STARTUP_RUNS],
    [["member", "list"], STARTUP_RUNS],
  ];
  if (!STARTUP_ONLY)
    commands.push(
      [["loan", "list", "--status", "funding", "--limit", "10"], BOOK_RUNS],
      [["keeper", "overdue", "--dry-run"], BOOK_RUNS],
    );
  for (const [argv, runs] of commands) {
    const times = new Map(entries.map((entry) => [entry, { wall: [] as number[], cpu: [] as number[] }]));
    const over = argv[0] === "loan" || argv[0] === "keeper" ? ` over ${anchoredLoans} anchored loans` : "";
    for (let i = 0; i < runs; i += 1) {
      for (const entry of entries) {
        const r = run([process.execPath, entry, ...argv], cliEnv);
        if (r.code !== 0) throw new Error(`${entry} ${argv.join(" ")} failed: ${r.err}`);
        times.get(entry)!.wall.push(r.ms);
        if (r.cpuMs !== undefined) times.get(entry)!.cpu.push(r.cpuMs);
      }
    }
    for (const [entry, { wall, cpu }] of times)
      console.log(
        `CLI, loanledger ${argv.join(" ")}${over}: median ${median(wall).toFixed(0)} ms, best ` +
          `${Math.min(...wall).toFixed(0)} ms` +
          (cpu.length ? `, CPU median ${median(cpu).toFixed(0)} ms, best ${Math.min(...cpu).toFixed(0)} ms` : "") +
          ` (${runs} runs of ${entry})`,
      );
  }
} finally {
  if (node.pid) process.kill(-node.pid, "SIGTERM");
}
