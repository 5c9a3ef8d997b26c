/**
 * The long run of the whole-suite stateful property test: `npm run fuzz -- --runs 2000 --seed 42 --steps 80`.
 * Runs test/Suite.stateful.test.ts with FUZZ_RUNS / FUZZ_SEED / FUZZ_STEPS; on failure fast-check prints the seed, the
 * replay path and the shrunk counterexample (the list of commands), and the exit code is non-zero.
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "500" },
    seed: { type: "string" },
    steps: { type: "string", default: "80" },
  },
});
for (const [name, value] of Object.entries(values)) {
  if (value !== undefined && !/^-?\d+$/.test(value)) {
    console.error(`--${name} must be an integer, got ${value}`);
    process.exit(2);
  }
}
const seed = values.seed ?? String(Date.now() % 2 ** 31);
console.log(`fuzz: ${values.runs} runs of up to ${values.steps} steps, seed ${seed}`);
const started = Date.now();
const result = spawnSync("hardhat", ["test", "mocha", "test/Suite.stateful.test.ts"], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_RUNS: values.runs, FUZZ_SEED: seed, FUZZ_STEPS: values.steps },
});
console.log(`fuzz: ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${seed}`);
process.exit(result.status ?? 1);
