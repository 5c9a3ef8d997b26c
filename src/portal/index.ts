export * from "./api.js";
export * from "./build.js";
export * from "./server.js";
export * from "./open.js";
export * from "./devnet.js";
