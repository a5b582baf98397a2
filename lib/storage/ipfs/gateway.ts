/**
 * A local trustless/path gateway route over an IpfsStore's node: `GET/HEAD /ipfs/<cid>[/path]`
 * served by @helia/verified-fetch (every block checked against its CID, `Range` -> 206,
 * `Accept: application/vnd.ipld.raw|car` for trustless clients). It is a Fetch-API handler
 * (Request -> Response) so Next.js route handlers mount it as is; `ipfsGatewayListener` adapts it to
 * node:http for the storage gateway and tests.
 */
import { Readable } from "node:stream";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { IpfsStore } from "./store.ts";

export type IpfsGatewayHandler = (request: Request) => Promise<Response>;

export interface IpfsGatewayRouteOptions {
  /** Path prefix the route is mounted under (before `/ipfs/`), e.g. "/api". Default "". */
  basePath?: string;
  /** Bound on one request's block fetching, ms. Default: the store's fetch timeout. */
  timeoutMs?: number;
}

const CORS_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Range, Accept, If-None-Match",
  "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges, ETag, X-Ipfs-Path, X-Ipfs-Roots",
};

/** Build the `/ipfs/<cid>` route. Answers 404 for other paths and 405 for other methods. */
export function createIpfsGatewayRoute(store: IpfsStore, options: IpfsGatewayRouteOptions = {}): IpfsGatewayHandler {
  const base = (options.basePath ?? "").replace(/\/+$/, "");
  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname.startsWith(base) ? url.pathname.slice(base.length) : "";
    const match = /^\/ipfs\/([A-Za-z0-9]+)(\/.*)?$/.exec(path);
    if (!match) return text(404, "not found: this route serves /ipfs/<cid>\n");
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS_HEADERS });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "method not allowed: use GET or HEAD\n", { Allow: "GET, HEAD, OPTIONS" });
    }
    const { CID } = await import("multiformats/cid");
    try {
      CID.parse(match[1]);
    } catch {
      return text(400, `not a CID: ${match[1]}\n`);
    }
    const fetchIpfs = await store.gatewayFetch();
    const headers = new Headers();
    for (const name of ["range", "accept", "if-none-match"]) {
      const value = request.headers.get(name);
      if (value) headers.set(name, value);
    }
    const timeoutMs = options.timeoutMs ?? store.fetchTimeoutMs;
    const signal = AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]);
    let upstream: Response;
    try {
      upstream = await fetchIpfs(`ipfs://${match[1]}${match[2] ?? ""}${url.search}`, {
        method: request.method,
        headers,
        signal,
      });
    } catch (err) {
      if (signal.aborted) return text(504, `blocks of ${match[1]} not retrieved within ${timeoutMs} ms\n`);
      throw err;
    }
    const out = new Headers(upstream.headers);
    for (const [k, v] of Object.entries(CORS_HEADERS)) out.set(k, v);
    const body = request.method === "HEAD" ? null : upstream.body;
    return new Response(body, { status: upstream.status, statusText: upstream.statusText, headers: out });
  };
}

/** Adapt a Fetch-API handler to node:http's (req, res) listener. */
export function ipfsGatewayListener(handler: IpfsGatewayHandler, onError?: (err: unknown) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    const host = req.headers.host ?? "127.0.0.1";
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    }
    const request = new Request(`http://${host}${req.url ?? "/"}`, {
      method: req.method,
      headers,
      signal: controller.signal,
    });
    handler(request)
      .then(async (response) => {
        const out: Record<string, string> = {};
        response.headers.forEach((value, name) => (out[name] = value));
        res.writeHead(response.status, out);
        if (!response.body || req.method === "HEAD") return void res.end();
        Readable.fromWeb(response.body as never).on("error", (err) => res.destroy(err)).pipe(res);
      })
      .catch((err: unknown) => {
        onError?.(err);
        if (!res.headersSent) {
          res.writeHead(500, { "Content-Type": "text/plain" });
          res.end("internal error\n");
        } else res.destroy(err as Error);
      });
  };
}

function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...CORS_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...extra } });
}
