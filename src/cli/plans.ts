/**
 * Where each command's plan lives. Each module is imported only when one of its commands runs, so that a command loads
 * only what it uses (the audit, the portal and the import each bring modules no other command needs).
 */
import type { Plan, PlanModule } from "./table.js";

export const PLAN_MODULES = {
  registry: () => import("./commands/registry.js"),
  consent: () => import("./commands/consent.js"),
  book: () => import("./commands/book.js"),
  funding: () => import("./commands/funding.js"),
  collateral: () => import("./commands/collateral.js"),
  risk: () => import("./commands/risk.js"),
  disclosure: () => import("./commands/disclosure.js"),
  report: () => import("./commands/report.js"),
  custody: () => import("./commands/custody.js"),
  audit: () => import("./commands/audit.js"),
  serve: () => import("./commands/serve.js"),
} satisfies Record<PlanModule, () => Promise<{ plans: Readonly<Record<string, Plan>> }>>;
