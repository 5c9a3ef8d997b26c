import { expect } from "chai";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "../../src/portal/devnet.js";

/**
 * The README's "Your own node, end to end" section, run as it is written: its shell block is read from the README and
 * run by bash, command after command, stopping at the first that fails. Only the port (8545 might be taken, and two
 * test runs on one machine must not meet) and the folder (so that nothing is left in the repository) are changed.
 */

const ROOT = process.cwd();

function ownNodeBlock(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = /<!-- own-node:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- own-node:end -->/.exec(readme);
  if (!section) throw new Error("the README has no own-node block between its markers");
  return section[1];
}

describe("README: your own node, end to end", function () {
  it("runs every command of the section, in order", async function () {
    this.timeout(600_000);
    const block = ownNodeBlock();
    expect(block).to.include("npx hardhat node").and.include("loan import").and.include("pkill -f");
    const port = await freePort();
    const folder = `.readme-own-node-${process.pid}`;
    const script = block.replaceAll("8545", String(port)).replaceAll("my-alliance", folder);
    // Each command is echoed before it runs (set -x), so a failure names the README line that failed.
    const bash = spawn("bash", ["-e", "-x", "-c", script], {
      cwd: ROOT,
      detached: true,
      // Only the block's own settings: none of this process's LOANLEDGER_* variables.
      env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LOANLEDGER_"))),
    });
    let out = "";
    let err = "";
    bash.stdout.on("data", (d) => (out += String(d)));
    bash.stderr.on("data", (d) => (err += String(d)));
    const code = await new Promise<number>((done) => bash.on("close", (c) => done(c ?? -1)));
    // The block's last step stopped the node it started: nothing answers on its port any more.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const nodeLeft = await fetch(`http://127.0.0.1:${port}`, { method: "POST" }).then(
      () => true,
      () => false,
    );
    try {
      // The node the block starts is in bash's process group: stopped even when a command failed before its pkill.
      process.kill(-bash.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    await rm(join(ROOT, folder), { recursive: true, force: true });
    expect(code, `${err.split("\n").slice(-15).join("\n")}\n${out.split("\n").slice(-10).join("\n")}`).to.equal(0);
    expect(nodeLeft, "the README's block left its node running").to.equal(false);

    expect(out).to.match(/dry run of book\.csv: 2 to anchor, 0 anchored already, 0 bad; nothing was sent/);
    expect(out).to.include("anchored 2 loan(s) of book.csv in 1 transaction(s); 0 were anchored already");
    expect(out).to.include("anchored 0 loan(s) of book.csv in 0 transaction(s); 2 were anchored already");
    expect(out).to.match(/committed 12,000\.00 \w+ to loan/);
    expect(out).to.match(/paid ≈?[1-9][\d,.]* \w+ to lenders/);
    expect(out).to.match(/^verified 2 loan\(s\)/m);
  });
});
