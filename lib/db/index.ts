/**
 * The embedded-or-Postgres database the server-side stores share (key store, key release):
 * PGlite in a directory (or in memory) by default, Postgres through `pg` when given a URL.
 * Both behind one minimal query interface.
 */
import { mkdir } from "node:fs/promises";
import { StreamVaultError } from "../errors.ts";

/** A failed query (PGlite worker, or the embedded database's owner); carries the Postgres error code. */
export class SqlError extends StreamVaultError {
  /** The Postgres SQLSTATE ("23505"), when there is one. */
  readonly sqlState: string | undefined;
  constructor(message: string, sqlState: string | undefined) {
    super("internal", message);
    this.name = "SqlError";
    this.sqlState = sqlState;
  }
}

export interface SqlClient {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  close(): Promise<void>;
}

/** PGlite in `dir` (created 0700; it holds sealed secrets), or in memory when `dir` is undefined. */
export async function openPglite(dir: string | undefined): Promise<SqlClient> {
  const { PGlite } = await import("@electric-sql/pglite");
  if (dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
  const db = dir === undefined ? new PGlite() : new PGlite(dir);
  await db.waitReady;
  return {
    query: async <T>(sql: string, params?: unknown[]) => ({ rows: (await db.query<T>(sql, params)).rows }),
    close: () => db.close(),
  };
}

/** A `pg` pool on `url`; `searchPath` puts every connection in that schema. */
export async function openPostgres(url: string, options: { max?: number; searchPath?: string } = {}): Promise<SqlClient> {
  const pg = (await import("pg")).default;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 4,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  });
  // An idle connection the server ends (a restart, a failover, pg_terminate_backend) is reported
  // here; without a listener pg's pool rethrows it and the process dies. The pool drops that
  // connection and opens a new one for the next query.
  pool.on("error", (error: Error & { code?: string }) => {
    console.warn(`Postgres closed an idle connection (${error.code ?? error.message}); the next query opens a new one`);
  });
  return {
    query: async <T>(sql: string, params?: unknown[]) => ({ rows: (await pool.query(sql, params)).rows as T[] }),
    close: () => pool.end(),
  };
}

/**
 * Runs `CREATE ... IF NOT EXISTS` statements. Two processes creating the same table at once
 * (instances starting together on one Postgres) can both miss it and one fails on the catalog's
 * unique index (23505 on pg_type) or with 42P07/42710 (already exists): run again, the statement
 * then finds what the other created and does nothing.
 */
export async function ensureSchema(db: SqlClient, statements: readonly string[]): Promise<void> {
  for (const statement of statements) {
    for (let attempt = 0; ; attempt++) {
      try {
        await db.query(statement);
        break;
      } catch (error) {
        const code = (error as { code?: unknown }).code ?? (error instanceof SqlError ? error.sqlState : undefined);
        if (attempt >= 4 || !(code === "23505" || code === "42P07" || code === "42710")) throw error;
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 80 * (attempt + 1)));
      }
    }
  }
}
