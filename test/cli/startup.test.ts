import { expect } from "chai";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { deploymentRecordFile, SUITE, SUITE_KEYS, type SuiteKey } from "../../src/client/index.js";
import { deployLocalSuite } from "../../deploy/local.js";
import { deployAllianceFixture, ignition, loadFixture, type AllianceFixture } from "../fixtures.js";
import { DEV_KEYS, KEY_HEX, runWithEnv, serveJsonRpc } from "./helpers.js";

/** A deployments folder holding `f`'s Ignition record for `chainId`, without the contracts in `leaveOut`. */
async function deployments(f: AllianceFixture, leaveOut: SuiteKey[] = [], chainId = 31337): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "loanledger-deployments-"));
  const file = deploymentRecordFile(chainId, folder);
  await mkdir(dirname(file), { recursive: true });
  const record = SUITE_KEYS.filter((key) => !leaveOut.includes(key)).map((key) => [
    SUITE[key].record,
    f.suite.addresses[key],
  ]);
  await writeFile(file, JSON.stringify(Object.fromEntries(record)));
  return folder;
}

describe("loanledger CLI start-up: the deployment's addresses", function () {
  let rpc: { url: string; close: () => Promise<void> };
  before(async function () {
    rpc = await serveJsonRpc();
  });
  after(async function () {
    await rpc.close();
  });
  /** The settings of a user with no address set: the record under `folder` names them. */
  const settings = (folder: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    LOANLEDGER_RPC_URL: rpc.url,
    LOANLEDGER_PRIVATE_KEY: DEV_KEYS[0],
    LOANLEDGER_ALLIANCE_KEY: KEY_HEX,
    LOANLEDGER_DEPLOYMENTS: folder,
    ...extra,
  });

  it("come from the connected chain's deployment record, the token from the splitter when the record has none", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const result = await runWithEnv(settings(await deployments(f, ["token"])), ["member", "list", "--json"]);
    expect(result.code, result.err).to.equal(0);
    expect(JSON.parse(result.out)).to.have.length(3);
  });

  it("are named when the record lacks one", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const result = await runWithEnv(settings(await deployments(f, ["waterfall"])), ["member", "list"]);
    expect(result.code).to.equal(1);
    expect(result.err).to.match(
      /deployed_addresses\.json has no LossWaterfall: redeploy, or set the LOANLEDGER_\* addresses$/,
    );
  });

  it("say which records there are when none is the node's chain's", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const result = await runWithEnv(settings(await deployments(f, [], 1)), ["member", "list"]);
    expect(result.code).to.equal(1);
    expect(result.err).to.match(
      /the node is chain 31337 and there is no deployment record for it; .* has records for chain-1/,
    );
  });

  it("yield to a setting, which the checks then hold against the rest of the record", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const result = await runWithEnv(settings(await deployments(f), { LOANLEDGER_SPLITTER: f.outsider.address }), [
      "member",
      "list",
    ]);
    expect(result.code).to.equal(1);
    expect(result.err).to.match(/\(LOANLEDGER_SPLITTER\) holds no contract on this chain/);
  });

  it("refuse a settlement token other than the one the splitter settles in", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const other = await deployLocalSuite(ignition, `other-token-${Date.now()}`);
    const result = await runWithEnv(settings(await deployments(f), { LOANLEDGER_TOKEN: other.addresses.token }), [
      "member",
      "list",
    ]);
    expect(result.code).to.equal(1);
    expect(result.err).to.match(
      new RegExp(
        `^error: RepaymentSplitter at ${f.suite.addresses.splitter} belongs to a deployment whose SettlementToken is ` +
          `${f.suite.addresses.token}, not ${other.addresses.token} \\(LOANLEDGER_TOKEN\\): take every address`,
      ),
    );
  });

  it("refuse a token setting that holds another contract", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const result = await runWithEnv(settings(await deployments(f), { LOANLEDGER_TOKEN: f.suite.addresses.loans }), [
      "member",
      "list",
    ]);
    expect(result.code).to.equal(1);
    expect(result.err).to.match(/\(LOANLEDGER_TOKEN\) holds a contract that is not a LoanLedger SettlementToken/);
  });
});
