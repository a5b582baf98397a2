/**
 * `npm run bench:indexer`: indexer throughput and API latency on this machine.
 *
 * 1. anvil + StreamVault + the test scenario + bulk history (>= 10,000 indexed events: coin
 *    reserve hand-outs, pass airdrops, contents, purchases) packed BENCH_TXS_PER_BLOCK (default
 *    25) transactions a block as on a busy chain (1 = a block per transaction), then enough empty
 *    blocks that all of it is in Ponder's backfill range;
 * 2. `ponder start` on a fresh database (PGlite, or Postgres when DATABASE_URL is set): backfill
 *    events/s = events Ponder reports indexed / backfill duration Ponder reports;
 * 3. autocannon, 50 connections for BENCH_SECONDS (default 10) per query, against 127.0.0.1:
 *    contents of a creator, a wallet's access, a creator's earnings (GraphQL), and /api/access,
 *    then every GraphQL query the indexer README documents for BENCH_DOC_SECONDS (default 3)
 *    each; first with the API's response cache (the default), then with API_CACHE=off on a
 *    second `ponder start` over the same chain (every request runs its SQL), then, as the
 *    baseline of the same run, uncached through Ponder's own graphql() middleware
 *    (GRAPHQL_EXECUTOR=ponder) instead of src/api/graphql-exec.ts.
 * Writes bench/indexer.json. Goals: >= 2,000 events/s backfill, cached p99 <= 50 ms, uncached
 * p99 <= 100 ms.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { toHex } from "viem";
import { INDEXER_DIR, scratchDatabase, startIndexer, startLocalChain, type IndexerProcess, type LocalChain } from "../test/indexer/harness.ts";
import { runScenario } from "../test/indexer/scenario.ts";
import { generateLoad } from "../test/indexer/load.ts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";

const require = createRequire(join(INDEXER_DIR, "package.json"));
const autocannon = require("autocannon") as (opts: Record<string, unknown>) => Promise<any>;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TXS_PER_BLOCK = Number(process.env.BENCH_TXS_PER_BLOCK ?? 25);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DOC_SECONDS = Number(process.env.BENCH_DOC_SECONDS ?? 3);
const GOALS = { backfillEventsPerSecond: 2_000, p99Ms: 50, p99UncachedMs: 100 };

function metric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name) && (line[name.length] === "{" || line[name.length] === " ")) total += Number(line.split(" ").at(-1));
  }
  return total;
}

function logTime(log: string, msg: string): number | undefined {
  for (const line of log.split("\n")) {
    if (!line.includes(msg)) continue;
    try {
      return JSON.parse(line).time as number;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

async function main() {
  let chain: LocalChain | undefined;
  let ix: IndexerProcess | undefined;
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  try {
    const t0 = Date.now();
    // A block gas limit that holds BENCH_TXS_PER_BLOCK coin hand-outs of 100 recipients each.
    chain = await startLocalChain({ extraArgs: ["--gas-limit", "1000000000"] });
    const scenario = await runScenario(chain);
    const load = await generateLoad(chain, { txs: 48, recipientsPerTx: 100, passAirdrops: 300, contents: 300, purchases: 120, seed: "bench", txsPerBlock: TXS_PER_BLOCK > 1 ? TXS_PER_BLOCK : undefined });
    await chain.rpc("anvil_mine", [toHex(64)]);
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    console.log(`chain ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: head ${head}, ~${load.events} load events`);

    const database = process.env.DATABASE_URL ? "postgres" : "pglite";
    const schema = "streamvault";
    // Postgres: a database of its own (Ponder's RPC cache would otherwise mix in older local chains).
    scratch = process.env.DATABASE_URL ? await scratchDatabase(process.env.DATABASE_URL) : undefined;
    const started = Date.now();
    ix = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir, databaseUrl: scratch?.url, schema });
    await ix.waitReady(300_000);
    const readyMs = Date.now() - started;
    await ix.waitForBlock(head, 120_000);
    const metrics = await (await fetch(`${ix.url}/metrics`)).text();
    const events = metric(metrics, "ponder_indexing_completed_events");
    const log = ix.log();
    const backfillStart = logTime(log, "Started backfill indexing");
    const backfillEnd = logTime(log, "Completed backfill indexing");
    const backfillMs = backfillStart && backfillEnd ? backfillEnd - backfillStart : readyMs;
    const backfill = {
      database,
      events,
      backfillSeconds: backfillMs / 1000,
      eventsPerSecond: Math.round(events / (backfillMs / 1000)),
      processStartToReadySeconds: readyMs / 1000,
      eventsPerSecondIncludingStartup: Math.round(events / (readyMs / 1000)),
    };
    console.log(`backfill (${database}): ${events} events in ${backfill.backfillSeconds.toFixed(2)} s = ${backfill.eventsPerSecond} events/s (${backfill.processStartToReadySeconds.toFixed(1)} s from process start to /ready)`);
    if (events < 10_000) throw new Error(`only ${events} events indexed; the benchmark needs >= 10,000`);

    const creator = load.creator.toLowerCase();
    const fan = load.fan.toLowerCase();
    const graphql = (query: string) => ({ method: "POST", path: "/graphql", body: JSON.stringify({ query }), headers: { "content-type": "application/json" } });
    const targets = [
      {
        name: "contents of a creator (GraphQL)",
        request: graphql(`{ contents(where: { creator: "${creator}" }, orderBy: "registeredBlock", orderDirection: "desc", limit: 50) { totalCount items { id tier manifestPieceCid price inSubscription minCoinBalance } pageInfo { hasNextPage endCursor } } }`),
      },
      {
        name: "a wallet's access (GraphQL)",
        request: graphql(`{ accessGrants(where: { buyer: "${fan}" }, limit: 100) { totalCount items { contentId expiresAt } } coinHoldings(where: { holder: "${fan}" }) { items { coin balance } } passHoldings(where: { holder: "${fan}" }) { items { pass count } } subscription(id: "${fan}") { expiresAt } }`),
      },
      {
        name: "a creator's earnings (GraphQL)",
        request: graphql(`{ earnings(where: { payee: "${creator}" }) { items { token creatorShare platformFee collaboratorShare totalCredited withdrawn contentAccessBalance paymentChannelsBalance } } credits(where: { payee: "${creator}" }, orderBy: "block", orderDirection: "desc", limit: 20) { totalCount items { amount roleName contentId } } }`),
      },
      { name: "a wallet's access (GET /api/access)", request: { method: "GET", path: `/api/access/${fan}?includeFree=false` } },
    ].map((t) => ({ ...t, seconds: SECONDS }));
    // Every GraphQL query the README documents (its answers come from the same scenario), except
    // the paging example that needs a cursor from a previous answer.
    const readme = readFileSync(join(INDEXER_DIR, "README.md"), "utf8");
    const documented = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim()).filter((q) => !q.includes("<"));
    for (const [i, query] of documented.entries()) {
      const table = /\{\s*(\w+)/.exec(query)?.[1] ?? "query";
      targets.push({ name: `README ${i + 1}: ${table}`, request: graphql(query), seconds: DOC_SECONDS });
    }
    const measure = async (server: IndexerProcess, cache: "on" | "off", executor = "graphql-exec") => {
      // Every query must answer correctly before it is timed.
      for (const t of targets) {
        const res = await fetch(`${server.url}${t.request.path}`, t.request as RequestInit);
        const body = await res.text();
        if (!res.ok || body.includes('"errors"')) throw new Error(`${t.name}: ${res.status} ${body.slice(0, 300)}`);
      }
      const rows = [];
      for (const t of targets) {
        const { path, ...request } = t.request;
        const result = await autocannon({ url: `${server.url}${path}`, connections: CONNECTIONS, duration: t.seconds, ...request });
        const row = {
          name: t.name,
          apiCache: cache,
          executor,
          connections: CONNECTIONS,
          seconds: t.seconds,
          requests: result.requests.total,
          requestsPerSecond: Math.round(result.requests.average),
          p50Ms: result.latency.p50,
          p90Ms: result.latency.p90,
          p99Ms: result.latency.p99,
          maxMs: result.latency.max,
          errors: result.errors + result.timeouts + result.non2xx,
        };
        rows.push(row);
        console.log(`[cache ${cache}, ${executor}] ${t.name}: ${row.requestsPerSecond} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, errors ${row.errors}`);
      }
      return rows;
    };
    const latency = await measure(ix, "on");
    await ix.stop();
    // The same chain served with every request running its SQL.
    const uncachedSchema = `${schema}_nocache`;
    ix = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir, databaseUrl: scratch?.url, schema: uncachedSchema, env: { API_CACHE: "off" } });
    await ix.waitReady(300_000);
    await ix.waitForBlock(head, 120_000);
    const latencyUncached = await measure(ix, "off");
    await ix.stop();
    // Baseline, same run: uncached through Ponder's graphql() middleware.
    ix = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir, databaseUrl: scratch?.url, schema: `${schema}_ponder`, env: { API_CACHE: "off", GRAPHQL_EXECUTOR: "ponder" } });
    await ix.waitReady(300_000);
    await ix.waitForBlock(head, 120_000);
    const latencyUncachedPonderMiddleware = (await measure(ix, "off", "ponder graphql() middleware")).filter((row) => row.name.includes("GraphQL") || row.name.startsWith("README"));
    const speedup = latencyUncachedPonderMiddleware.map((base) => {
      const now = latencyUncached.find((row) => row.name === base.name)!;
      return { name: base.name, p99Ms: now.p99Ms, baselineP99Ms: base.p99Ms, p99Ratio: Number((base.p99Ms / Math.max(now.p99Ms, 1)).toFixed(2)), requestsPerSecondRatio: Number((now.requestsPerSecond / Math.max(base.requestsPerSecond, 1)).toFixed(2)) };
    });
    for (const row of speedup) console.log(`uncached ${row.name}: p99 ${row.p99Ms} ms vs ${row.baselineP99Ms} ms through Ponder's middleware (${row.p99Ratio}x), req/s ${row.requestsPerSecondRatio}x`);
    const report = {
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
      goals: GOALS,
      backfill,
      latency,
      latencyUncached,
      latencyUncachedPonderMiddleware,
      uncachedVersusPonderMiddleware: speedup,
      met: {
        backfill: backfill.eventsPerSecond >= GOALS.backfillEventsPerSecond,
        p99: latency.every((l) => l.p99Ms <= GOALS.p99Ms),
        p99Uncached: latencyUncached.every((l) => l.p99Ms <= GOALS.p99UncachedMs),
      },
      chain: { blocks: Number(head), txsPerBlock: TXS_PER_BLOCK },
      loadAverage: (await import("node:os")).loadavg(),
      scenarioContents: Object.keys(scenario.content).length,
      loadContents: load.contentIds.length,
      documentedQueries: documented.length,
    };
    mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
    writeFileSync(join(REPO_ROOT, "bench", "indexer.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`wrote bench/indexer.json; goals met: backfill ${report.met.backfill}, p99 ${report.met.p99} (uncached ${report.met.p99Uncached}); load average ${report.loadAverage.map((l) => l.toFixed(1)).join(" ")}`);
  } finally {
    if (ix && process.env.BENCH_LOG) writeFileSync(process.env.BENCH_LOG, ix.log());
    await ix?.stop();
    await chain?.stop();
    await scratch?.drop();
  }
}

await main();
