/**
 * Deploys the suite with its custody bank's deposit token (the CustodyLedger module) on a local node (the `localhost`
 * network); admits the deployer as the local custody bank, which registers the accounts in LOANLEDGER_FUND
 * (comma-separated) and issues each a test deposit against a reference of its own; publishes the fingerprint of
 * LOANLEDGER_ALLIANCE_KEY when set; and prints the contracts' addresses as one line of JSON, in the LOANLEDGER_* variable
 * names the CLI reads. Used by the JSON-RPC end-to-end tests; handy for a local node too.
 */
import { appendFileSync } from "node:fs";
import { network } from "hardhat";
import { id } from "ethers";
import { deployCustodySuite } from "../deploy/local.js";
import { allianceKeyFingerprint, bankReference, parseAllianceKey, Role } from "../src/client/index.js";
import { CustodyDepositToken__factory } from "../typechain-types/index.js";

// The network is named explicitly: `localhost` (LOANLEDGER_LOCAL_RPC_URL) unless LOANLEDGER_DEPLOY_NETWORK says otherwise.
const { ignition, ethers } = await network.create(process.env.LOANLEDGER_DEPLOY_NETWORK || "localhost");
// A fresh deployment record each run: Ignition would otherwise reuse the addresses recorded for this chain id by an
// earlier node that is gone.
const suite = await deployCustodySuite(ignition, `local-${Date.now()}`);
const { alliance, splitter } = suite.contracts;
// With the alliance key in the environment, governance (the deployer) publishes its fingerprint: the CLI then refuses
// any other key at start-up.
if (process.env.LOANLEDGER_ALLIANCE_KEY) {
  const fingerprint = allianceKeyFingerprint(parseAllianceKey(process.env.LOANLEDGER_ALLIANCE_KEY));
  await (await alliance.setAllianceKeyFingerprint(fingerprint)).wait();
}
// On a local node the deployer plays the custody bank too: it registers each account to fund and issues it a deposit.
const [bank] = await ethers.getSigners();
await (await alliance.admitMember(bank, Role.CustodyBank, id("local custody bank"))).wait();
const token = CustodyDepositToken__factory.connect(await splitter.TOKEN(), bank);
const run = Date.now();
for (const account of new Set((process.env.LOANLEDGER_FUND ?? "").split(",").filter(Boolean))) {
  await (await token.registerAccount(account, id(`local bank account of ${account}`))).wait();
  await (await token.issue(account, 10n ** 24n, bankReference(`LOCAL-${run}-${account.slice(2, 10)}`))).wait();
}
const addresses = suite.settings();
console.log(JSON.stringify(addresses));
// LOANLEDGER_ENV_OUT=.env appends the addresses as the settings the CLI reads (README: "Your own node, end to end").
// Standard output stays the one line of JSON; what was written to the file is said on standard error.
const envOut = process.env.LOANLEDGER_ENV_OUT;
if (envOut) {
  appendFileSync(
    envOut,
    Object.entries(addresses)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(""),
  );
  console.error(`appended the ${Object.keys(addresses).length} contract settings (LOANLEDGER_…) to ${envOut}`);
}
