import { InputError, toLoanLedgerError } from "../client/index.js";
import { parse, printer, type Command, type Parsed } from "./args.js";
import { planAudit } from "./commands/audit.js";
import { planCollateral } from "./commands/collateral.js";
import { planDisclosure } from "./commands/disclosure.js";
import { planFunding } from "./commands/funding.js";
import { planRegistry } from "./commands/registry.js";
import { planRisk } from "./commands/risk.js";
import { contextFromEnv, type CliContext, type ContextFactory } from "./context.js";
import { processIo, type CliIo } from "./output.js";

const USAGE = `usage: loanledger <command> [--json]
  member add <address> --roles platform,insurer,auditor,custodian [--metadata <hash or text>]
  member suspend|reinstate|expel <address>
  member list
  lender allow <address> --kyc-expiry <date | unix seconds | +365d>
  lender revoke <address>
  lender show <address>
  loan anchor --file <terms.json>          one loan or an array (a batch, all or nothing)
  loan show <loan id>
  loan history <loan id>
  loan schedule <loan id> | --file <terms.json>
  loan activate|cancel|late|default|recover|write-off <loan id>
  loan repay <loan id> [amount]            through the splitter when it services the loan (default: what is due)
  loan amend <loan id> --document <file>
  loan open-funding <loan id> --payout <address> [--insurer <address>]
                    [--platform-fee-bps N] [--premium-bps N] [--reserve-bps N]
  loan fund <loan id> <amount>
  loan cancel-funding <loan id>
  loan due <loan id>
  loan lenders <loan id>
  loan payout <loan id> [--lenders <address,...>]
  loan claim <loan id>... [--to <address>]
  loan transfer-share <loan id> <to address> <shares>
  lender payouts [address]
  fees show [address]
  fees withdraw [--to <address>]
  keeper payouts [--from-block N] [--watch <seconds>]
  collateral register --class real-estate|vehicle|equipment|receivable --official-id <id> --owner <address>
                      --value <amount> --appraisal <file>
  collateral show <asset id> | --class <class> --official-id <id>
  collateral consent <asset id> <loan id> --secured <amount> [--priority N] [--deadline <time>]   (as the owner)
  collateral pledge <asset id> <loan id> --secured <amount> [--priority N] [--consent <signature> --deadline <time>]
  collateral release <asset id> [loan id]        every lien of a repaid or cancelled loan when no loan id is given
  collateral seize <asset id> <loan id>
  collateral dispose <asset id> --proceeds <amount> --buyer <reference> --document <sale contract file>
  collateral withdraw [--to <address>]
  loan settle <loan id>                      the loss waterfall: insurance claim, then reserve compensation
  loan recovery <loan id> <amount>           pays a recovery on a defaulted loan, shared pari passu once settled
  loan loss <loan id>
  reserve deposit <amount>
  reserve collect [platform ...]             collects contributions from the splitter (default: every platform)
  reserve policy [--coverage-bps N --cap-per-loan <amount> --quota-multiple-bps N]
  reserve show [platform]
  insurance capital <amount> [--withdraw] [--to <address>]
  insurance write <loan id> --coverage-bps N --term-end <time>
  insurance release <loan id>
  insurance show <loan id> | <insurer address>
  borrower exposure|events <borrower reference> | --national-id <id>
  disclosure publish --file <report.json> [--correction]
  disclosure attest --file <report.json> --version N
  disclosure show <platform> <YYYY-MM> [--version N]
  disclosure check <platform> <YYYY-MM>      exits 1 when the disclosure differs from the ledger
  audit export --out <dir>                   every loan's, asset's and member's history as JSON Lines, with the heads
  audit verify [--loan <id>] [--from-export <dir> [--rpc <url>]] [--docs <dir>] [--out <dir>]
                                             writes audit-report.json and .md; exits 1 on any finding; --rpc proves
                                             an export's heads against any node at the export's block
Settings come from the environment or .env: see .env.example.`;

/** Checks a command's arguments before anything connects to the chain. */
function plan(p: Parsed): Command {
  const print = printer(p);
  const command =
    planRegistry(p, print) ??
    planFunding(p, print) ??
    planCollateral(p, print) ??
    planRisk(p, print) ??
    planDisclosure(p, print) ??
    planAudit(p, print);
  if (command) return command;
  throw new InputError(`unknown command "${p.words.join(" ")}"; run loanledger --help`);
}

/**
 * Runs one CLI command and returns its exit code: 0 on success, 1 with a one-line reason on stderr otherwise.
 * Never throws, never prints a stack trace.
 */
export async function main(
  argv: string[],
  io: CliIo = processIo,
  context: ContextFactory = contextFromEnv(),
): Promise<number> {
  try {
    const parsed = parse(argv);
    if (parsed.words.length === 0 || parsed.words[0] === "help") {
      io.out(USAGE);
      return parsed.words.length === 0 ? 1 : 0;
    }
    const command = plan(parsed);
    await command(parsed, command.offline ? (undefined as unknown as CliContext) : await context(), io);
    return 0;
  } catch (error) {
    const reason = toLoanLedgerError(error);
    io.err(`error: ${reason.message.split("\n")[0]}`);
    return 1;
  }
}
