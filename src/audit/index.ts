/**
 * The auditor's verification, one pipeline: a source (an export directory, or a node at a block) gives a stream of
 * records ({source}); pure checks read the stream ({check}, {balances}, {facts}); a report renders what they found
 * ({report}). Proving an export compares two sources record by record ({prove}); {verify} joins them, and {attest}
 * records an auditor's signature of a report.
 */
export * from "./source.js";
export * from "./scope.js";
export * from "./check.js";
export * from "./balances.js";
export * from "./prove.js";
export * from "./report.js";
export * from "./attest.js";
export * from "./verify.js";
