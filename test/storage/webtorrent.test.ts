/**
 * WebTorrent backend against real peers: a local bittorrent-tracker, a piece gateway (the web
 * seed), a seeder and a leecher, each a separate Node process (test/storage/webtorrent-peer.ts).
 * When we are root they all share one fresh loopback-only network namespace (`unshare -n`,
 * joined with `nsenter`): webtorrent's peer port binds every interface and cannot be told not to.
 */
import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import parseTorrent from "parse-torrent";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as Piece from "@filoz/synapse-core/piece";
import { WebTorrentStore, webtorrentStoreFromEnv, TORRENT_NAME } from "@streamvault/lib/storage/webtorrent/index.ts";
import { describeConformance, testBytes } from "./conformance.ts";

const PEER_SCRIPT = fileURLToPath(new URL("./webtorrent-peer.ts", import.meta.url));

interface PeerError extends Error {
  remoteName: string;
}

/** One peer process and its JSON-lines RPC. */
class Peer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: Promise<number>;
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  stderr = "";

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.on("data", (d: Buffer) => (this.stderr += d.toString()));
    let ready: (pid: number) => void;
    let failed: (e: Error) => void;
    this.pid = new Promise<number>((res, rej) => ((ready = res), (failed = rej)));
    this.child.once("exit", (code) => {
      const err = new Error(`peer exited with ${code}: ${this.stderr.slice(-2000)}`);
      failed(err);
      for (const w of this.#waiting.values()) w.reject(err);
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      let msg: { id: number; ok: boolean; result?: unknown; error?: { name: string; message: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        return; // library chatter on stdout
      }
      if (msg.id === 0) return ready((msg.result as { pid: number }).pid);
      const w = this.#waiting.get(msg.id);
      if (!w) return;
      this.#waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.result);
      else {
        const e = new Error(msg.error!.message) as PeerError;
        e.remoteName = msg.error!.name;
        w.reject(e);
      }
    });
  }

  call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(JSON.stringify({ id, op, ...args }) + "\n");
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.end(); // the peer closes its stores and exits
    await exited;
  }
}

/** Can this process create a network namespace? (root with util-linux unshare + iproute2) */
function namespacesAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync("unshare", ["-n", "sh", "-c", "ip link set lo up"], { stdio: "ignore" });
  return probe.status === 0;
}

interface Seeded {
  itemId: string;
  infoHash: string;
  magnet: string;
  torrentPieceCid: string;
  pieceCids: string[];
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

describe("WebTorrentStore", function () {
  this.timeout(180_000);

  describeConformance("webtorrent", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sv-wt-conf-"));
    const store = new WebTorrentStore({ dir });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
      writes: async () => (await readdir(join(dir, TORRENT_NAME)).catch(() => [])).sort(),
    };
  });

  describe("webtorrentStoreFromEnv", () => {
    it("reads WEBTORRENT_* settings and defaults the directory beside the local pieces", () => {
      const store = webtorrentStoreFromEnv(
        { WEBTORRENT_TRACKERS: "http://127.0.0.1:8000/announce, udp://127.0.0.1:8000", WEBTORRENT_WEB_SEED_URL: "https://app.example/api/" },
        { dataDir: "/srv/sv/pieces" },
      );
      expect(store.dir).to.equal("/srv/sv/webtorrent");
      expect(store.trackers).to.deep.equal(["http://127.0.0.1:8000/announce", "udp://127.0.0.1:8000"]);
      const cid = Piece.calculate(testBytes(200, 3)).toString();
      expect(store.urlFor(cid)).to.equal(`https://app.example/api/piece/${cid}`);
      expect(webtorrentStoreFromEnv({}, { dataDir: "d/pieces", publicUrl: "http://127.0.0.1:8787" }).webSeedUrl).to.equal("http://127.0.0.1:8787");
    });

    it("names the variable in its errors", () => {
      expect(() => webtorrentStoreFromEnv({ WEBTORRENT_TRACKERS: "tracker.example:80" }, { dataDir: "d" })).to.throw(/WEBTORRENT_TRACKERS/);
      expect(() => webtorrentStoreFromEnv({ WEBTORRENT_WEB_SEED_URL: "ftp://x" }, { dataDir: "d" })).to.throw(/WEBTORRENT_WEB_SEED_URL/);
      expect(() => webtorrentStoreFromEnv({ WEBTORRENT_PORT: "http" }, { dataDir: "d" })).to.throw(/WEBTORRENT_PORT/);
    });
  });

  describe("seedItem", () => {
    it("refuses pieces it does not hold and names them", async () => {
      const dir = await mkdtemp(join(tmpdir(), "sv-wt-seed-"));
      const store = new WebTorrentStore({ dir });
      try {
        const absent = Piece.calculate(testBytes(300, 77)).toString();
        const err = await store.seedItem("item-1", [absent]).catch((e: unknown) => e);
        expect((err as Error).message).to.match(/not stored here, put\(\) them first/).and.to.include(absent);
      } finally {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe("local reads", () => {
    it("a piece file changed on disk after it was verified is caught, for ranged reads too", async () => {
      const dir = await mkdtemp(join(tmpdir(), "sv-wt-local-"));
      const store = new WebTorrentStore({ dir });
      try {
        const bytes = testBytes(20_000, 61);
        const { pieceCid } = await store.put(bytes);
        const first = await store.get(pieceCid, { start: 10, end: 19 }); // hashes the file once
        expect(Buffer.from(first).equals(Buffer.from(bytes.subarray(10, 20)))).to.equal(true);
        const tampered = bytes.slice();
        tampered[15_000] ^= 0xff;
        await rm(store.pathFor(pieceCid));
        await writeFile(store.pathFor(pieceCid), tampered); // new inode: the cached check no longer applies
        const err = await store.get(pieceCid, { start: 10, end: 19 }).catch((e: unknown) => e);
        expect((err as Error).name).to.equal("PieceIntegrityError");
      } finally {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe("between Node peers with a local tracker and an HTTP web seed", () => {
    let root: string;
    let infra: Peer; // tracker + gateways
    let seeder: Peer;
    let leecher: Peer;
    let announce: string;
    let gatewayUrl: string;
    let corruptGatewayUrl: string;
    let inNamespace = false;
    const peers: Peer[] = [];

    // Three items: A only through peers (no web seed at all), B and C only through the web seed.
    const itemA = [testBytes(300_000, 101), testBytes(70_000, 102), testBytes(5_000, 103)];
    const itemB = [testBytes(200_000, 201), testBytes(130_000, 202)];
    const itemC = [testBytes(150_000, 301)];
    const itemCorrupt = [testBytes(90_000, 401), testBytes(60_000, 402)];
    const cidOf = (b: Uint8Array) => Piece.calculate(b).toString();

    before(async () => {
      root = await mkdtemp(join(tmpdir(), "sv-wt-p2p-"));
      inNamespace = namespacesAvailable();
      const node = process.execPath;
      if (inNamespace) {
        infra = new Peer("unshare", ["-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", node, PEER_SCRIPT]);
      } else {
        infra = new Peer(node, [PEER_SCRIPT]);
      }
      peers.push(infra);
      const infraPid = await infra.pid;
      const join_ = (): Peer =>
        inNamespace ? new Peer("nsenter", [`--net=/proc/${infraPid}/ns/net`, node, PEER_SCRIPT]) : new Peer(node, [PEER_SCRIPT]);
      seeder = join_();
      leecher = join_();
      peers.push(seeder, leecher);
      await Promise.all([seeder.pid, leecher.pid]);

      announce = (await infra.call<{ announce: string }>("tracker")).announce;
      const seedDir = join(root, "seeder");
      const pubDir = join(root, "publisher");
      gatewayUrl = (await infra.call<{ url: string }>("gateway", { name: "ok", dir: pubDir })).url;
      corruptGatewayUrl = (
        await infra.call<{ url: string }>("gateway", { name: "corrupt", dir: join(root, "corrupt"), corrupt: itemCorrupt.map(cidOf) })
      ).url;

      await seeder.call("open", { store: "p2p", dir: seedDir, trackers: [announce] });
      await leecher.call("open", { store: "fan", dir: join(root, "leecher"), trackers: [announce], fetchTimeoutMs: 20_000 });
    });

    after(async () => {
      for (const p of peers) await p?.stop().catch(() => {});
      if (root) await rm(root, { recursive: true, force: true });
    });

    async function publish(peer: Peer, store: string, itemId: string, pieces: Uint8Array[]): Promise<Seeded> {
      const cids: string[] = [];
      for (const bytes of pieces) cids.push((await peer.call<{ pieceCid: string }>("put", { store, base64: b64(bytes) })).pieceCid);
      return peer.call<Seeded>("seedItem", { store, itemId, pieceCids: cids });
    }

    it("runs inside a loopback-only network namespace when root", function () {
      // Documents where the peers ran; outside the namespace everything still binds 127.0.0.1
      // except webtorrent's peer port (no host option), and DHT/LSD/UPnP stay off.
      expect(inNamespace).to.equal(process.getuid?.() === 0);
    });

    it("a leecher fetches a piece from the seeding peer (no web seed) and verifies it", async () => {
      const seeded = await publish(seeder, "p2p", "item-a", itemA);
      expect(seeded.pieceCids).to.deep.equal(itemA.map(cidOf));
      expect(seeded.magnet).to.match(/^magnet:\?xt=urn:btih:[0-9a-f]{40}&dn=item-a&tr=/);
      expect(seeded.magnet).to.not.include("ws=").and.not.include("xs=");

      const added = await leecher.call<{ infoHash: string; pieceCids: string[] }>("addTorrent", { store: "fan", magnet: seeded.magnet });
      expect(added.infoHash).to.equal(seeded.infoHash);
      expect(added.pieceCids).to.deep.equal(itemA.map(cidOf));
      expect(await leecher.call("has", { store: "fan", pieceCid: cidOf(itemA[1]) })).to.equal(true);

      const got = await leecher.call<{ base64: string }>("get", { store: "fan", pieceCid: cidOf(itemA[1]) });
      expect(Buffer.from(unb64(got.base64)).equals(Buffer.from(itemA[1]))).to.equal(true);
      const range = await leecher.call<{ base64: string }>("get", { store: "fan", pieceCid: cidOf(itemA[0]), range: { start: 1000, end: 1999 } });
      expect(Buffer.from(unb64(range.base64)).equals(Buffer.from(itemA[0].subarray(1000, 2000)))).to.equal(true);

      const fan = await leecher.call<{ peers: number; webSeeds: number; downloadedBytes: number; fetchedPieces: number }>("stats", { store: "fan" });
      expect(fan.fetchedPieces).to.equal(2);
      expect(fan.webSeeds).to.equal(0);
      expect(fan.downloadedBytes).to.be.at.least(itemA[0].length + itemA[1].length - 2 * 16384);
      const seed = await seeder.call<{ seeding: number; uploadedBytes: number; peers: number }>("stats", { store: "p2p" });
      expect(seed.seeding).to.equal(1);
      expect(seed.uploadedBytes).to.be.greaterThan(itemA[1].length - 1);
    });

    it("re-seeding the same pieces gives the same info hash; new pieces replace the item's torrent", async () => {
      const again = await publish(seeder, "p2p", "item-a", itemA);
      const first = await seeder.call<Seeded>("seedItem", { store: "p2p", itemId: "item-a", pieceCids: itemA.map(cidOf) });
      expect(again.infoHash).to.equal(first.infoHash);
      const extra = testBytes(4_000, 104);
      const grown = await publish(seeder, "p2p", "item-a", [...itemA, extra]);
      expect(grown.infoHash).to.not.equal(first.infoHash);
      expect(grown.pieceCids).to.have.length(4);
      const seed = await seeder.call<{ seeding: number }>("stats", { store: "p2p" });
      expect(seed.seeding).to.equal(1);

      // A restarted seeder resumes from its index: the fan gets the new piece from it.
      await seeder.call("close", { store: "p2p" });
      await seeder.call("open", { store: "p2p", dir: join(root, "seeder"), trackers: [announce], start: true });
      expect((await seeder.call<{ seeding: number }>("stats", { store: "p2p" })).seeding).to.equal(1);
      await leecher.call("addTorrent", { store: "fan", magnet: grown.magnet });
      const got = await leecher.call<{ base64: string }>("get", { store: "fan", pieceCid: cidOf(extra) });
      expect(Buffer.from(unb64(got.base64)).equals(Buffer.from(extra))).to.equal(true);
    });

    it("bytes that match the torrent but not the PieceCID are never served (PieceIntegrityError)", async () => {
      // A peer seeds a torrent whose file is named after one piece but holds other bytes of the
      // same length: BitTorrent's SHA-1 checks pass, only the PieceCID check can catch it.
      const claimed = testBytes(50_000, 501);
      const actual = testBytes(50_000, 502);
      const liarDir = join(root, "liar");
      await mkdir(join(liarDir, TORRENT_NAME), { recursive: true });
      await writeFile(join(liarDir, TORRENT_NAME, cidOf(claimed)), actual);
      await seeder.call("open", { store: "liar", dir: liarDir, trackers: [announce] });
      const seeded = await seeder.call<Seeded>("seedItem", { store: "liar", itemId: "item-liar", pieceCids: [cidOf(claimed)] });

      await leecher.call("addTorrent", { store: "fan", magnet: seeded.magnet });
      const before = await leecher.call<{ hashFailures: number; integrityFailures: number; localPieces: number }>("stats", { store: "fan" });
      const err = await leecher.call("get", { store: "fan", pieceCid: cidOf(claimed) }).catch((e: PeerError) => e);
      expect((err as PeerError).remoteName).to.equal("PieceIntegrityError");
      expect((err as PeerError).message).to.include(cidOf(actual));
      const after = await leecher.call<{ hashFailures: number; integrityFailures: number; localPieces: number }>("stats", { store: "fan" });
      expect(after.hashFailures).to.equal(before.hashFailures);
      expect(after.integrityFailures).to.equal(before.integrityFailures + 1);
      expect(after.localPieces).to.equal(before.localPieces);
      await seeder.call("close", { store: "liar" });
    });

    it("with no peer at all (publisher gone) the fan gets metadata and pieces from the web seed", async () => {
      await seeder.call("open", { store: "pub", dir: join(root, "publisher"), trackers: [announce], webSeedUrl: gatewayUrl });
      const seeded = await publish(seeder, "pub", "item-b", itemB);
      expect(seeded.magnet).to.include(`ws=${encodeURIComponent(gatewayUrl)}`);
      expect(seeded.magnet).to.include(`xs=${encodeURIComponent(`${gatewayUrl}/piece/${seeded.torrentPieceCid}`)}`);
      await seeder.call("close", { store: "pub" }); // seeder gone: only the HTTP gateway is left

      // The .torrent's own url-list maps <url>/<name>/<file> onto the piece route (BEP 19).
      const torrent = await parseTorrent(await readFile(join(root, "publisher", TORRENT_NAME, seeded.torrentPieceCid)));
      expect(torrent.urlList).to.deep.equal([gatewayUrl]);
      expect(torrent.files!.map((f) => `${torrent.urlList![0]}/${f.path}`)).to.deep.equal(itemB.map((b) => `${gatewayUrl}/piece/${cidOf(b)}`));

      // Without ws= in the magnet, the web seed can only come from that url-list.
      const magnet = seeded.magnet.replace(/&ws=[^&]*/, "");
      const added = await leecher.call<{ pieceCids: string[] }>("addTorrent", { store: "fan", magnet });
      expect(added.pieceCids).to.deep.equal(itemB.map(cidOf));
      const got = await leecher.call<{ base64: string }>("get", { store: "fan", pieceCid: cidOf(itemB[1]) });
      expect(Buffer.from(unb64(got.base64)).equals(Buffer.from(itemB[1]))).to.equal(true);
      const fan = await leecher.call<{ webSeeds: number }>("stats", { store: "fan" });
      expect(fan.webSeeds).to.be.at.least(1);
    });

    it("a web seed that returns corrupt bytes is never served (PieceIntegrityError)", async () => {
      await seeder.call("open", { store: "bad", dir: join(root, "corrupt"), trackers: [announce], webSeedUrl: corruptGatewayUrl });
      const seeded = await publish(seeder, "bad", "item-corrupt", itemCorrupt);
      await seeder.call("close", { store: "bad" });

      await leecher.call("addTorrent", { store: "fan", magnet: seeded.magnet });
      const before = await leecher.call<{ hashFailures: number; integrityFailures: number; localPieces: number }>("stats", { store: "fan" });
      const err = await leecher.call("get", { store: "fan", pieceCid: cidOf(itemCorrupt[0]) }).catch((e: PeerError) => e);
      expect(err).to.be.instanceOf(Error);
      expect((err as PeerError).remoteName).to.equal("PieceIntegrityError");
      const after = await leecher.call<{ hashFailures: number; integrityFailures: number; localPieces: number }>("stats", { store: "fan" });
      expect(after.hashFailures).to.be.greaterThan(before.hashFailures);
      expect(after.integrityFailures).to.equal(before.integrityFailures + 1);
      expect(after.localPieces).to.equal(before.localPieces); // nothing corrupt was kept
    });

    it("with the tracker down, the web seed still delivers", async () => {
      await seeder.call("open", { store: "pub2", dir: join(root, "publisher"), trackers: [announce], webSeedUrl: gatewayUrl });
      const seeded = await publish(seeder, "pub2", "item-c", itemC);
      await seeder.call("close", { store: "pub2" });
      await infra.call("stopTracker");

      // A one-piece item is a single-file torrent: its web seed is the piece URL itself.
      const torrent = await parseTorrent(await readFile(join(root, "publisher", TORRENT_NAME, seeded.torrentPieceCid)));
      expect(torrent.urlList).to.deep.equal([`${gatewayUrl}/piece/${cidOf(itemC[0])}`]);
      await leecher.call("addTorrent", { store: "fan", magnet: seeded.magnet.replace(/&ws=[^&]*/, "") });
      const got = await leecher.call<{ base64: string }>("get", { store: "fan", pieceCid: cidOf(itemC[0]) });
      expect(Buffer.from(unb64(got.base64)).equals(Buffer.from(itemC[0]))).to.equal(true);
    });
  });
});
