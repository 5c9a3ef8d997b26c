/**
 * The command line, parsed by commander from the command table: each noun is a command, each row one of its commands,
 * each flag an option. Commander refuses what the table does not declare (an unknown flag, a flag of another command,
 * a missing or extra argument) and answers `--help`; the table's checks (required flags, choices) run after it. Every
 * refusal is a {UsageError} of one line, worded here.
 */
import { Command, CommanderError, type HelpContext } from "commander";
import { NOUNS } from "./nouns/index.js";
import { didYouMean } from "./suggest.js";
import {
  camel,
  commandHelp,
  GLOBAL_FLAGS,
  overviewLine,
  usageLine,
  UsageError,
  type Input,
  type Row,
} from "./table.js";

/** Every command's row by its words: "loan fund", or one word ("serve"). */
export const COMMANDS: ReadonlyMap<string, Row> = new Map(
  Object.entries(NOUNS).flatMap(([noun, rows]) =>
    Object.entries(rows).map(([action, row]) => [action ? `${noun} ${action}` : noun, row] as const),
  ),
);

const SETTINGS = [
  "Settings come from the environment or the nearest .env at or above this folder: see .env.example. Without a signing",
  "key the CLI only reads (as LOANLEDGER_ACCOUNT); --from <name> acts with LOANLEDGER_PRIVATE_KEY_<NAME>. Amounts are in",
  "the settlement token's units.",
];

/** The overview: every command's usage line. */
export const USAGE = [
  "usage: loanledger <command> [--json] [--from <key profile>]         loanledger --version",
  ...[...COMMANDS].map(([words, row]) => `  ${usageLine(words, row)}`),
  "Run loanledger <command> --help for what a command does, its flags and an example.",
  ...SETTINGS,
].join("\n");

/** The commands of one noun, each with what it does. */
function nounHelp(noun: string): string {
  const rows = [...COMMANDS].filter(([words]) => words.split(" ")[0] === noun);
  return [
    `usage: loanledger ${noun} <command> [--json] [--from <key profile>]`,
    ...rows.map(([w, r]) => overviewLine(w, r)),
  ].join("\n");
}

/** The commands whose table declares `flag`. */
function commandsWithFlag(flag: string): string[] {
  return [...COMMANDS].filter(([, row]) => row.flags && Object.hasOwn(row.flags, flag)).map(([words]) => words);
}

const ALL_FLAGS = [
  ...new Set([
    ...Object.keys(GLOBAL_FLAGS),
    "help",
    ...[...COMMANDS.values()].flatMap((r) => Object.keys(r.flags ?? {})),
  ]),
];

/** A command of the tree: it words every refusal itself, and its help comes from the table. */
class CliCommand extends Command {
  /** The command's words ("loan fund"; "" for the program itself). */
  words = "";

  override createCommand(name?: string): CliCommand {
    return new CliCommand(name);
  }

  private get helpHint(): string {
    return `run loanledger ${this.words ? `${this.words} ` : ""}--help`;
  }

  /** A flag that no command declares, or that another command declares. */
  unknownOption(flag: string): never {
    const name = flag.replace(/^-+/, "").split("=")[0];
    const row = COMMANDS.get(this.words);
    const owners = commandsWithFlag(name);
    if (row && owners.length && !flag.includes("=")) {
      const elsewhere = owners.length > 3 ? `${owners.slice(0, 3).join(", ")}, …` : owners.join(", ");
      throw new UsageError(
        `--${name} does not belong to "${this.words}" (it is a flag of ${elsewhere}); ` +
          `its usage: loanledger ${usageLine(this.words, row)}`,
      );
    }
    const own = [...Object.keys(row?.flags ?? {}), ...Object.keys(GLOBAL_FLAGS), "help"];
    // `--json=1` names a switch of this command: suggesting the same name back would explain nothing.
    if (flag.includes("=") && own.includes(name)) throw new UsageError(`--${name} takes no value; ${this.helpHint}`);
    const other = (known: readonly string[]) => known.filter((k) => k !== name);
    const hint = didYouMean(name, other(own)) || didYouMean(name, other(ALL_FLAGS));
    const written = flag.startsWith("--") ? `--${name}` : flag;
    throw new UsageError(`unknown flag ${written}${hint.replace('"', '"--')}; ${this.helpHint}`);
  }

  unknownCommand(): never {
    const words = [...(this.words ? [this.words] : []), ...this.args].join(" ");
    const key = words.split(" ").slice(0, 2).join(" ");
    throw new UsageError(`unknown command "${words}"${didYouMean(key, [...COMMANDS.keys()])}; run loanledger --help`);
  }

  missingArgument(name: string): never {
    throw new UsageError(`missing <${name}>; ${this.helpHint}`);
  }

  _excessArguments(received: string[]): never {
    const row = COMMANDS.get(this.words);
    throw new UsageError(
      `too many arguments (${received.length}) for "${this.words}": its usage: loanledger ${row ? usageLine(this.words, row) : this.words}`,
    );
  }

  optionMissingArgument(option: { long?: string; flags: string }): never {
    throw new UsageError(`${option.long ?? option.flags} needs a value; ${this.helpHint}`);
  }

  override error(message: string): never {
    throw new UsageError(`${message.replace(/^error: /, "")}; ${this.helpHint}`);
  }

  /** A noun given without one of its commands is a mistake of one line, not a page of help on stderr. */
  override help(context?: HelpContext | ((text: string) => string)): never {
    if (typeof context === "object" && context.error)
      throw new UsageError(
        `"${this.words}" needs one of its commands: ${this.commands.map((c) => c.name()).join(", ")}; ${this.helpHint}`,
      );
    return super.help(context as HelpContext);
  }

  override helpInformation(): string {
    const row = COMMANDS.get(this.words);
    if (row) return commandHelp(this.words, row);
    return this.words ? nounHelp(this.words) : USAGE;
  }
}

/** A command the line names, with its input checked against the table. */
export interface Selected {
  words: string;
  row: Row;
  input: Input;
}

function program(write: (text: string) => void, select: (chosen: Selected) => void): CliCommand {
  const root = new CliCommand("loanledger")
    .exitOverride()
    .helpCommand(false)
    .configureOutput({ writeOut: (text) => write(text.replace(/\n$/, "")), writeErr: () => undefined });
  for (const [name, flag] of Object.entries(GLOBAL_FLAGS))
    root.option(`--${name}${"value" in flag ? ` ${flag.value}` : ""}`, flag.help);
  const nouns = new Map<string, CliCommand>();
  for (const [words, row] of COMMANDS) {
    const [noun, action] = words.split(" ");
    let parent: CliCommand = root;
    if (action !== undefined) {
      if (!nouns.has(noun)) {
        const group = root.command(noun) as CliCommand;
        group.words = noun;
        nouns.set(noun, group);
      }
      parent = nouns.get(noun)!;
    }
    const command = parent.command(action ?? noun) as CliCommand;
    command.words = words;
    // The table writes arguments as the usage shows them, which is commander's own syntax.
    for (const arg of row.args ?? []) command.argument(arg);
    for (const [name, flag] of Object.entries(row.flags ?? {}))
      command.option(`--${name}${flag.value ? " <value>" : ""}`, flag.help);
    command.action(() => {
      const values = command.opts<Record<string, string | boolean | undefined>>();
      const flags: Record<string, string | boolean | undefined> = {};
      for (const [name, flag] of Object.entries(row.flags ?? {}))
        flags[camel(name)] = flag.value ? values[camel(name)] : values[camel(name)] === true;
      const globals = root.opts<{ json?: boolean; from?: string }>();
      const positional = (command.processedArgs as (string | string[] | undefined)[]).flat();
      select({
        words,
        row,
        input: {
          ...flags,
          words: [...words.split(" "), ...positional.filter((a): a is string => a !== undefined)],
          json: globals.json === true,
          from: globals.from,
        },
      });
    });
  }
  return root;
}

/** The table's own checks of the flags given: each value among its choices, then every required flag present. */
function checkFlags(words: string, row: Row, input: Input): void {
  const given = input as unknown as Record<string, unknown>;
  for (const [name, flag] of Object.entries(row.flags ?? {})) {
    const value = given[camel(name)];
    if (flag.choices && typeof value === "string" && !flag.choices.includes(value))
      throw new UsageError(`--${name} must be one of ${flag.choices.join(", ")}`);
  }
  const missing = Object.entries(row.flags ?? {})
    .filter(([name, flag]) => flag.required && given[camel(name)] === undefined)
    .map(([name]) => `--${name}`);
  if (missing.length)
    throw new UsageError(
      `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} required; run loanledger ${words} --help`,
    );
}

/**
 * Parses `argv` against the table. Returns the command it names with its input, or the help it printed (`--help`),
 * and throws a {UsageError} for anything the table does not allow.
 */
export function parseCommandLine(argv: readonly string[], write: (text: string) => void): Selected | "help" {
  // Commander keeps the last of a flag given twice: `--from lender ... --from platform` would act as the platform.
  const given = new Set<string>();
  for (const arg of argv) {
    if (arg === "--") break;
    const flag = /^--([a-z][a-z0-9-]*)/.exec(arg)?.[1];
    if (flag === undefined) continue;
    if (given.has(flag)) throw new UsageError(`--${flag} is given twice: give it once`);
    given.add(flag);
  }
  // Commander answers `lonn --help` with the whole usage and success: a mistyped command is refused first.
  const [first = "-", second = "-"] = argv;
  if ((argv.includes("--help") || argv.includes("-h")) && !first.startsWith("-")) {
    const noun = [...COMMANDS.keys()].some((k) => k.startsWith(`${first} `));
    const words = noun && !second.startsWith("-") ? `${first} ${second}` : first;
    if (!COMMANDS.has(words) && !(noun && words === first))
      throw new UsageError(
        `unknown command "${words}"${didYouMean(words, [...COMMANDS.keys()])}; run loanledger --help`,
      );
  }
  let chosen: Selected | undefined;
  try {
    program(write, (selected) => (chosen = selected)).parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError && error.code === "commander.helpDisplayed") return "help";
    throw error;
  }
  if (!chosen) throw new UsageError("no command given; run loanledger --help");
  checkFlags(chosen.words, chosen.row, chosen.input);
  return chosen;
}
