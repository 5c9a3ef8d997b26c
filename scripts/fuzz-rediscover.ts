/**
 * Shows that the Solidity invariant campaign finds the holes issue 20 closed, on its own: for each rule, a copy of the
 * project with that rule broken again (the fix undone by a textual patch), built, then the campaign run until it
 * reports a broken rule. Prints how long each took. The working tree is never touched: each rule runs in a temporary
 * copy that shares node_modules and starts from the current build cache.
 *
 *   npm run fuzz:rediscover                 every rule, up to 15 minutes each
 *   npm run fuzz:rediscover -- --rule 3     one rule
 *   npm run fuzz:rediscover -- --limit 300  seconds per rule
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

interface Break {
  rule: number;
  what: string;
  file: string;
  /** Each pair: the fixed code, and the code before the fix. */
  patches: [string, string][];
  /** What the campaign says when it finds it. */
  finding: RegExp;
}

const BREAKS: Break[] = [
  {
    rule: 1,
    what: "an appointment outlives the platform's reinstatement",
    file: "contracts/LoanSuccessionModule.sol",
    patches: [
      [
        "return failing && member.reinstatements == appointment.reinstatements ? successor : address(0);",
        "return failing ? successor : address(0);",
      ],
    ],
    finding: /rule 1:/,
  },
  {
    rule: 2,
    what: "a sale releases the lien of a loan still in funding",
    file: "contracts/libraries/CollateralSales.sol",
    patches: [["if (state.status == LoanStatus.Funding) {", "if (state.status == LoanStatus.None) {"]],
    finding: /a lien was released while its loan was owed|a sale discharged the lien of a live loan/,
  },
  {
    rule: 3,
    what: "a written-off loss recovered in full stays WrittenOff",
    file: "contracts/LossWaterfall.sol",
    patches: [
      [
        "if (whole) SPLITTER.closeLoss(terms, false);",
        "if (whole && status == LoanStatus.Defaulted) SPLITTER.closeLoss(terms, false);",
      ],
    ],
    finding: /a loss recovered in full stayed open/,
  },
  {
    rule: 4,
    what: "seasoning measured to the declaration of default, counting installments",
    file: "contracts/LossWaterfall.sol",
    patches: [
      [
        "firstMissedDue - state.activatedAt,\n            SPLITTER.bookOf(loanId).contributions",
        "uint256(state.statusSince) - state.activatedAt,\n            state.installmentsPaid",
      ],
    ],
    finding: /rule 4:/,
  },
  {
    rule: 5,
    what: "the insurer takes the whole premium of whatever is paid while its policy runs",
    file: "contracts/RepaymentSplitter.sol",
    patches: [
      [
        "due.dueDate <= book.coverEnd ? (split.premium * book.coverageBps) / ScheduleMath.BPS : 0;",
        "block.timestamp <= book.coverEnd ? split.premium : 0;",
      ],
    ],
    finding: /rule 5:/,
  },
  {
    rule: 6,
    what: "legacy import without governance's allowance, and legacy loans funded under the consent policy",
    file: "contracts/LoanConsentModule.sol",
    patches: [["if (block.timestamp > until) {", "if (until > type(uint40).max) {"]],
    finding: /rule 6:/,
  },
  {
    rule: 6,
    what: "a legacy loan opens funding while consent is required",
    file: "contracts/LoanRegistry.sol",
    patches: [["if (onLedger && consent == Consent.Legacy)", "if (onLedger && consent == Consent.None)"]],
    finding: /rule 6:/,
  },
];

const { values } = parseArgs({ options: { rule: { type: "string" }, limit: { type: "string", default: "900" } } });
const limit = Number(values.limit);
const chosen = BREAKS.filter((b) => values.rule === undefined || String(b.rule) === values.rule);
if (chosen.length === 0 || !(limit > 0)) {
  console.error("--rule is one of 1 to 6, --limit a number of seconds");
  process.exit(2);
}

const root = process.cwd();
const COPIED = [
  "contracts",
  "test/invariant",
  "test/Suite.invariant.t.sol",
  "hardhat.config.ts",
  "package.json",
  "tsconfig.json",
  "artifacts",
  "cache",
];

function copyProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "loanledger-rediscover-"));
  for (const path of COPIED) cpSync(join(root, path), join(dir, path), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function hardhat(dir: string, args: string[], env: Record<string, string> = {}, timeout?: number) {
  return spawnSync(join(root, "node_modules/.bin/hardhat"), args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: timeout === undefined ? undefined : timeout * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

let missed = 0;
for (const b of chosen) {
  const dir = copyProject();
  try {
    const path = join(dir, b.file);
    let source = readFileSync(path, "utf8");
    for (const [fixed, broken] of b.patches) {
      if (!source.includes(fixed)) throw new Error(`rule ${b.rule}: ${b.file} no longer contains the fix this undoes`);
      source = source.replace(fixed, broken);
    }
    writeFileSync(path, source);
    const build = hardhat(dir, ["build"]);
    if (build.status !== 0)
      throw new Error(`rule ${b.rule}: the broken copy does not build\n${build.stdout}${build.stderr}`);

    const started = Date.now();
    let found = false;
    let campaigns = 0;
    while (!found && (Date.now() - started) / 1000 < limit) {
      const left = limit - (Date.now() - started) / 1000;
      const run = hardhat(
        dir,
        [
          "test",
          "solidity",
          "test/Suite.invariant.t.sol",
          "test/invariant/World.t.sol",
          "test/invariant/Handlers.t.sol",
        ],
        { INVARIANT_RUNS: "1000", INVARIANT_DEPTH: "200" },
        left,
      );
      campaigns += 1;
      found = b.finding.test(`${run.stdout}${run.stderr}`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    if (found)
      console.log(`rule ${b.rule} (${b.what}): found in ${seconds} s (${campaigns} campaign(s), shrinking included)`);
    else {
      missed += 1;
      console.log(`rule ${b.rule} (${b.what}): NOT found in ${seconds} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(missed === 0 ? 0 : 1);
