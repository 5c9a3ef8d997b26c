/** Defaults and the loss waterfall, the reserve, insurance and borrowers' records. */
import {
  InputError,
  shortLoanId,
  toAddress,
  formatLoanId,
  parseAllianceKey,
  borrowerRef,
  CREDIT_EVENT_NAMES,
  toBorrowerRef,
  type BorrowerRef,
  type LossCaseInfo,
} from "../../client/index.js";
import { type CliContext } from "../context.js";
import { table, money } from "../output.js";
import { isoTime } from "../dates.js";
import { parseAmount, parseTime } from "../terms-file.js";
import { arg, address, loanIdArg, wholeNumber, latestTime } from "../args.js";
import { borrower } from "../nouns/borrower.js";
import { insurance } from "../nouns/insurance.js";
import { loan } from "../nouns/loan.js";
import { reserve } from "../nouns/reserve.js";
import { plan, planEach, type Plan } from "../table.js";

export function borrowerFrom(p: { words: readonly string[]; nationalId?: string }, ctx: CliContext): BorrowerRef {
  if (p.nationalId) return borrowerRef(p.nationalId, parseAllianceKey(ctx.allianceKeyHex));
  const ref = arg(p.words, 2, "borrower reference");
  try {
    return toBorrowerRef(ref);
  } catch {
    throw new InputError(`not a borrower reference: ${ref}`);
  }
}

/** Loss waterfall, reserve, insurance and borrowers' cross-platform record. */
const fmtOf = (ctx: CliContext) => (v: bigint) => money(ctx, v);
const caseLines = (c: LossCaseInfo, fmt: (v: bigint) => string) =>
  table(
    ["part", "bore", "recovered"],
    [
      ["recovered before settlement", fmt(c.recoveredBefore), "-"],
      ["insurer", fmt(c.insurerBore), fmt(c.insurerRecovered)],
      ["reserve", fmt(c.reserveBore), fmt(c.reserveRecovered)],
      ["lenders", fmt(c.lendersBore), fmt(c.lendersRecovered)],
    ],
  );

export const plans: Record<string, Plan> = {
  ...planEach(["loan settle", "loan loss"], loan.settle, (p, print) => {
    const action = p.words[1];
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const hash = action === "settle" ? (await ctx.waterfall.settle(id)).hash : undefined;
      const [loss, c] = await Promise.all([ctx.loans.lossOf(id), ctx.waterfall.lossCase(id)]);
      const fmt = fmtOf(ctx);
      print(
        io,
        { loanId: formatLoanId(id), loss, case: c, tx: hash },
        `loan ${shortLoanId(id)} lost ${fmt(loss.principal + loss.interest)} (principal ${fmt(loss.principal)}, ` +
          `interest ${fmt(loss.interest)})${c.settled ? "" : ", not settled yet"}\n${caseLines(c, fmt)}`,
      );
    };
  }),
  "loan recovery": plan(loan.recovery, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const amountText = arg(p.words, 3, "amount");
    return async (_p, ctx, io) => {
      const { taken, receipt } = await ctx.waterfall.recover(id, parseAmount(amountText, ctx.decimals));
      const fmt = fmtOf(ctx);
      print(
        io,
        { loanId: formatLoanId(id), taken, tx: receipt.hash },
        `${caseLines(await ctx.waterfall.lossCase(id), fmt)}\ntook ${fmt(taken)}`,
      );
    };
  }),
  "reserve deposit": plan(reserve.deposit, (p, print) => {
    const amountText = arg(p.words, 2, "amount");
    return async (_p, ctx, io) => {
      const receipt = await ctx.reserve.deposit(parseAmount(amountText, ctx.decimals));
      print(io, { tx: receipt.hash }, `deposited ${amountText} into the risk reserve`);
    };
  }),
  "reserve collect": plan(reserve.collect, (p, print) => {
    const named = p.words.slice(2).map(address);
    return async (_p, ctx, io) => {
      const platforms = named.length
        ? named
        : (await ctx.alliance.members()).filter((m) => m.roles.includes("Platform")).map((m) => m.account);
      const receipt = await ctx.reserve.collect(platforms);
      print(io, { platforms, tx: receipt.hash }, `collected reserve contributions of ${platforms.length} platform(s)`);
    };
  }),
  "reserve policy": plan(reserve.policy, (p, print) => {
    const changing = p.coverageBps !== undefined || p.capPerLoan !== undefined || p.quotaMultipleBps !== undefined;
    return async (_p, ctx, io) => {
      const current = await ctx.reserve.policy();
      if (changing) {
        await ctx.reserve.setPolicy({
          coverageBps: wholeNumber(p.coverageBps, "--coverage-bps", current.coverageBps, 10_000),
          capPerLoan: p.capPerLoan ? parseAmount(p.capPerLoan, ctx.decimals, "--cap-per-loan") : current.capPerLoan,
          quotaMultipleBps: wholeNumber(
            p.quotaMultipleBps,
            "--quota-multiple-bps",
            current.quotaMultipleBps,
            2 ** 32 - 1,
          ),
          minLoanAge: current.minLoanAge,
          minInstallmentsPaid: current.minInstallmentsPaid,
        });
      }
      const policy = await ctx.reserve.policy();
      print(
        io,
        policy,
        `reserve covers ${policy.coverageBps / 100}% of a loss after collateral and insurance, at most ` +
          `${money(ctx, policy.capPerLoan)} a loan and ${policy.quotaMultipleBps / 10_000}× a platform's contributions`,
      );
    };
  }),
  "reserve show": plan(reserve.show, (p, print) => {
    const platformText = p.words[2];
    return async (_p, ctx, io) => {
      const fmt = fmtOf(ctx);
      const balance = await ctx.reserve.balance();
      if (!platformText) {
        print(io, { balance }, `the risk reserve holds ${fmt(balance)}`);
        return;
      }
      const position = await ctx.reserve.position(address(platformText));
      print(
        io,
        { balance, ...position },
        table(
          ["figure", "amount"],
          [
            ["fund balance", fmt(balance)],
            ["contributed", fmt(position.contributed)],
            ["compensation received", fmt(position.compensated)],
            ["reimbursed", fmt(position.reimbursed)],
            ["quota remaining", fmt(position.quotaRemaining)],
          ],
        ),
      );
    };
  }),
  "insurance capital": plan(insurance.capital, (p, print) => {
    const amountText = arg(p.words, 2, "amount");
    return async (_p, ctx, io) => {
      const amount = parseAmount(amountText, ctx.decimals);
      const me = toAddress(await ctx.signer.getAddress());
      const receipt = p.withdraw
        ? await ctx.insurance.withdrawCapital(amount, p.to ? address(p.to) : me)
        : await ctx.insurance.depositCapital(amount);
      const capital = await ctx.insurance.capital(me);
      print(
        io,
        { ...capital, tx: receipt.hash },
        `capital ${money(ctx, capital.capital)}, of which ${money(ctx, capital.free)} free`,
      );
    };
  }),
  "insurance write": plan(insurance.write, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const coverage = wholeNumber(p.coverageBps, "--coverage-bps", 0, 10_000);
    const termEnd = p.termEnd;
    return async (_p, ctx, io) => {
      const end = parseTime(termEnd, "--term-end", await latestTime(ctx));
      const receipt = await ctx.insurance.writePolicy(id, coverage, end);
      print(
        io,
        { loanId: formatLoanId(id), tx: receipt.hash },
        `insured loan ${shortLoanId(id)} at ${coverage / 100}% until ${isoTime(end, ctx.timeZone)}`,
      );
    };
  }),
  "insurance release": plan(insurance.release, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.insurance.releasePolicy(id);
      print(io, { loanId: formatLoanId(id), tx: receipt.hash }, `released the policy on loan ${shortLoanId(id)}`);
    };
  }),
  "insurance show": plan(insurance.show, (p, print) => {
    const subject = arg(p.words, 2, "loan id or insurer address");
    return async (_p, ctx, io) => {
      const fmt = fmtOf(ctx);
      if (subject.length === 42) {
        const capital = await ctx.insurance.capital(address(subject));
        print(
          io,
          capital,
          `capital ${fmt(capital.capital)}: ${fmt(capital.locked)} backs policies, ${fmt(capital.free)} free`,
        );
        return;
      }
      const policy = await ctx.insurance.policy(loanIdArg(subject));
      print(
        io,
        policy,
        `${policy.status} policy by ${policy.insurer}: ${policy.coverageBps / 100}% cover up to ${fmt(policy.maxClaim)}, ` +
          `claim paid ${fmt(policy.claimPaid)}, reimbursed ${fmt(policy.reimbursed)}`,
      );
    };
  }),
  ...planEach(["borrower exposure", "borrower events"], borrower.exposure, (p, print) => {
    const action = p.words[1];
    return async (_p, ctx, io) => {
      const ref = borrowerFrom(p, ctx);
      if (action === "exposure") {
        const e = await ctx.loans.exposure(ref);
        print(
          io,
          e,
          `${ref.slice(0, 18)}…: ${e.openLoans} open loan(s), ${money(ctx, e.outstandingPrincipal)} outstanding; ` +
            `late ${e.lateEvents}, cured ${e.curedEvents}, defaulted ${e.defaultEvents}, written off ${e.writeOffEvents}`,
        );
        return;
      }
      const events = await ctx.loans.creditEvents(ref);
      print(
        io,
        events,
        events.length
          ? table(
              ["time", "event", "loan", "platform"],
              events.map((e) => [
                isoTime(e.at, ctx.timeZone),
                CREDIT_EVENT_NAMES[e.kind],
                shortLoanId(e.loanId),
                e.platform,
              ]),
            )
          : "no credit events",
      );
    };
  }),
};
