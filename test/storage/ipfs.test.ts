/**
 * IpfsStore against real Helia nodes on loopback (127.0.0.1 only): the conformance suite, a second
 * Helia in its own Node 22 process (test/storage/ipfs-peer.ts) fetching over bitswap, the path
 * gateway route, corruption, a peer going down, and remote pinning through an in-process
 * Pinning Service API server with its own Helia (test/storage/pinning-service.ts).
 * One store node, one peer process and one pinning node for the whole suite.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as Piece from "@filoz/synapse-core/piece";
import {
  IpfsStore,
  IpfsUnavailableError,
  PinningServiceClient,
  PinningServiceError,
  createIpfsGatewayRoute,
  ipfsStoreFromEnv,
  ipfsGatewayListener,
} from "@streamvault/lib/storage/ipfs/index.ts";
import { PieceIntegrityError, PieceNotFoundError } from "@streamvault/lib/storage/types.ts";
import { describeConformance, testBytes } from "./conformance.ts";
import { startPinningService } from "./pinning-service.ts";
import type { PinningService } from "./pinning-service.ts";

const PEER_SCRIPT = fileURLToPath(new URL("./ipfs-peer.ts", import.meta.url));
const MiB = 1024 * 1024;

/** Files under `dir` (recursive) with inode, mtime and size: a rewrite changes them. */
async function fileSnapshot(dir: string): Promise<Array<[string, number, number, number]>> {
  const out: Array<[string, number, number, number]> = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!entry.isFile()) continue;
    const p = join(entry.parentPath, entry.name);
    const st = await stat(p);
    out.push([p, st.ino, st.mtimeMs, st.size]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

interface PeerReply {
  id: number;
  ok: boolean;
  name?: string;
  message?: string;
  [k: string]: unknown;
}

/** The second Helia process, driven over stdin/stdout JSON lines. */
class PeerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, (reply: PeerReply) => void>();
  #next = 1;
  readonly ready: Promise<{ addrs: string[] }>;
  stderr = "";

  constructor(repoDir: string, dialAddr: string) {
    this.child = spawn(process.execPath, ["--no-warnings", PEER_SCRIPT, repoDir, dialAddr, "15000"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr.on("data", (d) => (this.stderr += d));
    const lines = createInterface({ input: this.child.stdout });
    this.ready = new Promise((resolve, reject) => {
      this.child.once("exit", (code) => reject(new Error(`peer exited (${code}): ${this.stderr}`)));
      lines.on("line", (line) => {
        const msg = JSON.parse(line) as PeerReply & { ready?: boolean; addrs?: string[] };
        if (msg.ready) return resolve({ addrs: msg.addrs! });
        this.#pending.get(msg.id)?.(msg);
        this.#pending.delete(msg.id);
      });
    });
  }

  call(cmd: Record<string, unknown>): Promise<PeerReply> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.child.stdin.write(JSON.stringify({ id, ...cmd }) + "\n");
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.end(); // the script closes its node and exits
    await exited;
  }
}

describe("IPFS backend (Helia on loopback)", function () {
  this.timeout(120_000);
  let root: string;
  let store: IpfsStore;
  let pinning: PinningService;
  let peer: PeerProcess;
  let gateway: Server;
  let gatewayUrl: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "sv-ipfs-"));
    pinning = await startPinningService({ repoDir: join(root, "pinning"), token: "test-token", fetchTimeoutMs: 3_000 });
    store = new IpfsStore({
      repoDir: join(root, "store"),
      fetchTimeoutMs: 5_000,
      pinning: { endpoint: pinning.url, token: pinning.token },
    });
    const [addr] = await store.multiaddrs();
    expect(addr).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/);
    peer = new PeerProcess(join(root, "peer"), addr);
    await peer.ready;
    gateway = createServer(ipfsGatewayListener(createIpfsGatewayRoute(store)));
    await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", r));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });

  after(async () => {
    gateway?.closeAllConnections();
    await new Promise((r) => (gateway ? gateway.close(r) : r(undefined)));
    await peer?.stop();
    await store?.close();
    await pinning?.close();
    await rm(root, { recursive: true, force: true, maxRetries: 5 });
  });

  // One node for every conformance test (seeds differ per test, so pieces never collide).
  describeConformance("ipfs", async () => ({
    store,
    writes: async () => [await fileSnapshot(join(root, "store", "blocks")), await fileSnapshot(join(root, "store", "piece-index"))],
  }));

  it("stores a 5 MiB segment as chunked UnixFS (no block over 1 MiB + header) and records its root", async () => {
    const bytes = testBytes(5 * MiB, 101);
    const res = await store.put(bytes);
    expect(res.pieceCid).to.equal(Piece.calculate(bytes).toString());
    expect(res.location).to.match(/^ipfs:\/\/bafybei/); // dag-pb root, not the PieceCID
    const record = await store.index.get(res.pieceCid);
    expect(`ipfs://${record!.root}`).to.equal(res.location);
    expect(await store.locationOf(res.pieceCid)).to.equal(res.location);
    const blocks = await fileSnapshot(join(root, "store", "blocks"));
    expect(Math.max(...blocks.map((b) => b[3]))).to.be.at.most(MiB + 1024);
  });

  it("a second Helia process fetches the 5 MiB segment over bitswap and verifies it", async () => {
    const bytes = testBytes(5 * MiB, 101);
    const { pieceCid, location } = await store.put(bytes).then(async (r) => ({ ...r, location: await store.locationOf(r.pieceCid) }));
    const whole = await peer.call({ op: "get", pieceCid, location });
    expect(whole.ok, whole.message).to.equal(true);
    expect(Buffer.from(whole.base64 as string, "base64").equals(Buffer.from(bytes))).to.equal(true);
    const part = await peer.call({ op: "get", pieceCid, location, range: { start: 3 * MiB - 10, end: 3 * MiB + 9 } });
    expect(part.ok, part.message).to.equal(true);
    expect(Buffer.from(part.base64 as string, "base64").equals(Buffer.from(bytes.subarray(3 * MiB - 10, 3 * MiB + 10)))).to.equal(true);
  });

  it("the other process refuses a root that is not the PieceCID's bytes", async () => {
    const a = await store.put(testBytes(4000, 102));
    const b = await store.put(testBytes(4000, 103));
    const reply = await peer.call({ op: "get", pieceCid: a.pieceCid, location: b.location });
    expect(reply.ok).to.equal(false);
    expect(reply.name).to.equal("PieceIntegrityError");
  });

  it("reads a piece that only the other process holds (bitswap the other way)", async () => {
    const bytes = testBytes(3 * MiB + 7, 104);
    const put = await peer.call({ op: "put", base64: Buffer.from(bytes).toString("base64") });
    expect(put.ok, put.message).to.equal(true);
    const pieceCid = put.pieceCid as string;
    expect(await store.has(pieceCid)).to.equal(false);
    await store.recordRoot(pieceCid, put.location as string);
    const back = await store.get(pieceCid, { start: 2 * MiB, end: 2 * MiB + 99 });
    expect(Buffer.from(back).equals(Buffer.from(bytes.subarray(2 * MiB, 2 * MiB + 100)))).to.equal(true);
    expect(await store.has(pieceCid)).to.equal(true); // fetched blocks are now local
  });

  it("serves /ipfs/<root> through the gateway route with Range -> 206", async () => {
    const bytes = testBytes(2 * MiB + 500, 105);
    const { location } = await store.put(bytes);
    const cid = location!.slice("ipfs://".length);
    const full = await fetch(`${gatewayUrl}/ipfs/${cid}`);
    expect(full.status).to.equal(200);
    expect(Buffer.from(await full.arrayBuffer()).equals(Buffer.from(bytes))).to.equal(true);
    const ranged = await fetch(`${gatewayUrl}/ipfs/${cid}`, { headers: { Range: "bytes=1048570-1048589" } });
    expect(ranged.status).to.equal(206);
    expect(ranged.headers.get("content-range")).to.equal(`bytes 1048570-1048589/${bytes.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(Buffer.from(bytes.subarray(1048570, 1048590)))).to.equal(true);
    expect((await fetch(`${gatewayUrl}/ipfs/notacid`)).status).to.equal(400);
    expect((await fetch(`${gatewayUrl}/piece/${cid}`)).status).to.equal(404);
  });

  it("urlFor points at the gateway's /ipfs/<root> when IPFS_GATEWAY_URL is set", async () => {
    const { pieceCid, location } = await store.put(testBytes(1000, 106));
    const view = new IpfsStore({ repoDir: join(root, "store"), gatewayUrl: `${gatewayUrl}/` });
    expect(view.urlFor(pieceCid)).to.equal(`${gatewayUrl}/ipfs/${location!.slice(7)}`);
    expect(store.urlFor(pieceCid)).to.equal(undefined);
  });

  it("a wrong root in the index (corruption) fails with PieceIntegrityError and serves nothing", async () => {
    const good = testBytes(6000, 107);
    const other = testBytes(6000, 108); // same size: only the hash can tell them apart
    const a = await store.put(good);
    const b = await store.put(other);
    expect(Buffer.from(await store.get(a.pieceCid)).equals(Buffer.from(good))).to.equal(true);
    await store.index.set(a.pieceCid, { root: b.location!.slice(7) });
    const whole = await store.get(a.pieceCid).catch((e: unknown) => e);
    expect(whole).to.be.instanceOf(PieceIntegrityError);
    expect((whole as PieceIntegrityError).backend).to.equal("ipfs");
    const ranged = await store.get(a.pieceCid, { start: 0, end: 99 }).catch((e: unknown) => e);
    expect(ranged).to.be.instanceOf(PieceIntegrityError);
    // A root holding more bytes than the PieceCID's size is refused too.
    const bigger = await store.put(testBytes(9000, 109));
    await store.index.set(a.pieceCid, { root: bigger.location!.slice(7) });
    expect(await store.get(a.pieceCid).catch((e: unknown) => e)).to.be.instanceOf(PieceIntegrityError);
    await store.index.set(a.pieceCid, { root: a.location!.slice(7) });
    expect(Buffer.from(await store.get(a.pieceCid, { start: 10, end: 19 })).equals(Buffer.from(good.subarray(10, 20)))).to.equal(true);
  });

  it("pins each new root remotely: queued -> pinning -> pinned, fetched by the service over bitswap", async () => {
    const bytes = testBytes(2 * MiB + 3, 110);
    const { pieceCid, location } = await store.put(bytes);
    const rootCid = location!.slice(7);
    const first = await store.remotePinStatus(pieceCid);
    expect(first!.pin.cid).to.equal(rootCid);
    expect(first!.pin.name).to.equal(pieceCid);
    // Our listen address is among the origins, so the service can fetch from us directly.
    expect(first!.pin.origins).to.include((await store.multiaddrs())[0]);
    const pinned = await store.waitForRemotePin(pieceCid, { timeoutMs: 30_000, intervalMs: 50 });
    expect(pinned.status).to.equal("pinned");
    expect(pinning.history.get(pinned.requestid)).to.deep.equal(["queued", "pinning", "pinned"]);
    expect(await pinning.holds(rootCid)).to.equal(true);

    const client = new PinningServiceClient({ endpoint: pinning.url, token: pinning.token });
    const listed = await client.list({ cid: [rootCid] });
    expect(listed.count).to.equal(1);
    expect(listed.results[0].requestid).to.equal(pinned.requestid);
    const wrongToken = new PinningServiceClient({ endpoint: pinning.url, token: "nope" });
    const denied = await wrongToken.get(pinned.requestid).catch((e: unknown) => e);
    expect(denied).to.be.instanceOf(PinningServiceError);
    expect((denied as PinningServiceError).status).to.equal(401);
    expect((denied as Error).message).to.match(/UNAUTHORIZED.*IPFS_PINNING_TOKEN/);
    await client.remove(pinned.requestid);
    const gone = await client.get(pinned.requestid).catch((e: unknown) => e);
    expect((gone as PinningServiceError).status).to.equal(404);
  });

  it("a pin the service cannot fetch ends failed, and waitForPinned says so", async () => {
    const client = new PinningServiceClient({ endpoint: pinning.url, token: pinning.token });
    // A valid CID nobody has, with no origins: the service's fetch times out and the pin fails.
    const absent = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    const queued = await client.add({ cid: absent, name: "nobody-has-this" });
    expect(queued.status).to.equal("queued");
    const err = await client.waitForPinned(queued.requestid, { timeoutMs: 60_000, intervalMs: 100 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PinningServiceError);
    expect((err as Error).message).to.match(/failed/);
  });

  it("ipfsStoreFromEnv names the missing or malformed variable", () => {
    const ctx = { dataDir: join(root, "pieces") };
    expect(() => ipfsStoreFromEnv({ IPFS_PINNING_ENDPOINT: "http://127.0.0.1:1" }, ctx)).to.throw(/IPFS_PINNING_TOKEN/);
    expect(() => ipfsStoreFromEnv({ IPFS_PINNING_TOKEN: "t" }, ctx)).to.throw(/IPFS_PINNING_ENDPOINT/);
    expect(() => ipfsStoreFromEnv({ IPFS_PEERS: "/ip4/127.0.0.1/tcp/4001" }, ctx)).to.throw(/IPFS_PEERS.*\/p2p\//);
    expect(() => ipfsStoreFromEnv({ IPFS_LISTEN: "127.0.0.1:4001" }, ctx)).to.throw(/IPFS_LISTEN/);
    expect(() => ipfsStoreFromEnv({ IPFS_FETCH_TIMEOUT_MS: "soon" }, ctx)).to.throw(/IPFS_FETCH_TIMEOUT_MS/);
    const fromEnv = ipfsStoreFromEnv({}, ctx);
    expect(fromEnv.repoDir).to.equal(join(root, "ipfs"));
    expect(fromEnv.pinning).to.equal(undefined);
  });

  // Last: it stops the peer process.
  it("peer down: a piece only the stopped peer held fails with a clear error within the fetch timeout", async () => {
    const bytes = testBytes(1500, 111);
    const put = await peer.call({ op: "put", base64: Buffer.from(bytes).toString("base64") });
    expect(put.ok, put.message).to.equal(true);
    await peer.stop();
    await store.recordRoot(put.pieceCid as string, put.location as string);
    const err = await store.get(put.pieceCid as string).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(IpfsUnavailableError);
    expect((err as Error).message).to.include(`root ${(put.location as string).slice(7)}`);
    expect((err as Error).message).to.match(/not retrieved within 5000 ms: not in the local blockstore and .*IPFS_PEERS/);
    const absent = await store.get(Piece.calculate(testBytes(1500, 112)).toString()).catch((e: unknown) => e);
    expect(absent).to.be.instanceOf(PieceNotFoundError);
  });

  // After the peer-down test: it replaces the suite's store with a reopened one.
  it("keeps pieces, the index and the peer id across a restart on the same repo", async () => {
    const bytes = testBytes(1_200_000, 113);
    const { pieceCid, location } = await store.put(bytes);
    const peerIdBefore = (await store.multiaddrs())[0].split("/p2p/")[1];
    await store.close();
    expect(await store.get(pieceCid).catch((e: unknown) => e)).to.be.instanceOf(Error); // closed for good
    store = new IpfsStore({ repoDir: join(root, "store"), fetchTimeoutMs: 5_000 });
    expect(await store.has(pieceCid)).to.equal(true);
    expect(await store.locationOf(pieceCid)).to.equal(location);
    expect(Buffer.from(await store.get(pieceCid)).equals(Buffer.from(bytes))).to.equal(true);
    expect((await store.multiaddrs())[0].split("/p2p/")[1]).to.equal(peerIdBefore);
    expect(await store.put(bytes)).to.deep.equal({ pieceCid, size: bytes.length, existed: true, location });
  });
});
