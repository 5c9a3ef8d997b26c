export * from "./ids.js";
export * from "./types.js";
export * from "./errors.js";
export * from "./borrower.js";
export * from "./history.js";
export * from "./alliance.js";
export * from "./loans.js";
export * as scheduleMath from "./schedule.js";
export { schedule, lateInterest, levelPayment, periodInterest, type ScheduledInstallment } from "./schedule.js";
