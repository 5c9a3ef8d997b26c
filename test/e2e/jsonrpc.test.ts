import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The suite driven as a user would, over JSON-RPC against real nodes: Hardhat's node and anvil (a second EVM
 * implementation, pinned to Cancun). Each node is started on 127.0.0.1, the suite is deployed with its Ignition modules,
 * the CLI runs as child processes with the network settings in the environment, and the node is stopped by its
 * process id.
 */

const ROOT = process.cwd();
/** The well-known development accounts both nodes unlock (never use them on a real network). */
const ACCOUNTS = {
  governance: [
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  ],
  platform: [
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  ],
  lender: [
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  ],
  borrower: [
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  ],
  auditor: [
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  ],
} as const;
type Who = keyof typeof ACCOUNTS;

interface Node {
  name: string;
  url: string;
  /** How to start it; an external node (a Besu network, say) is already running. */
  command?: string[];
}

// Ports derive from the process id so that two test runs on one machine (two worktrees, say) do not meet on one node.
const PORT = 20000 + (process.pid % 10000) * 2;
const NODES: Node[] = [
  {
    name: "hardhat node",
    url: `http://127.0.0.1:${PORT}`,
    command: [
      process.execPath,
      join(ROOT, "node_modules/hardhat/dist/src/cli.js"),
      "node",
      "--hostname",
      "127.0.0.1",
      "--port",
      String(PORT),
    ],
  },
  {
    name: "anvil",
    url: `http://127.0.0.1:${PORT + 1}`,
    command: [
      join(ROOT, "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"),
      "--host",
      "127.0.0.1",
      "--port",
      String(PORT + 1),
      "--hardfork",
      "cancun",
    ],
  },
];
// LOANLEDGER_E2E_RPC_URL points the same test at a node that is already running, such as the README's Besu network.
if (process.env.LOANLEDGER_E2E_RPC_URL) NODES.push({ name: "external node", url: process.env.LOANLEDGER_E2E_RPC_URL });

interface Run {
  code: number;
  out: string;
  err: string;
}

function exec(command: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd: ROOT, env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += String(d)));
    child.stderr.on("data", (d) => (err += String(d)));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out: out.trim(), err: err.trim() }));
  });
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function waitForNode(url: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    try {
      await rpc(url, "eth_chainId");
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 200));
    }
  }
  throw new Error(`no node answered at ${url}`);
}

for (const node of NODES) {
  describe(`end to end over JSON-RPC: ${node.name}`, function () {
    // Starting a node and deploying the suite over JSON-RPC takes a while on a busy 2-core machine.
    this.timeout(300_000);
    const url = node.url;
    let child: ChildProcess | undefined;
    let addresses: Record<string, string>;

    const cli = (who: Who, args: string[]) =>
      exec([process.execPath, join(ROOT, "bin/loanledger.mjs"), ...args], {
        ...addresses,
        LOANLEDGER_RPC_URL: url,
        LOANLEDGER_PRIVATE_KEY: ACCOUNTS[who][1],
        LOANLEDGER_ALLIANCE_KEY: "0x" + "5a".repeat(32),
      });
    const ok = async (who: Who, args: string[]) => {
      const result = await cli(who, args);
      expect(result.code, `${args.join(" ")}: ${result.err}`).to.equal(0);
      return result.out;
    };
    // Development nodes can move time on; a real network cannot, and early repayments are accepted all the same.
    const advance = async (seconds: number) => {
      try {
        await rpc(url, "evm_increaseTime", [seconds]);
        await rpc(url, "evm_mine");
      } catch {
        // not a development node
      }
    };

    before(async function () {
      if (node.command)
        child = spawn(node.command[0], node.command.slice(1), { cwd: ROOT, stdio: "ignore", detached: true });
      await waitForNode(url);
      const deployed = await exec(
        [process.execPath, join(ROOT, "node_modules/hardhat/dist/src/cli.js"), "run", "scripts/deploy-local.ts"],
        {
          LOANLEDGER_FUND: `${ACCOUNTS.lender[0]},${ACCOUNTS.borrower[0]}`,
          // A development node unlocks its accounts (the `localhost` network); a real one takes the deployer's key.
          ...(node.command
            ? { LOANLEDGER_LOCAL_RPC_URL: url }
            : {
                LOANLEDGER_DEPLOY_NETWORK: "besu",
                LOANLEDGER_RPC_URL: url,
                LOANLEDGER_PRIVATE_KEY: ACCOUNTS.governance[1],
              }),
        },
      );
      const line = deployed.out.split("\n").find((l) => l.startsWith('{"LOANLEDGER_'));
      if (!line) throw new Error(`deployment printed no addresses: ${deployed.err || deployed.out}`);
      addresses = JSON.parse(line) as Record<string, string>;
    });

    after(function () {
      // Stop the node (and anything it started) by its process id.
      if (child?.pid) process.kill(-child.pid, "SIGTERM");
    });

    it("runs a loan's life through the CLI, pays the lender, and the audit verifies", async function () {
      await ok("governance", [
        "member",
        "add",
        ACCOUNTS.platform[0],
        "--roles",
        "platform",
        "--metadata",
        "platform licence",
      ]);
      await ok("governance", ["member", "add", ACCOUNTS.auditor[0], "--roles", "auditor"]);
      await ok("platform", ["lender", "allow", ACCOUNTS.lender[0], "--kyc-expiry", "+365d"]);
      const dir = await mkdtemp(join(tmpdir(), "loanledger-e2e-"));
      const termsFile = join(dir, "terms.json");
      await writeFile(
        termsFile,
        JSON.stringify({
          borrowerNationalId: "110101199003074477",
          documentHash: "signed contract E2E-1",
          platformRef: `E2E-${node.name}-${Date.now()}`,
          principal: "12000",
          annualRateBps: 900,
          schedule: "equal-principal",
          installments: 3,
          period: "30d",
          gracePeriod: "3d",
          lateFeeBps: 1500,
          defaultThreshold: "60d",
          fundingDeadline: "+7d",
        }),
      );
      const { loanIds } = JSON.parse(await ok("platform", ["loan", "anchor", "--file", termsFile, "--json"])) as {
        loanIds: string[];
      };
      const [loanId] = loanIds;
      await ok("platform", [
        "loan",
        "open-funding",
        loanId,
        "--payout",
        ACCOUNTS.borrower[0],
        "--platform-fee-bps",
        "100",
      ]);
      expect(await ok("lender", ["loan", "fund", loanId, "12000"])).to.include("Funded");

      // A repayment the splitter refuses leaves no approval behind, and says why in the token's units: the approval the
      // CLI made to try it is set back with the next nonce of the account, however quickly the refusal comes.
      const allowance = async () =>
        BigInt(
          (await rpc(url, "eth_call", [
            {
              to: addresses.LOANLEDGER_TOKEN,
              data:
                "0xdd62ed3e" +
                ACCOUNTS.lender[0].slice(2).toLowerCase().padStart(64, "0") +
                addresses.LOANLEDGER_SPLITTER.slice(2).toLowerCase().padStart(64, "0"),
            },
            "latest",
          ])) as string,
        );
      const tooMuch = await cli("lender", ["loan", "repay", loanId, "20000"]);
      expect(tooMuch.code, tooMuch.err).to.equal(1);
      expect(tooMuch.err).to.match(/RepaymentSplitterPaymentExceedsDue.*20,000/);
      expect(await allowance()).to.equal(0n);

      for (let installment = 1; installment <= 3; installment += 1) {
        await advance(30 * 86_400);
        expect(await ok("borrower", ["loan", "repay", loanId])).to.include(`installment ${installment}`);
        expect(await ok("auditor", ["keeper", "payouts"])).to.match(/paid ≈?[1-9][\d,.]* \w+ to lenders/);
      }
      expect(await ok("auditor", ["loan", "show", loanId])).to.include("Repaid");
      const refused = await cli("auditor", ["loan", "fund", loanId, "1"]);
      expect(refused.code).to.equal(1);
      expect(refused.err.split("\n")).to.have.length(1);

      const exported = join(dir, "export");
      await ok("auditor", ["audit", "export", "--out", exported]);
      expect(await ok("auditor", ["audit", "verify", "--from-export", exported, "--out", dir])).to.match(
        /^verified 1 loan/,
      );
      // Anchored, its funding configuration, delegation, activation, three repayments, repaid, and the three payouts.
      expect(await ok("auditor", ["audit", "verify", "--out", dir])).to.match(
        /^verified 1 loan\(s\), 11 history entries/,
      );
    });
  });
}
