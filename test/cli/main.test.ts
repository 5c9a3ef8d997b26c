import { expect } from "chai";
import { id } from "ethers";
import { DAY, deployAllianceFixture, loadFixture, time } from "../fixtures.js";
import { anchorWithCli, loanEntry, run, termsFile } from "./helpers.js";

describe("loanledger CLI", function () {
  it("admits a member and lists it, as governance", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const added = await run(f, f.governance, ["member", "add", f.outsider.address, "--roles", "insurer"]);
    expect(added).to.include({ code: 0, err: "" });
    const list = await run(f, f.governance, ["member", "list", "--json"]);
    const members = JSON.parse(list.out) as { account: string; roles: string[] }[];
    expect(members.at(-1)).to.include({ account: f.outsider.address }).and.have.deep.property("roles", ["Insurer"]);
  });

  it("hashes a text metadata argument, and takes a KYC expiry as unix seconds", async function () {
    const f = await loadFixture(deployAllianceFixture);
    expect(
      await run(f, f.governance, [
        "member",
        "add",
        f.outsider.address,
        "--roles",
        "auditor",
        "--metadata",
        "Audit LLP",
      ]),
    ).to.have.property("code", 0);
    expect((await f.alliance.memberOf(f.outsider)).metadataHash).to.equal(id("Audit LLP"));
    const expiry = (await time.latest()) + 30 * DAY;
    const allowed = await run(f, f.platformA, ["lender", "allow", f.outsider.address, "--kyc-expiry", String(expiry)]);
    expect(allowed, allowed.err).to.have.property("code", 0);
    expect((await f.alliance.lenderOf(f.outsider)).kycExpiry).to.equal(expiry);
  });

  it("hands an expelled platform's book to the successor governance names, loan by loan", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const first = await anchorWithCli(f, "S-1");
    const second = await anchorWithCli(f, "S-2");
    expect((await run(f, f.governance, ["member", "expel", f.platformA.address])).code).to.equal(0);
    const refused = await run(f, f.platformB, ["member", "successor", f.platformA.address, f.platformB.address]);
    expect(refused.err).to.match(/^error: LoanRegistryNotGovernance: /);
    const named = await run(f, f.governance, ["member", "successor", f.platformA.address, f.platformB.address]);
    expect(named.code, named.err).to.equal(0);
    const taken = await run(f, f.outsider, ["loan", "take-over", f.platformA.address, "--json"]);
    expect(taken.code, taken.err).to.equal(0);
    expect((JSON.parse(taken.out) as { handedOver: string[] }).handedOver).to.have.length(2);
    for (const loanId of [first, second]) {
      const history = await run(f, f.auditor, ["loan", "history", loanId]);
      expect(history.out).to.include(`servicing handed over from ${f.platformA.address} to ${f.platformB.address}`);
    }
    // Run again, it finds nothing left to hand over.
    expect((await run(f, f.outsider, ["loan", "take-over", f.platformA.address])).out).to.match(/^handed 0 loan/);
  });

  it("refuses to take over the loans of an account that is not a platform, or of one without a standing successor", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const stranger = await run(f, f.outsider, ["loan", "take-over", f.outsider.address]);
    expect(stranger).to.include({ code: 1, out: "" });
    expect(stranger.err).to.equal(`error: ${f.outsider.address} is not a platform of the alliance`);
    const unnamed = await run(f, f.outsider, ["loan", "take-over", f.platformB.address]);
    expect(unnamed.code).to.equal(1);
    expect(unnamed.err).to.equal(
      `error: ${f.platformB.address} has no standing successor (it is active): governance appoints one with ` +
        "`loanledger member successor`",
    );
  });

  it("prints one line naming the contract error, and exits 1, for a wrong role", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const result = await run(f, f.platformA, ["member", "suspend", f.platformB.address]);
    expect(result.code).to.equal(1);
    expect(result.err.split("\n")).to.have.length(1);
    expect(result.err).to.match(/^error: AccessControlUnauthorizedAccount: 0x[0-9a-fA-F]{40} lacks the role/);
  });

  it("answers --json without a command with a JSON error on stderr, not the usage", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const result = await run(f, f.governance, ["--json"]);
    expect(result).to.deep.equal({
      code: 1,
      out: "",
      err: JSON.stringify({ error: { code: "USAGE", message: "no command given; run loanledger --help" } }),
    });
    expect((await run(f, f.governance, [])).out).to.match(/^usage: loanledger /);
  });

  it("rejects bad arguments before touching the chain", async function () {
    const f = await loadFixture(deployAllianceFixture);
    for (const argv of [
      ["member", "add", "not-an-address", "--roles", "platform"],
      ["member", "add", f.outsider.address, "--roles", "banker"],
      ["loan", "show", "xyz"],
      ["loan", "fly"],
      ["loan", "anchor"],
      ["--bogus"],
    ]) {
      const result = await run(f, f.governance, argv);
      expect(result.code, argv.join(" ")).to.equal(1);
      expect(result.err.split("\n"), argv.join(" ")).to.have.length(1);
      expect(result.err).to.match(/^error: /);
    }
  });

  it("anchors a loan from a terms file, hashing the national id locally, then shows its schedule and history", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const anchored = await run(f, f.platformA, [
      "loan",
      "anchor",
      "--file",
      await termsFile(loanEntry("CLI-1")),
      "--json",
    ]);
    expect(anchored.code, anchored.err).to.equal(0);
    const [loanId] = (JSON.parse(anchored.out) as { loanIds: string[] }).loanIds;

    const shown = await run(f, f.platformA, ["loan", "show", loanId]);
    expect(shown.out).to.include("Funding (funding not opened yet)").and.include("50,000.00 LLST");
    // The terms a borrower and an operator ask about, written as dates and durations.
    expect(shown.out)
      .to.match(/platform's reference +0x[0-9a-f]{64} \(the hash of its text: loan find --ref <text>\)/)
      .and.match(/funding deadline +\d{4}-\d\d-\d\dT[\d:]+\+08:00/)
      .and.match(/grace period +3 days/)
      .and.match(/late fee +15% a year of late interest, per started day overdue/)
      .and.match(/default after +60 days overdue/);
    const plan = await run(f, f.platformA, ["loan", "schedule", loanId, "--json"]);
    expect(JSON.parse(plan.out)).to.have.length(6);
    // A file of several loans shows each of them, not the first alone.
    const book = await termsFile([loanEntry("CLI-2"), loanEntry("CLI-3")]);
    const both = await run(f, f.platformA, ["loan", "schedule", "--file", book]);
    expect(both.code, both.err).to.equal(0);
    expect(both.out)
      .to.match(/^loan 1 of 2: 0x[0-9a-f]{64}\n/)
      .and.match(/\n\nloan 2 of 2: 0x[0-9a-f]{64}\n/);
    const bothJson = JSON.parse((await run(f, f.platformA, ["loan", "schedule", "--file", book, "--json"])).out);
    expect(bothJson).to.have.length(2);
    expect(bothJson[1].rows).to.have.length(6);
    expect((await run(f, f.platformA, ["loan", "activate", loanId])).out).to.include("is now Active");
    const history = await run(f, f.auditor, ["loan", "history", loanId]);
    expect(history.code).to.equal(0);
    expect(history.out).to.include("matches the on-chain head");
    // The same hex form as loan anchor --json printed it, not the id as a number.
    const json = await run(f, f.auditor, ["loan", "history", loanId, "--json"]);
    expect(JSON.parse(json.out)).to.include({ loanId, verified: true });
  });

  it("anchors a batch all or nothing, naming the bad item", async function () {
    const f = await loadFixture(deployAllianceFixture);
    // The schema allows 400 installments; the registry's bounds do not.
    const bad = { ...loanEntry("CLI-3"), installments: 400 };
    const before = await f.loans.runner!.provider!.getBlockNumber();
    const result = await run(f, f.platformA, ["loan", "anchor", "--file", await termsFile([loanEntry("CLI-2"), bad])]);
    expect(result.code).to.equal(1);
    expect(result.err).to.equal(
      "error: loan 2 of the file would be refused, so nothing was anchored: " +
        "LoanRegistryTermOutOfBounds: Installments is 400, outside [1, 360]",
    );
    expect(await f.loans.runner!.provider!.getBlockNumber()).to.equal(before);
  });

  it("reports a bad terms file in one line", async function () {
    const f = await loadFixture(deployAllianceFixture);
    const result = await run(f, f.platformA, [
      "loan",
      "anchor",
      "--file",
      await termsFile({ ...loanEntry("x"), schedule: "weekly" }),
    ]);
    expect(result.code).to.equal(1);
    expect(result.err).to.match(/^error: .*schedule must be one of equal-installment/);
  });
});
