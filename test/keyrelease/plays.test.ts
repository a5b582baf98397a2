/**
 * Plays counted on the server: key releases and segment requests (via the piece gateway) are both
 * plays evidence in the `plays` table, and a play is counted once per viewer and item within the
 * play window. Real anvil, real PGlite, real HTTP on 127.0.0.1; the items have real manifests in a
 * real LocalStore, registered on chain, so the segment resolver reads the chain and the manifest.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { cidToBytes } from "@streamvault/lib/chain/cid.ts";
import { openPglite } from "@streamvault/lib/db";
import { openKeyReleaseDb } from "@streamvault/lib/keyrelease/db.ts";
import { mediaPlaylist, serializeManifest, type Manifest } from "@streamvault/lib/manifest";
import { countSegmentPlays, ManifestSegmentResolver } from "@streamvault/lib/keyrelease/plays.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import type { Logger, PlayCounts } from "@streamvault/lib/keyrelease/service.ts";
import { generateEphemeralKeyPair } from "@streamvault/lib/keyrelease/wrap.ts";
import { LocalStore, startGateway, type Gateway } from "@streamvault/lib/storage";
import { readItemPlays } from "@streamvault/lib/storage/placement/plays.ts";
import { signIn, startChainFixture, type ChainFixture, startFixtureServer } from "./fixture.ts";

interface Item {
  contentId: Hex;
  key: Uint8Array;
  preview: string[];
  high: string[];
  manifestCid: string;
}

/** Stores a small unencrypted manifest (a 1-segment preview and a 3-segment "high" variant) and registers it on chain. */
async function publish(f: ChainFixture, store: LocalStore, label: string): Promise<Item> {
  const piece = async (n: number) => (await store.put(new Uint8Array(300).fill(n).map((b, i) => (b + i * label.length) & 0xff))).pieceCid;
  const seed = label.length * 10;
  const preview = [await piece(seed)];
  const high = [await piece(seed + 1), await piece(seed + 2), await piece(seed + 3)];
  const variant = (name: string, role: "preview" | "high", cids: string[]) => ({
    name, role, kind: "hls" as const, codecs: "mp4a.40.2", container: "mpegts", bitrate: 128000, averageBandwidth: 120000, peakBandwidth: 130000,
    encrypted: false, duration: cids.length * 10, playlist: name,
    segments: cids.map((pieceCid, index) => ({ index, pieceCid, size: 300, duration: 10 })),
  });
  const manifest: Manifest = {
    version: 1, contentId: label, kind: "audio", tier: "premium", copies: 1, duration: 30, tags: { title: label },
    source: { container: "wav", codec: "pcm_s16le", size: 1000, lossless: true },
    variants: [variant("preview", "preview", preview), variant("high", "high", high)],
    playlists: {
      preview: mediaPlaylist(preview.map((pieceCid) => ({ pieceCid, duration: 10 })), "/piece/"),
      high: mediaPlaylist(high.map((pieceCid) => ({ pieceCid, duration: 10 })), "/piece/"),
    },
    pieceUrlPrefix: "/piece/",
    artwork: [],
  };
  const { pieceCid: manifestCid } = await store.put(serializeManifest(manifest));
  const { contentId, key } = await f.registerItem(label, {}, cidToBytes(manifestCid));
  return { contentId, key, preview, high, manifestCid };
}

describe("key release: plays counted from key releases and segment requests", function () {
  this.timeout(120_000);
  let f: ChainFixture;
  let dir: string;
  let store: LocalStore;
  let srv: KeyReleaseServer;
  let gateway: Gateway;
  let a: Item;
  let b: Item;
  /** The service's clock runs with real time (SIWE messages carry real times) plus a shift the tests move forward. */
  let shiftMs = 0;
  const clock = () => Date.now() + shiftMs;
  /** Signed in before the clock moves (SIWE messages are checked against the service's clock). */
  let lateFanCookie: string;
  const logs: string[] = [];
  const logger: Logger = {
    info: (m, x) => logs.push(JSON.stringify({ m, ...x })),
    warn: (m, x) => logs.push(JSON.stringify({ m, ...x })),
    error: (m, x) => logs.push(JSON.stringify({ m, ...x })),
  };

  before(async () => {
    f = await startChainFixture();
    dir = await mkdtemp(join(tmpdir(), "sv-plays-"));
    store = new LocalStore({ dir: join(dir, "pieces") });
    a = await publish(f, store, "plays-a");
    b = await publish(f, store, "plays-b-item");
    srv = await startFixtureServer(f, {
      dataDir: join(dir, "keyrelease"),
      segmentResolver: new ManifestSegmentResolver({ publicClient: f.publicClient, deployment: f.deployment, store }),
      anonymousPlayLimit: { points: 5, durationSeconds: 3600 },
      now: clock,
      logger,
    });
    gateway = await startGateway({ store, onPieceServed: countSegmentPlays(srv.service) });
    lateFanCookie = await signIn(srv.url, await f.newAccount());
  });
  after(async () => {
    await gateway?.close();
    await srv?.close();
    await f?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const counts = async (item: Item): Promise<PlayCounts> => (await (await fetch(`${srv.url}/api/plays/${item.contentId}`)).json()) as PlayCounts;
  const segment = async (item: Item, cid: string, headers: Record<string, string> = {}, content: Hex | null = item.contentId) => {
    const res = await fetch(`${gateway.url}/piece/${cid}${content === null ? "" : `?c=${content}`}`, { headers });
    expect(res.status).to.equal(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(await store.get(cid)))).to.equal(true);
  };
  const release = async (item: Item, cookie: string) => {
    const { publicKey } = await generateEphemeralKeyPair();
    const res = await fetch(`${srv.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: publicKey }) });
    expect(res.status).to.equal(200);
  };

  it("a key release starts a play; the segments it decrypts and a second release within the window do not start another", async () => {
    const cookie = await signIn(srv.url, f.creator);
    await release(a, cookie);
    expect(await counts(a)).to.deep.include({ plays: 1, keyReleases: 1, segmentPlays: 0, uniqueWallets: 1, uniqueViewers: 1 });
    for (const cid of a.high) await segment(a, cid, { cookie });
    await release(a, cookie);
    expect(await counts(a)).to.deep.include({ plays: 1, keyReleases: 2, segmentPlays: 0, uniqueWallets: 1 });
  });

  it("segment requests of a signed-in wallet with no key release start one play (free or clear content)", async () => {
    const fan = await f.newAccount();
    const cookie = await signIn(srv.url, fan);
    await segment(a, a.high[0]!, { cookie });
    await segment(a, a.high[1]!, { cookie });
    expect(await counts(a)).to.deep.include({ plays: 2, keyReleases: 2, segmentPlays: 1, uniqueWallets: 2, uniqueViewers: 2 });
    const row = (await srv.service.db.query<{ wallet: string; viewer: string; kind: string }>("SELECT wallet, viewer, kind FROM plays WHERE kind = 'segment-request'")).rows;
    expect(row).to.deep.equal([{ wallet: fan.address, viewer: fan.address.toLowerCase(), kind: "segment-request" }]);
  });

  it("anonymous segment requests count once per viewer (salted IP + User-Agent hash, no IP stored); previews, other items' pieces and untagged requests do not count", async () => {
    await segment(a, a.high[0]!, { "user-agent": "player-one" });
    await segment(a, a.high[2]!, { "user-agent": "player-one" });
    await segment(a, a.high[1]!, { "user-agent": "player-two" });
    expect(await counts(a)).to.deep.include({ plays: 4, segmentPlays: 3, uniqueWallets: 2, uniqueViewers: 4 });
    await segment(a, a.preview[0]!, { "user-agent": "preview-listener" }); // the preview is not a play
    await segment(b, a.high[0]!, { "user-agent": "forger" }, b.contentId); // a's piece credited to b: refused
    await segment(b, a.manifestCid, { "user-agent": "forger" }, b.contentId); // not a segment at all
    await segment(a, a.high[0]!, { "user-agent": "untagged" }, null); // no ?c=: nothing to count
    expect(await counts(a)).to.deep.include({ plays: 4, segmentPlays: 3 });
    expect(await counts(b)).to.deep.include({ plays: 0, uniqueViewers: 0 });
    const viewers = (await srv.service.db.query<{ viewer: string }>("SELECT DISTINCT viewer FROM plays WHERE wallet IS NULL")).rows.map((r) => r.viewer);
    expect(viewers).to.have.length(2);
    for (const v of viewers) expect(v).to.match(/^anon:[0-9a-f]{32}$/);
    const dump = JSON.stringify((await srv.service.db.query("SELECT * FROM plays")).rows);
    expect(dump).to.not.contain("127.0.0.1");
  });

  it("concurrent segment requests of one viewer start one play", async () => {
    const before = (await counts(b)).plays;
    await Promise.all(Array.from({ length: 12 }, (_, i) => segment(b, b.high[i % 3]!, { "user-agent": "burst" })));
    expect((await counts(b)).plays).to.equal(before + 1);
  });

  it("after the play window the same viewer starts a new play; a service sharing the database does not double count within it", async () => {
    const cookie = await signIn(srv.url, f.creator);
    await release(b, cookie);
    const afterRelease = await counts(b);
    // A second instance (memory empty) on the same database: the play start is read from the table.
    const other = await startFixtureServer(f, {
      db: srv.service.db, now: clock, logger,
    });
    try {
      const { publicKey } = await generateEphemeralKeyPair();
      const res = await fetch(`${other.url}/api/keys/${b.contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: publicKey }) });
      expect(res.status).to.equal(200);
    } finally {
      await other.close();
    }
    expect(await counts(b)).to.deep.include({ plays: afterRelease.plays, keyReleases: afterRelease.keyReleases + 1 });
    shiftMs += 31 * 60_000;
    await segment(b, b.high[0]!, { cookie });
    await release(b, cookie);
    expect(await counts(b)).to.deep.include({ plays: afterRelease.plays + 1, keyReleases: afterRelease.keyReleases + 2 });
  });

  it("caps new anonymous plays per IP; signed-in wallets are not capped", async () => {
    // 5 per hour in this suite: 3 anonymous plays so far from 127.0.0.1 (player-one, player-two, burst), forger/preview did not count.
    for (const ua of ["cap-1", "cap-2", "cap-3", "cap-4"]) await segment(b, b.high[0]!, { "user-agent": ua });
    const capped = await counts(b);
    await segment(b, b.high[0]!, { "user-agent": "cap-5" });
    expect((await counts(b)).plays).to.equal(capped.plays);
    await segment(b, b.high[1]!, { cookie: lateFanCookie });
    expect((await counts(b)).plays).to.equal(capped.plays + 1);
  });

  it("GET /api/plays?ids= answers several items and their total (what the milestone watcher reads)", async () => {
    const [ca, cb] = [await counts(a), await counts(b)];
    const res = await fetch(`${srv.url}/api/plays?ids=${a.contentId},${b.contentId.toUpperCase().replace("0X", "0x")}`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { items: PlayCounts[]; total: Omit<PlayCounts, "contentId"> };
    expect(body.items).to.deep.equal([ca, cb]);
    expect(body.total.plays).to.equal(ca.plays + cb.plays);
    expect(body.total.keyReleases).to.equal(ca.keyReleases + cb.keyReleases);
    expect(body.total.uniqueWallets).to.be.at.least(Math.max(ca.uniqueWallets, cb.uniqueWallets)).and.at.most(ca.uniqueWallets + cb.uniqueWallets);
    const unknown = "0x" + "cd".repeat(32);
    const one = (await (await fetch(`${srv.url}/api/plays?ids=${unknown}`)).json()) as { items: PlayCounts[] };
    expect(one.items[0]).to.deep.include({ contentId: unknown, plays: 0, lastPlayAt: null });
    expect((await fetch(`${srv.url}/api/plays?ids=nope`)).status).to.equal(400);
    expect((await fetch(`${srv.url}/api/plays`)).status).to.equal(400);
  });

  it("GET /api/plays?ids=&since= counts only plays from then on (the placement window)", async () => {
    const ca = await counts(a);
    expect(ca.plays).to.be.above(0);
    const since = async (iso: string) => ((await (await fetch(`${srv.url}/api/plays?ids=${a.contentId}&since=${encodeURIComponent(iso)}`)).json()) as { items: PlayCounts[] }).items[0]!;
    expect((await since("2000-01-01T00:00:00Z")).plays).to.equal(ca.plays);
    const afterLast = new Date(Date.parse(ca.lastPlayAt!) + 1).toISOString();
    expect(await since(afterLast)).to.deep.include({ plays: 0, keyReleases: 0, lastPlayAt: null });
    const bad = await fetch(`${srv.url}/api/plays?ids=${a.contentId}&since=yesterday`);
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { message: string }).message).to.match(/ISO date-time/);
  });

  it("the placement policy reads per-item plays over its window from this server (lib/storage/placement readItemPlays)", async () => {
    const [ca, cb] = [await counts(a), await counts(b)];
    const reading = await readItemPlays(dir, [a.contentId, b.contentId], srv.url, 30);
    expect(reading.source).to.equal(`server ${srv.url}`);
    expect(reading.plays).to.deep.equal({ [a.contentId.toLowerCase()]: ca.plays, [b.contentId.toLowerCase()]: cb.plays });
    // Read a year from now, the 30-day window holds none of today's plays.
    const nextYear = new Date(Date.now() + 365 * 24 * 3600 * 1000);
    expect((await readItemPlays(dir, [a.contentId, b.contentId], srv.url, 30, nextYear)).plays).to.deep.equal({});
    const down = await readItemPlays(dir, [a.contentId], "http://127.0.0.1:9", 30);
    expect(down.warning).to.match(/did not answer/);
    expect(down.plays).to.deep.equal({});
  });

  it("never puts a content key in a log line", () => {
    const text = logs.join("\n");
    for (const item of [a, b]) {
      expect(text).to.not.contain(Buffer.from(item.key).toString("hex"));
      expect(text).to.not.contain(Buffer.from(item.key).toString("base64url"));
    }
  });

  it("migrates a plays table from before play starts: each old key release is one play, old stream minutes are not", async () => {
    const old = join(dir, "old-keyrelease");
    const raw = await openPglite(old);
    await raw.query("CREATE SCHEMA keyrelease");
    await raw.query(`CREATE TABLE keyrelease.plays (id BIGSERIAL PRIMARY KEY, content_id TEXT NOT NULL, wallet TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('key-release', 'segment')), segments INTEGER NOT NULL DEFAULT 0, at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    await raw.query("INSERT INTO keyrelease.plays (content_id, wallet, kind, segments) VALUES ($1, $2, 'key-release', 0), ($1, $2, 'segment', 6)", [a.contentId, f.creator.address]);
    await raw.close();
    const db = await openKeyReleaseDb({ dataDir: old, pgliteWorker: false });
    try {
      const rows = (await db.query<{ kind: string; viewer: string; play_start: boolean }>("SELECT kind, viewer, play_start FROM plays ORDER BY id")).rows;
      expect(rows).to.deep.equal([
        { kind: "key-release", viewer: f.creator.address.toLowerCase(), play_start: true },
        { kind: "segment", viewer: f.creator.address.toLowerCase(), play_start: false },
      ]);
      await db.query("INSERT INTO plays (content_id, wallet, kind, segments, viewer, play_start) VALUES ($1, NULL, 'segment-request', 0, 'anon:x', true)", [a.contentId]);
    } finally {
      await db.close();
    }
  });
});
