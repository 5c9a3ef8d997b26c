/** Sending a loan book in gas-sized batches (`loan anchor --file`, and the CLI benchmark). */
import {
  ContractError,
  InputError,
  LoanLedgerError,
  formatLoanId,
  toLoanId,
  toLoanLedgerError,
  toStruct,
  type LoanId,
  type LoanTerms,
} from "../client/index.js";
import { batchGasBudget, mined, splitByGas } from "../client/transact.js";
import type { CliContext } from "./context.js";
import { reason } from "./reason.js";

/**
 * Anchors a loan book in as few transactions as fit the network: each batch is estimated before anything is sent, so
 * that a loan the registry would refuse stops the whole book first, with its place in the file. Each batch's calldata
 * is encoded once, for its estimate and its transaction, and the new ids are read from the receipt's raw logs: with
 * books of thousands of loans, encoding and decoding are what the client spends its time on.
 */
export async function anchorInBatches(ctx: CliContext, terms: readonly LoanTerms[]): Promise<LoanId[]> {
  const contract = ctx.loans.contract;
  const to = ctx.loans.address;
  const [maxBatch, budget] = await Promise.all([
    contract.MAX_BATCH().then(Number),
    batchGasBudget(ctx.signer.provider!),
  ]);
  const calldata = new Map<string, string>();
  const encoded = (batch: readonly LoanTerms[], offset: number) => {
    const key = `${offset}+${batch.length}`;
    if (!calldata.has(key))
      calldata.set(key, contract.interface.encodeFunctionData("anchorLoans", [batch.map(toStruct)]));
    return calldata.get(key)!;
  };
  const batches = await splitByGas(
    terms,
    async (batch, offset) => {
      try {
        return await ctx.signer.estimateGas({ to, data: encoded(batch, offset) });
      } catch (error) {
        const refused = toLoanLedgerError(error);
        if (refused instanceof ContractError && refused.errorName === "LoanRegistryBatchItemRejected") {
          const item = offset + Number(refused.args[0]);
          throw new InputError(
            `loan ${item + 1} of the file would be refused, so nothing was anchored: ${reason(refused.cause ?? refused, ctx)}`,
          );
        }
        throw refused;
      }
    },
    budget,
    maxBatch,
  );
  const anchoredTopic = contract.interface.getEvent("LoanAnchored").topicHash;
  const anchored: LoanId[] = [];
  for (const batch of batches) {
    try {
      // Each batch was estimated while planning; a tenth more covers state that moved since, within the cap.
      const gasLimit = (batch.gas * 11n) / 10n < (budget * 10n) / 9n ? (batch.gas * 11n) / 10n : (budget * 10n) / 9n;
      const sent = await ctx.signer.sendTransaction({ to, data: encoded(batch.items, batch.offset), gasLimit });
      const receipt = await mined(sent);
      if (!receipt) throw new LoanLedgerError("the transaction was dropped");
      for (const log of receipt.logs)
        if (log.topics[0] === anchoredTopic) anchored.push(toLoanId(BigInt(log.topics[1])));
    } catch (error) {
      const before = anchored.length
        ? `the ${anchored.length} before them are anchored: ${anchored.map(formatLoanId).join(", ")}`
        : "nothing was anchored";
      throw new LoanLedgerError(
        `loans ${batch.offset + 1} to ${batch.offset + batch.items.length} were refused (${reason(error, ctx)}); ${before}`,
      );
    }
  }
  return anchored;
}
