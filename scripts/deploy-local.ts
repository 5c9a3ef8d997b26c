/**
 * Deploys the suite with its Ignition modules on a local node (the `localhost` network), issues settlement tokens to the
 * accounts in LOANLEDGER_FUND (comma-separated), publishes the fingerprint of LOANLEDGER_ALLIANCE_KEY when set, and prints the contracts' addresses as one line of JSON, in the
 * LOANLEDGER_* variable names the CLI reads. Used by the JSON-RPC end-to-end tests; handy for a local node too.
 */
import { appendFileSync } from "node:fs";
import { network } from "hardhat";
import { deployLocalSuite } from "../deploy/local.js";
import { allianceKeyFingerprint, parseAllianceKey } from "../src/client/index.js";

// The network is named explicitly: `localhost` (LOANLEDGER_LOCAL_RPC_URL) unless LOANLEDGER_DEPLOY_NETWORK says otherwise.
const { ignition } = await network.create(process.env.LOANLEDGER_DEPLOY_NETWORK || "localhost");
// A fresh deployment record each run: Ignition would otherwise reuse the addresses recorded for this chain id by an
// earlier node that is gone.
const suite = await deployLocalSuite(ignition, `local-${Date.now()}`);
const { alliance, token } = suite.contracts;
// With the alliance key in the environment, governance (the deployer) publishes its fingerprint: the CLI then refuses
// any other key at start-up.
if (process.env.LOANLEDGER_ALLIANCE_KEY) {
  const fingerprint = allianceKeyFingerprint(parseAllianceKey(process.env.LOANLEDGER_ALLIANCE_KEY));
  await (await alliance.setAllianceKeyFingerprint(fingerprint)).wait();
}
for (const account of (process.env.LOANLEDGER_FUND ?? "").split(",").filter(Boolean)) {
  await (await token.mint(account, 10n ** 24n)).wait();
}
const addresses = suite.settings();
console.log(JSON.stringify(addresses));
// LOANLEDGER_ENV_OUT=.env appends the addresses as the settings the CLI reads (README: "Your own node, end to end").
if (process.env.LOANLEDGER_ENV_OUT)
  appendFileSync(
    process.env.LOANLEDGER_ENV_OUT,
    Object.entries(addresses)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(""),
  );
