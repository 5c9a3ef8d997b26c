/**
 * Gas benchmark: deploys the suite on the embedded network, measures each operation's gas, the worse realistic cases
 * beside the usual ones (the splitter's first repayment, a repayment right after the fee payees withdrew, a late loan
 * brought back to Active, a payout to lenders paid before), and each operation's floor: the same unavoidable work
 * (calldata, the loan id's hash, token transfers, one storage write per fact, the same event) done by
 * contracts/bench/GasFloors.sol. Writes reports/gas.json ({ operation: { gas, floor, ratio } }) and prints the same as
 * a table with the targets.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { network } from "hardhat";
import { id, Signature, ZeroHash } from "ethers";
import { deployLocalSuite } from "../deploy/local.js";
import {
  AssetClass,
  assetKey,
  borrowerRef,
  consentDomain,
  freshBorrowerKey,
  signConsent,
  toSignatures,
  loanIdOf,
  ScheduleKind,
  toAddress,
  toHash32,
  type LoanTerms,
} from "../src/client/index.js";

const DAY = 86_400;
const REPAY_LENDERS = [1, 10, 100, 500];
const TARGETS: Record<string, number> = {
  anchorLoan: 130_000,
  anchorLoanBatch100PerLoan: 85_000,
  anchorSignedLoan: 145_000,
  anchorSignedLoanBatch100PerLoan: 100_000,
  ...Object.fromEntries(REPAY_LENDERS.map((n) => [`repay_${n}`, 112_000])),
  // No cliff: the fee payees' sums are never emptied by a withdrawal, so the next repayment costs what any other does.
  repayAfterFeeWithdrawal: 112_000,
  repayFirstInSplitter: 165_000,
  repayLateToActive: 120_000,
  payoutPerLender: 15_000,
  claim: 70_000,
  registerCollateral: 150_000,
  pledgeCollateral: 90_000,
};

const { ethers, ignition, networkHelpers } = await network.create();
const [governance, platform, insurer, payer, assetOwner] = await ethers.getSigners();
const deployed = await deployLocalSuite(ignition);
const suite = deployed.contracts;
const { alliance, token } = suite;
const loans = suite.loans.connect(platform);
const splitter = suite.splitter;
await alliance.admitMember(platform, 1, id("bench platform"));
await alliance.admitMember(insurer, 2, id("bench insurer"));

const key = new Uint8Array(32).fill(1);
let serial = 0;
/** Every loan has its own borrower: the worst case, where each anchoring also opens a fresh exposure slot. */
async function terms(): Promise<LoanTerms> {
  serial += 1;
  // 18-digit test ids with a valid check character are not needed: any 6+ alphanumerics normalise.
  return {
    platform: toAddress(platform.address),
    borrowerRef: borrowerRef(`BENCH${String(serial).padStart(8, "0")}`, key),
    documentHash: toHash32(id(`document ${serial}`)),
    platformRef: toHash32(id(`loan ${serial}`)),
    principal: 50_000n * 10n ** 18n,
    annualRateBps: 860,
    scheduleKind: ScheduleKind.EqualInstallment,
    installments: 24,
    period: 30 * DAY,
    gracePeriod: 3 * DAY,
    lateFeeBps: 1_500,
    defaultThreshold: 90 * DAY,
    fundingDeadline: (await networkHelpers.time.latest()) + 14 * DAY,
  };
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

const report: Record<string, number> = {};
// Warm the registry's first write so the single-loan figure is that of a registry in use.
await loans.anchorLoan(await terms());
report.anchorLoan = await gasOf(loans.anchorLoan(await terms()));
const book = await Promise.all(Array.from({ length: 100 }, () => terms()));
report.anchorLoanBatch100PerLoan = Math.round((await gasOf(loans.anchorLoans(book))) / 100);

// Signed beside unsigned: each loan's agreement signed by a fresh borrower key and sent (so agreed) by the platform.
const domain = consentDomain((await ethers.provider.getNetwork()).chainId, toAddress(String(loans.target)));
const consentFns = deployed.connect(platform).clients.loans.consent;
async function signed(loanTerms: LoanTerms) {
  const subject = {
    kind: "agreement" as const,
    loanId: loanIdOf(loanTerms),
    deadline: BigInt((await networkHelpers.time.latest()) + DAY),
  };
  const borrower = freshBorrowerKey();
  const b = await signConsent(borrower.wallet, domain, subject);
  return toSignatures({ borrower: borrower.address, deadline: subject.deadline, borrowerSignature: b.signature });
}
const single = await terms();
report.anchorSignedLoan = await gasOf(consentFns.anchorSignedLoan(single, await signed(single)));
const signedBook = await Promise.all(Array.from({ length: 100 }, () => terms()));
const signedSigs = [];
for (const t of signedBook) signedSigs.push(await signed(t));
report.anchorSignedLoanBatch100PerLoan = Math.round(
  (await gasOf(consentFns.anchorSignedLoans(signedBook, signedSigs))) / 100,
);

const lifecycleTerms = await terms();
await loans.anchorLoan(lifecycleTerms);
report.activateLoan = await gasOf(loans.activateLoan(lifecycleTerms));
await networkHelpers.time.increase(30 * DAY);
const due = await loans.nextPayment(lifecycleTerms);
report.recordPayment = await gasOf(loans.recordPayment(lifecycleTerms, due.principal + due.interest, ZeroHash));
report.amendDocument = await gasOf(loans.amendDocument(lifecycleTerms, id("amendment")));

// ---------------------------------------------------------------- the splitter

const UNIT = 10n ** 18n;
const kycExpiry = (await networkHelpers.time.latest()) + 365 * DAY;
const lenders: Awaited<ReturnType<typeof ethers.getImpersonatedSigner>>[] = [];
/** Lenders that hold ETH, are allowlisted, hold tokens (so that payouts land on existing balances) and approved. */
async function lendersUpTo(count: number) {
  while (lenders.length < count) {
    const wallet = ethers.Wallet.createRandom();
    await networkHelpers.setBalance(wallet.address, 10n ** 20n);
    const lender = await ethers.getImpersonatedSigner(wallet.address);
    await alliance.connect(platform).allowLender(lender, kycExpiry);
    await token.mint(lender, 1_000_000n * UNIT);
    await token.connect(lender).approve(splitter, ethers.MaxUint256);
    lenders.push(lender);
  }
  return lenders.slice(0, count);
}
await token.mint(insurer, 10n ** 9n * UNIT);
await token.connect(insurer).approve(suite.insurance, ethers.MaxUint256);
await suite.insurance.connect(insurer).depositCapital(10n ** 9n * UNIT);
await token.mint(payer, 10n ** 9n * UNIT);
await token.connect(payer).approve(splitter, ethers.MaxUint256);
const config = {
  borrowerPayout: governance.address,
  insurer: insurer.address,
  platformFeeBps: 150,
  premiumBps: 80,
  reserveBps: 50,
};

/** A loan funded by `count` lenders in equal shares, activated, one period on and ready for its first installment. */
async function fundedLoan(count: number) {
  const loanTerms = { ...(await terms()), principal: BigInt(count) * 100n * UNIT };
  await loans.anchorLoan(loanTerms);
  await splitter.connect(platform).openFunding(loanTerms, config);
  // Insured, so that every repayment also credits the insurer's premium: the full waterfall.
  await suite.insurance
    .connect(insurer)
    .writePolicy(loanTerms, 5_000, (await networkHelpers.time.latest()) + 3650 * DAY);
  for (const lender of await lendersUpTo(count)) await splitter.connect(lender).fund(loanTerms, 100n * UNIT);
  return loanTerms;
}
/** Each measured repayment names the custody bank's payment behind it, as the issue of the payer's money would. */
const bankRef = id("bank reference of the payer's transfer");
async function repayNext(loanTerms: LoanTerms) {
  await networkHelpers.time.increase(30 * DAY);
  const [, total] = await splitter.amountDue(loanTerms);
  return gasOf(splitter.connect(payer).repayLoan(loanTerms, total, bankRef));
}

// The first repayment the splitter ever records: every fee payee's slot, and its token balance, start from zero. It
// also warms them, as in a splitter in use, for the figures after it.
report.repayFirstInSplitter = await repayNext(await fundedLoan(1));
for (const count of REPAY_LENDERS) report[`repay_${count}`] = await repayNext(await fundedLoan(count));

// Right after the platform, the insurer and the reserve withdrew what they had accrued: their slots start again.
const afterWithdrawal = await fundedLoan(10);
await splitter.connect(platform).withdrawFees(platform);
await splitter.connect(insurer).withdrawFees(insurer);
await suite.reserve.collect([platform]);
report.repayAfterFeeWithdrawal = await repayNext(afterWithdrawal);

// A Late loan brought back to Active by the repayment of what it owes.
const lateTerms = await fundedLoan(10);
await networkHelpers.time.increase(34 * DAY);
await loans.markLate(lateTerms);
{
  const [, total] = await splitter.amountDue(lateTerms);
  report.repayLateToActive = await gasOf(splitter.connect(payer).repayLoan(lateTerms, total, bankRef));
}

const payoutTerms = await fundedLoan(100);
await repayNext(payoutTerms);
const payoutLoan = await loans.loanIdOf(payoutTerms);
const batch = lenders.slice(0, 100).map((l) => l.address);
const one = await gasOf(splitter.payout(payoutLoan, batch.slice(0, 1)));
const rest = await gasOf(splitter.payout(payoutLoan, batch.slice(1)));
report.payoutPerLender = Math.round((rest - one) / 98);
await repayNext(payoutTerms);
report.claim = await gasOf(splitter.connect(lenders[0]).claim([payoutLoan], lenders[0].address));
// The marginal lender of a payout to lenders paid before: between two batches after the loan's first payout, so that
// no lender is charged the one-time write of its first.
await repayNext(payoutTerms);
{
  const paidBefore = batch.slice(1);
  const first = await gasOf(splitter.payout(payoutLoan, paidBefore.slice(0, 1)));
  const others = await gasOf(splitter.payout(payoutLoan, paidBefore.slice(1)));
  report.payoutPerLenderMarginal = Math.round((others - first) / (paidBefore.length - 2));
}

// ---------------------------------------------------------------- collateral

const collateral = suite.collateral.connect(platform);
// The owner is new to the registry (its token balance slot is fresh), the worst case.
const vehicle = assetKey(AssetClass.Vehicle, "LSVAU2180N2183294", key);
report.registerCollateral = await gasOf(
  collateral.registerCollateral(vehicle, assetOwner, AssetClass.Vehicle, 80_000n * UNIT, id("appraisal report")),
);
const securedTerms = await terms();
await loans.anchorLoan(securedTerms);
const ownerClient = deployed.connect(assetOwner).clients.collateral;
const request = { assetId: vehicle, loanId: loanIdOf(securedTerms), securedAmount: 50_000n * UNIT, priority: 1 };
const consent = await ownerClient.consent(request, (await networkHelpers.time.latest()) + DAY);
// As the platform sends it: with the owner's consent signature, in its 64-byte form.
const compact = Signature.from(consent.signature);
report.pledgeCollateral = await gasOf(
  collateral.pledge(vehicle, securedTerms, request.securedAmount, 1, consent.deadline, compact.r, compact.yParityAndS),
);

// ---------------------------------------------------------------- the floors

const floors = await ethers.deployContract("GasFloors", [token]);
const floorOf: Record<string, number> = {};
await floors.anchor(await terms()); // its first write, as the registry's was warmed
floorOf.anchorLoan = await gasOf(floors.anchor(await terms()));
const floorBook = await Promise.all(Array.from({ length: 100 }, () => terms()));
floorOf.anchorLoanBatch100PerLoan = Math.round((await gasOf(floors.anchorMany(floorBook))) / 100);
const anySignature = { v: 27, r: id("r"), s: id("s") };
const deadline = (await networkHelpers.time.latest()) + DAY;
floorOf.anchorSignedLoan = await gasOf(
  floors.anchorSigned(await terms(), deadline, anySignature.v, anySignature.r, anySignature.s),
);
const floorSignedBook = await Promise.all(Array.from({ length: 100 }, () => terms()));
floorOf.anchorSignedLoanBatch100PerLoan = Math.round(
  (await gasOf(
    floors.anchorSignedMany(
      floorSignedBook,
      deadline,
      floorSignedBook.map(() => anySignature.v),
      floorSignedBook.map(() => anySignature.r),
      floorSignedBook.map(() => anySignature.s),
    ),
  )) / 100,
);
// A repayment's floor: the payer's transfer into a balance already held, one slot updated, the split's event.
await token.connect(payer).approve(floors, ethers.MaxUint256);
const floorLoan = await terms();
await floors.connect(payer).repay(floorLoan, 1n, bankRef);
const [, dueOnBench] = await splitter.amountDue(payoutTerms);
const repayFloor = await gasOf(floors.connect(payer).repay(floorLoan, dueOnBench, bankRef));
for (const key of Object.keys(report).filter((k) => k.startsWith("repay"))) floorOf[key] = repayFloor;
// A payout's marginal lender: its paid-so-far slot and its token balance both held already.
await token.mint(floors, 10n ** 9n * UNIT);
const floorLenders = lenders.slice(0, 100).map((l) => l.address);
await floors.payout(ZeroHash, floorLenders);
const floorOne = await gasOf(floors.payout(ZeroHash, floorLenders.slice(0, 1)));
const floorRest = await gasOf(floors.payout(ZeroHash, floorLenders.slice(1)));
floorOf.payoutPerLenderMarginal = Math.round((floorRest - floorOne) / 98);
// A claim: what the lender may claim emptied and sent to a balance it holds.
await floors.owe(lenders[0], 5n * UNIT);
floorOf.claim = await gasOf(floors.connect(lenders[0]).claim([payoutLoan], lenders[0].address));

await mkdir("reports", { recursive: true });
const written = Object.fromEntries(
  Object.entries(report).map(([operation, gas]) => {
    const floor = floorOf[operation];
    return [operation, floor === undefined ? { gas } : { gas, floor, ratio: Math.round((gas / floor) * 100) / 100 }];
  }),
);
await writeFile("reports/gas.json", JSON.stringify(written, null, 2) + "\n");

const rows = Object.entries(report).map(([operation, gas]) => {
  const target = TARGETS[operation];
  const verdict = target === undefined ? "" : gas <= target ? `≤ ${target} ok` : `> ${target} OVER`;
  const floor = floorOf[operation];
  return [
    operation,
    String(gas),
    floor === undefined ? "" : String(floor),
    floor === undefined ? "" : (gas / floor).toFixed(2),
    verdict,
  ];
});
const header = ["operation", "gas", "floor", "gas/floor", "target"];
const widths = header.map((_, c) => Math.max(...[header, ...rows].map((r) => r[c].length)));
const line = (r: string[]) =>
  r.map((cell, c) => (c >= 1 && c <= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
rows.forEach((r) => console.log(line(r)));
console.log("\nwritten to reports/gas.json");
if (rows.some((r) => r[4].includes("OVER"))) process.exitCode = 1;
