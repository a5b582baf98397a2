/**
 * The piece gateway over any PieceStore on node:http: `startGateway` adapts the Fetch-API handler of
 * piece-handler.ts (`createPieceHandler`) with `serveNode`, and mounts the `/ipfs/<cid>` path
 * gateway when the store has an IPFS backend.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createPieceHandler, PIECE_CORS_HEADERS } from "./piece-handler.ts";
import type { PieceStore } from "./types.ts";
import { backendNamed } from "./set.ts";
// Type-only and Helia-free: the route loads Helia through the store on first use.
import { createIpfsGatewayRoute } from "./ipfs/gateway.ts";
import type { IpfsStore } from "./ipfs/store.ts";

export { createPieceHandler, servePiece, PIECE_CORS_HEADERS, type PieceHandlerOptions } from "./piece-handler.ts";

const CORS_HEADERS = PIECE_CORS_HEADERS;

export interface GatewayOptions {
  store: PieceStore;
  /** 0 picks a free port. */
  port?: number;
  /** Interface to bind; default 127.0.0.1 (never listen publicly by accident). */
  host?: string;
  /** Called for unexpected errors (not 404s) so callers can log them. */
  onError?: (err: unknown, req: IncomingMessage) => void;
  /**
   * Called for every GET of a piece answered 200 or 206, before the bytes are sent (awaited; a
   * throw goes to onError and does not fail the request). `url` carries the query (e.g. `?c=` for
   * plays counting: `countSegmentPlays` in lib/keyrelease/plays.ts).
   */
  onPieceServed?: (req: IncomingMessage, url: URL, pieceCid: string) => unknown;
  /**
   * The `/ipfs/<cid>` path gateway (createIpfsGatewayRoute). Default: mounted over the store's
   * `ipfs` backend when it has one, else `/ipfs/` is a 404 like any other unknown path. `false`
   * never mounts it.
   */
  ipfsRoute?: ((request: Request) => Promise<Response>) | false;
}

export interface Gateway {
  /** Base URL, e.g. "http://127.0.0.1:43210" (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Start the piece gateway (node:http adapter over createPieceHandler); resolves once it is listening. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? "127.0.0.1";
  const handler = createPieceHandler<IncomingMessage>({
    store: options.store,
    onPieceServed: options.onPieceServed && ((_request, url, cid, req) => options.onPieceServed!(req, url, cid)),
    onError: options.onError && ((err, _request, req) => options.onError!(err, req)),
  });
  let ipfsRoute = options.ipfsRoute || undefined;
  const ipfs = options.ipfsRoute === undefined ? backendNamed(options.store, "ipfs") : undefined;
  if (ipfs) ipfsRoute = createIpfsGatewayRoute(ipfs as IpfsStore);
  const route = (request: Request, req?: IncomingMessage): Promise<Response> =>
    ipfsRoute && new URL(request.url).pathname.startsWith("/ipfs/") ? ipfsRoute(request) : handler(request, req);
  const server = createServer((req, res) => {
    serveNode(route, req, res).catch((err) => {
      options.onError?.(err, req);
      if (!res.headersSent) {
        res.writeHead(500, { ...CORS_HEADERS, "Content-Type": "text/plain" });
        res.end("internal error\n");
      } else {
        res.destroy(err as Error);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}

/** node:http <-> Fetch API: build a Request from `req`, write the Response to `res` (body streamed). */
export async function serveNode<C>(
  handler: (request: Request, context?: C) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  context: C = req as C,
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  const method = req.method ?? "GET";
  const request = new Request(new URL(req.url ?? "/", `http://${req.headers.host ?? "gateway"}`), { method, headers, signal: abort.signal });
  const response = await handler(request, context);
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => (out[name] = value));
  res.writeHead(response.status, out);
  if (!response.body || method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), res).catch((err: unknown) => {
    // A client that hangs up mid-body is not a server error.
    if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") throw err;
  });
}

