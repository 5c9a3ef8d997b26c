/**
 * The long runs of the whole-suite campaigns; an option chooses which.
 *
 * - `npm run fuzz -- --runs 2000 --seed 42 --steps 80`: the TypeScript stateful property test
 *   (test/Suite.stateful.test.ts with FUZZ_RUNS / FUZZ_SEED / FUZZ_STEPS); on failure fast-check prints the seed, the
 *   replay path and the shrunk counterexample.
 * - `npm run fuzz -- --solidity --runs 5000 --steps 200`: the Solidity invariant campaign (test/Suite.invariant.t.sol
 *   with INVARIANT_RUNS / INVARIANT_DEPTH); on failure the runner prints the broken rule and the sequence of calls.
 *
 * Both print the calls they made per second, so that the two can be compared on one machine. The exit code is non-zero
 * when a rule broke.
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    solidity: { type: "boolean", default: false },
    runs: { type: "string" },
    seed: { type: "string" },
    steps: { type: "string" },
  },
});
for (const name of ["runs", "seed", "steps"] as const) {
  const value = values[name];
  if (value !== undefined && !/^-?\d+$/.test(value)) {
    console.error(`--${name} must be an integer, got ${value}`);
    process.exit(2);
  }
}
if (values.solidity && values.seed !== undefined) {
  console.error("--seed applies to the TypeScript campaign; the Solidity campaign prints its failing sequence instead");
  process.exit(2);
}

const runs = values.runs ?? (values.solidity ? "5000" : "500");
const steps = values.steps ?? (values.solidity ? "200" : "80");
const seed = values.seed ?? String(Date.now() % 2 ** 31);
const campaign = values.solidity
  ? {
      label: `Solidity invariant campaign: ${runs} runs of ${steps} calls`,
      args: [
        "test",
        "solidity",
        "test/Suite.invariant.t.sol",
        "test/invariant/World.t.sol",
        "test/invariant/Handlers.t.sol",
      ],
      env: { INVARIANT_RUNS: runs, INVARIANT_DEPTH: steps },
    }
  : {
      label: `TypeScript stateful campaign: ${runs} runs of up to ${steps} steps, seed ${seed}`,
      args: ["test", "mocha", "test/Suite.stateful.test.ts"],
      env: { FUZZ_RUNS: runs, FUZZ_SEED: seed, FUZZ_STEPS: steps },
    };

console.log(`fuzz: ${campaign.label}`);
const started = Date.now();
const result = spawnSync("hardhat", campaign.args, { stdio: "inherit", env: { ...process.env, ...campaign.env } });
const seconds = (Date.now() - started) / 1000;
// An upper bound on the calls made (a TypeScript run may end early, a failing campaign stops): a fair rate for a pass.
const calls = Number(runs) * Number(steps);
console.log(
  `fuzz: ${seconds.toFixed(0)} s, ${calls} calls at most, ${(calls / seconds).toFixed(0)} calls/s (start-up included)` +
    (values.solidity ? "" : `, seed ${seed}`),
);
process.exit(result.status ?? 1);
