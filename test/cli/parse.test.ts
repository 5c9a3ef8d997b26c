import { expect } from "chai";
import { PLAN_MODULES } from "../../src/cli/plans.js";
import { COMMANDS, parseCommandLine, USAGE } from "../../src/cli/parse.js";
import { UsageError } from "../../src/cli/table.js";

/** Parses `argv`, returning the command it names, the help it printed, or the one-line refusal. */
function parse(argv: string[]) {
  const printed: string[] = [];
  try {
    const result = parseCommandLine(argv, (text) => printed.push(text));
    return result === "help" ? { help: printed.join("\n") } : { selected: result };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { refused: error.message };
  }
}

describe("the command table", function () {
  it("has a plan for every command and a command for every plan", async function () {
    const planned = new Set<string>();
    for (const load of Object.values(PLAN_MODULES))
      for (const words of Object.keys((await load()).plans)) planned.add(words);
    expect([...planned].sort()).to.deep.equal([...COMMANDS.keys()].sort());
    for (const [words, row] of COMMANDS) {
      const { plans } = await PLAN_MODULES[row.in]();
      expect(plans, `${words} is planned in ${row.in}`).to.have.property(words);
    }
  });

  it("gives every command an example that parses as that command", function () {
    for (const [words, row] of COMMANDS) {
      for (const example of typeof row.example === "string" ? [row.example] : row.example) {
        // A shell splits the example at its spaces, except inside quotes.
        const argv = [...example.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
        const result = parse(argv);
        expect(result, example).to.have.nested.property("selected.words", words);
      }
    }
  });

  it("lists every command in the usage, and shows one command's usage, flags and example with --help", function () {
    for (const words of COMMANDS.keys()) expect(USAGE).to.include(`\n  ${words}`);
    const { help } = parse(["loan", "open-funding", "--help"]);
    expect(help).to.match(/^usage: loanledger loan open-funding <loan id> --payout <address> \[--insurer <address>\]/);
    expect(help)
      .to.include("--platform-fee-bps N")
      .and.include("--json")
      .and.include("example:\n  loanledger loan open-funding ");
    expect(parse(["loan", "--help"]).help)
      .to.match(/^usage: loanledger loan <command>/)
      .and.include("  loan fund <loan id> <amount>\n");
    expect(parse(["--help"]).help).to.equal(USAGE);
  });

  it("hands a plan its arguments in place and its flags by name, switches as booleans", function () {
    const { selected } = parse(["--json", "loan", "open-funding", "0xab", "--payout", "0x01", "--platform-fee-bps=50"]);
    expect(selected?.input).to.deep.include({
      words: ["loan", "open-funding", "0xab"],
      json: true,
      payout: "0x01",
      platformFeeBps: "50",
      premiumBps: undefined,
    });
    expect(parse(["keeper", "overdue", "--from", "ops"]).selected?.input).to.deep.include({
      dryRun: false,
      from: "ops",
    });
    expect(parse(["loan", "claim", "0x1", "0x2", "--to", "0x3"]).selected?.input.words).to.deep.equal([
      "loan",
      "claim",
      "0x1",
      "0x2",
    ]);
  });

  it("refuses in one line what the table does not allow", function () {
    const cases: [string[], string][] = [
      [["loan", "fnud", "0x1"], 'unknown command "loan fnud 0x1" (did you mean "loan fund"?); run loanledger --help'],
      [["lona", "list"], 'unknown command "lona list" (did you mean "loan list"?); run loanledger --help'],
      [["loan"], '"loan" needs one of its commands: anchor, sign, import,'],
      [["loan", "fund", "0x1"], "missing <amount>; run loanledger loan fund --help"],
      [["loan", "fund", "0x1", "2", "3"], 'too many arguments (3) for "loan fund": its usage: loanledger loan fund'],
      [["loan", "list", "--limit"], "--limit needs a value; run loanledger loan list --help"],
      [["loan", "list", "--status", "overdue"], "--status must be one of funding, due, late"],
      [["loan", "list"], "--status is required; run loanledger loan list --help"],
      [["collateral", "sell", "0x1", "--buyer", "B"], "--proceeds, --document are required"],
      [["member", "list", "--dry-run"], '--dry-run does not belong to "member list" (it is a flag of loan import,'],
      [["member", "list", "--bogus"], "unknown flag --bogus; run loanledger member list --help"],
      [["--bogus"], "unknown flag --bogus; run loanledger --help"],
      [["loan", "show", "0x1", "--json=1"], "--json takes no value; run loanledger loan show --help"],
      [["loan", "--version"], "unknown flag --version; run loanledger loan --help"],
      [["lonn", "--help"], 'unknown command "lonn"; run loanledger --help'],
      [["loan", "fnd", "--help"], 'unknown command "loan fnd" (did you mean "loan find"?); run loanledger --help'],
      [["loan", "fund", "0x1", "2", "--from", "lender", "--from", "platform"], "--from is given twice: give it once"],
      [["--json", "loan", "show", "0x1", "--json"], "--json is given twice: give it once"],
    ];
    for (const [argv, reason] of cases) {
      const { refused } = parse(argv);
      expect(refused, argv.join(" "))
        .to.be.a("string")
        .and.satisfy((r: string) => r.startsWith(reason));
      expect(refused!.split("\n"), argv.join(" ")).to.have.length(1);
    }
  });
});
