/**
 * A fan in Chromium plays an encrypted track whose pieces exist only on S3, then only on IPFS, then
 * only through the WebTorrent web seed (issue 13). One stack (anvil, contracts, a premium track
 * through the real pipeline), one Ceph for the suite, one `next start` per backend. Each time the
 * web app's STORAGE_BACKEND names that one backend, STORAGE_LOCAL_COPY=false, its STORAGE_DATA_DIR
 * is an empty directory and the pipeline's piece directory has been moved away, so every byte the
 * player gets comes from that network; the per-backend counters of /api/storage/status prove it.
 *
 * - S3: a real Ceph RADOS Gateway (test/storage/ceph.ts).
 * - IPFS: a publishing Helia node holds the pieces; a second node (an empty repo that only knows
 *   PieceCID -> root, as a manifest mirror gives it) fetches them over bitswap; the publisher
 *   stops and the web server opens that second repo. The web app's /ipfs/<cid> route and
 *   startGateway's are checked too.
 * - WebTorrent: the publisher seeds the item (lib/media seedOnWebTorrent, what publish does) with
 *   a gateway as web seed, then goes away: no peer, no tracker. The web server knows only the
 *   magnet and fetches every piece from the web seed.
 */
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { seedOnWebTorrent } from "@streamvault/lib/media";
import { IpfsStore, LocalStore, S3Store, WebTorrentStore, createStore, isPieceCid, startGateway } from "@streamvault/lib/storage";
import type { Gateway, StorageStatusReport } from "@streamvault/lib/storage";
import { CEPH_START_TIMEOUT_MS, startCeph, type CephRgw } from "../storage/ceph.ts";
import { startStack, FAN_KEY, type Stack } from "./stack.ts";
import { ensureBuild, startWeb, type WebServer } from "./server.ts";
import { launchChromium } from "./session.ts";
import { installWallet } from "./wallet.ts";
import type { Browser } from "./pw.ts";

const SHOTS = join(REPO_ROOT, "test-results", "web");
const BUCKET = "sv-web-pieces";

describe("web: a fan plays an encrypted track whose pieces exist only on S3, then only on IPFS, then only through the WebTorrent web seed", function () {
  this.timeout(900_000);
  let stack: Stack;
  let ceph: CephRgw;
  let browser: Browser;
  let web: WebServer | undefined;
  /** Where the pipeline's pieces were moved (only the web-seed gateway of the WebTorrent case reads it). */
  let originDir: string;
  /** Every piece of the published track (segments, playlists, artwork, manifest), by PieceCID. */
  const pieces = new Map<string, Uint8Array>();
  const closers: (() => Promise<unknown>)[] = [];
  /** The first playback buys the 30-day pass; the next web servers read the purchase from the chain. */
  let passBought = false;

  before(async function () {
    this.timeout(CEPH_START_TIMEOUT_MS + 300_000);
    mkdirSync(SHOTS, { recursive: true });
    const [s, c] = await Promise.all([startStack(), startCeph(), ensureBuild()]);
    stack = s;
    ceph = c;
    const piecesDir = stack.env.STORAGE_DATA_DIR;
    for (const shard of await readdir(piecesDir)) {
      if (shard.startsWith(".")) continue;
      for (const name of await readdir(join(piecesDir, shard))) if (isPieceCid(name)) pieces.set(name, await readFile(join(piecesDir, shard, name)));
    }
    expect(pieces.has(stack.track.manifestCid)).to.equal(true);
    expect(pieces.size).to.be.greaterThan(5);
    // The pipeline's local copies are gone from where the web app could look.
    originDir = join(stack.dir, "origin");
    await rename(piecesDir, originDir);
    browser = await launchChromium();
  });

  after(async () => {
    await web?.stop();
    await browser?.close().catch(() => {});
    for (const close of closers.reverse()) await close().catch(() => {});
    await ceph?.stop();
    await stack?.stop();
  });

  /** The web app over `backend` alone: no local copy, an empty data dir, fresh counters. */
  async function serveFrom(backend: string, extra: Record<string, string>): Promise<WebServer> {
    await web?.stop();
    const dataDir = join(stack.dir, `empty-${backend}`);
    await mkdir(dataDir, { recursive: true });
    web = await startWeb({
      ...stack.env,
      STORAGE_BACKEND: backend,
      STORAGE_LOCAL_COPY: "false",
      STORAGE_DATA_DIR: dataDir,
      STORAGE_STATS_FILE: join(stack.dir, `stats-${backend}.json`),
      STORAGE_REPAIR_CONCURRENCY: "0",
      ...extra,
    });
    return web;
  }

  /**
   * The fan opens the track, unlocks it (buys the 30-day pass the first time; later servers see
   * the purchase on chain), plays the full decrypted variant from the start past 5 s; screenshot.
   */
  async function fanPlays(server: WebServer, backend: string): Promise<void> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      await installWallet(page, FAN_KEY, stack.anvil.rpcUrl);
      await page.goto(`${server.url}/content/${stack.track.contentId}`, { waitUntil: "networkidle" });
      await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
      await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
      if (!passBought) {
        await page.locator('[data-testid=access-status][data-reason="none"]').waitFor({ timeout: 30_000 });
        await page.getByTestId("buy-pass").click();
        await page.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
        passBought = true;
      }
      await page.locator('[data-testid=access-status][data-reason="purchase"]').waitFor({ timeout: 30_000 });
      // With access the player moves to the full track by itself (on opening the page, and right after
      // the purchase), so "Play full" may be gone before or while it is clicked: click it only while shown.
      const playFull = page.getByTestId("play-full");
      if (await playFull.isVisible()) await playFull.click({ timeout: 5_000 }).catch(() => {});
      await page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 60_000 });
      // The full track is 75 s (the preview ~30 s): the full, decrypted playlist is loaded.
      await page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.duration ?? 0) > 55, undefined, { timeout: 60_000 });
      await page.evaluate(() => {
        const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
        m.muted = true;
        m.currentTime = 0;
        // Not awaited: play() stays pending while segments cannot load; the wait below bounds it.
        void m.play().catch(() => {});
      });
      await page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime > 5, undefined, { timeout: 90_000 }).catch(async (e) => {
        const state = await page.evaluate(() => {
          const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
          return { t: m.currentTime, rs: m.readyState, paused: m.paused, err: m.error?.code, buf: m.buffered.length ? [m.buffered.start(0), m.buffered.end(0)] : [], mode: document.querySelector("[data-testid=player]")?.getAttribute("data-mode"), perr: document.querySelector("[data-testid=player-error]")?.textContent };
        });
        console.log(`DIAG ${backend}: ${JSON.stringify(state)} errors=${JSON.stringify(errors)}`);
        throw e;
      });
      expect(await page.getByTestId("player-error").count(), `player error on ${backend}`).to.equal(0);
      const buffered = await page.evaluate(() => {
        const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
        return { time: m.currentTime, paused: m.paused, error: m.error?.code ?? null };
      });
      expect(buffered.error, `media error on ${backend}`).to.equal(null);
      await page.screenshot({ path: join(SHOTS, `storage-${backend}-playing.png`), fullPage: true });
      expect(errors.filter((e) => !/favicon/i.test(e)), `console errors on ${backend}`).to.deep.equal([]);
    } finally {
      await context.close();
    }
  }

  /** /api/storage/status: `backend` served reads (counters are flushed debounced: poll), no other backend did. */
  async function assertReadOnlyFrom(server: WebServer, backend: string): Promise<StorageStatusReport & { store: string }> {
    let report: StorageStatusReport & { store: string };
    for (let i = 0; ; i++) {
      report = (await (await fetch(`${server.url}/api/storage/status`)).json()) as typeof report;
      const row = report.backends.find((b) => b.backend === backend);
      if (row && row.reads > 0 && row.bytesRead > 0) break;
      if (i > 80) throw new Error(`no reads from ${backend} in /api/storage/status: ${JSON.stringify(report)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(report.store).to.equal(backend);
    expect(report.backends.filter((b) => b.reads > 0).map((b) => b.backend)).to.deep.equal([backend]);
    // At least the manifest, the playlist and a few seconds of segments.
    const row = report.backends.find((b) => b.backend === backend)!;
    expect(row.reads).to.be.greaterThan(2);
    return report;
  }

  /** The piece route still answers with the exact bytes (the manifest), read from that backend. */
  async function assertPieceRoute(server: WebServer): Promise<void> {
    const res = await fetch(`${server.url}/api/piece/${stack.track.manifestCid}`);
    expect(res.status).to.equal(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(pieces.get(stack.track.manifestCid)!))).to.equal(true);
  }

  it("(a) only on S3 (Ceph RADOS Gateway); /ipfs/<cid> answers a JSON 404 without an ipfs backend", async () => {
    const s3 = new S3Store(ceph.storeOptions(BUCKET));
    await s3.ensureBucket();
    for (const bytes of pieces.values()) await s3.put(bytes);
    const server = await serveFrom("s3", {
      S3_ENDPOINT: ceph.endpoint,
      S3_BUCKET: BUCKET,
      S3_ACCESS_KEY_ID: ceph.accessKeyId,
      S3_SECRET_ACCESS_KEY: ceph.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
    });
    await fanPlays(server, "s3");
    await assertReadOnlyFrom(server, "s3");
    await assertPieceRoute(server);
    const noIpfs = await fetch(`${server.url}/ipfs/bafkqaaa`);
    expect(noIpfs.status).to.equal(404);
    expect(((await noIpfs.json()) as { error: string }).error).to.match(/STORAGE_BACKEND.*ipfs/);
  });

  it("(b) only on IPFS: the web server's Helia repo, filled over bitswap from the publishing node (gone during playback); /ipfs/<cid> served by the app and by startGateway", async () => {
    const publisher = new IpfsStore({ repoDir: join(stack.dir, "ipfs-publisher") });
    closers.push(() => publisher.close());
    const roots = new Map<string, string>();
    for (const [cid, bytes] of pieces) {
      await publisher.put(bytes);
      roots.set(cid, (await publisher.locationOf(cid))!);
    }
    const manifestRoot = roots.get(stack.track.manifestCid)!.replace(/^ipfs:\/\//, "");
    // startGateway mounts /ipfs/<cid> over a store that is (or has) an ipfs backend.
    const gw = await startGateway({ store: publisher });
    closers.push(() => gw.close());
    const viaGateway = await fetch(`${gw.url}/ipfs/${manifestRoot}`);
    expect(viaGateway.status).to.equal(200);
    expect(Buffer.from(await viaGateway.arrayBuffer()).equals(Buffer.from(pieces.get(stack.track.manifestCid)!))).to.equal(true);
    expect((await fetch(`${gw.url}/piece/${stack.track.manifestCid}`)).status).to.equal(200);

    // The web server's repo starts empty and knows only PieceCID -> root (as a manifest mirror
    // says); its blocks come over bitswap from the publisher, verified against each PieceCID.
    // IpfsStore.has() is local-only, so the piece route (which asks has() first) 404s a piece whose
    // blocks are not yet in the repo: the repo is filled over bitswap before the web server opens it.
    const readerRepo = join(stack.dir, "ipfs-web");
    const reader = new IpfsStore({ repoDir: readerRepo, peers: await publisher.multiaddrs() });
    for (const [cid, root] of roots) await reader.recordRoot(cid, root);
    expect(await reader.has(stack.track.manifestCid)).to.equal(false);
    for (const [cid, bytes] of pieces) expect(Buffer.from(await reader.get(cid)).equals(Buffer.from(bytes)), cid).to.equal(true);
    expect(await reader.has(stack.track.manifestCid)).to.equal(true);
    await reader.close();
    // The publisher goes away: playback reads the web server's own Helia node only.
    await gw.close();
    await publisher.close();

    const server = await serveFrom("ipfs", { IPFS_REPO_DIR: readerRepo });
    await fanPlays(server, "ipfs");
    await assertReadOnlyFrom(server, "ipfs");
    await assertPieceRoute(server);

    const viaApp = await fetch(`${server.url}/ipfs/${manifestRoot}`);
    expect(viaApp.status, await viaApp.clone().text()).to.equal(200);
    expect(Buffer.from(await viaApp.arrayBuffer()).equals(Buffer.from(pieces.get(stack.track.manifestCid)!))).to.equal(true);
    const ranged = await fetch(`${server.url}/ipfs/${manifestRoot}`, { headers: { Range: "bytes=0-9" } });
    expect(ranged.status).to.equal(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(Buffer.from(pieces.get(stack.track.manifestCid)!.subarray(0, 10)))).to.equal(true);
  });

  it("(c) only through the WebTorrent web seed: the publisher seeded the item and left, no peers or tracker", async () => {
    // The web seed: a piece gateway over the pipeline's (moved) pieces; it counts what it serves.
    const origin = new LocalStore({ dir: originDir });
    const servedByWebSeed: string[] = [];
    const webSeed: Gateway = await startGateway({ store: origin, onPieceServed: (_req, _url, cid) => void servedByWebSeed.push(cid) });
    closers.push(() => webSeed.close());

    const publisherDir = join(stack.dir, "wt-publisher");
    // The publisher's store as the CLI/uploader builds it (a StoreSet with stats proxies), so the
    // seeding goes through the same lookup publish() does.
    const publisher = createStore({
      dataDir: join(stack.dir, "wt-publisher-local"),
      env: { STORAGE_BACKEND: "webtorrent", STORAGE_LOCAL_COPY: "false", STORAGE_STATS: "off", WEBTORRENT_DIR: publisherDir, WEBTORRENT_WEB_SEED_URL: webSeed.url },
    });
    for (const bytes of pieces.values()) await publisher.put(bytes);
    const torrent = await seedOnWebTorrent(publisher, stack.track.contentId, [...pieces.keys()]);
    expect(torrent, "publish seeds the item when the store has webtorrent").to.not.equal(undefined);
    expect(torrent!.pieceCids.length).to.equal(pieces.size);
    expect(torrent!.magnet).to.contain(`ws=${encodeURIComponent(webSeed.url)}`);
    // The .torrent itself is a piece; the web seed serves it for the magnet's xs= (metadata with no peer).
    await origin.put(await publisher.get(torrent!.torrentPieceCid));
    await publisher.close!();
    await rm(publisherDir, { recursive: true, force: true });

    // The web server's WebTorrent dir knows the magnet (a remote torrent) and holds no piece.
    const readerDir = join(stack.dir, "wt-web");
    const reader = new WebTorrentStore({ dir: readerDir });
    const added = await reader.addTorrent(torrent!.magnet);
    expect(added.pieceCids.sort()).to.deep.equal([...pieces.keys()].sort());
    await reader.close();
    expect(await readdir(join(readerDir, "piece")).catch(() => [])).to.deep.equal([]);
    servedByWebSeed.length = 0;

    const server = await serveFrom("webtorrent", { WEBTORRENT_DIR: readerDir, WEBTORRENT_TRACKERS: "" });
    await fanPlays(server, "webtorrent");
    await assertReadOnlyFrom(server, "webtorrent");
    await assertPieceRoute(server);
    // The bytes came over BitTorrent's web seed: the gateway served the manifest and segments.
    expect(servedByWebSeed).to.include(stack.track.manifestCid);
    expect(new Set(servedByWebSeed).size).to.be.greaterThan(2);
  });
});
