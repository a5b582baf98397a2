/**
 * Front guard of SQL over HTTP (`/sql/db`, `/sql/live`). Ponder's `client()` middleware answers
 * every request it refuses (a write, a system table, an unparseable statement, a malformed `sql`
 * parameter) with HTTP 500, as if the server had failed; `/sql/live` also counts a refused request
 * against its 1000 live-query slots and never gives the slot back; and it runs whatever it admits
 * with no bound on its cost (on PGlite, one connection in the indexer's own thread, a cross join
 * stalls indexing and every other request until it ends). This guard runs Ponder's own checks
 * first (the same parser and allow-list, so it accepts at most what Ponder accepts), then asks the
 * planner what the query would cost (`EXPLAIN (FORMAT JSON)`, nothing is executed) and refuses it
 * before it runs when that is over the limits:
 *   400  the `sql` parameter is not a query encoded by @ponder/client, or the SQL does not parse
 *        or cannot run (unknown column, type mismatch)                        (plain text)
 *   403  valid SQL that is not a single read-only SELECT                       (plain text)
 *   400  {"error":"SQL_TOO_COSTLY" | "SQL_TOO_MANY_ROWS","message",...}: over INDEXER_SQL_MAX_COST
 *        or INDEXER_SQL_MAX_ROWS
 *   404  {"error":"SQL_DISABLED",...}: INDEXER_SQL=off, or on PGlite without INDEXER_SQL=on
 *   503  {"error":"SQL_TIMEOUT",...}: admitted, but stopped by INDEXER_SQL_TIMEOUT_MS (Postgres)
 * Plain-text answers are what @ponder/client turns into its Error message; the JSON ones reach it
 * as the message text too. Accepted queries go on to Ponder unchanged.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Context, MiddlewareHandler, Next } from "hono";
import superjson from "superjson";
import { statementTimeoutScope } from "./sql-timeout.ts";

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


/** Why each recently refused statement was refused: Ponder's validator remembers refusals and then only says "Invalid query". */
const refusals = new Map<string, string>();
const MAX_REMEMBERED = 1000;

/** Ponder refuses longer statements before parsing them. */
const MAX_SQL_LENGTH = 5_000;

export interface SqlLimits {
  /** false: /sql/* answers 404 (INDEXER_SQL=off, or PGlite without INDEXER_SQL=on). */
  enabled: boolean;
  /** Set when SQL is off only because the database is PGlite and INDEXER_SQL is unset. */
  offOnPglite?: true;
  /** Largest planner cost of any node of the plan (INDEXER_SQL_MAX_COST). */
  maxCost: number;
  /** Largest number of rows the planner expects the query to return (INDEXER_SQL_MAX_ROWS). */
  maxRows: number;
  /** Statement timeout of a /sql query on Postgres, ms; 0 keeps the read-only pool's 30 s (INDEXER_SQL_TIMEOUT_MS). */
  timeoutMs: number;
}

// Measured on PGlite here: a full scan of a 1M-row token_transfer costs ~27k and takes ~0.5 s; a
// 27M-row cross join costs ~1.8M and takes 3 s; a keyed read costs ~8. 50k bounds an admitted
// query at about a second of the indexer's only connection.
export const DEFAULT_SQL_LIMITS: SqlLimits = { enabled: true, maxCost: 50_000, maxRows: 10_000, timeoutMs: 5_000 };

/**
 * Limits from INDEXER_SQL, INDEXER_SQL_MAX_COST, INDEXER_SQL_MAX_ROWS, INDEXER_SQL_TIMEOUT_MS;
 * malformed values keep the default. INDEXER_SQL unset means on for Postgres and off for PGlite:
 * PGlite runs a query in the indexer's own thread and cannot stop it (it ignores
 * statement_timeout), so work the planner cannot price (nested `replace()` building huge values)
 * would stall indexing; INDEXER_SQL=on serves it there anyway, with the cost limits.
 */
export function sqlLimitsFromEnv(env: Record<string, string | undefined> = process.env, database: { pglite?: boolean } = {}): SqlLimits {
  const positive = (value: string | undefined, fallback: number, allowZero = false) => {
    if (value === undefined || value.trim() === "") return fallback;
    const n = Number(value);
    return Number.isFinite(n) && (n > 0 || (allowZero && n === 0)) ? n : fallback;
  };
  const setting = (env.INDEXER_SQL ?? "").trim().toLowerCase();
  const offOnPglite = setting === "" && database.pglite === true;
  return {
    enabled: !["off", "false", "0", "no"].includes(setting) && !offOnPglite,
    ...(offOnPglite ? { offOnPglite: true as const } : {}),
    maxCost: positive(env.INDEXER_SQL_MAX_COST, DEFAULT_SQL_LIMITS.maxCost),
    maxRows: positive(env.INDEXER_SQL_MAX_ROWS, DEFAULT_SQL_LIMITS.maxRows),
    timeoutMs: positive(env.INDEXER_SQL_TIMEOUT_MS, DEFAULT_SQL_LIMITS.timeoutMs, true),
  };
}

/** One node of `EXPLAIN (FORMAT JSON)` output. */
export interface PlanNode {
  "Node Type"?: string;
  "Total Cost"?: number;
  "Plan Rows"?: number;
  Plans?: PlanNode[];
}

/**
 * What a plan costs: the largest total cost of any of its nodes, and the rows the root returns.
 * The largest node rather than the root because a LIMIT's cost assumes matching rows come early:
 * `FROM a, b, c WHERE <never true> LIMIT 1` is planned at a cost of almost nothing and then
 * reads the whole cross join. So a LIMIT does not make an unbounded scan below it cheap.
 */
export function planEstimate(plan: PlanNode): { cost: number; rows: number } {
  let cost = 0;
  const visit = (node: PlanNode) => {
    cost = Math.max(cost, node["Total Cost"] ?? 0);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(plan);
  return { cost, rows: plan["Plan Rows"] ?? 0 };
}

/** Runs `EXPLAIN (FORMAT JSON) <sql>` with `params` on the path the query would run on; returns the root plan node. */
export type ExplainSql = (sql: string, params: unknown[]) => Promise<PlanNode>;

const ALTERNATIVES = "use GraphQL (POST /graphql: filters, ordering and cursor paging) or the JSON endpoints under /api/";

function jsonAnswer(c: Context, status: 400 | 404 | 503, body: Record<string, unknown>) {
  return c.body(JSON.stringify(body), status, { "content-type": "application/json; charset=utf-8" });
}

/** A SQLSTATE that says the query itself is wrong (syntax or access rule 42xxx, data exception 22xxx), not the server. */
function isQueryError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^(42|22)[0-9A-Z]{3}$/.test(code);
}

/** How long a plan's estimate is reused for the same query and parameters (they change only as tables grow). */
const ESTIMATE_TTL_MS = 10_000;
const MAX_ESTIMATES = 1000;

export function createSqlGuard(options: { limits: SqlLimits; explain: ExplainSql }): MiddlewareHandler {
  const { limits, explain } = options;
  // Ponder answers a repeated /sql/db query from its result cache; planning it again each time
  // would add a database round trip to every hit. Admitted estimates are kept briefly (LRU).
  const estimates = new Map<string, { cost: number; rows: number; at: number }>();
  const estimate = async (key: string, sql: string, params: unknown[]) => {
    const kept = estimates.get(key);
    if (kept && Date.now() - kept.at < ESTIMATE_TTL_MS) {
      estimates.delete(key);
      estimates.set(key, kept);
      return kept;
    }
    const fresh = { ...planEstimate(await explain(sql, params)), at: Date.now() };
    estimates.set(key, fresh);
    if (estimates.size > MAX_ESTIMATES) estimates.delete(estimates.keys().next().value!);
    return fresh;
  };
  const timeoutAnswer = (c: Context) =>
    jsonAnswer(c, 503, {
      error: "SQL_TIMEOUT",
      message:
        `Query stopped after ${limits.timeoutMs} ms (INDEXER_SQL_TIMEOUT_MS). Read fewer rows and build smaller values: filter with ` +
        `WHERE on key columns, join on keys, add a LIMIT; or ${ALTERNATIVES}.`,
      timeoutMs: limits.timeoutMs,
    });
  return async function sqlGuard(c: Context, next: Next) {
    if (!c.req.path.startsWith("/sql/") && c.req.path !== "/sql") return next();
    if (!limits.enabled) {
      return jsonAnswer(c, 404, {
        error: "SQL_DISABLED",
        message: limits.offOnPglite
          ? `SQL over HTTP is off on this indexer: it runs on PGlite, where a running query cannot be stopped (no statement timeout). ` +
            `Run it on Postgres (DATABASE_URL), or set INDEXER_SQL=on to serve SQL on PGlite anyway; meanwhile ${ALTERNATIVES}.`
          : `SQL over HTTP is turned off on this indexer (INDEXER_SQL=off): ${ALTERNATIVES}.`,
      });
    }
    if (c.req.path !== "/sql/db" && c.req.path !== "/sql/live") return next();
    const encoded = c.req.query("sql");
    if (encoded === undefined) return next(); // Ponder answers 400 'Missing "sql" query parameter'

    let query: { sql?: unknown; params?: unknown } | undefined;
    try {
      query = superjson.parse<{ sql?: unknown; params?: unknown }>(encoded) ?? undefined;
    } catch {
      query = undefined;
    }
    const sql = query?.sql;
    const params = query?.params ?? [];
    if (typeof sql !== "string" || !Array.isArray(params)) {
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
    const readOnly = (reason: string) =>
      c.text(
        `SQL over HTTP is read-only: it runs one SELECT over the indexed tables (no INSERT, UPDATE, DELETE, DDL, ` +
          `COMMENT, locks, system tables, schema-qualified names or unlisted functions). Refused: ${reason}.`,
        403,
      );
    // Ponder's allow-list also admits COMMENT ON (a catalog write, run outside any read-only
    // transaction on PGlite): only a SELECT may be the statement.
    const statements = parsed.parse_tree.stmts as { stmt?: Record<string, unknown> }[];
    const kind = statements.length === 1 && statements[0]!.stmt ? Object.keys(statements[0]!.stmt)[0] : undefined;
    if (kind !== undefined && kind !== "SelectStmt") return readOnly(`${kind} not supported`);
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
      return readOnly(reason);
    }

    const admitAndRun = async () => {
      let planned: { cost: number; rows: number };
      try {
        planned = await estimate(encoded, sql, params);
      } catch (error) {
        if (isQueryError(error)) return c.text(`The query cannot run: ${error.message}.`, 400);
        // Planning evaluates constant expressions, so the EXPLAIN itself can hit the timeout.
        if ((error as { code?: unknown })?.code === "57014") return timeoutAnswer(c);
        throw error;
      }
      const { cost, rows } = planned;
      if (cost > limits.maxCost) {
        return jsonAnswer(c, 400, {
          error: "SQL_TOO_COSTLY",
          message:
            `Query refused before it ran: the planner estimates a cost of ${Math.round(cost)}, over this indexer's limit of ` +
            `${limits.maxCost} (INDEXER_SQL_MAX_COST). Join tables on their keys (JOIN ... ON a.id = b.x, not FROM a, b), ` +
            `filter with WHERE on key columns and add a LIMIT (a LIMIT alone does not bound a scan or join below it); or ${ALTERNATIVES}.`,
          cost: Math.round(cost),
          maxCost: limits.maxCost,
        });
      }
      if (rows > limits.maxRows) {
        return jsonAnswer(c, 400, {
          error: "SQL_TOO_MANY_ROWS",
          message:
            `Query refused before it ran: the planner expects about ${Math.round(rows)} rows, over this indexer's limit of ` +
            `${limits.maxRows} (INDEXER_SQL_MAX_ROWS). Add a WHERE or a LIMIT and page (WHERE key > last key seen), ` +
            `or aggregate in SQL; or ${ALTERNATIVES}.`,
          rows: Math.round(rows),
          maxRows: limits.maxRows,
        });
      }
      await next();
      // Ponder answers a query the database cancelled with a 500 carrying the driver's message.
      if (c.res.status === 500 && /statement timeout/i.test(await c.res.clone().text())) {
        c.res = timeoutAnswer(c);
        c.res.headers.delete("content-length"); // Hono carries the old answer's headers over
      }
      return undefined;
    };
    return statementTimeoutScope.run(limits.timeoutMs, admitAndRun);
  };
}
