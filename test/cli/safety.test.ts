import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readFileSync } from "node:fs";
import { allianceKeyFingerprint, LoanStatus } from "../../src/client/index.js";
import { splitByGas, TRANSACTION_GAS_CAP } from "../../src/client/transact.js";
import { deployLocalSuite } from "../../deploy/local.js";
import {
  ALLIANCE_KEY,
  DAY,
  deployAllianceFixture,
  ethers,
  ignition,
  loadFixture,
  time,
  type AllianceFixture,
} from "../fixtures.js";
import { DEV_KEYS, envFor, loanEntry, run, runWithEnv, serveJsonRpc, termsFile } from "./helpers.js";

const UNIT = 10n ** 18n;
const GOVERNANCE = DEV_KEYS[0];
const LENDER = DEV_KEYS[4];

/** What a mistake must leave behind: no new block, so no transaction of anybody's. */
async function blockNumber(): Promise<number> {
  return ethers.provider.getBlockNumber();
}

/** A loan anchored and opened for funding by platform A, and a lender holding 100 000 tokens. */
async function openLoanFixture() {
  const f = await deployAllianceFixture();
  await f.token.mint(f.lender, 100_000n * UNIT);
  await f.token.mint(f.outsider, 100_000n * UNIT);
  const anchored = await run(f, f.platformA, ["loan", "anchor", "--file", await termsFile(loanEntry("S-1")), "--json"]);
  const [loanId] = (JSON.parse(anchored.out) as { loanIds: string[] }).loanIds;
  const opened = await run(f, f.platformA, ["loan", "open-funding", loanId, "--payout", f.outsider.address]);
  expect(opened.code, opened.err).to.equal(0);
  return { ...f, loanId };
}

describe("loanledger CLI: mistakes stop before any transaction", function () {
  let rpc: { url: string; close: () => Promise<void> };
  before(async function () {
    rpc = await serveJsonRpc();
  });
  after(async function () {
    await rpc.close();
  });

  describe("start-up checks", function () {
    /** Runs `argv` with `env` changed as given, expecting exit 1 with one line matching `reason` and no new block. */
    async function refused(f: AllianceFixture, change: NodeJS.ProcessEnv, reason: RegExp, argv = ["member", "list"]) {
      const before = await blockNumber();
      const result = await runWithEnv({ ...envFor(f, rpc.url, GOVERNANCE), ...change }, argv);
      expect(result.code, result.out).to.equal(1);
      expect(result.err.split("\n")).to.have.length(1);
      expect(result.err).to.match(reason);
      expect(await blockNumber()).to.equal(before);
      return result;
    }

    it("runs a command when every check passes", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const result = await runWithEnv(envFor(f, rpc.url, GOVERNANCE), ["member", "list", "--json"]);
      expect(result.code, result.err).to.equal(0);
      expect(JSON.parse(result.out)).to.have.length(3);
    });

    it("says so when no node answers at LOANLEDGER_RPC_URL", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await refused(
        f,
        { LOANLEDGER_RPC_URL: "http://127.0.0.1:1" },
        /^error: no JSON-RPC node answers at http:\/\/127\.0\.0\.1:1 \(.+\): start the node, or set LOANLEDGER_RPC_URL/,
      );
    });

    it("refuses a node whose chain is not the deployment's", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await refused(
        f,
        { LOANLEDGER_CHAIN_ID: "1337" },
        /^error: the node at .* is chain 31337, not the deployment's chain 1337: set LOANLEDGER_RPC_URL/,
      );
    });

    it("refuses an address that holds no contract, naming its setting", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await refused(
        f,
        { LOANLEDGER_SPLITTER: f.outsider.address },
        new RegExp(`^error: ${f.outsider.address} \\(LOANLEDGER_SPLITTER\\) holds no contract on this chain: set it`),
      );
    });

    it("refuses an address that holds another contract", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await refused(
        f,
        { LOANLEDGER_SPLITTER: String(f.loans.target) },
        /\(LOANLEDGER_SPLITTER\) holds a contract that is not a LoanLedger RepaymentSplitter on this chain/,
      );
    });

    it("refuses addresses taken from two deployments", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const other = await deployLocalSuite(ignition, `other-${Date.now()}`);
      await refused(
        f,
        { LOANLEDGER_WATERFALL: other.addresses.waterfall },
        /belongs to a deployment whose .* take every address from one deployment record$/,
      );
    });

    it("refuses an alliance key whose fingerprint is not the one governance published", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await f.alliance.setAllianceKeyFingerprint(allianceKeyFingerprint(ALLIANCE_KEY));
      // With a wrong key, a borrower with loans would look clean: the command must not run at all.
      await refused(
        f,
        { LOANLEDGER_ALLIANCE_KEY: "0x" + "08".repeat(32) },
        /^error: LOANLEDGER_ALLIANCE_KEY is not this alliance's key \(its fingerprint 0x[0-9a-f]{8}… differs from the 0x[0-9a-f]{8}… governance published\): set the alliance key/,
        ["borrower", "exposure", "--national-id", "11010519491231002X"],
      );
      const right = await runWithEnv(envFor(f, rpc.url, GOVERNANCE), ["member", "list"]);
      expect(right.code, right.err).to.equal(0);
    });

    it("reads decimals from the token, and refuses an amount-decimals setting that disagrees with it", async function () {
      const f = await loadFixture(openLoanFixture);
      await refused(
        f,
        { LOANLEDGER_AMOUNT_DECIMALS: "6" },
        /^error: LOANLEDGER_AMOUNT_DECIMALS is 6 but the settlement token LLST has 18 decimals, which the CLI reads from the token itself: remove LOANLEDGER_AMOUNT_DECIMALS/,
        ["loan", "fund", f.loanId, "1000"],
      );
      const funded = await runWithEnv(envFor(f, rpc.url, LENDER), ["loan", "fund", f.loanId, "1000"]);
      expect(funded.code, funded.err).to.equal(0);
      expect(funded.out).to.match(/^committed 1,000\.00 LLST to loan/);
      expect((await f.splitter.positionOf(f.loanId, f.lender)).shares).to.equal(1000n * UNIT);
    });

    it("names a missing setting", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await refused(
        f,
        { LOANLEDGER_RPC_URL: "" },
        /^error: LOANLEDGER_RPC_URL is not set: add it to the environment or \.env/,
      );
    });
  });

  describe("terms files", function () {
    /** Anchors `entries` as platform A, expecting exit 1 with exactly `reason` after the file name, and no block. */
    async function refusedTerms(f: AllianceFixture, entries: unknown, reason: string) {
      const file = await termsFile(entries);
      const before = await blockNumber();
      const result = await run(f, f.platformA, ["loan", "anchor", "--file", file]);
      expect(result.code).to.equal(1);
      expect(result.err).to.equal(`error: ${file}${reason}`);
      expect(await blockNumber()).to.equal(before);
    }
    const renamed = (from: string, to: string) => {
      const entry: Record<string, unknown> = { ...loanEntry("T-1") };
      entry[to] = entry[from];
      delete entry[from];
      return entry;
    };

    for (const [meant, typo] of [
      ["installments", "installment"],
      ["lateFeeBps", "lateFeeBsp"],
      ["gracePeriod", "gracePeriode"],
    ]) {
      it(`refuses "${typo}" and asks whether "${meant}" was meant`, async function () {
        const f = await loadFixture(deployAllianceFixture);
        await refusedTerms(f, renamed(meant, typo), `[0]: unknown key "${typo}" (did you mean "${meant}"?)`);
      });
    }

    it("fills in no term that changes money or dates", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const entry: Record<string, unknown> = { ...loanEntry("T-2") };
      delete entry.gracePeriod;
      delete entry.lateFeeBps;
      await refusedTerms(
        f,
        [loanEntry("T-1"), entry],
        "[1]: missing gracePeriod, lateFeeBps (no term that changes money or dates has a default)",
      );
    });

    it("refuses an unknown key that resembles nothing, and a borrower named twice", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await refusedTerms(f, { ...loanEntry("T-3"), colour: "blue" }, '[0]: unknown key "colour"');
      await refusedTerms(
        f,
        { ...loanEntry("T-4"), borrowerRef: "0x" + "ab".repeat(32) },
        "[0]: give exactly one of borrowerNationalId (hashed locally) or borrowerRef",
      );
    });

    it("says in a sentence what form a value takes, never in the schema's own words", async function () {
      const f = await loadFixture(deployAllianceFixture);
      await refusedTerms(
        f,
        { ...loanEntry("T-5"), principal: "fifty thousand" },
        '[0]: principal is not in a form it takes, not "fifty thousand" (the principal in whole currency units, ' +
          'as a decimal string ("50000", "1234.56") or a number)',
      );
      await refusedTerms(
        f,
        { ...loanEntry("T-6"), installments: "twelve" },
        '[0]: installments must be a whole number, not "twelve"',
      );
    });

    it("reads a CSV book with the same schema, anchoring every row", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const keys = Object.keys(loanEntry("x"));
      const rows = ["C-1", "C-2", "C-3"].map((ref) => Object.values(loanEntry(ref)).join(","));
      const file = join(dirname(await termsFile([])), "book.csv");
      // As a spreadsheet saves it: a byte-order mark first, a quoted cell.
      await writeFile(
        file,
        "\uFEFF" +
          [keys.join(","), ...rows].join("\n").replace(",signed contract v1,", ',"signed contract v1",') +
          "\n",
      );
      const result = await run(f, f.platformA, ["loan", "anchor", "--file", file, "--json"]);
      expect(result.code, result.err).to.equal(0);
      const { loanIds } = JSON.parse(result.out) as { loanIds: string[] };
      expect(loanIds).to.have.length(3);
      const plan = await run(f, f.platformA, ["loan", "schedule", loanIds[2], "--json"]);
      expect(JSON.parse(plan.out)).to.have.length(6);
    });

    it("refuses a CSV row by its line: a blank cell is a missing term, and a near-miss header is named", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const keys = Object.keys(loanEntry("x"));
      const blank = { ...loanEntry("C-5"), lateFeeBps: "" };
      const file = join(dirname(await termsFile([])), "book.csv");
      await writeFile(
        file,
        [keys.join(","), Object.values(loanEntry("C-4")).join(","), Object.values(blank).join(",")].join("\r\n"),
      );
      const before = await blockNumber();
      const blankRow = await run(f, f.platformA, ["loan", "anchor", "--file", file]);
      expect(blankRow.err).to.equal(
        `error: ${file} line 3: missing lateFeeBps (no term that changes money or dates has a default)`,
      );
      await writeFile(
        file,
        [keys.join(",").replace("gracePeriod", "gracePeriode"), Object.values(loanEntry("C-6")).join(",")].join("\n"),
      );
      const header = await run(f, f.platformA, ["loan", "anchor", "--file", file]);
      expect(header.err).to.equal(`error: ${file} line 2: unknown key "gracePeriode" (did you mean "gracePeriod"?)`);
      expect(await blockNumber()).to.equal(before);
    });

    it("refuses to anchor a file again: with a relative deadline its loans would be anchored a second time", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const file = await termsFile([loanEntry("AGAIN-1"), loanEntry("AGAIN-2")]);
      const first = await run(f, f.platformA, ["loan", "anchor", "--file", file, "--json"]);
      expect(first.code, first.err).to.equal(0);
      const [loanId] = (JSON.parse(first.out) as { loanIds: string[] }).loanIds;
      await time.increase(60); // "+7d" now falls on another second: the same rows make other loan ids
      const before = await blockNumber();
      const again = await run(f, f.platformA, ["loan", "anchor", "--file", file]);
      expect(again.code).to.equal(1);
      expect(again.err).to.equal(
        `error: loan 1 of ${file} (and 1 more of its loans) has a platformRef this platform anchored already, as loan ` +
          `${loanId}: anchoring it again would make a second loan; \`loan import ${file}\` anchors only what is not ` +
          "anchored yet",
      );
      expect(await blockNumber()).to.equal(before);
    });

    it("publishes the schema it checks against", function () {
      const schema = JSON.parse(readFileSync("schemas/loan-terms-v1.schema.json", "utf8")) as {
        additionalProperties: boolean;
        required: string[];
      };
      expect(schema.additionalProperties).to.equal(false);
      expect(schema.required).to.include.members(["installments", "gracePeriod", "lateFeeBps", "fundingDeadline"]);
    });
  });

  describe("approvals", function () {
    it("a refused funding sends nothing and leaves no approval behind", async function () {
      const f = await loadFixture(openLoanFixture);
      const stranger = await run(f, f.outsider, ["loan", "fund", f.loanId, "1000"]);
      expect(stranger.err).to.match(/^error: AllianceRegistryUnknownLender: /);
      expect(await f.token.allowance(f.outsider, f.splitter)).to.equal(0n);
      await time.increase(8 * DAY);
      const nonce = await ethers.provider.getTransactionCount(f.lender);
      const late = await run(f, f.lender, ["loan", "fund", f.loanId, "1000"]);
      expect(late.err).to.match(/^error: RepaymentSplitterFundingDeadlinePassed: /);
      expect(await f.token.allowance(f.lender, f.splitter)).to.equal(0n);
      expect(await ethers.provider.getTransactionCount(f.lender)).to.equal(nonce);
    });

    it("a funding asking more than is left approves only what the splitter takes, and says so", async function () {
      const f = await loadFixture(openLoanFixture);
      const result = await run(f, f.lender, ["loan", "fund", f.loanId, "60000"]);
      expect(result.code, result.err).to.equal(0);
      expect(result.out).to.match(
        /^committed 50,000\.00 LLST \(all that was left of the 60,000\.00 LLST asked\) to loan .*: 50,000\.00 LLST funded, Funded; the principal, 50,000\.00 LLST, was disbursed to 0x[0-9a-fA-F]{40} and the loan is Active$/,
      );
      const approvals = await f.token.queryFilter(
        f.token.filters.Approval(f.lender.address, String(f.splitter.target)),
      );
      expect(approvals.map((e) => e.args.value)).to.deep.equal([50_000n * UNIT]);
      expect(await f.token.allowance(f.lender, f.splitter)).to.equal(0n);
    });

    it("a lender short of tokens is told so before any approval", async function () {
      const f = await loadFixture(openLoanFixture);
      await f.alliance.connect(f.platformA).allowLender(f.auditor, (await time.latest()) + 30 * DAY);
      const nonce = await ethers.provider.getTransactionCount(f.auditor);
      const poor = await run(f, f.auditor, ["loan", "fund", f.loanId, "1000"]);
      expect(poor.err).to.equal(
        `error: ERC20InsufficientBalance: ${f.auditor.address} holds 0.00 LLST, fewer than the 1,000.00 LLST needed`,
      );
      expect(await ethers.provider.getTransactionCount(f.auditor)).to.equal(nonce);
      // Under --json, the token's error by name, with its exact amounts.
      const { error } = JSON.parse((await run(f, f.auditor, ["loan", "fund", f.loanId, "1000", "--json"])).err) as {
        error: { code: string; contractError: string; args: string[] };
      };
      expect(error).to.deep.include({ code: "CONTRACT_ERROR", contractError: "ERC20InsufficientBalance" });
      expect(error.args).to.deep.equal([f.auditor.address, "0", String(1000n * UNIT)]);
    });

    it("a funding approves exactly what it takes, so no allowance is left after it", async function () {
      const f = await loadFixture(openLoanFixture);
      const result = await run(f, f.lender, ["loan", "fund", f.loanId, "20000"]);
      expect(result.code, result.err).to.equal(0);
      expect(await f.token.allowance(f.lender, f.splitter)).to.equal(0n);
      const approvals = await f.token.queryFilter(
        f.token.filters.Approval(f.lender.address, String(f.splitter.target)),
      );
      expect(approvals.map((e) => e.args.value)).to.deep.equal([20_000n * UNIT]);
    });

    it("adds to an allowance that falls short only what the funding takes, leaving the earlier allowance as it was", async function () {
      const f = await loadFixture(openLoanFixture);
      await f.token.connect(f.lender).approve(f.splitter, 5_000n * UNIT);
      expect((await run(f, f.lender, ["loan", "fund", f.loanId, "20000"])).code).to.equal(0);
      expect(await f.token.allowance(f.lender, f.splitter)).to.equal(5_000n * UNIT);
    });

    it("leaves an allowance that already covers the funding as it is, and sends no approval", async function () {
      const f = await loadFixture(openLoanFixture);
      await f.token.connect(f.lender).approve(f.splitter, 30_000n * UNIT);
      const nonce = await ethers.provider.getTransactionCount(f.lender);
      expect((await run(f, f.lender, ["loan", "fund", f.loanId, "20000"])).code).to.equal(0);
      expect(await ethers.provider.getTransactionCount(f.lender)).to.equal(nonce + 1);
      expect(await f.token.allowance(f.lender, f.splitter)).to.equal(10_000n * UNIT);
    });
  });

  describe("batches that fit the network", function () {
    it("splits a batch by its estimate until each fits the budget, keeping the order", async function () {
      const items = Array.from({ length: 250 }, (_, i) => i);
      const perItem = 84_000n;
      const batches = await splitByGas(items, async (b) => 30_000n + perItem * BigInt(b.length), 15_099_494n, 250);
      expect(batches.flatMap((b) => b.items)).to.deep.equal(items);
      for (const b of batches) expect(b.gas).to.be.at.most(15_099_494n);
      expect(batches.length).to.be.at.most(3);
    });

    it("halves a batch whose estimate fails for want of gas, and throws a contract error at once", async function () {
      const items = Array.from({ length: 40 }, (_, i) => i);
      const batches = await splitByGas(
        items,
        async (b) => {
          if (b.length > 10) throw new Error("gas required exceeds allowance");
          return 1n;
        },
        100n,
        40,
      );
      expect(batches.map((b) => b.items.length)).to.deep.equal([10, 10, 10, 10]);
    });

    it("anchors a book bigger than one block allows in several transactions, all of it", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const limit = BigInt(
        String(await ethers.provider.send("eth_getBlockByNumber", ["latest", false]).then((b) => b.gasLimit)),
      );
      await ethers.provider.send("evm_setBlockGasLimit", ["0x" + (2_500_000).toString(16)]);
      await ethers.provider.send("evm_mine", []);
      try {
        const book = Array.from({ length: 60 }, (_, i) => loanEntry(`B-${i}`));
        const before = await blockNumber();
        const result = await run(f, f.platformA, ["loan", "anchor", "--file", await termsFile(book), "--json"]);
        expect(result.code, result.err).to.equal(0);
        const { loanIds } = JSON.parse(result.out) as { loanIds: string[] };
        expect(loanIds).to.have.length(60);
        expect(new Set(loanIds).size).to.equal(60);
        expect(await blockNumber()).to.be.greaterThan(before + 1);
        for (const loanId of loanIds)
          expect((await f.loans.loanState(loanId)).status).to.equal(BigInt(LoanStatus.Funding));
      } finally {
        await ethers.provider.send("evm_setBlockGasLimit", ["0x" + limit.toString(16)]);
      }
    });

    it("anchors a book of MAX_BATCH loans in transactions that each fit the 2^24 per-transaction cap", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const maxBatch = Number(await f.loans.MAX_BATCH());
      const book = Array.from({ length: maxBatch }, (_, i) => ({
        ...loanEntry(`M-${i}`),
        borrowerNationalId: `M${String(i).padStart(9, "0")}`,
      }));
      const before = await blockNumber();
      const result = await run(f, f.platformA, ["loan", "anchor", "--file", await termsFile(book), "--json"]);
      expect(result.code, result.err).to.equal(0);
      expect((JSON.parse(result.out) as { loanIds: string[] }).loanIds).to.have.length(maxBatch);
      for (let n = before + 1; n <= (await blockNumber()); n += 1) {
        const block = await ethers.provider.getBlock(n);
        expect(block!.gasUsed).to.be.at.most(TRANSACTION_GAS_CAP);
      }
    });
  });

  describe("the command line", function () {
    it("prints its version", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
      expect(await run(f, f.governance, ["--version"])).to.deep.equal({ code: 0, out: version, err: "" });
      expect(JSON.parse((await run(f, f.governance, ["--version", "--json"])).out)).to.deep.equal({ version });
    });

    it("refuses an unknown flag, naming the flag that was meant", async function () {
      const f = await loadFixture(deployAllianceFixture);
      const result = await run(f, f.platformA, ["loan", "anchor", "--fille", "terms.json"]);
      expect(result.err).to.equal(
        'error: unknown flag --fille (did you mean "--file"?); run loanledger loan anchor --help',
      );
    });

    it("refuses a flag that belongs to another command", async function () {
      const f = await loadFixture(openLoanFixture);
      const before = await blockNumber();
      const result = await run(f, f.lender, ["loan", "fund", f.loanId, "1000", "--kyc-expiry", "+1d"]);
      expect(result.code).to.equal(1);
      expect(result.err).to.equal(
        'error: --kyc-expiry does not belong to "loan fund" (it is a flag of lender allow); ' +
          "its usage: loanledger loan fund <loan id> <amount>",
      );
      expect(await blockNumber()).to.equal(before);
    });

    it("suggests the command that was meant, and shows one command's usage with --help", async function () {
      const f = await loadFixture(deployAllianceFixture);
      expect((await run(f, f.platformA, ["loan", "fnud"])).err).to.match(
        /unknown command "loan fnud" \(did you mean "loan fund"\?\)/,
      );
      expect((await run(f, f.platformA, ["loan", "fund", "--help"])).out).to.match(
        /^usage: loanledger loan fund <loan id> <amount>/,
      );
    });

    it("under --json, prints every error as one JSON object on stderr with a stable code", async function () {
      const f = await loadFixture(openLoanFixture);
      const cases: [string[], string][] = [
        [["loan", "fund", f.loanId, "1", "--bogus", "--json"], "USAGE"],
        [["loan", "show", "xyz", "--json"], "INVALID_INPUT"],
        [["borrower", "exposure", "--national-id", "110105194912310021", "--json"], "INVALID_INPUT"],
        [["loan", "fund", f.loanId, "0", "--json"], "CONTRACT_ERROR"],
      ];
      for (const [argv, code] of cases) {
        const result = await run(f, f.lender, argv);
        expect(result.code, argv.join(" ")).to.equal(1);
        expect(result.out).to.equal("");
        expect(result.err.split("\n")).to.have.length(1);
        const { error } = JSON.parse(result.err) as {
          error: { code: string; message: string; contractError?: string };
        };
        expect(error.code, argv.join(" ")).to.equal(code);
        expect(error.message)
          .to.be.a("string")
          .and.not.match(/^error:/);
        if (code === "CONTRACT_ERROR") expect(error.contractError).to.equal("RepaymentSplitterZeroAmount");
      }
      const settings = await runWithEnv({ ...envFor(f, rpc.url, LENDER), LOANLEDGER_CHAIN_ID: "5" }, [
        "member",
        "list",
        "--json",
      ]);
      expect(JSON.parse(settings.err)).to.have.nested.property("error.code", "SETTINGS");
      const node = await runWithEnv({ ...envFor(f, "http://127.0.0.1:1", LENDER) }, ["member", "list", "--json"]);
      expect(JSON.parse(node.err)).to.have.nested.property("error.code", "NODE_UNREACHABLE");
    });
  });
});
