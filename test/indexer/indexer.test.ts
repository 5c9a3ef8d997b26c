import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MaxUint256, ZeroHash } from "ethers";
import { formatLoanId, loanIdOf, LOAN_STATUS_NAMES, LoanStatus } from "../../src/client/index.js";
import {
  ChainChangedError,
  Indexer,
  LoanProver,
  SqliteStore,
  indexSourcesAt,
  owesPrincipal,
} from "../../src/indexer/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, networkHelpers, termsFor, time } from "../fixtures.js";

const UNIT = 10n ** 18n;

/** A loan repaid twice on the registry, and a loan funded by the lender, repaid twice and paid out, through the splitter. */
async function indexedLedgerFixture() {
  const f = await deployAllianceFixture();
  const direct = await termsFor(f.platformA);
  const funded = await termsFor(f.platformA, { principal: 10_000n * UNIT });
  const loans = f.loans.connect(f.platformA);
  await loans.anchorLoans([direct, funded]);
  await loans.activateLoan(direct);
  await f.splitter.connect(f.platformA).openFunding(funded, {
    borrowerPayout: f.outsider.address,
    insurer: "0x0000000000000000000000000000000000000000",
    platformFeeBps: 100,
    premiumBps: 0,
    reserveBps: 50,
  });
  await f.token.mint(f.lender, 10_000n * UNIT);
  await f.token.connect(f.lender).approve(f.splitter, MaxUint256);
  await f.splitter.connect(f.lender).fund(funded, 10_000n * UNIT);
  const middle = await ethers.provider.getBlockNumber();
  for (let month = 0; month < 2; month += 1) {
    await time.increase(30 * DAY);
    const due = await loans.nextPayment(direct);
    await loans.recordPayment(direct, due.principal + due.interest, ZeroHash);
    const [, total] = await f.splitter.amountDue(funded);
    await f.token.mint(f.platformB, total);
    await f.token.connect(f.platformB).approve(f.splitter, total);
    await f.splitter.connect(f.platformB).repayLoan(funded, total, ZeroHash);
  }
  await f.splitter.payout(loanIdOf(funded), [f.lender.address]);
  const sources = indexSourcesAt(f.suite.addresses, f.auditor);
  return {
    ...f,
    sources,
    middle,
    direct: formatLoanId(loanIdOf(direct)),
    funded: formatLoanId(loanIdOf(funded)),
  };
}

describe("Indexer", function () {
  let dir: string;
  const stores: SqliteStore[] = [];
  const open = (name: string) => {
    const store = new SqliteStore(join(dir, name));
    stores.push(store);
    return store;
  };

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), "loanledger-index-"));
  });

  afterEach(async function () {
    for (const store of stores.splice(0)) {
      try {
        store.close();
      } catch {
        // Closed by the test already.
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  describe("sync", function () {
    it("derives loans, positions and payouts that match the contracts' own reads", async function () {
      const f = await loadFixture(indexedLedgerFixture);
      const store = open("index.db");
      const result = await new Indexer(store, ethers.provider, f.sources).sync();
      expect(result.events).to.be.greaterThan(10);

      const funded = store.loan(f.funded)!;
      const book = await f.splitter.bookOf(f.funded);
      expect(funded.committed).to.equal(book.committed.toString());
      expect(funded.lendersIn).to.equal(book.lendersIn.toString());
      for (const loanId of [f.direct, f.funded]) {
        const indexed = store.loan(loanId)!;
        const state = await f.loans.loanState(loanId);
        expect(indexed.status).to.equal(Number(state.status));
        expect(indexed.installmentsPaid).to.equal(Number(state.installmentsPaid));
        expect(indexed.activatedAt).to.equal(Number(state.activatedAt));
        expect(indexed.outstanding).to.equal(state.outstandingPrincipal.toString());
        expect(indexed.documentVersion).to.equal(Number(state.documentVersion));
        expect(indexed.head).to.equal(await f.loans.historyHead(loanId));
      }
      expect(store.loan(f.direct)!.status).to.equal(LoanStatus.Active);

      const [position] = store.positionsOf(f.lender.address);
      const onChain = await f.splitter.positionOf(f.funded, f.lender.address);
      expect(position.shares).to.equal(onChain.shares.toString());
      const payouts = store.payoutsTo(f.lender.address);
      expect(payouts).to.have.length(1);
      expect(BigInt(position.received)).to.equal(book.lendersPaid);
      expect(payouts[0].amount).to.equal(book.lendersPaid.toString());
    });

    it("commits nothing new when the index is at the head", async function () {
      const f = await loadFixture(indexedLedgerFixture);
      const indexer = new Indexer(open("index.db"), ethers.provider, f.sources);
      await indexer.sync();
      const again = await indexer.sync();
      expect(again.events).to.equal(0);
      expect(again.from).to.be.greaterThan(again.to);
    });
  });

  describe("restart and rebuild", function () {
    it("resumes from the last committed block and ends with the tables a rebuild from scratch gives", async function () {
      const f = await loadFixture(indexedLedgerFixture);
      const first = open("resumed.db");
      await new Indexer(first, ethers.provider, f.sources).sync(f.middle);
      expect(first.state()!.last!.number).to.equal(f.middle);
      first.close();

      // A new process opens the same file: it carries on after block `middle`, and reads no block twice.
      const reopened = open("resumed.db");
      const resumed = await new Indexer(reopened, ethers.provider, f.sources).sync();
      expect(resumed.from).to.equal(f.middle + 1);

      const scratch = open("scratch.db");
      await new Indexer(scratch, ethers.provider, f.sources).sync();
      expect(reopened.dump()).to.deep.equal(scratch.dump());

      const rebuilt = new Indexer(reopened, ethers.provider, f.sources);
      await rebuilt.rebuild();
      expect(reopened.dump()).to.deep.equal(scratch.dump());
    });
  });

  it("counts as owing principal every loan status but the two never disbursed (its numbers are the enum's)", function () {
    for (const status of Object.values(LoanStatus)) {
      expect(owesPrincipal(status), LOAN_STATUS_NAMES[status]).to.equal(
        status !== LoanStatus.Funding && status !== LoanStatus.Cancelled,
      );
    }
  });

  describe("a changed chain", function () {
    it("refuses to go on when the last committed block is no longer the node's, and says so", async function () {
      const f = await loadFixture(indexedLedgerFixture);
      const snapshot = await networkHelpers.takeSnapshot();
      await f.loans.connect(f.platformA).anchorLoans([await termsFor(f.platformA)]);
      const store = open("index.db");
      const indexer = new Indexer(store, ethers.provider, f.sources);
      await indexer.sync();
      const before = store.dump();
      // The node is reset to an earlier state, and another block is mined at the same height.
      await snapshot.restore();
      await f.loans.connect(f.platformB).anchorLoans([await termsFor(f.platformB)]);
      expect(await ethers.provider.getBlockNumber()).to.equal(store.state()!.last!.number);
      let thrown: unknown;
      try {
        await indexer.sync();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(ChainChangedError);
      expect((thrown as Error).message).to.match(/chain was reset or replaced/);
      expect(store.dump()).to.deep.equal(before);
    });
  });

  describe("proofs", function () {
    it("proves an indexed history against the chain's head at the index's block", async function () {
      const f = await loadFixture(indexedLedgerFixture);
      const store = open("index.db");
      await new Indexer(store, ethers.provider, f.sources).sync();
      const proof = await new LoanProver(store, ethers.provider).prove(f.funded);
      expect(proof.findings).to.deep.equal([]);
      expect(proof.proven).to.equal(true);
      expect(proof.block!.number).to.equal(store.state()!.last!.number);
      expect(proof.chainHead).to.equal(await f.loans.historyHead(f.funded));
    });

    it("no longer says a history is proven once the node was reset under the index", async function () {
      const f = await loadFixture(indexedLedgerFixture);
      const snapshot = await networkHelpers.takeSnapshot();
      await f.loans.connect(f.platformA).anchorLoans([await termsFor(f.platformA)]);
      const store = open("index.db");
      await new Indexer(store, ethers.provider, f.sources).sync();
      const prover = new LoanProver(store, ethers.provider);
      expect((await prover.prove(f.funded)).proven).to.equal(true);
      // The node is reset to an earlier state, and another block is mined at the indexed height.
      await snapshot.restore();
      await f.loans.connect(f.platformB).anchorLoans([await termsFor(f.platformB)]);
      const after = await prover.prove(f.funded);
      expect(after.proven).to.equal(false);
      expect(after.findings.join(" ")).to.match(/the node was reset or its chain reorganised/);
    });

    it("does not prove a history whose indexed facts were altered", async function () {
      const f = await loadFixture(indexedLedgerFixture);
      const store = open("index.db");
      await new Indexer(store, ethers.provider, f.sources).sync();
      // Someone with access to the database file edits an amount of a repayment.
      const db = new (await import("node:sqlite")).DatabaseSync(store.path);
      const row = db
        .prepare("SELECT block, log_index, record FROM events WHERE event = 'RepaymentRecorded' AND loan_id = ?")
        .get(f.direct) as {
        block: number;
        log_index: number;
        record: string;
      };
      const record = JSON.parse(row.record);
      record.fact.amount = (BigInt(record.fact.amount) + 1n).toString();
      db.prepare("UPDATE events SET record = ? WHERE block = ? AND log_index = ?").run(
        JSON.stringify(record),
        row.block,
        row.log_index,
      );
      db.close();
      const proof = await new LoanProver(store, ethers.provider).prove(f.direct);
      expect(proof.proven).to.equal(false);
      expect(proof.findings.join(" ")).to.match(/does not produce its recorded head|parts add up/);
    });
  });
});
