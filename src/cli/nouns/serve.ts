/** `loanledger serve`: the indexer and the read-only web portal. */
import { noun } from "../table.js";

export const serve = noun({
  "": {
    flags: {
      db: { value: "<file>", help: "the index (default: cache/index-chain-<id>.sqlite)" },
      host: { value: "<address>", help: "the address to listen on (default 127.0.0.1)" },
      port: { value: "N", help: "the port (default 8080)" },
      rebuild: { help: "index the chain again from the deployment's block" },
      names: {
        value: "<file>",
        help: "members' names, a JSON object of address to name; each is checked against the member's registered hash",
      },
    },
    summary: "indexes the chain and serves the read-only web portal (127.0.0.1:8080)",
    example: "serve --port 8080",
    in: "serve",
  },
});
