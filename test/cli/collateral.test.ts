import { expect } from "chai";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MaxUint256 } from "ethers";
import { toLoanId } from "../../src/client/index.js";
import { DAY, deployAllianceFixture, ethers, loadFixture, time } from "../fixtures.js";
import { anchorWithCli, run } from "./helpers.js";

async function documentFile(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "loanledger-doc-")), "document.pdf");
  await writeFile(file, text);
  return file;
}

/** A car registered through the CLI by platform A for its owner, and a loan of platform A anchored. */
/** The owner signs its consent to a 40 000 first lien, and platform A takes the lien with it, both through the CLI. */
async function pledgeWithConsent(f: Awaited<ReturnType<typeof cliCollateralFixture>>) {
  const consent = await run(f, f.owner, ["collateral", "consent", f.assetId, f.loanId, "--secured", "40000", "--json"]);
  expect(consent.code, consent.err).to.equal(0);
  const { signature, deadline } = JSON.parse(consent.out) as { signature: string; deadline: number };
  const pledge = ["--secured", "40000", "--consent", signature, "--deadline", String(deadline)];
  const pledged = await run(f, f.platformA, ["collateral", "pledge", f.assetId, f.loanId, ...pledge]);
  expect(pledged.code, pledged.err).to.equal(0);
}

async function cliCollateralFixture() {
  const f = await deployAllianceFixture();
  const [owner, custodian] = (await ethers.getSigners()).slice(7, 9);
  await f.alliance.admitMember(custodian, 8, ethers.id("custodian licence"));
  const registered = await run(f, f.platformA, [
    "collateral",
    "register",
    "--class",
    "vehicle",
    "--official-id",
    "LSVAU-2180 N2183294",
    "--owner",
    owner.address,
    "--value",
    "80000",
    "--appraisal",
    await documentFile("appraisal report"),
    "--json",
  ]);
  expect(registered.code, registered.err).to.equal(0);
  const { assetId } = JSON.parse(registered.out) as { assetId: string };
  const loanId = await anchorWithCli(f, "C-1");
  return { ...f, owner, custodian, assetId, loanId };
}

describe("loanledger CLI: collateral", function () {
  it("rejects the same car registered again under a differently written VIN, in one line", async function () {
    const f = await loadFixture(cliCollateralFixture);
    const again = await run(f, f.platformB, [
      "collateral",
      "register",
      "--class",
      "vehicle",
      "--official-id",
      "lsvau2180n2183294",
      "--owner",
      f.outsider.address,
      "--value",
      "1",
      "--appraisal",
      await documentFile("another appraisal"),
    ]);
    expect(again.code).to.equal(1);
    expect(again.err).to.match(
      /^error: CollateralRegistryAlreadyRegistered: asset 0x[0-9a-f]{8}… is already registered/,
    );
    const shown = await run(f, f.auditor, [
      "collateral",
      "show",
      "--class",
      "vehicle",
      "--official-id",
      "LSVAU2180N2183294",
    ]);
    expect(shown.out).to.include(f.assetId).and.include("Registered").and.include("no liens");
  });

  it("pledges with the owner's signed consent, then releases the lien once the loan is cancelled", async function () {
    const f = await loadFixture(cliCollateralFixture);
    await pledgeWithConsent(f);
    expect((await run(f, f.auditor, ["collateral", "show", f.assetId])).out).to.include("Active");

    const early = await run(f, f.outsider, ["collateral", "release", f.assetId, f.loanId]);
    expect(early.err).to.match(
      /^error: CollateralRegistryLoanNotClosed: loan .* is Funding; its lien is released once Repaid/,
    );
    await run(f, f.platformA, ["loan", "cancel", f.loanId]);
    const released = await run(f, f.outsider, ["collateral", "release", f.assetId]);
    expect(released.code, released.err).to.equal(0);
    expect(released.out).to.match(/^released the lien of loan/);
  });

  it("seizes the car of a defaulted loan and disposes of it, printing where the proceeds went", async function () {
    const f = await loadFixture(cliCollateralFixture);
    await pledgeWithConsent(f);
    await run(f, f.platformA, ["loan", "activate", f.loanId]);
    await time.increase(100 * DAY);
    await run(f, f.platformA, ["loan", "late", f.loanId]);
    expect((await run(f, f.platformA, ["loan", "default", f.loanId])).out).to.include("Defaulted");
    const seized = await run(f, f.platformA, ["collateral", "seize", f.assetId, f.loanId]);
    expect(seized.code, seized.err).to.equal(0);
    await f.token.mint(f.platformA, 60_000n * 10n ** 18n);
    await f.token.connect(f.platformA).approve(f.collateral, MaxUint256);
    const proposed = await run(f, f.platformA, [
      "collateral",
      "sell",
      f.assetId,
      "--proceeds",
      "55000",
      "--buyer",
      "auction lot 17",
      "--document",
      await documentFile("sale contract"),
    ]);
    expect(proposed.code, proposed.err).to.equal(0);
    expect(proposed.out).to.match(/^proposed to sell .* for 55,000\.00 LLST; it may complete from /);
    // Too early, then too cheap: 55 000 is below 80% of the 80 000 appraisal, which a custodian must confirm.
    const early = await run(f, f.platformA, ["collateral", "dispose", f.assetId]);
    expect(early.err).to.match(/^error: CollateralRegistrySaleWindowOpen: the lienholders' window .* is open until/);
    await time.increase(3 * DAY);
    const cheap = await run(f, f.platformA, ["collateral", "dispose", f.assetId]);
    // The price and the floor in the token's units, as the proposal printed them.
    expect(cheap.err).to.match(
      /the price 55,000\.00 LLST for .* is below the appraisal floor 64,000\.00 LLST: a custodian member must confirm/,
    );
    const sale = JSON.parse((await run(f, f.outsider, ["collateral", "sale", f.assetId, "--json"])).out) as {
      proposalHash: string;
      confirmer: string | null;
    };
    expect(sale.confirmer).to.equal(null);
    const confirmed = await run(f, f.custodian, [
      "collateral",
      "confirm-sale",
      f.assetId,
      "--proposal",
      sale.proposalHash,
    ]);
    expect(confirmed.code, confirmed.err).to.equal(0);
    const disposed = await run(f, f.platformA, ["collateral", "dispose", f.assetId]);
    expect(disposed.code, disposed.err).to.equal(0);
    expect(disposed.out)
      .to.include("40,000.00 LLST to " + f.platformA.address)
      .and.include("owner: 15,000.00 LLST")
      .and.match(/^disposed of 0x[0-9a-f]{8}… for 55,000.00 LLST:/);
    expect((await f.collateral.lienOf(f.assetId, toLoanId(f.loanId))).status).to.equal(4n);
  });

  it("checks collateral arguments before touching the chain", async function () {
    const f = await loadFixture(cliCollateralFixture);
    for (const [argv, reason] of [
      [["collateral", "register", "--class", "boat"], /--class must be one of real-estate, vehicle/],
      [["collateral", "pledge", f.assetId, f.loanId], /--secured is required/],
      [["collateral", "pledge", f.assetId, f.loanId, "--secured", "1", "--consent", "0x12"], /65-byte signature/],
      [["collateral", "seize", "nonsense", f.loanId], /not an asset id/],
    ] as const) {
      const result = await run(f, f.platformA, [...argv]);
      expect(result.code).to.equal(1);
      expect(result.err).to.match(reason);
    }
  });
});
