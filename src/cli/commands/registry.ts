/** Members, lenders and loans in the registry. */
import {
  bankReference,
  NO_BANK_REF,
  InputError,
  describeFact,
  LOAN_STATUS_NAMES,
  LoanStatus,
  FundingPhase,
  LoanLedgerError,
  SCHEDULE_KIND_NAMES,
  schedule,
  shortLoanId,
  formatLoanId,
  loanIdOf,
  type LoanId,
} from "../../client/index.js";
import { type CliContext } from "../context.js";
import { loanStates } from "../loan-states.js";
import { table, money } from "../output.js";
import { isoTime } from "../dates.js";
import { documentHash, parseAmount, parseTime, readTermsFile } from "../terms-file.js";
import { arg, address, loanIdArg, roles, metadataHash, latestTime } from "../args.js";
import { lender } from "../nouns/lender.js";
import { loan } from "../nouns/loan.js";
import { member } from "../nouns/member.js";
import { plan, planEach, type Plan } from "../table.js";
import { termsToAnchor } from "../anchored-again.js";
import { amendSigned, anchorSigned } from "../signatures.js";
import { splitTable } from "../splits.js";
import { anchorInBatches } from "../anchor-batches.js";

const LIFECYCLE: Record<string, (ctx: CliContext, id: LoanId) => Promise<unknown>> = {
  activate: (ctx, id) => ctx.loans.activate(id),
  cancel: (ctx, id) => ctx.loans.cancel(id),
  late: (ctx, id) => ctx.loans.markLate(id),
  default: (ctx, id) => ctx.loans.markDefaulted(id),
  recover: (ctx, id) => ctx.loans.markRecovered(id),
  // A loan the splitter funded is written off through the loss waterfall, once its loss is settled.
  "write-off": async (ctx, id) =>
    (await ctx.loans.state(id)).servicingDelegated ? ctx.waterfall.writeOff(id) : ctx.loans.writeOff(id),
};

/** Members, lenders and the loan registry's own commands. */

export const plans: Record<string, Plan> = {
  "member add": plan(member.add, (p, print) => {
    const account = address(arg(p.words, 2, "address"));
    const wanted = roles(p.roles);
    const hash = metadataHash(p.metadata);
    return async (_p, ctx, io) => {
      const receipt = await ctx.alliance.admitMember(account, wanted, hash);
      print(io, { account, roles: wanted, tx: receipt.hash }, `admitted ${account} as ${wanted.join(", ")}`);
    };
  }),
  ...planEach(["member suspend", "member reinstate", "member expel"], member.suspend, (p, print) => {
    const action = p.words[1];
    const account = address(arg(p.words, 2, "address"));
    return async (_p, ctx, io) => {
      const send = {
        suspend: ctx.alliance.suspendMember,
        reinstate: ctx.alliance.reinstateMember,
        expel: ctx.alliance.expelMember,
      }[action as "suspend" | "reinstate" | "expel"].bind(ctx.alliance);
      const receipt = await send(account);
      print(io, { account, action, tx: receipt.hash }, `${action === "expel" ? "expelled" : `${action}ed`} ${account}`);
    };
  }),
  "member successor": plan(member.successor, (p, print) => {
    const platform = address(arg(p.words, 2, "platform address"));
    const successor = address(arg(p.words, 3, "successor address"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.loans.appointSuccessor(platform, successor);
      print(io, { platform, successor, tx: receipt.hash }, `${successor} will take over the loans of ${platform}`);
    };
  }),
  "loan take-over": plan(loan["take-over"], (p, print) => {
    const platform = address(arg(p.words, 2, "platform address"));
    return async (_p, ctx, io) => {
      // Nothing to hand over is a mistake in the command, not a success: say which.
      const standing = await ctx.alliance.member(platform);
      if (!standing.roles.includes("Platform")) throw new InputError(`${platform} is not a platform of the alliance`);
      if ((await ctx.loans.successorOf(platform)) === null) {
        throw new InputError(
          `${platform} has no standing successor (it is ${standing.status.toLowerCase()}): governance appoints one with ` +
            "`loanledger member successor`",
        );
      }
      const loans = await ctx.loans.loansOf(platform);
      const states = await loanStates(ctx, loans);
      // A loan already handed over (to the successor, or elsewhere by governance) stays where it is.
      const pending = loans.filter((_, i) => !states[i].handedOver);
      const txs: string[] = [];
      // 50 hand-overs (each a history fact) stay well inside any block.
      for (let i = 0; i < pending.length; i += 50) {
        txs.push((await ctx.loans.takeOverLoans(pending.slice(i, i + 50))).hash);
      }
      print(
        io,
        { platform, handedOver: pending.map(formatLoanId), txs },
        `handed ${pending.length} loan(s) of ${platform} over to its successor`,
      );
    };
  }),
  "member list": plan(member.list, (_p, print) => {
    return async (_p, ctx, io) => {
      const members = await ctx.alliance.members();
      print(
        io,
        members,
        table(
          ["account", "roles", "status", "since"],
          members.map((m) => [m.account, m.roles.join(","), m.status, isoTime(m.since, ctx.timeZone)]),
        ),
      );
    };
  }),
  "lender allow": plan(lender.allow, (p, print) => {
    const lender = address(arg(p.words, 2, "address"));
    const expiry = p.kycExpiry;
    return async (_p, ctx, io) => {
      const until = parseTime(expiry, "--kyc-expiry", await latestTime(ctx));
      const receipt = await ctx.alliance.allowLender(lender, until);
      print(
        io,
        { lender, kycExpiry: until, tx: receipt.hash },
        `allowed lender ${lender} until ${isoTime(until, ctx.timeZone)}`,
      );
    };
  }),
  "lender revoke": plan(lender.revoke, (p, print) => {
    const lender = address(arg(p.words, 2, "address"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.alliance.revokeLender(lender);
      print(io, { lender, tx: receipt.hash }, `revoked lender ${lender}`);
    };
  }),
  "lender show": plan(lender.show, (p, print) => {
    const lender = address(arg(p.words, 2, "address"));
    return async (_p, ctx, io) => {
      const info = await ctx.alliance.lender(lender);
      print(
        io,
        info,
        `${lender}: ${info.allowed ? "allowed" : "not allowed"} until ${isoTime(info.kycExpiry, ctx.timeZone)}, KYC by ${info.kycProvider}`,
      );
    };
  }),
  "loan anchor": plan(loan.anchor, (p, print) => {
    if (p.signatures !== undefined) return anchorSigned(p, p.signatures, print);
    const file = p.file;
    return async (_p, ctx, io) => {
      const { terms } = await termsToAnchor(ctx, file);
      const loanIds =
        terms.length === 1 ? [(await ctx.loans.anchor(terms[0])).loanId] : await anchorInBatches(ctx, terms);
      const ids = loanIds.map(formatLoanId);
      print(io, { loanIds: ids }, ids.map((id) => `anchored loan ${id}`).join("\n"));
    };
  }),
  "loan show": plan(loan.show, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const loan = await ctx.loans.loan(id);
      const { terms, state } = loan;
      const amount = (v: bigint) => money(ctx, v);
      let status: string = LOAN_STATUS_NAMES[state.status];
      if (state.status === LoanStatus.Funding) {
        const opened = (await ctx.splitter.book(id)).phase !== FundingPhase.None;
        status += opened ? " (open for lenders' commitments)" : " (funding not opened yet)";
      }
      const rows: [string, string][] = [
        ["loan", formatLoanId(id)],
        ["status", status],
        ["platform", terms.platform],
        ["platform's reference", `${terms.platformRef} (the hash of its text: loan find --ref <text>)`],
        ["borrower reference", terms.borrowerRef],
        ["principal", amount(terms.principal)],
        ["outstanding principal", amount(state.outstandingPrincipal)],
        [
          "schedule",
          `${SCHEDULE_KIND_NAMES[terms.scheduleKind]}, ${terms.installments} × ${terms.period / 86_400} days`,
        ],
        ["annual rate", `${terms.annualRateBps / 100}%`],
        ["funding deadline", isoTime(terms.fundingDeadline, ctx.timeZone)],
        ["grace period", termLength(terms.gracePeriod)],
        ["late fee", `${terms.lateFeeBps / 100}% a year of late interest, per started day overdue`],
        ["default after", `${termLength(terms.defaultThreshold)} overdue`],
        ["installments paid", String(state.installmentsPaid)],
        ["activated", isoTime(state.activatedAt, ctx.timeZone)],
        ["document versions", String(state.documentVersion)],
        ["history head", loan.head],
      ];
      print(
        io,
        { ...loan, id: formatLoanId(id), status: LOAN_STATUS_NAMES[state.status] },
        table(["field", "value"], rows),
      );
    };
  }),
  "loan history": plan(loan.history, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      // The verifier is loaded by this command alone: the other registry commands do not need it.
      const { loanHistory } = await import("../../audit/index.js");
      const history = await loanHistory(ctx.loans, id);
      const text = [
        table(
          ["#", "time", "fact", "block", "head ok"],
          history.entries.map((e, i) => [
            i + 1,
            isoTime(e.fact.at, ctx.timeZone),
            describeFact(e.fact, e.writerFact, (amount) => money(ctx, amount)),
            e.blockNumber,
            e.head === e.replayedHead ? "yes" : "NO",
          ]),
        ),
        `history of ${shortLoanId(id)} ${history.verified ? "matches" : "DOES NOT match"} the on-chain head ${history.onChainHead}`,
        ...history.findings.map((f) => `${f.entry ? `entry ${f.entry}: ` : ""}${f.message}`),
      ].join("\n");
      // The client keeps the id as a number; --json writes it as every other output does.
      print(io, { ...history, loanId: formatLoanId(id) }, text);
      if (!history.verified)
        throw new LoanLedgerError(`the history of loan ${formatLoanId(id)} does not match its on-chain head`);
    };
  }),
  "loan schedule": plan(loan.schedule, (p, print) => {
    const idText = p.words[2];
    if (!idText && !p.file) throw new InputError("give a <loan id> or --file <terms.json>");
    const id = idText ? loanIdArg(idText) : undefined;
    const file = p.file;
    return async (_p, ctx, io) => {
      const all = id
        ? [await ctx.loans.terms(id)]
        : await readTermsFile(file!, {
            platform: address(await ctx.signer.getAddress()),
            now: await latestTime(ctx),
            decimals: ctx.decimals,
            allianceKeyHex: ctx.allianceKeyHex,
          });
      const amount = (v: bigint) => money(ctx, v);
      const schedules = all.map((terms) => ({ loanId: formatLoanId(loanIdOf(terms)), rows: schedule(terms) }));
      const text = schedules.map(({ loanId, rows }, i) => {
        // A file of several loans shows each, named by the id it will have once anchored.
        const heading = schedules.length > 1 ? `loan ${i + 1} of ${schedules.length}: ${loanId}\n` : "";
        return (
          heading +
          table(
            ["#", "due after (days)", "principal", "interest", "total", "balance after"],
            rows.map((r) => [
              r.k,
              r.dueAfter / 86_400,
              amount(r.principal),
              amount(r.interest),
              amount(r.total),
              amount(r.balanceAfter),
            ]),
            { right: [0, 1, 2, 3, 4, 5] },
          )
        );
      });
      // One loan's JSON is its rows, as it always was; several loans', one entry each.
      print(io, schedules.length === 1 ? schedules[0].rows : schedules, text.join("\n\n"));
    };
  }),
  ...planEach(
    Object.keys(LIFECYCLE).map((action) => `loan ${action}`),
    loan.activate,
    (p, print) => {
      const action = p.words[1];
      const id = loanIdArg(arg(p.words, 2, "loan id"));
      return async (_p, ctx, io) => {
        const receipt = (await LIFECYCLE[action](ctx, id)) as { hash: string };
        const state = await ctx.loans.state(id);
        print(
          io,
          { loanId: formatLoanId(id), status: LOAN_STATUS_NAMES[state.status], tx: receipt.hash },
          `loan ${shortLoanId(id)} is now ${LOAN_STATUS_NAMES[state.status]}`,
        );
      };
    },
  ),
  "loan repay": plan(loan.repay, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const amountText = p.words[3];
    const bankRef = p.endToEndId === undefined ? NO_BANK_REF : bankReference(p.endToEndId);
    return async (_p, ctx, io) => {
      const amount = amountText === undefined ? undefined : parseAmount(amountText, ctx.decimals);
      const fmt = (v: bigint) => money(ctx, v);
      if (!(await ctx.loans.state(id)).servicingDelegated) {
        if (amount === undefined) throw new InputError("missing <amount>: this loan's platform records repayments");
        const receipt = await ctx.loans.recordRepayment(id, amount, bankRef);
        const state = await ctx.loans.state(id);
        print(
          io,
          {
            loanId: formatLoanId(id),
            amount,
            status: LOAN_STATUS_NAMES[state.status],
            outstandingPrincipal: state.outstandingPrincipal,
            tx: receipt.hash,
          },
          `recorded ${fmt(amount)} on loan ${shortLoanId(id)}: ${LOAN_STATUS_NAMES[state.status]}, outstanding ${fmt(state.outstandingPrincipal)}`,
        );
        return;
      }
      const paid = await ctx.splitter.repay(id, amount, bankRef);
      const state = await ctx.loans.state(id);
      print(
        io,
        {
          loanId: formatLoanId(id),
          amount: paid.amount,
          installment: paid.installment,
          split: paid.split,
          status: LOAN_STATUS_NAMES[state.status],
          outstandingPrincipal: state.outstandingPrincipal,
          tx: paid.receipt.hash,
        },
        [
          `paid ${fmt(paid.amount)} on loan ${shortLoanId(id)}, installment ${paid.installment}:`,
          splitTable(paid.split, fmt),
          `${LOAN_STATUS_NAMES[state.status]}, outstanding ${fmt(state.outstandingPrincipal)}`,
        ].join("\n"),
      );
    };
  }),
  "loan amend": plan(loan.amend, (p, print) => {
    if (p.signatures !== undefined) return amendSigned(p, p.signatures, print);
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const path = p.document;
    return async (_p, ctx, io) => {
      const hash = await documentHash(path);
      const receipt = await ctx.loans.amendDocument(id, hash);
      const state = await ctx.loans.state(id);
      print(
        io,
        { loanId: formatLoanId(id), version: state.documentVersion, documentHash: hash, tx: receipt.hash },
        `loan ${shortLoanId(id)} document v${state.documentVersion} ${hash}`,
      );
    };
  }),
};

/** Seconds as people count them: whole days, else hours, else seconds. */
function termLength(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} hours`;
  return `${seconds} s`;
}
