import { expect } from "chai";
import fc from "fast-check";
import { id, MaxUint256, ZeroHash } from "ethers";
import { deployCustodySuite } from "../deploy/local.js";
import { bankReference, custodyAccountHash, loanIdOf, NO_BANK_REF, Role } from "../src/client/index.js";
import { CustodyDepositToken__factory, type CustodyDepositToken } from "../typechain-types/index.js";
import { DAY, ethers, ignition, loadFixture, pinNextBlock, termsFor, time } from "./fixtures.js";

const UNIT = 10n ** 18n;
const WINDOW = 3 * DAY;
const Status = { None: 0, Requested: 1, Redeemed: 2, Returned: 3 } as const;
const account = (name: string) => id(`bank account of ${name}`);

/** The suite settling in the custody token, with two custody banks, a platform, a lender, a borrower and a holder. */
async function custodyFixture() {
  const [governance, bank, otherBank, platform, lender, borrower, holder, outsider] = await ethers.getSigners();
  const suite = await deployCustodySuite(ignition);
  const { alliance, loans, splitter } = suite.contracts;
  const token: CustodyDepositToken = CustodyDepositToken__factory.connect(await splitter.TOKEN(), governance);
  await alliance.admitMember(bank, Role.CustodyBank, id("custody bank licence"));
  await alliance.admitMember(otherBank, Role.CustodyBank, id("second custody bank licence"));
  await alliance.admitMember(platform, Role.Platform, id("platform licence"));
  await alliance.connect(platform).allowLender(lender, (await time.latest()) + 365 * DAY);
  for (const [signer, name] of [
    [lender, "lender"],
    [holder, "holder"],
  ] as const) {
    await token.connect(bank).registerAccount(signer, account(name));
  }
  await token.connect(bank).issue(lender, 100_000n * UNIT, bankReference("E2E-DEPOSIT-LENDER"));
  await token.connect(bank).issue(holder, 1_000n * UNIT, bankReference("E2E-DEPOSIT-HOLDER"));
  await token.connect(lender).approve(splitter, MaxUint256);
  return {
    governance,
    bank,
    otherBank,
    platform,
    lender,
    borrower,
    holder,
    outsider,
    alliance,
    loans,
    splitter,
    token,
  };
}
type Fixture = Awaited<ReturnType<typeof custodyFixture>>;

/** A withdrawal of 100 by the holder, in status `status`; returns its id. */
async function withdrawalIn(f: Fixture, status: number): Promise<bigint> {
  if (status === Status.None) return 99n;
  await f.token.connect(f.holder).requestWithdrawal(100n * UNIT);
  const wid = await f.token.withdrawalCount();
  if (status === Status.Redeemed) await f.token.connect(f.bank).redeem(wid, bankReference(`E2E-OUT-${wid}`));
  if (status === Status.Returned) await f.token.connect(f.bank).returnWithdrawal(wid, id("account closed"));
  return wid;
}

describe("CustodyDepositToken", function () {
  describe("issuing", function () {
    it("mints to a registered account against a bank reference, once, and books it to the bank", async function () {
      const f = await loadFixture(custodyFixture);
      const ref = bankReference("E2E-2026-0001");
      await expect(f.token.connect(f.bank).issue(f.holder, 5n * UNIT, ref))
        .to.emit(f.token, "Issued")
        .withArgs(f.bank.address, f.holder.address, 5n * UNIT, ref);
      expect(await f.token.outstandingOf(f.bank)).to.equal(101_005n * UNIT);
      expect(await f.token.totalSupply()).to.equal(101_005n * UNIT);
      expect(await f.token.isReferenceUsed(f.bank, ref)).to.equal(true);
    });

    it("refuses a reference the bank used before, for an issue or a redemption", async function () {
      const f = await loadFixture(custodyFixture);
      const used = bankReference("E2E-DEPOSIT-HOLDER");
      await expect(f.token.connect(f.bank).issue(f.holder, UNIT, used))
        .to.be.revertedWithCustomError(f.token, "CustodyReferenceUsed")
        .withArgs(f.bank.address, used);
      const wid = await withdrawalIn(f, Status.Requested);
      await expect(f.token.connect(f.bank).redeem(wid, used))
        .to.be.revertedWithCustomError(f.token, "CustodyReferenceUsed")
        .withArgs(f.bank.address, used);
      expect(await f.token.isReferenceUsed(f.bank, used)).to.equal(true);
    });

    it("keeps each bank's references its own: no bank spends or squats on another's", async function () {
      const f = await loadFixture(custodyFixture);
      // The other bank takes a reference the first has not used yet (front-running its issue, say)...
      const next = bankReference("E2E-NEXT-DEPOSIT");
      await f.token.connect(f.otherBank).registerAccount(f.outsider, account("outsider"));
      await f.token.connect(f.otherBank).issue(f.outsider, 1n, next);
      // ...and the first bank's issue against its own payment still goes through.
      await expect(f.token.connect(f.bank).issue(f.holder, UNIT, next)).to.emit(f.token, "Issued");
      expect(await f.token.isReferenceUsed(f.otherBank, next)).to.equal(true);
      expect(await f.token.isReferenceUsed(f.bank, next)).to.equal(true);
    });

    it("refuses an issue without a reference, of nothing, or to an account the bank does not know", async function () {
      const f = await loadFixture(custodyFixture);
      await expect(f.token.connect(f.bank).issue(f.holder, UNIT, ZeroHash)).to.be.revertedWithCustomError(
        f.token,
        "CustodyMissingReference",
      );
      await expect(f.token.connect(f.bank).issue(f.holder, 0n, id("r"))).to.be.revertedWithCustomError(
        f.token,
        "CustodyZeroAmount",
      );
      await expect(f.token.connect(f.bank).issue(f.outsider, UNIT, id("r")))
        .to.be.revertedWithCustomError(f.token, "CustodyAccountNotRegistered")
        .withArgs(f.outsider.address);
      await expect(f.token.connect(f.otherBank).issue(f.holder, UNIT, id("r")))
        .to.be.revertedWithCustomError(f.token, "CustodyNotAccountBank")
        .withArgs(f.otherBank.address, f.bank.address);
    });

    it("is refused to every account that is not an active custody bank", async function () {
      const f = await loadFixture(custodyFixture);
      const suspended = f.otherBank;
      await f.alliance.suspendMember(suspended);
      for (const caller of [f.governance, f.platform, f.lender, f.outsider, suspended]) {
        await expect(f.token.connect(caller).issue(f.holder, UNIT, id("r")))
          .to.be.revertedWithCustomError(f.token, "CustodyNotBank")
          .withArgs(caller.address);
      }
      // A member that holds another role is no bank.
      await f.alliance.setMemberRoles(f.platform, Role.Platform | Role.Custodian);
      await expect(f.token.connect(f.platform).issue(f.holder, UNIT, id("r"))).to.be.revertedWithCustomError(
        f.token,
        "CustodyNotBank",
      );
    });

    it("keeps tokens out of its own escrow except through a withdrawal", async function () {
      const f = await loadFixture(custodyFixture);
      await expect(f.token.connect(f.holder).transfer(f.token, UNIT))
        .to.be.revertedWithCustomError(f.token, "ERC20InvalidReceiver")
        .withArgs(await f.token.getAddress());
    });
  });

  describe("the account register", function () {
    it("is kept by the banks alone: no platform registers the account its loan pays out to", async function () {
      const f = await loadFixture(custodyFixture);
      for (const caller of [f.platform, f.governance, f.lender, f.outsider]) {
        await expect(f.token.connect(caller).registerAccount(f.borrower, account("borrower")))
          .to.be.revertedWithCustomError(f.token, "CustodyNotBank")
          .withArgs(caller.address);
      }
    });

    it("belongs to the bank that registered an account until that bank can no longer service it", async function () {
      const f = await loadFixture(custodyFixture);
      await expect(f.token.connect(f.otherBank).registerAccount(f.holder, account("elsewhere")))
        .to.be.revertedWithCustomError(f.token, "CustodyNotAccountBank")
        .withArgs(f.otherBank.address, f.bank.address);
      await f.alliance.suspendMember(f.bank);
      await expect(
        f.token.connect(f.otherBank).registerAccount(f.holder, account("elsewhere")),
      ).to.be.revertedWithCustomError(f.token, "CustodyNotAccountBank");
      await f.alliance.expelMember(f.bank);
      expect(await f.token.isRegisteredAccount(f.holder)).to.equal(false);
      await expect(f.token.connect(f.otherBank).registerAccount(f.holder, account("elsewhere")))
        .to.emit(f.token, "AccountRegistered")
        .withArgs(f.holder.address, f.otherBank.address, account("elsewhere"));
      expect(await f.token.isRegisteredAccount(f.holder)).to.equal(true);
    });

    it("refuses the zero address, the token itself and an account without a reference", async function () {
      const f = await loadFixture(custodyFixture);
      await expect(
        f.token.connect(f.bank).registerAccount(ethers.ZeroAddress, account("x")),
      ).to.be.revertedWithCustomError(f.token, "CustodyZeroAddress");
      await expect(f.token.connect(f.bank).registerAccount(f.token, account("x"))).to.be.revertedWithCustomError(
        f.token,
        "CustodyZeroAddress",
      );
      await expect(f.token.connect(f.bank).registerAccount(f.borrower, ZeroHash)).to.be.revertedWithCustomError(
        f.token,
        "CustodyMissingReference",
      );
    });

    it("is closed by the account's bank or governance, nobody else", async function () {
      const f = await loadFixture(custodyFixture);
      for (const caller of [f.otherBank, f.platform, f.holder]) {
        await expect(f.token.connect(caller).closeAccount(f.holder)).to.be.revertedWithCustomError(
          f.token,
          "CustodyNotAccountBank",
        );
      }
      await expect(f.token.connect(f.bank).closeAccount(f.holder))
        .to.emit(f.token, "AccountClosed")
        .withArgs(f.holder.address, f.bank.address);
      await expect(f.token.closeAccount(f.holder)).to.be.revertedWithCustomError(
        f.token,
        "CustodyAccountNotRegistered",
      );
      await expect(f.token.closeAccount(f.lender)).to.emit(f.token, "AccountClosed");
    });
  });

  describe("withdrawals", function () {
    it("escrow the tokens, which stay in the supply until the bank redeems them with its payment's reference", async function () {
      const f = await loadFixture(custodyFixture);
      await expect(f.token.connect(f.holder).requestWithdrawal(400n * UNIT))
        .to.emit(f.token, "WithdrawalRequested")
        .withArgs(1n, f.holder.address, f.bank.address, 400n * UNIT, account("holder"));
      expect(await f.token.balanceOf(f.token)).to.equal(400n * UNIT);
      expect(await f.token.totalSupply()).to.equal(101_000n * UNIT);
      const ref = bankReference("E2E-OUT-1");
      await expect(f.token.connect(f.bank).redeem(1n, ref))
        .to.emit(f.token, "Redeemed")
        .withArgs(1n, f.bank.address, f.holder.address, 400n * UNIT, ref, account("holder"));
      expect(await f.token.totalSupply()).to.equal(100_600n * UNIT);
      expect(await f.token.outstandingOf(f.bank)).to.equal(100_600n * UNIT);
      expect((await f.token.bookOf(f.bank)).redeemed).to.equal(400n * UNIT);
    });

    it("are paid to the account registered when they were asked for, even if the registration ends meanwhile", async function () {
      const f = await loadFixture(custodyFixture);
      const wid = await withdrawalIn(f, Status.Requested);
      await f.token.connect(f.bank).closeAccount(f.holder);
      await expect(f.token.connect(f.bank).redeem(wid, bankReference("E2E-OUT-AFTER-CLOSE")))
        .to.emit(f.token, "Redeemed")
        .withArgs(
          wid,
          f.bank.address,
          f.holder.address,
          100n * UNIT,
          bankReference("E2E-OUT-AFTER-CLOSE"),
          account("holder"),
        );
    });

    it("need a registered account and an amount", async function () {
      const f = await loadFixture(custodyFixture);
      await f.token.connect(f.holder).transfer(f.outsider, UNIT);
      await expect(f.token.connect(f.outsider).requestWithdrawal(UNIT))
        .to.be.revertedWithCustomError(f.token, "CustodyAccountNotRegistered")
        .withArgs(f.outsider.address);
      await expect(f.token.connect(f.holder).requestWithdrawal(0n)).to.be.revertedWithCustomError(
        f.token,
        "CustodyZeroAmount",
      );
    });

    it("are redeemed only by the bank of the account, and never beyond what that bank holds", async function () {
      const f = await loadFixture(custodyFixture);
      const wid = await withdrawalIn(f, Status.Requested);
      for (const caller of [f.otherBank, f.platform, f.holder, f.governance]) {
        await expect(f.token.connect(caller).redeem(wid, id("r")))
          .to.be.revertedWithCustomError(f.token, "CustodyNotAccountBank")
          .withArgs(caller.address, f.bank.address);
      }
      await expect(f.token.connect(f.bank).redeem(wid, ZeroHash)).to.be.revertedWithCustomError(
        f.token,
        "CustodyMissingReference",
      );
      // Tokens the first bank issued, withdrawn through an account at the second: not the second bank's money.
      await f.token.connect(f.otherBank).registerAccount(f.outsider, account("outsider"));
      await f.token.connect(f.holder).transfer(f.outsider, 500n * UNIT);
      await f.token.connect(f.outsider).requestWithdrawal(500n * UNIT);
      await expect(f.token.connect(f.otherBank).redeem(await f.token.withdrawalCount(), id("r")))
        .to.be.revertedWithCustomError(f.token, "CustodyBankShort")
        .withArgs(f.otherBank.address, 0n, 500n * UNIT);
    });

    it("come back to the holder when the bank returns them, or once the window passes", async function () {
      const f = await loadFixture(custodyFixture);
      const first = await withdrawalIn(f, Status.Requested);
      await expect(f.token.connect(f.bank).returnWithdrawal(first, id("account closed")))
        .to.emit(f.token, "WithdrawalReturned")
        .withArgs(first, f.holder.address, f.bank.address, 100n * UNIT, id("account closed"));
      const second = await withdrawalIn(f, Status.Requested);
      const requestedAt = await time.latest();
      await expect(f.token.connect(f.holder).reclaimWithdrawal(second))
        .to.be.revertedWithCustomError(f.token, "CustodyRedemptionWindowOpen")
        .withArgs(second, requestedAt + WINDOW, requestedAt + 1);
      await expect(f.token.connect(f.outsider).reclaimWithdrawal(second))
        .to.be.revertedWithCustomError(f.token, "CustodyNotHolder")
        .withArgs(second, f.holder.address);
      await time.increaseTo(requestedAt + WINDOW);
      await f.token.connect(f.holder).reclaimWithdrawal(second);
      expect(await f.token.balanceOf(f.holder)).to.equal(1_000n * UNIT);
      expect(await f.token.balanceOf(f.token)).to.equal(0n);
    });

    it("of an expelled bank are serviced by nobody, and come back to their holders after the window", async function () {
      const f = await loadFixture(custodyFixture);
      const wid = await withdrawalIn(f, Status.Requested);
      await f.alliance.expelMember(f.bank);
      await expect(f.token.connect(f.bank).redeem(wid, id("r"))).to.be.revertedWithCustomError(
        f.token,
        "CustodyNotBank",
      );
      await time.increase(WINDOW);
      await f.token.connect(f.holder).reclaimWithdrawal(wid);
      expect((await f.token.withdrawalOf(wid)).status).to.equal(Status.Returned);
    });

    it("are serviced by a suspended bank, which issues nothing new", async function () {
      const f = await loadFixture(custodyFixture);
      const wid = await withdrawalIn(f, Status.Requested);
      await f.alliance.suspendMember(f.bank);
      await f.token.connect(f.bank).redeem(wid, bankReference("E2E-OUT-SUSPENDED"));
      await expect(f.token.connect(f.bank).issue(f.holder, UNIT, id("r"))).to.be.revertedWithCustomError(
        f.token,
        "CustodyNotBank",
      );
    });

    describe("the state table: every action from every other state reverts", function () {
      const actions = {
        redeem: (f: Fixture, wid: bigint) => f.token.connect(f.bank).redeem(wid, id(`fresh ${wid}`)),
        returnWithdrawal: (f: Fixture, wid: bigint) => f.token.connect(f.bank).returnWithdrawal(wid, id("why")),
        reclaimWithdrawal: async (f: Fixture, wid: bigint) => {
          await time.increase(WINDOW);
          return f.token.connect(f.holder).reclaimWithdrawal(wid);
        },
      };
      for (const [name, action] of Object.entries(actions)) {
        for (const [state, status] of Object.entries(Status)) {
          if (status === Status.Requested) continue;
          it(`${name} from ${state}`, async function () {
            const f = await loadFixture(custodyFixture);
            const wid = await withdrawalIn(f, status);
            await expect(action(f, wid))
              .to.be.revertedWithCustomError(f.token, "CustodyWrongWithdrawalStatus")
              .withArgs(wid, status);
          });
        }
      }
    });
  });

  describe("custody accounts", function () {
    it("are declared by a bank, each by one bank only", async function () {
      const f = await loadFixture(custodyFixture);
      const hash = custodyAccountHash("CN1234567890");
      await expect(f.token.connect(f.bank).setCustodyAccount(hash))
        .to.emit(f.token, "CustodyAccountSet")
        .withArgs(f.bank.address, hash);
      expect(await f.token.bankOfCustodyAccount(hash)).to.equal(f.bank.address);
      await expect(f.token.connect(f.otherBank).setCustodyAccount(hash))
        .to.be.revertedWithCustomError(f.token, "CustodyAccountTaken")
        .withArgs(hash, f.bank.address);
      for (const caller of [f.platform, f.governance, f.outsider]) {
        await expect(f.token.connect(caller).setCustodyAccount(hash)).to.be.revertedWithCustomError(
          f.token,
          "CustodyNotBank",
        );
      }
      // Moving to another account frees the first for another bank.
      await f.token.connect(f.bank).setCustodyAccount(custodyAccountHash("CN999"));
      expect(await f.token.bankOfCustodyAccount(hash)).to.equal(ethers.ZeroAddress);
      await f.token.connect(f.otherBank).setCustodyAccount(hash);
      expect(await f.token.custodyAccountOf(f.otherBank)).to.equal(hash);
    });
  });

  describe("governance", function () {
    it("alone sets the redemption window, within 1 hour and 30 days", async function () {
      const f = await loadFixture(custodyFixture);
      await expect(f.token.connect(f.bank).setRedemptionWindow(DAY))
        .to.be.revertedWithCustomError(f.token, "CustodyNotGovernance")
        .withArgs(f.bank.address);
      for (const window of [3_599, 30 * DAY + 1]) {
        await expect(f.token.setRedemptionWindow(window))
          .to.be.revertedWithCustomError(f.token, "CustodyRedemptionWindowOutOfRange")
          .withArgs(window);
      }
      await expect(f.token.setRedemptionWindow(DAY)).to.emit(f.token, "RedemptionWindowSet").withArgs(DAY);
    });

    it("cannot shorten the window of a withdrawal already requested", async function () {
      const f = await loadFixture(custodyFixture);
      const wid = await withdrawalIn(f, Status.Requested);
      const requestedAt = await time.latest();
      await f.token.setRedemptionWindow(3_600);
      await time.increase(2 * 3_600);
      const at = await pinNextBlock();
      await expect(f.token.connect(f.holder).reclaimWithdrawal(wid))
        .to.be.revertedWithCustomError(f.token, "CustodyRedemptionWindowOpen")
        .withArgs(wid, requestedAt + WINDOW, at);
    });
  });

  describe("property: the supply is what the banks hold, and the escrow what is pending", function () {
    it("after any sequence of issues, transfers, withdrawals, redemptions and returns", async function () {
      this.timeout(120_000);
      const f = await loadFixture(custodyFixture);
      const holders = [f.lender, f.holder];
      let refs = 0;
      const step = fc.oneof(
        fc.record({ kind: fc.constant("issue" as const), who: fc.nat(1), amount: fc.bigInt(1n, 10n ** 21n) }),
        fc.record({ kind: fc.constant("transfer" as const), who: fc.nat(1), amount: fc.bigInt(1n, 10n ** 21n) }),
        fc.record({ kind: fc.constant("request" as const), who: fc.nat(1), amount: fc.bigInt(1n, 10n ** 21n) }),
        fc.record({ kind: fc.constant("redeem" as const), which: fc.nat(20) }),
        fc.record({ kind: fc.constant("return" as const), which: fc.nat(20) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
          const g = await loadFixture(custodyFixture);
          for (const s of steps) {
            const ref = id(`property ref ${++refs}`);
            const count = await g.token.withdrawalCount();
            const send = async () => {
              if (s.kind === "issue") return g.token.connect(g.bank).issue(holders[s.who], s.amount, ref);
              if (s.kind === "transfer") return g.token.connect(holders[s.who]).transfer(holders[1 - s.who], s.amount);
              if (s.kind === "request") return g.token.connect(holders[s.who]).requestWithdrawal(s.amount);
              const wid = count === 0n ? 1n : (BigInt(s.which) % count) + 1n;
              if (s.kind === "redeem") return g.token.connect(g.bank).redeem(wid, ref);
              return g.token.connect(g.bank).returnWithdrawal(wid, ref);
            };
            await send().catch(() => undefined);
          }
          const supply = await g.token.totalSupply();
          expect(supply).to.equal(await g.token.outstandingOf(g.bank));
          let pending = 0n;
          for (let wid = 1n; wid <= (await g.token.withdrawalCount()); wid++) {
            const w = await g.token.withdrawalOf(wid);
            if (Number(w.status) === Status.Requested) pending += w.amount;
          }
          expect(await g.token.balanceOf(g.token)).to.equal(pending);
          const held = (await g.token.balanceOf(g.lender)) + (await g.token.balanceOf(g.holder));
          expect(held + pending).to.equal(supply);
        }),
        { numRuns: 25 },
      );
      void f;
    });
  });

  describe("the splitter settling in it", function () {
    async function loanFixture() {
      const f = await loadFixture(custodyFixture);
      const terms = await termsFor(f.platform, { principal: 10_000n * UNIT, installments: 2 });
      await f.loans.connect(f.platform).anchorLoan(terms);
      const config = {
        borrowerPayout: f.borrower.address,
        insurer: ethers.ZeroAddress,
        platformFeeBps: 0,
        premiumBps: 0,
        reserveBps: 0,
      };
      return { ...f, terms, config, loanId: loanIdOf(terms) };
    }

    it("detects the custody token's account register", async function () {
      const f = await loadFixture(custodyFixture);
      expect(await f.splitter.ACCOUNTS()).to.equal(await f.token.getAddress());
    });

    it("opens funding only for a payout account the bank registered", async function () {
      const f = await loadFixture(loanFixture);
      await expect(f.splitter.connect(f.platform).openFunding(f.terms, f.config))
        .to.be.revertedWithCustomError(f.token, "CustodyAccountNotRegistered")
        .withArgs(f.borrower.address);
      await f.token.connect(f.bank).registerAccount(f.borrower, account("borrower"));
      await expect(f.splitter.connect(f.platform).openFunding(f.terms, f.config)).to.emit(f.splitter, "FundingOpened");
    });

    it("does not disburse to an account the bank closed meanwhile; the lenders get their money back", async function () {
      const f = await loadFixture(loanFixture);
      await f.token.connect(f.bank).registerAccount(f.borrower, account("borrower"));
      await f.splitter.connect(f.platform).openFunding(f.terms, f.config);
      await f.splitter.connect(f.lender).fund(f.terms, f.terms.principal / 2n);
      await f.token.connect(f.bank).closeAccount(f.borrower);
      await expect(f.splitter.connect(f.lender).fund(f.terms, f.terms.principal / 2n))
        .to.be.revertedWithCustomError(f.token, "CustodyAccountNotRegistered")
        .withArgs(f.borrower.address);
      await time.increaseTo(f.terms.fundingDeadline + 1);
      await f.splitter.cancelFunding(f.terms);
      await f.splitter.connect(f.lender).claim([f.loanId], f.lender);
      expect(await f.token.balanceOf(f.lender)).to.equal(100_000n * UNIT);
    });

    it("does not disburse to an account whose bank was expelled while the loan funded; the lenders get their money back", async function () {
      const f = await loadFixture(loanFixture);
      await f.token.connect(f.bank).registerAccount(f.borrower, account("borrower"));
      await f.splitter.connect(f.platform).openFunding(f.terms, f.config);
      await f.splitter.connect(f.lender).fund(f.terms, f.terms.principal / 2n);
      // The bank stops acting for good: nobody could pay the borrower's principal out of the ledger any more.
      await f.alliance.expelMember(f.bank);
      await expect(f.splitter.connect(f.lender).fund(f.terms, f.terms.principal / 2n))
        .to.be.revertedWithCustomError(f.token, "CustodyAccountNotRegistered")
        .withArgs(f.borrower.address);
      await time.increaseTo(f.terms.fundingDeadline + 1);
      await f.splitter.connect(f.outsider).cancelFunding(f.terms);
      await f.splitter.connect(f.lender).claim([f.loanId], f.lender);
      expect(await f.token.balanceOf(f.lender)).to.equal(100_000n * UNIT);
    });

    it("records the bank reference a repayment names in the loan's history", async function () {
      const f = await loadFixture(loanFixture);
      await f.token.connect(f.bank).registerAccount(f.borrower, account("borrower"));
      await f.splitter.connect(f.platform).openFunding(f.terms, f.config);
      await f.splitter.connect(f.lender).fund(f.terms, f.terms.principal);
      const ref = bankReference("E2E-REPAY-1");
      await f.token.connect(f.bank).issue(f.borrower, 1_000n * UNIT, ref);
      await f.token.connect(f.borrower).approve(f.splitter, MaxUint256);
      await time.increase(30 * DAY);
      const [, total] = await f.splitter.amountDue(f.terms);
      const tx = f.splitter.connect(f.borrower).repayLoan(f.terms, total, ref);
      await expect(tx).to.emit(f.splitter, "RepaymentSplit");
      const receipt = await (await tx).wait();
      const event = receipt!.logs
        .map((log) => f.loans.interface.parseLog(log))
        .find((parsed) => parsed?.name === "RepaymentRecorded");
      expect(event!.args.bankRef).to.equal(ref);
      expect(NO_BANK_REF).to.equal(ZeroHash);
    });
  });

  describe("bank references", function () {
    it("hash an end-to-end id as written and a UETR in lower case, and refuse what is neither", function () {
      expect(bankReference(" E2E-1 ")).to.equal(id("E2E-1"));
      const uetr = "0E3B1B1C-7E5A-4C2B-9D7E-8A1B2C3D4E5F";
      expect(bankReference(uetr)).to.equal(id(uetr.toLowerCase()));
      for (const bad of ["", "NOTPROVIDED", "x".repeat(36)]) expect(() => bankReference(bad)).to.throw(/end-to-end id/);
    });
  });
});
