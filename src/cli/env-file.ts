import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * The nearest `.env` at or above `dir` (the CLI may run from any folder of a project), or undefined. Settings already
 * in the environment win over the file's.
 */
export function findEnvFile(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const candidate = join(at, ".env");
    if (existsSync(candidate)) return candidate;
    if (dirname(at) === at) return undefined;
  }
}
