import { expect } from "chai";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  auditedContracts,
  deploymentRecordFile,
  LoanRegistryClient,
  Suite,
  SUITE,
  SUITE_KEYS,
  toAddress,
  type SuiteKey,
} from "../../src/client/index.js";
import { collectLedger } from "../../src/audit/index.js";
import LoanLedgerModule from "../../deploy/modules/LoanLedger.js";
import CustodyLedgerModule from "../../deploy/modules/CustodyLedger.js";
import SettlementTokenModule from "../../deploy/modules/SettlementToken.js";
import { DAY, deployAllianceFixture, ethers, expectRejection, loadFixture, time } from "../fixtures.js";

/** Writes an Ignition deployment record of the suite at `addresses` without the contracts in `leaveOut`. */
async function recordOf(
  addresses: Record<SuiteKey, string>,
  leaveOut: SuiteKey[],
  chainId: bigint = 31337n,
): Promise<{ folder: string; file: string }> {
  const folder = await mkdtemp(join(tmpdir(), "loanledger-deployments-"));
  const file = deploymentRecordFile(chainId, folder);
  await mkdir(dirname(file), { recursive: true });
  const record = Object.fromEntries(
    SUITE_KEYS.filter((key) => !leaveOut.includes(key)).map((key) => [SUITE[key].record, addresses[key]]),
  );
  // An Ignition record also holds libraries and other futures: they are not the suite's business.
  await writeFile(file, JSON.stringify({ ...record, "LoanLedger#CollateralSales": addresses.loans }));
  return { folder, file };
}

describe("Suite", function () {
  describe("the table", function () {
    it("asks each contract only views its ABI has", function () {
      for (const key of SUITE_KEYS) {
        const row = SUITE[key];
        const functions = new Set(
          (row.factory.abi as readonly { type: string; name?: string }[])
            .filter((f) => f.type === "function")
            .map((f) => f.name),
        );
        for (const view of [...row.identity, ...Object.keys(row.wiring)])
          expect(functions.has(view), `${row.name}.${view}`).to.equal(true);
      }
    });

    it("gives every contract its own setting and record key", function () {
      for (const column of ["env", "record", "name"] as const) {
        const values = SUITE_KEYS.map((key) => SUITE[key][column]);
        expect(new Set(values).size, column).to.equal(values.length);
      }
    });

    it("names each contract as the Ignition modules do: by the key they return it under, and its record id", function () {
      const returned: Record<string, { id: string }> = {
        ...LoanLedgerModule.results,
        ...SettlementTokenModule.results,
      };
      expect(Object.keys(returned)).to.have.members(SUITE_KEYS);
      for (const key of SUITE_KEYS) expect(returned[key].id, key).to.equal(SUITE[key].record);
      // The suite deployed with its custody token records the token in its own module, where the table looks too.
      const custody: Record<string, { id: string }> = CustodyLedgerModule.results;
      expect(Object.keys(custody)).to.have.members(SUITE_KEYS);
      expect(SUITE.token.alsoRecordedAs).to.include(custody.token.id);
    });
  });

  describe("opening a deployment", function () {
    it("from its Ignition record, taking the settlement token from the splitter when the record has none", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const { file } = await recordOf(f.suite.addresses, ["token"]);
      const suite = await Suite.fromRecord(file, ethers.provider);
      expect(suite.addresses).to.deep.equal(f.suite.addresses);
      expect(await suite.contracts.token.symbol()).to.equal("LLST");
    });

    it("from the record of the chain it is asked for", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const { folder } = await recordOf(f.suite.addresses, []);
      const suite = await Suite.fromChain(31337n, ethers.provider, { folder, fromBlock: 5 });
      expect(suite.addresses).to.deep.equal(f.suite.addresses);
      expect(suite.fromBlock).to.equal(5);
      await expectRejection(
        Suite.fromChain(1n, ethers.provider, { folder }),
        /^no deployment record at .*chain-1\/deployed_addresses\.json \(ENOENT.*\): deploy first$/,
      );
    });

    it("names every contract a record lacks", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const { file } = await recordOf(f.suite.addresses, ["waterfall", "disclosures"]);
      await expectRejection(
        Suite.fromRecord(file, ethers.provider),
        /deployed_addresses\.json has no LossWaterfall, DisclosureRegistry: redeploy$/,
      );
    });

    it("from explicit addresses, refusing one that is missing", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const { waterfall, ...rest } = f.suite.addresses;
      expect(Suite.at({ ...rest, waterfall }, ethers.provider).addresses).to.deep.equal(f.suite.addresses);
      expect(() => Suite.at({ ...rest, waterfall: "" }, ethers.provider)).to.throw(
        /no address for the suite's LossWaterfall/,
      );
    });
  });

  describe("what it hands out", function () {
    it("builds each client once, on first use, acting as the account it was connected to", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const asA = f.suite.connect(f.platformA);
      expect(asA.clients.splitter).to.equal(asA.clients.splitter);
      expect(asA.clients.loans).to.be.instanceOf(LoanRegistryClient);
      expect(asA.contracts.alliance.runner).to.equal(f.platformA);
      await asA.clients.alliance.allowLender(toAddress(f.outsider.address), (await time.latest()) + DAY);
      expect((await f.alliance.lenderOf(f.outsider)).kycProvider).to.equal(f.platformA.address);
    });

    it("names every contract with the setting the CLI reads", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const settings = f.suite.settings();
      expect(Object.keys(settings)).to.deep.equal(SUITE_KEYS.map((key) => SUITE[key].env));
      expect(settings.LOANLEDGER_SPLITTER).to.equal(String(f.splitter.target));
    });

    it("gives an audit export the contracts its manifest names, and a reader pinned to one block", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const asAuditor = f.suite.connect(f.auditor);
      const exported = SUITE_KEYS.filter((key) => SUITE[key].exported).map((key) => SUITE[key].name);
      expect(auditedContracts(asAuditor.auditSources).map(([name]) => name)).to.deep.equal(exported);
      const ledger = await collectLedger(asAuditor.auditSources);
      expect(Object.keys(ledger.contracts!)).to.deep.equal(exported);
      expect(ledger.contracts!.LossWaterfall).to.equal(f.suite.addresses.waterfall);
      const reader = await asAuditor.reader();
      expect(reader.block.number).to.equal(await ethers.provider.getBlockNumber());
    });
  });
});
