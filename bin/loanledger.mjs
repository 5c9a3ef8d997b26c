#!/usr/bin/env node
// The CLI is TypeScript. It runs from a bundle that esbuild compiles on first use, and again whenever a source is
// newer than it: that starts about twice as fast as tsx compiling each module on every run. The bundle is split where
// the CLI imports lazily, so that a command loads only what it uses (--help loads no ethers). Where esbuild is missing
// or fails, tsx runs the sources as they are.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { config } from "dotenv";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// The portal's index and `report --db` use node:sqlite, which Node 20 lacks. The project installs Node 22 beside it
// (the `node` package, as Hardhat needs it too): on an older system Node the command runs again on that one, which
// receives the signals the user sends this process, so that `kill` and Ctrl-C stop the work itself.
const localNode = join(root, "node_modules", "node", "bin", "node");
if (Number(process.versions.node.split(".")[0]) < 22 && existsSync(localNode)) {
  const child = spawn(localNode, process.argv.slice(1), { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  const code = await new Promise((resolve) =>
    child.on("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0))),
  );
  process.exit(code);
}
// Two folders below the root, as src/cli/main.ts is, so that the sources' relative paths (schemas/) still resolve.
const folder = join(root, "cache", "cli");
const bundle = join(folder, "main.mjs");

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

async function compiled() {
  const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
  if (built > 0 && ["src", "typechain-types"].every((dir) => newest(join(root, dir)) < built)) return bundle;
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: { main: join(root, "src/cli/main.ts") },
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outdir: folder,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunk-[hash]",
    write: false,
    logLevel: "silent",
  });
  mkdirSync(folder, { recursive: true });
  // Chunks are named by their content, so writing one never changes a file that a running command may still import;
  // the entry is written aside and renamed into place last, so that two commands started at once never read half a
  // bundle. Chunks of older builds are removed once no command started a minute ago can still need them.
  const written = new Set();
  for (const file of [...result.outputFiles].sort((a, b) => (a.path === bundle) - (b.path === bundle))) {
    const partial = `${file.path}.${process.pid}`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
    written.add(file.path);
  }
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (!written.has(path) && /^chunk-/.test(name) && statSync(path).mtimeMs < Date.now() - 60_000) rmSync(path);
  }
  return bundle;
}

let entry;
try {
  entry = pathToFileURL(await compiled()).href;
} catch {
  const { register } = await import("tsx/esm/api");
  register();
  entry = new URL("../src/cli/main.ts", import.meta.url).href;
}
const { main, findEnvFile } = await import(entry);
// The nearest .env at or above the current folder; what the environment already holds wins.
const envFile = findEnvFile(process.cwd());
if (envFile) config({ path: envFile, quiet: true });
process.exitCode = await main(process.argv.slice(2));
