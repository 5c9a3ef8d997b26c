/**
 * The front-end's build: Vite compiles portal/ (Preact, TypeScript) into cache/portal/, on first use and again
 * whenever a source is newer than the build, as the CLI's own bundle is.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const PORTAL_SOURCES = join(ROOT, "portal");
export const PORTAL_BUILD = join(ROOT, "cache", "portal");

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds the front-end into `outDir` unless a build newer than every source is there; returns the folder. */
export async function buildPortal(outDir = PORTAL_BUILD, force = false): Promise<string> {
  const index = join(outDir, "index.html");
  if (!force && existsSync(index) && statSync(index).mtimeMs > newest(PORTAL_SOURCES)) return outDir;
  const { build } = await import("vite");
  await build({
    root: PORTAL_SOURCES,
    configFile: false,
    logLevel: "warn",
    base: "/",
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    build: { outDir, emptyOutDir: true, sourcemap: false, target: "es2022", reportCompressedSize: false },
  });
  return outDir;
}
