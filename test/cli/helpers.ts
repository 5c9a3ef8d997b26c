import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contextFor, main, type CliContext, type CliIo } from "../../src/cli/index.js";
import { NATIONAL_IDS, type AllianceFixture } from "../fixtures.js";

const KEY_HEX = "0x" + "07".repeat(32);

/** Runs the CLI in-process as `signer`, capturing what it prints. */
export async function run(f: AllianceFixture, signer: AllianceFixture["governance"], argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const at = {
    alliance: String(f.alliance.target),
    loans: String(f.loans.target),
    splitter: String(f.splitter.target),
    collateral: String(f.collateral.target),
    insurance: String(f.insurance.target),
    reserve: String(f.reserve.target),
    waterfall: String(f.waterfall.target),
    disclosures: String(f.disclosures.target),
  };
  const context = async (): Promise<CliContext> => contextFor(signer, at, 0, { decimals: 18, allianceKeyHex: KEY_HEX });
  const code = await main(argv, io, context);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

export async function termsFile(entries: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "loanledger-"));
  const file = join(dir, "terms.json");
  await writeFile(file, JSON.stringify(entries));
  return file;
}

export const loanEntry = (ref: string) => ({
  borrowerNationalId: NATIONAL_IDS[1],
  documentHash: "signed contract v1",
  platformRef: ref,
  principal: "50000",
  annualRateBps: 860,
  schedule: "equal-principal",
  installments: 6,
  period: "30d",
  gracePeriod: "3d",
  lateFeeBps: 1500,
  defaultThreshold: "60d",
  fundingDeadline: "+7d",
});

/** Anchors the terms-file entry `ref` as platform A through the CLI, and returns the loan id the command printed. */
export async function anchorWithCli(f: AllianceFixture, ref: string): Promise<string> {
  const anchored = await run(f, f.platformA, ["loan", "anchor", "--file", await termsFile(loanEntry(ref)), "--json"]);
  if (anchored.code !== 0) throw new Error(`anchoring ${ref} failed: ${anchored.err}`);
  return (JSON.parse(anchored.out) as { loanIds: string[] }).loanIds[0];
}
