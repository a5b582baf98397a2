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
 *    contents of a creator, a wallet's access, a creator's earnings (GraphQL), and /api/access;
 *    first with the API's response cache (the default), then with API_CACHE=off on a second
 *    `ponder start` over the same chain (every request runs its SQL).
 * Writes bench/indexer.json. Goals: >= 2,000 events/s backfill, p99 <= 50 ms.
 */
import { mkdirSync, writeFileSync } from "node:fs";
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
const GOALS = { backfillEventsPerSecond: 2_000, p99Ms: 50 };

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
    ];
    const measure = async (server: IndexerProcess, cache: "on" | "off") => {
      // Every query must answer correctly before it is timed.
      for (const t of targets) {
        const res = await fetch(`${server.url}${t.request.path}`, t.request as RequestInit);
        const body = await res.text();
        if (!res.ok || body.includes('"errors"')) throw new Error(`${t.name}: ${res.status} ${body.slice(0, 300)}`);
      }
      const rows = [];
      for (const t of targets) {
        const { path, ...request } = t.request;
        const result = await autocannon({ url: `${server.url}${path}`, connections: CONNECTIONS, duration: SECONDS, ...request });
        const row = {
          name: t.name,
          apiCache: cache,
          connections: CONNECTIONS,
          seconds: SECONDS,
          requests: result.requests.total,
          requestsPerSecond: Math.round(result.requests.average),
          p50Ms: result.latency.p50,
          p90Ms: result.latency.p90,
          p99Ms: result.latency.p99,
          maxMs: result.latency.max,
          errors: result.errors + result.timeouts + result.non2xx,
        };
        rows.push(row);
        console.log(`[cache ${cache}] ${t.name}: ${row.requestsPerSecond} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, errors ${row.errors}`);
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
    const report = {
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
      goals: GOALS,
      backfill,
      latency,
      latencyUncached,
      met: {
        backfill: backfill.eventsPerSecond >= GOALS.backfillEventsPerSecond,
        p99: latency.every((l) => l.p99Ms <= GOALS.p99Ms),
        p99Uncached: latencyUncached.every((l) => l.p99Ms <= GOALS.p99Ms),
      },
      chain: { blocks: Number(head), txsPerBlock: TXS_PER_BLOCK },
      loadAverage: (await import("node:os")).loadavg(),
      scenarioContents: Object.keys(scenario.content).length,
      loadContents: load.contentIds.length,
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
