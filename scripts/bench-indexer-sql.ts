/**
 * `node scripts/bench-indexer-sql.ts`: what a cross join sent to SQL over HTTP costs a PGlite
 * indexer with the SQL guard's cost limit (default INDEXER_SQL_MAX_COST) and without it (baseline:
 * the limit lifted, i.e. what Ponder alone does), on the same chain and test scenario, in the same
 * run.
 *
 * For `select count(*)` over 3, 4 and 5 copies of `credit` (23 rows in the scenario: 12k, 280k,
 * 6.4M combinations) it prints the query's answer (status, time), the time of a /health request
 * sent 20 ms after it, and how long a transaction mined at that moment takes to show up in the
 * index (from its receipt). PGlite runs the query on the indexer's only connection in its own thread, so on the
 * baseline both wait for it. Each figure is the median of 3 runs after a warm-up; nothing is
 * asserted.
 */
import { creatorRegistryAbi } from "@streamvault/lib/deployments/abis.ts";
import { startIndexer, type IndexerProcess } from "../test/indexer/harness.ts";
import { indexedScenario } from "../test/indexer/scenario.ts";

const crossJoin = (tables: number, salt: number) =>
  `select count(*) + ${salt} as n from ${Array.from({ length: tables }, (_, i) => `credit t${i}`).join(", ")}`;

const { chain, s, ix: guarded } = await indexedScenario({ env: { API_CACHE: "off" } });
let baseline: IndexerProcess | undefined;
let salt = 0;
let uri = 0;

async function probe(ix: IndexerProcess, tables: number) {
  // A new constant each time: Ponder caches /sql results by query text until a table changes.
  const sql = encodeURIComponent(JSON.stringify({ json: { sql: crossJoin(tables, salt++), params: [] } }));
  const t0 = performance.now();
  const query = fetch(`${ix.url}/sql/db?sql=${sql}`).then(async (res) => ({ status: res.status, body: await res.text(), ms: performance.now() - t0 }));
  await new Promise((r) => setTimeout(r, 20));
  // Meanwhile: another client's /health, and a transaction mined now (anvil does not wait for the
  // indexer): how long until it is indexed.
  const h0 = performance.now();
  const healthAnswer = fetch(`${ix.url}/health`).then((res) => ({ status: res.status, ms: performance.now() - h0 }));
  const bex = chain.accounts[3]!;
  const hash = await chain.wallet(bex).writeContract({ address: s.contracts.registry, abi: creatorRegistryAbi, functionName: "setProfileURI", args: [`ipfs://bench-${uri++}`] });
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 5 });
  const i0 = performance.now();
  await ix.waitForBlock(receipt.blockNumber, 120_000);
  const indexedMs = performance.now() - i0;
  const health = await healthAnswer;
  const healthMs = health.ms;
  const answer = await query;
  let code = "";
  try {
    const body = JSON.parse(answer.body);
    code = body.error ? `${body.error} (${body.cost})` : body.rows ? `n=${body.rows[0]?.n}` : "";
  } catch {
    code = answer.body.slice(0, 20);
  }
  return { status: answer.status, code, queryMs: answer.ms, healthStatus: health.status, healthMs, indexedMs };
}

try {
  baseline = await startIndexer({
    rpcUrl: chain.rpcUrl,
    deploymentsDir: chain.deploymentsDir,
    env: { API_CACHE: "off", INDEXER_SQL_MAX_COST: String(Number.MAX_SAFE_INTEGER), INDEXER_SQL_MAX_ROWS: String(Number.MAX_SAFE_INTEGER) },
  });
  await baseline.waitReady();
  await baseline.waitForBlock(await chain.publicClient.getBlockNumber());
  for (const ix of [guarded, baseline]) await probe(ix, 2); // warm-up
  console.log("tables | cost limit | answer                          | query ms | /health ms | next block indexed ms");
  const ratios: string[] = [];
  for (const tables of [3, 4, 5]) {
    const medians: Record<string, { queryMs: number; healthMs: number; indexedMs: number }> = {};
    for (const [name, ix] of [["default", guarded], ["lifted", baseline]] as const) {
      const runs = [await probe(ix, tables), await probe(ix, tables), await probe(ix, tables)];
      const median = (pick: (run: (typeof runs)[number]) => number) => runs.map(pick).sort((a, b) => a - b)[1]!;
      const r = { ...runs[0]!, queryMs: median((run) => run.queryMs), healthMs: median((run) => run.healthMs), indexedMs: median((run) => run.indexedMs) };
      medians[name] = r;
      console.log(
        `${String(tables).padStart(6)} | ${name.padEnd(10)} | ${`${r.status} ${r.code}`.padEnd(31)} | ${r.queryMs.toFixed(0).padStart(8)} | ${r.healthMs.toFixed(0).padStart(10)} | ${r.indexedMs.toFixed(0).padStart(21)}`,
      );
    }
    const ratio = (key: "queryMs" | "healthMs" | "indexedMs") => (medians.lifted![key] / Math.max(1, medians.default![key])).toFixed(1);
    ratios.push(`${tables} tables: lifted/default query ${ratio("queryMs")}x, /health ${ratio("healthMs")}x, next block indexed ${ratio("indexedMs")}x`);
  }
  for (const line of ratios) console.log(line);
  const load = (await import("node:os")).loadavg();
  console.log(`load average ${load.map((l) => l.toFixed(1)).join(" ")}`);
} finally {
  await baseline?.stop();
  await guarded.stop();
  await chain.stop();
}
