/**
 * Key-release latency and throughput on this machine (part of `npm run bench:web`).
 *
 * 1. anvil + StreamVault deployed with viem, one premium item, its key in an in-memory PGlite key
 *    store; 50 funded wallets that each subscribe (so each release passes a real on-chain check);
 * 2. the key-release server on 127.0.0.1 (node:http, PGlite audit/plays/sessions in memory);
 *    each wallet signs in with SIWE over HTTP and gets its own session cookie; every wallet's
 *    release is unwrapped once and compared with the stored key before anything is timed;
 * 3. autocannon (in a worker thread, so the load generator does not share the server's event loop),
 *    BENCH_CONNECTIONS (default 50) connections for BENCH_SECONDS (default 10): connection i sends
 *    wallet i's cookie and rotates through pre-generated ephemeral P-256 public keys;
 * 4. the same autocannon run against anvil's JSON-RPC with the bare `hasValidAccess` eth_call.
 * Writes bench/keyrelease.json. Goals: p50 <= 30 ms, >= 300 releases/s.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { createPublicClient, encodeFunctionData, http, zeroAddress, type PublicClient } from "viem";
import { loadInWorker, type LoadResult } from "./bench-load.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WALLETS = Number(process.env.BENCH_WALLETS ?? 50);
const GOALS = { p50Ms: 30, releasesPerSecond: 300 };

/** A load run as bench/keyrelease.json records it: named, without the 2xx split bench-scale reports. */
function named(name: string, { ok: _ok, okPerSecond: _okPerSecond, ...result }: LoadResult) {
  return { name, ...result };
}

async function main(): Promise<void> {
  const { ABIS, contractOf } = await import("@streamvault/lib/deployments");
  const { REPO_ROOT } = await import("@streamvault/lib/deployments/artifacts.ts");
  const { startKeyReleaseServer } = await import("@streamvault/lib/keyrelease/server.ts");
  const { generateEphemeralKeyPair, unwrapContentKey } = await import("@streamvault/lib/keyrelease/wrap.ts");
  const { SIWE_DOMAIN, SIWE_URI, SUB_PRICE, signIn, startChainFixture } = await import("../test/keyrelease/fixture.ts");

  const f = await startChainFixture();
  let server: Awaited<ReturnType<typeof startKeyReleaseServer>> | undefined;
  try {
    const item = await f.registerItem("bench-item");
    const ca = contractOf(f.deployment, "ContentAccess");
    const wallets = [];
    for (let i = 0; i < WALLETS; i++) {
      const account = await f.newAccount();
      await f.write(account, ca.address, ABIS.ContentAccess, "subscribe", [zeroAddress, 1, SUB_PRICE], SUB_PRICE);
      wallets.push(account);
    }
    // JSON-RPC batching: the access reads of concurrent requests share one HTTP round trip to the
    // node (each is still its own eth_call at the latest block).
    const batchedClient = createPublicClient({ chain: f.chain, transport: http(f.anvil.rpcUrl, { batch: { wait: 0 } }) }) as PublicClient;
    server = await startKeyReleaseServer({
      port: 0,
      host: "127.0.0.1",
      publicClient: process.env.BENCH_RPC_BATCH === "0" ? f.publicClient : batchedClient,
      deployment: f.deployment,
      keyStore: f.keyStore,
      siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI },
      // The benchmark measures releases, not the limiter: limits far above what 10 s can reach.
      rateLimits: { wallet: { points: 1_000_000, durationSeconds: 60 }, ip: { points: 10_000_000, durationSeconds: 60 } },
      logger: { info() {}, warn() {}, error() {} },
    });
    const cookies: string[] = [];
    for (const account of wallets) cookies.push(await signIn(server.url, account));
    console.log(`${WALLETS} wallets subscribed and signed in`);

    // Correctness before timing: every wallet's release unwraps to the stored key.
    for (let i = 0; i < WALLETS; i++) {
      const client = await generateEphemeralKeyPair();
      const res = await fetch(`${server.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie: cookies[i]! }, body: JSON.stringify({ ephemeralPublicKey: client.publicKey }) });
      const body = (await res.json()) as { wrapped: never; wallet: string };
      if (res.status !== 200) throw new Error(`release for wallet ${i}: ${res.status} ${JSON.stringify(body)}`);
      const key = await unwrapContentKey({ privateKey: client.privateKey, wrapped: body.wrapped, contentId: item.contentId, wallet: body.wallet });
      if (!Buffer.from(key).equals(Buffer.from(item.key))) throw new Error(`wallet ${i}: unwrapped key differs from the stored key`);
    }
    const publicKeys: string[] = [];
    for (let i = 0; i < 64; i++) publicKeys.push((await generateEphemeralKeyPair()).publicKey);

    const release = named(
      "POST /api/keys/:contentId (session lookup, cached <= 5 s; accessOf eth_call at latest block; content key, cached unsealed; ECDH/HKDF/AES-GCM wrap; audit + plays rows written before the answer)",
      await loadInWorker({
        url: server.url,
        path: `/api/keys/${item.contentId}`,
        connections: CONNECTIONS,
        seconds: SECONDS,
        headers: cookies.map((cookie) => ({ cookie })),
        bodies: publicKeys.map((k) => JSON.stringify({ ephemeralPublicKey: k })),
      }),
    );
    console.log(`key release: ${release.requestsPerSecond} releases/s, p50 ${release.p50Ms} ms, p99 ${release.p99Ms} ms, non-2xx ${release.non2xx}, errors ${release.errors}`);

    const bare = named(
      "bare eth_call ContentAccess.hasValidAccess (anvil JSON-RPC, latest block)",
      await loadInWorker({
        url: f.anvil.rpcUrl,
        path: "/",
        connections: CONNECTIONS,
        seconds: SECONDS,
        headers: [{}],
        bodies: wallets.map((w, i) =>
          JSON.stringify({
            jsonrpc: "2.0",
            id: i,
            method: "eth_call",
            params: [{ to: ca.address, data: encodeFunctionData({ abi: ABIS.ContentAccess, functionName: "hasValidAccess", args: [w.address, item.contentId] }) }, "latest"],
          }),
        ),
      }),
    );
    console.log(`bare hasValidAccess eth_call: ${bare.requestsPerSecond} calls/s, p50 ${bare.p50Ms} ms, p99 ${bare.p99Ms} ms`);

    const audited = Number((await server.service.db.query<{ n: unknown }>("SELECT count(*) AS n FROM audit_log WHERE event = 'release' AND outcome = 'allowed'")).rows[0]!.n);
    const report = {
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model },
      setup: { wallets: WALLETS, connections: CONNECTIONS, seconds: SECONDS, database: "PGlite (in memory, worker thread)", chain: "anvil (127.0.0.1)", rpcBatching: process.env.BENCH_RPC_BATCH !== "0", loadTool: "autocannon 9.0.0 in a worker thread, one wallet cookie per connection" },
      goals: GOALS,
      keyRelease: release,
      bareHasValidAccess: bare,
      auditRowsForReleases: audited,
      met: {
        p50: release.p50Ms <= GOALS.p50Ms,
        throughput: release.requestsPerSecond >= GOALS.releasesPerSecond,
        allSucceeded: release.non2xx === 0 && release.errors === 0,
      },
    };
    mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
    writeFileSync(join(REPO_ROOT, "bench", "keyrelease.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`wrote bench/keyrelease.json; goals met: p50 ${report.met.p50}, throughput ${report.met.throughput}, all 2xx ${report.met.allSucceeded}`);
  } finally {
    await server?.close();
    await f.stop();
  }
}

await main();
