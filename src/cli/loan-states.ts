/**
 * The states of many loans at once, for the commands that go through a whole book (`loan list`, `keeper overdue`,
 * `loan take-over`). Read one call at a time, a book of thousands of loans costs thousands of round trips and as many
 * trips through ethers' contract machinery; here each `loanState` call is encoded by hand and sent in JSON-RPC batches,
 * every call at one block, so that the states are one snapshot of the book.
 */
import { JsonRpcProvider, toQuantity, type JsonRpcError, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { formatLoanId, toLoanLedgerError, toLoanState, type LoanId, type LoanState } from "../client/index.js";
import type { CliContext } from "./context.js";

/** Calls in one JSON-RPC batch: under Besu's default cap of 1 024 (`--rpc-http-max-batch-size`). */
export const STATE_BATCH = 1_000;

/** The state of each of `ids`, in order, read at the latest block, `batch` calls to a request. */
export async function loanStates(ctx: CliContext, ids: readonly LoanId[], batch = STATE_BATCH): Promise<LoanState[]> {
  const provider = ctx.signer.provider;
  if (!provider) throw new Error("the signer has no provider");
  const registry = ctx.loans.contract.interface;
  const fragment = registry.getFunction("loanState")!;
  const to = ctx.loans.address;
  const call = (id: LoanId) => ({ to, data: fragment.selector + formatLoanId(id).slice(2) });
  const decode = (data: string) => toLoanState(registry.decodeFunctionResult("loanState", data)[0]);
  const block = await provider.getBlockNumber();
  const states: LoanState[] = [];
  for (let i = 0; i < ids.length; i += batch) {
    const chunk = ids.slice(i, i + batch);
    if (!(provider instanceof JsonRpcProvider)) {
      // A provider without JSON-RPC batches (the in-process network of the tests): the same calls, side by side.
      const results = await Promise.all(chunk.map((id) => provider.call({ ...call(id), blockTag: block })));
      states.push(...results.map(decode));
      continue;
    }
    const payload: JsonRpcPayload[] = chunk.map((id, j) => ({
      jsonrpc: "2.0",
      id: j,
      method: "eth_call",
      params: [call(id), toQuantity(block)],
    }));
    const answers = new Map((await provider._send(payload)).map((a: JsonRpcResult | JsonRpcError) => [a.id, a]));
    payload.forEach((request, j) => {
      const answer = answers.get(j);
      if (answer === undefined)
        throw new Error(`the node left loan ${formatLoanId(chunk[j])}'s state out of its answer`);
      if ("error" in answer) throw toLoanLedgerError(provider.getRpcError(request, answer));
      states.push(decode(answer.result as string));
    });
  }
  return states;
}
