export { main } from "./main.js";
export { contextFor, contextFromEnv, type CliContext, type ContextFactory } from "./context.js";
export type { CliIo } from "./output.js";
