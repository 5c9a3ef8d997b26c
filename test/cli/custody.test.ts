import { expect } from "chai";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id } from "ethers";
import { deployCustodySuite } from "../../deploy/local.js";
import {
  bankReference,
  CustodyClient,
  NO_BANK_REF,
  operations,
  Role,
  toAddress,
  toHash32,
} from "../../src/client/index.js";
import { contextFor, main, type CliContext } from "../../src/cli/index.js";
import {
  addDays,
  parseStatement,
  statementOf,
  StatementError,
  writeCamt053,
  writeStatementCsv,
  type Reconciliation,
  type Statement,
  type StatementEntry,
} from "../../src/audit/custody/index.js";
import { ethers, ignition, loadFixture, time } from "../fixtures.js";
import { KEY_HEX } from "./helpers.js";

const UNIT = 10n ** 18n;
const ACCOUNT = "CN1234567890123456789";
/** The bank's booking date: its own (the alliance's) local day. */
const day = (seconds: number) => operations.localIso(seconds).slice(0, 10);

/**
 * A custody bank's month: three deposits issued, one withdrawal redeemed, all booked by the bank; the statement it
 * sends for the period.
 */
async function monthFixture() {
  const [governance, bank, alice, bob, otherBank] = await ethers.getSigners();
  const suite = await deployCustodySuite(ignition);
  await suite.contracts.alliance.admitMember(bank, Role.CustodyBank, id("custody bank licence"));
  const custody = new CustodyClient(await suite.contracts.splitter.TOKEN(), bank);
  await custody.setCustodyAccount(ACCOUNT);
  const from = (await time.latest()) + 1;
  await custody.registerAccount(toAddress(alice.address), toHash32(id("alice's account")));
  await custody.registerAccount(toAddress(bob.address), toHash32(id("bob's account")));
  const entries: StatementEntry[] = [];
  const book = async (entryId: string, e2e: string, direction: "credit" | "debit", amount: bigint) => {
    entries.push({
      entryId,
      direction,
      amount,
      amountText: "",
      bookingDate: day(await time.latest()),
      endToEndId: e2e,
      bankRef: bankReference(e2e),
    });
  };
  await custody.issue(toAddress(alice.address), 5_000n * UNIT, "E2E-IN-1");
  await book("NTRY-1", "E2E-IN-1", "credit", 5_000n * UNIT);
  await custody.issue(toAddress(bob.address), 2_500n * UNIT + UNIT / 4n, "E2E-IN-2");
  await book("NTRY-2", "E2E-IN-2", "credit", 2_500n * UNIT + UNIT / 4n);
  await custody.issue(toAddress(alice.address), 300n * UNIT, "E2E-IN-3");
  await book("NTRY-3", "E2E-IN-3", "credit", 300n * UNIT);
  const { id: wid } = await new CustodyClient(custody.contract.target as string, alice).requestWithdrawal(
    1_200n * UNIT,
  );
  await custody.redeem(wid, "E2E-OUT-1");
  await book("NTRY-4", "E2E-OUT-1", "debit", 1_200n * UNIT);
  await time.increase(60);
  const to = await time.latest();
  const statement = statementOf(
    {
      format: "camt.053",
      statementId: "STMT-2027-06",
      account: ACCOUNT,
      currency: "CNY",
      from: new Date(from * 1000).toISOString(),
      to: new Date(to * 1000).toISOString(),
      opening: 0n,
    },
    entries,
  );
  return { suite, governance, bank, statement, custody, alice, otherBank };
}
type Fixture = Awaited<ReturnType<typeof monthFixture>>;

async function reconcileFile(f: Fixture, content: string, extra: string[] = [], name = "statement.xml") {
  const dir = await mkdtemp(join(tmpdir(), "loanledger-custody-"));
  const file = join(dir, name);
  await writeFile(file, content);
  const out = join(dir, "reports");
  const lines: string[] = [];
  const errors: string[] = [];
  const context = async (): Promise<CliContext> =>
    contextFor(f.suite.connect(f.bank), { allianceKeyHex: KEY_HEX, custodyAccount: ACCOUNT });
  const code = await main(
    ["custody", "reconcile", file, "--out", out, ...extra],
    { out: (l) => lines.push(l), err: (l) => errors.push(l) },
    context,
  );
  return { code, out: lines.join("\n"), err: errors.join("\n"), dir: out };
}

async function reportOf(dir: string): Promise<Reconciliation> {
  const json = (await readdir(dir)).find((f) => f.startsWith("custody-reconciliation-") && f.endsWith(".json"));
  return JSON.parse(await readFile(join(dir, json!), "utf8")) as Reconciliation;
}

async function runAs(f: Fixture, signer: Fixture["bank"], argv: string[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await main(argv, { out: (l) => lines.push(l), err: (l) => errors.push(l) }, async () =>
    contextFor(f.suite.connect(signer), { allianceKeyHex: KEY_HEX }),
  );
  return { code, out: lines.join("\n"), err: errors.join("\n") };
}

describe("loanledger custody: the bank's and the holder's commands", function () {
  it("registers, issues, withdraws and redeems, each with its one-line answer", async function () {
    const f = await loadFixture(monthFixture);
    const [, , , , , carol] = await ethers.getSigners();
    const register = await runAs(f, f.bank, ["custody", "register", carol.address, "--account-ref", "CUST-1"]);
    expect(register.code, register.err).to.equal(0);
    const issue = await runAs(f, f.bank, ["custody", "issue", carol.address, "250", "--end-to-end-id", "E2E-CAROL"]);
    expect(issue.code, issue.err).to.equal(0);
    expect(issue.out).to.match(/^issued 250\.00 \w+ to 0x\w+ against payment E2E-CAROL$/);
    const withdraw = await runAs(f, carol, ["custody", "withdraw", "100"]);
    expect(withdraw.code, withdraw.err).to.equal(0);
    expect(withdraw.out).to.match(/^withdrawal 2: 100\.00 \w+ waits in escrow for bank/);
    const redeem = await runAs(f, f.bank, ["custody", "redeem", "2", "--end-to-end-id", "E2E-CAROL-OUT"]);
    expect(redeem.code, redeem.err).to.equal(0);
    const show = await runAs(f, f.bank, ["custody", "show", "2"]);
    expect(show.out).to.match(/withdrawal 2: 100\.00 \w+ of 0x\w+ at bank 0x\w+, Redeemed/);
    const supply = await runAs(f, f.bank, ["custody", "show", "--json"]);
    expect(JSON.parse(supply.out).supply).to.equal(String(6_750n * UNIT + UNIT / 4n));
  });

  it("refuses a platform that issues, and a replayed payment, in one line each", async function () {
    const f = await loadFixture(monthFixture);
    const [, , alice] = await ethers.getSigners();
    const outsider = await runAs(f, alice, ["custody", "issue", alice.address, "1", "--end-to-end-id", "E2E-X"]);
    expect(outsider.code).to.equal(1);
    expect(outsider.err).to.match(/^error: CustodyNotBank: .* is not a custody bank member/);
    const replay = await runAs(f, f.bank, ["custody", "issue", alice.address, "1", "--end-to-end-id", "E2E-IN-1"]);
    expect(replay.code).to.equal(1);
    expect(replay.err.split("\n")).to.have.length(1);
    expect(replay.err).to.match(/CustodyReferenceUsed/);
  });
});

describe("loanledger custody reconcile", function () {
  it("reconciles the bank's camt.053 statement entry by entry, and its closing balance to the supply, to the wei", async function () {
    const f = await loadFixture(monthFixture);
    const { code, out, err, dir } = await reconcileFile(f, writeCamt053(f.statement, 18));
    expect(code, err).to.equal(0);
    expect(out).to.match(/^reconciled statement STMT-2027-06 of CN1234567890123456789: 4 of 4 entries matched/);
    const report = await reportOf(dir);
    expect(report.ok).to.equal(true);
    expect(report.matched).to.have.length(4);
    expect(BigInt(report.balance.outstanding)).to.equal(6_600n * UNIT + UNIT / 4n);
    expect(await readFile(join(dir, "custody-reconciliation-STMT-2027-06.md"), "utf8")).to.include(
      "**Reconciled: no breaks.**",
    );
  });

  it("reads the documented CSV layout alike", async function () {
    const f = await loadFixture(monthFixture);
    const { code, err } = await reconcileFile(f, writeStatementCsv(f.statement, 18), [], "statement.csv");
    expect(code, err).to.equal(0);
    expect(parseStatement(writeStatementCsv(f.statement, 18), 18).entries).to.deep.equal(
      parseStatement(writeCamt053(f.statement, 18), 18).entries,
    );
  });

  it("names exactly the amount changed, the entry dropped and the entry added, and exits 1", async function () {
    const f = await loadFixture(monthFixture);
    const [first, second, third, fourth] = f.statement.entries;
    // +305 on the first, the 300 deposit dropped, a debit of 5 added: the closing balance is the bank's all the same,
    // so the three entries are the only breaks.
    const changed = { ...first, amount: first.amount + 305n * UNIT };
    const added: StatementEntry = {
      entryId: "NTRY-5",
      direction: "debit",
      amount: 5n * UNIT,
      amountText: "",
      bookingDate: fourth.bookingDate,
      endToEndId: "E2E-UNKNOWN-9",
      bankRef: bankReference("E2E-UNKNOWN-9"),
    };
    const tampered = statementOf(f.statement, [changed, second, fourth, added]);
    expect(tampered.closing).to.equal(f.statement.closing);
    const { code, out, err, dir } = await reconcileFile(f, writeCamt053(tampered, 18));
    expect(code).to.equal(1);
    expect(err).to.match(/the statement does not reconcile: 3 break\(s\)/);
    const report = await reportOf(dir);
    expect(report.amountDiffers.map((p) => p.entry.entryId)).to.deep.equal(["NTRY-1"]);
    expect(report.statementOnly.map((e) => e.entryId)).to.deep.equal(["NTRY-5"]);
    expect(report.ledgerOnly.map((m) => m.bankRef)).to.deep.equal([third.bankRef]);
    expect(report.mismatched).to.deep.equal([]);
    expect(report.duplicates).to.deep.equal([]);
    expect(report.balance.ok).to.equal(true);
    expect(out.split("\n").slice(0, 3)).to.deep.equal([
      "on the statement, not on the ledger: entry NTRY-5 (E2E-UNKNOWN-9), debit 5.00 LLCD",
      "on the ledger, not on the statement: issue of 300.00 LLCD at block " +
        `${report.ledgerOnly[0].block} (reference ${third.bankRef.slice(0, 10)}…)`,
      "amount differs: entry NTRY-1 (E2E-IN-1) is 5,305.00 LLCD, the ledger's issue 5,000.00 LLCD",
    ]);
  });

  it("counts a dropped deposit against the closing balance too, to the wei", async function () {
    const f = await loadFixture(monthFixture);
    const [first, second, third, fourth] = f.statement.entries;
    const { code, dir } = await reconcileFile(f, writeCamt053(statementOf(f.statement, [first, second, fourth]), 18));
    expect(code).to.equal(1);
    const report = await reportOf(dir);
    expect(report.ledgerOnly.map((m) => m.bankRef)).to.deep.equal([third.bankRef]);
    expect(BigInt(report.balance.difference)).to.equal(-third.amount);
  });

  it("reports a bank reference booked twice, and a credit the ledger redeemed", async function () {
    const f = await loadFixture(monthFixture);
    const [first, second, third, fourth] = f.statement.entries;
    const twice = { ...second, entryId: "NTRY-2B", direction: "debit" as const };
    const flipped = { ...fourth, direction: "credit" as const };
    const { code, dir } = await reconcileFile(
      f,
      writeCamt053(statementOf(f.statement, [first, second, twice, third, flipped]), 18),
    );
    expect(code).to.equal(1);
    const report = await reportOf(dir);
    expect(report.duplicates.map((d) => d.entries)).to.deep.equal([["NTRY-2", "NTRY-2B"]]);
    expect(report.mismatched.map((m) => [m.entry.entryId, m.what])).to.deep.equal([["NTRY-4", "direction"]]);
  });

  it("matches only the statement's own bank's movements, whatever references another bank's carry", async function () {
    const f = await loadFixture(monthFixture);
    // A second bank issues under the same end-to-end id as one of the first bank's deposits: not this account's money.
    await f.suite.contracts.alliance.admitMember(f.otherBank, Role.CustodyBank, id("second bank licence"));
    const other = new CustodyClient(String(f.custody.contract.target), f.otherBank);
    await other.registerAccount(toAddress(f.otherBank.address), toHash32(id("its own account")));
    await other.issue(toAddress(f.otherBank.address), 7n * UNIT, "E2E-IN-1");
    const to = new Date((await time.latest()) * 1000).toISOString();
    const { code, err, dir } = await reconcileFile(f, writeCamt053({ ...f.statement, to }, 18));
    expect(code, err).to.equal(0);
    const report = await reportOf(dir);
    expect(report.ledger.bank).to.equal(toAddress(f.bank.address));
    expect(BigInt(report.ledger.supply)).to.equal(6_607n * UNIT + UNIT / 4n);
  });

  it("reports an entry without a payment reference (a bank charge) as on the statement only", async function () {
    const f = await loadFixture(monthFixture);
    const fee: StatementEntry = { ...f.statement.entries[0], entryId: "NTRY-FEE", direction: "debit", amount: UNIT };
    const withFee = statementOf(f.statement, [
      ...f.statement.entries,
      { ...fee, endToEndId: "", bankRef: NO_BANK_REF },
    ]);
    const xml = writeCamt053(withFee, 18).replace("<EndToEndId></EndToEndId>", "<EndToEndId>NOTPROVIDED</EndToEndId>");
    const { code, dir } = await reconcileFile(f, xml);
    expect(code).to.equal(1);
    const report = await reportOf(dir);
    expect(report.statementOnly.map((e) => e.entryId)).to.deep.equal(["NTRY-FEE"]);
  });

  it("reads a camt.053.001.02 statement, whose entry status is a plain code", async function () {
    const f = await loadFixture(monthFixture);
    const v02 = writeCamt053(f.statement, 18)
      .replace("camt.053.001.08", "camt.053.001.02")
      .replace(/<Sts><Cd>BOOK<\/Cd><\/Sts>/g, "<Sts>BOOK</Sts>");
    const { code, err } = await reconcileFile(f, v02);
    expect(code, err).to.equal(0);
  });

  it("calls an issue made before its credit was booked a break of date", async function () {
    const f = await loadFixture(monthFixture);
    const [first, ...rest] = f.statement.entries;
    const later = { ...first, bookingDate: addDays(first.bookingDate, 1) };
    const shifted = { ...f.statement, to: new Date(Date.parse(f.statement.to) + 2 * 86_400_000).toISOString() };
    await time.increase(3 * 86_400);
    const { code, dir } = await reconcileFile(f, writeCamt053({ ...shifted, entries: [later, ...rest] }, 18));
    expect(code).to.equal(1);
    const report = await reportOf(dir);
    expect(report.mismatched.map((m) => [m.entry.entryId, m.what])).to.deep.equal([["NTRY-1", "date"]]);
  });

  describe("refuses a statement it cannot trust, in one sentence, writing nothing", function () {
    const cases: [string, (s: Statement) => string, RegExp][] = [
      ["malformed XML", (s) => writeCamt053(s, 18).replace("</Stmt>", ""), /not well-formed XML/],
      ["another currency", (s) => writeCamt053({ ...s, currency: "USD" }, 18), /in USD, the ledger's money in CNY/],
      [
        "another account",
        (s) => writeCamt053({ ...s, account: "CN9999" }, 18),
        /of account CN9999, not the custody account CN1234567890123456789/,
      ],
      [
        "an entry id twice",
        (s) => writeCamt053(statementOf(s, [...s.entries, { ...s.entries[0], endToEndId: "E2E-X" }]), 18),
        /entry id NTRY-1 appears twice/,
      ],
      [
        "balances that do not add up",
        (s) => writeCamt053({ ...s, closing: s.closing + UNIT / 100n }, 18),
        /does not add up/,
      ],
      [
        "an account no custody bank declared",
        (s) => writeCamt053({ ...s, account: "CN00UNDECLARED" }, 18),
        /(not the custody account|no custody bank's declared custody account)/,
      ],
      [
        "an entry booked outside its period",
        (s) =>
          writeCamt053({ ...s, entries: [{ ...s.entries[0], bookingDate: "2001-01-01" }, ...s.entries.slice(1)] }, 18),
        /booked 2001-01-01, outside the statement's period/,
      ],
      [
        "a date that does not exist",
        (s) => writeStatementCsv(s, 18).replace(/^(NTRY-1,)[0-9-]+/m, "$12027-02-30"),
        /"2027-02-30" is not a date/,
      ],
      [
        "a message that is no statement",
        () => '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>',
        /not a camt\.053 statement/,
      ],
    ];
    for (const [what, write, reason] of cases) {
      it(what, async function () {
        const f = await loadFixture(monthFixture);
        const { code, err, dir } = await reconcileFile(f, write(f.statement));
        expect(code).to.equal(1);
        expect(err.split("\n")).to.have.length(1);
        expect(err).to.match(reason);
        expect(await readdir(dir).catch(() => [])).to.deep.equal([]);
      });
    }

    it("a period that overlaps one already reconciled", async function () {
      const f = await loadFixture(monthFixture);
      const first = await reconcileFile(f, writeCamt053(f.statement, 18));
      expect(first.code, first.err).to.equal(0);
      const again = join(first.dir, "..", "again.xml");
      await writeFile(again, writeCamt053({ ...f.statement, statementId: "STMT-AGAIN" }, 18));
      const lines: string[] = [];
      const code = await main(
        ["custody", "reconcile", again, "--out", first.dir],
        { out: () => undefined, err: (l) => lines.push(l) },
        async () => contextFor(f.suite.connect(f.bank), { allianceKeyHex: KEY_HEX, custodyAccount: ACCOUNT }),
      );
      expect(code).to.equal(1);
      expect(lines.join("\n")).to.match(/overlaps statement STMT-2027-06/);
      expect((await readdir(first.dir)).filter((n) => n.includes("STMT-AGAIN"))).to.deep.equal([]);
    });
  });

  it("refuses a statement that leaves a gap after the last one reconciled", async function () {
    const f = await loadFixture(monthFixture);
    const first = await reconcileFile(f, writeCamt053(f.statement, 18));
    expect(first.code, first.err).to.equal(0);
    const later = new Date(Date.parse(f.statement.to) + 86_400_000).toISOString();
    const gap = writeCamt053(
      { ...f.statement, statementId: "STMT-LATER", from: later, to: later, entries: [], opening: f.statement.closing },
      18,
    );
    const file = join(first.dir, "..", "later.xml");
    await writeFile(file, gap);
    const lines: string[] = [];
    const code = await main(
      ["custody", "reconcile", file, "--out", first.dir],
      { out: () => undefined, err: (l) => lines.push(l) },
      async () => contextFor(f.suite.connect(f.bank), { allianceKeyHex: KEY_HEX, custodyAccount: ACCOUNT }),
    );
    expect(code).to.equal(1);
    expect(lines.join("\n")).to.match(/reconcile the statements between first/);
  });

  it("throws StatementError for what it refuses, so that callers can tell a bad statement from a break", function () {
    expect(() => parseStatement("", 18)).to.throw(StatementError, /empty/);
  });
});
