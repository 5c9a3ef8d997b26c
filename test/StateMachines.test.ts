import { expect } from "chai";
import { id, MaxUint256, Signature, ZeroAddress, ZeroHash } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  Consent,
  freshBorrowerKey,
  loanIdOf,
  LoanRegistryClient,
  LoanStatus,
  signConsent,
  toSignatures,
  CollateralClient,
  type ConsentSubject,
} from "../src/client/index.js";
import { DAY, loadFixture, proposeSale, termsFor, time } from "./fixtures.js";
import { defaultLoan, membersFixture, NO_FEES, pledge, UNIT, type MembersFixture } from "./attacks/helpers.js";

/**
 * Every state machine besides the loan's lifecycle (whose table ILoanRegistry holds and LoanRegistry.test.ts generates
 * from): the successor appointment (ILoanSuccession), the insurance policy (ICreditInsurance), the consent record
 * (ILoanRegistry), the lien, the sale proposal and the asset in custody (ICollateralRegistry). Each is written here as
 * its interface's table: the states (each reached by a fixture), the actions, and for each (state, action) who may act
 * and where it leads. Every action is tried from every state as every role: the table's cells succeed and reach their
 * state, every other cell reverts and leaves the state as it was.
 *
 * Each state's fixture builds its whole path from a fresh deployment (calling the fixtures before it as plain
 * functions): a fixture that loads another by loadFixture leaves the snapshots of the two out of step.
 */

const ROLES = ["governance", "platformA", "platformB", "insurer", "custodian", "owner", "lender", "outsider"] as const;
type RoleName = (typeof ROLES)[number];
const ANYONE = ROLES;

interface Machine<F extends MembersFixture> {
  name: string;
  /** Each state's fixture; a named function, so that loadFixture snapshots it once. */
  states: Record<string, () => Promise<F>>;
  actions: Record<string, (f: F, as: HardhatEthersSigner) => Promise<unknown>>;
  /** The state the machine is in now, by its name in the table. */
  read: (f: F) => Promise<string>;
  /** The table: from a state, an action by one of `who` leads to `to`. Every other cell is refused. */
  table: { from: string; action: string; who: readonly RoleName[]; to: string }[];
}

function generate<F extends MembersFixture>(machine: Machine<F>) {
  describe(`${machine.name}: every action from every state as every role`, function () {
    for (const [state, fixture] of Object.entries(machine.states)) {
      for (const [action, act] of Object.entries(machine.actions)) {
        const cell = machine.table.find((row) => row.from === state && row.action === action);
        const allowed = cell ? cell.who : [];
        const rule = cell
          ? `by ${allowed.length === ROLES.length ? "anyone" : allowed.join(" or ")} → ${cell.to}`
          : "refused";
        it(`${action} from ${state}: ${rule}`, async function () {
          for (const role of ROLES) {
            const f = await loadFixture(fixture);
            expect(await machine.read(f), "the fixture's state").to.equal(state);
            if (cell && allowed.includes(role)) {
              await act(f, f[role]);
              expect(await machine.read(f), `${action} by ${role}`).to.equal(cell.to);
            } else {
              let refused = false;
              try {
                await act(f, f[role]);
              } catch {
                refused = true;
              }
              expect(refused, `${action} by ${role} from ${state} must be refused`).to.equal(true);
              expect(await machine.read(f), `${action} by ${role} left the state`).to.equal(state);
            }
          }
        });
      }
    }
  });
}

// ---------------------------------------------------------------- the successor appointment (ILoanSuccession)

async function appointmentBase() {
  const f = await membersFixture();
  const loan = await termsFor(f.platformA);
  await f.loans.connect(f.platformA).anchorLoan(loan);
  await f.alliance.suspendMember(f.platformA);
  return { ...f, loan };
}
async function appointmentNone() {
  return appointmentBase();
}
async function appointmentStanding() {
  const f = await appointmentBase();
  await f.succession.appointSuccessor(f.platformA, f.platformB);
  return f;
}
async function appointmentLapsed() {
  const f = await appointmentStanding();
  await f.alliance.reinstateMember(f.platformA);
  await f.alliance.suspendMember(f.platformA);
  return f;
}
const APPOINTMENT_NAMES = ["None", "Standing", "Lapsed"];

generate({
  name: "successor appointment (ILoanSuccession)",
  states: { None: appointmentNone, Standing: appointmentStanding, Lapsed: appointmentLapsed },
  actions: {
    appointSuccessor: (f, as) => f.succession.connect(as).appointSuccessor(f.platformA, f.platformB),
    withdrawSuccessor: (f, as) => f.succession.connect(as).withdrawSuccessor(f.platformA),
    takeOverLoans: (f, as) => f.succession.connect(as).takeOverLoans([f.loan]),
  },
  read: async (f) => APPOINTMENT_NAMES[Number((await f.succession.appointmentOf(f.platformA))[1])],
  table: [
    { from: "None", action: "appointSuccessor", who: ["governance"], to: "Standing" },
    { from: "Standing", action: "appointSuccessor", who: ["governance"], to: "Standing" },
    { from: "Lapsed", action: "appointSuccessor", who: ["governance"], to: "Standing" },
    { from: "Standing", action: "withdrawSuccessor", who: ["governance"], to: "None" },
    { from: "Lapsed", action: "withdrawSuccessor", who: ["governance"], to: "None" },
    { from: "Standing", action: "takeOverLoans", who: ANYONE, to: "Standing" },
  ],
});

// ---------------------------------------------------------------- the insurance policy (ICreditInsurance)

async function policyBase() {
  const f = await membersFixture();
  const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(loan);
  await f.splitter
    .connect(f.platformA)
    .openFunding(loan, { borrowerPayout: f.owner.address, ...NO_FEES, insurer: f.insurer.address, premiumBps: 100 });
  await f.token.mint(f.insurer, 100_000n * UNIT);
  await f.token.connect(f.insurer).approve(f.insurance, MaxUint256);
  await f.insurance.connect(f.insurer).depositCapital(100_000n * UNIT);
  return { ...f, loan };
}
async function policyNone() {
  return policyBase();
}
async function policyActiveFunding() {
  const f = await policyBase();
  await f.insurance.connect(f.insurer).writePolicy(f.loan, 5_000, (await time.latest()) + 400 * DAY);
  return f;
}
async function policyActiveCancelled() {
  const f = await policyActiveFunding();
  await f.splitter.connect(f.platformA).cancelFunding(f.loan);
  return f;
}
async function policyActiveDefaulted() {
  const f = await policyActiveFunding();
  await f.splitter.connect(f.lender).fund(f.loan, f.loan.principal);
  await defaultLoan(f, f.loan);
  return f;
}
async function policyClaimed() {
  const f = await policyActiveDefaulted();
  await f.waterfall.connect(f.platformA).settle(f.loan);
  return f;
}
async function policyReleased() {
  const f = await policyActiveCancelled();
  await f.insurance.releasePolicy(f.loan);
  return f;
}
const POLICY_NAMES = ["None", "Active", "Claimed", "Released"];

generate({
  name: "insurance policy (ICreditInsurance)",
  states: {
    None: policyNone,
    "Active, loan Funding": policyActiveFunding,
    "Active, loan Cancelled": policyActiveCancelled,
    "Active, loan Defaulted": policyActiveDefaulted,
    Claimed: policyClaimed,
    Released: policyReleased,
  },
  actions: {
    writePolicy: async (f, as) => f.insurance.connect(as).writePolicy(f.loan, 5_000, (await time.latest()) + 400 * DAY),
    releasePolicy: (f, as) => f.insurance.connect(as).releasePolicy(f.loan),
    "settle (the claim)": (f, as) => f.waterfall.connect(as).settle(f.loan),
  },
  read: async (f) => {
    const policy = POLICY_NAMES[Number((await f.insurance.policyOf(loanIdOf(f.loan))).status)];
    if (policy !== "Active") return policy;
    return `Active, loan ${LOAN_STATUS[Number((await f.loans.loanState(loanIdOf(f.loan))).status)]}`;
  },
  table: [
    { from: "None", action: "writePolicy", who: ["insurer"], to: "Active, loan Funding" },
    { from: "Active, loan Cancelled", action: "releasePolicy", who: ANYONE, to: "Released" },
    { from: "Active, loan Defaulted", action: "settle (the claim)", who: ["platformA"], to: "Claimed" },
  ],
});

// ---------------------------------------------------------------- the consent record (ILoanRegistry)

const consentOf = (f: MembersFixture, as: HardhatEthersSigner) =>
  new LoanRegistryClient(String(f.loans.target), as).consent;

async function signed(f: MembersFixture, subject: ConsentSubject) {
  const domain = await f.clientFor(f.platformA).loans.consentDomain();
  const b = await signConsent(freshBorrowerKey().wallet, domain, subject);
  return toSignatures({ borrower: b.signer, deadline: subject.deadline, borrowerSignature: b.signature });
}

async function consentNone() {
  const f = await membersFixture();
  const loan = await termsFor(f.platformA);
  await f.loans.connect(f.platformA).anchorLoan(loan);
  return { ...f, loan };
}
async function consentSigned() {
  const f = await membersFixture();
  const loan = await termsFor(f.platformA);
  const deadline = BigInt((await time.latest()) + DAY);
  await consentOf(f, f.platformA).anchorSignedLoan(
    loan,
    await signed(f, { kind: "agreement", loanId: loanIdOf(loan), deadline }),
  );
  return { ...f, loan };
}
async function consentLegacy() {
  const f = await membersFixture();
  const loan = await termsFor(f.platformA);
  await consentOf(f, f.governance).allowLegacyImport(f.platformA, (await time.latest()) + DAY);
  await consentOf(f, f.platformA).anchorLegacyLoans([loan]);
  return { ...f, loan };
}
const CONSENT_NAMES = Object.keys(Consent);

generate({
  name: "consent record (ILoanRegistry)",
  states: { None: consentNone, Signed: consentSigned, Legacy: consentLegacy },
  actions: {
    signAgreement: async (f, as) => {
      const deadline = BigInt((await time.latest()) + DAY);
      return consentOf(f, as).signAgreement(
        f.loan,
        await signed(f, { kind: "agreement", loanId: loanIdOf(f.loan), deadline }),
      );
    },
    amendDocument: (f, as) => f.loans.connect(as).amendDocument(f.loan, id("version 2")),
    amendDocumentSigned: async (f, as) => {
      const deadline = BigInt((await time.latest()) + DAY);
      const documentHash = id("version 2");
      const subject = { kind: "amendment" as const, loanId: loanIdOf(f.loan), version: 2, documentHash, deadline };
      return consentOf(f, as).amendDocumentSigned(f.loan, documentHash, await signed(f, subject as ConsentSubject));
    },
  },
  read: async (f) => CONSENT_NAMES[Number((await f.loans.loanState(loanIdOf(f.loan))).consent)],
  table: [
    { from: "None", action: "signAgreement", who: ["platformA"], to: "Signed" },
    { from: "Legacy", action: "signAgreement", who: ["platformA"], to: "Signed" },
    { from: "None", action: "amendDocument", who: ["platformA"], to: "None" },
    { from: "None", action: "amendDocumentSigned", who: ["platformA"], to: "Signed" },
    { from: "Signed", action: "amendDocumentSigned", who: ["platformA"], to: "Signed" },
    { from: "Legacy", action: "amendDocumentSigned", who: ["platformA"], to: "Signed" },
  ],
});

// ---------------------------------------------------------------- the lien (ICollateralRegistry)

const LOAN_STATUS = Object.keys(LoanStatus);
const LIEN_NAMES = ["None", "Active", "Released", "Enforcing", "Discharged"];

/** Platform A's loan of 40 000, anchored; the car's owner has not pledged it yet. */
async function lienNone() {
  const f = await membersFixture();
  const loan = await termsFor(f.platformA, { principal: 40_000n * UNIT });
  await f.loans.connect(f.platformA).anchorLoan(loan);
  return { ...f, loan };
}
async function lienActiveFunding() {
  const f = await lienNone();
  await pledge(f, f.loan, 40_000n * UNIT, 1);
  return f;
}
async function lienActiveActive() {
  const f = await lienActiveFunding();
  await f.splitter.connect(f.platformA).openFunding(f.loan, { borrowerPayout: f.owner.address, ...NO_FEES });
  await f.splitter.connect(f.lender).fund(f.loan, f.loan.principal);
  return f;
}
async function lienActiveRepaid() {
  const f = await lienActiveActive();
  await time.increase(DAY);
  const due = await f.loans.nextPayment(f.loan);
  await f.splitter.connect(f.owner).repayLoan(f.loan, due.lateInterest + due.interest + f.loan.principal, ZeroHash);
  return f;
}
async function lienActiveDefaulted() {
  const f = await lienActiveActive();
  await defaultLoan(f, f.loan);
  return f;
}
async function lienActiveWrittenOff() {
  const f = await lienActiveDefaulted();
  await f.waterfall.connect(f.platformA).settle(f.loan);
  await f.waterfall.connect(f.platformA).writeOff(f.loan);
  return f;
}
async function lienEnforcingDefaulted() {
  const f = await lienActiveDefaulted();
  await f.collateral.connect(f.platformA).seize(f.car, f.loan);
  await proposeSale(f.collateral, f.platformA, f.car, f.loan, 50_000n * UNIT, { custodian: f.custodian });
  return f;
}
async function lienEnforcingRecovered() {
  const f = await lienActiveDefaulted();
  await f.collateral.connect(f.platformA).seize(f.car, f.loan);
  await f.waterfall.connect(f.owner).recover(f.loan, await f.waterfall.recoverable(loanIdOf(f.loan)));
  return f;
}
async function lienReleased() {
  const f = await lienActiveRepaid();
  await f.collateral.release(f.car, loanIdOf(f.loan));
  return f;
}
async function lienDischarged() {
  const f = await lienEnforcingDefaulted();
  await f.collateral.connect(f.platformA).dispose(f.car, [f.loan]);
  return f;
}

generate({
  name: "lien (ICollateralRegistry)",
  states: {
    "None, loan Funding": lienNone,
    "Active, loan Funding": lienActiveFunding,
    "Active, loan Active": lienActiveActive,
    "Active, loan Repaid": lienActiveRepaid,
    "Active, loan Defaulted": lienActiveDefaulted,
    "Active, loan WrittenOff": lienActiveWrittenOff,
    "Enforcing, loan Defaulted": lienEnforcingDefaulted,
    "Enforcing, loan Recovered": lienEnforcingRecovered,
    "Released, loan Repaid": lienReleased,
    "Discharged, loan Defaulted": lienDischarged,
  },
  actions: {
    pledge: async (f, as) => {
      const request = { assetId: f.car, loanId: loanIdOf(f.loan), securedAmount: 40_000n * UNIT, priority: 1 };
      const owner = new CollateralClient(
        String(f.collateral.target),
        f.owner,
        new LoanRegistryClient(String(f.loans.target), f.owner),
      );
      const deadline = (await time.latest()) + DAY;
      const sig = Signature.from((await owner.consent(request, deadline)).signature);
      return f.collateral.connect(as).pledge(f.car, f.loan, request.securedAmount, 1, deadline, sig.r, sig.yParityAndS);
    },
    release: (f, as) => f.collateral.connect(as).release(f.car, loanIdOf(f.loan)),
    waive: (f, as) => f.collateral.connect(as).waive(f.car, f.loan),
    seize: (f, as) => f.collateral.connect(as).seize(f.car, f.loan),
    returnSeized: (f, as) => f.collateral.connect(as).returnSeized(f.car),
    dispose: (f, as) => f.collateral.connect(as).dispose(f.car, [f.loan]),
  },
  read: async (f) => {
    const lien = LIEN_NAMES[Number((await f.collateral.lienOf(f.car, loanIdOf(f.loan))).status)];
    return `${lien}, loan ${LOAN_STATUS[Number((await f.loans.loanState(loanIdOf(f.loan))).status)]}`;
  },
  table: [
    // The owner's consent makes the second party: the servicer sends it (the owner, not a platform, cannot).
    { from: "None, loan Funding", action: "pledge", who: ["platformA"], to: "Active, loan Funding" },
    { from: "Active, loan Repaid", action: "release", who: ANYONE, to: "Released, loan Repaid" },
    { from: "Active, loan WrittenOff", action: "waive", who: ["platformA"], to: "Released, loan WrittenOff" },
    { from: "Active, loan Defaulted", action: "seize", who: ["platformA"], to: "Enforcing, loan Defaulted" },
    { from: "Active, loan WrittenOff", action: "seize", who: ["platformA"], to: "Enforcing, loan WrittenOff" },
    { from: "Enforcing, loan Recovered", action: "returnSeized", who: ANYONE, to: "Released, loan Recovered" },
    { from: "Enforcing, loan Defaulted", action: "dispose", who: ["platformA"], to: "Discharged, loan Defaulted" },
  ],
});

// ---------------------------------------------------------------- the sale proposal and the asset in custody

const ASSET_NAMES = ["None", "Registered", "Seized", "Disposed"];

/** The car seized by platform A's defaulted loan; no sale proposed yet. The price proposed is below the floor. */
async function saleNone() {
  return saleSeized();
}
async function saleSeized() {
  const f = await lienActiveDefaulted();
  await f.collateral.connect(f.platformA).seize(f.car, f.loan);
  return f;
}
async function saleProposed() {
  const f = await saleSeized();
  await proposeSale(f.collateral, f.platformA, f.car, f.loan, 10_000n * UNIT);
  return f;
}
async function saleConfirmed() {
  const f = await saleProposed();
  await f.collateral.connect(f.custodian).confirmSale(f.car, await f.collateral.saleProposalHash(f.car));
  return f;
}

generate({
  name: "sale proposal of a seized asset (ICollateralRegistry)",
  states: { "Seized, none": saleNone, "Seized, proposed": saleProposed, "Seized, confirmed": saleConfirmed },
  actions: {
    proposeSale: (f, as) =>
      f.collateral.connect(as).proposeSale(f.car, f.loan, 10_000n * UNIT, ZeroAddress, id("buyer"), id("sale")),
    confirmSale: async (f, as) =>
      f.collateral.connect(as).confirmSale(f.car, await f.collateral.saleProposalHash(f.car).catch(() => id("none"))),
    withdrawSale: (f, as) => f.collateral.connect(as).withdrawSale(f.car),
    dispose: (f, as) => f.collateral.connect(as).dispose(f.car, [f.loan]),
  },
  read: async (f) => {
    const asset = ASSET_NAMES[Number((await f.collateral.assetOf(f.car)).status)];
    const sale = await f.collateral.saleOf(f.car);
    const proposal = sale.proposedAt === 0n ? "none" : sale.confirmer === ZeroAddress ? "proposed" : "confirmed";
    return `${asset}, ${proposal}`;
  },
  table: [
    { from: "Seized, none", action: "proposeSale", who: ["platformA"], to: "Seized, proposed" },
    { from: "Seized, proposed", action: "proposeSale", who: ["platformA"], to: "Seized, proposed" },
    { from: "Seized, confirmed", action: "proposeSale", who: ["platformA"], to: "Seized, proposed" },
    { from: "Seized, proposed", action: "confirmSale", who: ["custodian"], to: "Seized, confirmed" },
    { from: "Seized, confirmed", action: "confirmSale", who: ["custodian"], to: "Seized, confirmed" },
    { from: "Seized, proposed", action: "withdrawSale", who: ["governance"], to: "Seized, none" },
    { from: "Seized, confirmed", action: "withdrawSale", who: ["governance"], to: "Seized, none" },
    // Below the floor: only a confirmed proposal completes, once its window has passed (the fixtures waited it out).
    { from: "Seized, confirmed", action: "dispose", who: ["platformA"], to: "Disposed, none" },
  ],
});

/** The asset itself: free, pledged, in custody, sold. */
async function assetFree() {
  return lienNone();
}
async function assetPledged() {
  return lienActiveActive();
}
async function assetSeized() {
  return saleConfirmed();
}
async function assetDisposed() {
  return lienDischarged();
}

generate({
  name: "asset and its custody (ICollateralRegistry)",
  states: {
    "Registered, free": assetFree,
    "Registered, pledged": assetPledged,
    Seized: assetSeized,
    Disposed: assetDisposed,
  },
  actions: {
    transfer: (f, as) => f.collateral.connect(as).transferFrom(f.owner, f.buyer, f.car),
    registerAgain: (f, as) =>
      f.collateral.connect(as).registerCollateral(f.car, f.buyer, 1, 60_000n * UNIT, id("new appraisal")),
  },
  read: async (f) => {
    const asset = await f.collateral.assetOf(f.car);
    const status = ASSET_NAMES[Number(asset.status)];
    if (status !== "Registered") return status;
    const owner = await f.collateral.ownerOf(f.car);
    return `Registered, ${asset.lienCount === 0n ? (owner === f.owner.address ? "free" : "moved") : "pledged"}`;
  },
  table: [
    // Only its owner moves a free asset; a pledged or seized one stays put, and only a sold one is registered anew.
    { from: "Registered, free", action: "transfer", who: ["owner"], to: "Registered, moved" },
    {
      from: "Disposed",
      action: "registerAgain",
      who: ["platformA", "platformB", "custodian"],
      to: "Registered, moved",
    },
  ],
});
