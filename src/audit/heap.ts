/**
 * Keeping a long verification's memory near what it holds. Reading a large export allocates hundreds of megabytes of
 * short-lived lines and records, and V8 lets its heap grow far past what is alive before it collects: verifying an
 * export of 100 000 loans peaked at 650–750 MiB resident while under 400 MiB was ever alive (it completes with the
 * heap capped at 384 MiB). A heap limit can only be set when the process starts, which the CLI does not own, so the
 * verifier asks V8 for a full collection itself whenever the heap has grown past a bound since the last.
 */
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | null | undefined;

/**
 * V8's own collector, by a flag set at run time and read by a fresh context. The flag stays set for the process: a
 * context or worker made later sees a global `gc` too, which is why only `audit verify`, a process of its own, asks.
 */
function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as () => void;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** A check to call every so often in a long loop: collects when the heap in use has grown by `bound` bytes. */
export function heapBound(bound = 128 * 2 ** 20): () => void {
  let floor = getHeapStatistics().used_heap_size;
  return () => {
    const used = getHeapStatistics().used_heap_size;
    if (used - floor < bound) return;
    collector()?.();
    floor = getHeapStatistics().used_heap_size;
  };
}
