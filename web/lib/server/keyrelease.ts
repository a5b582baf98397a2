/**
 * Mounts the key-release service (lib/keyrelease: SIWE sessions, content keys wrapped to the
 * browser's ephemeral key, pay-per-minute stream keys) in this server. One service per process,
 * created on first use; its Web Fetch handler answers the /api/auth/* and /api/keys/* routes.
 */
import { createPublicClient, http } from "viem";
import { CHAIN_ID, REPO_ROOT, RPC_URL, deployment } from "./config.ts";
import { repoImport } from "./repo-lib.ts";
import { keyStore as sharedKeyStore } from "./keystore.ts";
import { pieceStore } from "./store.ts";
import { join, isAbsolute } from "node:path";
import { clientAddressOf } from "./client-address.ts";
import { SqlNonceStore } from "../../../lib/http/signed-request-nonces.ts";

type KeyReleaseLib = typeof import("../../../lib/keyrelease/index.ts");

type PlayCounts = import("../../../lib/keyrelease/service.ts").PlayCounts;

interface Service {
  handle(request: Request): Promise<Response>;
  /** Counts a segment request (`?c=<contentId>` on the piece URL) as plays evidence; never throws. */
  recordSegmentRequest(request: Request, pieceCid: string): Promise<{ counted: boolean; playStart: boolean; reason: string }>;
  playCountsMany(contentIds: readonly string[], options?: { since?: Date }): Promise<{ items: PlayCounts[]; total: Omit<PlayCounts, "contentId"> }>;
  /** The best voucher received per channel of the current deployment (never another chain's with the same ids). */
  bestVouchers(channelIds: readonly (bigint | string)[]): Promise<BestVoucher[]>;
  /** The wallet of the request's SIWE session cookie, or the 401 to answer. */
  signedInWallet(request: Request): Promise<string | Response>;
  /** The key-release database (shared by every instance with DATABASE_URL). */
  readonly db: import("../../../lib/db/index.ts").SqlClient;
}

type BestVoucher = import("../../../lib/keyrelease/service.ts").BestVoucher;

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

/** The origin the app is served from: SIWE messages must name it (WEB_ORIGIN, else 127.0.0.1:$PORT). */
export function webOrigin(): string {
  return (process.env.WEB_ORIGIN ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/$/, "");
}

async function create(): Promise<Service> {
  const [kr, keys, store] = await Promise.all([repoImport<KeyReleaseLib>("lib/keyrelease/index.ts"), sharedKeyStore(), pieceStore()]);
  keyReleaseLib = kr;
  const origin = new URL(webOrigin());
  const publicClient = createPublicClient({ transport: http(RPC_URL) }) as never;
  return (await kr.createKeyReleaseService({
    publicClient,
    deployment: deployment() as never,
    // Segment requests of the media routes count as plays (see lib/keyrelease/service.ts PlayCounts).
    segmentResolver: new kr.ManifestSegmentResolver({ publicClient, deployment: deployment() as never, store }),
    keyStore: keys,
    siwe: { domain: origin.host, uri: origin.origin, chainId: CHAIN_ID, statement: "Sign in to StreamVault to play the content you unlocked." },
    dataDir: dir(process.env.KEYRELEASE_DIR, ".streamvault/keyrelease"),
  })) as unknown as Service;
}

let nonces: SqlNonceStore | undefined;

/** Consumed nonces of signed creator requests (lib/http/signed-request.ts), in the key-release database. */
export async function signedRequestNonces(): Promise<SqlNonceStore> {
  const s = await ready();
  nonces ??= new SqlNonceStore(s.db);
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

/** Answers a key-release request; 503 with a JSON reason when the service cannot start. */
export async function keyRelease(request: Request): Promise<Response> {
  service ??= create();
  let s: Service;
  try {
    s = await service;
  } catch (error) {
    service = undefined;
    console.error("key release unavailable:", error);
    return Response.json({ error: "key_release_unavailable", message: "key release is not available on this server" }, { status: 503 });
  }
  return s.handle(tagClient(request));
}

/**
 * null when the request carries the SIWE session of `creator` (the key-release session cookie);
 * otherwise the answer: 401 (not signed in), 403 (signed in as another wallet), 503.
 * The studio's reads (exports, backups, stream scans) cost the server work and show a creator's data.
 */
export async function requireCreatorSession(request: Request, creator: string): Promise<Response | null> {
  let s: Service;
  try {
    s = await ready();
  } catch {
    return Response.json({ error: "key_release_unavailable", message: "sign-in is not available on this server" }, { status: 503 });
  }
  const wallet = await s.signedInWallet(tagClient(request));
  if (wallet instanceof Response) return wallet;
  if (wallet.toLowerCase() !== creator.toLowerCase()) {
    return Response.json(
      { error: "wrong_wallet", message: `signed in as ${wallet}: this studio belongs to ${creator}; sign in with that wallet` },
      { status: 403, headers: { "cache-control": "no-store" } },
    );
  }
  return null;
}
