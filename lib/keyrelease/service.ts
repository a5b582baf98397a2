/**
 * The key-release service: Sign-In with Ethereum sessions, and content keys handed only to wallets
 * the chain says have access, wrapped to a key only the requesting browser holds.
 *
 * Handlers take and return Web Fetch API objects, so Next.js route handlers call them directly;
 * `startKeyReleaseServer` (server.ts) puts them on node:http for tests and benchmarks.
 *
 * Never logged, stored unsealed, or put in a URL: content keys, session ids (only their SHA-256 is stored).
 */
import { createHash, randomBytes } from "node:crypto";
import { getAddress, isHex, size, type Address, type Hex, type PublicClient } from "viem";
import { verifySiweMessage } from "viem/siwe";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { clientAddress } from "../http/client-address.ts";
import { BodyTooLargeError, readBodyText } from "../http/body-limit.ts";
import { deriveMinuteKey, keyIdOf } from "../crypto/segment.ts";
import { MAX_MINUTE, minuteKeyLabel } from "../crypto/minute.ts";
import type { Deployment } from "../deployments/index.ts";
import { KeyUnsealError, type KeyStore } from "../keys/index.ts";
import { ChannelReader, SEGMENTS_PER_MINUTE, VoucherSignatureError, type ChannelState } from "./channels.ts";
import { openKeyReleaseDb, type SqlClient } from "./db.ts";
import { ChainAccessGate, type AccessDecision, type AccessGate } from "./gate.ts";
import type { SegmentResolver } from "./plays.ts";
import { checkSiweFields, type SiweConfig } from "./siwe.ts";
import { importEphemeralPublicKey, InvalidPublicKeyError, wrapContentKey, type EphemeralPublicKey, type WrappedKey } from "./wrap.ts";
import { rawEphemeralPublicKey, wrapContentKeyNode } from "./wrap-node.ts";

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

export interface RateLimit {
  /** Requests allowed per window. */
  points: number;
  /** Window length, seconds. */
  durationSeconds: number;
}

export interface KeyReleaseServiceOptions {
  /** Reads the chain at the latest block (access, channels, ERC-1271/6492 sign-in). */
  publicClient: PublicClient;
  /** Where ContentAccess and PaymentChannels live (`loadDeployment(chainId)`). */
  deployment: Deployment;
  /** Sealed content keys (`openKeyStore`). Not closed by the service. */
  keyStore: KeyStore;
  /** SIWE expectations; chainId defaults to the deployment's. */
  siwe: Omit<SiweConfig, "chainId"> & { chainId?: number };
  /** An open database; otherwise one is opened from databaseUrl (Postgres) or dataDir / memory (PGlite). */
  db?: SqlClient;
  databaseUrl?: string;
  dataDir?: string;
  /** Run embedded PGlite in a worker thread (default true). */
  pgliteWorker?: boolean;
  /** Database schema of the tables (default "keyrelease"). */
  schema?: string;
  /** Session lifetime, seconds (default 3600). */
  sessionTtlSeconds?: number;
  /** Cookie name (default "__Host-sv_session": Secure, Path=/, no Domain). */
  cookieName?: string;
  /** Per-wallet limit on key requests (default 60 per 60 s) and per-IP limit on all requests (default 300 per 60 s). */
  rateLimits?: { wallet?: RateLimit; ip?: RateLimit };
  /** Access source; default the embedded chain gate. */
  gate?: AccessGate;
  /** Clock, ms (tests). */
  now?: () => number;
  logger?: Logger;
  /**
   * Reverse proxies in front of this server that append to X-Forwarded-For (default 0: the client
   * address is the socket's; TRUSTED_PROXY_HOPS in the web app). The client is the entry that many
   * places left of the peer, never the left-most one a client can write (lib/http/client-address.ts).
   */
  trustedProxyHops?: number;
  /** Origins allowed to POST (an Origin header outside the list is refused); default the origin of siwe.uri. */
  allowedOrigins?: string[];
  /**
   * How long a looked-up session is trusted from memory before the database is asked again,
   * seconds (default 5; 0 = always ask). Bounds how late a logout made on another instance
   * sharing the Postgres database takes effect here; a logout on this instance is immediate.
   */
  sessionCacheSeconds?: number;
  /**
   * Wrapping implementation: "node" (node:crypto, default, several times cheaper per release) or
   * "webcrypto" (crypto.subtle, the code the browser runs). Same format; either unwraps with `unwrapContentKey`.
   */
  wrapWith?: "node" | "webcrypto";
  /**
   * A channel must stay open at least this long after a stream release, seconds (default 600), so
   * the creator has time to redeem the voucher before the channel's close time.
   */
  channelMarginSeconds?: number;
  /** How long an unsealed content key stays in memory, seconds (default 300; 0 = unseal every time). Keys never change once stored. */
  keyCacheSeconds?: number;
  /**
   * Plays (see {@link PlayCounts}): evidence from one viewer for one item within this many seconds of
   * that viewer's last play start of the item is the same play (default 1800).
   */
  playWindowSeconds?: number;
  /**
   * Which segment of which item a piece is (`ManifestSegmentResolver` in plays.ts: chain + manifest).
   * Without it segment requests are not counted ({@link KeyReleaseService.recordSegmentRequest}).
   */
  segmentResolver?: SegmentResolver;
  /** New plays counted from anonymous segment requests per IP (default 60 per 3600 s); past it they are not counted. */
  anonymousPlayLimit?: RateLimit;
}

/**
 * Plays of one item (`GET /api/plays/:contentId`), for dashboards and milestone backups. A play is
 * counted on the server from two kinds of evidence, recorded in the `plays` table:
 *   - key releases (`POST /api/keys/:id`, a wallet) and pay-per-minute stream releases (`/stream`);
 *   - segment requests for a full-length variant (not the preview) served by the media route or the
 *     piece gateway, from a signed-in wallet (session cookie) or an anonymous viewer (a salted hash of
 *     IP and User-Agent; the IP itself is not stored).
 * Evidence from one viewer for one item starts a play only if that viewer has no play start of the
 * item in the last `playWindowSeconds` (30 min): a key release followed by the segments it decrypts,
 * a minute-by-minute stream, a seek or a reload are one play. `plays` counts play starts.
 */
export interface PlayCounts {
  contentId: string;
  /** Play starts (see above). */
  plays: number;
  /** Key releases (each one, including repeats within a play). */
  keyReleases: number;
  /** Plays started by a segment request (no key release or stream release in the window before). */
  segmentPlays: number;
  /** Pay-per-minute segments released. */
  segments: number;
  minutesStreamed: number;
  uniqueWallets: number;
  /** Distinct wallets and anonymous viewers. */
  uniqueViewers: number;
  lastPlayAt: string | null;
}

/** What {@link KeyReleaseService.recordSegmentRequest} made of a segment request. */
export interface SegmentPlay {
  /** The request is evidence of a play of the item (a new one or one under way). */
  counted: boolean;
  /** It started a new play (a `plays` row was written). */
  playStart: boolean;
  reason: "play-start" | "same-play" | "no-content" | "bad-content-id" | "no-resolver" | "not-a-segment" | "preview" | "anonymous-limit" | "error";
}

/** `POST /api/keys/:contentId` success body. */
export interface KeyReleaseResponse {
  contentId: Hex;
  wallet: Address;
  access: { reason: string; expiresAt: string | null };
  /** Public id of the key (lib/crypto keyIdOf), to match the manifest; reveals nothing about the key. */
  keyId: string;
  wrapped: WrappedKey;
}

/** `POST /api/keys/:contentId/stream` success body. */
export interface StreamReleaseResponse {
  contentId: Hex;
  wallet: Address;
  channelId: string;
  /** The minute window whose keys are released. */
  minute: number;
  /** Minute windows released on this channel so far (the highest released minute + 1). */
  minutesDelivered: number;
  ratePerMinute: string;
  /** Smallest cumulativeAmount a request for the following minute (minute + 1) must carry. */
  nextVoucherMinimum: string;
  /**
   * One key per requested variant: the key of this minute window only (never the content key),
   * wrapped to the request's ephemeral key under the label "minute/<variant>/<minute>".
   */
  keys: StreamMinuteKey[];
}

export interface StreamMinuteKey {
  variant: string;
  minute: number;
  /** keyIdOf(minute key): identifies the key, reveals nothing about it. */
  keyId: string;
  wrapped: WrappedKey;
}

/** The best voucher the service received on a channel ({@link KeyReleaseService.bestVouchers}). */
export interface BestVoucher {
  channelId: string;
  /** Highest cumulativeAmount received (0 until a voucher above 0 arrives). */
  cumulativeAmount: bigint;
  /** Its signature, as the contract verifies it; null while no voucher above 0 was received. */
  signature: Hex | null;
  /** 6 x (highest minute released + 1). */
  deliveredSegments: number;
  updatedAt: string;
}

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

const CONTENT_ID = /^0x[0-9a-fA-F]{64}$/;
/** Manifest variant names (lib/manifest VariantSchema). */
const VARIANT_NAME = /^[A-Za-z0-9_-]{1,32}$/;
/** Variants whose minute keys one /stream request may ask for. */
const MAX_STREAM_VARIANTS = 8;
const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  const response = new Response(text, { status, headers: { ...JSON_HEADERS, ...headers } });
  responseTexts.set(response, text);
  return response;
}

/** A refusal: status, machine code, and a sentence saying what to do. */
class Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.extra = extra;
    this.headers = headers;
  }
  response(): Response {
    return json(this.status, { error: this.code, message: this.message, ...this.extra }, this.headers);
  }
}

function hashSessionId(id: string): string {
  return createHash("sha256").update("streamvault/session/v1\0").update(id).digest("hex");
}

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

interface Session {
  wallet: Address;
  chainId: number;
}

interface AuditEntry {
  event: "sign-in" | "logout" | "release" | "stream-release";
  outcome: "allowed" | "denied";
  wallet?: string | null;
  ip?: string | null;
  contentId?: string | null;
  channelId?: string | null;
  reason: string;
  detail?: Record<string, unknown>;
}

export class KeyReleaseService {
  readonly #client: PublicClient;
  readonly #keys: KeyStore;
  readonly #db: SqlClient;
  readonly #ownsDb: boolean;
  readonly #siwe: SiweConfig;
  readonly #sessionTtl: number;
  readonly #cookieName: string;
  readonly #gate: AccessGate;
  readonly #channels: ChannelReader;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #walletLimiter: RateLimiterMemory;
  readonly #ipLimiter: RateLimiterMemory;
  readonly #proxyHops: number;
  readonly #origins: Set<string>;
  readonly #sessionCacheMs: number;
  readonly #keyCacheMs: number;
  readonly #sessionCache = new Map<string, { session: Session; expiresAtMs: number; trustedUntilMs: number }>();
  readonly #keyCache = new Map<string, { key: Uint8Array; until: number }>();
  readonly #writer: BatchWriter;
  readonly #wrapWith: "node" | "webcrypto";
  readonly #channelMarginMs: number;
  readonly #playWindowMs: number;
  readonly #segments: SegmentResolver | undefined;
  readonly #anonLimiter: RateLimiterMemory;
  /** Random per process: anonymous viewer ids cannot be reversed to an IP, nor linked across restarts. */
  readonly #anonSalt = randomBytes(32);
  /** Last play start per viewer|content seen by this instance (the database is asked on a miss). */
  readonly #starts = new Map<string, { last: number | undefined; ready: Promise<void> }>();
  #issued = 0;
  #deployment: Promise<string> | undefined;

  /** Use {@link createKeyReleaseService}. */
  constructor(options: KeyReleaseServiceOptions, db: SqlClient, ownsDb: boolean) {
    this.#client = options.publicClient;
    this.#keys = options.keyStore;
    this.#db = db;
    this.#ownsDb = ownsDb;
    this.#siwe = { ...options.siwe, chainId: options.siwe.chainId ?? options.deployment.chainId };
    this.#sessionTtl = options.sessionTtlSeconds ?? 3600;
    this.#cookieName = options.cookieName ?? "__Host-sv_session";
    this.#gate = options.gate ?? new ChainAccessGate(options.publicClient, options.deployment);
    this.#channels = new ChannelReader(options.publicClient, options.deployment);
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? consoleLogger;
    const wallet = options.rateLimits?.wallet ?? { points: 60, durationSeconds: 60 };
    const ip = options.rateLimits?.ip ?? { points: 300, durationSeconds: 60 };
    this.#walletLimiter = new RateLimiterMemory({ keyPrefix: "wallet", points: wallet.points, duration: wallet.durationSeconds });
    this.#ipLimiter = new RateLimiterMemory({ keyPrefix: "ip", points: ip.points, duration: ip.durationSeconds });
    this.#proxyHops = options.trustedProxyHops ?? 0;
    this.#origins = new Set(options.allowedOrigins ?? [new URL(options.siwe.uri).origin]);
    this.#sessionCacheMs = (options.sessionCacheSeconds ?? 5) * 1000;
    this.#keyCacheMs = (options.keyCacheSeconds ?? 300) * 1000;
    this.#writer = new BatchWriter(db);
    this.#wrapWith = options.wrapWith ?? "node";
    this.#channelMarginMs = (options.channelMarginSeconds ?? 600) * 1000;
    this.#playWindowMs = (options.playWindowSeconds ?? 1800) * 1000;
    this.#segments = options.segmentResolver;
    const anon = options.anonymousPlayLimit ?? { points: 60, durationSeconds: 3600 };
    this.#anonLimiter = new RateLimiterMemory({ keyPrefix: "anon-plays", points: anon.points, duration: anon.durationSeconds });
  }

  /** The database (audit_log, plays, sessions, siwe_nonces, stream_channels) for dashboards and tests. */
  get db(): SqlClient {
    return this.#db;
  }

  /** Handlers for the web app: each is `(request: Request) => Promise<Response>`. */
  get handlers() {
    return {
      nonce: (request: Request) => this.nonce(request),
      verify: (request: Request) => this.verify(request),
      logout: (request: Request) => this.logout(request),
      releaseKey: (request: Request) => this.releaseKey(request),
      streamKey: (request: Request) => this.streamKey(request),
      plays: (request: Request) => this.plays(request),
      playsTotals: (request: Request) => this.playsTotals(request),
      handle: (request: Request) => this.handle(request),
    };
  }

  /** Routes a request to its handler by method and path; 404/405 JSON otherwise. */
  async handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname.replace(/\/+$/, "");
    const method = request.method.toUpperCase();
    const route = (expected: string, run: () => Promise<Response>) =>
      method === expected ? run() : Promise.resolve(json(405, { error: "method_not_allowed", message: `use ${expected} ${path}` }, { allow: expected }));
    if (path === "/api/auth/nonce") return route("GET", () => this.nonce(request));
    if (path === "/api/auth/verify") return route("POST", () => this.verify(request));
    if (path === "/api/auth/logout") return route("POST", () => this.logout(request));
    if (/^\/api\/keys\/[^/]+\/stream$/.test(path)) return route("POST", () => this.streamKey(request));
    if (/^\/api\/keys\/[^/]+$/.test(path)) return route("POST", () => this.releaseKey(request));
    if (/^\/api\/plays\/[^/]+$/.test(path)) return route("GET", () => this.plays(request));
    if (path === "/api/plays") return route("GET", () => this.playsTotals(request));
    return json(404, { error: "not_found", message: "no such endpoint: see GET /api/auth/nonce, POST /api/auth/verify, POST /api/keys/:contentId" });
  }

  // ------------------------------------------------------------------ auth

  /** `GET /api/auth/nonce` -> the fields to put in the SIWE message (single-use nonce with expiry). */
  async nonce(request: Request): Promise<Response> {
    try {
      await this.#limitIp(request);
      const now = this.#now();
      // 128 bits from the CSPRNG, as 32 hex characters (SIWE nonces are alphanumeric, >= 8). Not
      // viem's generateSiweNonce: it slides a window over one Math.random buffer, so each nonce is
      // the previous one shifted by a character.
      const nonce = randomBytes(16).toString("hex");
      const expiresAt = new Date(now + (this.#siwe.nonceTtlSeconds ?? 300) * 1000);
      await this.#db.query("INSERT INTO siwe_nonces (nonce, issued_at, expires_at) VALUES ($1, $2, $3)", [nonce, new Date(now), expiresAt]);
      if (++this.#issued % 256 === 0) await this.#db.query("DELETE FROM siwe_nonces WHERE expires_at < $1", [new Date(now - 3_600_000)]);
      return json(200, {
        nonce,
        domain: this.#siwe.domain,
        uri: this.#siwe.uri,
        chainId: this.#siwe.chainId,
        version: "1",
        statement: this.#siwe.statement ?? "Sign in to StreamVault",
        issuedAt: new Date(now).toISOString(),
        expirationTime: expiresAt.toISOString(),
      });
    } catch (error) {
      return this.#fail(error, "nonce");
    }
  }

  /** `POST /api/auth/verify` {message, signature} -> session cookie. */
  async verify(request: Request): Promise<Response> {
    const ip = this.#ip(request);
    let wallet: string | null = null;
    try {
      this.#checkOrigin(request);
      await this.#limitIp(request);
      const body = await readJson(request);
      const message = body.message;
      const signature = body.signature;
      if (typeof message !== "string" || message.length > 4096 || typeof signature !== "string" || !isHex(signature)) {
        throw new Refusal(400, "bad_request", "send JSON {message: SIWE message string, signature: 0x-hex}");
      }
      const now = this.#now();
      const fields = checkSiweFields(message, this.#siwe, now);
      if (!fields.ok) throw new Refusal(fields.code === "malformed_message" ? 400 : 401, fields.code, fields.message);
      wallet = fields.address;
      const nonceRow = (await this.#db.query<{ used_at: unknown; expires_at: unknown }>("SELECT used_at, expires_at FROM siwe_nonces WHERE nonce = $1", [fields.nonce])).rows[0];
      if (nonceRow === undefined) throw new Refusal(401, "unknown_nonce", "unknown nonce: get one from GET /api/auth/nonce and sign again");
      if (nonceRow.used_at !== null) throw new Refusal(401, "nonce_used", "nonce already used: get a new nonce and sign again");
      if (toDate(nonceRow.expires_at).getTime() <= now) throw new Refusal(401, "nonce_expired", "nonce expired: get a new nonce and sign again");
      const valid = await verifySiweMessage(this.#client, {
        message,
        signature,
        domain: this.#siwe.domain,
        nonce: fields.nonce,
        address: fields.address,
        time: new Date(now),
        blockTag: "latest",
      });
      if (!valid) throw new Refusal(401, "bad_signature", "signature does not match the address in the message: sign with that wallet");
      // Single use, atomically: of two concurrent verifications of one message only one gets the row.
      const consumed = await this.#db.query("UPDATE siwe_nonces SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL AND expires_at > $2 RETURNING nonce", [fields.nonce, new Date(now)]);
      if (consumed.rows.length === 0) throw new Refusal(401, "nonce_used", "nonce already used: get a new nonce and sign again");

      const sessionId = toBase64Url(randomBytes(32));
      const expiresAt = new Date(now + this.#sessionTtl * 1000);
      await this.#db.query("INSERT INTO sessions (id_hash, wallet, chain_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)", [
        hashSessionId(sessionId),
        fields.address,
        this.#siwe.chainId,
        new Date(now),
        expiresAt,
      ]);
      await this.#audit({ event: "sign-in", outcome: "allowed", wallet, ip, reason: "signed-in" });
      this.#log.info("signed in", { wallet });
      return json(200, { wallet, chainId: this.#siwe.chainId, expiresAt: expiresAt.toISOString() }, { "set-cookie": this.sessionCookie(sessionId) });
    } catch (error) {
      if (error instanceof Refusal && error.status !== 429) await this.#audit({ event: "sign-in", outcome: "denied", wallet, ip, reason: error.code }).catch(() => {});
      return this.#fail(error, "verify");
    }
  }

  /** `POST /api/auth/logout` -> revokes the session, clears the cookie. */
  async logout(request: Request): Promise<Response> {
    try {
      this.#checkOrigin(request);
      const id = this.#cookie(request);
      if (id !== undefined) {
        this.#sessionCache.delete(hashSessionId(id));
        const revoked = await this.#db.query<{ wallet: string }>("UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL RETURNING wallet", [
          hashSessionId(id),
          new Date(this.#now()),
        ]);
        const row = revoked.rows[0];
        if (row !== undefined) await this.#audit({ event: "logout", outcome: "allowed", wallet: row.wallet, ip: this.#ip(request), reason: "signed-out" });
      }
      return json(200, { signedOut: true }, { "set-cookie": this.sessionCookie("", 0) });
    } catch (error) {
      return this.#fail(error, "logout");
    }
  }

  /** The Set-Cookie value carrying a session id: httpOnly, Secure, SameSite=Strict. */
  sessionCookie(sessionId: string, maxAgeSeconds = this.#sessionTtl): string {
    return `${this.#cookieName}=${sessionId}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
  }

  // ------------------------------------------------------------------ keys

  /** `POST /api/keys/:contentId` {ephemeralPublicKey} -> the content key wrapped to that key, if the chain grants access now. */
  async releaseKey(request: Request): Promise<Response> {
    const ip = this.#ip(request);
    const contentId = pathParam(request, /\/api\/keys\/([^/]+)\/?$/);
    let wallet: Address | null = null;
    try {
      this.#checkOrigin(request);
      await this.#limitIp(request);
      const session = await this.#session(request);
      wallet = session.wallet;
      await this.#limitWallet(wallet);
      if (contentId === undefined || !CONTENT_ID.test(contentId)) throw new Refusal(400, "bad_content_id", "content id must be 0x followed by 64 hex characters");
      const body = await readJson(request);
      const clientKey = await this.#parseEphemeralKey(body.ephemeralPublicKey);

      let decision: AccessDecision;
      try {
        decision = await this.#gate.check(wallet, contentId as Hex, this.#now());
      } catch (error) {
        this.#log.warn("access check failed", { contentId, wallet, error: String(error) });
        const what = this.#gate.name === "chain" ? "could not read access from the chain" : `the ${this.#gate.name} access backend did not answer`;
        throw new Refusal(503, "access_unavailable", `${what}: try again shortly`);
      }
      if (!decision.granted) {
        if (decision.unknownContent) throw new Refusal(404, "unknown_content", decision.denial ?? "unknown content: check the content id");
        throw new Refusal(403, "no_access", decision.denial ?? "no access: buy a pass or subscribe", { reason: decision.reason });
      }
      const key = await this.#contentKey(contentId);
      const wrapped = await this.#wrap(key, clientKey, contentId, wallet);
      const keyId = keyIdOf(key);
      key.fill(0);
      const expiresAt = decision.expiresAt === null ? null : new Date(decision.expiresAt * 1000).toISOString();
      const playStart = await this.#playStart(wallet.toLowerCase(), contentId, this.#now());
      await this.#recordRelease(
        { event: "release", outcome: "allowed", wallet, ip, contentId, reason: decision.reason, detail: { gate: this.#gate.name, expiresAt } },
        { contentId, wallet, kind: "key-release", segments: 0, playStart },
      );
      this.#log.info("key released", { contentId, wallet, reason: decision.reason });
      const response: KeyReleaseResponse = { contentId: contentId as Hex, wallet, access: { reason: decision.reason, expiresAt }, keyId, wrapped };
      return json(200, response);
    } catch (error) {
      await this.#auditDenial(error, { event: "release", wallet, ip, contentId: contentId ?? null });
      return this.#fail(error, "release");
    }
  }

  /**
   * `POST /api/keys/:contentId/stream` {channelId, cumulativeAmount, signature, ephemeralPublicKey, minute, variants}
   * -> the keys of minute window `minute` (one per variant), against a voucher covering minutes 0..minute-1.
   *
   * Never the content key: the segments of minute-keyed variants (manifest version 2) are each
   * sealed under their minute's key, so what is released decrypts that minute and nothing else.
   * Minute 0 needs a valid voucher of any amount on an open channel whose deposit covers it: the
   * first minute is paid by the voucher that asks for minute 1 (the web player pays each minute
   * when it asks for it, so the creator normally holds payment for every released minute).
   */
  async streamKey(request: Request): Promise<Response> {
    const ip = this.#ip(request);
    const contentId = pathParam(request, /\/api\/keys\/([^/]+)\/stream\/?$/);
    let wallet: Address | null = null;
    let channelIdText: string | null = null;
    try {
      this.#checkOrigin(request);
      await this.#limitIp(request);
      const session = await this.#session(request);
      wallet = session.wallet;
      await this.#limitWallet(wallet);
      if (contentId === undefined || !CONTENT_ID.test(contentId)) throw new Refusal(400, "bad_content_id", "content id must be 0x followed by 64 hex characters");
      const body = await readJson(request);
      const channelId = parseUint(body.channelId);
      const amount = parseUint(body.cumulativeAmount);
      const signature = body.signature;
      if (channelId === undefined || amount === undefined || typeof signature !== "string" || !isHex(signature) || size(signature) !== 65) {
        throw new Refusal(400, "bad_voucher", "send JSON {channelId: decimal string, cumulativeAmount: decimal string, signature: 65-byte 0x-hex EIP-712 Voucher signature, ephemeralPublicKey, minute, variants}");
      }
      channelIdText = channelId.toString();
      const minute = body.minute;
      if (typeof minute !== "number" || !Number.isSafeInteger(minute) || minute < 0 || minute > MAX_MINUTE) {
        throw new Refusal(400, "bad_minute", `send minute: the minute window (0..${MAX_MINUTE}) whose keys you need; minute m covers the segments starting in [60m, 60m+60) s (manifest segments[].minute)`);
      }
      const variants = body.variants;
      if (!Array.isArray(variants) || variants.length === 0 || variants.length > MAX_STREAM_VARIANTS || !variants.every((v) => typeof v === "string" && VARIANT_NAME.test(v)) || new Set(variants).size !== variants.length) {
        throw new Refusal(400, "bad_variants", `send variants: 1..${MAX_STREAM_VARIANTS} distinct variant names (the manifest's minute-keyed variants you may play)`);
      }
      const clientKey = await this.#parseEphemeralKey(body.ephemeralPublicKey);

      let channel: ChannelState | undefined;
      let deployment: string;
      try {
        [channel, deployment] = await Promise.all([this.#channels.read(channelId), this.#streamDeployment()]);
      } catch (error) {
        this.#log.warn("channel read failed", { channelId: channelIdText, error: String(error) });
        throw new Refusal(503, "chain_unavailable", "could not read the channel from the chain: try again shortly");
      }
      const now = this.#now();
      if (channel === undefined) throw new Refusal(404, "unknown_channel", `channel ${channelId} does not exist: open a channel first`);
      if (channel.contentId.toLowerCase() !== contentId.toLowerCase()) {
        throw new Refusal(403, "wrong_content", `channel ${channelId} pays for content ${channel.contentId}, not this one: open a channel for this content`);
      }
      if (channel.viewer !== wallet) throw new Refusal(403, "not_your_channel", `channel ${channelId} belongs to another wallet: sign in as its viewer`);
      if (channel.status !== "open") throw new Refusal(403, "channel_not_open", `channel ${channelId} is ${channel.status}: open a new channel`);
      if (channel.closesAt * 1000 <= now) throw new Refusal(403, "channel_expired", `channel ${channelId} expired: open a new channel`);
      if (channel.closesAt * 1000 <= now + this.#channelMarginMs) {
        throw new Refusal(403, "channel_closing_soon", `channel ${channelId} closes too soon for the creator to redeem: extend it with topUp or open a new channel`);
      }

      // The voucher is checked, and kept, in the form the contract verifies (v 27/28, low s).
      let signer: Address;
      let voucherSignature: Hex;
      try {
        ({ signer, signature: voucherSignature } = await this.#channels.signerOf({ channelId, cumulativeAmount: amount, signature: signature as Hex }));
      } catch (error) {
        const why = error instanceof VoucherSignatureError ? error.message : "voucher signature is malformed: sign the EIP-712 Voucher with the viewer wallet or its session key";
        throw new Refusal(403, "bad_voucher_signature", why);
      }
      if (signer !== channel.viewer) {
        const sk = channel.sessionKey;
        if (sk === null || sk.key !== signer) {
          throw new Refusal(403, "bad_voucher_signature", "voucher is not signed by the channel's viewer or its session key: sign with one of them");
        }
        if (sk.expiresAt * 1000 < now) throw new Refusal(403, "session_key_expired", "the channel's session key has expired: sign vouchers with the viewer wallet or authorise a new key");
        if (amount > sk.spendingCap) throw new Refusal(402, "over_spending_cap", `voucher exceeds the session key's spending cap of ${sk.spendingCap}: top up and authorise a new key, or sign with the viewer wallet`);
      }

      // Minute m is released only when minutes 0..m-1 are paid (what the creator can redeem: capped at the deposit).
      const rate = channel.ratePerMinute;
      const required = rate * BigInt(minute);
      const covered = amount < channel.deposit ? amount : channel.deposit;
      if (covered < required) {
        const before = minute === 1 ? "minute 0" : `minutes 0..${minute - 1}`;
        throw new Refusal(402, "voucher_too_small", `voucher too small: minute ${minute} is released once ${before} ${minute === 1 ? "is" : "are"} paid (${minute} x ${rate}): sign cumulativeAmount >= ${required}`, {
          minute,
          requiredAmount: required.toString(),
        });
      }
      if (channel.deposit < rate * BigInt(minute + 1)) {
        throw new Refusal(402, "deposit_exhausted", `the channel deposit (${channel.deposit}) does not cover minute ${minute} at ${rate} per minute: top up the channel`);
      }

      const contentKey = await this.#contentKey(contentId);
      const keys: StreamMinuteKey[] = [];
      try {
        for (const variant of variants as string[]) {
          const minuteKey = deriveMinuteKey(contentKey, contentId, variant, minute);
          try {
            const label = minuteKeyLabel(variant, minute);
            keys.push({ variant, minute, keyId: keyIdOf(minuteKey), wrapped: await this.#wrap(minuteKey, clientKey, contentId, wallet, label) });
          } finally {
            minuteKey.fill(0);
          }
        }
      } finally {
        contentKey.fill(0);
      }
      const { delivered, added } = await this.#recordStreamVoucher({
        deployment,
        contentId,
        wallet,
        channelId: channelIdText,
        rate,
        amount,
        signature: voucherSignature,
        deliveredAtLeast: (minute + 1) * SEGMENTS_PER_MINUTE,
        now,
      });
      const minutesDelivered = Math.floor(delivered / SEGMENTS_PER_MINUTE);
      const playStart = await this.#playStart(wallet.toLowerCase(), contentId, now);
      await this.#recordRelease(
        {
          event: "stream-release",
          outcome: "allowed",
          wallet,
          ip,
          contentId,
          channelId: channelIdText,
          reason: signer === channel.viewer ? "voucher" : "session-key-voucher",
          detail: { cumulativeAmount: amount.toString(), minute, variants, minutesDelivered, signer },
        },
        // Segment plays count each minute window once per channel (~6 segments of 10 s), however many variants or repeats.
        { contentId, wallet, kind: "segment", segments: added, playStart },
      );
      this.#log.info("stream minute released", { contentId, wallet, channelId: channelIdText, minute, variants: variants.length });
      const response: StreamReleaseResponse = {
        contentId: contentId as Hex,
        wallet,
        channelId: channelIdText,
        minute,
        minutesDelivered,
        ratePerMinute: rate.toString(),
        nextVoucherMinimum: (rate * BigInt(minute + 1)).toString(),
        keys,
      };
      return json(200, response);
    } catch (error) {
      await this.#auditDenial(error, { event: "stream-release", wallet, ip, contentId: contentId ?? null, channelId: channelIdText });
      return this.#fail(error, "stream");
    }
  }

  /**
   * Keeps the channel's best voucher (for the creator to redeem) and raises its delivered count to
   * at least `deliveredAtLeast` segments. A conditional update on the count read, retried when a
   * concurrent request moved it, so `added` (segments newly delivered) is counted exactly once.
   */
  async #recordStreamVoucher(v: {
    deployment: string;
    contentId: string;
    wallet: Address;
    channelId: string;
    rate: bigint;
    amount: bigint;
    signature: Hex;
    deliveredAtLeast: number;
    now: number;
  }): Promise<{ delivered: number; added: number }> {
    const contract = this.#channels.address.toLowerCase();
    await this.#db.query(
      "INSERT INTO stream_channels (deployment, contract, channel_id, content_id, viewer, rate_per_minute) VALUES ($6, $1, $2, $3, $4, $5) ON CONFLICT (deployment, contract, channel_id) DO NOTHING",
      [contract, v.channelId, v.contentId.toLowerCase(), v.wallet, v.rate.toString(), v.deployment],
    );
    for (let attempt = 0; attempt < 8; attempt++) {
      const state = (await this.#db.query<{ delivered_segments: number }>("SELECT delivered_segments FROM stream_channels WHERE deployment = $3 AND contract = $1 AND channel_id = $2", [contract, v.channelId, v.deployment])).rows[0]!;
      const seen = Number(state.delivered_segments);
      const next = Math.max(seen, v.deliveredAtLeast);
      const updated = await this.#db.query(
        `UPDATE stream_channels
            SET delivered_segments = $4,
                last_signature = CASE WHEN $3::numeric > last_amount THEN $5 ELSE last_signature END,
                last_amount = GREATEST(last_amount, $3::numeric),
                updated_at = $6
          WHERE deployment = $8 AND contract = $1 AND channel_id = $2 AND delivered_segments = $7
          RETURNING delivered_segments`,
        [contract, v.channelId, v.amount.toString(), next, v.signature, new Date(v.now), seen, v.deployment],
      );
      if (updated.rows.length > 0) return { delivered: next, added: next - seen };
    }
    throw new Refusal(409, "concurrent_request", "too many requests for this channel at once: retry");
  }

  /** The best voucher kept for each of these channels on this deployment (the creator's studio lists them for redemption); channels never streamed here are left out. */
  async bestVouchers(channelIds: readonly (bigint | string)[]): Promise<BestVoucher[]> {
    if (channelIds.length === 0) return [];
    const rows = await this.#db.query<{ channel_id: string; last_amount: unknown; last_signature: string | null; delivered_segments: unknown; updated_at: unknown }>(
      "SELECT channel_id, last_amount::text AS last_amount, last_signature, delivered_segments, updated_at FROM stream_channels WHERE deployment = $3 AND contract = $1 AND channel_id = ANY($2::text[]) ORDER BY channel_id",
      [this.#channels.address.toLowerCase(), channelIds.map((id) => id.toString()), await this.#streamDeployment()],
    );
    return rows.rows.map((r) => ({
      channelId: r.channel_id,
      cumulativeAmount: BigInt(String(r.last_amount)),
      signature: (r.last_signature ?? null) as Hex | null,
      deliveredSegments: Number(r.delivered_segments),
      updatedAt: toDate(r.updated_at).toISOString(),
    }));
  }

  /**
   * The deployment stream_channels rows are kept under (ChannelReader.deploymentId), read once.
   * Rows written before deployments were recorded ('') are assigned to the first one seen: they
   * come from the chain this database was used with, and a recreated dev chain wipes the database
   * (scripts/dev.ts), so no unredeemed voucher is dropped by the upgrade.
   */
  #streamDeployment(): Promise<string> {
    this.#deployment ??= (async () => {
      const id = await this.#channels.deploymentId();
      await this.#db.query(
        `UPDATE stream_channels SET deployment = $1
          WHERE deployment = '' AND contract = $2
            AND NOT EXISTS (SELECT 1 FROM stream_channels other WHERE other.deployment = $1 AND other.contract = stream_channels.contract AND other.channel_id = stream_channels.channel_id)`,
        [id, this.#channels.address.toLowerCase()],
      );
      return id;
    })().catch((error: unknown) => {
      this.#deployment = undefined;
      throw error;
    });
    return this.#deployment;
  }

  /** `GET /api/plays/:contentId` -> aggregate play counts (no wallets). */
  async plays(request: Request): Promise<Response> {
    const contentId = pathParam(request, /\/api\/plays\/([^/]+)\/?$/);
    try {
      await this.#limitIp(request);
      if (contentId === undefined || !CONTENT_ID.test(contentId)) throw new Refusal(400, "bad_content_id", "content id must be 0x followed by 64 hex characters");
      return json(200, await this.playCounts(contentId));
    } catch (error) {
      return this.#fail(error, "plays");
    }
  }

  /**
   * `GET /api/plays?ids=0x..,0x..` (at most 200) -> `{ items: PlayCounts[], total }`: the counts of
   * several items at once (a creator's catalogue, for the milestone watcher and the dashboard).
   * `total.uniqueWallets` / `uniqueViewers` count each wallet or viewer once across the items.
   */
  async playsTotals(request: Request): Promise<Response> {
    try {
      await this.#limitIp(request);
      const raw = new URL(request.url).searchParams.get("ids") ?? "";
      const ids = [...new Set(raw.split(",").map((id) => id.trim().toLowerCase()).filter((id) => id !== ""))];
      if (ids.length === 0 || ids.length > 200 || !ids.every((id) => CONTENT_ID.test(id))) {
        throw new Refusal(400, "bad_content_ids", "send ?ids= with 1 to 200 comma-separated content ids (0x followed by 64 hex characters)");
      }
      // ?since=<ISO time>: only plays from then on (the placement policy's window).
      const sinceParam = new URL(request.url).searchParams.get("since");
      const since = sinceParam === null ? undefined : new Date(sinceParam);
      if (since !== undefined && Number.isNaN(since.getTime())) throw new Refusal(400, "bad_since", "since must be an ISO date-time, e.g. 2026-01-01T00:00:00Z");
      return json(200, await this.playCountsMany(ids, { since }));
    } catch (error) {
      return this.#fail(error, "plays-totals");
    }
  }

  /** Play counts of one item, for dashboards and milestone backups (see {@link PlayCounts}). */
  async playCounts(contentId: string): Promise<PlayCounts> {
    return (await this.playCountsMany([contentId])).items[0]!;
  }

  /** Play counts of several items, in the order given, and their total. */
  async playCountsMany(contentIds: readonly string[], options: { since?: Date } = {}): Promise<{ items: PlayCounts[]; total: Omit<PlayCounts, "contentId"> }> {
    const ids = contentIds.map((id) => id.toLowerCase());
    const list = ids.map((_, i) => `$${i + 1}`).join(", ");
    const params: unknown[] = options.since === undefined ? ids : [...ids, options.since];
    const window = options.since === undefined ? "" : ` AND at >= $${ids.length + 1}`;
    const columns = `count(*) FILTER (WHERE play_start) AS plays,
                count(*) FILTER (WHERE kind = 'key-release') AS releases,
                count(*) FILTER (WHERE kind = 'segment-request' AND play_start) AS segment_plays,
                COALESCE(sum(segments) FILTER (WHERE kind = 'segment'), 0) AS segments,
                count(DISTINCT wallet) AS wallets,
                count(DISTINCT viewer) AS viewers,
                max(at) AS last_at`;
    type Row = { content_id?: string; plays: unknown; releases: unknown; segment_plays: unknown; segments: unknown; wallets: unknown; viewers: unknown; last_at: unknown };
    const [perItem, total] = ids.length === 0
      ? [{ rows: [] as Row[] }, { rows: [] as Row[] }]
      : await Promise.all([
          this.#db.query<Row>(`SELECT content_id, ${columns} FROM plays WHERE content_id IN (${list})${window} GROUP BY content_id`, params),
          this.#db.query<Row>(`SELECT ${columns} FROM plays WHERE content_id IN (${list})${window}`, params),
        ]);
    const counts = (row: Row | undefined): Omit<PlayCounts, "contentId"> => {
      const segments = Number(row?.segments ?? 0);
      return {
        plays: Number(row?.plays ?? 0),
        keyReleases: Number(row?.releases ?? 0),
        segmentPlays: Number(row?.segment_plays ?? 0),
        segments,
        minutesStreamed: segments / SEGMENTS_PER_MINUTE,
        uniqueWallets: Number(row?.wallets ?? 0),
        uniqueViewers: Number(row?.viewers ?? 0),
        lastPlayAt: row?.last_at === null || row?.last_at === undefined ? null : toDate(row.last_at).toISOString(),
      };
    };
    const byId = new Map(perItem.rows.map((row) => [row.content_id!, row]));
    return { items: ids.map((contentId) => ({ contentId, ...counts(byId.get(contentId)) })), total: counts(total.rows[0]) };
  }

  /**
   * Counts a segment request as plays evidence. The item is the `c` query parameter of the request
   * URL (the media routes put it on the segment URIs of a playlist fetched with `?c=<contentId>`);
   * the piece must be a segment of a full-length variant of that item's manifest (the segment
   * resolver checks, so a URL cannot credit a piece to another item). The viewer is the signed-in
   * wallet (session cookie) or an anonymous id. Never throws: a failure here must not fail the
   * segment, so errors are logged and reported as `reason: "error"`.
   */
  async recordSegmentRequest(request: Request, pieceCid: string): Promise<SegmentPlay> {
    const no = (reason: SegmentPlay["reason"]): SegmentPlay => ({ counted: false, playStart: false, reason });
    let contentId: string | undefined;
    try {
      contentId = new URL(request.url).searchParams.get("c")?.toLowerCase();
      if (!contentId) return no("no-content");
      if (!CONTENT_ID.test(contentId)) return no("bad-content-id");
      if (this.#segments === undefined) return no("no-resolver");
      const segment = await this.#segments.resolve(contentId as Hex, pieceCid);
      if (segment === undefined) return no("not-a-segment");
      if (segment.role === "preview") return no("preview");
      const viewer = await this.#viewerOf(request);
      const now = this.#now();
      if (!(await this.#playStart(viewer.id, contentId, now))) return { counted: true, playStart: false, reason: "same-play" };
      if (viewer.wallet === null) {
        try {
          await this.#anonLimiter.consume(viewer.ip);
        } catch (result) {
          if (result instanceof RateLimiterRes) return no("anonymous-limit");
          throw result;
        }
      }
      await this.#writer.write(undefined, [contentId, viewer.wallet, "segment-request", 0, new Date(now), viewer.id, true]);
      return { counted: true, playStart: true, reason: "play-start" };
    } catch (error) {
      this.#log.warn("segment play not recorded", { contentId, error: error instanceof Error ? error.message : String(error) });
      return no("error");
    }
  }

  /** Closes the database if the service opened it (the key store and chain client belong to the caller). */
  async close(): Promise<void> {
    await this.#writer.idle();
    this.#keyCache.forEach((entry) => entry.key.fill(0));
    this.#keyCache.clear();
    if (this.#ownsDb) await this.#db.close();
  }

  /**
   * The wallet signed in with this request's session cookie, or the 401 to answer: routes outside key
   * release (the studio's reads) are gated on the same SIWE session.
   */
  async signedInWallet(request: Request): Promise<Address | Response> {
    try {
      return (await this.#session(request)).wallet;
    } catch (error) {
      return this.#fail(error, "session");
    }
  }

  // ------------------------------------------------------------------ internals

  async #session(request: Request): Promise<Session> {
    const id = this.#cookie(request);
    if (id === undefined) throw new Refusal(401, "not_signed_in", "not signed in: sign in with your wallet (GET /api/auth/nonce, then POST /api/auth/verify)");
    const idHash = hashSessionId(id);
    const now = this.#now();
    const cached = this.#sessionCache.get(idHash);
    if (cached !== undefined && now < cached.trustedUntilMs) {
      if (cached.expiresAtMs <= now) throw new Refusal(401, "session_expired", "session expired: sign in again");
      return cached.session;
    }
    this.#sessionCache.delete(idHash);
    const row = (await this.#db.query<{ wallet: string; chain_id: number; expires_at: unknown; revoked_at: unknown }>(
      "SELECT wallet, chain_id, expires_at, revoked_at FROM sessions WHERE id_hash = $1",
      [idHash],
    )).rows[0];
    if (row === undefined) throw new Refusal(401, "not_signed_in", "unknown session: sign in again");
    if (row.revoked_at !== null) throw new Refusal(401, "session_ended", "session ended (signed out): sign in again");
    const expiresAtMs = toDate(row.expires_at).getTime();
    if (expiresAtMs <= now) throw new Refusal(401, "session_expired", "session expired: sign in again");
    if (Number(row.chain_id) !== this.#siwe.chainId) throw new Refusal(401, "wrong_chain", "session is for another chain: sign in again");
    const session = { wallet: getAddress(row.wallet), chainId: Number(row.chain_id) };
    if (this.#sessionCacheMs > 0) {
      if (this.#sessionCache.size >= 100_000) this.#sessionCache.clear();
      this.#sessionCache.set(idHash, { session, expiresAtMs, trustedUntilMs: now + this.#sessionCacheMs });
    }
    return session;
  }

  /** The signed-in wallet (valid session cookie), else an anonymous viewer id (salted hash of IP and User-Agent). */
  async #viewerOf(request: Request): Promise<{ id: string; wallet: Address | null; ip: string }> {
    const ip = this.#ip(request);
    if (this.#cookie(request) !== undefined) {
      try {
        const session = await this.#session(request);
        return { id: session.wallet.toLowerCase(), wallet: session.wallet, ip };
      } catch (error) {
        if (!(error instanceof Refusal)) throw error; // expired or ended: counted as anonymous
      }
    }
    const hash = createHash("sha256").update(this.#anonSalt).update(ip).update("\0").update(request.headers.get("user-agent") ?? "").digest("hex");
    return { id: `anon:${hash.slice(0, 32)}`, wallet: null, ip };
  }

  /**
   * Does evidence from `viewer` for `contentId` at `now` start a play? Yes unless the viewer has a
   * play start of the item within the window. The check and the claim are one synchronous step after
   * the (shared) database read, so concurrent requests of one viewer start one play.
   */
  async #playStart(viewer: string, contentId: string, now: number): Promise<boolean> {
    const key = `${viewer}|${contentId.toLowerCase()}`;
    let entry = this.#starts.get(key);
    if (entry === undefined) {
      if (this.#starts.size >= 100_000) this.#starts.clear();
      const fresh: { last: number | undefined; ready: Promise<void> } = { last: undefined, ready: Promise.resolve() };
      fresh.ready = this.#db
        .query<{ at: unknown }>("SELECT max(at) AS at FROM plays WHERE viewer = $1 AND content_id = $2 AND play_start AND at > $3", [viewer, contentId.toLowerCase(), new Date(now - this.#playWindowMs)])
        .then((result) => {
          const at = result.rows[0]?.at;
          if (at !== null && at !== undefined) fresh.last = Math.max(fresh.last ?? 0, toDate(at).getTime());
        })
        .catch((error: unknown) => {
          this.#starts.delete(key);
          throw error;
        });
      this.#starts.set(key, fresh);
      entry = fresh;
    }
    await entry.ready;
    if (entry.last !== undefined && now - entry.last < this.#playWindowMs) return false;
    entry.last = now;
    return true;
  }

  #cookie(request: Request): string | undefined {
    const header = request.headers.get("cookie");
    if (header === null) return undefined;
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === this.#cookieName) {
        const value = part.slice(eq + 1).trim();
        return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
      }
    }
    return undefined;
  }

  #ip(request: Request): string {
    return clientAddress(peerAddresses.get(request), request.headers.get("x-forwarded-for"), this.#proxyHops);
  }

  #checkOrigin(request: Request): void {
    const origin = request.headers.get("origin");
    if (origin !== null && !this.#origins.has(origin)) throw new Refusal(403, "bad_origin", `requests from origin ${origin} are not allowed`);
  }

  async #limitIp(request: Request): Promise<void> {
    await limit(this.#ipLimiter, this.#ip(request), "too many requests from your address");
  }

  async #limitWallet(wallet: string): Promise<void> {
    await limit(this.#walletLimiter, wallet.toLowerCase(), "too many key requests for this wallet");
  }

  /** A copy of the content key (callers wipe it after use). */
  async #parseEphemeralKey(value: unknown): Promise<CryptoKey | Uint8Array> {
    if (value === undefined || value === null) {
      throw new Refusal(400, "missing_public_key", "send ephemeralPublicKey: an ECDH P-256 public key, raw uncompressed base64url or a public JWK");
    }
    try {
      if (this.#wrapWith === "node") return rawEphemeralPublicKey(value as EphemeralPublicKey);
      return await importEphemeralPublicKey(value as EphemeralPublicKey);
    } catch (error) {
      if (error instanceof InvalidPublicKeyError) throw new Refusal(400, "bad_public_key", error.message);
      throw error;
    }
  }

  async #wrap(key: Uint8Array, clientKey: CryptoKey | Uint8Array, contentId: string, wallet: string, label?: string): Promise<WrappedKey> {
    try {
      if (clientKey instanceof Uint8Array) return wrapContentKeyNode({ contentKey: key, clientPublicKey: clientKey, contentId, wallet, label });
      return await wrapContentKey({ contentKey: key, clientPublicKey: clientKey, contentId, wallet, label });
    } catch (error) {
      if (error instanceof InvalidPublicKeyError) throw new Refusal(400, "bad_public_key", error.message);
      throw error;
    }
  }

  /** A copy of the content key (callers wipe it after use). */
  async #contentKey(contentId: string): Promise<Uint8Array> {
    const now = Date.now();
    const cached = this.#keyCache.get(contentId);
    if (cached !== undefined && now < cached.until) return cached.key.slice();
    let key: Uint8Array | undefined;
    try {
      key = await this.#keys.getKey(contentId);
    } catch (error) {
      if (error instanceof KeyUnsealError) {
        this.#log.error("content key could not be unsealed", { contentId });
        throw new Refusal(500, "key_unavailable", "the content key could not be opened on the server: contact support");
      }
      throw error;
    }
    if (key === undefined) throw new Refusal(404, "no_key", "no key is stored for this content: it has not been published to this server");
    if (this.#keyCacheMs > 0) {
      if (this.#keyCache.size >= 10_000) this.#keyCache.clear();
      this.#keyCache.set(contentId, { key: key.slice(), until: now + this.#keyCacheMs });
    }
    return key;
  }

  /** Writes an audit row; resolves once it is in the database (rows of concurrent requests share one INSERT). */
  #audit(entry: AuditEntry): Promise<void> {
    return this.#writer.write(this.#auditRow(entry), undefined);
  }

  #auditRow(entry: AuditEntry): unknown[] {
    return [
      new Date(this.#now()),
      entry.event,
      entry.outcome,
      entry.wallet ?? null,
      entry.ip ?? null,
      entry.contentId?.toLowerCase() ?? null,
      entry.channelId ?? null,
      entry.reason,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    ];
  }

  /** Audit row and play row, written in one transaction; a release is answered only once both are in. */
  #recordRelease(entry: AuditEntry, play: { contentId: string; wallet: string; kind: "key-release" | "segment"; segments: number; playStart: boolean }): Promise<void> {
    return this.#writer.write(this.#auditRow(entry), [play.contentId.toLowerCase(), play.wallet, play.kind, play.segments, new Date(this.#now()), play.wallet.toLowerCase(), play.playStart]);
  }

  async #auditDenial(error: unknown, entry: Omit<AuditEntry, "outcome" | "reason">): Promise<void> {
    const reason = error instanceof Refusal ? error.code : "internal_error";
    const detail = error instanceof Refusal ? { status: error.status, message: error.message } : { status: 500 };
    try {
      await this.#audit({ ...entry, outcome: "denied", reason, detail });
    } catch (auditError) {
      this.#log.error("audit write failed", { event: entry.event, error: String(auditError) });
    }
    this.#log.info("key request denied", { event: entry.event, contentId: entry.contentId, wallet: entry.wallet, reason });
  }

  #fail(error: unknown, where: string): Response {
    if (error instanceof Refusal) return error.response();
    this.#log.error("request failed", { where, error: error instanceof Error ? error.message : String(error) });
    return json(500, { error: "internal_error", message: "the server failed to handle this request: try again" });
  }
}

/**
 * Group commit for audit and play rows: requests arriving while a write is in flight are queued and
 * written together in the next statement (one multi-row INSERT per table, in one transaction).
 * Every caller's promise settles only after its own rows are written, so no release is answered
 * before its audit row exists, and a failed write fails every request in that batch.
 */
class BatchWriter {
  readonly #db: SqlClient;
  #queue: { audit: unknown[] | undefined; play: unknown[] | undefined; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #running: Promise<void> | undefined;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  /** An audit row, a play row (content_id, wallet, kind, segments, at, viewer, play_start), or both. */
  write(audit: unknown[] | undefined, play: unknown[] | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ audit, play, resolve, reject });
      if (this.#running === undefined) this.#running = this.#drain();
    });
  }

  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, 500);
      try {
        await this.#flush(batch.flatMap((b) => (b.audit === undefined ? [] : [b.audit])), batch.flatMap((b) => (b.play === undefined ? [] : [b.play])));
        for (const b of batch) b.resolve();
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.#running = undefined;
  }

  async #flush(audits: unknown[][], plays: unknown[][]): Promise<void> {
    const values = (rows: unknown[][], width: number, offset = 0) => rows.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${offset + r * width + c + 1}`).join(", ")})`).join(", ");
    const auditSql = `INSERT INTO audit_log (at, event, outcome, wallet, ip, content_id, channel_id, reason, detail) VALUES ${values(audits, 9)}`;
    const playSql = (offset: number) => `INSERT INTO plays (content_id, wallet, kind, segments, at, viewer, play_start) VALUES ${values(plays, 7, offset)}`;
    if (plays.length === 0) {
      if (audits.length > 0) await this.#db.query(auditSql, audits.flat());
      return;
    }
    if (audits.length === 0) {
      await this.#db.query(playSql(0), plays.flat());
      return;
    }
    // One statement: the plays insert rides in a data-modifying CTE with the audit insert (atomic).
    await this.#db.query(`WITH audit AS (${auditSql}) ${playSql(audits.length * 9)}`, [...audits.flat(), ...plays.flat()]);
  }
}

async function limit(limiter: RateLimiterMemory, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (result) {
    if (result instanceof RateLimiterRes) {
      const seconds = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
      throw new Refusal(429, "rate_limited", `${what}: try again in ${seconds} s`, { retryAfterSeconds: seconds }, { "retry-after": String(seconds) });
    }
    throw result;
  }
}

function pathParam(request: Request, pattern: RegExp): string | undefined {
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

async function readJson(request: Request): Promise<Record<string, unknown>> {
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


function parseUint(value: unknown): bigint | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^[0-9]{1,78}$/.test(value)) {
    const n = BigInt(value);
    return n < 2n ** 256n ? n : undefined;
  }
  return undefined;
}

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** Creates the service, opening (and owning) a database unless one is passed. */
export async function createKeyReleaseService(options: KeyReleaseServiceOptions): Promise<KeyReleaseService> {
  const db = options.db ?? (await openKeyReleaseDb({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, pgliteWorker: options.pgliteWorker, schema: options.schema }));
  return new KeyReleaseService(options, db, options.db === undefined);
}
