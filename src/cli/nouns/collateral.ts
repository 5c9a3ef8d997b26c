/** `loanledger collateral …`: registered assets, their liens, seizure and sale. */
import { ASSET_CLASS_NAMES } from "../../client/types.js";
import { noun } from "../table.js";

/** The asset classes as the command line writes them: `real-estate`, `vehicle`, … */
export const ASSET_CLASS_WORDS = ASSET_CLASS_NAMES.map((name) =>
  name.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase(),
);

const ASSET = "0x8c1d2f6a9b0e4d5c7a1b3e5f7d9c0b2a4e6f8d0c1b3a5e7f9d2c4b6a8e0f2d4c";
const ID = "0x3f2a…9c01";
const assetClass = {
  value: ASSET_CLASS_WORDS.join("|"),
  choices: ASSET_CLASS_WORDS,
  help: "the asset's class",
} as const;

export const collateral = noun({
  register: {
    flags: {
      class: { ...assetClass, required: true },
      "official-id": {
        value: "<id>",
        required: true,
        help: "its official registration (hashed under the alliance key)",
      },
      owner: { value: "<address>", required: true, help: "who owns it" },
      value: { value: "<amount>", required: true, help: "its appraisal value" },
      appraisal: { value: "<file>", required: true, help: "the appraisal document (only its hash goes on chain)" },
    },
    summary: "registers an asset with its appraisal",
    example:
      "collateral register --class vehicle --official-id LSVAM4187C2184847 --owner 0x976EA74026E726554dB657fA54763abd0C3a0aa9 --value 80000 --appraisal appraisal.pdf",
    in: "collateral",
  },
  show: {
    args: ["[asset id]"],
    flags: {
      class: assetClass,
      "official-id": { value: "<id>", help: "find the asset by its official id (with --class)" },
    },
    summary: "an asset and its liens: give an asset id, or --class and --official-id",
    example: [`collateral show ${ASSET}`, "collateral show --class vehicle --official-id LSVAM4187C2184847"],
    in: "collateral",
  },
  consent: {
    args: ["<asset id>", "<loan id>"],
    flags: {
      secured: { value: "<amount>", required: true, help: "the amount the lien secures" },
      priority: { value: "N", help: "the lien's priority, 1 first (default 1)" },
      deadline: { value: "<time>", help: "until when the consent may be used (default +7d)" },
    },
    summary: "the owner signs its consent to a pledge (as the owner)",
    example: `collateral consent ${ASSET} ${ID} --secured 40000 --from owner`,
    in: "collateral",
  },
  pledge: {
    args: ["<asset id>", "<loan id>"],
    flags: {
      secured: { value: "<amount>", required: true, help: "the amount the lien secures" },
      priority: { value: "N", help: "the lien's priority, 1 first (default 1)" },
      consent: { value: "<signature>", help: "the owner's consent signature (collateral consent)" },
      deadline: { value: "<time>", help: "the consent's deadline, as the owner signed it" },
    },
    summary: "the loan's servicer takes a lien on the asset, with the owner's consent",
    example: `collateral pledge ${ASSET} ${ID} --secured 40000 --consent 0x… --deadline 1767225600`,
    in: "collateral",
  },
  release: {
    args: ["<asset id>", "[loan id]"],
    summary: "releases a lien; every lien of a repaid or cancelled loan when no loan id is given",
    example: `collateral release ${ASSET}`,
    in: "collateral",
  },
  seize: {
    args: ["<asset id>", "<loan id>"],
    summary: "the servicer of a defaulted loan seizes the asset",
    example: `collateral seize ${ASSET} ${ID}`,
    in: "collateral",
  },
  sell: {
    args: ["<asset id>"],
    flags: {
      proceeds: { value: "<amount>", required: true, help: "the sale price" },
      buyer: { value: "<reference>", required: true, help: "the buyer's reference (hashed)" },
      document: { value: "<sale contract file>", required: true, help: "the sale contract (only its hash)" },
      to: { value: "<buyer address>", help: "the buyer's account, which takes the asset (and liens that survive)" },
    },
    summary: "proposes the sale; lienholders see it for the sale window before it completes",
    example: `collateral sell ${ASSET} --proceeds 55000 --buyer BUYER-7 --document sale.pdf`,
    in: "collateral",
  },
  sale: {
    args: ["<asset id>"],
    summary: "the proposed sale of an asset",
    example: `collateral sale ${ASSET}`,
    in: "collateral",
  },
  "confirm-sale": {
    args: ["<asset id>"],
    flags: { proposal: { value: "<hash>", required: true, help: "the proposal hash `collateral sale` shows" } },
    summary: "(as a custodian) what a price below the appraisal floor needs",
    example: `collateral confirm-sale ${ASSET} --proposal 0x…`,
    in: "collateral",
  },
  dispose: {
    args: ["<asset id>"],
    summary: "completes the proposed sale and pays its price in",
    example: `collateral dispose ${ASSET}`,
    in: "collateral",
  },
  withdraw: {
    flags: { to: { value: "<address>", help: "where the tokens go (default: the account the CLI acts as)" } },
    summary: "withdraws what was kept after a failed payment",
    example: "collateral withdraw",
    in: "collateral",
  },
});
