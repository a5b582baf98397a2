/**
 * `npm run bench:scale`: key release as a service, one instance against two behind a load balancer,
 * all sharing one Postgres; writes bench/scale.json.
 *
 * 1. anvil + StreamVault deployed, one premium item offered per minute too; a fresh Postgres
 *    database (created on the server BENCH_DATABASE_URL / TEST_DATABASE_URL / DATABASE_URL points
 *    at, dropped at the end) holds the content key (sealed with a master key both instances share),
 *    sessions, nonces, rate limits, plays and stream minutes;
 * 2. each key-release instance is its own Node process (lib/keyrelease/server.ts), so its CPU time
 *    is its own; the balancer is a small round-robin node:http proxy in a third process that
 *    appends X-Forwarded-For (the instances trust one hop) and retries a request once on the other
 *    instance when a connection fails before an answer (key release is a read: safe to retry);
 * 3. BENCH_WALLETS (200) subscribed wallets, each signed in; every wallet's release through the
 *    balancer is unwrapped and compared with the stored key before anything is timed;
 * 4. autocannon (worker thread) with BENCH_CONNECTIONS (200) connections, one wallet each, for
 *    BENCH_SECONDS (10): one instance direct, one instance behind the balancer, two behind it;
 *    then a failover run in which one of the two is killed (SIGKILL) mid-run;
 * 5. anomaly counts across the two instances: a SIWE nonce accepted twice (`nonceReuse`), a stream
 *    minute counted twice (`minutesDoubleCounted`), a play counted twice (`playsDoubleCounted`), an
 *    answered release with no audit row, or a request that failed during the failover (`lost`).
 *
 * Two cores cannot show linear scaling (the load generator, the balancer, Postgres and anvil share
 * them): the figures that must hold are the cost per release (CPU seconds per 1,000) and the
 * anomaly counts (all 0).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseEther, zeroAddress } from "viem";
import { loadInWorker, type LoadJob } from "./bench-load.ts";
import { freshDatabase, startChild, type Child, type InstanceConfig } from "../test/keyrelease/cluster.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200);
const WALLETS = Number(process.env.BENCH_WALLETS ?? 200);
const TRIALS = Number(process.env.BENCH_ANOMALY_TRIALS ?? 20);
const RATE = parseEther("0.0001");

/** A load run as bench/scale.json records it: releases/s counts only the 2xx answers. */
async function releases(job: LoadJob) {
  const { requests, ok, okPerSecond, p50Ms, p99Ms, maxMs, non2xx, errors } = await loadInWorker(job);
  return { requests, ok, releasesPerSecond: okPerSecond, p50Ms, p99Ms, maxMs, non2xx, errors };
}

function databaseServerUrl(): string {
  const url = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      "bench:scale needs Postgres (the instances share it): set BENCH_DATABASE_URL (or TEST_DATABASE_URL / DATABASE_URL) to a role that may CREATE DATABASE, e.g.\n" +
        "  pg_ctlcluster 15 main start && BENCH_DATABASE_URL=postgresql://streamvault:streamvault@127.0.0.1:5432/postgres npm run bench:scale",
    );
  }
  return url;
}

async function main(): Promise<void> {
  const pg = (await import("pg")).default;
  const { ABIS, contractOf } = await import("@streamvault/lib/deployments");
  const { REPO_ROOT } = await import("@streamvault/lib/deployments/artifacts.ts");
  const { openKeyStore } = await import("@streamvault/lib/keys");
  const { generateEphemeralKeyPair, unwrapContentKey } = await import("@streamvault/lib/keyrelease/wrap.ts");
  const { voucherTypedData } = await import("@streamvault/lib/keyrelease/channels.ts");
  const { SIWE_DOMAIN, SIWE_URI, SUB_PRICE, signIn, siweMessage, startChainFixture } = await import("../test/keyrelease/fixture.ts");

  const database = await freshDatabase(databaseServerUrl(), "sv_bench_scale");
  const databaseUrl = database.url;
  const masterKeyHex = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");

  const f = await startChainFixture();
  const children: Child[] = [];
  try {
    const item = await f.registerItem("scale-item");
    await f.setStreamPrice(item.contentId, RATE);
    const keyStore = await openKeyStore({ databaseUrl, masterKey: Buffer.from(masterKeyHex, "hex"), env: {} });
    await keyStore.putKey(item.contentId, item.key);
    await keyStore.close();

    const instanceConfig: InstanceConfig = { role: "instance", databaseUrl, masterKeyHex, rpcUrl: f.anvil.rpcUrl, chainId: f.chain.id, deployment: f.deployment, siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI } };
    // The first creates the schema; the second opens it.
    const a = await startChild(instanceConfig);
    const b = await startChild(instanceConfig);
    children.push(a, b);
    const single = await startChild({ role: "balancer", backends: [a.url] });
    const pair = await startChild({ role: "balancer", backends: [a.url, b.url] });
    children.push(single, pair);

    const ca = contractOf(f.deployment, "ContentAccess");
    const wallets = [];
    for (let i = 0; i < WALLETS; i++) {
      const account = await f.newAccount();
      await f.write(account, ca.address, ABIS.ContentAccess, "subscribe", [zeroAddress, 1, SUB_PRICE], SUB_PRICE);
      wallets.push(account);
    }
    const cookies: string[] = [];
    for (const [i, account] of wallets.entries()) cookies.push(await signIn(i % 2 === 0 ? a.url : b.url, account));
    console.log(`${WALLETS} wallets subscribed, signed in on alternate instances`);

    const path = `/api/keys/${item.contentId}`;
    const release = async (base: string, cookie: string) => {
      const client = await generateEphemeralKeyPair();
      const res = await fetch(`${base}${path}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: client.publicKey }) });
      return { res, client };
    };
    for (let i = 0; i < WALLETS; i++) {
      const { res, client } = await release(pair.url, cookies[i]!);
      const body = (await res.json()) as { wrapped: never; wallet: string };
      if (res.status !== 200) throw new Error(`release for wallet ${i}: ${res.status} ${JSON.stringify(body)}`);
      const key = await unwrapContentKey({ privateKey: client.privateKey, wrapped: body.wrapped, contentId: item.contentId, wallet: body.wallet });
      if (!Buffer.from(key).equals(Buffer.from(item.key))) throw new Error(`wallet ${i}: unwrapped key differs from the stored key`);
    }
    console.log(`every wallet's release through the balancer unwraps to the stored key`);

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const auditedReleases = async () => Number((await db.query("SELECT count(*) AS n FROM keyrelease.audit_log WHERE event = 'release' AND outcome = 'allowed'")).rows[0].n);
    const publicKeys: string[] = [];
    for (let i = 0; i < 64; i++) publicKeys.push((await generateEphemeralKeyPair()).publicKey);
    const job = (url: string, seconds = SECONDS): LoadJob => ({ url, path, connections: CONNECTIONS, seconds, headers: cookies.map((cookie) => ({ cookie })), bodies: publicKeys.map((k) => JSON.stringify({ ephemeralPublicKey: k })) });

    let unaudited = 0;
    const measure = async (name: string, url: string, instances: Child[], balancer?: Child) => {
      const before = await Promise.all(instances.map((c) => c.cpuSeconds()));
      const balancerBefore = balancer ? await balancer.cpuSeconds() : 0;
      const audited = await auditedReleases();
      const load = await releases(job(url));
      const cpu = (await Promise.all(instances.map((c) => c.cpuSeconds()))).reduce((n, s, i) => n + s - before[i]!, 0);
      const balancerCpu = balancer ? (await balancer.cpuSeconds()) - balancerBefore : 0;
      const auditRows = (await auditedReleases()) - audited;
      unaudited += Math.max(0, load.ok - auditRows);
      const row = {
        name,
        instances: instances.length,
        ...load,
        auditRows,
        cpuSecondsPer1000Releases: Number(((cpu / load.ok) * 1000).toFixed(3)),
        balancerCpuSecondsPer1000Releases: balancer ? Number(((balancerCpu / load.ok) * 1000).toFixed(3)) : null,
      };
      console.log(`${name}: ${row.releasesPerSecond} releases/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ${row.cpuSecondsPer1000Releases} instance CPU s / 1,000 releases, non-2xx ${row.non2xx}, errors ${row.errors}`);
      return row;
    };
    const runs = [
      await measure("one instance, direct", a.url, [a]),
      await measure("one instance behind the balancer", single.url, [a], single),
      await measure("two instances behind the balancer", pair.url, [a, b], pair),
    ];

    // ---- anomalies across the two instances (directly, so each check hits both)
    // A SIWE nonce issued by a, verified on a and b at once: one sign-in at most.
    let nonceReuse = 0;
    for (let t = 0; t < TRIALS; t++) {
      const account = wallets[t % wallets.length]!;
      const nonce = await (await fetch(`${a.url}/api/auth/nonce`)).json();
      const message = siweMessage(nonce, account.address);
      const signature = await account.signMessage({ message });
      const body = JSON.stringify({ message, signature });
      const statuses = await Promise.all([a, b, a, b].map((c) => fetch(`${c.url}/api/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body }).then((r) => r.status)));
      nonceReuse += Math.max(0, statuses.filter((s) => s === 200).length - 1);
    }
    // Fresh wallets each releasing on both instances at once: one play each.
    const playsOf = async () => ((await (await fetch(`${b.url}/api/plays/${item.contentId}`)).json()) as { plays: number; segments: number });
    const playsBefore = (await playsOf()).plays;
    for (let t = 0; t < TRIALS; t++) {
      const fresh = await f.newAccount();
      await f.write(fresh, ca.address, ABIS.ContentAccess, "subscribe", [zeroAddress, 1, SUB_PRICE], SUB_PRICE);
      const cookie = await signIn(a.url, fresh);
      await Promise.all([release(a.url, cookie), release(b.url, cookie), release(a.url, cookie), release(b.url, cookie)].map(async (p) => (await (await p).res.arrayBuffer(), undefined)));
    }
    const playsDoubleCounted = Math.max(0, (await playsOf()).plays - playsBefore - TRIALS);
    // One channel; each minute asked on both instances at once: each minute window counted once.
    const pc = contractOf(f.deployment, "PaymentChannels");
    const viewer = await f.newAccount();
    const minutes = Math.min(TRIALS, 10);
    const deposit = RATE * BigInt(minutes + 1);
    const channelId = await f.openChannel(viewer, item.contentId, deposit, RATE);
    const viewerCookie = await signIn(b.url, viewer);
    const segmentsBefore = (await playsOf()).segments;
    let segmentsPerWindow = 0;
    for (let minute = 0; minute < minutes; minute++) {
      const amount = RATE * BigInt(minute + 1);
      const signature = await viewer.signTypedData(voucherTypedData(f.chain.id, pc.address, channelId, amount));
      const answers = await Promise.all(
        [a, b].map(async (c) => {
          const client = await generateEphemeralKeyPair();
          const res = await fetch(`${c.url}${path}/stream`, {
            method: "POST",
            headers: { cookie: viewerCookie },
            body: JSON.stringify({ channelId: channelId.toString(), cumulativeAmount: amount.toString(), signature, ephemeralPublicKey: client.publicKey, minute, variants: ["high"] }),
          });
          return { status: res.status, body: (await res.json()) as { keys?: unknown[] } };
        }),
      );
      for (const answer of answers) if (answer.status !== 200) throw new Error(`stream minute ${minute}: ${answer.status} ${JSON.stringify(answer.body)}`);
      if (minute === 0) segmentsPerWindow = (await playsOf()).segments - segmentsBefore;
    }
    const minutesCounted = segmentsPerWindow > 0 ? ((await playsOf()).segments - segmentsBefore) / segmentsPerWindow : 0;
    const minutesDoubleCounted = Math.max(0, minutesCounted - minutes);

    // ---- failover: one of the two killed mid-run; the balancer sends its requests to the other.
    const failoverRun = releases(job(pair.url, Math.max(4, Math.round(SECONDS / 2))));
    await new Promise((r) => setTimeout(r, 2_000));
    await b.kill("SIGKILL");
    const failover = await failoverRun;
    console.log(`failover (instance b killed after 2 s): ${failover.ok} of ${failover.requests} answered 2xx, non-2xx ${failover.non2xx}, errors ${failover.errors}`);
    await db.end();

    const lost = unaudited + failover.non2xx + failover.errors + runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
    const anomalies = { nonceReuse, minutesDoubleCounted, playsDoubleCounted, lost };
    const [direct, , two] = runs;
    const report = {
      date: new Date().toISOString(),
      command: "npm run bench:scale",
      machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model },
      setup: {
        wallets: WALLETS,
        connections: CONNECTIONS,
        seconds: SECONDS,
        database: "Postgres (one fresh database, shared by both instances)",
        instances: "lib/keyrelease/server.ts, one Node process each",
        balancer: "round-robin node:http proxy in its own process, X-Forwarded-For appended, one retry on the other instance on a failed connection",
        chain: "anvil (127.0.0.1)",
        loadTool: "autocannon in a worker thread, one wallet cookie per connection",
        anomalyTrials: TRIALS,
        note: "2 cores shared by the load generator, balancer, Postgres, anvil and the instances: throughput cannot scale linearly here; cost per release and the anomaly counts are what must hold",
      },
      runs,
      twoInstancesVsOne: { throughput: Number((two!.releasesPerSecond / direct!.releasesPerSecond).toFixed(2)), cpuPerRelease: Number((two!.cpuSecondsPer1000Releases / direct!.cpuSecondsPer1000Releases).toFixed(2)) },
      failover: { killedAfterSeconds: 2, ...failover },
      anomalies,
      met: { anomaliesAllZero: Object.values(anomalies).every((n) => n === 0) },
    };
    mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
    writeFileSync(join(REPO_ROOT, "bench", "scale.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`anomalies: ${JSON.stringify(anomalies)}`);
    console.log(`wrote bench/scale.json; two instances vs one: throughput x${report.twoInstancesVsOne.throughput}, CPU per release x${report.twoInstancesVsOne.cpuPerRelease}`);
  } finally {
    await Promise.all(children.map((c) => c.kill()));
    await f.stop();
    await database.drop().catch((e: Error) => console.error(`could not drop the bench database: ${e.message}`));
  }
}

await main();

