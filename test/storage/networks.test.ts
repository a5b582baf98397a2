/**
 * Fault injection over the real storage networks at once: one StoreSet over s3 (a real Ceph RADOS
 * Gateway, test/storage/ceph.ts), ipfs (this process's Helia node + a second Helia process,
 * test/storage/ipfs-peer.ts), webtorrent (a tracker, a seeder and its HTTP web seed in another
 * process, test/storage/webtorrent-peer.ts) and local. One Ceph, one Helia pair and one
 * tracker/web seed for the whole suite.
 *
 * Faults are made on the real servers, not with wrappers: an S3 object overwritten with other
 * bytes, an IPFS index entry pointing at another (valid) root, a slow link in front of radosgw
 * (a TCP relay that delays every chunk), the Helia peer process stopped, Ceph stopped. Each case
 * checks: the read falls back, corrupt bytes are never served, the bad copy is repaired (read back
 * from that backend directly), and the breaker opens.
 *
 * Peers bind 127.0.0.1, but webtorrent's peer port binds every interface; to keep everything on a
 * private loopback run the suite inside a fresh network namespace (root), as .ci/run can:
 *   unshare -n sh -c 'ip link set lo up && exec npx hardhat test mocha --no-compile test/storage/networks.test.ts'
 * (startCeph nests its own namespace inside that one.)
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import * as Piece from "@filoz/synapse-core/piece";
import { LocalStore } from "@streamvault/lib/storage/local.ts";
import { S3Store } from "@streamvault/lib/storage/s3.ts";
import { IpfsStore } from "@streamvault/lib/storage/ipfs/index.ts";
import { WebTorrentStore } from "@streamvault/lib/storage/webtorrent/index.ts";
import { StoreSet } from "@streamvault/lib/storage/set.ts";
import type { StorageFault } from "@streamvault/lib/storage/replicated.ts";
import type { PieceStore } from "@streamvault/lib/storage/types.ts";
import { CEPH_START_TIMEOUT_MS, cephOrSkip, startCeph } from "./ceph.ts";
import type { CephRgw } from "./ceph.ts";
import { testBytes } from "./conformance.ts";
import { slowLink } from "./slow-link.ts";
import type { SlowLink } from "./slow-link.ts";

const IPFS_PEER = fileURLToPath(new URL("./ipfs-peer.ts", import.meta.url));
const WT_PEER = fileURLToPath(new URL("./webtorrent-peer.ts", import.meta.url));
const cidOf = (b: Uint8Array) => Piece.calculate(b).toString();
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

/** A child process speaking JSON lines (both peer scripts: one request per line, replies by id). */
class JsonPeer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Promise<Record<string, unknown>>;
  readonly #pending = new Map<number, (msg: Record<string, unknown>) => void>();
  #next = 1;
  stderr = "";
  constructor(args: string[]) {
    this.child = spawn(process.execPath, ["--no-warnings", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.on("data", (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.ready = new Promise((resolve, reject) => {
      this.child.once("exit", (code) => reject(new Error(`peer ${args[1] ?? args[0]} exited (${code}): ${this.stderr}`)));
      createInterface({ input: this.child.stdout }).on("line", (line) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line);
        } catch {
          return; // library chatter
        }
        if (msg.ready || msg.id === 0) return resolve(msg);
        this.#pending.get(msg.id as number)?.(msg);
        this.#pending.delete(msg.id as number);
      });
    });
  }
  call(op: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (msg) => (msg.ok ? resolve(msg) : reject(new Error(JSON.stringify(msg.error ?? msg)))));
      this.child.stdin.write(JSON.stringify({ id, op, ...args }) + "\n");
    });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.end();
    await exited;
  }
}

describe("storage networks together: StoreSet over s3 + ipfs + webtorrent + local, faults on the real servers", function () {
  this.timeout(240_000);
  let root: string;
  let ceph: CephRgw;
  let link: SlowLink;
  let s3: S3Store;
  let raw: S3Client;
  let ipfs: IpfsStore;
  let heliaPeer: JsonPeer;
  let wtInfra: JsonPeer;
  let webtorrent: WebTorrentStore;
  let local: LocalStore;
  const BUCKET = "networks";

  /** A set reading in `order`; no retries (faults should show on the first attempt), small breaker. */
  function setOf(order: PieceStore[], faults: StorageFault[] = [], extra: { readTimeoutMs?: number } = {}): StoreSet {
    return new StoreSet({
      backends: order,
      retry: { retries: 0 },
      breaker: { threshold: 2, halfOpenAfterMs: 600_000 },
      readTimeoutMs: extra.readTimeoutMs ?? 60_000,
      onFault: (f) => faults.push(f),
    });
  }

  before(async function () {
    this.timeout(CEPH_START_TIMEOUT_MS + 120_000);
    if (!cephOrSkip(this)) return;
    root = await mkdtemp(join(tmpdir(), "sv-networks-"));
    ceph = await startCeph();
    link = await slowLink(ceph.endpoint);
    s3 = new S3Store({ ...ceph.storeOptions(BUCKET), endpoint: link.url, maxAttempts: 1, connectionTimeoutMs: 3_000, requestTimeoutMs: 20_000 });
    await s3.ensureBucket();
    raw = new S3Client({ endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey } });

    ipfs = new IpfsStore({ repoDir: join(root, "ipfs"), fetchTimeoutMs: 3_000 });
    const [addr] = await ipfs.multiaddrs();
    heliaPeer = new JsonPeer([IPFS_PEER, join(root, "ipfs-peer"), addr, "10000"]);
    await heliaPeer.ready;

    wtInfra = new JsonPeer([WT_PEER]);
    await wtInfra.ready;
    const { announce } = (await wtInfra.call("tracker")).result as { announce: string };
    const seedDir = join(root, "wt-seeder");
    const { url: webSeedUrl } = (await wtInfra.call("gateway", { name: "web-seed", dir: seedDir })).result as { url: string };
    await wtInfra.call("open", { store: "seeder", dir: seedDir, trackers: [announce], webSeedUrl, start: true });
    webtorrent = new WebTorrentStore({ dir: join(root, "wt-reader"), trackers: [announce], fetchTimeoutMs: 20_000 });
    local = new LocalStore({ dir: join(root, "local") });
  });

  after(async () => {
    raw?.destroy();
    await heliaPeer?.stop();
    await wtInfra?.stop();
    await webtorrent?.close();
    await ipfs?.close();
    await link?.close();
    await ceph?.stop();
    if (root) await rm(root, { recursive: true, force: true, maxRetries: 5 });
  });

  /** Seed `bytes` as a one-piece item in the other process and make our reader know its torrent. */
  async function seedOnWebTorrent(itemId: string, bytes: Uint8Array): Promise<string> {
    const { result } = await wtInfra.call("put", { store: "seeder", base64: b64(bytes) });
    const pieceCid = (result as { pieceCid: string }).pieceCid;
    const seeded = (await wtInfra.call("seedItem", { store: "seeder", itemId, pieceCids: [pieceCid] })).result as { magnet: string };
    await webtorrent.addTorrent(seeded.magnet);
    return pieceCid;
  }

  it("an S3 object overwritten with other bytes: the read falls back, the bad bytes are never served, S3 is repaired", async () => {
    const bytes = testBytes(3 * 1024 * 1024 + 17, 9001);
    const faults: StorageFault[] = [];
    const set = setOf([s3, ipfs, local], faults);
    const { pieceCid } = await set.put(bytes);
    const bad = bytes.slice();
    bad[1_000_000] ^= 0x40;
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `pieces/${pieceCid}`, Body: bad }));

    const got = await set.get(pieceCid);
    expect(same(got, bytes)).to.equal(true);
    expect(faults.map((f) => `${f.kind}@${f.backend}`)).to.include("corrupt@s3");
    await set.idle();
    expect(set.repairs.done).to.equal(1);
    // Read the repaired copy from S3 itself (and from the service, bypassing our client).
    expect(same(await s3.get(pieceCid), bytes)).to.equal(true);
    const stored = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: `pieces/${pieceCid}` }));
    expect(same(await stored.Body!.transformToByteArray(), bytes)).to.equal(true);
    // A range through the set after repair comes from S3 again and is right.
    expect(same(await set.get(pieceCid, { start: 999_990, end: 1_000_010 }), bytes.subarray(999_990, 1_000_011))).to.equal(true);
  });

  it("an IPFS index entry pointing at another valid root: caught by the PieceCID, fallen back, re-imported onto IPFS", async () => {
    const bytes = testBytes(2 * 1024 * 1024 + 5, 9002);
    const other = testBytes(2 * 1024 * 1024 + 5, 9003);
    const faults: StorageFault[] = [];
    const set = setOf([ipfs, s3, local], faults);
    const { pieceCid, mirrors } = await set.put(bytes);
    const goodRoot = mirrors!.find((m) => m.backend === "ipfs")!.location;
    const { location: wrongRoot } = await ipfs.put(other);
    await ipfs.recordRoot(pieceCid, wrongRoot!);

    expect(same(await set.get(pieceCid), bytes)).to.equal(true);
    expect(faults.map((f) => `${f.kind}@${f.backend}`)).to.include("corrupt@ipfs");
    await set.idle();
    expect(set.repairs.done).to.equal(1);
    expect(await ipfs.locationOf(pieceCid)).to.equal(goodRoot);
    expect(same(await ipfs.get(pieceCid), bytes)).to.equal(true);
    // The other process fetches the repaired root over bitswap and verifies it too.
    const fetched = await heliaPeer.call("get", { pieceCid, location: goodRoot });
    expect(same(new Uint8Array(Buffer.from(fetched.base64 as string, "base64")), bytes)).to.equal(true);
  });

  it("pieces only on the WebTorrent web seed / peers: served when s3 and ipfs lack them, then repaired onto both", async () => {
    const bytes = testBytes(400_000, 9004);
    const pieceCid = await seedOnWebTorrent("item-networks-1", bytes);
    const faults: StorageFault[] = [];
    const set = setOf([s3, ipfs, webtorrent], faults);
    expect(await s3.has(pieceCid)).to.equal(false);
    expect(await ipfs.has(pieceCid)).to.equal(false);

    expect(same(await set.get(pieceCid), bytes)).to.equal(true);
    expect(faults.filter((f) => f.kind !== "missing")).to.deep.equal([]);
    await set.idle();
    expect(set.repairs.done).to.equal(2); // s3 and ipfs were asked first and lacked it
    expect(same(await s3.get(pieceCid), bytes)).to.equal(true);
    expect(same(await ipfs.get(pieceCid), bytes)).to.equal(true);
  });

  it("a slow link to radosgw: reads time out to IPFS, the s3 breaker opens, nothing waits on S3 after", async () => {
    const faults: StorageFault[] = [];
    const set = setOf([s3, ipfs, local], faults, { readTimeoutMs: 1_000 });
    const pieces = [testBytes(300_000, 9005), testBytes(300_000, 9006), testBytes(300_000, 9007)];
    const cids: string[] = [];
    for (const p of pieces) cids.push((await set.put(p)).pieceCid);
    link.delayMs = 3_000;
    try {
      for (let i = 0; i < 2; i++) expect(same(await set.get(cids[i]), pieces[i])).to.equal(true);
      expect(faults.filter((f) => f.backend === "s3").map((f) => (f.error as Error).message)).to.deep.equal(["read timed out on s3", "read timed out on s3"]);
      expect(set.breakerState("s3")).to.equal("open");
      // Open circuit: S3 is skipped (no new fault), the piece still comes back right.
      expect(same(await set.get(cids[2]), pieces[2])).to.equal(true);
      expect(faults.filter((f) => f.backend === "s3")).to.have.length(2);
    } finally {
      link.delayMs = 0;
    }
    expect(set.repairs.queued).to.equal(0); // slow is not damage: nothing to repair
  });

  it("the Helia peer stopped: pieces it alone held fail on ipfs, fall back to S3, and the ipfs breaker opens", async () => {
    const pieces = [testBytes(200_000, 9008), testBytes(200_000, 9009), testBytes(200_000, 9010)];
    const cids: string[] = [];
    const faults: StorageFault[] = [];
    const set = setOf([ipfs, s3], faults);
    for (const p of pieces) {
      const put = await heliaPeer.call("put", { base64: b64(p) });
      await ipfs.recordRoot(put.pieceCid as string, put.location as string);
      await s3.put(p);
      cids.push(put.pieceCid as string);
    }
    // While the peer is up, ipfs serves the first one over bitswap.
    expect(same(await ipfs.get(cids[0]), pieces[0])).to.equal(true);
    await heliaPeer.stop();
    for (let i = 1; i < 3; i++) expect(same(await set.get(cids[i]), pieces[i])).to.equal(true);
    const ipfsFaults = faults.filter((f) => f.backend === "ipfs");
    expect(ipfsFaults.map((f) => (f.error as Error).name)).to.deep.equal(["IpfsUnavailableError", "IpfsUnavailableError"]);
    expect(set.breakerState("ipfs")).to.equal("open");
  });

  it("Ceph stopped: S3 reads fail, the webtorrent/local copies serve, the s3 breaker opens (last: stops Ceph)", async () => {
    const pieces = [testBytes(150_000, 9011), testBytes(150_000, 9012)];
    const faults: StorageFault[] = [];
    const set = setOf([s3, webtorrent, local], faults);
    const cids: string[] = [];
    for (const p of pieces) cids.push((await set.put(p, { backends: ["s3", "local"] })).pieceCid);
    expect(same(await s3.get(cids[0]), pieces[0])).to.equal(true);
    await ceph.stop();
    for (let i = 0; i < 2; i++) expect(same(await set.get(cids[i]), pieces[i])).to.equal(true);
    const s3Faults = faults.filter((f) => f.backend === "s3");
    expect(s3Faults).to.have.length(2);
    for (const f of s3Faults) expect((f.error as Error).name).to.equal("S3StoreError");
    expect(set.breakerState("s3")).to.equal("open");
  });
});
