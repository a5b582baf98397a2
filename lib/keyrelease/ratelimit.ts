/**
 * Rate limits kept in the key-release database (rate-limiter-flexible's RateLimiterPostgres on
 * the `rate_limits` table), so every instance sharing a Postgres database counts against one
 * limit; on the embedded default (PGlite, one owner process) the same store is used. A key over its
 * limit is also blocked in this instance's memory until its window ends (inMemoryBlockOnConsumed):
 * a flooding client then costs no database writes. That memory only ever refuses what the shared
 * count already refused.
 */
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import type { SqlClient } from "./db.ts";
import { clientIp, Refusal } from "./http.ts";
import { positiveSetting } from "../http/rpc-proxy.ts";

export interface RateLimit {
  /** Requests allowed per window. */
  points: number;
  /** Window length, seconds. */
  durationSeconds: number;
}

/** Default key-release limits: key requests per wallet, and requests per client address. */
export const DEFAULT_KEY_RELEASE_RATE_LIMITS = { wallet: { points: 60, durationSeconds: 60 }, ip: { points: 300, durationSeconds: 60 } } satisfies { wallet: RateLimit; ip: RateLimit };

/**
 * The limits from the environment: KEYRELEASE_WALLET_RATE_LIMIT key requests per wallet and
 * KEYRELEASE_IP_RATE_LIMIT requests per client address, each per KEYRELEASE_RATE_WINDOW seconds.
 */
export function keyReleaseRateLimitsFromEnv(env: Record<string, string | undefined> = process.env): { wallet: RateLimit; ip: RateLimit } {
  const d = DEFAULT_KEY_RELEASE_RATE_LIMITS;
  const window = positiveSetting(env, "KEYRELEASE_RATE_WINDOW", d.wallet.durationSeconds);
  return {
    wallet: { points: positiveSetting(env, "KEYRELEASE_WALLET_RATE_LIMIT", d.wallet.points), durationSeconds: window },
    ip: { points: positiveSetting(env, "KEYRELEASE_IP_RATE_LIMIT", d.ip.points), durationSeconds: window },
  };
}

/** The table rate-limiter-flexible expects (created with the other tables, db.ts SCHEMA). */
export const RATE_LIMIT_TABLE = "rate_limits";

export type Limiter = RateLimiterPostgres;

/** A limiter on `db` (rows keyed "<prefix>:<key>" in rate_limits). */
export function createLimiter(db: SqlClient, prefix: string, limit: RateLimit): Limiter {
  // rate-limiter-flexible calls query({text, values, name}) and reads rows/rowCount: our SqlClient behind that shape.
  const storeClient = {
    query: async (q: { text: string; values?: unknown[] }) => {
      const result = await db.query(q.text, q.values);
      return { rows: result.rows, rowCount: result.rows.length };
    },
  };
  return new RateLimiterPostgres({
    storeClient,
    storeType: "client",
    tableName: RATE_LIMIT_TABLE,
    tableCreated: true,
    clearExpiredByTimeout: false, // expired rows are deleted by the service (sessions.ts, with expired nonces)
    keyPrefix: prefix,
    points: limit.points,
    duration: limit.durationSeconds,
    inMemoryBlockOnConsumed: limit.points + 1,
    inMemoryBlockDuration: 0, // blocked for the rest of the window (msBeforeNext)
  });
}

/** Consumes a point of `key`; a 429 refusal with Retry-After when the limit is reached. */
export async function consume(limiter: Limiter, key: string, what: string): Promise<void> {
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

/** Whether `key` may consume a point (false past the limit); for counting that must never fail a request. */
export async function tryConsume(limiter: Limiter, key: string): Promise<boolean> {
  try {
    await limiter.consume(key);
    return true;
  } catch (result) {
    if (result instanceof RateLimiterRes) return false;
    throw result;
  }
}

/** Deletes rows whose window ended over an hour ago. */
export async function deleteExpiredLimits(db: SqlClient, nowMs: number): Promise<void> {
  await db.query(`DELETE FROM ${RATE_LIMIT_TABLE} WHERE expire < $1`, [nowMs - 3_600_000]);
}

/** The limits every handler applies: per client address on all requests, per wallet on key requests. */
export class RequestLimits {
  readonly #ip: Limiter;
  readonly #wallet: Limiter;
  readonly #trustedProxyHops: number;

  constructor(db: SqlClient, limits: { wallet: RateLimit; ip: RateLimit }, trustedProxyHops: number) {
    this.#wallet = createLimiter(db, "wallet", limits.wallet);
    this.#ip = createLimiter(db, "ip", limits.ip);
    this.#trustedProxyHops = trustedProxyHops;
  }

  /** The client address of a request (see clientIp in http.ts). */
  ip(request: Request): string {
    return clientIp(request, this.#trustedProxyHops);
  }

  async limitIp(request: Request): Promise<void> {
    await consume(this.#ip, this.ip(request), "too many requests from your address");
  }

  async limitWallet(wallet: string): Promise<void> {
    await consume(this.#wallet, wallet.toLowerCase(), "too many key requests for this wallet");
  }
}
