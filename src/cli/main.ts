import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { formatUnits, isHexString, ZeroAddress, ZeroHash } from "ethers";
import {
  InputError,
  LOAN_STATUS_NAMES,
  LoanLedgerError,
  ROLE_NAMES,
  SCHEDULE_KIND_NAMES,
  schedule,
  shortLoanId,
  toAddress,
  toHash32,
  toLoanId,
  formatLoanId,
  FUNDING_PHASE_NAMES,
  ASSET_CLASS_NAMES,
  ASSET_STATUS_NAMES,
  assetKey,
  formatAssetId,
  LIEN_STATUS_NAMES,
  LienStatus,
  LoanStatus,
  parseAllianceKey,
  toAssetId,
  toLoanLedgerError,
  borrowerRef,
  CREDIT_EVENT_NAMES,
  KEY_FIGURE_NAMES,
  periodNumber,
  reportHash,
  toBorrowerRef,
  validateReport,
  collectLedger,
  readExport,
  verifyLedger,
  writeExport,
  writeReport,
  type AssetClass,
  type AssetId,
  type AuditSources,
  type BorrowerRef,
  type LossCaseInfo,
  type FundingConfig,
  type LoanId,
  type PayoutResult,
  type RoleName,
  type Split,
} from "../client/index.js";
import { contextFromEnv, type CliContext, type ContextFactory } from "./context.js";
import { isoTime, processIo, table, toJson, type CliIo } from "./output.js";
import { documentHash, parseAmount, parseTime, readTermsFile, textHash } from "./terms-file.js";

const USAGE = `usage: loanledger <command> [--json]
  member add <address> --roles platform,insurer,auditor,custodian [--metadata <hash or text>]
  member suspend|reinstate|expel <address>
  member list
  lender allow <address> --kyc-expiry <date | unix seconds | +365d>
  lender revoke <address>
  lender show <address>
  loan anchor --file <terms.json>          one loan or an array (a batch, all or nothing)
  loan show <loan id>
  loan history <loan id>
  loan schedule <loan id> | --file <terms.json>
  loan activate|cancel|late|default|recover|write-off <loan id>
  loan repay <loan id> [amount]            through the splitter when it services the loan (default: what is due)
  loan amend <loan id> --document <file>
  loan open-funding <loan id> --payout <address> [--insurer <address>]
                    [--platform-fee-bps N] [--premium-bps N] [--reserve-bps N]
  loan fund <loan id> <amount>
  loan cancel-funding <loan id>
  loan due <loan id>
  loan lenders <loan id>
  loan payout <loan id> [--lenders <address,...>]
  loan claim <loan id>... [--to <address>]
  loan transfer-share <loan id> <to address> <shares>
  lender payouts [address]
  fees show [address]
  fees withdraw [--to <address>]
  keeper payouts [--from-block N] [--watch <seconds>]
  collateral register --class real-estate|vehicle|equipment|receivable --official-id <id> --owner <address>
                      --value <amount> --appraisal <file>
  collateral show <asset id> | --class <class> --official-id <id>
  collateral consent <asset id> <loan id> --secured <amount> [--priority N] [--deadline <time>]   (as the owner)
  collateral pledge <asset id> <loan id> --secured <amount> [--priority N] [--consent <signature> --deadline <time>]
  collateral release <asset id> [loan id]        every lien of a repaid or cancelled loan when no loan id is given
  collateral seize <asset id> <loan id>
  collateral dispose <asset id> --proceeds <amount> --buyer <reference> --document <sale contract file>
  collateral withdraw [--to <address>]
  loan settle <loan id>                      the loss waterfall: insurance claim, then reserve compensation
  loan recovery <loan id> <amount>           pays a recovery on a defaulted loan, shared pari passu once settled
  loan loss <loan id>
  reserve deposit <amount>
  reserve collect [platform ...]             collects contributions from the splitter (default: every platform)
  reserve policy [--coverage-bps N --cap-per-loan <amount> --quota-multiple-bps N]
  reserve show [platform]
  insurance capital <amount> [--withdraw] [--to <address>]
  insurance write <loan id> --coverage-bps N --term-end <time>
  insurance release <loan id>
  insurance show <loan id> | <insurer address>
  borrower exposure|events <borrower reference> | --national-id <id>
  disclosure publish --file <report.json> [--correction]
  disclosure attest --file <report.json> --version N
  disclosure show <platform> <YYYY-MM> [--version N]
  disclosure check <platform> <YYYY-MM>      exits 1 when the disclosure differs from the ledger
  audit export --out <dir>                   every loan's, asset's and member's history as JSON Lines, with the heads
  audit verify [--loan <id>] [--from-export <dir>] [--docs <dir>] [--out <dir>]
                                             writes audit-report.json and .md; exits 1 on any finding
Settings come from the environment or .env: see .env.example.`;

interface Parsed {
  words: string[];
  json: boolean;
  file?: string;
  roles?: string;
  metadata?: string;
  kycExpiry?: string;
  document?: string;
  payout?: string;
  insurer?: string;
  platformFeeBps?: string;
  premiumBps?: string;
  reserveBps?: string;
  lenders?: string;
  to?: string;
  fromBlock?: string;
  watch?: string;
  assetClass?: string;
  officialId?: string;
  owner?: string;
  value?: string;
  appraisal?: string;
  secured?: string;
  priority?: string;
  consent?: string;
  deadline?: string;
  proceeds?: string;
  buyer?: string;
  coverageBps?: string;
  capPerLoan?: string;
  quotaMultipleBps?: string;
  termEnd?: string;
  withdraw: boolean;
  nationalId?: string;
  correction: boolean;
  version?: string;
  out?: string;
  loan?: string;
  fromExport?: string;
  docs?: string;
}

function parse(argv: string[]): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        file: { type: "string" },
        roles: { type: "string" },
        metadata: { type: "string" },
        "kyc-expiry": { type: "string" },
        document: { type: "string" },
        payout: { type: "string" },
        insurer: { type: "string" },
        "platform-fee-bps": { type: "string" },
        "premium-bps": { type: "string" },
        "reserve-bps": { type: "string" },
        lenders: { type: "string" },
        to: { type: "string" },
        "from-block": { type: "string" },
        watch: { type: "string" },
        class: { type: "string" },
        "official-id": { type: "string" },
        owner: { type: "string" },
        value: { type: "string" },
        appraisal: { type: "string" },
        secured: { type: "string" },
        priority: { type: "string" },
        consent: { type: "string" },
        deadline: { type: "string" },
        proceeds: { type: "string" },
        buyer: { type: "string" },
        "coverage-bps": { type: "string" },
        "cap-per-loan": { type: "string" },
        "quota-multiple-bps": { type: "string" },
        "term-end": { type: "string" },
        withdraw: { type: "boolean", default: false },
        "national-id": { type: "string" },
        correction: { type: "boolean", default: false },
        version: { type: "string" },
        out: { type: "string" },
        loan: { type: "string" },
        "from-export": { type: "string" },
        docs: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) return { words: ["help"], json: false, withdraw: false, correction: false };
    return {
      words: positionals,
      json: values.json ?? false,
      file: values.file,
      roles: values.roles,
      metadata: values.metadata,
      kycExpiry: values["kyc-expiry"],
      document: values.document,
      payout: values.payout,
      insurer: values.insurer,
      platformFeeBps: values["platform-fee-bps"],
      premiumBps: values["premium-bps"],
      reserveBps: values["reserve-bps"],
      lenders: values.lenders,
      to: values.to,
      fromBlock: values["from-block"],
      watch: values.watch,
      assetClass: values.class,
      officialId: values["official-id"],
      owner: values.owner,
      value: values.value,
      appraisal: values.appraisal,
      secured: values.secured,
      priority: values.priority,
      consent: values.consent,
      deadline: values.deadline,
      proceeds: values.proceeds,
      buyer: values.buyer,
      coverageBps: values["coverage-bps"],
      capPerLoan: values["cap-per-loan"],
      quotaMultipleBps: values["quota-multiple-bps"],
      termEnd: values["term-end"],
      withdraw: values.withdraw ?? false,
      nationalId: values["national-id"],
      correction: values.correction ?? false,
      version: values.version,
      out: values.out,
      loan: values.loan,
      fromExport: values["from-export"],
      docs: values.docs,
    };
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

function arg(words: string[], index: number, name: string): string {
  const value = words[index];
  if (value === undefined) throw new InputError(`missing <${name}>; run loanledger --help`);
  return value;
}

function address(value: string) {
  try {
    return toAddress(value);
  } catch {
    throw new InputError(`not an address: ${value}`);
  }
}

function loanIdArg(value: string): LoanId {
  try {
    return toLoanId(value);
  } catch {
    throw new InputError(`not a loan id: ${value}`);
  }
}

function roles(list: string | undefined): RoleName[] {
  if (!list) throw new InputError(`--roles is required (${ROLE_NAMES.map((r) => r.toLowerCase()).join(",")})`);
  return list.split(",").map((raw) => {
    const name = ROLE_NAMES.find((r) => r.toLowerCase() === raw.trim().toLowerCase());
    if (!name)
      throw new InputError(`unknown role ${raw}; roles are ${ROLE_NAMES.map((r) => r.toLowerCase()).join(", ")}`);
    return name;
  });
}

function wholeNumber(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max) throw new InputError(`${name} must be a whole number up to ${max}`);
  return Number(value);
}

function metadataHash(value: string | undefined) {
  return value ? textHash(value) : toHash32(ZeroHash);
}

async function latestTime(ctx: CliContext): Promise<number> {
  const block = await ctx.signer.provider?.getBlock("latest");
  return block?.timestamp ?? Math.floor(Date.now() / 1000);
}

type Command = ((p: Parsed, ctx: CliContext, io: CliIo) => Promise<void>) & {
  /** Runs without a chain: no context is built (and no settings are needed). */
  offline?: boolean;
};

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

/** Checks a command's arguments before anything connects to the chain. */
function plan(p: Parsed): Command {
  const [group, action] = p.words;
  const print = (io: CliIo, json: unknown, text: string) => io.out(p.json ? toJson(json) : text);

  if (group === "member" && action === "add") {
    const account = address(arg(p.words, 2, "address"));
    const wanted = roles(p.roles);
    const hash = metadataHash(p.metadata);
    return async (_p, ctx, io) => {
      const receipt = await ctx.alliance.admitMember(account, wanted, hash);
      print(io, { account, roles: wanted, tx: receipt.hash }, `admitted ${account} as ${wanted.join(", ")}`);
    };
  }
  if (group === "member" && ["suspend", "reinstate", "expel"].includes(action)) {
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
  }
  if (group === "member" && action === "list") {
    return async (_p, ctx, io) => {
      const members = await ctx.alliance.members();
      print(
        io,
        members,
        table(
          ["account", "roles", "status", "since"],
          members.map((m) => [m.account, m.roles.join(","), m.status, isoTime(m.since)]),
        ),
      );
    };
  }
  if (group === "lender" && action === "allow") {
    const lender = address(arg(p.words, 2, "address"));
    if (!p.kycExpiry) throw new InputError("--kyc-expiry is required");
    const expiry = p.kycExpiry;
    return async (_p, ctx, io) => {
      const until = parseTime(expiry, "--kyc-expiry", await latestTime(ctx));
      const receipt = await ctx.alliance.allowLender(lender, until);
      print(io, { lender, kycExpiry: until, tx: receipt.hash }, `allowed lender ${lender} until ${isoTime(until)}`);
    };
  }
  if (group === "lender" && action === "revoke") {
    const lender = address(arg(p.words, 2, "address"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.alliance.revokeLender(lender);
      print(io, { lender, tx: receipt.hash }, `revoked lender ${lender}`);
    };
  }
  if (group === "lender" && action === "show") {
    const lender = address(arg(p.words, 2, "address"));
    return async (_p, ctx, io) => {
      const info = await ctx.alliance.lender(lender);
      print(
        io,
        info,
        `${lender}: ${info.allowed ? "allowed" : "not allowed"} until ${isoTime(info.kycExpiry)}, KYC by ${info.kycProvider}`,
      );
    };
  }
  if (group === "loan" && action === "anchor") {
    if (!p.file) throw new InputError("--file is required");
    const file = p.file;
    return async (_p, ctx, io) => {
      const platform = address(await ctx.signer.getAddress());
      const terms = await readTermsFile(file, {
        platform,
        now: await latestTime(ctx),
        decimals: ctx.decimals,
        allianceKeyHex: ctx.allianceKeyHex,
      });
      const { loanIds } =
        terms.length === 1
          ? await ctx.loans.anchor(terms[0]).then((r) => ({ loanIds: [r.loanId] }))
          : await ctx.loans.anchorBatch(terms);
      const ids = loanIds.map(formatLoanId);
      print(io, { loanIds: ids }, ids.map((id) => `anchored loan ${id}`).join("\n"));
    };
  }
  if (group === "loan" && action === "show") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const loan = await ctx.loans.loan(id);
      const { terms, state } = loan;
      const amount = (v: bigint) => formatUnits(v, ctx.decimals);
      const rows: [string, string][] = [
        ["loan", formatLoanId(id)],
        ["status", LOAN_STATUS_NAMES[state.status]],
        ["platform", terms.platform],
        ["borrower reference", terms.borrowerRef],
        ["principal", amount(terms.principal)],
        ["outstanding principal", amount(state.outstandingPrincipal)],
        [
          "schedule",
          `${SCHEDULE_KIND_NAMES[terms.scheduleKind]}, ${terms.installments} × ${terms.period / 86_400} days`,
        ],
        ["annual rate", `${terms.annualRateBps / 100}%`],
        ["installments paid", String(state.installmentsPaid)],
        ["activated", isoTime(state.activatedAt)],
        ["document versions", String(state.documentVersion)],
        ["history head", loan.head],
      ];
      print(
        io,
        { ...loan, id: formatLoanId(id), status: LOAN_STATUS_NAMES[state.status] },
        table(["field", "value"], rows),
      );
    };
  }
  if (group === "loan" && action === "history") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const history = await ctx.loans.history(id);
      const describe = (f: (typeof history.entries)[number]["fact"]) => {
        switch (f.kind) {
          case "StatusChanged":
            return `${LOAN_STATUS_NAMES[f.from]} → ${LOAN_STATUS_NAMES[f.to]}`;
          case "RepaymentRecorded":
            return `installment ${f.installment}: paid ${formatUnits(f.amount, ctx.decimals)}, principal ${formatUnits(f.principal + f.prepayment, ctx.decimals)}`;
          case "DocumentAmended":
            return `document v${f.version} ${f.documentHash}`;
          case "External":
            return `fact ${f.factHash} by ${f.source}`;
          default:
            return "anchored";
        }
      };
      const text = [
        table(
          ["#", "time", "fact", "block", "head ok"],
          history.entries.map((e, i) => [
            i + 1,
            isoTime(e.fact.at),
            describe(e.fact),
            e.blockNumber,
            e.head === e.replayedHead ? "yes" : "NO",
          ]),
        ),
        `history of ${shortLoanId(id)} ${history.verified ? "matches" : "DOES NOT match"} the on-chain head ${history.onChainHead}`,
      ].join("\n");
      print(io, history, text);
      if (!history.verified)
        throw new LoanLedgerError(`the history of loan ${formatLoanId(id)} does not match its on-chain head`);
    };
  }
  if (group === "loan" && action === "schedule") {
    const idText = p.words[2];
    if (!idText && !p.file) throw new InputError("give a <loan id> or --file <terms.json>");
    const id = idText ? loanIdArg(idText) : undefined;
    const file = p.file;
    return async (_p, ctx, io) => {
      const terms = id
        ? await ctx.loans.terms(id)
        : (
            await readTermsFile(file!, {
              platform: address(await ctx.signer.getAddress()),
              now: await latestTime(ctx),
              decimals: ctx.decimals,
              allianceKeyHex: ctx.allianceKeyHex,
            })
          )[0];
      const rows = schedule(terms);
      const amount = (v: bigint) => formatUnits(v, ctx.decimals);
      print(
        io,
        rows,
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
        ),
      );
    };
  }
  if (group === "loan" && action in LIFECYCLE) {
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
  }
  if (group === "loan" && action === "repay") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const amountText = p.words[3];
    return async (_p, ctx, io) => {
      const amount = amountText === undefined ? undefined : parseAmount(amountText, ctx.decimals);
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
      if (!(await ctx.loans.state(id)).servicingDelegated) {
        if (amount === undefined) throw new InputError("missing <amount>: this loan's platform records repayments");
        const receipt = await ctx.loans.recordRepayment(id, amount);
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
      const paid = await ctx.splitter.repay(id, amount);
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
  }
  if (group === "loan" && action === "amend") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    if (!p.document) throw new InputError("--document is required");
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
  }
  const funding =
    planFunding(p, print) ??
    planCollateral(p, print) ??
    planRisk(p, print) ??
    planDisclosure(p, print) ??
    planAudit(p, print);
  if (funding) return funding;
  throw new InputError(`unknown command "${p.words.join(" ")}"; run loanledger --help`);
}

function splitTable(split: Split, fmt: (v: bigint) => string): string {
  return table(
    ["part", "amount"],
    [
      ["late interest", fmt(split.lateInterest)],
      ["platform fee", fmt(split.platformFee)],
      ["insurance premium", fmt(split.premium)],
      ["reserve contribution", fmt(split.reserve)],
      ["interest", fmt(split.interest)],
      ["principal", fmt(split.principal)],
      ["prepayment", fmt(split.prepayment)],
    ],
  );
}

function payoutLine(r: PayoutResult, fmt: (v: bigint) => string): string {
  const skipped = r.skipped.length ? `; skipped (payout kept claimable): ${r.skipped.join(", ")}` : "";
  return `loan ${shortLoanId(r.loanId)}: paid ${fmt(r.paid)} to lenders${skipped}`;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Funding, payouts, claims, fees and the keeper: the splitter's commands. */
function planFunding(p: Parsed, print: (io: CliIo, json: unknown, text: string) => void): Command | undefined {
  const [group, action] = p.words;
  if (group === "loan" && action === "open-funding") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    if (!p.payout) throw new InputError("--payout <borrower payout address> is required");
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
  }
  if (group === "loan" && action === "fund") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const amountText = arg(p.words, 3, "amount");
    return async (_p, ctx, io) => {
      const amount = parseAmount(amountText, ctx.decimals);
      const receipt = await ctx.splitter.fund(id, amount);
      const book = await ctx.splitter.book(id);
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
      print(
        io,
        {
          loanId: formatLoanId(id),
          amount,
          committed: book.committed,
          phase: FUNDING_PHASE_NAMES[book.phase],
          tx: receipt.hash,
        },
        `committed ${fmt(amount)} to loan ${shortLoanId(id)}: ${fmt(book.committed)} funded, ${FUNDING_PHASE_NAMES[book.phase]}`,
      );
    };
  }
  if (group === "loan" && action === "cancel-funding") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.splitter.cancelFunding(id);
      print(
        io,
        { loanId: formatLoanId(id), tx: receipt.hash },
        `funding of loan ${shortLoanId(id)} cancelled; lenders can take their commitments back`,
      );
    };
  }
  if (group === "loan" && action === "due") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const { due, total } = await ctx.splitter.amountDue(id);
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
      print(io, { loanId: formatLoanId(id), due, total }, `${splitTable(due, fmt)}\ntotal due now: ${fmt(total)}`);
    };
  }
  if (group === "loan" && action === "lenders") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    return async (_p, ctx, io) => {
      const lenders = await ctx.splitter.lenders(id);
      const positions = await Promise.all(lenders.map((l) => ctx.splitter.position(id, l)));
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
      print(
        io,
        positions,
        table(
          ["lender", "shares", "owed now"],
          positions.map((q) => [q.lender, fmt(q.shares), fmt(q.owed)]),
        ),
      );
    };
  }
  if (group === "loan" && action === "payout") {
    const id = loanIdArg(arg(p.words, 2, "loan id"));
    const lenders = p.lenders?.split(",").map((a) => address(a.trim()));
    return async (_p, ctx, io) => {
      const result = await ctx.splitter.payout(id, lenders);
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
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
  }
  if (group === "loan" && action === "claim") {
    const ids = p.words.slice(2).map(loanIdArg);
    if (ids.length === 0) throw new InputError("missing <loan id>; run loanledger --help");
    const to = p.to ? address(p.to) : undefined;
    return async (_p, ctx, io) => {
      const { amount, receipt } = await ctx.splitter.claim(ids, to);
      print(
        io,
        { loanIds: ids.map(formatLoanId), amount, tx: receipt.hash },
        `claimed ${formatUnits(amount, ctx.decimals)} from ${ids.length} loan(s)`,
      );
    };
  }
  if (group === "loan" && action === "transfer-share") {
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
  }
  if (group === "lender" && action === "payouts") {
    const lenderText = p.words[2];
    const lender = lenderText ? address(lenderText) : undefined;
    return async (_p, ctx, io) => {
      const who = lender ?? toAddress(await ctx.signer.getAddress());
      const positions = await ctx.splitter.positionsOf(who);
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
      const total = positions.reduce((sum, q) => sum + q.owed, 0n);
      print(
        io,
        { lender: who, positions, owed: total },
        `${table(
          ["loan", "shares", "owed now"],
          positions.map((q) => [shortLoanId(q.loanId), fmt(q.shares), fmt(q.owed)]),
        )}\n${who} is owed ${fmt(total)} in all`,
      );
    };
  }
  if (group === "fees" && action === "show") {
    const payeeText = p.words[2];
    const payee = payeeText ? address(payeeText) : undefined;
    return async (_p, ctx, io) => {
      const who = payee ?? toAddress(await ctx.signer.getAddress());
      const owed = await ctx.splitter.feesOwed(who);
      print(io, { payee: who, owed }, `${who} has ${formatUnits(owed, ctx.decimals)} in fees to withdraw`);
    };
  }
  if (group === "fees" && action === "withdraw") {
    const to = p.to ? address(p.to) : undefined;
    return async (_p, ctx, io) => {
      const { amount, receipt } = await ctx.splitter.withdrawFees(to);
      print(io, { amount, tx: receipt.hash }, `withdrew ${formatUnits(amount, ctx.decimals)} in fees`);
    };
  }
  if (group === "keeper" && action === "payouts") {
    const fromBlock = p.fromBlock === undefined ? undefined : wholeNumber(p.fromBlock, "--from-block", 0, 2 ** 53);
    const watch = p.watch === undefined ? undefined : wholeNumber(p.watch, "--watch", 1, 86_400);
    return async (_p, ctx, io) => {
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
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
  }
  return undefined;
}

const ASSET_CLASS_WORDS = ASSET_CLASS_NAMES.map((name) => name.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase());

function assetClassArg(value: string | undefined): AssetClass {
  const index = ASSET_CLASS_WORDS.indexOf((value ?? "").toLowerCase());
  if (index < 0) throw new InputError(`--class must be one of ${ASSET_CLASS_WORDS.join(", ")}`);
  return index as AssetClass;
}

function assetIdArg(value: string): AssetId {
  try {
    return toAssetId(value);
  } catch {
    throw new InputError(`not an asset id: ${value}`);
  }
}

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new InputError(`${flag} is required`);
  return value;
}

/** The asset id from `<asset id>`, or from --class and --official-id hashed under the alliance key. */
function assetFrom(p: Parsed, ctx: CliContext): AssetId {
  if (p.words[2] !== undefined) return assetIdArg(p.words[2]);
  if (!p.officialId) throw new InputError("give an <asset id> or --class and --official-id");
  return assetKey(assetClassArg(p.assetClass), p.officialId, parseAllianceKey(ctx.allianceKeyHex));
}

/** Collateral: registration, consent, liens, seizure and disposal. */
function planCollateral(p: Parsed, print: (io: CliIo, json: unknown, text: string) => void): Command | undefined {
  const [group, action] = p.words;
  if (group !== "collateral") return undefined;
  if (action === "register") {
    const assetClass = assetClassArg(p.assetClass);
    const officialId = required(p.officialId, "--official-id");
    const owner = address(required(p.owner, "--owner"));
    const valueText = required(p.value, "--value");
    const appraisal = required(p.appraisal, "--appraisal");
    return async (_p, ctx, io) => {
      const assetId = assetKey(assetClass, officialId, parseAllianceKey(ctx.allianceKeyHex));
      const receipt = await ctx.collateral.register(
        assetId,
        owner,
        assetClass,
        parseAmount(valueText, ctx.decimals, "--value"),
        await documentHash(appraisal),
      );
      print(
        io,
        { assetId: formatAssetId(assetId), tx: receipt.hash },
        `registered ${ASSET_CLASS_WORDS[assetClass]} ${formatAssetId(assetId)} for ${owner}`,
      );
    };
  }
  if (action === "show") {
    return async (_p, ctx, io) => {
      const assetId = assetFrom(p, ctx);
      const [asset, liens] = await Promise.all([ctx.collateral.asset(assetId), ctx.collateral.liens(assetId)]);
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
      const rows: [string, string][] = [
        ["asset", formatAssetId(assetId)],
        ["class", ASSET_CLASS_WORDS[asset.assetClass]],
        ["status", ASSET_STATUS_NAMES[asset.status]],
        ["held by", asset.holder ?? "nobody (disposed)"],
        ["appraisal value", fmt(asset.appraisalValue)],
        ["appraisal document", asset.appraisalDocHash],
        ["first-priority liens secure", fmt(asset.firstPrioritySecured)],
      ];
      const lienRows = liens.map((l) => [
        shortLoanId(l.loanId),
        l.priority,
        fmt(l.securedAmount),
        LIEN_STATUS_NAMES[l.status],
      ]);
      print(
        io,
        { ...asset, assetId: formatAssetId(assetId), liens },
        `${table(["field", "value"], rows)}\n${lienRows.length ? table(["loan", "priority", "secured", "lien"], lienRows) : "no liens"}`,
      );
    };
  }
  if (action === "consent" || action === "pledge") {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const loanId = loanIdArg(arg(p.words, 3, "loan id"));
    const securedText = required(p.secured, "--secured");
    const priority = wholeNumber(p.priority, "--priority", 1, 255);
    const consent = p.consent;
    if (consent !== undefined && !isHexString(consent, 65))
      throw new InputError("--consent must be a 65-byte signature");
    return async (_p, ctx, io) => {
      const now = await latestTime(ctx);
      const request = { assetId, loanId, securedAmount: parseAmount(securedText, ctx.decimals, "--secured"), priority };
      if (action === "consent") {
        const signed = await ctx.collateral.consent(request, parseTime(p.deadline ?? "+7d", "--deadline", now));
        print(
          io,
          signed,
          `consent signature ${signed.signature}\nvalid until ${isoTime(signed.deadline)} (unix ${signed.deadline})`,
        );
        return;
      }
      const deadline = consent ? parseTime(required(p.deadline, "--deadline"), "--deadline", now) : 0;
      const receipt = await ctx.collateral.pledge(request, consent ? { signature: consent, deadline } : undefined);
      print(
        io,
        { assetId: formatAssetId(assetId), loanId: formatLoanId(loanId), tx: receipt.hash },
        `pledged ${formatAssetId(assetId).slice(0, 10)}… to loan ${shortLoanId(loanId)} at priority ${priority}`,
      );
    };
  }
  if (action === "release") {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const loanText = p.words[3];
    const only = loanText === undefined ? undefined : loanIdArg(loanText);
    return async (_p, ctx, io) => {
      const targets = only ? [only] : [];
      if (!only) {
        const liens = await ctx.collateral.liens(assetId);
        for (const lien of liens.filter((l) => l.status === LienStatus.Active)) {
          const status = (await ctx.loans.state(lien.loanId)).status;
          if (status === LoanStatus.Repaid || status === LoanStatus.Cancelled) targets.push(lien.loanId);
        }
        if (targets.length === 0)
          throw new LoanLedgerError("no lien on this asset belongs to a repaid or cancelled loan");
      }
      const hashes = [];
      for (const loanId of targets) hashes.push((await ctx.collateral.release(assetId, loanId)).hash);
      print(
        io,
        { assetId: formatAssetId(assetId), released: targets.map(formatLoanId), txs: hashes },
        targets.map((l) => `released the lien of loan ${shortLoanId(l)}`).join("\n"),
      );
    };
  }
  if (action === "seize") {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const loanId = loanIdArg(arg(p.words, 3, "loan id"));
    return async (_p, ctx, io) => {
      const receipt = await ctx.collateral.seize(assetId, loanId);
      print(
        io,
        { assetId: formatAssetId(assetId), tx: receipt.hash },
        `seized ${formatAssetId(assetId).slice(0, 10)}… for loan ${shortLoanId(loanId)}`,
      );
    };
  }
  if (action === "dispose") {
    const assetId = assetIdArg(arg(p.words, 2, "asset id"));
    const proceedsText = required(p.proceeds, "--proceeds");
    const buyer = required(p.buyer, "--buyer");
    const document = required(p.document, "--document");
    return async (_p, ctx, io) => {
      const receipt = await ctx.collateral.dispose(
        assetId,
        parseAmount(proceedsText, ctx.decimals, "--proceeds"),
        textHash(buyer),
        await documentHash(document),
      );
      const events = receipt.logs
        .filter((log) => log.address === ctx.collateral.address)
        .map((log) => ctx.collateral.contract.interface.parseLog(log))
        .filter((e) => e?.name === "DisposalAllocated" || e?.name === "CollateralDisposed");
      const fmt = (v: bigint) => formatUnits(v, ctx.decimals);
      const lines = events.map((e) =>
        e!.name === "DisposalAllocated"
          ? `  loan ${shortLoanId(toLoanId(e!.args.loanId as bigint))}: ${fmt(e!.args.amount as bigint)} to ${e!.args.recipient}`
          : `  owner: ${fmt(e!.args.ownerSurplus as bigint)}`,
      );
      print(
        io,
        { assetId: formatAssetId(assetId), tx: receipt.hash },
        [`disposed of ${formatAssetId(assetId).slice(0, 10)}… for ${proceedsText}:`, ...lines].join("\n"),
      );
    };
  }
  if (action === "withdraw") {
    const to = p.to ? address(p.to) : undefined;
    return async (_p, ctx, io) => {
      const who = to ?? toAddress(await ctx.signer.getAddress());
      const amount = await ctx.collateral.kept(toAddress(await ctx.signer.getAddress()));
      const receipt = await ctx.collateral.withdraw(who);
      print(
        io,
        { amount, tx: receipt.hash },
        `withdrew ${formatUnits(amount, ctx.decimals)} kept after a failed payment`,
      );
    };
  }
  return undefined;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch {
    throw new InputError(`cannot read JSON from ${path}`);
  }
}

function borrowerFrom(p: Parsed, ctx: CliContext): BorrowerRef {
  if (p.nationalId) return borrowerRef(p.nationalId, parseAllianceKey(ctx.allianceKeyHex));
  const ref = arg(p.words, 2, "borrower reference");
  try {
    return toBorrowerRef(ref);
  } catch {
    throw new InputError(`not a borrower reference: ${ref}`);
  }
}

/** Loss waterfall, reserve, insurance and borrowers' cross-platform record. */
function planRisk(p: Parsed, print: (io: CliIo, json: unknown, text: string) => void): Command | undefined {
  const [group, action] = p.words;
  const fmtOf = (ctx: CliContext) => (v: bigint) => formatUnits(v, ctx.decimals);
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
  if (group === "loan" && (action === "settle" || action === "loss")) {
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
  }
  if (group === "loan" && action === "recovery") {
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
  }
  if (group === "reserve") {
    if (action === "deposit") {
      const amountText = arg(p.words, 2, "amount");
      return async (_p, ctx, io) => {
        const receipt = await ctx.reserve.deposit(parseAmount(amountText, ctx.decimals));
        print(io, { tx: receipt.hash }, `deposited ${amountText} into the risk reserve`);
      };
    }
    if (action === "collect") {
      const named = p.words.slice(2).map(address);
      return async (_p, ctx, io) => {
        const platforms = named.length
          ? named
          : (await ctx.alliance.members()).filter((m) => m.roles.includes("Platform")).map((m) => m.account);
        const receipt = await ctx.reserve.collect(platforms);
        print(
          io,
          { platforms, tx: receipt.hash },
          `collected reserve contributions of ${platforms.length} platform(s)`,
        );
      };
    }
    if (action === "policy") {
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
          });
        }
        const policy = await ctx.reserve.policy();
        print(
          io,
          policy,
          `reserve covers ${policy.coverageBps / 100}% of a loss after collateral and insurance, at most ` +
            `${formatUnits(policy.capPerLoan, ctx.decimals)} a loan and ${policy.quotaMultipleBps / 10_000}× a platform's contributions`,
        );
      };
    }
    if (action === "show") {
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
    }
  }
  if (group === "insurance") {
    if (action === "capital") {
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
          `capital ${formatUnits(capital.capital, ctx.decimals)}, of which ${formatUnits(capital.free, ctx.decimals)} free`,
        );
      };
    }
    if (action === "write") {
      const id = loanIdArg(arg(p.words, 2, "loan id"));
      const coverage = wholeNumber(required(p.coverageBps, "--coverage-bps"), "--coverage-bps", 0, 10_000);
      const termEnd = required(p.termEnd, "--term-end");
      return async (_p, ctx, io) => {
        const end = parseTime(termEnd, "--term-end", await latestTime(ctx));
        const receipt = await ctx.insurance.writePolicy(id, coverage, end);
        print(
          io,
          { loanId: formatLoanId(id), tx: receipt.hash },
          `insured loan ${shortLoanId(id)} at ${coverage / 100}% until ${isoTime(end)}`,
        );
      };
    }
    if (action === "release") {
      const id = loanIdArg(arg(p.words, 2, "loan id"));
      return async (_p, ctx, io) => {
        const receipt = await ctx.insurance.releasePolicy(id);
        print(io, { loanId: formatLoanId(id), tx: receipt.hash }, `released the policy on loan ${shortLoanId(id)}`);
      };
    }
    if (action === "show") {
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
    }
  }
  if (group === "borrower" && (action === "exposure" || action === "events")) {
    return async (_p, ctx, io) => {
      const ref = borrowerFrom(p, ctx);
      if (action === "exposure") {
        const e = await ctx.loans.exposure(ref);
        print(
          io,
          e,
          `${ref.slice(0, 18)}…: ${e.openLoans} open loan(s), ${formatUnits(e.outstandingPrincipal, ctx.decimals)} outstanding; ` +
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
              events.map((e) => [isoTime(e.at), CREDIT_EVENT_NAMES[e.kind], shortLoanId(e.loanId), e.platform]),
            )
          : "no credit events",
      );
    };
  }
  return undefined;
}

/** The unified disclosures: publish, attest, show and check against the ledger. */
function planDisclosure(p: Parsed, print: (io: CliIo, json: unknown, text: string) => void): Command | undefined {
  const [group, action] = p.words;
  if (group !== "disclosure") return undefined;
  if (action === "publish" || action === "attest") {
    const file = required(p.file, "--file");
    const version = action === "attest" ? wholeNumber(required(p.version, "--version"), "--version", 1, 65_535) : 0;
    return async (_p, ctx, io) => {
      const report = validateReport(await readJson(file));
      if (action === "attest") {
        const receipt = await ctx.disclosures.attest(report, version);
        print(
          io,
          { contentHash: reportHash(report), tx: receipt.hash },
          `attested version ${version} of ${report.platform}'s report for ${report.period}`,
        );
        return;
      }
      const { version: published, receipt } = await ctx.disclosures.publish(report, p.correction);
      print(
        io,
        { version: published, contentHash: reportHash(report), tx: receipt.hash },
        `published version ${published} of the report for ${report.period}, content hash ${reportHash(report)}`,
      );
    };
  }
  if (action === "show" || action === "check") {
    const platform = address(arg(p.words, 2, "platform"));
    const period = arg(p.words, 3, "YYYY-MM");
    periodNumber(period);
    const version = p.version === undefined ? undefined : wholeNumber(p.version, "--version", 1, 65_535);
    return async (_p, ctx, io) => {
      const fmtValue = (v: bigint | number) => (typeof v === "bigint" ? formatUnits(v, ctx.decimals) : String(v));
      if (action === "show") {
        const report = await ctx.disclosures.report(platform, period, version);
        print(
          io,
          report,
          `version ${report.version}, published ${isoTime(report.publishedAt)}, content hash ${report.contentHash}\n` +
            table(
              ["figure", "disclosed"],
              KEY_FIGURE_NAMES.map((name) => [name, fmtValue(report.figures[name])]),
            ),
        );
        return;
      }
      const differences = await ctx.disclosures.check(platform, period);
      print(
        io,
        differences,
        differences.length
          ? table(
              ["figure", "disclosed", "ledger"],
              differences.map((d) => [d.figure, fmtValue(d.disclosed), fmtValue(d.ledger)]),
            )
          : `the disclosure of ${platform} for ${period} agrees with the ledger`,
      );
      if (differences.length) {
        throw new LoanLedgerError(
          `${differences.length} figure(s) of the disclosure differ from the ledger: ${differences.map((d) => d.figure).join(", ")}`,
        );
      }
    };
  }
  return undefined;
}

function auditSources(ctx: CliContext): AuditSources {
  return {
    loans: ctx.loans,
    alliance: ctx.alliance.contract,
    splitter: ctx.splitter.contract,
    collateral: ctx.collateral.contract,
    insurance: ctx.insurance.contract,
    reserve: ctx.reserve.contract,
    waterfall: ctx.waterfall.contract,
  };
}

/** The auditor's export and verification. */
function planAudit(p: Parsed, print: (io: CliIo, json: unknown, text: string) => void): Command | undefined {
  const [group, action] = p.words;
  if (group !== "audit") return undefined;
  const progress = (io: CliIo) => (done: number, total: number, what: string) => {
    if (total >= 200 || what !== "loans verified") io.err(`progress: ${done}/${total} ${what}`);
  };
  if (action === "export") {
    const out = required(p.out, "--out");
    return async (_p, ctx, io) => {
      const ledger = await collectLedger(auditSources(ctx), ctx.fromBlock, progress(io));
      const files = await writeExport(out, ledger);
      print(
        io,
        { out, files, loans: Object.keys(ledger.heads).length },
        `exported ${Object.keys(ledger.heads).length} loans (${ledger.loans.length} history entries, ` +
          `${ledger.money.length} money events, ${ledger.assets.length} asset events, ${ledger.members.length} member events) to ${out}`,
      );
    };
  }
  if (action === "verify") {
    const loan = p.loan === undefined ? undefined : formatLoanId(loanIdArg(p.loan));
    const verify: Command = async (_p, ctx, io) => {
      // From an export, the check needs no chain at all.
      const ledger = p.fromExport
        ? await readExport(p.fromExport)
        : await collectLedger(auditSources(ctx), ctx.fromBlock, progress(io));
      const report = await verifyLedger(ledger, { loanId: loan, docsDir: p.docs, progress: progress(io) });
      const files = await writeReport(p.out ?? ".", report);
      const summary = `${report.loans.length} loan(s), ${report.entries} history entries, ${report.findings.length} finding(s); report in ${files.join(" and ")}`;
      print(
        io,
        report,
        report.ok
          ? `verified ${summary}`
          : [
              ...report.findings.map(
                (f) =>
                  `${f.check}: loan ${f.loanId ? shortLoanId(toLoanId(f.loanId)) : "-"}${f.entry ? ` entry ${f.entry}` : ""}: ${f.message}`,
              ),
              `FAILED ${summary}`,
            ].join("\n"),
      );
      if (!report.ok) throw new LoanLedgerError(`the ledger does not verify: ${report.findings.length} finding(s)`);
    };
    verify.offline = p.fromExport !== undefined;
    return verify;
  }
  return undefined;
}

/**
 * Runs one CLI command and returns its exit code: 0 on success, 1 with a one-line reason on stderr otherwise.
 * Never throws, never prints a stack trace.
 */
export async function main(
  argv: string[],
  io: CliIo = processIo,
  context: ContextFactory = contextFromEnv(),
): Promise<number> {
  try {
    const parsed = parse(argv);
    if (parsed.words.length === 0 || parsed.words[0] === "help") {
      io.out(USAGE);
      return parsed.words.length === 0 ? 1 : 0;
    }
    const command = plan(parsed);
    await command(parsed, command.offline ? (undefined as unknown as CliContext) : await context(), io);
    return 0;
  } catch (error) {
    const reason = toLoanLedgerError(error);
    io.err(`error: ${reason.message.split("\n")[0]}`);
    return 1;
  }
}
