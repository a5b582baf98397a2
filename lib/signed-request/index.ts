/**
 * Single-use, body-bound signed requests: a creator action that costs the server work or storage
 * (an upload, a backup) carries a message signed by the creator's wallet (EIP-191) that names the
 * action, the wallet, a random nonce, the time, and the size + SHA-256 of every body it covers:
 *
 *   StreamVault upload
 *   Wallet: 0x…
 *   Nonce: 0x<32 hex>
 *   Time: <ISO time>
 *   Body: <size> <sha256 hex>        (one line per body; none for an action without a body)
 *
 * The server checks the message and signature BEFORE it reads a byte of the body (they travel in
 * headers), refuses a declared size over its limit at once, claims (nonce, body) in a shared ledger
 * so the same signed body is accepted once (across instances when the ledger is in Postgres), then
 * streams the body to disk while hashing it and counting bytes, and refuses at the first byte over
 * the declared size and at the end when the SHA-256 differs. One signature can cover several bodies
 * (one wallet prompt for a batch); each body is accepted once.
 *
 * Pure apart from the ledger's SQL and the file written: the caller adds its own checks (for
 * example that the wallet launched as a creator on chain).
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { getAddress, verifyMessage, type Address, type Hex } from "viem";
import { ensureSchema, type SqlClient } from "../db/index.ts";

export * from "./message.ts";
import { SIGNED_REQUEST_HEADER, SIGNATURE_HEADER, SIGNED_REQUEST_MAX_AGE_MS, parseSignedRequestMessage, type SignedBody, type SignedRequestFields } from "./message.ts";

export type VerifyResult = { ok: true; fields: SignedRequestFields } | { ok: false; status: 400 | 403; reason: string };

/**
 * Checks form, action, wallet, age and signature of a signed request (not single use: see
 * `claimSignedBody`). `wallet`, when given, is the wallet the request must come from.
 */
export async function verifySignedRequest(input: { message: unknown; signature: unknown; action: string; wallet?: Address; now?: number; maxAgeMs?: number }): Promise<VerifyResult> {
  const { action } = input;
  if (typeof input.message !== "string" || typeof input.signature !== "string" || !/^0x[0-9a-fA-F]+$/.test(input.signature)) {
    return { ok: false, status: 403, reason: `sign the ${action} request with your wallet` };
  }
  const message = input.message.replace(/\r\n/g, "\n");
  const fields = parseSignedRequestMessage(message);
  if (typeof fields === "string") return { ok: false, status: 403, reason: fields };
  if (fields.action !== action) return { ok: false, status: 403, reason: `the signed request is for "${fields.action}", not "${action}"` };
  if (input.wallet && getAddress(input.wallet) !== fields.wallet) return { ok: false, status: 403, reason: `the signed ${action} request names another wallet` };
  const at = Date.parse(fields.time);
  if (!Number.isFinite(at) || Math.abs((input.now ?? Date.now()) - at) > (input.maxAgeMs ?? SIGNED_REQUEST_MAX_AGE_MS)) {
    return { ok: false, status: 403, reason: `the signed ${action} request is too old: sign again` };
  }
  const valid = await verifyMessage({ address: fields.wallet, message, signature: input.signature as Hex }).catch(() => false);
  if (!valid) return { ok: false, status: 403, reason: `the ${action} signature does not match the wallet` };
  return { ok: true, fields };
}

/** Reads a signed request from its two headers (message base64). */
export function signedRequestFromHeaders(headers: Headers): { message: string | undefined; signature: string | undefined } {
  const encoded = headers.get(SIGNED_REQUEST_HEADER);
  let message: string | undefined;
  if (encoded) {
    try {
      message = Buffer.from(encoded, "base64").toString("utf8");
    } catch {
      message = undefined;
    }
  }
  return { message, signature: headers.get(SIGNATURE_HEADER) ?? undefined };
}

/** Where used nonces are remembered, so each signed body is accepted once. */
export interface NonceLedger {
  /** true when `key` was not claimed before (and is now, until `expiresAt`); false on a replay. */
  claim(key: string, expiresAt: Date): Promise<boolean>;
}

/** A ledger table in Postgres or PGlite: shared by every instance on the same database. */
export async function sqlNonceLedger(db: SqlClient, table = "signed_request_nonces"): Promise<NonceLedger> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`bad table name ${table}`);
  await ensureSchema(db, [`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL)`]);
  let lastSweep = 0;
  return {
    async claim(key, expiresAt) {
      if (Date.now() - lastSweep > 60_000) {
        lastSweep = Date.now();
        await db.query(`DELETE FROM ${table} WHERE expires_at < now()`);
      }
      const { rows } = await db.query<{ key: string }>(`INSERT INTO ${table} (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`, [key, expiresAt.toISOString()]);
      return rows.length === 1;
    },
  };
}

/**
 * Claims one body of a verified request: false when this (action, wallet, nonce, body) was
 * accepted before. The nonce is remembered for twice the validity window (clock skew both ways).
 */
export function claimSignedBody(ledger: NonceLedger, fields: SignedRequestFields, body: SignedBody | undefined): Promise<boolean> {
  const key = `${fields.action}:${fields.wallet.toLowerCase()}:${fields.nonce}:${body ? `${body.size}:${body.sha256}` : "-"}`;
  return ledger.claim(key, new Date(Date.parse(fields.time) + 2 * SIGNED_REQUEST_MAX_AGE_MS));
}

/** The body was larger than allowed (declared or counted while streaming). */
export class BodyTooLargeError extends Error {
  readonly status = 413;
  constructor(message: string) {
    super(message);
    this.name = "BodyTooLargeError";
  }
}

/** The body's bytes are not the ones signed (size or SHA-256). */
export class BodyMismatchError extends Error {
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = "BodyMismatchError";
  }
}

/**
 * Streams `body` into `file` while hashing and counting it: never more than `expected.size` bytes
 * are read (the stream is cancelled at the first byte over), and at the end the SHA-256 must be
 * the signed one. On any failure the file is removed. `onBytes` reports progress.
 */
export async function receiveSignedBody(body: ReadableStream<Uint8Array> | null, file: string, expected: SignedBody, onBytes?: (received: number) => void): Promise<void> {
  await receiveSignedBodies(body, [{ file, expected }], onBytes);
}

/**
 * Like `receiveSignedBody` for one request whose body is several signed bodies back to back (an
 * album's tracks, in order): each part goes to its own file, counted and hashed on its own, and
 * must be exactly its signed size and SHA-256. Nothing past the last part is read. On any failure
 * every part's file is removed. `onBytes` reports the bytes received over all parts.
 */
export async function receiveSignedBodies(body: ReadableStream<Uint8Array> | null, parts: readonly { file: string; expected: SignedBody }[], onBytes?: (received: number) => void): Promise<void> {
  const total = parts.reduce((sum, p) => sum + p.expected.size, 0);
  if (!body) throw new BodyMismatchError(`the request has no body; expected ${total} bytes`);
  const reader = body.getReader();
  const written: string[] = [];
  let received = 0;
  let pending: Uint8Array | undefined;
  try {
    for (const [index, { file, expected }] of parts.entries()) {
      const which = parts.length > 1 ? `part ${index + 1} of the body` : "the body";
      const hash = createHash("sha256");
      const out = createWriteStream(file, { flags: "wx", mode: 0o600 });
      written.push(file);
      let got = 0;
      try {
        while (got < expected.size) {
          let value = pending;
          pending = undefined;
          if (!value) {
            const chunk = await reader.read();
            if (chunk.done) break;
            value = chunk.value;
          }
          // A chunk may carry the end of this part and the start of the next.
          const take = Math.min(value.byteLength, expected.size - got);
          const mine = take === value.byteLength ? value : value.subarray(0, take);
          if (take < value.byteLength) pending = value.subarray(take);
          got += take;
          received += take;
          hash.update(mine);
          if (!out.write(mine)) await once(out, "drain");
          onBytes?.(received);
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      } catch (err) {
        out.destroy();
        throw err;
      }
      if (got !== expected.size) throw new BodyMismatchError(`${which} ended after ${got} of the ${expected.size} bytes signed for: send the whole file again`);
      if (index === parts.length - 1) {
        // Anything after the last part is more than was signed for: stop reading at once.
        const extra = pending ?? (await reader.read()).value;
        if (extra && extra.byteLength > 0) {
          await reader.cancel().catch(() => {});
          throw new BodyTooLargeError(`the body is longer than the ${total} bytes signed for: sign the file's real size`);
        }
      }
      const sha256 = hash.digest("hex");
      if (sha256 !== expected.sha256) throw new BodyMismatchError(`${which}'s SHA-256 is ${sha256}, not the ${expected.sha256} signed for: the file changed or was corrupted in transit; sign and send it again`);
    }
  } catch (err) {
    await Promise.all(written.map((f) => rm(f, { force: true })));
    throw err;
  } finally {
    reader.releaseLock();
  }
}
