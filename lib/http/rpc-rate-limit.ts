/**
 * The RPC proxy's per-client limit (lib/http/rpc-proxy.ts RpcRateLimit) on the key-release
 * database's `rate_limits` table (lib/keyrelease/ratelimit.ts): with DATABASE_URL every instance
 * counts against one limit; on embedded PGlite the owner process keeps the count.
 */
import { RateLimiterRes } from "rate-limiter-flexible";
import type { SqlClient } from "../db/index.ts";
import { createLimiter, type RateLimit } from "../keyrelease/ratelimit.ts";
import { positiveSetting, type RpcRateLimit } from "./rpc-proxy.ts";

/** Default: 1,200 calls a minute per client address (a page polls a few calls every few seconds). */
export const DEFAULT_RPC_RATE_LIMIT: RateLimit = { points: 1_200, durationSeconds: 60 };

/** RPC_PROXY_RATE_LIMIT calls per RPC_PROXY_RATE_WINDOW seconds. */
export function rpcRateLimitFromEnv(env: Record<string, string | undefined> = process.env): RateLimit {
  const positive = (name: string, fallback: number) => positiveSetting(env, name, fallback);
  return {
    points: positive("RPC_PROXY_RATE_LIMIT", DEFAULT_RPC_RATE_LIMIT.points),
    durationSeconds: positive("RPC_PROXY_RATE_WINDOW", DEFAULT_RPC_RATE_LIMIT.durationSeconds),
  };
}

/** A per-client RPC limit kept in `db` (rows "rpc:<address>" in rate_limits). */
export function sqlRpcRateLimit(db: SqlClient, limit: RateLimit): RpcRateLimit {
  const limiter = createLimiter(db, "rpc", limit);
  return async (clientKey, points) => {
    try {
      await limiter.consume(clientKey, points);
      return null;
    } catch (result) {
      if (result instanceof RateLimiterRes) return { retryAfterSeconds: result.msBeforeNext / 1000 };
      throw result;
    }
  };
}
