/**
 * The key-release service: Sign-In with Ethereum sessions, and content keys handed only to wallets
 * the chain says have access, wrapped to a key only the requesting browser holds.
 *
 * Handlers take and return Web Fetch API objects, so Next.js route handlers call them directly;
 * `startKeyReleaseServer` (server.ts) puts them on node:http for tests and benchmarks.
 *
 * This file wires the parts, each with one job: http.ts (request/response helpers), sessions.ts
 * (nonces, sign-in, sessions), release.ts (content keys), stream.ts (pay-per-minute keys, minutes
 * and vouchers), plays.ts (play counting), audit.ts (audit rows), ratelimit.ts (limits). All state
 * that must agree across instances is in the database (db.ts); what is in memory is caches whose
 * hits the database would answer the same way.
 *
 * Never logged, stored unsealed, or put in a URL: content keys, session ids (only their SHA-256 is stored).
 */
import type { Address, PublicClient } from "viem";
import type { Deployment } from "../deployments/index.ts";
import type { KeyStore } from "../keys/index.ts";
import { AuditLog } from "./audit.ts";
import { ChannelReader } from "./channels.ts";
import { openKeyReleaseDb, type SqlClient } from "./db.ts";
import { ChainAccessGate, type AccessGate } from "./gate.ts";
import { consoleLogger, failure, json, type Logger } from "./http.ts";
import { PlayLedger, type PlayCounts, type SegmentPlay, type SegmentResolver } from "./plays.ts";
import { createLimiter, DEFAULT_KEY_RELEASE_RATE_LIMITS, RequestLimits, type RateLimit } from "./ratelimit.ts";
import { ContentKeys, KeyWrapper, releaseKey } from "./release.ts";
import { Sessions } from "./sessions.ts";
import type { SiweConfig } from "./siwe.ts";
import { StreamLedger, streamKey, type BestVoucher, type RedeemableVoucher, type RedeemableVoucherQuery } from "./stream.ts";

// The public API as it was when all of it lived here (web/ and tests import these from service.ts).
export { consoleLogger, MAX_JSON_BODY, setPeerAddress, setRequestBodyText, responseBodyText, type Logger } from "./http.ts";
export type { RateLimit } from "./ratelimit.ts";
export type { PlayCounts, SegmentPlay } from "./plays.ts";
export type { KeyReleaseResponse } from "./release.ts";
export type { StreamReleaseResponse, StreamMinuteKey, BestVoucher, RedeemableVoucher } from "./stream.ts";

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

export class KeyReleaseService {
  readonly #db: SqlClient;
  readonly #ownsDb: boolean;
  readonly #audit: AuditLog;
  readonly #sessions: Sessions;
  readonly #keys: ContentKeys;
  readonly #plays: PlayLedger;
  readonly #ledger: StreamLedger;
  readonly #release: Parameters<typeof releaseKey>[0];
  readonly #stream: Parameters<typeof streamKey>[0];
  readonly #log: Logger;

  /** Use {@link createKeyReleaseService}. */
  constructor(options: KeyReleaseServiceOptions, db: SqlClient, ownsDb: boolean) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    const now = options.now ?? Date.now;
    const log = options.logger ?? consoleLogger;
    this.#log = log;
    const siwe: SiweConfig = { ...options.siwe, chainId: options.siwe.chainId ?? options.deployment.chainId };
    const origins = new Set(options.allowedOrigins ?? [new URL(options.siwe.uri).origin]);
    const limits = new RequestLimits(
      db,
      { wallet: options.rateLimits?.wallet ?? DEFAULT_KEY_RELEASE_RATE_LIMITS.wallet, ip: options.rateLimits?.ip ?? DEFAULT_KEY_RELEASE_RATE_LIMITS.ip },
      options.trustedProxyHops ?? 0,
    );
    this.#audit = new AuditLog(db, now, log);
    this.#sessions = new Sessions({
      db,
      client: options.publicClient,
      siwe,
      ttlSeconds: options.sessionTtlSeconds ?? 3600,
      cookieName: options.cookieName ?? "__Host-sv_session",
      origins,
      sessionCacheSeconds: options.sessionCacheSeconds ?? 5,
      limits,
      audit: this.#audit,
      now,
      log,
    });
    this.#keys = new ContentKeys(options.keyStore, options.keyCacheSeconds ?? 300, log);
    this.#plays = new PlayLedger({
      db,
      sessions: this.#sessions,
      limits,
      anonLimiter: createLimiter(db, "anon-plays", options.anonymousPlayLimit ?? { points: 60, durationSeconds: 3600 }),
      audit: this.#audit,
      segments: options.segmentResolver,
      windowSeconds: options.playWindowSeconds ?? 1800,
      now,
      log,
    });
    const channels = new ChannelReader(options.publicClient, options.deployment);
    this.#ledger = new StreamLedger(db, channels);
    const wrapper = new KeyWrapper(options.wrapWith ?? "node");
    const gate: AccessGate = options.gate ?? new ChainAccessGate(options.publicClient, options.deployment);
    this.#release = { sessions: this.#sessions, limits, origins, gate, keys: this.#keys, wrapper, plays: this.#plays, audit: this.#audit, log, now };
    this.#stream = {
      sessions: this.#sessions,
      limits,
      origins,
      channels,
      ledger: this.#ledger,
      keys: this.#keys,
      wrapper,
      plays: this.#plays,
      audit: this.#audit,
      log,
      now,
      channelMarginMs: (options.channelMarginSeconds ?? 600) * 1000,
    };
  }

  /** The database (audit_log, plays, sessions, siwe_nonces, stream_channels, ...) for dashboards and tests. */
  get db(): SqlClient {
    return this.#db;
  }

  /** Handlers for the web app: each is `(request: Request) => Promise<Response>`. */
  get handlers() {
    return {
      nonce: (request: Request) => this.nonce(request),
      verify: (request: Request) => this.verify(request),
      logout: (request: Request) => this.logout(request),
      currentSession: (request: Request) => this.currentSession(request),
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
    if (path === "/api/auth/session") return route("GET", () => this.currentSession(request));
    if (/^\/api\/keys\/[^/]+\/stream$/.test(path)) return route("POST", () => this.streamKey(request));
    if (/^\/api\/keys\/[^/]+$/.test(path)) return route("POST", () => this.releaseKey(request));
    if (/^\/api\/plays\/[^/]+$/.test(path)) return route("GET", () => this.plays(request));
    if (path === "/api/plays") return route("GET", () => this.playsTotals(request));
    return json(404, { error: "not_found", message: "no such endpoint: see GET /api/auth/nonce, POST /api/auth/verify, POST /api/keys/:contentId" });
  }

  /** `GET /api/auth/nonce` -> the fields to put in the SIWE message (single-use nonce with expiry). */
  nonce(request: Request): Promise<Response> {
    return this.#sessions.nonce(request);
  }

  /** `POST /api/auth/verify` {message, signature} -> session cookie. */
  verify(request: Request): Promise<Response> {
    return this.#sessions.verify(request);
  }

  /** `POST /api/auth/logout` -> revokes the session, clears the cookie. */
  logout(request: Request): Promise<Response> {
    return this.#sessions.logout(request);
  }

  /** `GET /api/auth/session` -> `{ wallet }` signed in with this cookie, `{ wallet: null }` when none. */
  currentSession(request: Request): Promise<Response> {
    return this.#sessions.current(request);
  }

  /** The Set-Cookie value carrying a session id: httpOnly, Secure, SameSite=Strict. */
  sessionCookie(sessionId: string, maxAgeSeconds?: number): string {
    return this.#sessions.sessionCookie(sessionId, maxAgeSeconds);
  }

  /** `POST /api/keys/:contentId` {ephemeralPublicKey} -> the content key wrapped to that key, if the chain grants access now. */
  releaseKey(request: Request): Promise<Response> {
    return releaseKey(this.#release, request);
  }

  /** `POST /api/keys/:contentId/stream` -> the keys of one minute window (see stream.ts). */
  streamKey(request: Request): Promise<Response> {
    return streamKey(this.#stream, request);
  }

  /** The best voucher kept for each of these channels on this deployment (the creator's studio lists them for redemption); channels never streamed here are left out. */
  bestVouchers(channelIds: readonly (bigint | string)[]): Promise<BestVoucher[]> {
    return this.#ledger.bestVouchers(channelIds);
  }

  /** Every channel of this deployment with a voucher worth redeeming (the voucher keeper; see stream.ts listRedeemableVouchers). */
  listRedeemableVouchers(query?: Omit<RedeemableVoucherQuery, "contract" | "deployment">): Promise<RedeemableVoucher[]> {
    return this.#ledger.listRedeemableVouchers(query);
  }

  /** `GET /api/plays/:contentId` -> aggregate play counts (no wallets). */
  plays(request: Request): Promise<Response> {
    return this.#plays.plays(request);
  }

  /** `GET /api/plays?ids=0x..,0x..[&since=]` -> `{ items, total }`. */
  playsTotals(request: Request): Promise<Response> {
    return this.#plays.playsTotals(request);
  }

  /** Play counts of one item, for dashboards and milestone backups (see {@link PlayCounts}). */
  playCounts(contentId: string): Promise<PlayCounts> {
    return this.#plays.playCounts(contentId);
  }

  /** Play counts of several items, in the order given, and their total. */
  playCountsMany(contentIds: readonly string[], options: { since?: Date } = {}): Promise<{ items: PlayCounts[]; total: Omit<PlayCounts, "contentId"> }> {
    return this.#plays.playCountsMany(contentIds, options);
  }

  /** Plays per UTC day and item (the catalogue export's plays-per-day.csv). */
  playsPerDay(contentIds: readonly string[]): Promise<{ day: string; contentId: string; plays: number }[]> {
    return this.#plays.playsPerDay(contentIds);
  }

  /** Counts a segment request (`?c=<contentId>`) as plays evidence; never throws (see plays.ts). */
  recordSegmentRequest(request: Request, pieceCid: string): Promise<SegmentPlay> {
    return this.#plays.recordSegmentRequest(request, pieceCid);
  }

  /**
   * The wallet signed in with this request's session cookie, or the 401 to answer: routes outside key
   * release (the studio's reads) are gated on the same SIWE session.
   */
  async signedInWallet(request: Request): Promise<Address | Response> {
    try {
      return (await this.#sessions.session(request)).wallet;
    } catch (error) {
      return failure(this.#log, error, "session");
    }
  }

  /** Closes the database if the service opened it (the key store and chain client belong to the caller). */
  async close(): Promise<void> {
    await this.#audit.idle();
    this.#keys.clear();
    if (this.#ownsDb) await this.#db.close();
  }
}

/** Creates the service, opening (and owning) a database unless one is passed. */
export async function createKeyReleaseService(options: KeyReleaseServiceOptions): Promise<KeyReleaseService> {
  const db = options.db ?? (await openKeyReleaseDb({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, pgliteWorker: options.pgliteWorker, schema: options.schema }));
  return new KeyReleaseService(options, db, options.db === undefined);
}
