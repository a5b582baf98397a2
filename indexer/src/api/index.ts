/**
 * HTTP API of the indexer. Ponder itself serves /health, /ready, /status and /metrics (and
 * open CORS on every route); this file adds:
 *   POST /graphql (and /)      GraphQL: filters, ordering, cursor paging, totalCount
 *   /sql/*                     SQL over HTTP for @ponder/client (live queries via SSE)
 *   GET /api/creators/:address/summary   dashboard summary of a creator
 *   GET /api/contents/:id      a content item with its collaborators, history, stream price and stats
 *   GET /api/access/:wallet    which contents a wallet can open now, and why
 * JSON bodies write uint256 values as decimal strings.
 */
import { db } from "ponder:api";
import schema, {
  accessGrant,
  accessPurchase,
  backup,
  channel,
  coinHolding,
  content,
  contentCollaborator,
  contentRevision,
  creator,
  credit,
  earning,
  passHolding,
  passRevenue,
  passToken,
  streamPrice,
  voucherRedemption,
} from "ponder:schema";
import { Hono, type Context } from "hono";
import { and, asc, client, count, countDistinct, desc, eq, graphql, gt, sql, sum } from "ponder";
import { accessFor } from "./access";
import { cached } from "./cache";
import { createGraphqlExecutor } from "./graphql-exec";
import { answerWithin, checkGraphqlParams, limitsFromEnv, readGraphqlRequest } from "./graphql-limits";
import { createSqlGuard, sqlLimitsFromEnv, type PlanNode } from "./sql-guard";
import { boundReadOnlyTransactions } from "./sql-timeout";
import { jsonReplacer, TIER_NAMES } from "../lib/util";

const app = new Hono();

// SQL over HTTP: requests Ponder would refuse are answered here as client errors first, and a
// query is planned (EXPLAIN, on the same connection or read-only pool Ponder will run it on) and
// refused before it runs when its estimated cost or rows are over the limits (./sql-guard).
// Ponder's own handle on which database it runs (its client() middleware reads the same).
const onPostgres = (globalThis as { PONDER_DATABASE?: { driver?: { dialect?: string } } }).PONDER_DATABASE?.driver?.dialect === "postgres";
// Off on PGlite unless INDEXER_SQL=on: a query there cannot be stopped once it runs.
const sqlLimits = sqlLimitsFromEnv(process.env, { pglite: !onPostgres });
type RawQuery = { prepareQuery(query: { sql: string; params: unknown[] }, fields: undefined, name: undefined, arrayMode: false): { execute(): Promise<{ rows: Record<string, unknown>[] }> } };
type RawDb = { _: { session: RawQuery }; transaction<T>(run: (tx: RawDb) => Promise<T>, config?: { accessMode?: "read only" }): Promise<T> };
const rawDb = db as unknown as RawDb;
// On Postgres every /sql read-only transaction gets INDEXER_SQL_TIMEOUT_MS and runs once (Ponder
// would retry a failed one nine times): ./sql-timeout.
if (onPostgres) boundReadOnlyTransactions(rawDb as never);
const explainSql = async (text: string, params: unknown[]): Promise<PlanNode> => {
  const query = { sql: `EXPLAIN (FORMAT JSON) ${text}`, params };
  // The way Ponder's client() runs /sql queries: PGlite's one connection, or a read-only transaction.
  const result = onPostgres
    ? await rawDb.transaction((tx) => tx._.session.prepareQuery(query, undefined, undefined, false).execute(), { accessMode: "read only" })
    : await rawDb._.session.prepareQuery(query, undefined, undefined, false).execute();
  const plan = result.rows[0]?.["QUERY PLAN"] as { Plan: PlanNode }[] | undefined;
  if (!plan?.[0]?.Plan) throw new Error("EXPLAIN returned no plan");
  return plan[0].Plan;
};
app.use("/sql/*", createSqlGuard({ limits: sqlLimits, explain: explainSql }));
app.use("/sql/*", client({ db, schema }));

// GraphQL at /graphql and /. A POST is measured before anything runs (depth, estimated cost,
// cursors: ./graphql-limits) and refused with 400 when over the limits; an admitted one answers
// through the checkpoint-keyed response cache within GRAPHQL_TIMEOUT_MS.
const graphqlLimits = limitsFromEnv();
const graphqlApp = new Hono().use("*", graphql({ db, schema }));
// Single operations (what every client sends) run through ./graphql-exec (parse and validation
// kept per query text); anything else, or every request with GRAPHQL_EXECUTOR=ponder (the
// benchmark's baseline), goes through Ponder's middleware.
const graphqlExecutor = process.env.GRAPHQL_EXECUTOR === "ponder" ? undefined : createGraphqlExecutor(schema);
const graphqlRoute = async (c: Context) => {
  if (c.req.method !== "POST") return graphqlApp.fetch(c.req.raw);
  let body = await c.req.text();
  const headers = new Headers(c.req.raw.headers);
  const request = readGraphqlRequest(headers.get("content-type"), body);
  if (request === "unsupported") {
    return graphqlError(c, 415, "UNSUPPORTED_MEDIA_TYPE", "POST the query as application/json ({ query, variables, operationName }); application/graphql and form bodies work too.");
  }
  if (request) {
    for (const params of request.params) {
      const refusal = checkGraphqlParams(params, graphqlLimits);
      if (refusal) return graphqlError(c, refusal.status, refusal.code, refusal.message);
    }
    // Hand on exactly what was checked.
    body = request.json;
    headers.set("content-type", "application/json");
    headers.delete("content-length");
  }
  const single = request && request.params.length === 1 && !request.json.trimStart().startsWith("[") ? request.params[0]! : undefined;
  const direct =
    graphqlExecutor !== undefined && single !== undefined && typeof single.query === "string" && (single.variables == null || typeof single.variables === "object") && (single.operationName == null || typeof single.operationName === "string")
      ? { query: single.query, variables: (single.variables ?? undefined) as Record<string, unknown> | undefined, operationName: (single.operationName ?? undefined) as string | undefined }
      : undefined;
  const answer = cached(`graphql\n${body}`, async () =>
    direct !== undefined
      ? graphqlExecutor!.run(direct).then(({ body, by }) => new Response(body, { status: 200, headers: { "content-type": "application/json; charset=utf-8", "x-graphql-executor": by } }))
      : graphqlApp.fetch(new Request(c.req.url, { method: "POST", headers, body })),
  );
  const result = await answerWithin(answer, graphqlLimits.timeoutMs);
  if (result !== "timeout") return result;
  return graphqlError(
    c,
    503,
    "QUERY_TIMEOUT",
    `Query did not finish within ${graphqlLimits.timeoutMs} ms. Ask for fewer rows (lower limits, fewer nested lists) or retry later.`,
  );
};
app.all("/graphql", graphqlRoute);
app.all("/", graphqlRoute);

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

function json(c: Context, body: unknown, status: 200 | 400 | 404 = 200) {
  return c.body(JSON.stringify(body, jsonReplacer), status, { "content-type": "application/json; charset=utf-8" });
}

/** A GraphQL-shaped error answer (`errors[0].extensions.code` says which limit or check). */
function graphqlError(c: Context, status: 400 | 415 | 503, code: string, message: string) {
  return c.body(JSON.stringify({ errors: [{ message, extensions: { code } }] }), status, { "content-type": "application/json; charset=utf-8" });
}

const sumOf = (column: Parameters<typeof sum>[0]) => sql<string>`coalesce(${sum(column)}, 0)`;

/** Unix seconds "now" for expiry checks: ?at=<unix seconds>, else the server clock; null when ?at= is malformed. */
function nowFor(c: Context): bigint | null {
  const at = c.req.query("at");
  if (at !== undefined) return /^\d+$/.test(at) ? BigInt(at) : null;
  return BigInt(Math.floor(Date.now() / 1000));
}

// The JSON endpoints answer through the same cache, keyed by URL and the current second
// (expiry checks use the clock when ?at= is absent).
const jsonApi = new Hono();
app.get("/api/*", (c) =>
  cached(`${c.req.url}\n${Math.floor(Date.now() / 1000)}`, async () => jsonApi.fetch(c.req.raw)),
);

jsonApi.get("/api/creators/:address/summary", async (c) => {
  const address = c.req.param("address").toLowerCase() as `0x${string}`;
  if (!ADDRESS.test(address)) return json(c, { error: "address must be 0x + 40 hex digits" }, 400);
  const [profile] = await db.select().from(creator).where(eq(creator.id, address)).limit(1);
  if (!profile) return json(c, { error: `creator ${address} has not launched` }, 404);

  const [tiers, coinHolders, passHolders, passesMinted, earnings, sales, streaming, channels, backups, passMints] =
    await Promise.all([
      db.select({ tier: content.tier, contents: count() }).from(content).where(eq(content.creator, address)).groupBy(content.tier),
      db.select({ n: count() }).from(coinHolding).where(and(eq(coinHolding.coin, profile.coin), gt(coinHolding.balance, 0n))),
      db.select({ n: count() }).from(passHolding).where(and(eq(passHolding.pass, profile.pass), gt(passHolding.count, 0n))),
      db.select({ n: count() }).from(passToken).where(eq(passToken.pass, profile.pass)),
      db.select().from(earning).where(eq(earning.payee, address)).orderBy(asc(earning.token)),
      db
        .select({ token: accessPurchase.token, purchases: count(), buyers: countDistinct(accessPurchase.buyer), volume: sumOf(accessPurchase.amount) })
        .from(accessPurchase)
        .where(eq(accessPurchase.creator, address))
        .groupBy(accessPurchase.token),
      db
        .select({ token: channel.token, vouchers: count(), paid: sumOf(voucherRedemption.paid) })
        .from(voucherRedemption)
        .innerJoin(channel, eq(channel.id, voucherRedemption.channelId))
        .where(eq(voucherRedemption.creator, address))
        .groupBy(channel.token),
      db.select({ status: channel.status, channels: count() }).from(channel).where(eq(channel.creator, address)).groupBy(channel.status),
      db.select().from(backup).where(eq(backup.creator, address)).orderBy(desc(backup.index)).limit(1),
      db.select({ n: count(), volume: sumOf(passRevenue.amount) }).from(passRevenue).where(eq(passRevenue.creator, address)),
    ]);
  const [backupCount] = await db.select({ n: count() }).from(backup).where(eq(backup.creator, address));

  return json(c, {
    creator: profile,
    contents: {
      total: tiers.reduce((n, t) => n + t.contents, 0),
      byTier: Object.fromEntries(tiers.map((t) => [TIER_NAMES[t.tier] ?? String(t.tier), t.contents])),
    },
    coin: { address: profile.coin, holders: coinHolders[0]!.n, reserveDistributed: profile.coinReserveDistributed },
    pass: { address: profile.pass, holders: passHolders[0]!.n, minted: passesMinted[0]!.n, mintRevenue: passMints[0]!.volume, mintPayments: passMints[0]!.n },
    sales: sales.map((s) => ({ ...s, volume: s.volume.toString() })),
    streaming: {
      channels: Object.fromEntries(channels.map((s) => [s.status, s.channels])),
      byToken: streaming.map((s) => ({ ...s, paid: s.paid.toString() })),
    },
    earnings,
    backups: { count: backupCount!.n, latest: backups[0] ?? null },
  });
});

jsonApi.get("/api/contents/:id", async (c) => {
  const id = c.req.param("id").toLowerCase() as `0x${string}`;
  if (!BYTES32.test(id)) return json(c, { error: "content id must be 0x + 64 hex digits" }, 400);
  const [item] = await db.select().from(content).where(eq(content.id, id)).limit(1);
  if (!item) return json(c, { error: `unknown content ${id}` }, 404);
  const now = nowFor(c);
  if (now === null) return json(c, { error: "at must be unix seconds" }, 400);
  const [collaborators, revisions, purchases, activeGrants, revenue, channels, streamed, [price]] = await Promise.all([
    db.select().from(contentCollaborator).where(eq(contentCollaborator.contentId, id)).orderBy(asc(contentCollaborator.position)),
    db.select().from(contentRevision).where(eq(contentRevision.contentId, id)).orderBy(asc(contentRevision.block), asc(contentRevision.id)),
    db
      .select({ token: accessPurchase.token, purchases: count(), buyers: countDistinct(accessPurchase.buyer), volume: sumOf(accessPurchase.amount) })
      .from(accessPurchase)
      .where(eq(accessPurchase.contentId, id))
      .groupBy(accessPurchase.token),
    db.select({ n: count() }).from(accessGrant).where(and(eq(accessGrant.contentId, id), gt(accessGrant.expiresAt, now))),
    db
      .select({ token: credit.token, role: credit.roleName, amount: sumOf(credit.amount) })
      .from(credit)
      .where(eq(credit.contentId, id))
      .groupBy(credit.token, credit.roleName)
      .orderBy(asc(credit.token), asc(credit.roleName)),
    db.select({ status: channel.status, channels: count() }).from(channel).where(eq(channel.contentId, id)).groupBy(channel.status),
    db.select({ vouchers: count(), paid: sumOf(voucherRedemption.paid) }).from(voucherRedemption).where(eq(voucherRedemption.contentId, id)),
    db.select({ token: streamPrice.token, ratePerMinute: streamPrice.ratePerMinute }).from(streamPrice).where(eq(streamPrice.id, id)).limit(1),
  ]);
  return json(c, {
    content: item,
    // The creator's pay-per-minute price (null: never set; ratePerMinute 0: withdrawn).
    streamPrice: price ?? null,
    collaborators,
    revisions,
    stats: {
      at: now,
      purchases: purchases.map((p) => ({ ...p, volume: p.volume.toString() })),
      activeBuyers: activeGrants[0]!.n,
      revenue: revenue.map((r) => ({ ...r, amount: r.amount.toString() })),
      channels: Object.fromEntries(channels.map((s) => [s.status, s.channels])),
      vouchersRedeemed: streamed[0]!.vouchers,
      streamed: streamed[0]!.paid.toString(),
    },
  });
});

jsonApi.get("/api/access/:wallet", async (c) => {
  const wallet = c.req.param("wallet");
  if (!ADDRESS.test(wallet)) return json(c, { error: "wallet must be 0x + 40 hex digits" }, 400);
  const now = nowFor(c);
  if (now === null) return json(c, { error: "at must be unix seconds" }, 400);
  const contentIds = c.req.query("contentId")?.split(",").filter(Boolean);
  if (contentIds?.some((id) => !BYTES32.test(id))) return json(c, { error: "contentId must be 0x + 64 hex digits" }, 400);
  const result = await accessFor({
    wallet: wallet as `0x${string}`,
    now,
    includeFree: c.req.query("includeFree") !== "false",
    contentIds: contentIds as `0x${string}`[] | undefined,
  });
  return json(c, {
    wallet: wallet.toLowerCase(),
    at: now,
    note: "Convenience view from indexed events; ContentAccess.hasValidAccess on chain is the authority for key release.",
    ...result,
  });
});

export default app;
