import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const FOLDER = join(process.cwd(), "cache", "cli");

/** The packages a bundle file imports at load time, following its static imports of other chunks. */
function staticPackages(file: string, seen = new Set<string>()): Set<string> {
  const packages = new Set<string>();
  if (seen.has(file)) return packages;
  seen.add(file);
  const source = readFileSync(join(FOLDER, file), "utf8");
  // Static imports only: `import … from "x"` and `import "x"` at the start of a line, not `import("x")`.
  for (const [, specifier] of source.matchAll(/^import\s+(?:[^"'()]*?\s+from\s+)?["']([^"']+)["']/gm)) {
    if (specifier.startsWith("./")) for (const p of staticPackages(specifier.slice(2), seen)) packages.add(p);
    else packages.add(specifier);
  }
  return packages;
}

describe("the CLI's bundle", function () {
  it("loads no ethers, client or command module until a command runs: --help and --version start without them", function () {
    // The entry compiles the bundle when a source is newer than it.
    const result = spawnSync(process.execPath, ["bin/loanledger.mjs", "--version"], { encoding: "utf8" });
    expect(result.status, result.stderr).to.equal(0);
    const loaded = [...staticPackages("main.mjs")];
    expect(loaded).to.include("commander");
    expect(loaded.filter((p) => !p.startsWith("node:") && p !== "commander")).to.deep.equal([]);
    // The command modules are there, each imported when its command runs.
    expect(readFileSync(join(FOLDER, "main.mjs"), "utf8")).to.match(/import\("\.\/chunk-/);
  });
});
