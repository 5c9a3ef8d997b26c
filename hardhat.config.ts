import "dotenv/config";
import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

// The compiler comes from the pinned npm `solc` package: this machine (and CI) cannot download compiler builds.
const require = createRequire(import.meta.url);
const SOLC_VERSION = "0.8.28";
const solcPath = require.resolve("solc/soljson.js");

// Besu networks enable forks per genesis; Cancun is what the alliance's networks run and what OpenZeppelin 5.5+ needs.
const compiler = {
  version: SOLC_VERSION,
  path: solcPath,
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 1000 },
    viaIR: true,
  },
};

const besuUrl = process.env.LOANLEDGER_RPC_URL;
const besuKey = process.env.LOANLEDGER_PRIVATE_KEY;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    // Tests and deployments compile with identical settings, so measured gas is the gas a deployment pays.
    profiles: { default: compiler, production: compiler },
  },
  paths: { ignition: "deploy" },
  typechain: { outDir: "typechain-types" },
  test: {
    solidity: {
      fuzz: { runs: 256 },
      // The whole-suite invariant campaign (test/Suite.invariant.t.sol): short here, long with `npm run fuzz -- --solidity`.
      invariant: {
        runs: Number(process.env.INVARIANT_RUNS ?? 48),
        depth: Number(process.env.INVARIANT_DEPTH ?? 150),
        failOnRevert: false,
      },
    },
    mocha: { timeout: 120_000 },
  },
  networks: {
    // The embedded network runs the fork the alliance's Besu networks enable, so tests and gas figures match them.
    default: { type: "edr-simulated", hardfork: "cancun" },
    // `hardhat node` serves the network named `node`, which does not inherit `default`: unpinned it runs Hardhat's own
    // default fork (Osaka in 3.18), whose 2^24 per-transaction gas cap no Cancun network has.
    node: { type: "edr-simulated", hardfork: "cancun" },
    localhost: { type: "http", url: process.env.LOANLEDGER_LOCAL_RPC_URL || "http://127.0.0.1:8545" },
    ...(besuUrl
      ? {
          besu: {
            type: "http" as const,
            url: besuUrl,
            chainId: process.env.LOANLEDGER_CHAIN_ID ? Number(process.env.LOANLEDGER_CHAIN_ID) : undefined,
            accounts: besuKey ? [besuKey] : [],
          },
        }
      : {}),
  },
});
