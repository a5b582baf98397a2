/**
 * Sign-In with Ethereum: single-use nonces (`siwe_nonces`), verification, and sessions
 * (`sessions`, SHA-256 of the session id only). Both live in the database, so any instance sharing
 * it accepts a nonce once (consumed by one conditional UPDATE) and knows every session. The only
 * memory is a short cache of looked-up sessions (`sessionCacheSeconds`, default 5 s), which bounds
 * how late a logout on another instance takes effect here.
 */
import { createHash, randomBytes } from "node:crypto";
import { getAddress, isHex, type Address, type PublicClient } from "viem";
import { verifySiweMessage } from "viem/siwe";
import type { AuditLog } from "./audit.ts";
import type { SqlClient } from "./db.ts";
import { checkOrigin, failure, json, readJson, Refusal, sessionCookieValue, toDate, type Logger } from "./http.ts";
import { deleteExpiredLimits, type RequestLimits } from "./ratelimit.ts";
import { checkSiweFields, type SiweConfig } from "./siwe.ts";

export interface Session {
  wallet: Address;
  chainId: number;
}

export interface SessionsOptions {
  db: SqlClient;
  client: PublicClient;
  siwe: SiweConfig;
  ttlSeconds: number;
  cookieName: string;
  origins: ReadonlySet<string>;
  sessionCacheSeconds: number;
  limits: RequestLimits;
  audit: AuditLog;
  now: () => number;
  log: Logger;
}

export function hashSessionId(id: string): string {
  return createHash("sha256").update("streamvault/session/v1\0").update(id).digest("hex");
}

export class Sessions {
  readonly #o: SessionsOptions;
  readonly #cache = new Map<string, { session: Session; expiresAtMs: number; trustedUntilMs: number }>();
  #issued = 0;

  constructor(options: SessionsOptions) {
    this.#o = options;
  }

  get cookieName(): string {
    return this.#o.cookieName;
  }

  /** `GET /api/auth/nonce` -> the fields to put in the SIWE message (single-use nonce with expiry). */
  async nonce(request: Request): Promise<Response> {
    const { db, siwe } = this.#o;
    try {
      await this.limitIp(request);
      const now = this.#o.now();
      // 128 bits from the CSPRNG, as 32 hex characters (SIWE nonces are alphanumeric, >= 8). Not
      // viem's generateSiweNonce: it slides a window over one Math.random buffer, so each nonce is
      // the previous one shifted by a character.
      const nonce = randomBytes(16).toString("hex");
      const expiresAt = new Date(now + (siwe.nonceTtlSeconds ?? 300) * 1000);
      await db.query("INSERT INTO siwe_nonces (nonce, issued_at, expires_at) VALUES ($1, $2, $3)", [nonce, new Date(now), expiresAt]);
      if (++this.#issued % 256 === 0) {
        await db.query("DELETE FROM siwe_nonces WHERE expires_at < $1", [new Date(now - 3_600_000)]);
        await deleteExpiredLimits(db, Date.now());
      }
      return json(200, {
        nonce,
        domain: siwe.domain,
        uri: siwe.uri,
        chainId: siwe.chainId,
        version: "1",
        statement: siwe.statement ?? "Sign in to StreamVault",
        issuedAt: new Date(now).toISOString(),
        expirationTime: expiresAt.toISOString(),
      });
    } catch (error) {
      return failure(this.#o.log, error, "nonce");
    }
  }

  /** `POST /api/auth/verify` {message, signature} -> session cookie. */
  async verify(request: Request): Promise<Response> {
    const { db, siwe } = this.#o;
    const ip = this.ip(request);
    let wallet: string | null = null;
    try {
      checkOrigin(request, this.#o.origins);
      await this.limitIp(request);
      const body = await readJson(request);
      const message = body.message;
      const signature = body.signature;
      if (typeof message !== "string" || message.length > 4096 || typeof signature !== "string" || !isHex(signature)) {
        throw new Refusal(400, "bad_request", "send JSON {message: SIWE message string, signature: 0x-hex}");
      }
      const now = this.#o.now();
      const fields = checkSiweFields(message, siwe, now);
      if (!fields.ok) throw new Refusal(fields.code === "malformed_message" ? 400 : 401, fields.code, fields.message);
      wallet = fields.address;
      const nonceRow = (await db.query<{ used_at: unknown; expires_at: unknown }>("SELECT used_at, expires_at FROM siwe_nonces WHERE nonce = $1", [fields.nonce])).rows[0];
      if (nonceRow === undefined) throw new Refusal(401, "unknown_nonce", "unknown nonce: get one from GET /api/auth/nonce and sign again");
      if (nonceRow.used_at !== null) throw new Refusal(401, "nonce_used", "nonce already used: get a new nonce and sign again");
      if (toDate(nonceRow.expires_at).getTime() <= now) throw new Refusal(401, "nonce_expired", "nonce expired: get a new nonce and sign again");
      const valid = await verifySiweMessage(this.#o.client, {
        message,
        signature,
        domain: siwe.domain,
        nonce: fields.nonce,
        address: fields.address,
        time: new Date(now),
        blockTag: "latest",
      });
      if (!valid) throw new Refusal(401, "bad_signature", "signature does not match the address in the message: sign with that wallet");
      // Single use, atomically: of two concurrent verifications of one message (on any instances
      // sharing the database) only one gets the row.
      const consumed = await db.query("UPDATE siwe_nonces SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL AND expires_at > $2 RETURNING nonce", [fields.nonce, new Date(now)]);
      if (consumed.rows.length === 0) throw new Refusal(401, "nonce_used", "nonce already used: get a new nonce and sign again");

      const sessionId = randomBytes(32).toString("base64url");
      const expiresAt = new Date(now + this.#o.ttlSeconds * 1000);
      await db.query("INSERT INTO sessions (id_hash, wallet, chain_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)", [
        hashSessionId(sessionId),
        fields.address,
        siwe.chainId,
        new Date(now),
        expiresAt,
      ]);
      await this.#o.audit.write({ event: "sign-in", outcome: "allowed", wallet, ip, reason: "signed-in" });
      this.#o.log.info("signed in", { wallet });
      return json(200, { wallet, chainId: siwe.chainId, expiresAt: expiresAt.toISOString() }, { "set-cookie": this.sessionCookie(sessionId) });
    } catch (error) {
      if (error instanceof Refusal && error.status !== 429) await this.#o.audit.write({ event: "sign-in", outcome: "denied", wallet, ip, reason: error.reason }).catch(() => {});
      return failure(this.#o.log, error, "verify");
    }
  }

  /** `POST /api/auth/logout` -> revokes the session, clears the cookie. */
  async logout(request: Request): Promise<Response> {
    try {
      checkOrigin(request, this.#o.origins);
      const id = sessionCookieValue(request, this.#o.cookieName);
      if (id !== undefined) {
        this.#cache.delete(hashSessionId(id));
        const revoked = await this.#o.db.query<{ wallet: string }>("UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL RETURNING wallet", [
          hashSessionId(id),
          new Date(this.#o.now()),
        ]);
        const row = revoked.rows[0];
        if (row !== undefined) await this.#o.audit.write({ event: "logout", outcome: "allowed", wallet: row.wallet, ip: this.ip(request), reason: "signed-out" });
      }
      return json(200, { signedOut: true }, { "set-cookie": this.sessionCookie("", 0) });
    } catch (error) {
      return failure(this.#o.log, error, "logout");
    }
  }

  /**
   * `GET /api/auth/session` -> `{ wallet, chainId }` of the signed-in session, or `{ wallet: null }`:
   * lets a page sign in before its first gated read instead of provoking a 401.
   */
  async current(request: Request): Promise<Response> {
    try {
      const session = await this.session(request);
      return json(200, { wallet: session.wallet, chainId: session.chainId }, { "cache-control": "no-store" });
    } catch (error) {
      if (error instanceof Refusal && error.status === 401) return json(200, { wallet: null, reason: error.reason }, { "cache-control": "no-store" });
      return failure(this.#o.log, error, "session");
    }
  }

  /** The Set-Cookie value carrying a session id: httpOnly, Secure, SameSite=Strict. */
  sessionCookie(sessionId: string, maxAgeSeconds = this.#o.ttlSeconds): string {
    return `${this.#o.cookieName}=${sessionId}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
  }

  /** Whether the request carries a session cookie (valid or not). */
  hasCookie(request: Request): boolean {
    return sessionCookieValue(request, this.#o.cookieName) !== undefined;
  }

  /** The signed-in session of the request; a 401 refusal that says what to do otherwise. */
  async session(request: Request): Promise<Session> {
    const id = sessionCookieValue(request, this.#o.cookieName);
    if (id === undefined) throw new Refusal(401, "not_signed_in", "not signed in: sign in with your wallet (GET /api/auth/nonce, then POST /api/auth/verify)");
    const idHash = hashSessionId(id);
    const now = this.#o.now();
    const cached = this.#cache.get(idHash);
    if (cached !== undefined && now < cached.trustedUntilMs) {
      if (cached.expiresAtMs <= now) throw new Refusal(401, "session_expired", "session expired: sign in again");
      return cached.session;
    }
    this.#cache.delete(idHash);
    const row = (await this.#o.db.query<{ wallet: string; chain_id: number; expires_at: unknown; revoked_at: unknown }>(
      "SELECT wallet, chain_id, expires_at, revoked_at FROM sessions WHERE id_hash = $1",
      [idHash],
    )).rows[0];
    if (row === undefined) throw new Refusal(401, "not_signed_in", "unknown session: sign in again");
    if (row.revoked_at !== null) throw new Refusal(401, "session_ended", "session ended (signed out): sign in again");
    const expiresAtMs = toDate(row.expires_at).getTime();
    if (expiresAtMs <= now) throw new Refusal(401, "session_expired", "session expired: sign in again");
    if (Number(row.chain_id) !== this.#o.siwe.chainId) throw new Refusal(401, "wrong_chain", "session is for another chain: sign in again");
    const session = { wallet: getAddress(row.wallet), chainId: Number(row.chain_id) };
    const cacheMs = this.#o.sessionCacheSeconds * 1000;
    if (cacheMs > 0) {
      if (this.#cache.size >= 100_000) this.#cache.clear();
      this.#cache.set(idHash, { session, expiresAtMs, trustedUntilMs: now + cacheMs });
    }
    return session;
  }

  ip(request: Request): string {
    return this.#o.limits.ip(request);
  }

  limitIp(request: Request): Promise<void> {
    return this.#o.limits.limitIp(request);
  }
}
