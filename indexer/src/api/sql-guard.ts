/**
 * Front guard of SQL over HTTP (`/sql/db`, `/sql/live`). Ponder's `client()` middleware answers
 * every request it refuses (a write, a system table, an unparseable statement, a malformed `sql`
 * parameter) with HTTP 500, as if the server had failed; `/sql/live` also counts a refused request
 * against its 1000 live-query slots and never gives the slot back. This guard runs Ponder's own
 * checks first (the same parser and allow-list, so it accepts exactly what Ponder accepts) and
 * answers refusals as client errors, in plain text as `@ponder/client` reads them:
 *   400  the `sql` parameter is not a query encoded by @ponder/client, or the SQL does not parse
 *   403  valid SQL that is not a read-only query Ponder serves (INSERT, UPDATE, DELETE, DDL, ...)
 * Accepted queries go on to Ponder unchanged.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Context, Next } from "hono";

interface SqlParse {
  validateAllowableSQLQuery(sql: string): Promise<void>;
}
interface PgParser {
  parse(sql: string): { parse_tree: { stmts: unknown[] }; error: { message: string; cursorpos: number } | null };
}

// Ponder 0.16 does not export its SQL validator; load the module its middleware uses (pinned
// Ponder version: the indexer tests exercise this path).
const sqlParse: Promise<SqlParse> = import(/* @vite-ignore */ ponderFile("dist/esm/utils/sql-parse.js"));

/** A file of the installed ponder package: the nearest node_modules/ponder up from here (npm workspaces hoist it to the root). */
function ponderFile(path: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "node_modules", "ponder", path);
    if (existsSync(file)) return pathToFileURL(file).href;
    if (dirname(dir) === dir) throw new Error(`ponder is not installed (no node_modules/ponder/${path}): run \`npm install\` at the repository root`);
  }
}
// The parser Ponder's validator uses, called directly for its error message (Ponder's wrapper
// turns the error object into "[object Object]").
// @ts-ignore: the package ships no types
const pgParser: Promise<PgParser> = import("pg-query-emscripten").then((module: { default: () => Promise<PgParser> }) => module.default());

/**
 * Why each recently refused statement was refused: Ponder's validator remembers refusals and then
 * only says "Invalid query".
 */
const refusals = new Map<string, string>();
const MAX_REMEMBERED = 1000;

/** Ponder refuses longer statements before parsing them. */
const MAX_SQL_LENGTH = 5_000;

export async function sqlGuard(c: Context, next: Next) {
  if (c.req.path !== "/sql/db" && c.req.path !== "/sql/live") return next();
  const encoded = c.req.query("sql");
  if (encoded === undefined) return next(); // Ponder answers 400 'Missing "sql" query parameter'

  let sql: unknown;
  try {
    sql = (JSON.parse(encoded) as { json?: { sql?: unknown } }).json?.sql;
  } catch {
    sql = undefined;
  }
  if (typeof sql !== "string") {
    return c.text('The "sql" parameter must be a query encoded by @ponder/client (superjson of { sql, params }); use createClient(".../sql").', 400);
  }
  if (sql.length > MAX_SQL_LENGTH) {
    return c.text(`SQL over HTTP accepts statements of at most ${MAX_SQL_LENGTH} characters (got ${sql.length}).`, 400);
  }
  const parsed = (await pgParser).parse(sql);
  if (parsed.error) {
    return c.text(`Invalid SQL: ${parsed.error.message} (at character ${parsed.error.cursorpos}).`, 400);
  }
  if (parsed.parse_tree.stmts.length === 0) return c.text("Invalid SQL: no statement.", 400);
  const { validateAllowableSQLQuery } = await sqlParse;
  try {
    await validateAllowableSQLQuery(sql);
  } catch (error) {
    let reason = refusals.get(sql);
    if (reason === undefined) {
      reason = (error as Error).message;
      refusals.set(sql, reason);
      if (refusals.size > MAX_REMEMBERED) refusals.delete(refusals.keys().next().value!);
    }
    return c.text(
      `SQL over HTTP is read-only: it runs one SELECT over the indexed tables (no INSERT, UPDATE, DELETE, DDL, ` +
        `locks, system tables, schema-qualified names or unlisted functions). Refused: ${reason}.`,
      403,
    );
  }
  return next();
}
