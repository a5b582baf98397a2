/**
 * Storage benchmark (issue 13): per backend present in this run, put/get MiB/s and first-byte
 * latency beside a plain file write/read of the same bytes in the same run (ratios), the verified
 * read through a StoreSet and the piece gateway, and read latency p50/p99 of a set with one backend
 * failing (down, slow), with and without the circuit breaker. Writes bench/storage.json.
 *
 *   npm run bench:storage [-- sizeMiB=16]
 *
 * Every backend runs against its real server, started here: s3 on a single-node Ceph RADOS Gateway
 * (test/storage/ceph.ts startCeph; or the service in S3_ENDPOINT/S3_BUCKET/... when Ceph is not
 * installed), ipfs on a Helia node plus a second Helia node that fetches over bitswap (remote), and
 * webtorrent as a seeder with its HTTP web seed (a fresh reader fetches through the web seed) and,
 * with a local tracker, a fresh peer fetching from the seeder. The failing-backend figures use a real
 * S3 backend too: a slow link in front of radosgw, an object overwritten with other bytes, radosgw
 * unreachable. webtorrent's peer port binds every interface: run it in a loopback-only namespace:
 *   unshare -n sh -c 'ip link set lo up && exec npm run bench:storage'
 */
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";
import { Server as TrackerServer } from "bittorrent-tracker";
import { S3Store, s3StoreFromEnv } from "@streamvault/lib/storage/s3.ts";
import { IpfsStore } from "@streamvault/lib/storage/ipfs/index.ts";
import { WebTorrentStore } from "@streamvault/lib/storage/webtorrent/index.ts";
import { missingCephBinaries, startCeph } from "../test/storage/ceph.ts";
import type { CephRgw } from "../test/storage/ceph.ts";
import { slowLink } from "../test/storage/slow-link.ts";
import type { SlowLink } from "../test/storage/slow-link.ts";
import {
  LocalStore,
  StoreSet,
  computePieceCid,
  faultyStore,
  latencyPercentiles,
  startGateway,
} from "@streamvault/lib/storage";
import type { PieceStore } from "@streamvault/lib/storage";

const sizeMiB = Number(process.argv[2] ?? 16);
if (!Number.isFinite(sizeMiB) || sizeMiB <= 0 || sizeMiB > 1000) throw new Error(`size in MiB must be in (0, 1000], got ${process.argv[2]}`);
const size = Math.round(sizeMiB * 1024 * 1024);
const bytes = new Uint8Array(size);
for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
const FIRST_BYTES = 64 * 1024;
const REPEAT = 3;

const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
const mibs = (ms: number) => round(sizeMiB / (ms / 1000), 1);
async function best(n: number, fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

let ceph: CephRgw | undefined;
const work = await mkdtemp(path.join(tmpdir(), "sv-bench-storage-"));
const output: Record<string, unknown> = {};
try {
  // Baseline: a plain file of the same bytes, written (fsync) and read back in this run.
  const plainPath = path.join(work, "plain.bin");
  const plainWriteMs = await best(REPEAT, async () => {
    const fh = await open(plainPath, "w");
    await fh.write(bytes);
    await fh.sync();
    await fh.close();
  });
  const plainReadMs = await best(REPEAT, () => readFile(plainPath));
  const plainFirstMs = await best(REPEAT * 3, async () => {
    const fh = await open(plainPath, "r");
    await fh.read(new Uint8Array(FIRST_BYTES), 0, FIRST_BYTES, 0);
    await fh.close();
  });
  const hashMs = await best(1, async () => computePieceCid(bytes));
  const pieceCid = computePieceCid(bytes);
  const baseline = { writeMiBs: mibs(plainWriteMs), readMiBs: mibs(plainReadMs), firstByteMs: round(plainFirstMs, 3) };
  console.log(`plain file ${sizeMiB} MiB: write ${baseline.writeMiBs} MiB/s, read ${baseline.readMiBs} MiB/s, first 64 KiB ${baseline.firstByteMs} ms; PieceCID ${mibs(hashMs)} MiB/s`);

  const backends: Record<string, unknown> = {};
  const ratios = (putMs: number, getMs: number, firstMs: number) => ({
    putVsPlainWrite: round(putMs > 0 ? plainWriteMs / putMs : 0, 3),
    getVsPlainRead: round(getMs > 0 ? plainReadMs / getMs : 0, 3),
    firstByteVsPlain: round(plainFirstMs > 0 ? firstMs / plainFirstMs : 0, 2),
  });
  /** put once, whole get and first 64 KiB (best of n), and a verified get through a one-backend StoreSet. */
  async function measure(store: PieceStore, put: () => Promise<unknown> = () => store.put(bytes, { pieceCid })) {
    const putMs = await best(1, put);
    const getMs = await best(REPEAT, () => store.get(pieceCid));
    const firstMs = await best(REPEAT * 3, () => store.get(pieceCid, { start: 0, end: FIRST_BYTES - 1 }));
    const verifiedMs = await best(1, () => new StoreSet({ backends: [store], repair: false }).get(pieceCid));
    return { status: "measured", putMiBs: mibs(putMs), getMiBs: mibs(getMs), firstByteMs: round(firstMs, 3), verifiedGetMiBs: mibs(verifiedMs), ratios: ratios(putMs, getMs, firstMs) } as Record<string, unknown>;
  }
  async function backend(name: string, run: () => Promise<Record<string, unknown>>) {
    try {
      backends[name] = await run();
      console.log(`${name}: ${JSON.stringify(backends[name])}`);
    } catch (err) {
      backends[name] = { status: "failed", reason: (err as Error).message };
      console.log(`${name}: FAILED (${(err as Error).stack})`);
    }
  }

  const local = new LocalStore({ dir: path.join(work, "local") });
  await backend("local", async () => {
    const row = await measure(local);
    const gw = await startGateway({ store: local });
    try {
      const url = `${gw.url}/piece/${pieceCid}`;
      const gwMs = await best(REPEAT, async () => (await fetch(url)).arrayBuffer());
      const gwFirstMs = await best(REPEAT * 3, async () => (await fetch(url, { headers: { Range: `bytes=0-${FIRST_BYTES - 1}` } })).arrayBuffer());
      row.gateway = { getMiBs: mibs(gwMs), firstByteMs: round(gwFirstMs, 3), getVsPlainRead: round(plainReadMs / gwMs, 3) };
    } finally {
      await gw.close();
    }
    return row;
  });

  // s3: a real RADOS Gateway started here (or the configured service), behind a relay that can be slowed.
  let link: SlowLink | undefined;
  let s3: S3Store | undefined;
  let s3Raw: { client: S3Client; bucket: string; prefix: string } | undefined;
  await backend("s3", async () => {
    let server: string;
    if (missingCephBinaries().length === 0) {
      ceph = await startCeph();
      link = await slowLink(ceph.endpoint);
      s3 = new S3Store({ ...ceph.storeOptions("bench"), endpoint: link.url, maxAttempts: 1 });
      s3Raw = { client: new S3Client({ endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey } }), bucket: "bench", prefix: "pieces/" };
      server = `Ceph RADOS Gateway on loopback${ceph.isolated ? " (own network namespace, relayed)" : ""}, single node, memstore OSD`;
    } else if (process.env.S3_ENDPOINT || process.env.S3_BUCKET) {
      s3 = s3StoreFromEnv(process.env, { dataDir: path.join(work, "pieces") }) as S3Store;
      server = `${process.env.S3_ENDPOINT ?? "AWS"} (from the environment)`;
    } else {
      throw new Error(`Ceph is not installed (missing ${missingCephBinaries().join(", ")}) and no S3_ENDPOINT/S3_BUCKET set: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw`);
    }
    const store = s3;
    await store.ensureBucket();
    // The first put on a fresh cluster pays for pool creation (~2 s): warm up with another piece.
    await store.put(bytes.subarray(0, 128 * 1024));
    return { server, ...(await measure(store)) };
  });

  // ipfs: a Helia node (put/get local) and a second node that fetches the piece over bitswap.
  await backend("ipfs", async () => {
    const node = new IpfsStore({ repoDir: path.join(work, "ipfs-a") });
    try {
      let location: string | undefined;
      const row = await measure(node, async () => (location = (await node.put(bytes, { pieceCid })).location));
      const [addr] = await node.multiaddrs();
      const remote = new IpfsStore({ repoDir: path.join(work, "ipfs-b"), peers: [addr] });
      try {
        await remote.start();
        await remote.recordRoot(pieceCid, location!);
        // A fresh node must fetch every block and hash the whole piece before its first byte.
        const remoteMs = await best(1, () => remote.get(pieceCid));
        const rangeMs = await best(REPEAT * 3, () => remote.get(pieceCid, { start: size - FIRST_BYTES, end: size - 1 }));
        row.remote = {
          note: "second Helia node, bitswap over loopback TCP: first whole get (fetch + verify against the PieceCID), then 64 KiB ranges from its now-local blocks",
          getMiBs: mibs(remoteMs),
          getVsPlainRead: round(plainReadMs / remoteMs, 3),
          firstByteMs: round(remoteMs, 1),
          rangeAfterFetchMs: round(rangeMs, 3),
        };
      } finally {
        await remote.close();
      }
      return { server: "Helia 7 in-process, TCP on 127.0.0.1", ...row };
    } finally {
      await node.close();
    }
  });

  // webtorrent: a seeder whose web seed is the piece gateway over its directory; fresh readers fetch
  // through the web seed (no peers), and through a local tracker from the seeder (no web seed).
  await backend("webtorrent", async () => {
    const tracker = new TrackerServer({ http: true, udp: false, ws: false, stats: false });
    tracker.on("error", () => {});
    tracker.on("warning", () => {});
    await new Promise<void>((resolve) => tracker.listen(0, { http: "127.0.0.1" }, resolve));
    const announce = `http://127.0.0.1:${(tracker.http!.address() as { port: number }).port}/announce`;
    const seederDir = path.join(work, "wt-seeder");
    const plainSeeder = new WebTorrentStore({ dir: seederDir });
    const gw = await startGateway({ store: plainSeeder });
    const seeder = new WebTorrentStore({ dir: seederDir, webSeedUrl: gw.url });
    const closers: Array<() => Promise<unknown>> = [() => seeder.close(), () => plainSeeder.close(), () => gw.close(), () => new Promise((r) => tracker.close(() => r(undefined)))];
    try {
      let magnet = "";
      const row = await measure(seeder, async () => {
        await seeder.put(bytes, { pieceCid });
        magnet = (await seeder.seedItem("bench-web-seed", [pieceCid])).magnet;
      });
      const viaWebSeed = new WebTorrentStore({ dir: path.join(work, "wt-reader-ws") });
      closers.unshift(() => viaWebSeed.close());
      await viaWebSeed.addTorrent(magnet);
      const wsMs = await best(1, () => viaWebSeed.get(pieceCid));
      row.webSeed = { note: "fresh reader, no peers: metadata (xs=) and bytes over HTTP from the piece gateway, verified against the PieceCID", getMiBs: mibs(wsMs), firstByteMs: round(wsMs, 1), getVsPlainRead: round(plainReadMs / wsMs, 3) };

      // Peer fetch: a seeder announcing to the tracker, its torrent without a web seed.
      const p2pSeeder = new WebTorrentStore({ dir: path.join(work, "wt-p2p-seeder"), trackers: [announce] });
      closers.unshift(() => p2pSeeder.close());
      await p2pSeeder.put(bytes, { pieceCid });
      const p2pMagnet = (await p2pSeeder.seedItem("bench-p2p", [pieceCid])).magnet;
      const peer = new WebTorrentStore({ dir: path.join(work, "wt-reader-p2p"), trackers: [announce] });
      closers.unshift(() => peer.close());
      await peer.addTorrent(p2pMagnet);
      const p2pMs = await best(1, () => peer.get(pieceCid));
      row.peer = { note: "fresh peer, no web seed: tracker announce, metadata and bytes from the seeder over TCP (one process, loopback), verified", getMiBs: mibs(p2pMs), firstByteMs: round(p2pMs, 1), getVsPlainRead: round(plainReadMs / p2pMs, 3) };
      return { server: "webtorrent 3 seeder + piece gateway web seed + bittorrent-tracker on 127.0.0.1", ...row };
    } finally {
      for (const close of closers) await close().catch(() => {});
    }
  });

  // Read latency with one backend failing: a set of two local stores, the first one down or slow.
  const small = bytes.subarray(0, 256 * 1024);
  const smallCid = computePieceCid(small);
  async function scenario(label: string, first: (inner: LocalStore) => PieceStore, options: { threshold: number; timeoutMs?: number; reads?: number }) {
    const READS = options.reads ?? 200;
    const a = new LocalStore({ dir: path.join(work, `fa-${label}`) });
    const b = new LocalStore({ dir: path.join(work, `fb-${label}`) });
    Object.defineProperty(b, "name", { value: "second" });
    await a.put(small, { pieceCid: smallCid });
    await b.put(small, { pieceCid: smallCid });
    const set = new StoreSet({
      backends: [first(a), b],
      retry: { retries: 0 },
      breaker: { threshold: options.threshold, halfOpenAfterMs: 60_000 },
      readTimeoutMs: options.timeoutMs ?? 30_000,
      repair: false,
    });
    const samples: number[] = [];
    for (let i = 0; i < READS; i++) {
      const t0 = performance.now();
      await set.get(smallCid);
      samples.push(performance.now() - t0);
    }
    const { p50, p99 } = latencyPercentiles(samples);
    const total = samples.reduce((x, y) => x + y, 0);
    const result = { reads: READS, p50Ms: round(p50!, 3), p99Ms: round(p99!, 3), meanMs: round(total / READS, 3) };
    console.log(`read 256 KiB, ${label}: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, mean ${result.meanMs} ms`);
    return result;
  }
  const failing = {
    healthy: await scenario("healthy", (a) => a, { threshold: 5 }),
    downWithBreaker: await scenario("down, breaker (5 failures)", (a) => faultyStore(a, { failReadRate: 1 }), { threshold: 5 }),
    downNoBreaker: await scenario("down, no breaker", (a) => faultyStore(a, { failReadRate: 1 }), { threshold: 1_000_000 }),
    slowWithBreaker: await scenario("slow 300 ms, timeout 100 ms, breaker", (a) => faultyStore(a, { latencyMs: 300 }), { threshold: 5, timeoutMs: 100, reads: 100 }),
    slowNoBreaker: await scenario("slow 300 ms, timeout 100 ms, no breaker", (a) => faultyStore(a, { latencyMs: 300 }), { threshold: 1_000_000, timeoutMs: 100, reads: 100 }),
  };

  // The same with a real S3 backend first (radosgw behind the relay) and local second.
  let realS3: Record<string, unknown> = { status: "absent", reason: "no s3 backend in this run" };
  if (s3 && link && s3Raw) {
    const s3Store = s3;
    const relay = link;
    const rawS3 = s3Raw;
    const second = new LocalStore({ dir: path.join(work, "s3-second") });
    Object.defineProperty(second, "name", { value: "second" });
    await s3Store.put(small, { pieceCid: smallCid });
    await second.put(small, { pieceCid: smallCid });
    async function realScenario(label: string, options: { threshold: number; timeoutMs?: number; reads?: number; repair?: boolean }) {
      const READS = options.reads ?? 100;
      const set = new StoreSet({
        backends: [s3Store, second],
        retry: { retries: 0 },
        breaker: { threshold: options.threshold, halfOpenAfterMs: 600_000 },
        readTimeoutMs: options.timeoutMs ?? 30_000,
        repair: options.repair ? { concurrency: 1 } : false,
      });
      const samples: number[] = [];
      for (let i = 0; i < READS; i++) {
        const t0 = performance.now();
        const got = await set.get(smallCid);
        samples.push(performance.now() - t0);
        if (got.length !== small.length) throw new Error(`${label}: wrong length`);
        await set.idle(); // a repair finishes before the next read (its cost is not in the samples)
      }
      const { p50, p99 } = latencyPercentiles(samples);
      const result = { reads: READS, firstReadMs: round(samples[0], 3), p50Ms: round(p50!, 3), p99Ms: round(p99!, 3), meanMs: round(samples.reduce((x, y) => x + y, 0) / READS, 3), s3Breaker: set.breakerState("s3"), repairs: set.repairs.done };
      console.log(`real s3 + local, read 256 KiB, ${label}: ${JSON.stringify(result)}`);
      return result;
    }
    const healthy = await realScenario("healthy", { threshold: 5 });
    relay.delayMs = 300;
    const slowWithBreaker = await realScenario("slow link (300 ms per chunk), timeout 100 ms, breaker", { threshold: 5, timeoutMs: 100, reads: 50 });
    const slowNoBreaker = await realScenario("slow link, timeout 100 ms, no breaker", { threshold: 1_000_000, timeoutMs: 100, reads: 50 });
    relay.delayMs = 0;
    const bad = small.slice();
    bad[1000] ^= 1;
    await rawS3.client.send(new PutObjectCommand({ Bucket: rawS3.bucket, Key: `${rawS3.prefix}${smallCid}`, Body: bad }));
    const corruptThenRepaired = await realScenario("object overwritten with other bytes, repair on", { threshold: 5, repair: true });
    const repairedOk = (await s3Store.get(smallCid)).every((v, i) => v === small[i]);
    await relay.close(); // radosgw unreachable: connection refused
    const downWithBreaker = await realScenario("radosgw unreachable, breaker", { threshold: 5 });
    const downNoBreaker = await realScenario("radosgw unreachable, no breaker", { threshold: 1_000_000 });
    realS3 = {
      note: "StoreSet [s3 (Ceph RADOS Gateway behind a relay), local]; slow = relay delays every chunk 300 ms with a 100 ms read timeout; corrupt = object replaced through the S3 API (first read falls back and repairs S3, later reads are S3 again); down = relay closed (connection refused); whole verified 256 KiB reads, no retries",
      healthy, slowWithBreaker, slowNoBreaker, corruptThenRepaired: { ...corruptThenRepaired, s3ServesRightBytesAfter: repairedOk }, downWithBreaker, downNoBreaker,
    };
  }

  Object.assign(output, {
    generatedAt: new Date().toISOString(),
    node: process.version,
    sizeMiB,
    pieceCidMiBs: mibs(hashMs),
    plainFile: baseline,
    backends,
    oneRealBackendFailing: realS3,
    oneBackendFailing: { pieceKiB: 256, note: "set of two local stores; the first is down (every read throws) or slow (300 ms per read, 100 ms timeout); p50/p99 of whole verified reads; breaker opens after 5 consecutive failures", ...failing },
  });
  await mkdir("bench", { recursive: true });
  await writeFile(path.join("bench", "storage.json"), JSON.stringify(output, null, 2) + "\n");
  console.log("wrote bench/storage.json");
} finally {
  await ceph?.stop().catch((err: unknown) => console.error(err));
  await rm(work, { recursive: true, force: true });
}
