/**
 * Key-release state: SIWE nonces, sessions, the audit log, plays and play windows, the anonymous
 * salt, rate limits and pay-per-minute channel progress (minutes released, best vouchers). PGlite (embedded Postgres) by default, on disk or in memory; Postgres via `pg` when a
 * connection string is given (same helper style as lib/keys). Nothing here stores key material:
 * session ids are stored as SHA-256 hashes, so a database dump does not yield live cookies.
 */
import { Worker } from "node:worker_threads";
import { ensureSchema, openPglite, openPostgres, SqlError, type SqlClient } from "../db/index.ts";
import { openEmbeddedDb } from "../db/embedded.ts";

/** Minimal query surface shared by PGlite and pg. */
export type { SqlClient };
/** Thrown for a failed query in the PGlite worker or on the embedded database's owner; carries the Postgres error code. */
export { SqlError };

export const SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS siwe_nonces (
    nonce      TEXT PRIMARY KEY,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
  )`,
  `CREATE TABLE IF NOT EXISTS sessions (
    id_hash    TEXT PRIMARY KEY,
    wallet     TEXT NOT NULL,
    chain_id   INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
  )`,
  `CREATE TABLE IF NOT EXISTS audit_log (
    id         BIGSERIAL PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    event      TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    wallet     TEXT,
    ip         TEXT,
    content_id TEXT,
    channel_id TEXT,
    reason     TEXT NOT NULL,
    detail     JSONB
  )`,
  `CREATE INDEX IF NOT EXISTS audit_log_wallet ON audit_log (wallet, at)`,
  `CREATE INDEX IF NOT EXISTS audit_log_content ON audit_log (content_id, at)`,
  `CREATE TABLE IF NOT EXISTS plays (
    id         BIGSERIAL PRIMARY KEY,
    content_id TEXT NOT NULL,
    wallet     TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('key-release', 'segment')),
    segments   INTEGER NOT NULL DEFAULT 0,
    at         TIMESTAMPTZ NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX IF NOT EXISTS plays_content ON plays (content_id, at)`,
  // Plays evidence from segment requests (anonymous viewers have no wallet) and play starts (see
  // PLAYS in service.ts). Rows written before these columns existed: each key release was a play.
  `ALTER TABLE plays ADD COLUMN IF NOT EXISTS viewer TEXT`,
  `ALTER TABLE plays ADD COLUMN IF NOT EXISTS play_start BOOLEAN NOT NULL DEFAULT false`,
  `ALTER TABLE plays ALTER COLUMN wallet DROP NOT NULL`,
  `UPDATE plays SET viewer = lower(wallet), play_start = (kind = 'key-release') WHERE viewer IS NULL`,
  `ALTER TABLE plays DROP CONSTRAINT IF EXISTS plays_kind_check`,
  `ALTER TABLE plays ADD CONSTRAINT plays_kind_check CHECK (kind IN ('key-release', 'segment', 'segment-request'))`,
  `CREATE INDEX IF NOT EXISTS plays_starts ON plays (viewer, content_id, at) WHERE play_start`,
  // One row per channel of one deployment: `deployment` is ChannelReader.deploymentId() (chain id and
  // the PaymentChannels deployment block's hash), since a chain recreated from genesis brings back
  // the same contract address and channel ids. '' marks rows written before it was recorded (the
  // service assigns them to the first deployment it runs on); the key used to be (contract, channel_id).
  `CREATE TABLE IF NOT EXISTS stream_channels (
    deployment         TEXT NOT NULL DEFAULT '',
    contract           TEXT NOT NULL,
    channel_id         TEXT NOT NULL,
    content_id         TEXT NOT NULL,
    viewer             TEXT NOT NULL,
    rate_per_minute    NUMERIC(78, 0) NOT NULL,
    delivered_segments INTEGER NOT NULL DEFAULT 0,
    last_amount        NUMERIC(78, 0) NOT NULL DEFAULT 0,
    last_signature     TEXT,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
  )`,
  `ALTER TABLE stream_channels ADD COLUMN IF NOT EXISTS deployment TEXT NOT NULL DEFAULT ''`,
  `ALTER TABLE stream_channels DROP CONSTRAINT IF EXISTS stream_channels_pkey`,
  `CREATE UNIQUE INDEX IF NOT EXISTS stream_channels_key ON stream_channels (deployment, contract, channel_id)`,
  // The minute windows released on the channel (what the viewer pays for: a late joiner or a VOD
  // seek pays for the minutes received, not from minute 0). Rows from before it was kept had
  // minutes 0..delivered/6-1 (releases were contiguous from 0 then).
  `ALTER TABLE stream_channels ADD COLUMN IF NOT EXISTS released_minutes INTEGER[]`,
  `ALTER TABLE stream_channels ALTER COLUMN released_minutes SET DEFAULT '{}'`,
  `UPDATE stream_channels SET released_minutes = ARRAY(SELECT generate_series(0, delivered_segments / 6 - 1)) WHERE released_minutes IS NULL`,
  `ALTER TABLE stream_channels ALTER COLUMN released_minutes SET NOT NULL`,
  // The last play start per viewer and item (plays.ts PlayLedger.claimStart): claimed by one
  // conditional upsert, so instances sharing the database start a play once. Seeded once from the
  // play starts of `plays` (a table from before it existed).
  `CREATE TABLE IF NOT EXISTS play_windows (
    viewer     TEXT NOT NULL,
    content_id TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (viewer, content_id)
  )`,
  `INSERT INTO play_windows (viewer, content_id, started_at)
     SELECT viewer, content_id, max(at) FROM plays
      WHERE play_start AND viewer IS NOT NULL AND NOT EXISTS (SELECT 1 FROM play_windows)
      GROUP BY viewer, content_id
   ON CONFLICT DO NOTHING`,
  // The anonymous-viewer salt of each UTC day (plays.ts), written by the first instance that needs it.
  `CREATE TABLE IF NOT EXISTS anonymous_salts (
    day  DATE PRIMARY KEY,
    salt BYTEA NOT NULL
  )`,
  // rate-limiter-flexible's RateLimiterPostgres table (ratelimit.ts): key "<prefix>:<key>", expire in ms.
  `CREATE TABLE IF NOT EXISTS rate_limits (
    key    VARCHAR(255) PRIMARY KEY,
    points INTEGER NOT NULL DEFAULT 0,
    expire BIGINT
  )`,
];

export interface OpenDatabaseOptions {
  /** Postgres URL; when set, `pg` is used instead of PGlite. */
  databaseUrl?: string;
  /** PGlite data directory; omitted = in memory. */
  dataDir?: string;
  /** Run PGlite in a worker thread (default true): its WebAssembly then does not block the HTTP event loop. */
  pgliteWorker?: boolean;
  /** Postgres schema holding the tables (default "keyrelease"), so names like `sessions` cannot clash with other components sharing the database. */
  schema?: string;
}

/** Opens the key-release database (Postgres when a URL is given, else PGlite) and creates the tables. */
export async function openKeyReleaseDb(options: OpenDatabaseOptions = {}): Promise<SqlClient> {
  const schema = options.schema ?? "keyrelease";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name "${schema}"`);
  const openLocal = () =>
    options.pgliteWorker === false
      ? openPglite(options.dataDir)
      : openPgliteWorker(options.dataDir).catch((error: unknown) => {
          // A host that cannot start a .ts worker (e.g. a bundler rewriting paths) still gets a database.
          console.warn(JSON.stringify({ level: "warn", message: "PGlite worker unavailable; running PGlite on the main thread", error: String(error) }));
          return openPglite(options.dataDir);
        });
  // On disk, one process owns the directory and every other opener queries through it (lib/db/embedded.ts).
  const db = options.databaseUrl
    ? await openPostgres(options.databaseUrl, { max: 8, searchPath: schema })
    : options.dataDir !== undefined
      ? await openEmbeddedDb(options.dataDir, { open: openLocal, what: "key-release database" })
      : await openLocal();
  try {
    await ensureSchema(db, [`CREATE SCHEMA IF NOT EXISTS ${schema}`]);
    // PGlite is one session (also through its owner's socket): setting the path once holds for every
    // later query. Postgres pool connections get it from the connection options (openPostgres).
    if (!options.databaseUrl) await db.query(`SET search_path TO ${schema}`);
    await ensureSchema(db, SCHEMA);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return db;
}


async function openPgliteWorker(dir: string | undefined): Promise<SqlClient> {
  const worker = new Worker(new URL("./pglite-worker.ts", import.meta.url), { workerData: { dir } });
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (error: unknown) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let onClosed: (() => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (message: { ready?: boolean; closed?: boolean; id?: number; rows?: unknown[]; error?: { message: string; code?: string } }) => {
      if (message.ready) return resolve();
      if (message.closed) return onClosed?.();
      const waiter = pending.get(message.id!);
      if (waiter === undefined) return;
      pending.delete(message.id!);
      if (message.error) waiter.reject(new SqlError(message.error.message, message.error.code));
      else waiter.resolve(message.rows!);
    });
    const fail = (error: Error) => {
      failure = error;
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`PGlite worker exited (code ${code})`)));
  });
  await ready;
  return {
    query: <T>(sql: string, params?: unknown[]) =>
      new Promise<{ rows: T[] }>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        const id = ++nextId;
        pending.set(id, { resolve: (rows) => resolve({ rows: rows as T[] }), reject });
        worker.postMessage({ id, sql, params });
      }),
    close: async () => {
      if (failure !== undefined) return;
      await new Promise<void>((resolve) => {
        onClosed = resolve;
        worker.postMessage({ close: true });
      });
      await worker.terminate();
    },
  };
}

