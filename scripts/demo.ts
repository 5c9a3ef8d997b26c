/**
 * The end-to-end story on the embedded network: deploy, admit the alliance, anchor one loan of each schedule kind,
 * take loans through their lives, and show that an auditor can replay every history to its on-chain head.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { network } from "hardhat";
import { formatUnits, id, Signature } from "ethers";
import { deployCustodySuite } from "../deploy/local.js";
import {
  borrowerRef,
  formatLoanId,
  LOAN_STATUS_NAMES,
  SCHEDULE_KIND_NAMES,
  schedule,
  ScheduleKind,
  shortLoanId,
  AssetClass,
  assetKey,
  formatAssetId,
  LIEN_STATUS_NAMES,
  operations,
  splitTotal,
  toAddress,
  toHash32,
  allianceKeyFingerprint,
  AGREEMENT_TYPES,
  freshBorrowerKey,
  loanIdOf,
  readWalletApprovals,
  signConsent,
  type ConsentSignatures,
  type LoanId,
  type LoanTerms,
  bankReference,
  CustodyClient,
} from "../src/client/index.js";
import {
  collectLedger,
  verifyLedger,
  balancesSentence,
  custodySentences,
  writeExport,
  loanHistory,
} from "../src/audit/index.js";
import { nodeOperationsSource } from "../src/indexer/index.js";
import {
  readLedgerSide,
  reconcile,
  reconciliationMarkdown,
  breakLines,
  statementOf,
  writeCamt053,
  type StatementEntry,
} from "../src/audit/custody/index.js";

const DAY = 86_400;
/** Where the demo leaves its chain's audit export and the signed documents its loans anchor the hashes of. */
const AUDIT_DIR = "audit-out/demo";
const DOCS_DIR = "audit-out/demo-docs";
/** Where the demo leaves the alliance's operations report for its last month, in every format. */
const REPORT_DIR = "reports/operations";
/** Where the demo leaves its custody bank's statement and the reconciliation of it. */
const CUSTODY_DIR = "reports/custody";
/** The "signed documents": the demo anchors the keccak256 of each text and writes the text out as the file. */
const documents: string[] = [];
function documentHashOf(text: string) {
  documents.push(text);
  return toHash32(id(text));
}
const { ethers, ignition, networkHelpers } = await network.create();
const { time } = networkHelpers;
const [
  governance,
  platformA,
  platformB,
  auditor,
  lender1,
  lender2,
  lender3,
  insurer,
  borrower,
  carOwner,
  custodian,
  bank,
] = await ethers.getSigners();
const say = (line = "") => console.log(line);
const amount = (v: bigint) => `${formatUnits(v, 18)} CNY`;

say("LoanLedger demo: an alliance of two lending platforms on one ledger\n");
// On a node, a deployment id of its own keeps Ignition from reusing the record of an earlier node's deployment.
const suite = await deployCustodySuite(ignition, process.env.LOANLEDGER_DEPLOYMENT_ID);
const { alliance: allianceContract, loans: loansContract, splitter: splitterContract, token } = suite.contracts;
/** The suite's clients acting as `signer`. */
const as = (signer: typeof governance) => suite.connect(signer).clients;
const governanceClient = as(governance).alliance;
say(
  `1. Deployed AllianceRegistry at ${allianceContract.target}, LoanRegistry at ${loansContract.target} and the ` +
    `RepaymentSplitter at ${splitterContract.target}, settling in the custody bank's deposit token at ${token.target}`,
);

await governanceClient.admitMember(toAddress(platformA.address), ["Platform"], toHash32(id("Platform A licence")));
await governanceClient.admitMember(toAddress(platformB.address), ["Platform"], toHash32(id("Platform B licence")));
await governanceClient.admitMember(toAddress(auditor.address), ["Auditor"], toHash32(id("Audit firm licence")));
await governanceClient.admitMember(toAddress(insurer.address), ["Insurer"], toHash32(id("Credit insurer licence")));
await governanceClient.admitMember(toAddress(custodian.address), ["Custodian"], toHash32(id("Vehicle pound licence")));
await governanceClient.admitMember(toAddress(bank.address), ["CustodyBank"], toHash32(id("Custody bank licence")));
// The custody bank keeps the users' money: it registers each ledger account against the customer's bank account (by
// its own reference, never the number), and issues tokens only against a credit on its custody account.
const custody = new CustodyClient(String(token.target), bank);
const CUSTODY_ACCOUNT = "CN00DEMOCUSTODY0000000001";
await custody.setCustodyAccount(CUSTODY_ACCOUNT);
const statementFrom = (await time.latest()) + 1;
for (const account of [platformB, lender1, lender2, lender3, insurer, borrower, carOwner]) {
  await custody.registerAccount(toAddress(account.address), toHash32(id(`bank account of ${account.address}`)));
}
/** The custody bank's own journal of its custody account, from which it writes the month's statement. */
const journal: StatementEntry[] = [];
async function bankBooks(direction: "credit" | "debit", amount: bigint, endToEndId: string) {
  journal.push({
    entryId: `NTRY-${journal.length + 1}`,
    direction,
    amount,
    amountText: "",
    // The bank books on its own local day.
    bookingDate: operations.localIso(await time.latest()).slice(0, 10),
    endToEndId,
    bankRef: bankReference(endToEndId),
  });
}
/** A customer pays into the custody account; the bank issues the tokens against the payment's end-to-end id. */
async function deposit(to: { address: string }, value: bigint) {
  const endToEndId = `DEMO-IN-${journal.length + 1}`;
  await custody.issue(toAddress(to.address), value, endToEndId);
  await bankBooks("credit", value, endToEndId);
  return bankReference(endToEndId);
}
for (const m of await governanceClient.members()) say(`   member ${m.account}: ${m.roles.join(", ")} (${m.status})`);

const asA = as(platformA);
const asB = as(platformB).loans;
const asAuditor = as(auditor).loans;
const kycUntil = (await time.latest()) + 365 * DAY;
await asA.alliance.allowLender(toAddress(lender1.address), kycUntil);
await asA.alliance.allowLender(toAddress(lender2.address), kycUntil);
await asA.alliance.allowLender(toAddress(lender3.address), kycUntil);
say(
  `2. Platform A did KYC on three lenders and allowlisted them until ${new Date(kycUntil * 1000).toISOString().slice(0, 10)}`,
);
// Lender 3 is platform B's shareholder: the loans it funds are related-party loans in B's operations report.
await as(platformB).disclosures.declareRelatedParties([], [toAddress(lender3.address)]);
say("   platform B declares lender 3 (its shareholder) a related party, on the ledger");

// The alliance key is shared by members off chain; the demo derives one for itself.
const allianceKey = new Uint8Array(32).fill(42);
const ming = borrowerRef("11010519491231002X", allianceKey);
const hua = borrowerRef("440524188001010014", allianceKey);
say(
  `3. Borrowers are known on chain only by keyed references: Ming is ${ming.slice(0, 18)}…, Hua is ${hua.slice(0, 18)}…`,
);
// Governance publishes the key's fingerprint (never the key), so that a member's tools refuse a wrong key at start-up.
await (await allianceContract.setAllianceKeyFingerprint(allianceKeyFingerprint(allianceKey))).wait();
say(
  `   governance published the alliance key's fingerprint ${(await allianceContract.allianceKeyFingerprint()).slice(0, 18)}…`,
);

async function terms(
  platform: { address: string },
  ref: typeof ming,
  kind: ScheduleKind,
  n: number,
  principal: bigint,
  serial: string,
): Promise<LoanTerms> {
  return {
    platform: toAddress(platform.address),
    borrowerRef: ref,
    documentHash: documentHashOf(`signed loan contract ${serial}`),
    platformRef: toHash32(id(serial)),
    principal: principal * 10n ** 18n,
    annualRateBps: 720,
    scheduleKind: kind,
    installments: n,
    period: kind === ScheduleKind.Bullet ? 180 * DAY : 30 * DAY,
    gracePeriod: 3 * DAY,
    lateFeeBps: 1_800,
    defaultThreshold: 60 * DAY,
    fundingDeadline: (await time.latest()) + 14 * DAY,
  };
}

const book = [
  await terms(platformA, ming, ScheduleKind.EqualInstallment, 12, 120_000n, "A-2026-0001"),
  await terms(platformA, hua, ScheduleKind.EqualPrincipal, 6, 60_000n, "A-2026-0002"),
  await terms(platformA, hua, ScheduleKind.InterestOnly, 6, 30_000n, "A-2026-0003"),
];
// Each borrower signs its agreement with a fresh key (its signing address would otherwise link its loans); the second
// loan's borrower is a company whose multisig wallet (ERC-1271) signs, approved by its officer's key.
const consentDomain = await asA.loans.consentDomain();
const signingDeadline = BigInt((await time.latest()) + DAY);
const officer = freshBorrowerKey().wallet;
const companyWallet = await ethers.deployContract("MockContractWallet", [officer.address]);
const borrowerKeys = book.map(() => freshBorrowerKey().wallet);
const agreements: ConsentSignatures[] = [];
for (const [i, t] of book.entries()) {
  const subject = { kind: "agreement" as const, loanId: loanIdOf(t), deadline: signingDeadline };
  const byBorrower =
    i === 1
      ? {
          signer: toAddress(await companyWallet.getAddress()),
          signature: Signature.from(
            await officer.signTypedData(consentDomain, AGREEMENT_TYPES, {
              loanId: subject.loanId,
              deadline: subject.deadline,
            }),
          ).serialized,
        }
      : await signConsent(borrowerKeys[i], consentDomain, subject);
  agreements.push({
    borrower: byBorrower.signer,
    deadline: signingDeadline,
    borrowerSignature: byBorrower.signature,
  });
}
const { loanIds } = await asA.loans.anchorSignedBatch(toAddress(platformA.address), book, agreements);
const bullet = await terms(platformB, ming, ScheduleKind.Bullet, 1, 20_000n, "B-2026-0001");
const { loanId: bulletId } = await asB.anchor(bullet);
const all: [LoanId, LoanTerms][] = [
  ...loanIds.map((lid, i) => [lid, book[i]] as [LoanId, LoanTerms]),
  [bulletId, bullet],
];
say(
  "4. Platform A anchored a loan book of three in one transaction, each signed by its borrower (one through a company's " +
    "contract wallet) and agreed by the platform, which sent it; platform B one bullet loan, unsigned:",
);
for (const [lid, t] of all) {
  const rows = schedule(t);
  say(
    `   ${shortLoanId(lid)} ${SCHEDULE_KIND_NAMES[t.scheduleKind].padEnd(16)} ${amount(t.principal).padStart(18)}, ${t.installments} installment(s), first payment ${amount(rows[0].total)}`,
  );
}
const mingExposure = await asB.exposure(ming);
say(
  `   Platform B sees Ming's exposure across the alliance: ${mingExposure.openLoans} open loans, ${amount(mingExposure.outstandingPrincipal)} outstanding`,
);

say("5. The annuity goes through its life:");
const [annuityId] = loanIds;
for (const lid of loanIds) await asA.loans.activate(lid);
say(
  `   funded and disbursed with platform A's other two loans: ${LOAN_STATUS_NAMES[(await asA.loans.state(annuityId)).status]}`,
);
await time.increase(30 * DAY);
let due = await asA.loans.nextPayment(annuityId);
await asA.loans.recordRepayment(annuityId, due.principal + due.interest);
say(`   installment 1 paid on time: principal ${amount(due.principal)}, interest ${amount(due.interest)}`);
await time.increase(30 * DAY + 5 * DAY);
await asA.loans.markLate(annuityId);
say(
  `   installment 2 missed past its 3-day grace: ${LOAN_STATUS_NAMES[(await asA.loans.state(annuityId)).status]} (a credit event every member sees)`,
);
due = await asA.loans.nextPayment(annuityId);
await asA.loans.recordRepayment(annuityId, due.principal + due.interest + due.lateInterest);
say(
  `   paid with ${amount(due.lateInterest)} late interest: ${LOAN_STATUS_NAMES[(await asA.loans.state(annuityId)).status]} again`,
);
const amendedHash = documentHashOf("repayment-date amendment, signed");
const amendment = {
  kind: "amendment" as const,
  loanId: annuityId,
  version: (await asA.loans.state(annuityId)).documentVersion + 1,
  documentHash: amendedHash,
  deadline: BigInt((await time.latest()) + DAY),
};
const amendedByBorrower = await signConsent(borrowerKeys[0], consentDomain, amendment);
await asA.loans.amendSigned(annuityId, toAddress(platformA.address), amendedHash, {
  borrower: amendedByBorrower.signer,
  deadline: amendment.deadline,
  borrowerSignature: amendedByBorrower.signature,
});
say(
  "   the contract was amended, signed by Ming's key for this loan and sent by the platform: version 2 added, version 1 kept",
);
const payoff = await asA.loans.nextPayment(annuityId);
const outstanding = (await asA.loans.state(annuityId)).outstandingPrincipal;
await time.increase(10 * DAY);
const final = await asA.loans.nextPayment(annuityId);
await asA.loans.recordRepayment(annuityId, final.interest + final.lateInterest + outstanding);
say(
  `   prepaid in full (${amount(outstanding)} principal, scheduled installment was ${amount(payoff.principal + payoff.interest)}): ${LOAN_STATUS_NAMES[(await asA.loans.state(annuityId)).status]}`,
);

say("6. Platform B's bullet loan never gets funded and is cancelled:");
await asB.cancel(bulletId);
say(
  `   ${shortLoanId(bulletId)} is ${LOAN_STATUS_NAMES[(await asB.state(bulletId)).status]}; Ming's exposure is now ${amount((await asB.exposure(ming)).outstandingPrincipal)}`,
);

say("7. Platform B's loan to Hua is funded by three lenders through the splitter, and repays them automatically:");
const funded = await terms(platformB, hua, ScheduleKind.EqualInstallment, 12, 90_000n, "B-2026-0002");
const { loanId: fundedId } = await asB.anchor(funded);
const splitterAs = (signer: typeof governance) => as(signer).splitter;
await splitterAs(platformB).openFunding(fundedId, {
  borrowerPayout: toAddress(borrower.address),
  insurer: toAddress(insurer.address),
  platformFeeBps: 100,
  premiumBps: 50,
  reserveBps: 25,
});
// The insurer covers the loan: a premium reaches it only while its policy does.
const insuranceAs = as(insurer).insurance;
await deposit(insurer, 200_000n * 10n ** 18n);
await insuranceAs.depositCapital(100_000n * 10n ** 18n);
await insuranceAs.writePolicy(fundedId, 3_000, (await time.latest()) + 2 * 365 * DAY);
say(
  "   terms: platform fee 1.00%, insurance premium 0.50% (the insurer covers 30% of a loss), reserve contribution " +
    "0.25% a year on the outstanding",
);
const lenders = [lender1, lender2, lender3];
const names = ["lender 1", "lender 2", "lender 3"];
const commitments = [20_000n, 30_000n, 40_000n].map((v) => v * 10n ** 18n);
for (const account of lenders) await deposit(account, 200_000n * 10n ** 18n);
// The borrower's repayments name the bank payment that brought its money to the ledger.
const borrowerDeposit = await deposit(borrower, 200_000n * 10n ** 18n);
const balanceOf = async (a: { address: string }) => token.balanceOf(a.address);
const startBalances = await Promise.all(lenders.map(balanceOf));
for (const [i, lender] of lenders.entries()) await splitterAs(lender).fund(fundedId, commitments[i]);
say(
  `   ${names.map((n, i) => `${n} commits ${amount(commitments[i])}`).join(", ")}: funded, disbursed to the ` +
    `borrower, ${LOAN_STATUS_NAMES[(await asB.state(fundedId)).status]}`,
);
const keeper = splitterAs(auditor);
let paidIn = 0n;
async function installment(label: string) {
  await time.increase(30 * DAY);
  const paid = await splitterAs(borrower).repay(fundedId, undefined, borrowerDeposit);
  paidIn += paid.amount;
  const s = paid.split;
  say(
    `   ${label}: ${amount(splitTotal(s))} = fee ${amount(s.platformFee)} + premium ${amount(s.premium)} + reserve ` +
      `${amount(s.reserve)} + interest ${amount(s.interest)} + principal ${amount(s.principal)}`,
  );
  const pushed = await keeper.pushPendingPayouts();
  say(`   the keeper pushed ${amount(pushed.reduce((sum, r) => sum + r.paid, 0n))} to the lenders`);
}
await installment("installment 1");
await installment("installment 2");
await splitterAs(lender3).transferShare(fundedId, toAddress(lender1.address), commitments[2] / 2n);
say(
  "   lender 3 sells half its share to lender 1: what it earned so far stays with it, later payouts follow the share",
);
await installment("installment 3");
const received = await Promise.all(
  lenders.map(async (l, i) => (await balanceOf(l)) - startBalances[i] + commitments[i]),
);
say(`   received so far: ${names.map((n, i) => `${n} ${amount(received[i])}`).join(", ")}`);
const fees = await Promise.all([
  keeper.feesOwed(toAddress(platformB.address)),
  keeper.feesOwed(toAddress(insurer.address)),
  // Reserve contributions wait per platform for the fund to collect them.
  keeper.reserveOwed(toAddress(platformB.address)),
]);
const fundedBook = await keeper.book(fundedId);
const conserved =
  fees.reduce((a, b) => a + b, 0n) +
  received.reduce((a, b) => a + b, 0n) +
  (fundedBook.lendersIn - fundedBook.lendersPaid);
say(
  `   paid in ${amount(paidIn)} = platform ${amount(fees[0])} + insurer ${amount(fees[1])} + reserve ${amount(fees[2])} + ` +
    `lenders ${amount(received.reduce((a, b) => a + b, 0n))} + undistributed ${amount(fundedBook.lendersIn - fundedBook.lendersPaid)}` +
    (conserved === paidIn ? ": every wei accounted for" : ": MISMATCH"),
);
if (conserved !== paidIn) process.exitCode = 1;
all.push([fundedId, funded]);

say("8. Collateral: a mortgage whose lien follows the loan to repayment, and a car seized and sold on default:");
const collateralAs = (signer: typeof governance) => as(signer).collateral;
const flat = assetKey(AssetClass.RealEstate, "京(2024)朝阳区不动产权第0001234号", allianceKey);
await collateralAs(platformB).register(
  flat,
  toAddress(borrower.address),
  AssetClass.RealEstate,
  1_500_000n * 10n ** 18n,
  toHash32(id("flat appraisal report")),
);
const sameFlat = assetKey(AssetClass.RealEstate, "京（2024）朝阳区 不动产权第0001234号", allianceKey);
say(
  `   platform B registers Hua's flat as ${formatAssetId(flat).slice(0, 18)}…; the same land-registry number ` +
    `written with full-width brackets and a space gives ${sameFlat === flat ? "the same asset" : "ANOTHER asset"}`,
);
const mortgage = await terms(platformB, hua, ScheduleKind.EqualInstallment, 12, 300_000n, "B-2026-0003");
const { loanId: mortgageId } = await asB.anchor(mortgage);
const pledgeRequest = { assetId: flat, loanId: mortgageId, securedAmount: 300_000n * 10n ** 18n, priority: 1 };
const ownerConsent = await collateralAs(borrower).consent(pledgeRequest, (await time.latest()) + DAY);
await collateralAs(platformB).pledge(pledgeRequest, ownerConsent);
await asB.activate(mortgageId);
say(`   Hua signs an EIP-712 consent, platform B pledges the flat first-priority to ${shortLoanId(mortgageId)}`);
await time.increase(30 * DAY);
const mortgageDue = await asB.nextPayment(mortgageId);
await asB.recordRepayment(
  mortgageId,
  mortgageDue.interest + mortgageDue.lateInterest + (await asB.state(mortgageId)).outstandingPrincipal,
);
await collateralAs(auditor).release(flat, mortgageId);
const [mortgageLien] = await collateralAs(auditor).liens(flat);
say(
  `   the mortgage is repaid early (${LOAN_STATUS_NAMES[(await asB.state(mortgageId)).status]}); anyone may now release ` +
    `the lien, and the auditor does: ${LIEN_STATUS_NAMES[mortgageLien.status]}`,
);

const car = assetKey(AssetClass.Vehicle, "LSVAU2180N2183294", allianceKey);
await collateralAs(platformB).register(
  car,
  toAddress(carOwner.address),
  AssetClass.Vehicle,
  90_000n * 10n ** 18n,
  toHash32(id("car appraisal report")),
);
const carLoan = await terms(platformB, ming, ScheduleKind.EqualInstallment, 12, 60_000n, "B-2026-0004");
const { loanId: carLoanId } = await asB.anchor(carLoan);
const carPledge = { assetId: car, loanId: carLoanId, securedAmount: 60_000n * 10n ** 18n, priority: 1 };
// A lien takes both parties: Ming consents, platform B takes the lien.
await collateralAs(platformB).pledge(
  carPledge,
  await collateralAs(carOwner).consent(carPledge, (await time.latest()) + DAY),
);
await splitterAs(platformB).openFunding(carLoanId, {
  borrowerPayout: toAddress(carOwner.address),
  insurer: toAddress(insurer.address),
  platformFeeBps: 100,
  premiumBps: 60,
  reserveBps: 25,
});
await insuranceAs.depositCapital(100_000n * 10n ** 18n);
await insuranceAs.writePolicy(carLoanId, 5_000, (await time.latest()) + 365 * DAY);
const reserveAs = as(platformB).reserve;
await deposit(platformB, 20_000n * 10n ** 18n);
await reserveAs.deposit(20_000n * 10n ** 18n);
const carBefore = await Promise.all([lender1, lender2].map(balanceOf));
await splitterAs(lender1).fund(carLoanId, 25_000n * 10n ** 18n);
await splitterAs(lender2).fund(carLoanId, 35_000n * 10n ** 18n);
say(
  `   Ming pledges his car to a 60 000 loan funded by lenders 1 and 2 through the splitter; the insurer covers 50% ` +
    `of its loss (backed by 100 000 of capital) and platform B has deposited 20 000 in the risk reserve`,
);
// Ming pays two installments, so the loan is seasoned: the reserve compensates only loans that ran a while and paid.
await deposit(carOwner, 20_000n * 10n ** 18n);
for (let k = 0; k < 2; k++) {
  await time.increase(30 * DAY);
  await splitterAs(carOwner).repay(carLoanId);
}
say("   Ming pays two installments, then stops paying");
await time.increase(30 * DAY + carLoan.gracePeriod + DAY);
await asB.markLate(carLoanId);
await time.increase(carLoan.defaultThreshold);
await asB.markDefaulted(carLoanId);
await collateralAs(platformB).seize(car, carLoanId);
say(
  `   ${shortLoanId(carLoanId)} is ${LOAN_STATUS_NAMES[(await asB.state(carLoanId)).status]}; platform B seizes the car`,
);
const salePrice = 48_500n * 10n ** 18n;
await collateralAs(platformB).proposeSale(car, {
  price: salePrice,
  buyerRef: toHash32(id("auction lot 17")),
  saleDocHash: toHash32(id("car sale contract")),
});
const proposal = (await collateralAs(custodian).sale(car))!;
await collateralAs(custodian).confirmSale(car, proposal.proposalHash);
say(
  `   platform B proposes to sell the car at auction for ${amount(salePrice)}, below the 80% of its appraisal it may ` +
    `sell for alone: every lienholder sees the proposal for the sale window, and the vehicle pound (a custodian ` +
    `member) confirms the price`,
);
await time.increaseTo(proposal.completesAt);
await deposit(platformB, salePrice);
await collateralAs(platformB).dispose(car);
const waterfallAs = as(platformB).waterfall;
await waterfallAs.settle(carLoanId);
const lossCase = await waterfallAs.lossCase(carLoanId);
await keeper.pushPendingPayouts();
const carReceived = await Promise.all([lender1, lender2].map(async (l, i) => (await balanceOf(l)) - carBefore[i]));
say(`   the loss at default: ${amount(lossCase.loss)} (principal and the interest due), covered in order:`);
say(`     the car's sale for ${amount(salePrice)}: ${amount(lossCase.recoveredBefore)} to the lenders`);
say(`     the insurer's claim (50% of the rest): ${amount(lossCase.insurerBore)}`);
say(`     the risk reserve (50% of what is left, within its caps): ${amount(lossCase.reserveBore)}`);
say(`     borne by the lenders: ${amount(lossCase.lendersBore)}`);
say(
  `   lenders 1 and 2 get back ${amount(carReceived[0] + 25_000n * 10n ** 18n)} and ` +
    `${amount(carReceived[1] + 35_000n * 10n ** 18n)} of their 25 000 and 35 000, pro rata; ` +
    `any later recovery is shared pari passu by insurer, reserve and lenders`,
);
all.push([mortgageId, mortgage], [carLoanId, carLoan]);
const record = await asA.loans.exposure(ming);
say(
  `   platform A sees Ming's record across the alliance: late ${record.lateEvents} time(s), ` +
    `defaulted ${record.defaultEvents} time(s)`,
);

say("9. The alliance's monthly operations report, computed from the ledger; platform B publishes its month:");
const disclosureAs = (signer: typeof governance) => as(signer).disclosures;
const reportSource = nodeOperationsSource(
  ethers.provider,
  { ...suite.connect(auditor).auditSources, disclosures: suite.contracts.disclosures, token: String(token.target) },
  suite.fromBlock,
);
const timeZone = operations.DEFAULT_TIME_ZONE;
const month = operations.addMonths(operations.monthOf(await time.latest(), timeZone), -1);
const reportContext = async (platform?: string) => {
  const { months, head } = await operations.readOperations(reportSource, { month, timeZone });
  return operations.buildReport(months, {
    timeZone,
    chainId: String((await ethers.provider.getNetwork()).chainId),
    registry: String(loansContract.target),
    token: { symbol: await token.symbol(), decimals: Number(await token.decimals()) },
    block: head.block,
    blockTime: head.time,
    platform,
  });
};
const allianceReport = await reportContext();
await mkdir(REPORT_DIR, { recursive: true });
const reportFiles = {
  json: JSON.stringify(allianceReport, null, 2) + "\n",
  csv: operations.reportCsv(allianceReport),
  "xbrl.json": JSON.stringify(operations.reportXbrl(allianceReport), null, 2) + "\n",
  html: operations.reportHtml(allianceReport),
};
for (const [extension, text] of Object.entries(reportFiles)) {
  await writeFile(`${REPORT_DIR}/operations-report-${month}.${extension}`, text);
}
const a = allianceReport.alliance.figures;
say(
  `   ${month} (${timeZone}): ${a.loansLentCount} loans lent, ${amount(BigInt(a.outstandingPrincipal!))} outstanding, ` +
    `overdue ${Number(a.overdueRateAmountBps) / 100}% by amount, bad debt ${Number(a.badDebtRateBps) / 100}%; ` +
    `written to ${REPORT_DIR}/ as JSON, CSV, xBRL-JSON and HTML`,
);
const reportOfB = await reportContext(platformB.address.toLowerCase());
const { version } = await disclosureAs(platformB).publishOperations(reportOfB);
const published = await disclosureAs(auditor).operationsReport(toAddress(platformB.address), month);
const check = operations.checkOperations(published, await reportContext(platformB.address.toLowerCase()), reportOfB);
if (check.agrees) await disclosureAs(auditor).attestOperations(reportOfB, version);
const b = reportOfB.platforms[0].figures;
say(
  `   platform B's related-party loans: ${b.relatedPartyLentCount} lent, ${amount(BigInt(b.relatedPartyOutstandingPrincipal!))} outstanding`,
);
say(
  `   platform B published version ${version} (its report's hash and its figures' digest); ` +
    `${check.agrees ? "the auditor recomputes the month from the ledger, finds the same figures and attests it" : "MISMATCH: " + (check.problem ?? check.differences.map((d) => d.figure).join(", "))}`,
);
if (!check.agrees) process.exitCode = 1;

say("10. Governance suspends platform A: it can no longer originate, but keeps servicing its loans:");
await governanceClient.suspendMember(toAddress(platformA.address));
const refused = await asA.loans.previewAnchor(
  toAddress(platformA.address),
  await terms(platformA, hua, ScheduleKind.Bullet, 1, 1_000n, "A-2026-0004"),
);
say(`   a new loan would be refused: ${refused?.message}`);
const next = await asA.loans.nextPayment(loanIds[1]);
await asA.loans.recordRepayment(loanIds[1], next.principal + next.interest + next.lateInterest);
const after = await asA.loans.state(loanIds[1]);
say(
  `   but it records Hua's payment on ${shortLoanId(loanIds[1])} all the same: ${after.installmentsPaid} installment(s) paid, ${amount(after.outstandingPrincipal)} outstanding`,
);

say("11. Platform A fails: governance expels it and hands its book to platform B, and a lender declares a default:");
await governanceClient.expelMember(toAddress(platformA.address));
const asGovernance = as(governance).loans;
await asGovernance.appointSuccessor(toAddress(platformA.address), toAddress(platformB.address));
const bookOfA = await asB.loansOf(toAddress(platformA.address));
// Anyone may carry out the appointment loan by loan; each hand-over is a fact in that loan's history.
await asB.takeOverLoans(bookOfA);
say(`   platform B now services all ${bookOfA.length} loans of platform A; each history records the hand-over`);
const silent = loanIds[1];
const silentTerms = await asB.terms(silent);
const silentState = await asB.state(silent);
const nextDue = silentState.activatedAt + (silentState.installmentsPaid + 1) * silentTerms.period;
const { publicDefaultDelay } = await asB.alliancePolicy();
const publicAt = nextDue + silentTerms.defaultThreshold + publicDefaultDelay;
if ((await time.latest()) < publicAt) await time.increaseTo(publicAt);
const asLender = as(lender1).loans;
await asLender.markDefaulted(silent);
const loss = await asLender.lossOf(silent);
say(
  `   Hua stops paying ${shortLoanId(silent)}; once its default threshold and the alliance's public delay have passed, ` +
    `lender 1 declares the default itself (nobody can hide it): loss ${amount(loss.principal + loss.interest)} recorded`,
);

say("12. The auditor rebuilds every loan's history from the chain and checks it against the on-chain head:");
let ok = true;
for (const [lid] of all) {
  const history = await loanHistory(asAuditor, lid);
  ok &&= history.verified;
  say(
    `   ${formatLoanId(lid).slice(0, 18)}… ${String(history.entries.length).padStart(2)} facts, head ${history.onChainHead.slice(0, 18)}… ${history.verified ? "verified" : "MISMATCH"}`,
  );
}
say(ok ? "\nEvery history is complete and unaltered." : "\nA history did not verify.");

// The auditor's archive: the chain's export and the documents, for `loanledger audit verify --from-export`.
const ledger = await collectLedger(suite.connect(auditor).auditSources);
await writeExport(AUDIT_DIR, ledger);
await mkdir(DOCS_DIR, { recursive: true });
for (const [i, text] of documents.entries()) await writeFile(`${DOCS_DIR}/document-${i + 1}.txt`, text);
// The company wallet's signature is no key's: the auditor asks the wallet itself, at the export's block.
const walletApprovals = await readWalletApprovals(ethers.provider, consentDomain, ledger.loans, ledger.block?.number);
const audit = await verifyLedger(ledger, { docsDir: DOCS_DIR, walletApprovals });
say(
  `   consent: ${audit.consent.signed.length} loan(s) signed on chain, ${audit.consent.legacy.length} signed on paper, ` +
    `${audit.consent.none.length} without the borrower's consent on chain`,
);
say(`   ${balancesSentence(audit)}`);
for (const line of custodySentences(audit)) say(`   ${line}`);
say(
  `\nExported the chain to ${AUDIT_DIR} and its ${documents.length} documents to ${DOCS_DIR}: ` +
    `${audit.loans.length} loans, ${audit.entries} history entries, ${audit.findings.length} finding(s). Check it ` +
    `offline with\n` +
    `  npx loanledger audit verify --from-export ${AUDIT_DIR} --docs ${DOCS_DIR} --out audit-out\n` +
    `   (this demo's chain ends with it, so the heads are the export's word and the company wallet's signature is ` +
    `reported as not proven: only a node can ask the wallet. To prove both, run the demo on a node ` +
    `(\`npx hardhat node\`, then \`npx hardhat run scripts/demo.ts --network localhost\`) and add ` +
    `\`--rpc http://127.0.0.1:8545\`)`,
);

say("\n13. The custody bank pays a lender out and reconciles its statement with the ledger:");
// Lender 1 takes 50 000 back to its bank account; the bank redeems the tokens before it releases the payment.
const withdrawn = 50_000n * 10n ** 18n;
const { id: withdrawal } = await new CustodyClient(String(token.target), lender1).requestWithdrawal(withdrawn);
await custody.redeem(withdrawal, "DEMO-OUT-1");
await bankBooks("debit", withdrawn, "DEMO-OUT-1");
await time.increase(60);
const statementTo = await time.latest();
const bankStatement = statementOf(
  {
    format: "camt.053",
    statementId: "DEMO-STMT-1",
    account: CUSTODY_ACCOUNT,
    currency: "CNY",
    from: new Date(statementFrom * 1000).toISOString(),
    to: new Date(statementTo * 1000).toISOString(),
    opening: 0n,
  },
  journal,
);
const statementXml = writeCamt053(bankStatement, 18);
await mkdir(CUSTODY_DIR, { recursive: true });
const statementFile = `${CUSTODY_DIR}/statement-DEMO-STMT-1.xml`;
await writeFile(statementFile, statementXml);
const reconciliation = reconcile(
  bankStatement,
  await readLedgerSide(new CustodyClient(String(token.target), auditor), bankStatement),
  createHash("sha256").update(statementXml).digest("hex"),
);
await writeFile(`${CUSTODY_DIR}/custody-reconciliation-DEMO-STMT-1.md`, reconciliationMarkdown(reconciliation, amount));
say(
  `   ${journal.length - 1} deposits issued against the bank's end-to-end ids, 1 withdrawal redeemed; the bank's ` +
    `camt.053 statement (${statementFile}): ${reconciliation.matched.length} of ${journal.length} entries matched, ` +
    `closing balance ${amount(reconciliation.balance.closing)}, what the bank holds for the ledger ` +
    `${amount(reconciliation.balance.outstanding)} (the supply, ${amount(reconciliation.ledger.supply)}) at block ` +
    `${reconciliation.ledger.cutoffBlock}: ${reconciliation.ok ? "reconciled" : "BREAKS"}`,
);
for (const line of breakLines(reconciliation, amount)) say(`   ${line}`);
say(`   check it yourself against a node of this chain: npx loanledger custody reconcile ${statementFile}`);
if (!reconciliation.ok) process.exitCode = 1;
if (!audit.ok) process.exitCode = 1;
if (!ok) process.exitCode = 1;
