import { expect } from "chai";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findEnvFile } from "../../src/cli/context.js";
import { deployAllianceFixture, loadFixture } from "../fixtures.js";
import { anchorWithCli, DEV_KEYS, envFor, run, runWithEnv, serveJsonRpc } from "./helpers.js";

/** A loan anchored through the CLI and open for funding. */
async function fundingFixture() {
  const f = await deployAllianceFixture();
  const loanId = await anchorWithCli(f, "K-1");
  const opened = await run(f, f.platformA, ["loan", "open-funding", loanId, "--payout", f.outsider.address]);
  if (opened.code !== 0) throw new Error(opened.err);
  return { ...f, loanId };
}

describe("loanledger CLI: keys and settings", function () {
  let rpc: Awaited<ReturnType<typeof serveJsonRpc>>;
  before(async function () {
    rpc = await serveJsonRpc();
  });
  after(async function () {
    await rpc.close();
  });

  /** `f`'s settings without any signing key. */
  const readOnly = (f: Awaited<ReturnType<typeof deployAllianceFixture>>) => {
    const env = envFor(f, rpc.url, DEV_KEYS[0]);
    delete env.LOANLEDGER_PRIVATE_KEY;
    return env;
  };

  describe("read-only use", function () {
    it("reads without a signing key, as LOANLEDGER_ACCOUNT", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const members = await runWithEnv(readOnly(f), ["member", "list", "--json"]);
      expect(members.code, members.err).to.equal(0);
      expect(JSON.parse(members.out)).to.have.length.above(2);
      const lender = await runWithEnv({ ...readOnly(f), LOANLEDGER_ACCOUNT: f.lender.address }, ["lender", "payouts"]);
      expect(lender.code, lender.err).to.equal(0);
    });

    it("refuses to send, in one sentence naming the settings, before anything is signed", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const result = await runWithEnv(readOnly(f), ["member", "suspend", f.platformB.address]);
      expect(result.code).to.equal(1);
      expect(result.err).to.equal(
        "error: this command sends a transaction, and no signing key is set: set LOANLEDGER_PRIVATE_KEY, or a key " +
          "profile LOANLEDGER_PRIVATE_KEY_<NAME> and --from <name> (reading needs no key)",
      );
      expect((await f.alliance.memberOf(f.platformB)).status).to.equal(1n);
    });

    it("refuses to answer for nobody where a command defaults to the account it acts as", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const sentence = (instead: string) =>
        `no account to act or read as: give ${instead}--from <profile> (its key LOANLEDGER_PRIVATE_KEY_<PROFILE>), ` +
        "or set LOANLEDGER_ACCOUNT";
      const cases: [string[], string][] = [
        [["lender", "payouts"], "the lender's <address>, or "],
        [["fees", "show"], "the payee's <address>, or "],
        [["loan", "list", "--status", "funding"], "--platform <address>, or "],
        [["loan", "find", "--ref", "LN-1"], "--platform <address>, or "],
      ];
      for (const [argv, instead] of cases) {
        const result = await runWithEnv(readOnly(f), [...argv, "--json"]);
        expect(result.code, argv.join(" ")).to.equal(1);
        expect(JSON.parse(result.err)).to.deep.equal({ error: { code: "SETTINGS", message: sentence(instead) } });
      }
      const named = await runWithEnv(readOnly(f), ["lender", "payouts", f.lender.address]);
      expect(named.code, named.err).to.equal(0);
    });

    it("says a refusal came from trying a transaction as nobody, not as the user", async function () {
      const f = await loadFixture(fundingFixture);
      const fund = ["loan", "fund", f.loanId, "1"];
      const result = await runWithEnv(readOnly(f), fund);
      expect(result.code).to.equal(1);
      expect(result.err).to.equal(
        "error: AllianceRegistryUnknownLender: 0x0000000000000000000000000000000000000000 is not on the lender " +
          "allowlist (no signing key is set, so this was tried as nobody: give --from <profile>)",
      );
      // A refusal that is not about the caller is left as it is.
      const due = await runWithEnv(readOnly(f), ["loan", "due", `0x${"ab".repeat(32)}`]);
      expect(due.code).to.equal(1);
      expect(due.err)
        .to.match(/^error: /)
        .and.not.contain("nobody");
      const asOutsider = await runWithEnv({ ...readOnly(f), LOANLEDGER_ACCOUNT: f.outsider.address }, fund);
      expect(asOutsider.err).to.match(/^error: AllianceRegistryUnknownLender: 0x[0-9a-fA-F]{40} is not/);
      expect(asOutsider.err).not.to.contain("nobody");
    });

    it("refuses a LOANLEDGER_ACCOUNT that is not an address", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const result = await runWithEnv({ ...readOnly(f), LOANLEDGER_ACCOUNT: "lender" }, ["member", "list"]);
      expect(result.err).to.equal("error: LOANLEDGER_ACCOUNT is not an address: lender");
    });
  });

  describe("--from <profile>", function () {
    it("acts with the profile's key", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const env = { ...readOnly(f), LOANLEDGER_PRIVATE_KEY_GOVERNANCE: DEV_KEYS[0] };
      const suspended = await runWithEnv(env, ["member", "suspend", f.platformB.address, "--from", "governance"]);
      expect(suspended.code, suspended.err).to.equal(0);
      expect((await f.alliance.memberOf(f.platformB)).status).to.equal(2n);
    });

    it("names the variable a missing profile needs, and refuses a name that is not one", async function () {
      const f = await loadFixture(deployAllianceFixture);
      expect((await runWithEnv(readOnly(f), ["member", "list", "--from", "lender-2"])).err).to.equal(
        "error: --from lender-2: LOANLEDGER_PRIVATE_KEY_LENDER_2 is not set: add the profile's key to .env",
      );
      expect((await runWithEnv(readOnly(f), ["member", "list", "--from", "../key"])).err).to.equal(
        'error: --from takes a profile name (letters, digits, - and _), not "../key"',
      );
    });
  });

  describe(".env", function () {
    it("is the nearest one at or above the current folder", async function () {
      const root = await mkdtemp(join(tmpdir(), "loanledger-env-"));
      const deep = join(root, "books", "2026", "11");
      await mkdir(deep, { recursive: true });
      await writeFile(join(root, ".env"), "LOANLEDGER_RPC_URL=http://127.0.0.1:1\n");
      expect(findEnvFile(deep)).to.equal(join(root, ".env"));
      await writeFile(join(root, "books", ".env"), "LOANLEDGER_RPC_URL=http://127.0.0.1:2\n");
      expect(findEnvFile(deep)).to.equal(join(root, "books", ".env"));
    });
  });
});
