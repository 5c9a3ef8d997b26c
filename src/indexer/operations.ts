/**
 * The operations report's sources: a node's logs, decoded as the index decodes them, and the portal's index. Both feed
 * the same replay (src/client/operations), so a report read either way is the same report.
 */
import type { Interface, Provider } from "ethers";
import { LedgerReader, LoanLedgerError, operations, type LedgerReadOptions, type LogFilter } from "../client/index.js";
import { RecordDecoder, type IndexSources } from "./records.js";
import type { IndexStore } from "./store.js";

/** The names (`Contract.Event`, `LoanRegistry.<fact kind>`) of the records the report reads. */
export const OPERATIONS_RECORD_NAMES: readonly string[] = [
  ...operations.OPERATIONS_FACTS.map((kind) => `LoanRegistry.${kind}`),
  ...Object.entries(operations.OPERATIONS_EVENTS).flatMap(([contract, events]) =>
    events.map((e) => `${contract}.${e}`),
  ),
];

const wanted = new Set(OPERATIONS_RECORD_NAMES);

/** The report read from a node: the suite's logs, one bounded block range at a time. */
export function nodeOperationsSource(
  provider: Provider,
  sources: IndexSources,
  fromBlock: number,
  options: LedgerReadOptions = {},
): operations.OperationsSource {
  const decoder = new RecordDecoder(sources);
  let latest: Promise<LedgerReader> | undefined;
  const reader = () => (latest ??= LedgerReader.pin(provider, { fromBlock, ...options }));
  const timeOf = async (block: number) => (await reader()).timestamp(block);
  return {
    head: async () => {
      const r = await reader();
      return { block: r.blockTag, time: await r.timestamp(r.blockTag) };
    },
    // The ledger begins at its first suite event, as the index's first block is: a genesis block's time says nothing.
    origin: async () => {
      const r = await reader();
      const [suite] = decoder.filters();
      // Windows that double from 128 blocks: the first suite event is near the start, and a wide first window would
      // fetch thousands of logs to find it.
      for (let from = fromBlock, width = 128; from <= r.blockTag; from += width, width *= 2) {
        const logs = await r.logs(suite, { fromBlock: from, toBlock: Math.min(from + width - 1, r.blockTag) });
        if (logs.length) return { block: logs[0].blockNumber, time: await timeOf(logs[0].blockNumber) };
      }
      return { block: r.blockTag, time: await timeOf(r.blockTag) };
    },
    lastBlockAtOrBefore: async (time) => (await reader()).lastBlockAtOrBefore(time),
    replay: async (toBlock, push) => {
      const upTo = await LedgerReader.pin(provider, { at: toBlock, fromBlock, ...options });
      let more = true;
      await upTo.eachRange(operationsLogFilter(sources), (logs) => {
        for (const log of logs) {
          if (!more) return;
          const item = decoder.decode(log);
          if (!item) continue;
          const name =
            item.kind === "history"
              ? `LoanRegistry.${String(item.record.fact.kind)}`
              : `${item.record.contract}.${item.record.event}`;
          if (wanted.has(name)) more = push(item);
        }
      });
    },
  };
}

/** The logs the report reads: only its events, of the suite's own contracts (not the token's transfers). */
export function operationsLogFilter(sources: IndexSources): LogFilter {
  const [suite] = new RecordDecoder(sources).filters();
  return { address: suite.address, topics: [operationsTopics(sources)] };
}

/** The topic hashes of the events the report reads. */
function operationsTopics(sources: IndexSources): string[] {
  const interfaces: Record<keyof typeof operations.OPERATIONS_EVENTS | "LoanRegistry", Interface> = {
    LoanRegistry: sources.loans.contract.interface,
    RepaymentSplitter: sources.splitter.interface,
    LossWaterfall: sources.waterfall.interface,
    RiskReserveFund: sources.reserve.interface,
    CreditInsurance: sources.insurance.interface,
    DisclosureRegistry: sources.disclosures.interface,
  };
  const named: [Interface, readonly string[]][] = [
    [interfaces.LoanRegistry, Object.values(operations.OPERATIONS_FACT_EVENTS)],
    ...Object.entries(operations.OPERATIONS_EVENTS).map(
      ([contract, events]) =>
        [interfaces[contract as keyof typeof interfaces], events] as [Interface, readonly string[]],
    ),
  ];
  return named.flatMap(([iface, events]) => events.map((event) => iface.getEvent(event)!.topicHash));
}

/** The report read from the portal's index, as far as the index has committed. */
export function indexOperationsSource(store: IndexStore): operations.OperationsSource {
  const state = () => {
    const s = store.state();
    if (!s?.last) throw new LoanLedgerError("the index holds no block yet: let it catch up with the node first");
    return { ...s, last: s.last };
  };
  return {
    head: async () => ({ block: state().last.number, time: state().last.timestamp }),
    origin: async () => {
      const s = state();
      const first = store.firstBlock();
      return first ? { block: first.number, time: first.timestamp } : { block: s.fromBlock, time: s.last.timestamp };
    },
    lastBlockAtOrBefore: async (time) => store.lastBlockAtOrBefore(time),
    replay: async (toBlock, push) => {
      for (const item of store.recordsNamed(OPERATIONS_RECORD_NAMES, toBlock)) if (!push(item)) return;
    },
  };
}
