/**
 * The HTTP layer of key release: Fetch Request/Response helpers shared by the handlers (JSON
 * responses, refusals that say what to do, bodies, path parameters, cookies, the client address,
 * the Origin check) and the logger. No state: everything here is per request.
 */
import { errorCodeForStatus, errorCodeOf, httpStatusOf, StreamVaultError } from "../errors.ts";
import { clientAddress } from "../http/client-address.ts";
import { BodyTooLargeError, readBodyText } from "../http/body-limit.ts";

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** JSON lines on the console. Callers pass only ids, wallets and reasons; never key material. */
export const consoleLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: "info", message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: "warn", message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: "error", message, ...fields })),
};

/** IP of the peer of a Request, set by the node:http adapter (Fetch Requests carry none). */
const peerAddresses = new WeakMap<Request, string>();
export function setPeerAddress(request: Request, ip: string): void {
  peerAddresses.set(request, ip);
}

/**
 * Fast path for the node:http adapter: it has the body bytes already, so it hands them over as
 * text instead of building a body stream the handler would read back. Fetch callers (Next.js) need not care.
 */
const bodyTexts = new WeakMap<Request, string>();
export function setRequestBodyText(request: Request, text: string): void {
  bodyTexts.set(request, text);
}
/** The JSON text of a Response built here, so the node adapter can write it without reading the stream. */
const responseTexts = new WeakMap<Response, string>();
export function responseBodyText(response: Response): string | undefined {
  return responseTexts.get(response);
}

export const CONTENT_ID = /^0x[0-9a-fA-F]{64}$/;
const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  const response = new Response(text, { status, headers: { ...JSON_HEADERS, ...headers } });
  responseTexts.set(response, text);
  return response;
}

/** A refusal: status, the API's machine code (`reason`, the JSON `error` field), and a sentence saying what to do. */
export class Refusal extends StreamVaultError {
  readonly status: number;
  readonly reason: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(status: number, reason: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(errorCodeForStatus(status), message);
    this.status = status;
    this.reason = reason;
    this.extra = extra;
    this.headers = headers;
  }
  response(): Response {
    return json(this.status, { error: this.reason, message: this.message, ...this.extra }, this.headers);
  }
}

/** The refusal's response, or a 500 (logged) for anything else. */
export function failure(log: Logger, error: unknown, where: string): Response {
  if (error instanceof Refusal) return error.response();
  // A library error (storage, keys, Lit...) answers with its code's status from lib/errors.ts.
  const code = errorCodeOf(error);
  if (code !== undefined && code !== "internal") return json(httpStatusOf(error), { error: code, message: (error as Error).message });
  log.error("request failed", { where, error: error instanceof Error ? error.message : String(error) });
  return json(500, { error: "internal_error", message: "the server failed to handle this request: try again" });
}

export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

export function pathParam(request: Request, pattern: RegExp): string | undefined {
  const match = new URL(request.url).pathname.match(pattern);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!).toLowerCase();
  } catch {
    return undefined;
  }
}

/** Largest JSON body a key-release endpoint reads; a longer one is refused while it streams in. */
export const MAX_JSON_BODY = 16_384;

export async function readJson(request: Request): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = bodyTexts.get(request) ?? (await readBodyText(request, MAX_JSON_BODY));
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new Refusal(413, "too_large", `send a JSON object body of at most ${MAX_JSON_BODY / 1024} KB`);
    throw new Refusal(400, "bad_request", "send a JSON object body (Content-Type: application/json, at most 16 KB)");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Refusal(400, "bad_request", "send a JSON object body (Content-Type: application/json, at most 16 KB)");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Refusal(400, "bad_request", "send a JSON object body");
  return body as Record<string, unknown>;
}

export function parseUint(value: unknown): bigint | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^[0-9]{1,78}$/.test(value)) {
    const n = BigInt(value);
    return n < 2n ** 256n ? n : undefined;
  }
  return undefined;
}

/** The value of cookie `name` if it has the shape of a session id (43 base64url characters). */
export function sessionCookieValue(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * The client address: the peer's, or behind `trustedProxyHops` reverse proxies the X-Forwarded-For
 * entry that many places left of the peer, never the left-most one a client can write
 * (lib/http/client-address.ts).
 */
export function clientIp(request: Request, trustedProxyHops: number): string {
  return clientAddress(peerAddresses.get(request), request.headers.get("x-forwarded-for"), trustedProxyHops);
}

/** Refuses a request whose Origin header is not one of `origins` (requests without one pass: not from a browser page). */
export function checkOrigin(request: Request, origins: ReadonlySet<string>): void {
  const origin = request.headers.get("origin");
  if (origin !== null && !origins.has(origin)) throw new Refusal(403, "bad_origin", `requests from origin ${origin} are not allowed`);
}
