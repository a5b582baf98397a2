/**
 * The piece gateway over any PieceStore, as a Fetch-API handler `(Request) => Promise<Response>`:
 * `GET/HEAD /piece/:cid` with Range / If-Range / If-None-Match and immutable caching (a PieceCID
 * names exactly one byte string, so responses never change), plus `/health`. `servePiece` is the one
 * reader: the node:http gateway (`startGateway`, an adapter over the handler) and the web app's
 * `/api/piece/[cid]` route both call it.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import parseRange from "range-parser";
import { isPieceCid, normalizePieceCid, pieceSize } from "./piece.ts";
import { PieceNotFoundError } from "./types.ts";
import type { ByteRange, PieceStore } from "./types.ts";
import { backendNamed } from "./set.ts";
// Type-only and Helia-free: the route loads Helia through the store on first use.
import { createIpfsGatewayRoute } from "./ipfs/gateway.ts";
import type { IpfsStore } from "./ipfs/store.ts";

/** Options of the Fetch-API handler; `C` is whatever the caller passes along per request (node: the IncomingMessage). */
export interface PieceHandlerOptions<C = undefined> {
  store: PieceStore;
  /**
   * Called for every GET of a piece answered 200 or 206, before the bytes are sent (awaited; a throw
   * goes to onError and does not fail the request). `url` carries the query (e.g. `?c=` for plays).
   */
  onPieceServed?: (request: Request, url: URL, pieceCid: string, context: C) => unknown;
  /** Called for unexpected errors (not 404s) so callers can log them. */
  onError?: (err: unknown, request: Request, context: C) => void;
}

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

interface Streamable {
  createReadStream(pieceCid: string, range?: ByteRange): Promise<Readable>;
}

export const PIECE_CORS_HEADERS: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Range, If-None-Match, If-Range",
  "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges, ETag",
};
const CORS_HEADERS = PIECE_CORS_HEADERS;

/** The gateway's routes as a Fetch-API handler: `/piece/:cid`, `/health`, CORS preflight. */
export function createPieceHandler<C = undefined>(options: PieceHandlerOptions<C>): (request: Request, context?: C) => Promise<Response> {
  return async (request, context) => {
    const url = new URL(request.url);
    if (request.method === "OPTIONS") return preflight();
    if (request.method !== "GET" && request.method !== "HEAD") return notAllowed();
    if (url.pathname === "/health") {
      const body = JSON.stringify({ ok: true, backend: options.store.name });
      return new Response(request.method === "HEAD" ? null : body, {
        status: 200,
        headers: { ...CORS_HEADERS, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)), "Cache-Control": "no-store" },
      });
    }
    const m = /^\/piece\/([^/]+)$/.exec(url.pathname);
    if (!m) return text(404, "not found\n");
    return servePiece(request, m[1], options, context as C);
  };
}

function notAllowed(): Response {
  return new Response(null, { status: 405, headers: { ...CORS_HEADERS, Allow: "GET, HEAD, OPTIONS" } });
}

function preflight(): Response {
  return new Response(null, { status: 204, headers: { ...CORS_HEADERS, "Access-Control-Max-Age": "86400" } });
}

/**
 * Answer one piece request: `cidParam` is the (URL-encoded) PieceCID from the path. Every byte comes
 * from `store` (a StoreSet verifies them against the PieceCID; a local store is streamed from disk).
 */
export async function servePiece<C = undefined>(request: Request, cidParam: string, options: PieceHandlerOptions<C>, context?: C): Promise<Response> {
  const { store } = options;
  const method = request.method;
  if (method === "OPTIONS") return preflight();
  if (method !== "GET" && method !== "HEAD") return notAllowed();
  try {
    let raw: string;
    try {
      raw = decodeURIComponent(cidParam);
    } catch {
      return text(400, "invalid PieceCID\n");
    }
    if (!isPieceCid(raw)) return text(400, "invalid PieceCID\n");
    const cid = normalizePieceCid(raw);
    const size = pieceSize(cid); // PieceCID v2 carries the size: no store round-trip needed.

    if (!(await store.has(cid))) return text(404, "piece not found\n");

    const etag = `"${cid}"`;
    const baseHeaders: Record<string, string> = {
      ...CORS_HEADERS,
      "Content-Type": "application/octet-stream",
      "Accept-Ranges": "bytes",
      ETag: etag,
      "Cache-Control": "public, max-age=31536000, immutable",
    };
    if (etagMatches(request.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers: baseHeaders });

    let range: ByteRange | undefined;
    const rangeHeader = request.headers.get("range");
    // If-Range with a different validator means "send the whole thing" (RFC 9110 13.1.5).
    const ifRange = request.headers.get("if-range");
    if (rangeHeader && (ifRange === null || ifRange.trim() === etag)) {
      const parsed = parseRange(size, rangeHeader, { combine: true });
      if (parsed === -1) return new Response(null, { status: 416, headers: { ...baseHeaders, "Content-Range": `bytes */${size}` } });
      // -2 (malformed) and multi-range requests fall back to a plain 200, which RFC 9110 allows.
      if (parsed !== -2 && parsed.type === "bytes" && parsed.length === 1) range = { start: parsed[0].start, end: parsed[0].end };
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const headers: Record<string, string> = { ...baseHeaders, "Content-Length": String(end - start + 1) };
    if (range) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    const status = range ? 206 : 200;
    if (method === "HEAD") return new Response(null, { status, headers });

    if (options.onPieceServed) {
      try {
        await options.onPieceServed(request, new URL(request.url), cid, context as C);
      } catch (err) {
        options.onError?.(err, request, context as C);
      }
    }
    try {
      if (isStreamable(store)) {
        const stream = await store.createReadStream(cid, range);
        return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status, headers });
      }
      const bytes = await store.get(cid, range);
      return new Response(bytes as unknown as BodyInit, { status, headers });
    } catch (err) {
      // The piece vanished between has() and the read.
      if (err instanceof PieceNotFoundError) return text(404, "piece not found\n");
      throw err;
    }
  } catch (err) {
    options.onError?.(err, request, context as C);
    return text(500, "internal error\n");
  }
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

function isStreamable(store: PieceStore): store is PieceStore & Streamable {
  return typeof (store as Partial<Streamable>).createReadStream === "function";
}

function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const v = t.trim().replace(/^W\//, "");
    return v === "*" || v === etag;
  });
}

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { ...CORS_HEADERS, "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)), "Cache-Control": "no-store" },
  });
}
