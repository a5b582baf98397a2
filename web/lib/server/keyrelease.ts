/**
 * Mounts the key-release service (lib/keyrelease: SIWE sessions, content keys wrapped to the
 * browser's ephemeral key, pay-per-minute stream keys) in this server. One service per process,
 * created on first use; its Web Fetch handler answers the /api/auth/* and /api/keys/* routes.
 */
import { createPublicClient, http } from "viem";
import { CHAIN_ID, REPO_ROOT, RPC_URL, deployment } from "./config.ts";
import { repoImport } from "./repo-lib.ts";
import { keyStore as sharedKeyStore } from "./keystore.ts";
import { join, isAbsolute } from "node:path";

type KeyReleaseLib = typeof import("../../../lib/keyrelease/index.ts");

interface Service {
  handle(request: Request): Promise<Response>;
  /** The key-release database (stream_channels holds the best voucher per channel). */
  db: { query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> };
}

let service: Promise<Service> | undefined;

const dir = (value: string | undefined, fallback: string) => {
  const v = value || fallback;
  return isAbsolute(v) ? v : join(REPO_ROOT, v);
};

/** The origin the app is served from: SIWE messages must name it (WEB_ORIGIN, else 127.0.0.1:$PORT). */
export function webOrigin(): string {
  return (process.env.WEB_ORIGIN ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/$/, "");
}

async function create(): Promise<Service> {
  const [kr, keys] = await Promise.all([repoImport<KeyReleaseLib>("lib/keyrelease/index.ts"), sharedKeyStore()]);
  const origin = new URL(webOrigin());
  return (await kr.createKeyReleaseService({
    publicClient: createPublicClient({ transport: http(RPC_URL) }) as never,
    deployment: deployment() as never,
    keyStore: keys,
    siwe: { domain: origin.host, uri: origin.origin, chainId: CHAIN_ID, statement: "Sign in to StreamVault to play the content you unlocked." },
    dataDir: dir(process.env.KEYRELEASE_DIR, ".streamvault/keyrelease"),
  })) as unknown as Service;
}

/** The key-release service's own database handle (one PGlite per directory, so it is shared, and only read here). */
export async function keyReleaseDb(): Promise<Service["db"]> {
  service ??= create();
  try {
    return (await service).db;
  } catch (error) {
    service = undefined;
    throw error;
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
  return s.handle(request);
}
