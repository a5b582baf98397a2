/**
 * Storage benchmark (issue 13): per backend present in this run, put/get MiB/s and first-byte
 * latency beside a plain file write/read of the same bytes in the same run (ratios), the verified
 * read through a StoreSet and the piece gateway, and read latency p50/p99 of a set with one backend
 * failing (down, slow), with and without the circuit breaker. Writes bench/storage.json.
 *
 *   npm run bench:storage [-- sizeMiB=16]
 *
 * `local` always runs. s3 / ipfs / webtorrent run when their module exists (lib/storage/s3.ts,
 * lib/storage/ipfs/index.ts, lib/storage/webtorrent/index.ts) and their settings are in the
 * environment (S3_ENDPOINT..., IPFS_..., WEBTORRENT_...); otherwise the report says why not.
 */
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  LocalStore,
  StoreSet,
  backendRegistration,
  computePieceCid,
  faultyStore,
  knownBackends,
  latencyPercentiles,
  registerBackend,
  startGateway,
} from "../lib/storage/index.ts";
import type { BackendFactory, PieceStore } from "../lib/storage/index.ts";

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

/** Backends written by other engineers: plugged in when their module exists. */
const OPTIONAL: { name: string; module: string; factory: string }[] = [
  { name: "s3", module: "../lib/storage/s3.ts", factory: "s3StoreFromEnv" },
  { name: "ipfs", module: "../lib/storage/ipfs/index.ts", factory: "ipfsStoreFromEnv" },
  { name: "webtorrent", module: "../lib/storage/webtorrent/index.ts", factory: "webtorrentStoreFromEnv" },
];
const absent: Record<string, string> = {};
for (const o of OPTIONAL) {
  if (knownBackends().includes(o.name)) continue;
  try {
    const mod = (await import(new URL(o.module, import.meta.url).href)) as Record<string, unknown>;
    if (typeof mod[o.factory] !== "function") {
      absent[o.name] = `${o.module} has no ${o.factory}`;
      continue;
    }
    registerBackend(o.name, mod[o.factory] as BackendFactory);
  } catch (err) {
    absent[o.name] = (err as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" ? `${o.module} not in this tree yet` : (err as Error).message;
  }
}

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
  const ctx = { dataDir: path.join(work, "pieces") };
  for (const name of ["local", ...OPTIONAL.map((o) => o.name)]) {
    if (absent[name]) {
      backends[name] = { status: "absent", reason: absent[name] };
      console.log(`${name}: absent (${absent[name]})`);
      continue;
    }
    let store: PieceStore;
    try {
      store = name === "local" ? new LocalStore({ dir: path.join(work, "local") }) : backendRegistration(name).factory(process.env, ctx);
    } catch (err) {
      backends[name] = { status: "skipped", reason: (err as Error).message };
      console.log(`${name}: skipped (${(err as Error).message})`);
      continue;
    }
    try {
      // The CID is passed in: the backend's own write path is measured, not hashing.
      const putMs = await best(1, () => store.put(bytes, { pieceCid }));
      const getMs = await best(REPEAT, () => store.get(pieceCid));
      const firstMs = await best(REPEAT * 3, () => store.get(pieceCid, { start: 0, end: FIRST_BYTES - 1 }));
      const verifiedMs = await best(1, () => new StoreSet({ backends: [store], repair: false }).get(pieceCid));
      const row: Record<string, unknown> = {
        status: "measured",
        putMiBs: mibs(putMs),
        getMiBs: mibs(getMs),
        firstByteMs: round(firstMs, 3),
        verifiedGetMiBs: mibs(verifiedMs),
        ratios: {
          putVsPlainWrite: round(putMs > 0 ? plainWriteMs / putMs : 0, 3),
          getVsPlainRead: round(getMs > 0 ? plainReadMs / getMs : 0, 3),
          firstByteVsPlain: round(plainFirstMs > 0 ? firstMs / plainFirstMs : 0, 2),
        },
      };
      if (name === "local") {
        const gw = await startGateway({ store });
        try {
          const url = `${gw.url}/piece/${pieceCid}`;
          const gwMs = await best(REPEAT, async () => (await fetch(url)).arrayBuffer());
          const gwFirstMs = await best(REPEAT * 3, async () => (await fetch(url, { headers: { Range: `bytes=0-${FIRST_BYTES - 1}` } })).arrayBuffer());
          row.gateway = { getMiBs: mibs(gwMs), firstByteMs: round(gwFirstMs, 3), getVsPlainRead: round(plainReadMs / gwMs, 3) };
        } finally {
          await gw.close();
        }
      }
      backends[name] = row;
      console.log(`${name}: put ${row.putMiBs} MiB/s, get ${row.getMiBs} MiB/s, first 64 KiB ${row.firstByteMs} ms, verified get ${row.verifiedGetMiBs} MiB/s`, row.gateway ? `gateway ${JSON.stringify(row.gateway)}` : "");
    } catch (err) {
      backends[name] = { status: "failed", reason: (err as Error).message };
      console.log(`${name}: failed (${(err as Error).message})`);
    } finally {
      await store.close?.();
    }
  }

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

  Object.assign(output, {
    generatedAt: new Date().toISOString(),
    node: process.version,
    sizeMiB,
    pieceCidMiBs: mibs(hashMs),
    plainFile: baseline,
    backends,
    oneBackendFailing: { pieceKiB: 256, note: "set of two local stores; the first is down (every read throws) or slow (300 ms per read, 100 ms timeout); p50/p99 of whole verified reads; breaker opens after 5 consecutive failures", ...failing },
  });
  await mkdir("bench", { recursive: true });
  await writeFile(path.join("bench", "storage.json"), JSON.stringify(output, null, 2) + "\n");
  console.log("wrote bench/storage.json");
} finally {
  await rm(work, { recursive: true, force: true });
}
