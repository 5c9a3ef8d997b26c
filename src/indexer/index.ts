export * from "./records.js";
export * from "./rows.js";
export * from "./store.js";
export * from "./sqlite.js";
export * from "./indexer.js";
export * from "./proof.js";
export * from "./operations.js";
