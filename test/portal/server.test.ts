import { expect } from "chai";
import { DatabaseSync } from "node:sqlite";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Indexer } from "../../src/indexer/index.js";
import type { PortalApi } from "../../src/portal/api.js";
import { withoutUrls } from "../../src/client/index.js";
import { PortalServer } from "../../src/portal/server.js";

/** A server whose indexer fails, or not, as the test says: no node and no HTTP needed. */
function serverWith(sync: () => Promise<void>) {
  const indexer = { sync } as unknown as Indexer;
  return new PortalServer(indexer, {} as PortalApi, { staticDir: ".", syncIntervalMs: 0, follow: false });
}

describe("PortalServer's indexing", function () {
  it("stops and says why when the index file can no longer be read or written", async function () {
    // A real node:sqlite error, from a file that is not a database.
    const file = join(await mkdtemp(join(tmpdir(), "loanledger-corrupt-")), "index.db");
    await writeFile(file, Buffer.alloc(8_192, 7));
    const server = serverWith(async () => {
      new DatabaseSync(file).exec("SELECT * FROM sqlite_master");
    });
    await server.sync();
    expect(server.syncError).to.equal("the index can no longer be read or written: file is not a database");
  });

  it("reports a failed round without the node's URL, and clears it once a round succeeds", async function () {
    let fail = true;
    const server = serverWith(async () => {
      if (fail) throw new Error("request to https://user:secret@node.example:8545/rpc failed, reason: ECONNREFUSED");
    });
    await server.sync();
    expect(server.syncError).to.equal(null);
    expect(server.syncWarning).to.equal(
      "the last round of indexing failed and will be tried again: request to the node failed, reason: ECONNREFUSED",
    );
    fail = false;
    await server.sync();
    expect(server.syncWarning).to.equal(null);
    expect(withoutUrls("see http://127.0.0.1:8545 and ws://a/b")).to.equal("see the node and the node");
  });
});
