/**
 * `node scripts/bench-indexer-cpu.ts`: what one request costs, in CPU, in each process. Builds the
 * benchmark's chain (scenario + bulk load, as scripts/bench-indexer.ts does), starts `ponder start`
 * on Postgres with the response cache off, and for each chosen query runs 50 autocannon clients for
 * CPU_SECONDS (default 5). Prints req/s, p50/p99 and the CPU microseconds per request of the indexer
 * process tree, of every Postgres backend and of this process (the load generator), from
 * /proc/<pid>/stat before and after (Linux only). With CPU_COMPARE=resolvers (default) each query is
 * measured again on an indexer with GRAPHQL_PLANS=off (Ponder's resolvers), in the same run.
 *
 * Settings: CPU_DATABASE_URL (default postgres://streamvault:streamvault@127.0.0.1:5432/postgres; a
 * scratch database is made and dropped), CPU_QUERIES (comma-separated: c contents of a creator,
 * w a wallet's access, e a creator's earnings, a GET /api/access, 1-27 the indexer README's
 * documented queries; default c,w,a,8,15), CPU_SECONDS, CPU_COMPARE (resolvers | none). Figures only.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { toHex } from "viem";
import { INDEXER_DIR, scratchDatabase, startIndexer, startLocalChain } from "../test/indexer/harness.ts";
import { runScenario } from "../test/indexer/scenario.ts";
import { generateLoad } from "../test/indexer/load.ts";

const require = createRequire(join(INDEXER_DIR, "package.json"));
const autocannon = require("autocannon") as (opts: Record<string, unknown>) => Promise<any>;
const SECONDS = Number(process.env.CPU_SECONDS ?? 5);
const QUERIES = (process.env.CPU_QUERIES ?? "c,w,a,8,15").split(",");
const COMPARE = (process.env.CPU_COMPARE ?? "resolvers") === "resolvers";
const TICK_US = 1_000_000 / 100; // USER_HZ

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
function ticks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // the process ended
  }
}
function processes(): { pid: number; ppid: number; name: string }[] {
  const out: { pid: number; ppid: number; name: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      out.push({ pid: Number(entry), ppid: Number(stat.split(") ")[1]!.split(" ")[1]), name: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) });
    } catch {
      // gone
    }
  }
  return out;
}
function tree(root: number): number[] {
  const all = processes();
  const pids = [root];
  for (let i = 0; i < pids.length; i++) pids.push(...all.filter((p) => p.ppid === pids[i]).map((p) => p.pid));
  return pids;
}
const postgresBackends = () => processes().filter((p) => p.name === "postgres").map((p) => p.pid);
const sum = (pids: number[]) => pids.reduce((total, pid) => total + ticks(pid), 0);

const chain = await startLocalChain({ extraArgs: ["--gas-limit", "1000000000"] });
const scratch = await scratchDatabase(process.env.CPU_DATABASE_URL ?? "postgres://streamvault:streamvault@127.0.0.1:5432/postgres");
try {
  await runScenario(chain);
  const load = await generateLoad(chain, { txs: 48, recipientsPerTx: 100, passAirdrops: 300, contents: 300, purchases: 120, seed: "bench", txsPerBlock: 25 });
  await chain.rpc("anvil_mine", [toHex(64)]);
  const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
  const creator = load.creator.toLowerCase();
  const fan = load.fan.toLowerCase();
  const graphql = (query: string) => ({ method: "POST", path: "/graphql", body: JSON.stringify({ query }) });
  const targets: Record<string, { method: string; path: string; body?: string }> = {
    c: graphql(`{ contents(where: { creator: "${creator}" }, orderBy: "registeredBlock", orderDirection: "desc", limit: 50) { totalCount items { id tier manifestPieceCid price inSubscription minCoinBalance } pageInfo { hasNextPage endCursor } } }`),
    w: graphql(`{ accessGrants(where: { buyer: "${fan}" }, limit: 100) { totalCount items { contentId expiresAt } } coinHoldings(where: { holder: "${fan}" }) { items { coin balance } } passHoldings(where: { holder: "${fan}" }) { items { pass count } } subscription(id: "${fan}") { expiresAt } }`),
    e: graphql(`{ earnings(where: { payee: "${creator}" }) { items { token creatorShare platformFee collaboratorShare totalCredited withdrawn contentAccessBalance paymentChannelsBalance } } credits(where: { payee: "${creator}" }, orderBy: "block", orderDirection: "desc", limit: 20) { totalCount items { amount roleName contentId } } }`),
    a: { method: "GET", path: `/api/access/${fan}?includeFree=false` },
  };
  const readme = readFileSync(join(INDEXER_DIR, "README.md"), "utf8");
  [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)]
    .map((m) => m[1]!.trim())
    .filter((q) => !q.includes("<"))
    .forEach((query, i) => (targets[String(i + 1)] = graphql(query)));
  for (const executor of COMPARE ? ["plans", "resolvers"] : ["plans"]) {
    const ix = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir, databaseUrl: scratch.url, env: { API_CACHE: "off", ...(executor === "resolvers" ? { GRAPHQL_PLANS: "off" } : {}) } });
    try {
      await ix.waitReady(300_000);
      await ix.waitForBlock(head, 120_000);
      for (const name of QUERIES) {
        const target = targets[name];
        if (target === undefined) throw new Error(`CPU_QUERIES: no query "${name}" (c, w, e, a or 1-${Object.keys(targets).length - 4})`);
        const request = { method: target.method, body: target.body, headers: { "content-type": "application/json" } };
        const check = await fetch(`${ix.url}${target.path}`, request);
        const text = await check.text();
        if (!check.ok || text.includes('"errors"')) throw new Error(`${name}: ${check.status} ${text.slice(0, 300)}`);
        const indexer = tree(ix.child.pid!);
        const backends = postgresBackends();
        const before = { indexer: sum(indexer), postgres: sum(backends), bench: ticks(process.pid) };
        const result = await autocannon({ url: `${ix.url}${target.path}`, ...request, connections: 50, duration: SECONDS });
        const after = { indexer: sum(indexer), postgres: sum(postgresBackends()), bench: ticks(process.pid) };
        const perRequest = (d: number) => Math.round((d * TICK_US) / result.requests.total);
        console.log(
          `${executor.padEnd(9)} ${name.padEnd(3)} ${String(Math.round(result.requests.average)).padStart(5)} req/s  p50 ${String(result.latency.p50).padStart(4)} ms  p99 ${String(result.latency.p99).padStart(4)} ms  ` +
            `CPU µs per request: indexer ${perRequest(after.indexer - before.indexer)}, Postgres ${perRequest(after.postgres - before.postgres)}, load generator ${perRequest(after.bench - before.bench)}`,
        );
      }
    } finally {
      await ix.stop();
    }
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
} finally {
  await chain.stop();
  await scratch.drop();
}
