#!/usr/bin/env node
// The CLI is TypeScript. It runs from one bundle that esbuild compiles on first use, and again whenever a source is
// newer than it: that starts about twice as fast as tsx compiling each module on every run. Where esbuild is missing
// or fails, tsx runs the sources as they are.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { config } from "dotenv";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// Two folders below the root, as src/cli/main.ts is, so that the sources' relative paths (schemas/) still resolve.
const bundle = join(root, "cache", "cli", "main.mjs");

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
    entryPoints: [join(root, "src/cli/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: bundle,
    write: false,
    logLevel: "silent",
  });
  mkdirSync(dirname(bundle), { recursive: true });
  // Written aside and renamed into place, so that two commands started at once never read half a bundle.
  const partial = `${bundle}.${process.pid}`;
  writeFileSync(partial, result.outputFiles[0].contents);
  renameSync(partial, bundle);
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
