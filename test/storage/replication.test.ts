/**
 * Replication and fallback across a backend set (StoreSet): fault injection with
 * lib/storage/faulty.ts over real local stores (down, slow, corrupt), the circuit breaker, repair,
 * STORAGE_BACKEND / STORAGE_READ_ORDER parsing, per-backend stats, manifest mirrors, and the shared
 * piece handler of the gateway and the web route.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Piece from "@filoz/synapse-core/piece";
import { LocalStore } from "@streamvault/lib/storage/local.ts";
import { StoreSet } from "@streamvault/lib/storage/set.ts";
import type { StoreSetOptions } from "@streamvault/lib/storage/set.ts";
import { faultyStore } from "@streamvault/lib/storage/faulty.ts";
import type { FaultOptions } from "@streamvault/lib/storage/faulty.ts";
import { ReplicationError } from "@streamvault/lib/storage/replicated.ts";
import type { StorageFault } from "@streamvault/lib/storage/replicated.ts";
import { StorageStats, storageStatus } from "@streamvault/lib/storage/stats.ts";
import {
  DEFAULT_READ_ORDER,
  createPieceHandler,
  createStore,
  knownBackends,
  parseBackendSet,
  parseReadOrder,
  registerBackend,
  servePiece,
  startGateway,
} from "@streamvault/lib/storage";
import { PieceNotFoundError } from "@streamvault/lib/storage/types.ts";
import type { PieceStore } from "@streamvault/lib/storage/types.ts";
import { ManifestValidationError, parseManifest, serializeManifest, validateManifest } from "@streamvault/lib/manifest";
import type { Manifest } from "@streamvault/lib/manifest";
import { processMedia, publishDetailed } from "@streamvault/lib/media";
import { makeAudio } from "../media/helpers.ts";
import { describeConformance, testBytes } from "./conformance.ts";

const dirs: string[] = [];
async function tempDir(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `sv-repl-${tag}-`));
  dirs.push(dir);
  return dir;
}
/** A real LocalStore under another name (a stand-in for a second network in a set). */
async function named(name: string): Promise<LocalStore & { name: string }> {
  const store = new LocalStore({ dir: await tempDir(name) });
  Object.defineProperty(store, "name", { value: name });
  return store as LocalStore & { name: string };
}
/** A faulty wrapper keeping the backend's own name and delete() (repair needs it), with live-editable fault rates. */
function faulty(inner: LocalStore, options: FaultOptions) {
  const f = faultyStore(inner, options);
  return Object.assign(f, { name: inner.name, delete: (cid: string) => inner.delete(cid), options });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

after(async () => {
  await Promise.all(dirs.flatMap((d) => [rm(d, { recursive: true, force: true }), rm(`${d}.stats.json`, { force: true })]));
});

describeConformance("StoreSet (2 local backends)", async () => {
  const set = new StoreSet({ backends: [await named("a"), await named("b")] });
  return { store: set };
});

describe("StoreSet: fallback, breaker, repair (fault injection over real local stores)", function () {
  this.timeout(60_000);
  const bytes = testBytes(40_000, 7);
  const cid = Piece.calculate(bytes).toString();
  const quick: Partial<StoreSetOptions> = { retry: { retries: 0 } };

  it("a backend that is down: the read falls back to the next one", async () => {
    const a = await named("a");
    const b = await named("b");
    const faults: StorageFault[] = [];
    const down = faulty(a, { failReadRate: 1 });
    const set = new StoreSet({ ...quick, backends: [down, b], onFault: (f) => faults.push(f) });
    await set.put(bytes);
    expect(same(await set.get(cid), bytes)).to.equal(true);
    expect(same(await set.get(cid, { start: 100, end: 199 }), bytes.subarray(100, 200))).to.equal(true);
    expect(down.injected.reads).to.equal(2);
    expect(faults.map((f) => [f.kind, f.backend])).to.deep.equal([["read-failed", "a"], ["read-failed", "a"]]);
  });

  it("a slow backend: the read times out on it and is served by the next one", async () => {
    const a = await named("a");
    const b = await named("b");
    const slow = faulty(a, { latencyMs: 5_000 });
    const faults: StorageFault[] = [];
    const set = new StoreSet({ ...quick, backends: [slow, b], readTimeoutMs: 200, onFault: (f) => faults.push(f) });
    await a.put(bytes);
    await b.put(bytes);
    expect(same(await set.get(cid), bytes)).to.equal(true);
    expect(faults).to.have.length(1);
    expect(faults[0]!.backend).to.equal("a");
    expect(String((faults[0]!.error as Error).message)).to.match(/timed out on a/);
  });

  it("corrupt bytes are never served; the corrupt copy on disk is replaced from the good one", async () => {
    const a = await named("a");
    const b = await named("b");
    const stats = new StorageStats();
    const set = new StoreSet({ ...quick, backends: [a, b], stats });
    await set.put(bytes);
    const tampered = Buffer.from(bytes);
    tampered[1234] ^= 0x10;
    await writeFile(a.pathFor(cid), tampered);
    const got = await set.get(cid);
    expect(same(got, bytes)).to.equal(true);
    await set.idle();
    expect(set.repairs).to.deep.include({ queued: 1, done: 1, failed: 0 });
    expect(stats.get("a").repairs).to.equal(1);
    // The file on a is the genuine piece again.
    expect(Piece.calculate(new Uint8Array(await readFile(a.pathFor(cid)))).toString()).to.equal(cid);
  });

  it("bit flips injected on read never reach the caller (every read verified)", async () => {
    const a = await named("a");
    const b = await named("b");
    const flipping = faulty(a, { corruptReadRate: 1 });
    const set = new StoreSet({ ...quick, backends: [flipping, b], repair: false });
    await set.put(bytes);
    for (let i = 0; i < 3; i++) expect(same(await set.get(cid, { start: 0, end: 39_999 }), bytes)).to.equal(true);
    expect(flipping.injected.corruptions).to.equal(3);
    // With every copy corrupt, the read fails instead of serving bad bytes.
    const alone = new StoreSet({ ...quick, backends: [flipping], repair: false });
    const err = await alone.get(cid).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ReplicationError);
    expect((err as ReplicationError).faults.map((f) => f.kind)).to.deep.equal(["corrupt"]);
  });

  it("a missing copy is re-copied where the piece should live, not where the placement never put it", async () => {
    const a = await named("a");
    const b = await named("b");
    const c = await named("c");
    const set = new StoreSet({ ...quick, backends: [a, b, c] });
    const put = await set.put(bytes);
    expect(put.mirrors).to.deep.equal([{ backend: "a" }, { backend: "b" }, { backend: "c" }]);
    await a.delete(cid);
    expect(same(await set.get(cid), bytes)).to.equal(true);
    await set.idle();
    expect(await a.has(cid)).to.equal(true);
    expect(set.repairs.done).to.equal(1);

    // Placed on c only: a and b miss it by design, and a read must not copy it there.
    const other = testBytes(3000, 11);
    const placed = await set.put(other, { backends: ["c"] });
    expect(placed.mirrors).to.deep.equal([{ backend: "c" }]);
    expect(same(await set.get(placed.pieceCid), other)).to.equal(true);
    await set.idle();
    expect(await a.has(placed.pieceCid)).to.equal(false);
    expect(await b.has(placed.pieceCid)).to.equal(false);
    expect(set.repairs.done).to.equal(1);
  });

  it("the circuit opens after consecutive failures (the backend is skipped), probes half-open, and closes again", async () => {
    const a = await named("a");
    const b = await named("b");
    const down = faulty(a, { failReadRate: 1 });
    const stats = new StorageStats();
    const set = new StoreSet({ ...quick, backends: [down, b], breaker: { threshold: 2, halfOpenAfterMs: 300 }, stats, repair: false });
    await set.put(bytes);
    await set.get(cid);
    expect(set.breakerState("a")).to.equal("closed");
    await set.get(cid);
    expect(set.breakerState("a")).to.equal("open");
    expect(stats.get("a").breaker).to.equal("open");
    const before = down.injected.reads;
    for (let i = 0; i < 3; i++) expect(same(await set.get(cid), bytes)).to.equal(true);
    expect(down.injected.reads).to.equal(before); // skipped while open: not even tried

    down.options.failReadRate = 0; // the backend recovers
    await sleep(400);
    expect(same(await set.get(cid), bytes)).to.equal(true);
    expect(set.breakerState("a")).to.equal("closed");
    expect(stats.get("a").breaker).to.equal("closed");
  });

  it("a failed half-open probe opens the circuit again", async () => {
    const a = await named("a");
    const b = await named("b");
    const down = faulty(a, { failReadRate: 1 });
    const set = new StoreSet({ ...quick, backends: [down, b], breaker: { threshold: 1, halfOpenAfterMs: 200 }, repair: false });
    await set.put(bytes);
    await set.get(cid);
    expect(set.breakerState("a")).to.equal("open");
    await sleep(300);
    const before = down.injected.reads;
    await set.get(cid);
    expect(down.injected.reads).to.equal(before + 1);
    expect(set.breakerState("a")).to.equal("open");
  });

  it("absent everywhere is PieceNotFoundError; unknown put targets are refused with the set's names", async () => {
    const set = new StoreSet({ ...quick, backends: [await named("a"), await named("b")] });
    const absent = Piece.calculate(testBytes(500, 99)).toString();
    expect(await set.get(absent).catch((e: unknown) => e)).to.be.instanceOf(PieceNotFoundError);
    const err = await set.put(bytes, { backends: ["s3"] }).catch((e: unknown) => e);
    expect((err as Error).message).to.match(/"s3" is not in the storage set a\+b \(has: a, b\)/);
  });

  it("writes need every targeted copy by default, minWrites lowers it; mirrors list only the copies written", async () => {
    const a = await named("a");
    const b = await named("b");
    const broken = faulty(b, { failWriteRate: 1 });
    const strict = new StoreSet({ ...quick, backends: [a, broken] });
    expect(await strict.put(bytes).catch((e: unknown) => e)).to.be.instanceOf(ReplicationError);
    const lenient = new StoreSet({ ...quick, backends: [a, broken], minWrites: 1 });
    const r = await lenient.put(testBytes(2000, 5));
    expect(r.mirrors).to.deep.equal([{ backend: "a" }]);
  });

  it("copy() adds a backend's copy; removeCopy() drops one but never the last", async () => {
    const a = await named("a");
    const b = await named("b");
    const set = new StoreSet({ ...quick, backends: [a, b] });
    await set.put(bytes, { backends: ["a"] });
    expect(await b.has(cid)).to.equal(false);
    expect(await set.copy(cid, ["b"])).to.deep.equal([{ backend: "b" }]);
    expect(same(await b.get(cid), bytes)).to.equal(true);
    expect(await set.removeCopy(cid, "a")).to.equal(true);
    expect(await a.has(cid)).to.equal(false);
    expect((await set.locate(cid)).map((l) => [l.backend, l.has])).to.deep.equal([["a", false], ["b", true]]);
    const err = await set.removeCopy(cid, "b").catch((e: unknown) => e);
    expect((err as Error).message).to.match(/refusing to remove the last copy/);
    expect(await b.has(cid)).to.equal(true);
  });
});

describe("STORAGE_BACKEND sets and STORAGE_READ_ORDER", function () {
  before(() => {
    // A second local directory as a registered backend: how s3/ipfs/webtorrent plug in.
    registerBackend("mirror-dir", (env) => {
      if (!env.MIRROR_DIR) throw new Error("MIRROR_DIR is not set: the directory of the mirror-dir backend");
      return new LocalStore({ dir: env.MIRROR_DIR });
    });
  });

  it("parses names joined by +, rejects empty, repeated and unknown names listing the known ones", () => {
    expect(parseBackendSet(undefined)).to.deep.equal(["local"]);
    expect(parseBackendSet(" Synapse + local ")).to.deep.equal(["synapse", "local"]);
    expect(() => parseBackendSet("synapse++local")).to.throw(/empty name/);
    expect(() => parseBackendSet("local+local")).to.throw(/names "local" twice/);
    expect(() => parseBackendSet("synapse+floppy")).to.throw(/unknown storage backend "floppy".*known backends: local, synapse, (?=.*\bs3\b)(?=.*\bipfs\b)(?=.*\bwebtorrent\b).*mirror-dir, local-<name>/);
    expect(() => createStore({ env: { STORAGE_BACKEND: "floppy" } })).to.throw(/known backends: local, synapse/);
    expect(knownBackends().slice(0, 2)).to.deep.equal(["local", "synapse"]);
  });

  it("read order: default CDN -> provider -> IPFS -> S3 -> P2P -> local; configurable; typos rejected", () => {
    expect(parseReadOrder(undefined)).to.deep.equal(["cdn", "synapse", "ipfs", "s3", "webtorrent", "local"]);
    expect(DEFAULT_READ_ORDER).to.deep.equal(parseReadOrder(""));
    expect(parseReadOrder("local, s3,ipfs")).to.deep.equal(["local", "s3", "ipfs"]);
    expect(() => parseReadOrder("local,s4")).to.throw(/unknown stage "s4"/);
  });

  it("createStore builds a StoreSet over registered backends, in the configured read order, with a factory's missing-setting error", async () => {
    const dataDir = await tempDir("data");
    const mirrorDir = await tempDir("mirror");
    expect(() => createStore({ env: { STORAGE_BACKEND: "mirror-dir" }, dataDir })).to.throw(/MIRROR_DIR is not set/);
    const env = { STORAGE_BACKEND: "mirror-dir", MIRROR_DIR: mirrorDir, STORAGE_STATS: "off" };
    const set = createStore({ env, dataDir }) as StoreSet;
    expect(set).to.be.instanceOf(StoreSet);
    expect(set.name).to.equal("mirror-dir+local"); // a local copy unless STORAGE_LOCAL_COPY=false
    expect([...set.backends.keys()]).to.deep.equal(["mirror-dir", "local"]);
    expect(set.readStages.map((s) => s.name)).to.deep.equal(["local", "mirror-dir"]); // default order puts local last, unknown stages after
    const ordered = createStore({ env: { ...env, STORAGE_READ_ORDER: "mirror-dir,local" }, dataDir }) as StoreSet;
    expect(ordered.readStages.map((s) => s.name)).to.deep.equal(["mirror-dir", "local"]);
    const noLocal = createStore({ env: { ...env, STORAGE_LOCAL_COPY: "false" }, dataDir }) as StoreSet;
    expect([...noLocal.backends.keys()]).to.deep.equal(["mirror-dir"]);

    const bytes = testBytes(5000, 3);
    const r = await set.put(bytes);
    expect(r.mirrors).to.deep.equal([{ backend: "mirror-dir" }, { backend: "local" }]);
    expect(same(await new LocalStore({ dir: mirrorDir }).get(r.pieceCid), bytes)).to.equal(true);
    expect(same(await new LocalStore({ dir: dataDir }).get(r.pieceCid), bytes)).to.equal(true);
    expect(() => createStore({ env: { ...env, STORAGE_BREAKER_THRESHOLD: "lots" }, dataDir })).to.throw(/STORAGE_BREAKER_THRESHOLD must be a non-negative integer/);
  });

  it("per-backend stats persist to <dataDir>.stats.json and storageStatus() reports them", async () => {
    const dataDir = await tempDir("stats");
    const mirrorDir = await tempDir("mirror");
    const set = createStore({ env: { STORAGE_BACKEND: "mirror-dir+local", MIRROR_DIR: mirrorDir }, dataDir }) as StoreSet;
    const bytes = testBytes(8000, 4);
    const { pieceCid } = await set.put(bytes);
    await new LocalStore({ dir: mirrorDir }).delete(pieceCid);
    await writeFile(new LocalStore({ dir: dataDir }).pathFor(pieceCid), Buffer.from(bytes).fill(0, 0, 10));
    // default read order: local (corrupt) then mirror-dir (missing): nothing good to serve
    expect(await set.get(pieceCid).catch((e: unknown) => e)).to.be.instanceOf(ReplicationError);
    await set.put(bytes, { backends: ["mirror-dir"] });
    expect(same(await set.get(pieceCid), bytes)).to.equal(true);
    await set.close();

    const report = await storageStatus({ dataDir });
    expect(report.file).to.equal(`${dataDir}.stats.json`);
    const row = (name: string) => report.backends.find((b) => b.backend === name)!;
    // local: the first copy and its repair written, two corrupt reads, one repair
    expect(row("local")).to.deep.include({ piecesWritten: 2, bytesWritten: 16000, reads: 2, failures: 2, repairs: 1, breaker: "closed" });
    expect(row("mirror-dir")).to.deep.include({ piecesWritten: 2, bytesWritten: 16000, misses: 1, reads: 1, repairs: 0 });
    expect(row("mirror-dir").readLatencyMs.samples).to.equal(1);
    expect(row("mirror-dir").readLatencyMs.p50).to.be.a("number");
    expect(Piece.calculate(new Uint8Array(await readFile(new LocalStore({ dir: dataDir }).pathFor(pieceCid)))).toString()).to.equal(pieceCid);
  });
});

describe("streamvault storage status", function () {
  this.timeout(120_000);
  it("prints per-backend pieces, bytes, failures, repairs and read latency from what another process recorded", async () => {
    const home = await tempDir("home");
    const { spawnSync } = await import("node:child_process");
    const cli = new URL("../../cli/streamvault.ts", import.meta.url).pathname;
    // An uploader-like process: writes and reads through the default local store of this home.
    const script = `
      import { createStore } from ${JSON.stringify(new URL("../../lib/storage/index.ts", import.meta.url).href)};
      const store = createStore({ dataDir: ${JSON.stringify(join(home, "pieces"))}, env: {} });
      const bytes = new Uint8Array(4096).map((_, i) => (i * 7) & 255);
      const { pieceCid } = await store.put(bytes);
      await store.get(pieceCid);
      await store.get(pieceCid, { start: 0, end: 9 });
    `;
    const writer = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(writer.status, writer.stderr).to.equal(0);
    const env = { ...process.env, STREAMVAULT_HOME: home, STORAGE_BACKEND: "", STORAGE_DATA_DIR: "", STORAGE_STATS_FILE: "" };
    const json = spawnSync(process.execPath, [cli, "storage", "status", "--json"], { encoding: "utf8", env });
    expect(json.status, json.stderr).to.equal(0);
    const report = JSON.parse(json.stdout) as { configured: string[]; backends: { backend: string; piecesWritten: number; bytesWritten: number; reads: number; failures: number; repairs: number; readLatencyMs: { p50: number | null; samples: number } }[] };
    expect(report.configured).to.deep.equal(["local"]);
    const local = report.backends.find((b) => b.backend === "local")!;
    expect(local).to.deep.include({ piecesWritten: 1, bytesWritten: 4096, reads: 2, failures: 0, repairs: 0 });
    expect(local.readLatencyMs.samples).to.equal(2);
    const table = spawnSync(process.execPath, [cli, "storage", "status"], { encoding: "utf8", env });
    expect(table.status).to.equal(0);
    expect(table.stdout).to.match(/backend.*pieces.*bytes.*reads.*misses.*failures.*repairs.*read p50.*read p99.*breaker/);
    expect(table.stdout).to.match(/local\s*│\s*1\s*│\s*4\.0 KiB\s*│\s*2\s*│/);
    const bad = spawnSync(process.execPath, [cli, "storage", "status"], { encoding: "utf8", env: { ...env, STORAGE_BACKEND: "local+tape" } });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/unknown storage backend "tape".*known backends: local, synapse/);
  });
});

describe("manifest mirrors", function () {
  this.timeout(120_000);
  const cidOf = (n: number) => Piece.calculate(new Uint8Array(200).fill(n)).toString();
  function manifest(): Manifest {
    return {
      version: 2,
      contentId: "mirrored-1",
      kind: "audio",
      tier: "free",
      copies: 2,
      duration: 10,
      tags: {},
      source: { container: "wav", codec: "pcm_s16le", size: 1000, lossless: true },
      variants: [
        {
          name: "standard", role: "standard", kind: "hls", codecs: "mp4a.40.2", container: "mpegts", bitrate: 128000,
          averageBandwidth: 128000, peakBandwidth: 128000, encrypted: false, duration: 10, playlist: "standard",
          segments: [{ index: 0, pieceCid: cidOf(1), size: 1000, duration: 10 }],
        },
      ],
      playlists: { standard: "#EXTM3U\n" },
      pieceUrlPrefix: "/piece/",
      artwork: [{ size: 300, width: 300, height: 300, format: "jpeg", pieceCid: cidOf(2), bytes: 500 }],
    };
  }

  it("round-trip canonically; manifests without mirrors stay valid; malformed mirrors are rejected", () => {
    const plain = manifest();
    expect(validateManifest(plain)).to.deep.equal(plain);
    const m = manifest();
    m.variants[0]!.segments[0]!.mirrors = [{ backend: "ipfs", location: "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi" }, { backend: "local" }];
    m.artwork[0]!.mirrors = [{ backend: "s3", location: "s3://media/x" }];
    const bytes = serializeManifest(m);
    const parsed = parseManifest(bytes);
    expect(parsed).to.deep.equal(m);
    expect(Buffer.from(serializeManifest(parsed)).equals(Buffer.from(bytes))).to.equal(true);
    expect(Buffer.from(bytes).toString()).to.contain('"mirrors":[{"backend":"ipfs","location":"ipfs://');
    const bad = (mirror: unknown) => {
      const x = manifest() as unknown as { variants: { segments: { mirrors?: unknown }[] }[] };
      x.variants[0]!.segments[0]!.mirrors = mirror;
      return () => validateManifest(x);
    };
    expect(bad([{ backend: "S3 bucket" }])).to.throw(ManifestValidationError);
    expect(bad([{ backend: "s3", key: "secret" }])).to.throw(ManifestValidationError);
    expect(bad([])).to.throw(ManifestValidationError);
  });

  it("the pipeline records where every piece lives when the store is a set", async () => {
    const dir = await tempDir("media");
    await makeAudio(join(dir, "clip.wav"), 4, "sine");
    const processed = await processMedia(join(dir, "clip.wav"), { contentId: "mirrored-2", tier: "free", workDir: join(dir, "work") });
    const set = new StoreSet({ backends: [await named("b"), await named("a")] });
    const published = await publishDetailed(processed, set);
    const segments = published.manifest.variants.flatMap((v) => v.segments);
    expect(segments.length).to.be.greaterThan(0);
    for (const s of segments) expect(s.mirrors).to.deep.equal([{ backend: "a" }, { backend: "b" }]); // sorted: canonical bytes
    for (const art of published.manifest.artwork) expect(art.mirrors).to.deep.equal([{ backend: "a" }, { backend: "b" }]);
    expect(parseManifest(await set.get(published.manifestCid))).to.deep.equal(published.manifest);
    // A single backend reports no mirrors: the manifest has none (as before).
    const single = await publishDetailed(processed, await named("solo"));
    expect(single.manifest.variants.flatMap((v) => v.segments).every((s) => s.mirrors === undefined)).to.equal(true);
  });
});

describe("one piece handler for the gateway and the web route", function () {
  this.timeout(60_000);
  const bytes = testBytes(6000, 21);
  const cid = Piece.calculate(bytes).toString();
  let set: StoreSet;
  let a: LocalStore;

  before(async () => {
    a = await named("a");
    set = new StoreSet({ backends: [a, await named("b")], retry: { retries: 0 } });
    await set.put(bytes);
  });

  /** status, the headers that matter, and the body of a response */
  async function summary(res: Response) {
    const h = (n: string) => res.headers.get(n);
    return { status: res.status, range: h("content-range"), length: h("content-length"), etag: h("etag"), body: Buffer.from(await res.arrayBuffer()).toString("hex") };
  }

  it("Range with If-Range: matching ETag gives 206, another validator gives the whole piece; node and Fetch answers are identical", async () => {
    const handler = createPieceHandler({ store: set });
    const gw = await startGateway({ store: set });
    try {
      const cases: Record<string, string>[] = [
        {},
        { Range: "bytes=10-19" },
        { Range: "bytes=10-19", "If-Range": `"${cid}"` },
        { Range: "bytes=10-19", "If-Range": '"something-else"' },
        { Range: "bytes=-5" },
        { Range: "bytes=6000-" },
        { "If-None-Match": `"${cid}"` },
      ];
      const results = [];
      for (const headers of cases) {
        const viaFetch = await summary(await handler(new Request(`http://x/piece/${cid}`, { headers })));
        const viaWebRouteShape = await summary(await servePiece(new Request(`http://x/api/piece/${cid}`, { headers }), cid, { store: set }));
        const viaNode = await summary(await fetch(`${gw.url}/piece/${cid}`, { headers }));
        expect(viaNode).to.deep.equal(viaFetch);
        expect(viaWebRouteShape).to.deep.equal(viaFetch);
        results.push(viaFetch);
      }
      expect(results.map((r) => r.status)).to.deep.equal([200, 206, 206, 200, 206, 416, 304]);
      expect(results[2]!.body).to.equal(Buffer.from(bytes.subarray(10, 20)).toString("hex"));
      expect(results[3]!.body).to.equal(Buffer.from(bytes).toString("hex"));
      expect(results[5]!.range).to.equal("bytes */6000");
    } finally {
      await gw.close();
    }
  });

  it("serves verified bytes when the first backend's copy is corrupt (the web route reads through the same StoreSet)", async () => {
    const tampered = Buffer.from(bytes);
    tampered[0] ^= 1;
    await writeFile(a.pathFor(cid), tampered);
    const res = await servePiece(new Request(`http://x/api/piece/${cid}`, { headers: { Range: "bytes=0-3" } }), encodeURIComponent(cid), { store: set });
    expect(res.status).to.equal(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes.subarray(0, 4)))).to.equal(true);
    await set.idle();
    expect(Piece.calculate(new Uint8Array(await readFile(a.pathFor(cid)))).toString()).to.equal(cid);
  });

  it("the web piece route is a thin call of servePiece", async () => {
    const route = await readFile(new URL("../../web/app/api/piece/[cid]/route.ts", import.meta.url), "utf8");
    expect(route).to.match(/lib\.servePiece\(request, cid, \{/);
    expect(route).to.not.match(/function parseRange/);
  });

  it("onPieceServed gets the request with its query; onError isolates its failure", async () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const handler = createPieceHandler({
      store: set as PieceStore,
      onPieceServed: (req, url, pieceCid) => {
        seen.push(`${req.method} ${url.searchParams.get("c")} ${pieceCid === cid}`);
        throw new Error("plays db down");
      },
      onError: (err) => errors.push(err),
    });
    const res = await handler(new Request(`http://x/piece/${cid}?c=item-1`));
    expect(res.status).to.equal(200);
    await res.arrayBuffer();
    expect(seen).to.deep.equal(["GET item-1 true"]);
    expect((errors[0] as Error).message).to.equal("plays db down");
  });
});
