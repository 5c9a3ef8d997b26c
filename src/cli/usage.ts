/**
 * The command table: each row is a command's words and its usage line, from which the help text and the flags the
 * command accepts both derive, so that a flag the help does not show is refused.
 */
import { UsageError } from "./args.js";
import { didYouMean } from "./suggest.js";

interface Row {
  /** "group action", or "group a|b|c" for actions that share a usage line. */
  words: string;
  /** Arguments and flags; a second line (after "\n") continues them. */
  usage: string;
  note?: string;
}

const ROWS: Row[] = [
  { words: "member add", usage: "<address> --roles platform,insurer,auditor,custodian [--metadata <hash or text>]" },
  { words: "member suspend|reinstate|expel", usage: "<address>" },
  { words: "member list", usage: "" },
  {
    words: "member successor",
    usage: "<platform> <successor>",
    note: "governance: names who takes over a suspended or expelled platform's loans",
  },
  { words: "lender allow", usage: "<address> --kyc-expiry <date | unix seconds | +365d>" },
  { words: "lender revoke", usage: "<address>" },
  { words: "lender show", usage: "<address>" },
  {
    words: "loan anchor",
    usage: "--file <terms.json | book.csv> [--signatures <borrower signature file,...>]",
    note: "one loan or several (checked first, sent in batches that fit a block); with the borrowers' signature files, each agreement sent (so agreed) by the platform's key",
  },
  {
    words: "loan sign",
    usage: "<loan id> --out <signature.json> [--document <file>] [--deadline <date | +7d>]",
    note: "the borrower signs the loan's agreement (or, with --document, its next amendment) with its key: use a fresh key per loan",
  },
  {
    words: "loan import",
    usage: "<book.csv | book.jsonl> [--dry-run] [--journal <file>]",
    note: "anchors what is not anchored yet, by platformRef; resumes from its journal",
  },
  { words: "loan find", usage: "--ref <platform reference> [--platform <address>]" },
  {
    words: "loan list",
    usage: "--status funding|due|late [--platform <address>] [--offset N] [--limit N]",
    note: "due: Active with an installment fallen due and unpaid",
  },
  { words: "loan show", usage: "<loan id>" },
  { words: "loan history", usage: "<loan id>" },
  { words: "loan schedule", usage: "<loan id> | --file <terms.json>" },
  { words: "loan activate|cancel|late|default|recover|write-off", usage: "<loan id>" },
  {
    words: "loan repay",
    usage: "<loan id> [amount]",
    note: "through the splitter when it services the loan (default: what is due)",
  },
  {
    words: "loan amend",
    usage: "<loan id> --document <file> [--signatures <borrower signature file>]",
    note: "a signed or funded loan's document changes only with the borrower's signature, sent (so agreed) by the servicer's key",
  },
  {
    words: "loan open-funding",
    usage:
      "<loan id> --payout <address> [--insurer <address>]\n[--platform-fee-bps N] [--premium-bps N] [--reserve-bps N]",
  },
  { words: "loan fund", usage: "<loan id> <amount>", note: "tried first; approves only what the funding takes" },
  { words: "loan cancel-funding", usage: "<loan id>" },
  { words: "loan due", usage: "<loan id>" },
  { words: "loan lenders", usage: "<loan id>" },
  { words: "loan payout", usage: "<loan id> [--lenders <address,...>]" },
  { words: "loan claim", usage: "<loan id>... [--to <address>]" },
  { words: "loan transfer-share", usage: "<loan id> <to address> <shares>" },
  {
    words: "loan take-over",
    usage: "<platform>",
    note: "hands every loan of the platform still with it to its appointed successor (anyone may send it)",
  },
  { words: "lender payouts", usage: "[address]" },
  { words: "fees show", usage: "[address]" },
  { words: "fees withdraw", usage: "[--to <address>]" },
  { words: "keeper payouts", usage: "[--from-block N] [--watch <seconds>]" },
  {
    words: "keeper overdue",
    usage: "[--platform <address>] [--dry-run]",
    note: "marks overdue loans late, and defaulted past their threshold (anyone, after the public delay)",
  },
  {
    words: "collateral register",
    usage:
      "--class real-estate|vehicle|equipment|receivable --official-id <id> --owner <address>\n--value <amount> --appraisal <file>",
  },
  { words: "collateral show", usage: "<asset id> | --class <class> --official-id <id>" },
  {
    words: "collateral consent",
    usage: "<asset id> <loan id> --secured <amount> [--priority N] [--deadline <time>]",
    note: "(as the owner)",
  },
  {
    words: "collateral pledge",
    usage: "<asset id> <loan id> --secured <amount> [--priority N] [--consent <signature> --deadline <time>]",
  },
  {
    words: "collateral release",
    usage: "<asset id> [loan id]",
    note: "every lien of a repaid or cancelled loan when no loan id is given",
  },
  { words: "collateral seize", usage: "<asset id> <loan id>" },
  {
    words: "collateral sell",
    usage: "<asset id> --proceeds <amount> --buyer <reference> --document <sale contract file>\n[--to <buyer address>]",
    note: "proposes the sale; lienholders see it for the sale window before it completes",
  },
  { words: "collateral sale", usage: "<asset id>" },
  {
    words: "collateral confirm-sale",
    usage: "<asset id> --proposal <hash>",
    note: "(as a custodian) what a price below the appraisal floor needs",
  },
  { words: "collateral dispose", usage: "<asset id>", note: "completes the proposed sale and pays its price in" },
  { words: "collateral withdraw", usage: "[--to <address>]" },
  {
    words: "loan settle",
    usage: "<loan id>",
    note: "the loss waterfall: insurance claim, then reserve compensation",
  },
  {
    words: "loan recovery",
    usage: "<loan id> <amount>",
    note: "pays a recovery on a defaulted loan, shared pari passu once settled",
  },
  { words: "loan loss", usage: "<loan id>" },
  { words: "reserve deposit", usage: "<amount>" },
  {
    words: "reserve collect",
    usage: "[platform ...]",
    note: "collects contributions from the splitter (default: every platform)",
  },
  { words: "reserve policy", usage: "[--coverage-bps N --cap-per-loan <amount> --quota-multiple-bps N]" },
  { words: "reserve show", usage: "[platform]" },
  { words: "insurance capital", usage: "<amount> [--withdraw] [--to <address>]" },
  { words: "insurance write", usage: "<loan id> --coverage-bps N --term-end <time>" },
  { words: "insurance release", usage: "<loan id>" },
  { words: "insurance show", usage: "<loan id> | <insurer address>" },
  { words: "borrower exposure|events", usage: "<borrower reference> | --national-id <id>" },
  { words: "disclosure publish", usage: "--file <report.json> [--correction]" },
  { words: "disclosure attest", usage: "--file <report.json> --version N" },
  { words: "disclosure show", usage: "<platform> <YYYY-MM> [--version N]" },
  {
    words: "disclosure check",
    usage: "<platform> <YYYY-MM>",
    note: "exits 1 when the disclosure differs from the ledger",
  },
  {
    words: "audit export",
    usage: "--out <dir>",
    note: "every loan's, asset's and member's history as JSON Lines, with the heads",
  },
  {
    words: "audit verify",
    usage: "[--loan <id>] [--from-export <dir> [--rpc <url>]] [--docs <dir>] [--out <dir>]",
    note: "writes audit-report.json, .md and .html; exits 1 on any finding; --rpc proves an export's heads at its block",
  },
  {
    words: "audit attest",
    usage: "<audit-report.json> [--out <file>] [--on-chain]",
    note: "an auditor member signs the report's and its export's digests (audit-attestation.json); --on-chain records them in the disclosure registry",
  },
  {
    words: "audit check-attestation",
    usage: "<attestation.json> <audit-report.json> [--from-export <dir>] [--on-chain]",
    note: "exits 1 unless the signature, the report and the export's manifest match (and, with --on-chain, the auditor attested it on chain)",
  },
  {
    words: "serve",
    usage: "[--db <file>] [--host <address>] [--port N] [--rebuild]",
    note: "indexes the chain and serves the read-only web portal (127.0.0.1:8080)",
  },
];

/** Flags every command takes. */
export const GLOBAL_FLAGS = ["json", "help", "from"];

/** One row per command, by its words ("loan fund", or one word: "serve"), with the flags its usage line names. */
const COMMANDS = new Map<string, { row: Row; flags: Set<string> }>();
for (const row of ROWS) {
  const [group, actions] = row.words.split(" ");
  const flags = new Set([...row.usage.matchAll(/--([a-z-]+)/g)].map((m) => m[1]));
  if (actions === undefined) COMMANDS.set(group, { row, flags });
  else for (const action of actions.split("|")) COMMANDS.set(`${group} ${action}`, { row, flags });
}

function line(row: Row): string {
  const [first, ...rest] = `${row.words} ${row.usage}`.trimEnd().split("\n");
  const lead = `  ${first}`;
  const head = row.note ? `${lead.padEnd(Math.max(lead.length + 2, 43))}${row.note}` : lead;
  const indent = " ".repeat(2 + row.words.length + 1);
  return [head, ...rest.map((r) => indent + r)].join("\n");
}

export const USAGE = [
  "usage: loanledger <command> [--json] [--from <key profile>]         loanledger --version",
  ...ROWS.map(line),
  "Settings come from the environment or the nearest .env at or above this folder: see .env.example. Without a signing",
  "key the CLI only reads (as LOANLEDGER_ACCOUNT); --from <name> acts with LOANLEDGER_PRIVATE_KEY_<NAME>. Amounts are in",
  "the settlement token's units.",
].join("\n");

/** The usage of the command `words` names, for `loanledger <command> --help`. */
export function usageOf(words: readonly string[]): string | undefined {
  const found = COMMANDS.get(words.slice(0, 2).join(" "));
  return found && `usage: loanledger ${line(found.row).trimStart()}`;
}

/**
 * Refuses an unknown command (with the closest one), and a flag that the command's usage line does not name: a flag
 * given to the wrong command is a mistake, not something to ignore.
 */
export function checkCommand(words: readonly string[], flags: readonly string[]): void {
  const key = words.slice(0, 2).join(" ");
  const found = COMMANDS.get(key);
  if (!found)
    throw new UsageError(
      `unknown command "${words.join(" ")}"${didYouMean(key, [...COMMANDS.keys()])}; run loanledger --help`,
    );
  const foreign = flags.filter((flag) => !GLOBAL_FLAGS.includes(flag) && !found.flags.has(flag));
  if (foreign.length)
    throw new UsageError(
      `${foreign.map((f) => `--${f}`).join(", ")} ${foreign.length === 1 ? "does" : "do"} not belong to "${key}"; ` +
        `its usage: loanledger ${line(found.row).trimStart().replace(/\s+/g, " ")}`,
    );
}

/**
 * The places of `<loan id>` arguments among the command's words (2 is the first word after "loan show"), and whether
 * the last one repeats (`<loan id>...`), read from the command's usage line.
 */
export function loanIdPlaces(words: readonly string[]): { at: number; repeats: boolean }[] {
  const found = COMMANDS.get(words.slice(0, 2).join(" "));
  if (!found) return [];
  // Positional arguments come before the first flag or alternative.
  const positional = found.row.usage.split(/ \| | \[?--/)[0];
  const places: { at: number; repeats: boolean }[] = [];
  [...positional.matchAll(/<([^>]+)>(\.\.\.)?|\[([^\]]+)\]/g)].forEach((token, i) => {
    if ((token[1] ?? token[3]) === "loan id") places.push({ at: 2 + i, repeats: token[2] !== undefined });
  });
  return places;
}
