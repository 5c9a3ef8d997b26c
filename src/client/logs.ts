/**
 * Decoding logs without ethers' per-call search for the event: `Interface.parseLog` finds a log's event by hashing
 * every event signature of the ABI again for each log, which costs more than decoding the log itself. Each interface's
 * events are hashed once here, and the log decoded by its event.
 */
import { LogDescription, type EventFragment, type Interface, type Log } from "ethers";

const byTopic = new WeakMap<Interface, Map<string, EventFragment>>();

/** As `iface.parseLog(log)`: the log's event and arguments, or null when the interface has no such event. */
export function parseLog(iface: Interface, log: Pick<Log, "topics" | "data">): LogDescription | null {
  let events = byTopic.get(iface);
  if (!events) {
    events = new Map();
    iface.forEachEvent((event) => events!.set(event.topicHash, event));
    byTopic.set(iface, events);
  }
  const fragment = events.get(log.topics[0]);
  if (!fragment || fragment.anonymous) return null;
  return new LogDescription(fragment, fragment.topicHash, iface.decodeEventLog(fragment, log.data, log.topics));
}
