/**
 * A small HTTP gateway over any PieceStore: `GET/HEAD /piece/:cid` with Range support and
 * immutable caching (a PieceCID names exactly one byte string, so responses never change),
 * plus `/health`. Built on node:http to stay dependency-free and fast to start in tests.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import parseRange from "range-parser";
import { isPieceCid, normalizePieceCid, pieceSize } from "./piece.ts";
import { PieceNotFoundError } from "./types.ts";
import type { ByteRange, PieceStore } from "./types.ts";

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

const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Range, If-None-Match",
  "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges, ETag",
};

/** Start the piece gateway; resolves once it is listening. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { store } = options;
  const host = options.host ?? "127.0.0.1";
  const server = createServer((req, res) => {
    handle(store, req, res, options).catch((err) => {
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

async function handle(store: PieceStore, req: IncomingMessage, res: ServerResponse, options: GatewayOptions): Promise<void> {
  const url = new URL(req.url ?? "/", "http://gateway");
  const method = req.method ?? "GET";

  if (method === "OPTIONS") {
    res.writeHead(204, { ...CORS_HEADERS, "Access-Control-Max-Age": "86400" });
    res.end();
    return;
  }
  if (method !== "GET" && method !== "HEAD") {
    res.writeHead(405, { ...CORS_HEADERS, Allow: "GET, HEAD, OPTIONS" });
    res.end();
    return;
  }

  if (url.pathname === "/health") {
    const body = JSON.stringify({ ok: true, backend: store.name });
    res.writeHead(200, {
      ...CORS_HEADERS,
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      "Cache-Control": "no-store",
    });
    res.end(method === "HEAD" ? undefined : body);
    return;
  }

  const m = /^\/piece\/([^/]+)$/.exec(url.pathname);
  if (!m) return sendText(res, 404, "not found\n");
  const raw = decodeURIComponent(m[1]);
  if (!isPieceCid(raw)) return sendText(res, 400, "invalid PieceCID\n");
  const cid = normalizePieceCid(raw);
  const size = pieceSize(cid); // PieceCID v2 carries the size: no store round-trip needed.

  if (!(await store.has(cid))) return sendText(res, 404, "piece not found\n");

  const etag = `"${cid}"`;
  const baseHeaders = {
    ...CORS_HEADERS,
    "Content-Type": "application/octet-stream",
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Cache-Control": "public, max-age=31536000, immutable",
  };

  if (etagMatches(req.headers["if-none-match"], etag)) {
    res.writeHead(304, baseHeaders);
    res.end();
    return;
  }

  let range: ByteRange | undefined;
  const rangeHeader = req.headers.range;
  // If-Range with a different validator means "send the whole thing" (RFC 9110 13.1.5).
  const ifRange = req.headers["if-range"];
  if (rangeHeader && (ifRange === undefined || ifRange === etag)) {
    const parsed = parseRange(size, rangeHeader, { combine: true });
    if (parsed === -1) {
      res.writeHead(416, { ...baseHeaders, "Content-Range": `bytes */${size}` });
      res.end();
      return;
    }
    // -2 (malformed) and multi-range requests fall back to a plain 200, which RFC 9110 allows.
    if (parsed !== -2 && parsed.type === "bytes" && parsed.length === 1) {
      range = { start: parsed[0].start, end: parsed[0].end };
    }
  }

  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const headers: Record<string, string | number> = { ...baseHeaders, "Content-Length": end - start + 1 };
  if (range) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  const status = range ? 206 : 200;

  if (method === "HEAD") {
    res.writeHead(status, headers);
    res.end();
    return;
  }

  if (options.onPieceServed) {
    try {
      await options.onPieceServed(req, url, cid);
    } catch (err) {
      options.onError?.(err, req);
    }
  }
  try {
    if (isStreamable(store)) {
      const stream = await store.createReadStream(cid, range);
      res.writeHead(status, headers);
      stream.on("error", (err) => res.destroy(err));
      stream.pipe(res);
      return;
    }
    const bytes = await store.get(cid, range);
    res.writeHead(status, headers);
    res.end(bytes);
  } catch (err) {
    // The piece vanished between has() and the read.
    if (err instanceof PieceNotFoundError) return sendText(res, 404, "piece not found\n");
    throw err;
  }
}

function isStreamable(store: PieceStore): store is PieceStore & Streamable {
  return typeof (store as Partial<Streamable>).createReadStream === "function";
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const v = t.trim().replace(/^W\//, "");
    return v === "*" || v === etag;
  });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    ...CORS_HEADERS,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}
