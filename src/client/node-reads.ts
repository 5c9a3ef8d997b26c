/**
 * Reads a page makes of a node: bounded in time, so that a stalled node cannot hold a page for minutes, and described
 * without the node's URL, which may carry credentials.
 */

/** How long a page waits for one read of the node. */
export const NODE_READ_TIMEOUT_MS = 5_000;

/** `read`, or a rejection saying the node did not answer within `ms`. */
export function withinTime<T>(read: Promise<T>, ms: number = NODE_READ_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the node did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}

/** A message with every URL in it replaced by "the node". */
export function withoutUrls(message: string): string {
  return message.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"',)]+/gi, "the node");
}
