/**
 * The CLI's entry: parses the command line against the command table and hands the command to run.ts. This module
 * loads nothing that talks to a chain, so that `--help`, `--version` and a mistyped command answer at once; what a
 * command needs is imported when it runs.
 */
import { readFileSync } from "node:fs";
import type { ContextFactory } from "./context.js";
import { processIo, toJson, type CliIo } from "./output.js";
import { parseCommandLine, USAGE } from "./parse.js";
import { UsageError } from "./table.js";
export { findEnvFile } from "./env-file.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * Runs one CLI command and returns its exit code: 0 on success, 1 with a one-line reason on stderr otherwise (under
 * --json, a JSON object with a stable code). Never throws, never prints a stack trace. `context` builds the chain
 * context (by default from the environment).
 */
export async function main(argv: string[], given: CliIo = processIo, context?: ContextFactory): Promise<number> {
  const json = argv.includes("--json");
  // Progress is for a person at a terminal: none under --json, whose output a script reads, nor in CI, whose log keeps
  // every rewrite of the line.
  const quiet = json || Boolean(process.env.CI);
  const io: CliIo = quiet ? { out: given.out, err: given.err } : given;
  try {
    // `--version` alone is the CLI's version; after a disclosure command it is the report's version.
    const rest = argv.filter((a) => a !== "--json");
    if (rest.length === 1 && (rest[0] === "--version" || rest[0] === "-V")) {
      io.out(json ? toJson({ version: version() }) : version());
      return 0;
    }
    if (rest.length === 0) {
      // Under --json, a script reads stderr for the error: the usage is for people.
      if (json) throw new UsageError("no command given; run loanledger --help");
      io.out(USAGE);
      return 1;
    }
    // `loanledger help loan fund` is `loanledger loan fund --help`.
    const line = rest[0] === "help" ? [...rest.slice(1), "--help"] : argv;
    const parsed = parseCommandLine(line, io.out);
    if (parsed === "help") return 0;
    const { run } = await import("./run.js");
    return await run(parsed, io, context);
  } catch (error) {
    // Only the command line can fail here; run() reports what happens once the command runs.
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    const code = error instanceof UsageError ? "USAGE" : "FAILED";
    io.err(json ? JSON.stringify({ error: { code, message } }) : `error: ${message}`);
    return 1;
  }
}
