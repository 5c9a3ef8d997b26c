/** Funding, repayments through the splitter, payouts, claims, fees and the keeper. */
import { ZeroAddress } from "ethers";
import {
  InputError,
  shortLoanId,
  toAddress,
  formatLoanId,
  FundingPhase,
  FUNDING_PHASE_NAMES,
  LOAN_STATUS_NAMES,
  LoanStatus,
  type FundingConfig,
} from "../../client/index.js";
import { table, money } from "../output.js";
import { isoTime } from "../dates.js";
import { payoutLine, splitTable } from "../splits.js";
import { parseAmount } from "../terms-file.js";
import { actingAs, arg, address, latestTime, loanIdArg, wholeNumber } from "../args.js";
import { fees } from "../nouns/fees.js";
import { keeper } from "../nouns/keeper.js";
import { lender } from "../nouns/lender.js";
import { loan } from "../nouns/loan.js";
import { plan, type Plan } from "../table.js";

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Funding, payouts, claims, fees and the keeper: the splitter's commands. */
export const plans: Record<string, Plan> = {
  "loan open-funding": plan(loan["open-funding"], (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const config: FundingConfig = {
      borrowerPayout: address(p.payout),
      insurer: p.insurer ? address(p.insurer) : toAddress(ZeroAddress),
      platformFeeBps: wholeNumber(p.platformFeeBps, "--platform-fee-bps", 0, 10_000),
      premiumBps: wholeNumber(p.premiumBps, "--premium-bps", 0, 10_000),
      reserveBps: wholeNumber(p.reserveBps, "--reserve-bps", 0, 10_000),
    };
    return async (_p, ctx, io) => {
      const receipt = await ctx.splitter.openFunding(id, config);
      print(io, { loanId: formatLoanId(id), config, tx: receipt.hash }, `loan ${shortLoanId(id)} is open for funding`);
    };
  }),
  "loan fund": plan(loan.fund, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const amountText = arg(p.words, 3, "amount");
    return async (_p, ctx, io) => {
      const amount = parseAmount(amountText, ctx.decimals);
      const receipt = await ctx.splitter.fund(id, amount);
      // The splitter takes at most what is left of the principal: say what it took, not what was asked.
      const events = receipt.logs
        .filter((log) => log.address.toLowerCase() === ctx.splitter.address.toLowerCase())
        .map((log) => ctx.splitter.contract.interface.parseLog(log));
      const committed = events.find((event) => event?.name === "Committed");
      const disbursed = events.find((event) => event?.name === "Disbursed");
      const taken = (committed?.args.amount as bigint | undefined) ?? amount;
      const book = await ctx.splitter.book(id);
      const fmt = (v: bigint) => money(ctx, v);
      const filled = taken < amount ? ` (all that was left of the ${fmt(amount)} asked)` : "";
      // The commitment that completes the funding disburses the principal and activates the loan: say so.
      const done = disbursed
        ? `; the principal, ${fmt(disbursed.args.amount as bigint)}, was disbursed to ${String(disbursed.args.borrowerPayout)} ` +
          `and the loan is ${LOAN_STATUS_NAMES[(await ctx.loans.state(id)).status]}`
        : "";
      print(
        io,
        {
          loanId: formatLoanId(id),
          amount: taken,
          asked: amount,
          committed: book.committed,
          phase: FUNDING_PHASE_NAMES[book.phase],
          ...(disbursed ? { disbursedTo: String(disbursed.args.borrowerPayout) } : {}),
          tx: receipt.hash,
        },
        `committed ${fmt(taken)}${filled} to loan ${shortLoanId(id)}: ${fmt(book.committed)} funded, ` +
          `${FUNDING_PHASE_NAMES[book.phase]}${done}`,
      );
    };
  }),
  "loan cancel-funding": plan(loan["cancel-funding"], (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.splitter.cancelFunding(id);
      print(
        io,
        { loanId: formatLoanId(id), tx: receipt.hash },
        `funding of loan ${shortLoanId(id)} cancelled; lenders can take their commitments back`,
      );
    };
  }),
  "loan due": plan(loan.due, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const fmt = (v: bigint) => money(ctx, v);
      const when = (seconds: number) => isoTime(seconds, ctx.timeZone);
      const { terms, state } = await ctx.loans.loan(id);
      const name = `loan ${shortLoanId(id)}`;
      const status = LOAN_STATUS_NAMES[state.status];
      const nothing = (why: string) =>
        print(io, { loanId: formatLoanId(id), status, due: null, total: 0n }, `nothing is due on ${name}: ${why}`);
      switch (state.status) {
        case LoanStatus.Funding:
          return nothing(
            `it is still funding (its deadline is ${when(terms.fundingDeadline)}); its first installment falls due ` +
              "one period after it is disbursed",
          );
        case LoanStatus.Cancelled:
          return nothing(`it was cancelled on ${when(state.statusSince)}, and nothing will be`);
        case LoanStatus.Repaid:
          return nothing(`it was repaid in full on ${when(state.statusSince)}`);
        case LoanStatus.Recovered:
          return nothing(`its loss was made whole on ${when(state.statusSince)}`);
        case LoanStatus.Defaulted:
        case LoanStatus.WrittenOff:
          return nothing(
            `it is ${status} since ${when(state.statusSince)}, so no installment falls due any more: what it owes ` +
              "is its loss, which recoveries pay through the loss waterfall (loan recovery)",
          );
      }
      const next = await ctx.loans.nextPayment(id);
      const now = await latestTime(ctx);
      const timing =
        state.status === LoanStatus.Late
          ? `was due ${when(next.dueDate)} and is overdue`
          : now < next.dueDate
            ? `falls due ${when(next.dueDate)} (paying now pays it early)`
            : `fell due ${when(next.dueDate)}`;
      const heading = `installment ${next.installment} of ${terms.installments} of ${name} ${timing}`;
      if ((await ctx.splitter.book(id)).phase === FundingPhase.None) {
        // Funded off the splitter: its platform records what the borrower pays it.
        const total = next.principal + next.interest + next.lateInterest;
        const parts = table(
          ["part", "amount"],
          [
            ["late interest", fmt(next.lateInterest)],
            ["interest", fmt(next.interest)],
            ["principal", fmt(next.principal)],
          ],
          { right: [1] },
        );
        print(
          io,
          { loanId: formatLoanId(id), status, installment: next.installment, dueDate: next.dueDate, due: next, total },
          `${heading}; it is paid to its platform, which records it (loan repay):\n${parts}\ntotal: ${fmt(total)}`,
        );
        return;
      }
      const { due, total } = await ctx.splitter.amountDue(id);
      print(
        io,
        { loanId: formatLoanId(id), status, installment: next.installment, dueDate: next.dueDate, due, total },
        `${heading}:\n${splitTable(due, fmt)}\ntotal to pay now: ${fmt(total)}`,
      );
    };
  }),
  "loan lenders": plan(loan.lenders, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const lenders = await ctx.splitter.lenders(id);
      const positions = await Promise.all(lenders.map((l) => ctx.splitter.position(id, l)));
      const fmt = (v: bigint) => money(ctx, v);
      print(
        io,
        positions,
        table(
          ["lender", "shares", "owed now"],
          positions.map((q) => [q.lender, fmt(q.shares), fmt(q.owed)]),
          { right: [1, 2] },
        ),
      );
    };
  }),
  "loan payout": plan(loan.payout, (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const lenders = p.lenders?.split(",").map((a) => address(a.trim()));
    return async (_p, ctx, io) => {
      const result = await ctx.splitter.payout(id, lenders);
      const fmt = (v: bigint) => money(ctx, v);
      print(
        io,
        {
          loanId: formatLoanId(id),
          paid: result.paid,
          skipped: result.skipped,
          txs: result.receipts.map((r) => r.hash),
        },
        payoutLine(result, fmt),
      );
    };
  }),
  "loan claim": plan(loan.claim, (p, print) => {
    const ids = p.words.slice(2).map(loanIdArg);
    if (ids.length === 0) throw new InputError("missing <loan id>; run loanledger --help");
    const to = p.to ? address(p.to) : undefined;
    return async (_p, ctx, io) => {
      const { amount, receipt } = await ctx.splitter.claim(ids, to);
      print(
        io,
        { loanIds: ids.map(formatLoanId), amount, tx: receipt.hash },
        `claimed ${money(ctx, amount)} from ${ids.length} loan(s)`,
      );
    };
  }),
  "loan transfer-share": plan(loan["transfer-share"], (p, print) => {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const to = address(arg(p.words, 3, "to address"));
    const sharesText = arg(p.words, 4, "shares");
    return async (_p, ctx, io) => {
      const shares = parseAmount(sharesText, ctx.decimals);
      const receipt = await ctx.splitter.transferShare(id, to, shares);
      print(
        io,
        { loanId: formatLoanId(id), to, shares, tx: receipt.hash },
        `moved ${sharesText} shares of loan ${shortLoanId(id)} to ${to}; payouts accrued so far stay yours`,
      );
    };
  }),
  "lender payouts": plan(lender.payouts, (p, print) => {
    const lenderText = p.words[2];
    const lender = lenderText ? address(lenderText) : undefined;
    return async (_p, ctx, io) => {
      const who = lender ?? (await actingAs(ctx, "the lender's <address>"));
      const [held, received] = await Promise.all([ctx.splitter.positionsOf(who), ctx.splitter.receivedBy(who)]);
      const states = await Promise.all(held.map((q) => ctx.loans.state(q.loanId)));
      const positions = held.map((q, i) => ({
        ...q,
        status: LOAN_STATUS_NAMES[states[i].status],
        received: received.get(q.loanId) ?? 0n,
      }));
      const fmt = (v: bigint) => money(ctx, v);
      const owed = positions.reduce((sum, q) => sum + q.owed, 0n);
      const receivedTotal = positions.reduce((sum, q) => sum + q.received, 0n);
      print(
        io,
        { lender: who, positions, owed, received: receivedTotal },
        `${table(
          ["loan", "status", "shares", "received so far", "owed now"],
          positions.map((q) => [shortLoanId(q.loanId), q.status, fmt(q.shares), fmt(q.received), fmt(q.owed)]),
          { right: [2, 3, 4] },
        )}\n${who} received ${fmt(receivedTotal)} so far and is owed ${fmt(owed)} now, in all`,
      );
    };
  }),
  "fees show": plan(fees.show, (p, print) => {
    const payeeText = p.words[2];
    const payee = payeeText ? address(payeeText) : undefined;
    return async (_p, ctx, io) => {
      const who = payee ?? (await actingAs(ctx, "the payee's <address>"));
      const owed = await ctx.splitter.feesOwed(who);
      print(io, { payee: who, owed }, `${who} has ${money(ctx, owed)} in fees to withdraw`);
    };
  }),
  "fees withdraw": plan(fees.withdraw, (p, print) => {
    const to = p.to ? address(p.to) : undefined;
    return async (_p, ctx, io) => {
      const { amount, receipt } = await ctx.splitter.withdrawFees(to);
      print(io, { amount, tx: receipt.hash }, `withdrew ${money(ctx, amount)} in fees`);
    };
  }),
  "keeper payouts": plan(keeper.payouts, (p, print) => {
    const fromBlock = p.fromBlock === undefined ? undefined : wholeNumber(p.fromBlock, "--from-block", 0, 2 ** 53);
    const watch = p.watch === undefined ? undefined : wholeNumber(p.watch, "--watch", 1, 86_400);
    // No pause between rounds would poll the node as fast as it answers, printing without end.
    if (watch === 0) throw new InputError("--watch takes the seconds between rounds: at least 1");
    return async (_p, ctx, io) => {
      const fmt = (v: bigint) => money(ctx, v);
      let since = fromBlock;
      for (;;) {
        const head = (await ctx.signer.provider?.getBlockNumber()) ?? 0;
        const results = await ctx.splitter.pushPendingPayouts(since);
        print(
          io,
          results.map((r) => ({ loanId: formatLoanId(r.loanId), paid: r.paid, skipped: r.skipped })),
          results.length ? results.map((r) => payoutLine(r, fmt)).join("\n") : "no payouts pending",
        );
        if (watch === undefined) return;
        // Later rounds only look at blocks after this one's start; missed payouts are pushed on the next money in.
        since = head;
        await sleep(watch * 1000);
      }
    };
  }),
};
