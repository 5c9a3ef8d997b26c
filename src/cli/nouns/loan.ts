/** `loanledger loan …`: a loan from its terms to its last payment, and a platform's whole book. */
import { noun } from "../table.js";

const ID = "0x3f2a…9c01";
const ADDRESS = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const lifecycle = (summary: string, action: string) =>
  ({ args: ["<loan id>"], summary, example: `loan ${action} ${ID}`, in: "registry" }) as const;

export const loan = noun({
  anchor: {
    flags: {
      file: { value: "<terms.json | book.csv>", required: true, help: "the loan's terms, or a book of loans" },
      signatures: {
        value: "<borrower signature file,...>",
        help: "the borrowers' signature files (loan sign): each agreement is sent, so agreed, by the platform's key",
      },
    },
    summary: "anchors one loan or several (checked first, sent in batches that fit a block)",
    example: ["loan anchor --file terms.json", "loan anchor --file terms.json --signatures borrower.sig.json"],
    in: "registry",
  },
  sign: {
    args: ["<loan id>"],
    flags: {
      out: { value: "<signature.json>", required: true, help: "where the signature file is written" },
      document: { value: "<file>", help: "sign the loan's next amendment to this document, not its agreement" },
      deadline: { value: "<date | +7d>", help: "until when the signature may be used (default: +7d)" },
    },
    summary: "the borrower signs the loan's agreement (or its next amendment) with its key: use a fresh key per loan",
    example: `loan sign ${ID} --out borrower.sig.json --from borrower`,
    in: "consent",
  },
  import: {
    args: ["<book.csv | book.jsonl>"],
    flags: {
      "dry-run": { help: "check every row and preview each loan with the registry; send nothing" },
      journal: { value: "<file>", help: "the import's journal (default: beside the book)" },
    },
    summary: "anchors what is not anchored yet, by platformRef; resumes from its journal",
    example: ["loan import book.csv --dry-run", "loan import book.csv"],
    in: "book",
  },
  find: {
    flags: {
      ref: { value: "<platform reference>", required: true, help: "the platform's own reference of the loan" },
      platform: { value: "<address>", help: "the platform that anchored it (default: the account the CLI acts as)" },
      "id-only": {
        help: "print the loan id alone, for a script: exit 1 when no loan, or several, carry the reference",
      },
    },
    summary: "the loan(s) a platform anchored under its own reference",
    example: ["loan find --ref LN-2026-00042", "loan find --ref LN-2026-00042 --id-only"],
    in: "book",
  },
  list: {
    flags: {
      status: { value: "funding|due|late", required: true, choices: ["funding", "due", "late"], help: "which loans" },
      platform: { value: "<address>", help: "the platform whose loans (default: the account the CLI acts as)" },
      offset: { value: "N", help: "skip so many loans (default 0)" },
      limit: { value: "N", help: "show at most so many loans (default 50)" },
    },
    summary: "a platform's loans in funding, due (an installment fallen due and unpaid) or late, a page at a time",
    example: "loan list --status due --limit 20",
    in: "book",
  },
  show: {
    args: ["<loan id>"],
    summary: "a loan's terms and state",
    example: `loan show ${ID}`,
    in: "registry",
  },
  history: {
    args: ["<loan id>"],
    summary: "a loan's history, each fact replayed against its on-chain head",
    example: `loan history ${ID}`,
    in: "registry",
  },
  schedule: {
    args: ["[loan id]"],
    flags: { file: { value: "<terms.json>", help: "the schedule of terms not anchored yet" } },
    summary: "a loan's repayment schedule: give a loan id, or --file",
    example: [`loan schedule ${ID}`, "loan schedule --file terms.json"],
    in: "registry",
  },
  activate: lifecycle("the platform activates a funded loan (paid out off the ledger)", "activate"),
  cancel: lifecycle("cancels a loan that will not be funded", "cancel"),
  late: lifecycle("marks an overdue loan late", "late"),
  default: lifecycle("declares a loan defaulted once past its threshold", "default"),
  recover: lifecycle("marks a defaulted loan recovered", "recover"),
  "write-off": lifecycle("writes a defaulted loan off (through the loss waterfall once it is settled)", "write-off"),
  repay: {
    args: ["<loan id>", "[amount]"],
    flags: {
      "end-to-end-id": {
        value: "<id>",
        help: "the custody bank's end-to-end id (or UETR) of the payment that brought the money: kept in the history",
      },
    },
    summary: "pays an installment, through the splitter when it services the loan (default: what is due)",
    example: [`loan repay ${ID}`, `loan repay ${ID} 8760.50`],
    in: "registry",
  },
  amend: {
    args: ["<loan id>"],
    flags: {
      document: { value: "<file>", required: true, help: "the amended document (only its hash goes on chain)" },
      signatures: {
        value: "<borrower signature file>",
        help: "the borrower's signature of the amendment (loan sign --document)",
      },
    },
    summary: "a new version of the loan's document: a signed or funded loan's needs the borrower's signature",
    example: `loan amend ${ID} --document amendment-2.pdf --signatures borrower.sig.json`,
    in: "registry",
  },
  "open-funding": {
    args: ["<loan id>"],
    flags: {
      payout: { value: "<address>", required: true, help: "where the borrower's money goes once funded" },
      insurer: { value: "<address>", help: "the insurer member that covers the loan" },
      "platform-fee-bps": { value: "N", help: "the platform's fee on each repayment's interest, in bps" },
      "premium-bps": { value: "N", help: "the insurance premium on each repayment's interest, in bps" },
      "reserve-bps": { value: "N", help: "the risk reserve's contribution on each repayment's interest, in bps" },
    },
    summary: "opens a loan to lenders through the splitter",
    example: `loan open-funding ${ID} --payout ${ADDRESS} --platform-fee-bps 500`,
    in: "funding",
  },
  fund: {
    args: ["<loan id>", "<amount>"],
    summary: "a lender commits tokens: tried first; approves only what the funding takes",
    example: `loan fund ${ID} 10000 --from lender`,
    in: "funding",
  },
  "cancel-funding": {
    args: ["<loan id>"],
    summary: "cancels an open funding; lenders take their commitments back",
    example: `loan cancel-funding ${ID}`,
    in: "funding",
  },
  due: {
    args: ["<loan id>"],
    summary: "what the next payment is, part by part",
    example: `loan due ${ID}`,
    in: "funding",
  },
  lenders: {
    args: ["<loan id>"],
    summary: "the loan's lenders, their shares and what each is owed now",
    example: `loan lenders ${ID}`,
    in: "funding",
  },
  payout: {
    args: ["<loan id>"],
    flags: { lenders: { value: "<address,...>", help: "only these lenders (default: every lender)" } },
    summary: "pays the lenders what the loan owes them",
    example: `loan payout ${ID}`,
    in: "funding",
  },
  claim: {
    args: ["<loan id...>"],
    flags: { to: { value: "<address>", help: "where the tokens go (default: the lender)" } },
    summary: "a lender claims what its loans owe it",
    example: `loan claim ${ID} 0x7be1…04d2 --from lender`,
    in: "funding",
  },
  "transfer-share": {
    args: ["<loan id>", "<to address>", "<shares>"],
    summary: "moves a lender's shares of a loan to another allowed lender",
    example: `loan transfer-share ${ID} ${ADDRESS} 2500`,
    in: "funding",
  },
  "take-over": {
    args: ["<platform>"],
    summary: "hands every loan of the platform still with it to its appointed successor (anyone may send it)",
    example: "loan take-over 0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    in: "registry",
  },
  settle: {
    args: ["<loan id>"],
    summary: "the loss waterfall: insurance claim, then reserve compensation",
    example: `loan settle ${ID}`,
    in: "risk",
  },
  recovery: {
    args: ["<loan id>", "<amount>"],
    summary: "pays a recovery on a defaulted loan, shared pari passu once settled",
    example: `loan recovery ${ID} 12000`,
    in: "risk",
  },
  loss: {
    args: ["<loan id>"],
    summary: "a defaulted loan's loss, and who bore it",
    example: `loan loss ${ID}`,
    in: "risk",
  },
});
