/**
 * Content-key release (`POST /api/keys/:contentId`): the content key, wrapped to the browser's
 * ephemeral key, for a signed-in wallet the access gate says has access now. Also the pieces the
 * stream release shares: unsealed keys (a cache of the key store: keys never change once stored,
 * and a key missing here is looked up again on every request, so one the CLI just stored is found)
 * and the wrapping.
 */
import type { Address, Hex } from "viem";
import { keyIdOf } from "../crypto/segment.ts";
import { KeyUnsealError, type KeyStore } from "../keys/index.ts";
import type { AuditLog } from "./audit.ts";
import type { AccessDecision, AccessGate } from "./gate.ts";
import { checkOrigin, CONTENT_ID, failure, json, pathParam, readJson, Refusal, type Logger } from "./http.ts";
import type { PlayLedger } from "./plays.ts";
import type { RequestLimits } from "./ratelimit.ts";
import type { Sessions } from "./sessions.ts";
import { importEphemeralPublicKey, InvalidPublicKeyError, wrapContentKey, type EphemeralPublicKey, type WrappedKey } from "./wrap.ts";
import { rawEphemeralPublicKey, wrapContentKeyNode } from "./wrap-node.ts";

/** `POST /api/keys/:contentId` success body. */
export interface KeyReleaseResponse {
  contentId: Hex;
  wallet: Address;
  access: { reason: string; expiresAt: string | null };
  /** Public id of the key (lib/crypto keyIdOf), to match the manifest; reveals nothing about the key. */
  keyId: string;
  wrapped: WrappedKey;
}

/** Unsealed content keys, cached for `cacheSeconds` (hits only: a missing key is asked for again). */
export class ContentKeys {
  readonly #store: KeyStore;
  readonly #cacheMs: number;
  readonly #log: Logger;
  readonly #cache = new Map<string, { key: Uint8Array; until: number }>();

  constructor(store: KeyStore, cacheSeconds: number, log: Logger) {
    this.#store = store;
    this.#cacheMs = cacheSeconds * 1000;
    this.#log = log;
  }

  /** A copy of the content key (callers wipe it after use); 404/500 refusals when there is none or it does not unseal. */
  async get(contentId: string): Promise<Uint8Array> {
    const now = Date.now();
    const cached = this.#cache.get(contentId);
    if (cached !== undefined && now < cached.until) return cached.key.slice();
    let key: Uint8Array | undefined;
    try {
      key = await this.#store.getKey(contentId);
    } catch (error) {
      if (error instanceof KeyUnsealError) {
        this.#log.error("content key could not be unsealed", { contentId });
        throw new Refusal(500, "key_unavailable", "the content key could not be opened on the server: contact support");
      }
      throw error;
    }
    if (key === undefined) throw new Refusal(404, "no_key", "no key is stored for this content: it has not been published to this server");
    if (this.#cacheMs > 0) {
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(contentId, { key: key.slice(), until: now + this.#cacheMs });
    }
    return key;
  }

  /** Wipes the cached keys. */
  clear(): void {
    this.#cache.forEach((entry) => entry.key.fill(0));
    this.#cache.clear();
  }
}

/** Wraps keys to a browser's ephemeral key with node:crypto ("node") or WebCrypto ("webcrypto"); same format. */
export class KeyWrapper {
  readonly #with: "node" | "webcrypto";

  constructor(wrapWith: "node" | "webcrypto") {
    this.#with = wrapWith;
  }

  async parse(value: unknown): Promise<CryptoKey | Uint8Array> {
    if (value === undefined || value === null) {
      throw new Refusal(400, "missing_public_key", "send ephemeralPublicKey: an ECDH P-256 public key, raw uncompressed base64url or a public JWK");
    }
    try {
      if (this.#with === "node") return rawEphemeralPublicKey(value as EphemeralPublicKey);
      return await importEphemeralPublicKey(value as EphemeralPublicKey);
    } catch (error) {
      if (error instanceof InvalidPublicKeyError) throw new Refusal(400, "bad_public_key", error.message);
      throw error;
    }
  }

  async wrap(key: Uint8Array, clientKey: CryptoKey | Uint8Array, contentId: string, wallet: string, label?: string): Promise<WrappedKey> {
    try {
      if (clientKey instanceof Uint8Array) return wrapContentKeyNode({ contentKey: key, clientPublicKey: clientKey, contentId, wallet, label });
      return await wrapContentKey({ contentKey: key, clientPublicKey: clientKey, contentId, wallet, label });
    } catch (error) {
      if (error instanceof InvalidPublicKeyError) throw new Refusal(400, "bad_public_key", error.message);
      throw error;
    }
  }
}

export interface ReleaseParts {
  sessions: Sessions;
  limits: RequestLimits;
  origins: ReadonlySet<string>;
  gate: AccessGate;
  keys: ContentKeys;
  wrapper: KeyWrapper;
  plays: PlayLedger;
  audit: AuditLog;
  log: Logger;
  now: () => number;
}

/**
 * The checks every key request starts with, in order: Origin, the per-address limit, the SIWE
 * session, the per-wallet limit, the content id, the JSON body. `onWallet` hears the wallet as soon
 * as the session names it, so a later refusal is audited with it.
 */
export async function openKeyRequest(
  p: Pick<ReleaseParts, "sessions" | "limits" | "origins">,
  request: Request,
  contentId: string | undefined,
  onWallet: (wallet: Address) => void,
): Promise<{ wallet: Address; contentId: Hex; body: Record<string, unknown> }> {
  checkOrigin(request, p.origins);
  await p.limits.limitIp(request);
  const { wallet } = await p.sessions.session(request);
  onWallet(wallet);
  await p.limits.limitWallet(wallet);
  if (contentId === undefined || !CONTENT_ID.test(contentId)) throw new Refusal(400, "bad_content_id", "content id must be 0x followed by 64 hex characters");
  return { wallet, contentId: contentId as Hex, body: await readJson(request) };
}

/** `POST /api/keys/:contentId` {ephemeralPublicKey} -> the content key wrapped to that key, if the chain grants access now. */
export async function releaseKey(p: ReleaseParts, request: Request): Promise<Response> {
  const ip = p.limits.ip(request);
  const contentIdParam = pathParam(request, /\/api\/keys\/([^/]+)\/?$/);
  let wallet: Address | null = null;
  try {
    const opened = await openKeyRequest(p, request, contentIdParam, (w) => (wallet = w));
    const { body, contentId } = opened;
    wallet = opened.wallet;
    const clientKey = await p.wrapper.parse(body.ephemeralPublicKey);

    let decision: AccessDecision;
    try {
      decision = await p.gate.check(wallet, contentId as Hex, p.now());
    } catch (error) {
      p.log.warn("access check failed", { contentId, wallet, error: String(error) });
      const what = p.gate.name === "chain" ? "could not read access from the chain" : `the ${p.gate.name} access backend did not answer`;
      throw new Refusal(503, "access_unavailable", `${what}: try again shortly`);
    }
    if (!decision.granted) {
      if (decision.unknownContent) throw new Refusal(404, "unknown_content", decision.denial ?? "unknown content: check the content id");
      throw new Refusal(403, "no_access", decision.denial ?? "no access: buy a pass or subscribe", { reason: decision.reason });
    }
    const key = await p.keys.get(contentId);
    const wrapped = await p.wrapper.wrap(key, clientKey, contentId, wallet);
    const keyId = keyIdOf(key);
    key.fill(0);
    const expiresAt = decision.expiresAt === null ? null : new Date(decision.expiresAt * 1000).toISOString();
    const now = p.now();
    const playStart = await p.plays.claimStart(wallet.toLowerCase(), contentId, now);
    await p.audit.writeWithPlay(
      { event: "release", outcome: "allowed", wallet, ip, contentId, reason: decision.reason, detail: { gate: p.gate.name, expiresAt } },
      { contentId, wallet, kind: "key-release", segments: 0, at: new Date(now), viewer: wallet.toLowerCase(), playStart },
    );
    p.log.info("key released", { contentId, wallet, reason: decision.reason });
    const response: KeyReleaseResponse = { contentId: contentId as Hex, wallet, access: { reason: decision.reason, expiresAt }, keyId, wrapped };
    return json(200, response);
  } catch (error) {
    await p.audit.denial(error, { event: "release", wallet, ip, contentId: contentIdParam ?? null });
    return failure(p.log, error, "release");
  }
}
