import { expect } from "chai";
import { id, MaxUint256 } from "ethers";
import { LoanStatus, Role, toLoanId } from "../../src/client/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, time } from "../fixtures.js";
import { anchorWithCli, run } from "./helpers.js";

const UNIT = 10n ** 18n;

/** A loan of 50 000 anchored through the CLI, with an insurer member and two allowlisted lenders holding tokens. */
async function cliLoanFixture() {
  const f = await deployAllianceFixture();
  const [insurer, lender2, borrower] = (await ethers.getSigners()).slice(7, 10);
  await f.alliance.admitMember(insurer, Role.Insurer, id("insurer licence"));
  await f.alliance.connect(f.platformA).allowLender(lender2, (await time.latest()) + 365 * DAY);
  for (const account of [f.lender, lender2, borrower]) await f.token.mint(account, 100_000n * UNIT);
  const loanId = await anchorWithCli(f, "F-1");
  return { ...f, insurer, lender2, borrower, loanId };
}

async function fundedFixture() {
  const f = await loadFixture(cliLoanFixture);
  const opened = await run(f, f.platformA, [
    "loan",
    "open-funding",
    f.loanId,
    "--payout",
    f.borrower.address,
    "--insurer",
    f.insurer.address,
    "--platform-fee-bps",
    "100",
    "--premium-bps",
    "50",
    "--reserve-bps",
    "25",
  ]);
  expect(opened.code, opened.err).to.equal(0);
  expect((await run(f, f.lender, ["loan", "fund", f.loanId, "20000"])).out).to.include(
    "20,000.00 LLST funded, Funding",
  );
  const last = await run(f, f.lender2, ["loan", "fund", f.loanId, "30000"]);
  expect(last.out).to.include("50,000.00 LLST funded, Funded");
  // The commitment that completed the funding says what followed from it.
  expect(last.out).to.match(
    /the principal, 50,000\.00 LLST, was disbursed to 0x[0-9a-fA-F]{40} and the loan is Active$/,
  );
  return f;
}

describe("loanledger CLI: funding, repayments and payouts", function () {
  it("funds a loan from two lenders, approving the splitter as needed, and activates it", async function () {
    const f = await loadFixture(fundedFixture);
    expect((await f.loans.loanState(toLoanId(f.loanId))).status).to.equal(BigInt(LoanStatus.Active));
    expect(await f.token.balanceOf(f.borrower)).to.equal(150_000n * UNIT);
    const lenders = await run(f, f.auditor, ["loan", "lenders", f.loanId, "--json"]);
    expect(JSON.parse(lenders.out)).to.have.length(2);
  });

  it("says when the next installment falls due, and in the states where nothing is due, that nothing is and why", async function () {
    const f = await loadFixture(cliLoanFixture);
    const funding = await run(f, f.borrower, ["loan", "due", f.loanId]);
    expect(funding.code, funding.err).to.equal(0);
    expect(funding.out).to.match(
      /^nothing is due on loan 0x\S+: it is still funding \(its deadline is \d{4}-\d\d-\d\dT[\d:]+\+08:00\); its first installment falls due one period after it is disbursed$/,
    );
    expect(JSON.parse((await run(f, f.borrower, ["loan", "due", f.loanId, "--json"])).out)).to.include({
      status: "Funding",
      due: null,
      total: "0",
    });
    expect((await run(f, f.platformA, ["loan", "cancel", f.loanId])).code).to.equal(0);
    expect((await run(f, f.borrower, ["loan", "due", f.loanId])).out).to.match(
      /: it was cancelled on \S+, and nothing will be$/,
    );

    const funded = await loadFixture(fundedFixture);
    const early = await run(funded, funded.borrower, ["loan", "due", funded.loanId]);
    expect(early.out).to.match(/^installment 1 of \d+ of loan \S+ falls due \S+ \(paying now pays it early\):/);
  });

  it("repays what is due through the splitter, prints the waterfall, and the keeper pushes the payouts", async function () {
    const f = await loadFixture(fundedFixture);
    await time.increase(30 * DAY);
    const due = await run(f, f.borrower, ["loan", "due", f.loanId]);
    expect(due.out).to.match(
      /^installment 1 of \d+ of loan 0x[0-9a-f]{4}…[0-9a-f]{4} fell due \d{4}-\d\d-\d\dT[\d:]+\+08:00:/,
    );
    expect(due.out).to.include("platform fee").and.include("total to pay now");
    const repaid = await run(f, f.borrower, ["loan", "repay", f.loanId]);
    expect(repaid.code, repaid.err).to.equal(0);
    expect(repaid.out).to.include("installment 1").and.include("reserve contribution");

    const owed = await run(f, f.lender, ["lender", "payouts", "--json"]);
    const owedNow = BigInt((JSON.parse(owed.out) as { owed: string }).owed);
    expect(owedNow).to.be.greaterThan(0n);
    const before = await f.token.balanceOf(f.lender);
    const keeper = await run(f, f.outsider, ["keeper", "payouts"]);
    expect(keeper.code, keeper.err).to.equal(0);
    expect(keeper.out).to.match(/paid ≈?[\d,.]+ LLST to lenders/);
    expect(await f.token.balanceOf(f.lender)).to.equal(before + owedNow);
    expect((await run(f, f.outsider, ["keeper", "payouts"])).out).to.equal("no payouts pending");
    // The lender sees what reached it, loan by loan, beside what it is still owed.
    const after = await run(f, f.lender, ["lender", "payouts"]);
    expect(after.out).to.match(/loan +status +shares +received so far +owed now/);
    expect(after.out).to.match(/ Active +20,000\.00 LLST +≈?[\d,.]+ LLST +0\.00 LLST/);
    const json = JSON.parse((await run(f, f.lender, ["lender", "payouts", "--json"])).out) as { received: string };
    expect(BigInt(json.received)).to.equal(owedNow);
    expect(after.out.split("\n").at(-1)).to.match(/received ≈?[\d,.]+ LLST so far and is owed 0\.00 LLST now, in all$/);
    expect(await run(f, f.outsider, ["keeper", "payouts", "--watch", "0"])).to.deep.equal({
      code: 1,
      out: "",
      err: "error: --watch takes the seconds between rounds: at least 1",
    });
  });

  it("lets a lender claim, sell half its share, and a payee withdraw its fees", async function () {
    const f = await loadFixture(fundedFixture);
    await time.increase(30 * DAY);
    await run(f, f.borrower, ["loan", "repay", f.loanId]);
    const claimed = await run(f, f.lender, ["loan", "claim", f.loanId, "--to", f.outsider.address]);
    expect(claimed.out).to.match(/^claimed ≈?[\d,.]+ LLST from 1 loan/);
    const moved = await run(f, f.lender, ["loan", "transfer-share", f.loanId, f.lender2.address, "10000"]);
    expect(moved.code, moved.err).to.equal(0);
    const positions = await f.splitter.positionOf(toLoanId(f.loanId), f.lender2);
    expect(positions.shares).to.equal(40_000n * UNIT);
    const fees = await run(f, f.platformA, ["fees", "show"]);
    expect(fees.out).to.match(/has ≈?[1-9][\d,.]* LLST in fees/);
    expect((await run(f, f.platformA, ["fees", "withdraw"])).out).to.match(/^withdrew ≈?[1-9]/);
  });

  it("prints one line and exits 1 for a lender not on the allowlist, a short payment, and a bad rate", async function () {
    const f = await loadFixture(cliLoanFixture);
    await run(f, f.platformA, ["loan", "open-funding", f.loanId, "--payout", f.borrower.address]);
    await f.token.mint(f.outsider, UNIT);
    const notAllowed = await run(f, f.outsider, ["loan", "fund", f.loanId, "1"]);
    expect(notAllowed.code).to.equal(1);
    expect(notAllowed.err).to.match(
      /^error: AllianceRegistryUnknownLender: 0x[0-9a-fA-F]{40} is not on the lender allowlist$/,
    );

    const funded = await loadFixture(fundedFixture);
    await time.increase(30 * DAY);
    await funded.token.connect(funded.borrower).approve(funded.splitter, MaxUint256);
    const short = await run(funded, funded.borrower, ["loan", "repay", funded.loanId, "1"]);
    expect(short.code).to.equal(1);
    expect(short.err.split("\n")).to.have.length(1);
    expect(short.err, short.err).to.match(
      /^error: RepaymentSplitterPaymentBelowDue: .*: payment 1\.00 LLST does not cover the next installment with its fees, ≈?[\d,]+\.\d{2} LLST$/,
    );
    // Under --json the message reads the same, and the error's values stay exact, in the token's smallest unit.
    const json = await run(funded, funded.borrower, ["loan", "repay", funded.loanId, "1", "--json"]);
    const { error } = JSON.parse(json.err) as { error: { message: string; args: string[] } };
    expect(error.message).to.match(/payment 1\.00 LLST does not cover/);
    expect(error.args[1]).to.equal(String(10n ** 18n));
    expect(BigInt(error.args[2])).to.be.greaterThan(10n ** 18n);

    const rate = await run(f, f.platformA, [
      "loan",
      "open-funding",
      f.loanId,
      "--payout",
      f.borrower.address,
      "--reserve-bps",
      "lots",
    ]);
    expect(rate.err).to.equal("error: --reserve-bps must be a whole number up to 10000");
  });
});
