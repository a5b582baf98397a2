/**
 * Mounts the key-release service (lib/keyrelease: SIWE sessions, content keys wrapped to the
 * browser's ephemeral key, pay-per-minute stream keys) in this server. One service per process,
 * created on first use; its Web Fetch handler answers the /api/auth/* and /api/keys/* routes.
 */
import { createPublicClient, http, type Address } from "viem";
import type { BestVoucher, KeyReleaseService, PlayCounts } from "@streamvault/lib/keyrelease/service.ts";
import { CHAIN_ID, REPO_ROOT, RPC_URL, deployment, webOrigin } from "./config.ts";
import { keyStore as sharedKeyStore } from "./keystore.ts";
import { pieceStore } from "./store.ts";
import { join, isAbsolute } from "node:path";
import { clientAddressOf } from "./client-address.ts";
import type { NonceLedger } from "@streamvault/lib/signed-request/index.ts";

type Service = KeyReleaseService;
type KeyReleaseLib = typeof import("@streamvault/lib/keyrelease");

let service: Promise<Service> | undefined;
/** lib/keyrelease as the service loaded it: its setPeerAddress tags Requests for that module's limits. */
let keyReleaseLib: KeyReleaseLib | undefined;

/** Tags the request with the client address (web/server.ts + TRUSTED_PROXY_HOPS): per-address limits see each client, not one "unknown". */
function tagClient(request: Request): Request {
  keyReleaseLib?.setPeerAddress(request, clientAddressOf(request));
  return request;
}

const dir = (value: string | undefined, fallback: string) => {
  const v = value || fallback;
  return isAbsolute(v) ? v : join(REPO_ROOT, v);
};

export { webOrigin } from "./config.ts";

/** Origins of other sites that embed the SDK against this server (`SDK_ORIGINS`, comma-separated; see web/proxy.ts). */
export function sdkOrigins(): string[] {
  return (process.env.SDK_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim().replace(/\/$/, ""))
    .filter(Boolean);
}

async function create(): Promise<Service> {
  const [kr, keys, store] = await Promise.all([import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/keyrelease"), sharedKeyStore(), pieceStore()]);
  keyReleaseLib = kr;
  const origin = new URL(webOrigin());
  const publicClient = createPublicClient({ transport: http(RPC_URL) });
  return kr.createKeyReleaseService({
    publicClient,
    deployment: deployment(),
    // Segment requests of the media routes count as plays (see lib/keyrelease/service.ts PlayCounts).
    segmentResolver: new kr.ManifestSegmentResolver({ publicClient, deployment: deployment(), store }),
    keyStore: keys,
    siwe: { domain: origin.host, uri: origin.origin, chainId: CHAIN_ID, statement: "Sign in to StreamVault to play the content you unlocked." },
    // DATABASE_URL: sessions, nonces, rate limits, plays and vouchers shared by every instance on it;
    // otherwise embedded PGlite, owned by one process (lib/db/embedded.ts).
    databaseUrl: process.env.DATABASE_URL || undefined,
    // Sites embedding the SDK (SDK_ORIGINS) sign in and ask for keys from their own origin.
    allowedOrigins: [origin.origin, ...sdkOrigins()],
    dataDir: dir(process.env.KEYRELEASE_DIR, ".streamvault/keyrelease"),
    // KEYRELEASE_WALLET_RATE_LIMIT / KEYRELEASE_IP_RATE_LIMIT per KEYRELEASE_RATE_WINDOW s, counted in the shared database.
    rateLimits: kr.keyReleaseRateLimitsFromEnv(process.env),
  });
}

let nonces: Promise<NonceLedger> | undefined;

/** Used nonces of signed creator requests (lib/signed-request), in the key-release database (shared with DATABASE_URL). */
export function signedRequestNonces(): Promise<NonceLedger> {
  nonces ??= Promise.all([ready(), import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/signed-request/index.ts")]).then(([s, signed]) => signed.sqlNonceLedger(s.db));
  nonces.catch(() => (nonces = undefined));
  return nonces;
}

/** The best vouchers the key-release service kept for these channels (the creator's studio redeems them). */
export async function bestVouchers(channelIds: readonly (bigint | string)[]): Promise<BestVoucher[]> {
  return (await ready()).bestVouchers(channelIds);
}

async function ready(): Promise<Service> {
  service ??= create();
  try {
    return await service;
  } catch (error) {
    service = undefined;
    throw error;
  }
}

/** Plays evidence from a segment request served by the piece route (a no-op when the service cannot start). */
export async function recordSegmentPlay(request: Request, pieceCid: string): Promise<void> {
  if (!new URL(request.url).searchParams.has("c")) return;
  try {
    const s = await ready();
    await s.recordSegmentRequest(tagClient(request), pieceCid);
  } catch {
    // plays are best effort: a segment is never refused because counting failed
  }
}

/** Play counts of these items (the creator dashboard); undefined when the key-release service is unavailable. */
export async function playCounts(contentIds: readonly string[], options: { since?: Date } = {}): Promise<{ items: PlayCounts[]; total: Omit<PlayCounts, "contentId"> } | undefined> {
  if (contentIds.length === 0) return undefined;
  try {
    return await (await ready()).playCountsMany(contentIds, options);
  } catch (error) {
    console.error("play counts unavailable:", error);
    return undefined;
  }
}

/** Plays per UTC day and item, for the catalogue export; throws when the key-release service is unavailable. */
export async function playsPerDay(contentIds: readonly string[]): Promise<{ day: string; contentId: string; plays: number }[]> {
  return (await ready()).playsPerDay(contentIds);
}

/** Answers a key-release request; 503 with a JSON reason when the service cannot start. */
export async function keyRelease(request: Request): Promise<Response> {
  let s: Service;
  try {
    s = await ready();
  } catch (error) {
    console.error("key release unavailable:", error);
    return Response.json({ error: "key_release_unavailable", message: "key release is not available on this server" }, { status: 503 });
  }
  return s.handle(tagClient(request));
}

type RpcRateLimit = import("@streamvault/lib/http/rpc-proxy.ts").RpcRateLimit;
let rpcLimit: Promise<RpcRateLimit> | undefined;

/**
 * The /api/rpc per-address limit (RPC_PROXY_RATE_LIMIT calls per RPC_PROXY_RATE_WINDOW s), counted
 * in the key-release database's rate_limits table: shared by every instance with DATABASE_URL.
 */
export const rpcRateLimit: RpcRateLimit = async (clientKey, points) => {
  rpcLimit ??= Promise.all([ready(), import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/http/rpc-rate-limit.ts")]).then(([s, rl]) =>
    rl.sqlRpcRateLimit(s.db, rl.rpcRateLimitFromEnv()),
  );
  let limit: RpcRateLimit;
  try {
    limit = await rpcLimit;
  } catch (error) {
    rpcLimit = undefined;
    // The chain proxy keeps working when key release cannot start; it is then unlimited, and says so.
    console.error("RPC rate limit unavailable (key-release database did not start):", error);
    return null;
  }
  return limit(clientKey, points);
};

/**
 * The creator of a studio route (`/api/studio/:address/...`) when the request carries that
 * creator's SIWE session; otherwise the answer (400 bad address, 401, 403, 503). The studio's
 * reads cost the server chain scans and storage reads, and plays, costs and storage are the
 * creator's business.
 */
export async function studioCreator(request: Request, address: string): Promise<Address | Response> {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return Response.json({ error: "bad_address", message: "bad address: expected 0x followed by 40 hex characters" }, { status: 400 });
  const creator = address.toLowerCase() as Address;
  let s: Service;
  try {
    s = await ready();
  } catch {
    return Response.json({ error: "key_release_unavailable", message: "sign-in is not available on this server" }, { status: 503 });
  }
  const wallet = await s.signedInWallet(tagClient(request));
  if (wallet instanceof Response) return wallet;
  if (wallet.toLowerCase() !== creator) {
    return Response.json(
      { error: "wrong_wallet", message: `signed in as ${wallet}: this studio belongs to ${creator}; sign in with that wallet` },
      { status: 403, headers: { "cache-control": "no-store" } },
    );
  }
  return creator;
}
