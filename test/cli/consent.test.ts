import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTermsFile } from "../../src/cli/terms-file.js";
import { Consent, loanIdOf, toAddress, toLoanId } from "../../src/client/index.js";
import { deployAllianceFixture, loadFixture, time } from "../fixtures.js";
import { KEY_HEX, loanEntry, run, termsFile } from "./helpers.js";

describe("CLI: loan sign, anchor with signatures, amend with signatures", function () {
  async function consentFixture() {
    const f = await deployAllianceFixture();
    const dir = await mkdtemp(join(tmpdir(), "loanledger-consent-"));
    // An absolute funding deadline, so that the borrower and the platform read the same terms, hence the same loan id.
    const entry = { ...loanEntry("CLI-SIGNED-1"), fundingDeadline: (await time.latest()) + 7 * 86_400 };
    const file = await termsFile(entry);
    const [terms] = await readTermsFile(file, {
      platform: toAddress(f.platformA.address),
      now: await time.latest(),
      decimals: 18,
      allianceKeyHex: KEY_HEX,
    });
    // The borrower is given the loan id, which the terms alone determine.
    return { ...f, dir, file, loanId: loanIdOf(terms).toString() };
  }

  it("anchors a loan with the borrower's signature file and the platform's key, then amends it, the platform agreeing by sending", async function () {
    const f = await loadFixture(consentFixture);
    const borrowerFile = join(f.dir, "borrower.json");
    const signed = await run(f, f.outsider, ["loan", "sign", f.loanId, "--out", borrowerFile]);
    expect(signed.code, signed.err).to.equal(0);
    expect(signed.out).to.match(/fresh key per loan/);

    const anchored = await run(f, f.platformA, ["loan", "anchor", "--file", f.file, "--signatures", borrowerFile]);
    expect(anchored.code, anchored.err).to.equal(0);
    expect((await f.loans.loanState(toLoanId(f.loanId))).consent).to.equal(Consent.Signed);

    const document = join(f.dir, "amendment.txt");
    await writeFile(document, "new repayment dates");
    const amendmentFile = join(f.dir, "amendment.json");
    const sign = ["loan", "sign", f.loanId, "--document", document, "--out", amendmentFile];
    expect((await run(f, f.outsider, sign)).code).to.equal(0);
    const amend = ["loan", "amend", f.loanId, "--document", document, "--signatures", amendmentFile];
    const amended = await run(f, f.platformA, amend);
    expect(amended.code, amended.err).to.equal(0);
    expect(amended.out).to.match(/document v2 .* signed by borrower .* sent by the platform/);
    // Used once: the same signature does not name the next version.
    const again = await run(f, f.platformA, amend);
    expect(again.code).to.not.equal(0);
    expect(again.err).to.match(/^error: /);
  });

  it("refuses a signature file that is not the borrower's, or for another loan, before sending", async function () {
    const f = await loadFixture(consentFixture);
    const forged = join(f.dir, "forged.json");
    expect((await run(f, f.outsider, ["loan", "sign", f.loanId, "--out", forged])).code).to.equal(0);
    const file = JSON.parse(await readFile(forged, "utf8")) as { signer: string };
    file.signer = f.lender.address;
    await writeFile(forged, JSON.stringify(file));
    const refused = await run(f, f.platformA, ["loan", "anchor", "--file", f.file, "--signatures", forged]);
    expect(refused.code).to.not.equal(0);
    expect(refused.err).to.match(/borrower's signature of the agreement is not/);

    const other = join(f.dir, "other.json");
    expect((await run(f, f.outsider, ["loan", "sign", "12345", "--out", other])).code).to.equal(0);
    const missing = await run(f, f.platformA, ["loan", "anchor", "--file", f.file, "--signatures", other]);
    expect(missing.err).to.match(/has no borrower signature file/);
  });
});
