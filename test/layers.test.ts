import { expect } from "chai";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

/**
 * The TypeScript's layers (.dependency-cruiser.cjs): records < client < audit < indexer < portal < cli, no import
 * circles, no command importing another. `npm run lint` checks them too; here they hold on every test run, in CI.
 */
describe("the layers of the TypeScript sources", function () {
  it("have no import circle and no import against the layers", async function () {
    const run = promisify(execFile);
    const args = [
      "depcruise",
      "src",
      "scripts",
      "test",
      "deploy",
      "portal/src",
      "bin",
      "--config",
      ".dependency-cruiser.cjs",
    ];
    const { stdout } = await run("npx", ["--no-install", ...args], { maxBuffer: 16 * 1024 * 1024 }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`dependency-cruiser found violations:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
      },
    );
    expect(stdout).to.match(/no dependency violations found/);
  });
});
