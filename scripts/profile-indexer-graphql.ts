/**
 * `node scripts/profile-indexer-graphql.ts`: where the indexer's CPU goes while it answers one
 * GraphQL query from 50 clients (autocannon, PROFILE_SECONDS, default 10), on the benchmark's
 * chain (scenario + bulk load, as scripts/bench-indexer.ts builds it).
 *
 * `ponder start` runs with `--cpu-prof`; the samples of the load window (the last seconds before
 * shutdown) are summed by package and by function, self and inclusive, and printed with the
 * load's req/s and latency. Settings: PROFILE_DATABASE_URL (Postgres; PGlite when unset; a
 * scratch database is made and dropped), API_CACHE (default off: every request runs its SQL),
 * PROFILE_DIR (where the .cpuprofile is kept, default a temp dir). Figures only.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "viem";
import { INDEXER_DIR, scratchDatabase, startIndexer, startLocalChain } from "../test/indexer/harness.ts";
import { runScenario } from "../test/indexer/scenario.ts";
import { generateLoad } from "../test/indexer/load.ts";

const require = createRequire(join(INDEXER_DIR, "package.json"));
const autocannon = require("autocannon") as (opts: Record<string, unknown>) => Promise<any>;
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const profileDir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), "sv-indexer-prof-"));

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }

function summarize(profile: Profile, windowUs: number) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let t = profile.startTime;
  const times = profile.timeDeltas.map((d) => (t += d));
  const end = times.at(-1)!;
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    // The load window: up to 1.5 s before the end (shutdown), windowUs long.
    if (times[i]! > end - windowUs - 1.5e6 && times[i]! < end - 1.5e6) self.set(id, (self.get(id) ?? 0) + profile.timeDeltas[i]!);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const label = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/node_modules/").at(-1)!.replace(/^file:\/\/.*\/indexer\//, "indexer/")}:${n.callFrame.lineNumber + 1}`;
  const pkg = (n: ProfileNode) => {
    const url = n.callFrame.url;
    if (url.includes("/node_modules/")) {
      const parts = url.split("/node_modules/").at(-1)!.split("/");
      return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
    }
    if (url.includes("/indexer/src/")) return "indexer/src";
    return url.startsWith("wasm://") ? "wasm (PGlite's Postgres)" : url || n.callFrame.functionName;
  };
  const byPackage = new Map<string, number>();
  const bySelf = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const node = nodes.get(id)!;
    byPackage.set(pkg(node), (byPackage.get(pkg(node)) ?? 0) + us);
    bySelf.set(label(node), (bySelf.get(label(node)) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(nodes.get(at)!);
      if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + us), seen.add(l);
    }
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`).join("\n");
  return { totalMs: total / 1000, byPackage: top(byPackage, 14), bySelf: top(bySelf, 15), inclusive: top(new Map([...inclusive].filter(([k]) => /indexer\/|ponder\/|graphql\/execution|drizzle-orm\/(pglite|node-postgres)|pglite\/dist\/index|pg\/lib\/client/.test(k))), 20) };
}

const chain = await startLocalChain({ extraArgs: ["--gas-limit", "1000000000"] });
const scratch = process.env.PROFILE_DATABASE_URL ? await scratchDatabase(process.env.PROFILE_DATABASE_URL) : undefined;
try {
  await runScenario(chain);
  const load = await generateLoad(chain, { txs: 48, recipientsPerTx: 100, passAirdrops: 300, contents: 300, purchases: 120, seed: "bench", txsPerBlock: 25 });
  await chain.rpc("anvil_mine", [toHex(64)]);
  const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
  const ix = await startIndexer({
    rpcUrl: chain.rpcUrl,
    deploymentsDir: chain.deploymentsDir,
    databaseUrl: scratch?.url,
    env: { API_CACHE: process.env.API_CACHE ?? "off", NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` },
  });
  try {
    await ix.waitReady(300_000);
    await ix.waitForBlock(head, 120_000);
    const body = JSON.stringify({
      query: `{ contents(where: { creator: "${load.creator.toLowerCase()}" }, orderBy: "registeredBlock", orderDirection: "desc", limit: 50) { totalCount items { id tier manifestPieceCid price inSubscription minCoinBalance } pageInfo { hasNextPage endCursor } } }`,
    });
    const check = await fetch(`${ix.url}/graphql`, { method: "POST", body, headers: { "content-type": "application/json" } });
    if (!check.ok) throw new Error(`query failed: ${check.status} ${await check.text()}`);
    const result = await autocannon({ url: `${ix.url}/graphql`, method: "POST", body, headers: { "content-type": "application/json" }, connections: 50, duration: SECONDS });
    console.log(
      `contents of a creator, ${scratch ? "Postgres" : "PGlite"}, API_CACHE=${process.env.API_CACHE ?? "off"}, 50 clients, ${SECONDS} s: ` +
        `${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors + result.non2xx}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`,
    );
  } finally {
    await ix.stop(); // writes the profile
  }
  const file = readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile")).sort().at(-1)!;
  const summary = summarize(JSON.parse(readFileSync(join(profileDir, file), "utf8")) as Profile, SECONDS * 1e6);
  console.log(`\nCPU of the indexer process during the load (${summary.totalMs.toFixed(0)} ms sampled; ${join(profileDir, file)}):\nby package (self)\n${summary.byPackage}\n\nby function (self)\n${summary.bySelf}\n\ninclusive (indexer, Ponder, graphql, drivers)\n${summary.inclusive}`);
} finally {
  await chain.stop();
  await scratch?.drop();
}
