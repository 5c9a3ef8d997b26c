/**
 * The suite's logs decoded into the records the auditor's export uses (LoanRecord for a history fact, EventRecord for
 * every other event), so that what the index stores is what the verifier checks.
 */
import { Interface, type ContractRunner, type Log } from "ethers";
import { CustodyDepositToken__factory, type DisclosureRegistry } from "../../typechain-types/index.js";
import {
  auditedContracts,
  CUSTODY_CONTRACT,
  CUSTODY_EVENTS,
  formatLoanId,
  HISTORY_EVENTS,
  decodeEvent,
  Suite,
  SUITE,
  toJson,
  type AuditSources,
  type SuiteKey,
  type EventRecord,
  type Json,
  type LoanRecord,
} from "../client/index.js";

/** The suite's contracts an index follows, and the settlement token whose transfers out of the splitter it keeps. */
export interface IndexSources extends AuditSources {
  disclosures: DisclosureRegistry;
  /** The settlement token's address: its transfers out of the splitter are the lenders' payouts. */
  token: string;
}

/** The index's sources for the suite at these addresses (as an Ignition deployment or the settings name them). */
export function indexSourcesAt(at: Record<SuiteKey, string>, runner: ContractRunner, fromBlock = 0): IndexSources {
  const suite = Suite.at(at, runner, { fromBlock });
  return { ...suite.auditSources, disclosures: suite.contracts.disclosures, token: suite.addresses.token };
}

/** One decoded log: a history fact of a loan, or any other event of the suite. */
export type IndexedRecord = { kind: "history"; record: LoanRecord } | { kind: "event"; record: EventRecord };

const TRANSFER = new Interface(["event Transfer(address indexed from, address indexed to, uint256 value)"]);
/** The custody token's own events, when the settlement token is one (a stand-in emits none of them). */
const CUSTODY = CustodyDepositToken__factory.createInterface();
const CUSTODY_TOPICS = CUSTODY_EVENTS.map((name) => CUSTODY.getEvent(name).topicHash);

/** Decodes the suite's logs; the log filters an index reads with. */
export class RecordDecoder {
  private readonly byAddress: Map<string, { name: string; iface: Interface }>;
  private readonly historyTopics: Set<string>;
  readonly contracts: Record<string, string>;
  private readonly token: string;
  private readonly splitterTopic: string;

  constructor(private readonly sources: IndexSources) {
    const registry = sources.loans.contract;
    const named = [...auditedContracts(sources), [SUITE.disclosures.name, sources.disclosures] as const];
    this.contracts = {
      ...Object.fromEntries(named.map(([name, c]) => [name, String(c.target)])),
      Token: sources.token,
      // Named apart from the token's transfers: an index that did not follow the custody events must be rebuilt.
      [CUSTODY_CONTRACT]: sources.token,
    };
    this.byAddress = new Map(named.map(([name, c]) => [String(c.target).toLowerCase(), { name, iface: c.interface }]));
    this.historyTopics = new Set(HISTORY_EVENTS.map((name) => registry.interface.getEvent(name).topicHash));
    this.token = sources.token.toLowerCase();
    this.splitterTopic = "0x" + String(sources.splitter.target).slice(2).toLowerCase().padStart(64, "0");
  }

  /**
   * The log filters of a block range: every suite event, the token's transfers out of the splitter, and the custody
   * token's issues, redemptions, withdrawals and registrations.
   */
  filters(): { address: string | string[]; topics?: (string | string[] | null)[] }[] {
    return [
      { address: [...this.byAddress.keys()] },
      { address: this.token, topics: [TRANSFER.getEvent("Transfer")!.topicHash, this.splitterTopic] },
      { address: this.token, topics: [CUSTODY_TOPICS] },
    ];
  }

  decode(log: Log): IndexedRecord | undefined {
    const address = log.address.toLowerCase();
    const position = { blockNumber: log.blockNumber, transactionHash: log.transactionHash, logIndex: log.index };
    if (address === this.token && CUSTODY_TOPICS.includes(log.topics[0])) {
      const parsed = decodeEvent(CUSTODY, log);
      if (!parsed) return undefined;
      const args = toJson(parsed.args) as { [key: string]: Json };
      return { kind: "event", record: { contract: CUSTODY_CONTRACT, event: parsed.name, args, ...position } };
    }
    if (address === this.token) {
      const parsed = decodeEvent(TRANSFER, log);
      if (!parsed) return undefined;
      const args = toJson(parsed.args) as { [key: string]: Json };
      return { kind: "event", record: { contract: "Token", event: "Transfer", args, ...position } };
    }
    const source = this.byAddress.get(address);
    if (!source) return undefined;
    if (source.name === "LoanRegistry" && this.historyTopics.has(log.topics[0])) {
      const entry = this.sources.loans.parseHistoryLog(log);
      return {
        kind: "history",
        record: {
          loanId: formatLoanId(entry.loanId),
          fact: toJson(entry.fact) as { [key: string]: Json },
          head: entry.head,
          ...(entry.terms ? { terms: toJson(entry.terms) as { [key: string]: Json } } : {}),
          ...position,
        },
      };
    }
    const parsed = decodeEvent(source.iface, log);
    if (!parsed) return undefined;
    const args = toJson(parsed.args) as { [key: string]: Json };
    return { kind: "event", record: { contract: source.name, event: parsed.name, args, ...position } };
  }
}
