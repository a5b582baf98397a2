/**
 * Content-key custody: each content key is sealed (envelope encryption) under a key-encryption
 * key derived from the server master key, and only the sealed form is stored in the database.
 *
 *   KEK    = HKDF-SHA256(ikm = master key (32 bytes), salt = "", info = "streamvault/kek/v1", 32 bytes)
 *   sealed = AES-256-GCM(KEK, random 12-byte nonce, aad = "streamvault/content-key/v1\0" || contentId UTF-8)
 *            stored as nonce (12) || ciphertext (32) || tag (16)
 * The AAD binds a sealed key to its content id: copying a row to another content id fails to unseal.
 * Each row, and the store itself (table key_store_master), records which master key sealed it
 * (HMAC of a fixed label under the KEK, so the check value says nothing about the key). After a
 * rotation, a server still running with the old master key is refused on every read and write
 * with what to do, instead of sealing new keys under a key the other servers no longer have.
 *
 * Backends: PGlite (embedded Postgres, default; on disk or in memory) or Postgres via `pg`
 * when DATABASE_URL is set. On disk, the first process to open the directory owns it and the others
 * query through it (lib/db/embedded.ts). Nothing here ever logs or stringifies a key.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { keyIdOf, KEY_BYTES } from "../crypto/segment.ts";
import { ensureSchema, openPglite, openPostgres, type SqlClient } from "../db/index.ts";
import { StreamVaultError } from "../errors.ts";
import { openEmbeddedDb } from "../db/embedded.ts";
import { sealToEscrow, type CreatorEscrow } from "./escrow.ts";

export * from "./escrow.ts";

/** The one key-store interface the CLI and web server use. */
export interface KeyStore {
  /**
   * Seal and store the key of a content item. Idempotent for the same key; refuses a different key for an existing id.
   * With `creator`, the key is also sealed to that creator's escrow public key when one is registered.
   */
  putKey(contentId: string, key: Uint8Array, creator?: string): Promise<void>;
  /** Unseal the key of a content item; undefined when none is stored. Throws KeyUnsealError when the row does not authenticate. */
  getKey(contentId: string): Promise<Uint8Array | undefined>;
  /** Whether a key is stored for the content item. */
  hasKey(contentId: string): Promise<boolean>;
  /**
   * Register (or replace) `creator`'s escrow public key (X25519, 32 bytes; lib/keys/escrow.ts) and seal
   * to it every stored key among `contentIds` (the creator's content, from the chain). Returns how many were sealed.
   */
  setEscrowKey(creator: string, publicKey: Uint8Array, contentIds: readonly string[]): Promise<{ escrowed: number }>;
  /** `creator`'s escrow public key and escrowed keys; undefined when no escrow is set up. */
  escrowOf(creator: string): Promise<CreatorEscrow | undefined>;
  /**
   * Re-seal every stored key under `newMasterKey`, in one statement (all or nothing); every key is
   * opened with the current master key first, so one that does not open changes nothing. Returns the count.
   */
  rotateMasterKey(newMasterKey: Uint8Array): Promise<number>;
  /** Release the database connection. */
  close(): Promise<void>;
}


/** A sealed key could not be opened: wrong master key, or the row was altered or moved to another content id. */
export class KeyUnsealError extends StreamVaultError {
  readonly contentId: string;
  constructor(contentId: string) {
    super("integrity", `content key for ${contentId} could not be unsealed: wrong STREAMVAULT_MASTER_KEY or tampered key row`);
    this.name = "KeyUnsealError";
    this.contentId = contentId;
  }
}

/**
 * This process's master key is not the one the key store is sealed under: the store was rotated
 * (`streamvault keys rotate-master-key`) while this process ran, or STREAMVAULT_MASTER_KEY is wrong.
 * A KeyUnsealError, so callers that handle a key that does not open handle this one too.
 */
export class MasterKeyMismatchError extends KeyUnsealError {
  constructor(contentId: string, detail: string) {
    super(contentId);
    this.message = `content key for ${contentId}: ${detail}`;
    this.name = "MasterKeyMismatchError";
  }
}

const RESTART_WITH_NEW_KEY = "this process's master key is not the key store's (it was rotated with `streamvault keys rotate-master-key`, or STREAMVAULT_MASTER_KEY is wrong): restart it with the current STREAMVAULT_MASTER_KEY";

/** putKey was called with a different key for a content id that already has one (re-keying would orphan stored segments). */
export class KeyConflictError extends StreamVaultError {
  readonly contentId: string;
  constructor(contentId: string) {
    super("conflict", `content ${contentId} already has a different key; refusing to overwrite it`);
    this.name = "KeyConflictError";
    this.contentId = contentId;
  }
}

const KEK_INFO = "streamvault/kek/v1";
const SEAL_AAD_PREFIX = "streamvault/content-key/v1\0";
const SEAL_NONCE_BYTES = 12;
const SEAL_TAG_BYTES = 16;

/** Derives the key-encryption key from the 32-byte master key. */
export function deriveKek(masterKey: Uint8Array): Uint8Array {
  if (masterKey.length !== 32) throw new RangeError("master key must be 32 bytes");
  return new Uint8Array(hkdfSync("sha256", masterKey, new Uint8Array(0), KEK_INFO, 32));
}

/** Which KEK sealed a row: HMAC-SHA256(KEK, label), 16 bytes hex. It does not reveal the KEK. */
export function kekCheckOf(kek: Uint8Array): string {
  return createHmac("sha256", kek).update("streamvault/kek-check/v1").digest("hex").slice(0, 32);
}

/** Seal a content key under the KEK, bound to `contentId`. Returns nonce||ciphertext||tag. */
export function sealKey(kek: Uint8Array, contentId: string, key: Uint8Array): Uint8Array {
  if (key.length !== KEY_BYTES) throw new RangeError(`content key must be ${KEY_BYTES} bytes`);
  const nonce = randomBytes(SEAL_NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", kek, nonce, { authTagLength: SEAL_TAG_BYTES });
  cipher.setAAD(Buffer.from(SEAL_AAD_PREFIX + contentId, "utf8"));
  return new Uint8Array(Buffer.concat([nonce, cipher.update(key), cipher.final(), cipher.getAuthTag()]));
}

/** Open a sealed content key; throws KeyUnsealError if it does not authenticate for `contentId`. */
export function unsealKey(kek: Uint8Array, contentId: string, sealed: Uint8Array): Uint8Array {
  try {
    const nonce = sealed.subarray(0, SEAL_NONCE_BYTES);
    const tag = sealed.subarray(sealed.length - SEAL_TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", kek, nonce, { authTagLength: SEAL_TAG_BYTES });
    decipher.setAAD(Buffer.from(SEAL_AAD_PREFIX + contentId, "utf8"));
    decipher.setAuthTag(tag);
    const key = Buffer.concat([decipher.update(sealed.subarray(SEAL_NONCE_BYTES, sealed.length - SEAL_TAG_BYTES)), decipher.final()]);
    return new Uint8Array(key);
  } catch {
    throw new KeyUnsealError(contentId);
  }
}

/**
 * The master key: STREAMVAULT_MASTER_KEY (64 hex chars) when set; otherwise (development) a random
 * key generated once and kept in `<dataDir>/master.key` with mode 0600.
 */
export async function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Uint8Array> {
  const fromEnv = env.STREAMVAULT_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!/^[0-9a-fA-F]{64}$/.test(fromEnv.trim())) throw new Error("STREAMVAULT_MASTER_KEY must be 64 hex characters (32 bytes)");
    return new Uint8Array(Buffer.from(fromEnv.trim(), "hex"));
  }
  const file = path.join(dataDir, "master.key");
  try {
    const text = (await readFile(file, "utf8")).trim();
    if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`${file} is not a 64-hex-character master key`);
    return new Uint8Array(Buffer.from(text, "hex"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // "wx" so two processes starting together cannot both write a different key.
  try {
    await writeFile(file, key.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return loadMasterKey(dataDir, env);
    throw err;
  }
  await chmod(file, 0o600);
  return new Uint8Array(key);
}

/** Minimal query surface shared by PGlite and pg. */

const SCHEMA = `CREATE TABLE IF NOT EXISTS content_keys (
  content_id TEXT PRIMARY KEY,
  key_id     TEXT NOT NULL,
  sealed_key BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS escrow_public_keys (
  creator    TEXT PRIMARY KEY,
  public_key BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS escrowed_keys (
  content_id TEXT PRIMARY KEY,
  creator    TEXT NOT NULL,
  sealed_key BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS escrowed_keys_creator ON escrowed_keys (creator);
ALTER TABLE content_keys ADD COLUMN IF NOT EXISTS kek_check TEXT;
CREATE TABLE IF NOT EXISTS key_store_master (
  id        INT PRIMARY KEY CHECK (id = 1),
  kek_check TEXT NOT NULL
)`;

/** KeyStore on any SQL client (PGlite or Postgres). */
class SqlKeyStore implements KeyStore {
  readonly #db: SqlClient;
  #kek: Uint8Array;
  #check: string;

  constructor(db: SqlClient, kek: Uint8Array) {
    this.#db = db;
    this.#kek = kek;
    this.#check = kekCheckOf(kek);
  }

  async init(): Promise<void> {
    await ensureSchema(this.#db, SCHEMA.split(";\n"));
    if ((await this.#storeCheck()) !== undefined) return;
    // A store from before the check existed: record this master key only if it opens a stored key,
    // so a process started with a wrong key cannot claim the store.
    const sample = (await this.#db.query<{ content_id: string; sealed_key: Uint8Array }>("SELECT content_id, sealed_key FROM content_keys LIMIT 1")).rows[0];
    if (sample !== undefined) unsealKey(this.#kek, sample.content_id, new Uint8Array(sample.sealed_key));
    await this.#db.query("INSERT INTO key_store_master (id, kek_check) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", [this.#check]);
  }

  async #storeCheck(): Promise<string | undefined> {
    return (await this.#db.query<{ kek_check: string }>("SELECT kek_check FROM key_store_master WHERE id = 1")).rows[0]?.kek_check;
  }

  async putKey(contentId: string, key: Uint8Array, creator?: string): Promise<void> {
    const sealed = sealKey(this.#kek, contentId, key);
    // Written only while the store is sealed under this process's master key (one statement, so a
    // rotation cannot slip between the check and the insert on one connection).
    const inserted = await this.#db.query<{ content_id: string }>(
      `INSERT INTO content_keys (content_id, key_id, sealed_key, kek_check)
       SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM key_store_master WHERE id = 1 AND kek_check = $4)
       ON CONFLICT (content_id) DO NOTHING RETURNING content_id`,
      [contentId, keyIdOf(key), sealed, this.#check],
    );
    if (inserted.rows.length === 0) {
      if ((await this.#storeCheck()) !== this.#check) throw new MasterKeyMismatchError(contentId, `not stored: ${RESTART_WITH_NEW_KEY}`);
      const existing = await this.getKey(contentId);
      if (existing === undefined || !Buffer.from(existing).equals(Buffer.from(key))) throw new KeyConflictError(contentId);
    }
    if (creator !== undefined) await this.#escrow(creator.toLowerCase(), contentId, key);
  }

  /** Seal `key` to the creator's escrow public key, if the creator has one. */
  async #escrow(creator: string, contentId: string, key: Uint8Array, publicKey?: Uint8Array): Promise<boolean> {
    const pub = publicKey ?? (await this.#db.query<{ public_key: Uint8Array }>("SELECT public_key FROM escrow_public_keys WHERE creator = $1", [creator])).rows[0]?.public_key;
    if (pub === undefined) return false;
    const sealed = await sealToEscrow(new Uint8Array(pub), contentId, creator, key);
    await this.#db.query(
      "INSERT INTO escrowed_keys (content_id, creator, sealed_key) VALUES ($1, $2, $3) ON CONFLICT (content_id) DO UPDATE SET creator = EXCLUDED.creator, sealed_key = EXCLUDED.sealed_key",
      [contentId, creator, sealed],
    );
    return true;
  }

  async setEscrowKey(creator: string, publicKey: Uint8Array, contentIds: readonly string[]): Promise<{ escrowed: number }> {
    if (publicKey.length !== 32) throw new RangeError("escrow public key must be 32 bytes (X25519)");
    const owner = creator.toLowerCase();
    // A replaced escrow key makes the old entries unopenable by the new one: they go, all keys are sealed again.
    await this.#db.query("DELETE FROM escrowed_keys WHERE creator = $1", [owner]);
    await this.#db.query(
      "INSERT INTO escrow_public_keys (creator, public_key) VALUES ($1, $2) ON CONFLICT (creator) DO UPDATE SET public_key = EXCLUDED.public_key, created_at = now()",
      [owner, publicKey],
    );
    let escrowed = 0;
    for (const contentId of contentIds) {
      const key = await this.getKey(contentId);
      if (key !== undefined && (await this.#escrow(owner, contentId, key, publicKey))) escrowed++;
    }
    return { escrowed };
  }

  async escrowOf(creator: string): Promise<CreatorEscrow | undefined> {
    const owner = creator.toLowerCase();
    const pub = (await this.#db.query<{ public_key: Uint8Array }>("SELECT public_key FROM escrow_public_keys WHERE creator = $1", [owner])).rows[0];
    if (pub === undefined) return undefined;
    const rows = await this.#db.query<{ content_id: string; sealed_key: Uint8Array }>("SELECT content_id, sealed_key FROM escrowed_keys WHERE creator = $1 ORDER BY content_id", [owner]);
    return { creator: owner, publicKey: new Uint8Array(pub.public_key), keys: rows.rows.map((r) => ({ contentId: r.content_id, sealed: new Uint8Array(r.sealed_key) })) };
  }

  async rotateMasterKey(newMasterKey: Uint8Array): Promise<number> {
    const newKek = deriveKek(newMasterKey);
    const newCheck = kekCheckOf(newKek);
    const store = await this.#storeCheck();
    if (store !== undefined && store !== this.#check && store !== newCheck) throw new MasterKeyMismatchError("(the store)", `nothing rotated: ${RESTART_WITH_NEW_KEY}`);
    const rows = (await this.#db.query<{ content_id: string; sealed_key: Uint8Array; kek_check: string | null }>("SELECT content_id, sealed_key, kek_check FROM content_keys ORDER BY content_id")).rows;
    // Open everything first: a row the current master key does not open aborts before any write.
    // Rows already under the new key (a rotation re-run to pick up a key a stale server wrote) stay.
    const params: unknown[] = [this.#check, newCheck];
    const values: string[] = [];
    for (const row of rows) {
      if (row.kek_check === newCheck && newCheck !== this.#check) continue;
      const key = unsealKey(this.#kek, row.content_id, new Uint8Array(row.sealed_key));
      params.push(row.content_id, sealKey(newKek, row.content_id, key));
      values.push(`($${params.length - 1}, $${params.length}::bytea)`);
    }
    // One statement is one transaction on both PGlite and Postgres: every row and the store's
    // record of its master key change together, or nothing does.
    const resealed = values.length === 0
      ? "SELECT NULL::text AS content_id WHERE false"
      : `UPDATE content_keys AS c SET sealed_key = v.sealed, kek_check = $2 FROM (VALUES ${values.join(", ")}) AS v(content_id, sealed) WHERE c.content_id = v.content_id RETURNING c.content_id`;
    const result = await this.#db.query<{ resealed: string }>(
      `WITH resealed AS (${resealed}),
            master AS (INSERT INTO key_store_master (id, kek_check) VALUES (1, $2) ON CONFLICT (id) DO UPDATE SET kek_check = EXCLUDED.kek_check WHERE key_store_master.kek_check IN ($1, $2) RETURNING 1)
       SELECT (SELECT count(*) FROM resealed)::text AS resealed, (SELECT count(*) FROM master)::text AS master`,
      params,
    );
    this.#kek = newKek;
    this.#check = newCheck;
    return Number(result.rows[0]?.resealed ?? 0);
  }

  async getKey(contentId: string): Promise<Uint8Array | undefined> {
    const result = await this.#db.query<{ sealed_key: Uint8Array; kek_check: string | null }>("SELECT sealed_key, kek_check FROM content_keys WHERE content_id = $1", [contentId]);
    const row = result.rows[0];
    if (row === undefined) return undefined;
    if (row.kek_check !== null && row.kek_check !== this.#check) {
      const store = await this.#storeCheck();
      throw new MasterKeyMismatchError(
        contentId,
        row.kek_check === store
          ? RESTART_WITH_NEW_KEY
          : "sealed under an earlier master key by a server that ran through a rotation: run `streamvault keys rotate-master-key` again with that earlier key as STREAMVAULT_MASTER_KEY and the current one as the new key",
      );
    }
    return unsealKey(this.#kek, contentId, new Uint8Array(row.sealed_key));
  }

  async hasKey(contentId: string): Promise<boolean> {
    const result = await this.#db.query<{ one: number }>("SELECT 1 AS one FROM content_keys WHERE content_id = $1", [contentId]);
    return result.rows.length > 0;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

export interface OpenKeyStoreOptions {
  /** Postgres URL; defaults to env DATABASE_URL. When set, Postgres (`pg`) is used instead of PGlite. */
  databaseUrl?: string;
  /** Directory for the PGlite database and the dev master key. Default `.streamvault/keys`. */
  dataDir?: string;
  /** Keep the PGlite database in memory (tests). The master key still comes from `masterKey`/env/dataDir. */
  inMemory?: boolean;
  /** Master key bytes (32); overrides env and the dev key file. */
  masterKey?: Uint8Array;
  /** Environment to read STREAMVAULT_MASTER_KEY / DATABASE_URL from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Open the key store: Postgres when a database URL is given/set, else embedded PGlite. */
export async function openKeyStore(options: OpenKeyStoreOptions = {}): Promise<KeyStore> {
  const env = options.env ?? process.env;
  const dataDir = options.dataDir ?? path.join(".streamvault", "keys");
  const masterKey = options.masterKey ?? (await loadMasterKey(dataDir, env));
  const kek = deriveKek(masterKey);
  const databaseUrl = options.databaseUrl ?? (env.DATABASE_URL || undefined);
  // On disk, one process owns the PGlite directory and the others (the CLI while the web server
  // runs) query through it, so a key one of them stores is at once visible to all (lib/db/embedded.ts).
  const pgliteDir = path.join(dataDir, "db");
  const db =
    databaseUrl !== undefined
      ? await openPostgres(databaseUrl)
      : options.inMemory === true
        ? await openPglite(undefined)
        : await openEmbeddedDb(pgliteDir, { open: () => openPglite(pgliteDir), what: "key store" });
  const store = new SqlKeyStore(db, kek);
  await store.init();
  return store;
}

