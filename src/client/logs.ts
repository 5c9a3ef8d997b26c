/**
 * Decoding logs fast. `Interface.parseLog` finds a log's event by hashing every event signature of the ABI again for
 * each log, and ethers' ABI coder builds a reader, a coder and a proxy per value: together some 100 µs a log, the most
 * of reading a large book from a node. Each interface's events are hashed once here, and an event whose values all
 * sit in fixed places (numbers, addresses, fixed bytes, booleans and tuples of them, as every suite event but a few
 * has) is read straight from its words; any other goes through ethers. Both give the same `Result`.
 */
import {
  getAddress,
  LogDescription,
  Result,
  type EventFragment,
  type Interface,
  type Log,
  type ParamType,
} from "ethers";

/** Reads one value from a 64-hex-digit word, as ethers' coder of its type would. */
type WordReader = (word: string) => unknown;
/** Makes a tuple's value from its items and their names: an ethers `Result`, or a plain object. */
type Make = (items: unknown[], names: (string | null)[]) => unknown;
/** Reads a tuple (or an event's data) from the words starting at `at`: its value and the words it took. */
interface Layout {
  words: number;
  read(words: readonly string[], at: number, make: Make): unknown;
}

const asResult: Make = (items, names) => Result.fromItems(items, names);
const asObject: Make = (items, names) => {
  const object: Record<string, unknown> = {};
  names.forEach((name, i) => (object[name!] = items[i]));
  return object;
};

interface KnownEvent {
  fragment: EventFragment;
  fast: FastEvent | null;
  named: boolean;
}
const byTopic = new WeakMap<Interface, Map<string, KnownEvent>>();
const checksummed = new Map<string, string>();
const HEX = /^0x[0-9a-fA-F]*$/;

/** The checksummed form of a lowercase address (40 hex digits, no 0x): keccak once per address, within reason. */
export function checksummedAddress(lower: string): string {
  let cased = checksummed.get(lower);
  if (cased === undefined) {
    cased = getAddress("0x" + lower);
    // Addresses repeat (platforms, lenders, contracts); a cap keeps a run over millions of borrowers' keys bounded.
    if (checksummed.size < 100_000) checksummed.set(lower, cased);
  }
  return cased;
}

function address(word: string): string {
  // A word wider than an address: ethers refuses it, and the caller hands the log to ethers for its own error.
  if (!/^0{24}$/.test(word.slice(0, 24))) throw new RangeError("an address word with high bits set");
  return checksummedAddress(word.slice(24));
}

/** The reader of a single-word type, or null when the type is not one. */
function wordReader(type: ParamType): WordReader | null {
  const t = type.type;
  if (t === "address") return address;
  if (t === "bool") return (word) => BigInt("0x" + word) !== 0n;
  const fixed = /^bytes(\d+)$/.exec(t);
  if (fixed) {
    const size = Number(fixed[1]);
    return (word) => "0x" + word.slice(0, size * 2);
  }
  const int = /^(u?)int(\d*)$/.exec(t);
  if (int) {
    const bits = BigInt(int[2] || "256");
    const mask = (1n << bits) - 1n;
    const signed = int[1] === "";
    return (word) => {
      const value = BigInt("0x" + word) & mask;
      return signed && value >> (bits - 1n) === 1n ? value - (1n << bits) : value;
    };
  }
  return null;
}

/** The layout of static values in order (a tuple's components, or an event's unindexed inputs), or null. */
function layoutOf(params: readonly ParamType[]): Layout | null {
  const parts: Layout[] = [];
  for (const param of params) {
    if (param.isTuple()) {
      const inner = layoutOf(param.components);
      if (!inner) return null;
      const keys = param.components.map((c) => c.name || null);
      parts.push({
        words: inner.words,
        read: (words, at, make) => make(inner.read(words, at, make) as unknown[], keys),
      });
      continue;
    }
    const read = wordReader(param);
    if (!read) return null;
    parts.push({ words: 1, read: (words, at) => read(words[at]) });
  }
  return {
    words: parts.reduce((sum, p) => sum + p.words, 0),
    read(words, at, make) {
      const values: unknown[] = [];
      for (const part of parts) {
        values.push(part.read(words, at, make));
        at += part.words;
      }
      return values;
    },
  };
}

interface FastEvent {
  decode(data: string, topics: readonly string[], make: Make): unknown;
}

/** A decoder of an event whose every input sits in a fixed place, or null when one does not. */
function fastEvent(fragment: EventFragment): FastEvent | null {
  const indexed = fragment.inputs.filter((p) => p.indexed);
  const topicReaders = indexed.map(wordReader);
  if (topicReaders.some((r) => r === null)) return null;
  const data = layoutOf(fragment.inputs.filter((p) => !p.indexed));
  if (!data) return null;
  const keys = fragment.inputs.map((p) => p.name || null);
  return {
    decode(hex, topics, make) {
      // Anything but the exact length of the layout (ethers would refuse or ignore the rest), and any word that is not
      // 32 bytes of hex (a node's answer is taken as it comes): ethers decides, and refuses what it refuses.
      if (hex.length !== 2 + data.words * 64 || topics.length !== indexed.length + 1) return null;
      if (!HEX.test(hex) || !topics.every((topic) => topic.length === 66 && HEX.test(topic))) return null;
      const words: string[] = [];
      for (let i = 2; i < hex.length; i += 64) words.push(hex.slice(i, i + 64).toLowerCase());
      try {
        const unindexed = data.read(words, 0, make) as unknown[];
        let t = 0;
        let d = 0;
        const values = fragment.inputs.map((p) =>
          p.indexed ? topicReaders[t]!(topics[1 + t++].slice(2).toLowerCase()) : unindexed[d++],
        );
        return make(values, keys);
      } catch (error) {
        if (error instanceof RangeError) return null;
        throw error;
      }
    },
  };
}

/** Whether every value, to the last tuple's components, has a name: ethers makes no object of one that has none. */
function named(params: readonly ParamType[]): boolean {
  return params.every((p) => p.name !== "" && (!p.isTuple() || named(p.components)));
}

function eventsOf(iface: Interface): Map<string, KnownEvent> {
  let events = byTopic.get(iface);
  if (!events) {
    const found = new Map<string, KnownEvent>();
    iface.forEachEvent((fragment) =>
      found.set(fragment.topicHash, { fragment, fast: fastEvent(fragment), named: named(fragment.inputs) }),
    );
    byTopic.set(iface, found);
    events = found;
  }
  return events;
}

/** As `iface.parseLog(log)`: the log's event and arguments, or null when the interface has no such event. */
export function parseLog(iface: Interface, log: Pick<Log, "topics" | "data">): LogDescription | null {
  const topic = log.topics[0];
  const event = eventsOf(iface).get(topic);
  if (!event || event.fragment.anonymous) return null;
  const { fragment, fast } = event;
  const args =
    (fast?.decode(log.data, log.topics, asResult) as Result | null | undefined) ??
    iface.decodeEventLog(fragment, log.data, log.topics);
  // The log's own first topic, which found the event: `fragment.topicHash` would hash the signature again each time.
  return new LogDescription(fragment, topic, args);
}

/**
 * As `parseLog(iface, log)` with `args.toObject(true)`: the event's name and its arguments by name, tuples as plain
 * objects too. An event read from its words builds no ethers `Result` or `LogDescription` on the way, which a reader
 * of a million logs notices; the answer is the same (a property test holds the two alike).
 */
export function decodeEvent(
  iface: Interface,
  log: Pick<Log, "topics" | "data">,
): { name: string; args: Record<string, unknown> } | null {
  const event = eventsOf(iface).get(log.topics[0]);
  if (!event || event.fragment.anonymous) return null;
  const { fragment, fast } = event;
  const fromWords = event.named ? fast?.decode(log.data, log.topics, asObject) : null;
  const args =
    (fromWords as Record<string, unknown> | null | undefined) ??
    iface.decodeEventLog(fragment, log.data, log.topics).toObject(true);
  return { name: fragment.name, args };
}
