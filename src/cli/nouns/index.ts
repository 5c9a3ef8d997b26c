/** Every noun's table: the whole command tree. */
import { audit } from "./audit.js";
import { borrower } from "./borrower.js";
import { collateral } from "./collateral.js";
import { custody } from "./custody.js";
import { disclosure } from "./disclosure.js";
import { fees } from "./fees.js";
import { insurance } from "./insurance.js";
import { keeper } from "./keeper.js";
import { lender } from "./lender.js";
import { loan } from "./loan.js";
import { member } from "./member.js";
import { report } from "./report.js";
import { reserve } from "./reserve.js";
import { serve } from "./serve.js";
import type { Noun } from "../table.js";

export {
  audit,
  borrower,
  collateral,
  custody,
  disclosure,
  fees,
  insurance,
  keeper,
  lender,
  loan,
  member,
  report,
  reserve,
  serve,
};

/** The nouns in the order the usage lists them; a noun whose only row is "" is a command of one word (`serve`). */
export const NOUNS: Readonly<Record<string, Noun>> = {
  member,
  lender,
  loan,
  fees,
  keeper,
  collateral,
  reserve,
  insurance,
  borrower,
  disclosure,
  report,
  custody,
  audit,
  serve,
};
