import { expect } from "chai";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MaxUint256, ZeroAddress, ZeroHash } from "ethers";
import { formatLoanId, loanIdOf, toLoanId, type AuditSources, type EventRecord } from "../../src/client/index.js";
import {
  collectLedger,
  proveExport,
  readExport,
  verifyExport,
  verifyLedger,
  writeExport,
  type LedgerExport,
} from "../../src/audit/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, termsFor, time } from "../fixtures.js";

const UNIT = 10n ** 18n;

/**
 * Three lenders fund a loan (one of them twice the others), it is repaid twice, a lender sells half its shares, a
 * keeper pushes payouts, a lender claims; a second loan is cancelled and its commitments refunded by a payout and a
 * claim. Exported at the end.
 */
async function lendersFixture() {
  const f = await deployAllianceFixture();
  const signers = await ethers.getSigners();
  const [lender2, lender3, borrower, payer, keeper] = signers.slice(12, 17);
  const lenders = [f.lender, lender2, lender3];
  const kycExpiry = (await time.latest()) + 365 * DAY;
  for (const account of [lender2, lender3]) await f.alliance.connect(f.platformA).allowLender(account, kycExpiry);
  for (const account of [...lenders, payer]) {
    await f.token.mint(account, 1_000_000n * UNIT);
    await f.token.connect(account).approve(f.splitter, MaxUint256);
  }
  const config = {
    borrowerPayout: borrower.address,
    insurer: ZeroAddress,
    platformFeeBps: 100,
    premiumBps: 0,
    reserveBps: 50,
  };
  const funded = await termsFor(f.platformA, { principal: 40_000n * UNIT });
  const cancelled = await termsFor(f.platformA, { principal: 50_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoans([funded, cancelled]);
  for (const terms of [funded, cancelled]) await f.splitter.connect(f.platformA).openFunding(terms, config);

  await f.splitter.connect(f.lender).fund(funded, 20_000n * UNIT);
  await f.splitter.connect(lender2).fund(funded, 10_000n * UNIT);
  await f.splitter.connect(lender3).fund(funded, 10_000n * UNIT);
  await f.splitter.connect(lender2).fund(cancelled, 7_000n * UNIT);
  await f.splitter.connect(lender3).fund(cancelled, 3_000n * UNIT);
  await f.splitter.connect(f.platformA).cancelFunding(cancelled);

  const fundedId = loanIdOf(funded);
  const everyone = lenders.map((l) => l.address);
  const repay = async () => {
    await time.increase(30 * DAY);
    const [, total] = await f.splitter.amountDue(funded);
    await f.splitter.connect(payer).repayLoan(funded, total, ZeroHash);
  };
  await repay();
  await f.splitter.connect(keeper).payout(fundedId, everyone);
  await repay();
  await f.splitter.connect(f.lender).transferShare(fundedId, lender3, 10_000n * UNIT);
  await repay();
  await f.splitter.connect(lender2).claim([fundedId, loanIdOf(cancelled)], lender2);
  await f.splitter.connect(keeper).payout(fundedId, everyone);
  await f.splitter.connect(keeper).payout(loanIdOf(cancelled), [lender3.address]);

  const sources: AuditSources = {
    loans: f.clientFor(f.auditor).loans,
    alliance: f.alliance,
    splitter: f.splitter,
    collateral: f.collateral,
    insurance: f.insurance,
    reserve: f.reserve,
    waterfall: f.waterfall,
  };
  const dir = await mkdtemp(join(tmpdir(), "loanledger-lenders-"));
  await writeExport(dir, await collectLedger(sources));
  return {
    ...f,
    lenders,
    dir,
    funded: formatLoanId(fundedId),
    cancelled: formatLoanId(loanIdOf(cancelled)),
  };
}

type Fixture = Awaited<ReturnType<typeof lendersFixture>>;

/** A copy of the export with money.jsonl rewritten by `change`, and a fresh manifest, as a forger would write it. */
async function forged(f: Fixture, change: (money: EventRecord[]) => void): Promise<LedgerExport> {
  const ledger = await readExport(f.dir);
  change(ledger.money);
  const copy = await mkdtemp(join(tmpdir(), "loanledger-forged-"));
  await writeExport(copy, ledger);
  return readExport(copy);
}

/** The `n`-th (0-based) money event named `event` of `loanId`. */
function nth(money: EventRecord[], loanId: string, event: string, n = 0): EventRecord {
  const found = money.filter((r) => r.event === event && formatLoanId(toLoanId(String(r.args.loanId))) === loanId)[n];
  expect(found, `${event} #${n} of ${loanId}`).to.not.equal(undefined);
  return found;
}

const findingsOf = (report: Awaited<ReturnType<typeof verifyLedger>>) =>
  report.findings.map((x) => [x.check, x.loanId]);

describe("audit: every lender's position replayed", function () {
  it("verifies an honest export with commitments, payouts, a share transfer, claims and refunds", async function () {
    const f = await loadFixture(lendersFixture);
    const ledger = await readExport(f.dir);
    const report = await verifyLedger(ledger, { proof: await proveExport(ledger, ethers.provider) });
    expect(report.findings).to.deep.equal([]);
    expect(report.checks).to.have.property("position");
    // The streamed verification agrees.
    expect((await verifyExport(f.dir)).findings).to.deep.equal([]);
  });

  it("names the payout whose lender was changed, through its history fact and the replay", async function () {
    const f = await loadFixture(lendersFixture);
    const ledger = await forged(f, (money) => {
      const payout = nth(money, f.funded, "PayoutsPushed", 1);
      // lender2 (10 000 shares) and lender3 (15 000 after the transfer): swap them in the batch.
      const batch = String(payout.args.batch).slice(2);
      payout.args.batch = "0x" + batch.slice(0, 40) + batch.slice(80, 120) + batch.slice(40, 80);
    });
    const report = await verifyLedger(ledger);
    expect(report.ok).to.equal(false);
    expect(findingsOf(report)).to.deep.include(["fact", f.funded]);
    expect(report.findings.every((x) => x.loanId === f.funded)).to.equal(true);
  });

  it("names the payout whose lender was replaced by an outsider, from the replay alone", async function () {
    const f = await loadFixture(lendersFixture);
    const ledger = await forged(f, (money) => {
      const payout = nth(money, f.funded, "PayoutsPushed", 0);
      const batch = String(payout.args.batch).slice(2);
      payout.args.batch = "0x" + batch.slice(0, 40) + f.outsider.address.slice(2).toLowerCase() + batch.slice(80);
    });
    // Without the splitter's address the facts are not checked: the replay still names the payout.
    const report = await verifyLedger({ ...ledger, contracts: { ...ledger.contracts, RepaymentSplitter: "" } });
    const position = report.findings.filter((x) => x.check === "position");
    expect(position.map((x) => x.loanId)).to.include(f.funded);
    expect(position[0].message).to.match(/the payout paid \d+, but the lenders its batch names were owed \d+/);
  });

  it("replays a failed transfer: the lender keeps its payout, and the next payout pays it", async function () {
    const f = await loadFixture(lendersFixture);
    const lender3 = f.lenders[2].address.toLowerCase();
    let owed = 0n;
    // The ledger as it would read had lender3's transfer failed in the first payout (facts left unchecked: the
    // splitter's address is left out, since the history hashes the payouts as they really were).
    const ledger = await forged(f, (money) => {
      const first = nth(money, f.funded, "PayoutsPushed", 0);
      const second = nth(money, f.funded, "PayoutsPushed", 1);
      // lender3 holds a quarter of the shares at the first payout.
      owed = BigInt(String(first.args.paid)) / 4n;
      first.args.paid = String(BigInt(String(first.args.paid)) - owed);
      first.args.skipped = "1";
      second.args.paid = String(BigInt(String(second.args.paid)) + owed);
      money.splice(money.indexOf(first), 0, {
        ...first,
        event: "PayoutSkipped",
        args: { loanId: first.args.loanId, lender: lender3, amount: String(owed) },
        logIndex: first.logIndex - 1,
      });
    });
    const unchecked = { ...ledger, contracts: { ...ledger.contracts, RepaymentSplitter: "" } };
    // Without the splitter the fact check cannot run: the report says so, and names the manifest's gap.
    const report = await verifyLedger(unchecked);
    expect(report.findings.map((x) => [x.check, x.file])).to.deep.equal([["manifest", "manifest.json"]]);
    expect(report.notRun.fact).to.include("RepaymentSplitter");
    expect(report.checks).to.not.have.property("fact");
    // A failure the export states with another amount than the lender was owed is named.
    const [skip] = unchecked.money.filter((r) => r.event === "PayoutSkipped");
    skip.args.amount = String(owed - 1n);
    expect((await verifyLedger(unchecked)).findings.map((x) => x.message)).to.deep.include(
      `the payout to ${lender3} that failed states ${owed - 1n}, but it was owed ${owed}`,
    );
  });

  it("names the payout whose amount was changed", async function () {
    const f = await loadFixture(lendersFixture);
    const ledger = await forged(f, (money) => {
      const payout = nth(money, f.funded, "PayoutsPushed", 0);
      payout.args.paid = String(BigInt(String(payout.args.paid)) + 1n);
    });
    const report = await verifyLedger(ledger);
    expect(findingsOf(report)).to.deep.include.members([
      ["fact", f.funded],
      ["position", f.funded],
    ]);
  });

  it("names a claim whose lender or amount was changed", async function () {
    const f = await loadFixture(lendersFixture);
    for (const change of [
      (claim: EventRecord) => (claim.args.lender = f.lender.address),
      (claim: EventRecord) => (claim.args.amount = String(BigInt(String(claim.args.amount)) - 1n)),
    ]) {
      const ledger = await forged(f, (money) => change(nth(money, f.funded, "Claimed")));
      const report = await verifyLedger(ledger);
      const position = report.findings.filter((x) => x.check === "position");
      expect(position.map((x) => x.loanId)).to.include(f.funded);
      expect(position[0].message).to.match(/claimed \d+, but its replayed position was owed \d+/);
    }
  });

  it("names a commitment whose lender or amount was changed, and a refund that does not match it", async function () {
    const f = await loadFixture(lendersFixture);
    const lender = await forged(
      f,
      (money) => (nth(money, f.cancelled, "Committed", 1).args.lender = f.outsider.address),
    );
    expect(findingsOf(await verifyLedger(lender))).to.deep.include(["position", f.cancelled]);
    const amount = await forged(f, (money) => {
      const commitment = nth(money, f.funded, "Committed", 2);
      commitment.args.amount = String(BigInt(String(commitment.args.amount)) + UNIT);
    });
    const report = await verifyLedger(amount);
    expect(findingsOf(report)).to.deep.include(["position", f.funded]);
    expect(report.findings.map((x) => x.message).join("\n")).to.match(/brings the commitments to/);
  });

  it("names a lender renamed consistently in every event, once the positions are proven at the export's block", async function () {
    const f = await loadFixture(lendersFixture);
    const lender2 = f.lenders[1].address;
    const ledger = await forged(f, (money) => {
      // lender2's commitment to the cancelled loan and its refund, both given to an outsider: the replay holds.
      nth(money, f.cancelled, "Committed", 0).args.lender = f.outsider.address;
      nth(money, f.cancelled, "Claimed", 0).args.lender = f.outsider.address;
    });
    const unproven = await verifyLedger(ledger);
    expect(unproven.findings).to.deep.equal([]);
    expect(unproven.positions).to.deep.equal({ source: "export", loans: 0 });

    const proven = await verifyLedger(ledger, { proof: await proveExport(ledger, ethers.provider) });
    expect(proven.positions).to.deep.equal({ source: "chain", loans: 2 });
    expect(findingsOf(proven)).to.deep.equal([["position", f.cancelled]]);
    expect(proven.findings[0].message).to.include(`the splitter lists the lenders ${lender2.toLowerCase()}`);
    // The streamed verification, proven against the node, says the same, and names both rewritten records.
    const dir = await mkdtemp(join(tmpdir(), "loanledger-renamed-"));
    await writeExport(dir, ledger);
    const streamed = await verifyExport(dir, { provider: ethers.provider });
    expect(findingsOf(streamed)).to.deep.equal([
      ["proof", f.cancelled],
      ["proof", f.cancelled],
      ["position", f.cancelled],
    ]);
    expect(streamed.findings.slice(0, 2).map((x) => x.message)).to.satisfy((messages: string[]) =>
      messages.every((m) => m.includes(`args.lender is "${f.outsider.address}" in the export, "${lender2}" on chain`)),
    );
  });

  it("names a share transfer from a lender that did not hold the shares", async function () {
    const f = await loadFixture(lendersFixture);
    const ledger = await forged(
      f,
      (money) => (nth(money, f.funded, "ShareTransferred").args.from = f.outsider.address),
    );
    const report = await verifyLedger(ledger);
    expect(report.findings.map((x) => x.message).join("\n")).to.match(/moved \d+ shares to .* but holds 0/);
  });

  it("names a payout left out of the history: an invented payout has no fact", async function () {
    const f = await loadFixture(lendersFixture);
    const ledger = await forged(f, (money) => {
      const payout = nth(money, f.funded, "PayoutsPushed", 1);
      // A second copy of the last payout, in a transaction of its own.
      money.push({ ...payout, transactionHash: "0x" + "ee".repeat(32), logIndex: payout.logIndex + 1000 });
    });
    const report = await verifyLedger(ledger);
    expect(report.findings.map((x) => [x.check, x.message])).to.deep.include([
      "fact",
      `the payout of ${String(nth(ledger.money, f.funded, "PayoutsPushed", 1).args.paid)} has no fact in the loan's history in its transaction`,
    ]);
  });
});
