/**
 * `loanledger serve`: the indexer kept at the head of the chain, and a read-only HTTP server (127.0.0.1 by default)
 * answering the API and the built front-end from the same process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { withoutUrls } from "../client/index.js";
import { ChainChangedError, type Indexer, type IndexProgress } from "../indexer/index.js";
import type { PortalApi } from "./api.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".ico": "image/x-icon",
};

/** The page may load only its own scripts and styles, and ask only its own API. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export interface ServeOptions {
  host?: string;
  port?: number;
  /** The built front-end. */
  staticDir: string;
  /** How often the indexer looks for new blocks. Default 2 000 ms; 0 never (the index is served as it is). */
  syncIntervalMs?: number;
  /** False serves the index as it is: no sync at start nor later. */
  follow?: boolean;
  onSync?: IndexProgress;
}

/** node:sqlite's errors: the index file is corrupt, read-only, full or gone. */
function isStorageError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("ERR_SQLITE");
}

export class PortalServer {
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private stopped = false;
  /**
   * Why the index stopped following the chain, when it did (a changed chain, or an index that can no longer be read or
   * written): shown on every page, and the indexer stops, so that nothing more is written into a broken file.
   */
  syncError: string | null = null;
  /** Why the last round of indexing failed, when it did and will be tried again (the node unreachable): also shown. */
  syncWarning: string | null = null;

  constructor(
    private readonly indexer: Indexer,
    private readonly api: PortalApi,
    private readonly options: ServeOptions,
  ) {}

  /** Brings the index to the head once, then listens; resolves with the URL it serves. */
  async start(): Promise<string> {
    if (this.options.follow !== false) {
      await this.sync();
      if (this.syncError) throw new ChainChangedError(this.syncError);
    }
    this.server = createServer((request, response) => {
      this.respond(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: (error as Error).message.split("\n")[0] }));
      });
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 8_080, this.options.host ?? "127.0.0.1", () => resolve());
    });
    const interval = this.options.syncIntervalMs ?? 2_000;
    if (interval > 0) this.schedule(interval);
    const { address, port } = server.address() as AddressInfo;
    return `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
  }

  private schedule(interval: number): void {
    this.timer = setTimeout(async () => {
      await this.sync();
      if (!this.stopped && !this.syncError) this.schedule(interval);
    }, interval);
  }

  /** One round of indexing; a changed chain stops the following and is reported, other failures are retried. */
  /** Whether a round of indexing runs now. */
  get indexing(): boolean {
    return this.syncing !== undefined;
  }

  sync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        await this.indexer.sync(undefined, this.options.onSync);
        this.syncWarning = null;
      } catch (error) {
        const message = withoutUrls((error as Error).message?.split("\n")[0] ?? String(error));
        if (error instanceof ChainChangedError) this.syncError = message;
        else if (isStorageError(error)) this.syncError = `the index can no longer be read or written: ${message}`;
        else this.syncWarning = `the last round of indexing failed and will be tried again: ${message}`;
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.syncing;
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** The Host headers a request to a loopback address may carry: any other is a page reaching in by DNS rebinding. */
  private allowedHosts(): Set<string> | undefined {
    const host = this.options.host ?? "127.0.0.1";
    if (!["127.0.0.1", "::1", "localhost"].includes(host)) return undefined;
    const port = (this.server?.address() as AddressInfo | null)?.port;
    return new Set(["127.0.0.1", "localhost", "[::1]"].map((name) => `${name}:${port}`));
  }

  private async respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const allowed = this.allowedHosts();
    if (allowed && !allowed.has(String(request.headers.host ?? "").toLowerCase())) {
      response.writeHead(421, { "content-type": "application/json", ...SECURITY_HEADERS });
      response.end(
        JSON.stringify({ error: "this portal answers only requests addressed to its own loopback address" }),
      );
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD", "content-type": "application/json" });
      response.end(JSON.stringify({ error: "the portal is read-only" }));
      return;
    }
    let url: URL;
    try {
      url = new URL(request.url ?? "/", "http://portal.invalid");
      decodeURIComponent(url.pathname);
    } catch {
      response.writeHead(400, { "content-type": "application/json", ...SECURITY_HEADERS });
      response.end(JSON.stringify({ error: "a malformed URL" }));
      return;
    }
    if (url.pathname.startsWith("/api/")) {
      const answer = await this.api.handle(url.pathname, url.searchParams);
      if ("json" in answer) {
        response.writeHead(answer.status, {
          "content-type": "application/json; charset=utf-8",
          "cache-control": "no-store",
          ...SECURITY_HEADERS,
        });
        response.end(JSON.stringify(answer.json));
      } else {
        response.writeHead(answer.status, {
          "content-type": answer.contentType,
          "cache-control": "no-store",
          ...(answer.filename ? { "content-disposition": `attachment; filename="${answer.filename}"` } : {}),
          ...SECURITY_HEADERS,
        });
        response.end(answer.text);
      }
      return;
    }
    await this.file(url.pathname, response);
  }

  /** A file of the built front-end; any other path is the single page (its router reads the hash). */
  private async file(pathname: string, response: ServerResponse): Promise<void> {
    const root = normalize(this.options.staticDir);
    let path = normalize(join(root, decodeURIComponent(pathname)));
    if (!path.startsWith(root + sep) || pathname === "/") path = join(root, "index.html");
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      path = join(root, "index.html");
      body = await readFile(path);
    }
    const immutable = path.includes(`${sep}assets${sep}`);
    response.writeHead(200, {
      "content-type": TYPES[extname(path)] ?? "application/octet-stream",
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      ...SECURITY_HEADERS,
    });
    response.end(body);
  }
}
