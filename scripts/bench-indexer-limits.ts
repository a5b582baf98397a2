/**
 * `node scripts/bench-indexer-limits.ts`: what an abusive nested GraphQL query costs the indexer
 * with its admission limits (defaults) and without them (baseline: GRAPHQL_MAX_DEPTH and
 * GRAPHQL_MAX_COST lifted), on the same chain and test scenario, in the same run.
 *
 * For contents -> creatorProfile -> contents nested 2, 3 and 4 lists deep it prints the query's
 * answer (status, time) and the time of a /health request sent 20 ms after it (on the baseline a
 * running query holds up every other client). Each figure is the median of 3 runs after a warm-up
 * query. Figures only; nothing is asserted.
 */
import { startIndexer, type IndexerProcess } from "../test/indexer/harness.ts";
import { indexedScenario } from "../test/indexer/scenario.ts";

const nested = (levels: number) => {
  let inner = "id";
  for (let i = 0; i < levels; i++) inner = `contents { items { ${i === 0 ? inner : `creatorProfile { ${inner} }`} } }`;
  return `{ ${inner} }`;
};

async function probe(ix: IndexerProcess, levels: number) {
  const t0 = performance.now();
  const query = fetch(`${ix.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: nested(levels) }),
  }).then(async (res) => ({ status: res.status, body: await res.text(), ms: performance.now() - t0 }));
  await new Promise((r) => setTimeout(r, 20));
  const h0 = performance.now();
  const health = await fetch(`${ix.url}/health`);
  const healthMs = performance.now() - h0;
  const answer = await query;
  const code = answer.status === 200 ? `${answer.body.length} bytes` : (JSON.parse(answer.body).errors?.[0]?.extensions?.code ?? "");
  return { status: answer.status, code, queryMs: answer.ms, healthStatus: health.status, healthMs };
}

const { chain, ix: limited } = await indexedScenario({ env: { API_CACHE: "off" } });
let baseline: IndexerProcess | undefined;
try {
  baseline = await startIndexer({
    rpcUrl: chain.rpcUrl,
    deploymentsDir: chain.deploymentsDir,
    env: { API_CACHE: "off", GRAPHQL_MAX_DEPTH: "1000", GRAPHQL_MAX_COST: String(Number.MAX_SAFE_INTEGER), GRAPHQL_TIMEOUT_MS: "600000" },
  });
  await baseline.waitReady();
  await baseline.waitForBlock((await chain.publicClient.getBlockNumber()) - 1n);
  for (const ix of [limited, baseline]) await probe(ix, 2); // warm-up (first query plans and loads)
  console.log("lists deep | limits  | answer                     | query ms | /health ms");
  for (const levels of [2, 3, 4]) {
    for (const [name, ix] of [["default", limited], ["lifted", baseline]] as const) {
      const runs = [await probe(ix, levels), await probe(ix, levels), await probe(ix, levels)];
      const median = (pick: (run: (typeof runs)[number]) => number) => runs.map(pick).sort((a, b) => a - b)[1]!;
      const r = { ...runs[0]!, queryMs: median((run) => run.queryMs), healthMs: median((run) => run.healthMs) };
      console.log(
        `${String(levels).padStart(10)} | ${name.padEnd(7)} | ${`${r.status} ${r.code}`.padEnd(26)} | ${r.queryMs.toFixed(0).padStart(8)} | ${r.healthMs.toFixed(0).padStart(10)}`,
      );
    }
  }
} finally {
  await baseline?.stop();
  await limited.stop();
  await chain.stop();
}
