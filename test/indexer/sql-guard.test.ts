/**
 * The SQL-over-HTTP guard on its own (no indexer): its cost and row limits against plans from a
 * real PGlite holding indexer-shaped tables, the read-only rule, INDEXER_SQL=off, the settings,
 * and (with TEST_DATABASE_URL) the Postgres statement timeout on real read-only transactions.
 * The same guard runs end to end in front of `ponder start` in indexer.test.ts / postgres.test.ts.
 */
import { expect } from "chai";
import { PGlite } from "@electric-sql/pglite";
import { Hono } from "hono";
import superjson from "superjson";
import {
  DEFAULT_SQL_LIMITS,
  createSqlGuard,
  planEstimate,
  sqlLimitsFromEnv,
  type PlanNode,
  type SqlLimits,
} from "../../indexer/src/api/sql-guard.ts";
import { boundReadOnlyTransactions, statementTimeoutScope } from "../../indexer/src/api/sql-timeout.ts";
import { scratchDatabase } from "./harness.ts";

/** Four tables of 2,000 rows: a cross join of them is ~1.6e13 rows. */
async function seededPglite(): Promise<PGlite> {
  const db = new PGlite();
  await db.exec(`
    create table creator (id text primary key, profile_uri text, launch_block numeric(78,0));
    create table credit (id text primary key, payee text, token text, amount numeric(78,0));
    create table content (id text primary key, creator text, price numeric(78,0));
    create table token_transfer (id text primary key, token text, amount numeric(78,0));
    insert into creator select 'c' || g, 'ipfs://' || g, g from generate_series(1, 2000) g;
    insert into credit select 'k' || g, 'c' || (g % 50), '0x00', g from generate_series(1, 2000) g;
    insert into content select 'n' || g, 'c' || (g % 50), g from generate_series(1, 2000) g;
    insert into token_transfer select 't' || g, '0x00', g from generate_series(1, 2000) g;
  `);
  return db;
}

const encode = (sql: string, params: unknown[] = []) => encodeURIComponent(superjson.stringify({ sql, params }));

describe("indexer SQL guard (cost limits, read-only rule, INDEXER_SQL)", function () {
  this.timeout(60_000);
  let pglite: PGlite;
  const explained: { sql: string; params: unknown[] }[] = [];
  const explain = async (sql: string, params: unknown[]): Promise<PlanNode> => {
    explained.push({ sql, params });
    const result = await pglite.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    return result.rows[0]!["QUERY PLAN"][0]!.Plan;
  };
  /** The guard in front of a handler that runs the query on the same PGlite, as Ponder's client() does. */
  const appWith = (limits: SqlLimits) => {
    const ran: string[] = [];
    const app = new Hono();
    app.use("/sql/*", createSqlGuard({ limits, explain }));
    app.get("/sql/:kind", async (c) => {
      const query = superjson.parse<{ sql: string; params: unknown[] }>(c.req.query("sql")!);
      ran.push(query.sql);
      return c.json(await pglite.query(query.sql, query.params));
    });
    return { app, ran };
  };
  const ask = async (app: Hono, sql: string, params: unknown[] = [], path = "/sql/db") => {
    const res = await app.request(`${path}?sql=${encode(sql, params)}`);
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  };

  before(async function () {
    pglite = await seededPglite();
  });
  after(async function () {
    await pglite?.close();
  });

  it("counts the costliest node of the plan, so a LIMIT over a cross join does not hide it", async function () {
    const byKey = planEstimate(await explain(`select * from creator where id = $1`, ["c7"]));
    expect(byKey.rows).to.equal(1);
    expect(byKey.cost).to.be.below(100);
    const cross = planEstimate(await explain(`select count(*) from credit a, content b, token_transfer c, creator d`, []));
    expect(cross.cost).to.be.greaterThan(1e9);
    expect(cross.rows).to.equal(1); // one count, but a huge cost
    // The planner costs the LIMIT node itself as if a match came early; the join below it is what runs.
    const limited = await explain(`select a.id from credit a, content b, token_transfer c where a.amount + b.price + c.amount < 0 limit 1`, []);
    expect(limited["Node Type"]).to.equal("Limit");
    expect(limited["Total Cost"]).to.be.below(10);
    expect(planEstimate(limited).cost).to.be.greaterThan(1e6);
  });

  it("refuses a cross join of four and five tables before it runs, with what to do instead; a keyed query runs", async function () {
    const { app, ran } = appWith(DEFAULT_SQL_LIMITS);
    for (const sql of [
      `select count(*) from credit a, content b, token_transfer c, creator d`,
      `select count(*) from credit a, content b, token_transfer c, creator d, credit e`,
      `select a.id from credit a, content b, token_transfer c where a.amount + b.price + c.amount < 0 limit 1`,
    ]) {
      const refused = await ask(app, sql);
      expect(refused.status, sql).to.equal(400);
      expect(refused.json.error).to.equal("SQL_TOO_COSTLY");
      expect(refused.json.maxCost).to.equal(DEFAULT_SQL_LIMITS.maxCost);
      expect(refused.json.cost).to.be.greaterThan(DEFAULT_SQL_LIMITS.maxCost);
      expect(refused.json.message)
        .to.include("INDEXER_SQL_MAX_COST")
        .and.include("JOIN ... ON")
        .and.include("WHERE")
        .and.include("LIMIT")
        .and.include("POST /graphql");
    }
    expect(ran).to.deep.equal([]);
    // The live endpoint is guarded the same way.
    expect((await ask(app, `select count(*) from credit a, content b, token_transfer c, creator d`, [], "/sql/live")).status).to.equal(400);
    // Joined on keys it is cheap and runs; parameters (a bigint among them) reach the planner as sent.
    const joined = await ask(
      app,
      `select c.id, count(k.id)::int as credits from creator c join credit k on k.payee = c.id where c.id = $1 and k.amount > $2 group by c.id`,
      ["c7", 100n],
    );
    expect(joined.status, joined.text).to.equal(200);
    expect(joined.json.rows).to.deep.equal([{ id: "c7", credits: 38 }]);
    expect(explained.at(-1)!.params).to.deep.equal(["c7", 100n]);
    expect(ran).to.have.length(1);
    // Asked again (Ponder would answer from its result cache) it is not planned again; other parameters are.
    const planned = explained.length;
    const keyed = `select id from creator where id = $1`;
    for (const id of ["c7", "c7", "c8"]) expect((await ask(app, keyed, [id])).status).to.equal(200);
    expect(explained.length - planned).to.equal(2);
  });

  it("refuses a query expected to return more rows than INDEXER_SQL_MAX_ROWS; with a LIMIT it runs", async function () {
    const { app } = appWith({ ...DEFAULT_SQL_LIMITS, maxRows: 500 });
    const all = await ask(app, `select id from credit`);
    expect(all.status).to.equal(400);
    expect(all.json.error).to.equal("SQL_TOO_MANY_ROWS");
    expect(all.json.message).to.include("INDEXER_SQL_MAX_ROWS").and.include("LIMIT");
    expect(all.json.rows).to.be.greaterThan(500);
    const page = await ask(app, `select id from credit order by id limit 100`);
    expect(page.status).to.equal(200);
    expect(page.json.rows).to.have.length(100);
  });

  it("refuses statements that are not a single read-only SELECT, COMMENT ON included (Ponder's allow-list admits it)", async function () {
    const { app, ran } = appWith(DEFAULT_SQL_LIMITS);
    const { validateAllowableSQLQuery } = await import(
      new URL("../../node_modules/ponder/dist/esm/utils/sql-parse.js", import.meta.url).href
    );
    const comment = `comment on table creator is 'owned'`;
    await validateAllowableSQLQuery(comment); // Ponder alone would run it
    const refused = await ask(app, comment);
    expect(refused.status).to.equal(403);
    expect(refused.text).to.match(/^SQL over HTTP is read-only: .*Refused: CommentStmt not supported\.$/);
    expect((await ask(app, `select 1; select 2`)).text).to.include("Multiple statements not supported");
    expect((await ask(app, `update creator set profile_uri = ''`)).status).to.equal(403);
    expect(ran).to.deep.equal([]);
    const described = await pglite.query(`select obj_description('creator'::regclass) as d`);
    expect(described.rows).to.deep.equal([{ d: null }]);
  });

  it("answers a query that cannot run (unknown column, type mismatch) with 400 and the database's reason", async function () {
    const { app, ran } = appWith(DEFAULT_SQL_LIMITS);
    const unknown = await ask(app, `select nope from creator`);
    expect(unknown.status).to.equal(400);
    expect(unknown.text).to.equal(`The query cannot run: column "nope" does not exist.`);
    const mismatch = await ask(app, `select id from creator where launch_block = $1`, ["not a number"]);
    expect(mismatch.status).to.equal(400);
    expect(mismatch.text).to.include("invalid input syntax");
    expect(ran).to.deep.equal([]);
  });

  it("on PGlite with INDEXER_SQL unset answers 404 saying why and how to turn SQL on, running nothing", async function () {
    const { app, ran } = appWith(sqlLimitsFromEnv({}, { pglite: true }));
    const explainedBefore = explained.length;
    const res = await ask(app, `select count(*) from credit a, credit b, credit c, credit d`, [], "/sql/db");
    expect(res.status).to.equal(404);
    expect(res.json.error).to.equal("SQL_DISABLED");
    expect(res.json.message).to.include("PGlite").and.include("INDEXER_SQL=on").and.include("DATABASE_URL").and.include("POST /graphql");
    expect(explained.length).to.equal(explainedBefore);
    expect(ran).to.deep.equal([]);
  });

  it("answers every /sql path 404 with what to use instead when INDEXER_SQL=off, running nothing", async function () {
    const { app, ran } = appWith(sqlLimitsFromEnv({ INDEXER_SQL: "off" }));
    const explainedBefore = explained.length;
    for (const path of ["/sql/db", "/sql/live", "/sql/anything"]) {
      const res = await ask(app, `select id from creator limit 1`, [], path);
      expect(res.status, path).to.equal(404);
      expect(res.json.error).to.equal("SQL_DISABLED");
      expect(res.json.message).to.include("INDEXER_SQL=off").and.include("POST /graphql").and.include("/api/");
    }
    expect(explained.length).to.equal(explainedBefore);
    expect(ran).to.deep.equal([]);
  });

  it("reads its settings from the environment, keeping defaults for malformed values", function () {
    expect(sqlLimitsFromEnv({})).to.deep.equal(DEFAULT_SQL_LIMITS);
    expect(DEFAULT_SQL_LIMITS).to.deep.equal({ enabled: true, maxCost: 50_000, maxRows: 10_000, timeoutMs: 5_000 });
    expect(sqlLimitsFromEnv({ INDEXER_SQL: "on", INDEXER_SQL_MAX_COST: "2500", INDEXER_SQL_MAX_ROWS: "50", INDEXER_SQL_TIMEOUT_MS: "0" })).to.deep.equal({
      enabled: true,
      maxCost: 2500,
      maxRows: 50,
      timeoutMs: 0,
    });
    expect(sqlLimitsFromEnv({ INDEXER_SQL: "OFF" }).enabled).to.equal(false);
    // PGlite cannot stop a running query: off unless INDEXER_SQL=on; Postgres: on unless off.
    expect(sqlLimitsFromEnv({}, { pglite: true })).to.deep.equal({ ...DEFAULT_SQL_LIMITS, enabled: false, offOnPglite: true });
    expect(sqlLimitsFromEnv({ INDEXER_SQL: "on" }, { pglite: true })).to.deep.equal(DEFAULT_SQL_LIMITS);
    expect(sqlLimitsFromEnv({ INDEXER_SQL: "off" }, { pglite: true })).to.deep.equal({ ...DEFAULT_SQL_LIMITS, enabled: false });
    expect(sqlLimitsFromEnv({}, { pglite: false })).to.deep.equal(DEFAULT_SQL_LIMITS);
    expect(sqlLimitsFromEnv({ INDEXER_SQL_MAX_COST: "lots", INDEXER_SQL_MAX_ROWS: "-3", INDEXER_SQL_TIMEOUT_MS: "soon" })).to.deep.equal(DEFAULT_SQL_LIMITS);
  });
});

const databaseUrl = process.env.TEST_DATABASE_URL;
if (databaseUrl) {
  describe("indexer SQL guard: statement timeout of read-only transactions (Postgres)", function () {
    this.timeout(60_000);
    let database: Awaited<ReturnType<typeof scratchDatabase>>;
    let pool: import("pg").Pool;
    let db: any;

    before(async function () {
      database = await scratchDatabase(databaseUrl);
      const { default: pg } = await import("pg");
      const { drizzle } = await import("drizzle-orm/node-postgres");
      pool = new pg.Pool({ connectionString: database.url, max: 1 }); // one connection: a leaked SET would show
      db = drizzle(pool);
      boundReadOnlyTransactions(db);
    });
    after(async function () {
      await pool?.end();
      await database?.drop();
    });

    const sleepInReadOnly = () => db.transaction((tx: any) => tx.execute(`select pg_sleep(0.5)`), { accessMode: "read only" });

    it("cancels a read-only transaction's statement after the scope's timeout, and only inside the scope", async function () {
      const error = await statementTimeoutScope.run(50, () => sleepInReadOnly().then(() => null, (e: Error) => e));
      expect(error?.message).to.include("canceling statement due to statement timeout");
      // Outside the scope, and for transactions that may write, nothing is set; SET LOCAL did not outlive its transaction.
      await sleepInReadOnly();
      await statementTimeoutScope.run(50, () => db.transaction((tx: any) => tx.execute(`select pg_sleep(0.2)`)));
      const shown = await db.execute(`show statement_timeout`);
      expect(shown.rows[0].statement_timeout).to.equal("0");
    });

    it("runs a read-only transaction in the scope once, bypassing a retrying db.transaction like Ponder's", async function () {
      const { drizzle } = await import("drizzle-orm/node-postgres");
      const retrying: any = drizzle(pool);
      let attempts = 0;
      const own = retrying.transaction.bind(retrying);
      retrying.transaction = async (...args: any[]) => {
        for (let i = 0; ; i++) {
          attempts++;
          try {
            return await own(...args);
          } catch (error) {
            if (i === 2) throw error;
          }
        }
      };
      boundReadOnlyTransactions(retrying);
      const run = () => retrying.transaction((tx: any) => tx.execute(`select 'soon'::numeric`), { accessMode: "read only" });
      const outside = await run().catch((e: any) => e);
      expect(outside.code).to.equal("22P02");
      expect(attempts).to.equal(3); // outside the scope Ponder's wrapper still retries
      attempts = 0;
      const inside = await statementTimeoutScope.run(0, () => run().catch((e: any) => e));
      expect(inside.code).to.equal("22P02"); // SQLSTATE kept for the guard
      expect(attempts).to.equal(0);
    });
  });
}
