/**
 * Piece serving as a Fetch-API handler `(Request) => Promise<Response>`, the one implementation:
 * `GET/HEAD /piece/:cid` with Range / If-Range / If-None-Match and immutable caching (a PieceCID
 * names exactly one byte string, so responses never change), plus `/health`. The node:http gateway
 * (gateway.ts `startGateway`, an adapter over `createPieceHandler`) and the web app's
 * `/api/piece/[cid]` route both answer with `servePiece`. Failures answer with the status of their
 * code (lib/errors.ts).
 */
import { Readable } from "node:stream";
import parseRange from "range-parser";
import { errorCodeOf, hasErrorCode, httpStatusOf } from "../errors.ts";
import { isPieceCid, normalizePieceCid, pieceSize } from "./piece.ts";
import type { ByteRange, PieceStore } from "./types.ts";

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
      if (hasErrorCode(err, "not_found")) return text(404, "piece not found\n");
      throw err;
    }
  } catch (err) {
    options.onError?.(err, request, context as C);
    // Storage down (503), every copy corrupt (409), ...: the code's status; a bug stays a 500.
    const code = errorCodeOf(err);
    return text(httpStatusOf(err), code === undefined || code === "internal" ? "internal error\n" : `${code}\n`);
  }
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
