import { expect } from "chai";
import { appendFileSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImportJournal } from "../../src/cli/journal.js";

const EXPECTED = {
  chainId: "31337",
  loanRegistry: "0x00000000000000000000000000000000000000a1",
  platform: "0x00000000000000000000000000000000000000b2",
  input: "book.csv",
};

describe("the import journal", function () {
  it("drops a line a crash cut short, so that the journal stays readable however often the import resumes", async function () {
    const path = join(await mkdtemp(join(tmpdir(), "loanledger-journal-")), "book.csv.journal.jsonl");
    const first = ImportJournal.open(path, EXPECTED, 1_800_000_000, true);
    first.sending(1, ["A-1", "A-2"]);
    first.close();
    // Killed while it wrote the next line.
    appendFileSync(path, '{"batch":2,"sendi');

    const resumed = ImportJournal.open(path, EXPECTED, 1_800_000_000, true);
    expect(resumed.lastBatch).to.equal(1);
    resumed.sending(2, ["A-3"]);
    resumed.close();
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l) as object)).to.have.length(3);
    expect(lines.at(-1)).to.equal('{"batch":2,"sending":["A-3"]}');
    // And again: nothing in the middle of the file stops a later resume.
    expect(ImportJournal.open(path, EXPECTED, 1_800_000_000, true).lastBatch).to.equal(2);
  });
});
