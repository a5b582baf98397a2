/**
 * Live streaming end to end: ffmpeg pushes a generated 854x480 picture and tone over RTMP (`-re`,
 * as OBS would) to `streamvault live --rtmp --renditions 480,360,audio`, beside the production web
 * app on the same test stack (one chain, piece store, key store and STREAMVAULT_HOME). While it is
 * live the item is on chain, the master lists the three renditions, each rendition's EVENT playlist
 * grows in step and names only stored pieces, a buyer gets the content key from key release and
 * decrypts a segment of each rendition, and in Chromium the page shows LIVE, plays near the live
 * edge, seeks back more than a segment (DVR) and plays from there, and switches quality (the 360p
 * rendition's segments are fetched, decrypted and played); when the push ends the playlists have
 * ENDLIST, the final manifest (same pieces, every rendition) is on chain and the same page plays it
 * as VOD from the start with every rendition in its master.
 */
import { expect } from "chai";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { CID } from "multiformats/cid";
import { contractOf } from "@streamvault/lib/deployments";
import { freePort } from "@streamvault/lib/chain/anvil.ts";
import { decryptManifestSegment } from "@streamvault/lib/crypto";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/keyrelease/wrap.ts";
import { serializeManifest, type Manifest } from "@streamvault/lib/manifest";
import { LocalStore } from "@streamvault/lib/storage";
import { pieceCidOf } from "@streamvault/lib/storage/piece.ts";
import { CREATOR_KEY, FAN_KEY, STREAMER_KEY, STREAM_RATE, type Stack } from "./stack.ts";
import { sessionCookie, studioGet, type WebServer } from "./server.ts";
import { startWebSuite, SHOTS, type WebSuite } from "./session.ts";
import { installWallet } from "./wallet.ts";
import type { Browser, Page } from "./pw.ts";
import { startCli } from "../cli/helpers.ts";
import { playlistCids, pushRtmp, streamKeyOf } from "../cli/live-helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Long enough for the second fan to join in minute 1 (after JOIN_AT s stored) and play a while before it ends. */
const PUSH_SECONDS = 100;
/** The pay-per-minute fan joins once this much is stored: hls.js starts near the live edge, well inside minute 1. */
const JOIN_AT = 68;

interface LiveStatusJson {
  state: string;
  contentId: Hex;
  chunksStored: number;
  secondsStored: number;
  viewers: number;
  liveManifestCid?: string;
  manifestCid?: string;
}

describe("web: live stream over RTMP (browser)", function () {
  this.timeout(300_000);
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let suite: WebSuite | undefined;

  before(async () => {
    suite = await startWebSuite();
    ({ stack, web, browser } = suite);
  });

  after(() => suite?.stop());

  const status = async (id: string): Promise<LiveStatusJson | undefined> => {
    const res = await fetch(`${web.url}/api/live/${id}`);
    return res.ok ? ((await res.json()) as LiveStatusJson) : undefined;
  };

  async function onChainManifest(contentId: Hex): Promise<string> {
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const access = contractOf(stack.deployment, "ContentAccess");
    const [, , cid] = await pub.readContract({ address: access.address, abi: access.abi, functionName: "contentInfo", args: [contentId] });
    return CID.decode(Buffer.from(cid.slice(2), "hex")).toString();
  }

  async function buyAccess(contentId: Hex): Promise<void> {
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const fan = createWalletClient({ account: privateKeyToAccount(FAN_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const access = contractOf(stack.deployment, "ContentAccess");
    const [, price, , version] = await pub.readContract({ address: access.address, abi: access.abi, functionName: "purchaseTerms", args: [contentId] });
    const hash = await fan.writeContract({ address: access.address, abi: access.abi, functionName: "purchaseAccess", args: [contentId, version], value: price });
    expect((await pub.waitForTransactionReceipt({ hash })).status).to.equal("success");
  }

  const media = (page: Page) => page.evaluate(() => {
    const m = document.querySelector<HTMLMediaElement>("[data-testid=media]");
    const end = m && m.seekable.length > 0 ? m.seekable.end(m.seekable.length - 1) : 0;
    return { currentTime: m?.currentTime ?? 0, paused: m?.paused ?? true, duration: m?.duration ?? 0, seekableEnd: end };
  });

  it("registered when the push starts, watchable while live (growing EVENT playlist, key release, LIVE in Chromium near the live edge), then the same pieces as VOD", async () => {
    const id = "friday-gig";
    const port = await freePort();
    const env = {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      ...stack.env,
      CREATOR_PRIVATE_KEY: CREATOR_KEY,
    };
    // ultrafast: three encodes beside Chromium and the stack on a small CI machine stay real time
    const cli = startCli(["live", "--rtmp", "--rtmp-port", String(port), "--id", id, "--title", "Friday gig", "--tier", "premium", "--price", "0.002", "--price-per-minute", "0.0001", "--idle-timeout", "5", "--renditions", "480,360,audio", "--preset", "ultrafast", "--json"], env);
    const push = pushRtmp(`rtmp://127.0.0.1:${port}/live/${await streamKeyOf(cli)}`, PUSH_SECONDS, "854x480");
    try {
      // On chain with the live manifest as soon as the first segment is cut.
      let live: LiveStatusJson | undefined;
      for (const deadline = Date.now() + 40_000; Date.now() < deadline; await sleep(300)) {
        live = await status(id);
        if (live?.state === "live") break;
      }
      expect(live?.state, cli.output()).to.equal("live");
      const liveCid = live!.liveManifestCid!;
      expect(await onChainManifest(live!.contentId)).to.equal(liveCid);
      const manifest = (await (await fetch(`${web.url}/api/manifest/${liveCid}`)).json()) as Manifest;
      expect(manifest.live).to.include({ id, status: "live" });
      // The ladder: 480p and 360p (never taller than the 480-line source) and audio only, each minute-keyed.
      expect(manifest.variants.map((v) => [v.name, v.role, v.width, v.height])).to.deep.equal([["480p", "standard", 854, 480], ["360p", "standard", 640, 360], ["audio", "audio", undefined, undefined]]);
      expect(manifest.variants.every((v) => v.keyScheme === "minute-hkdf")).to.equal(true);
      const master = await (await fetch(`${web.url}/api/hls/${liveCid}/master.m3u8`)).text();
      expect(master.match(/^#EXT-X-STREAM-INF:.*$/gm)!.map((l) => /RESOLUTION=(\d+x\d+)/.exec(l)?.[1] ?? /CODECS="([^"]+)"/.exec(l)![1])).to.deep.equal(["854x480", "640x360", "mp4a.40.2"]);
      expect(master.split("\n").filter((l) => l.endsWith(".m3u8"))).to.deep.equal(["480p.m3u8", "360p.m3u8", "audio.m3u8"]);

      // Another manifest naming the same stream id (anyone can store and register one) gets none of its segments.
      const impostor = serializeManifest({ ...manifest, tags: { title: "Impostor" }, variants: manifest.variants.map((v) => ({ ...v, segments: [] })) });
      const impostorCid = (await new LocalStore({ dir: stack.env.STORAGE_DATA_DIR! }).put(impostor, { pieceCid: pieceCidOf(impostor) })).pieceCid;
      expect(playlistCids(await (await fetch(`${web.url}/api/hls/${impostorCid}/480p.m3u8`)).text())).to.deep.equal([]);
      expect(((await (await fetch(`${web.url}/api/manifest/${impostorCid}`)).json()) as Manifest).variants[0]!.segments).to.deep.equal([]);

      // Each rendition's playlist grows (segment n in every rendition at once), is never cached, and names only pieces the app serves.
      const playlistUrl = `${web.url}/api/hls/${liveCid}/480p.m3u8?c=${live!.contentId}`;
      const sizes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const texts = await Promise.all(["480p", "360p", "audio"].map(async (name) => {
          const res = await fetch(`${web.url}/api/hls/${liveCid}/${name}.m3u8?c=${live!.contentId}`);
          expect(res.headers.get("cache-control")).to.equal("no-store");
          return res.text();
        }));
        const counts = new Set<number>();
        for (const text of texts) {
          expect(text).to.contain("#EXT-X-PLAYLIST-TYPE:EVENT").and.not.contain("#EXT-X-ENDLIST");
          const cids = playlistCids(text);
          for (const cid of cids) expect((await fetch(`${web.url}/api/piece/${cid}`, { method: "HEAD" })).status, `piece ${cid}`).to.equal(200);
          counts.add(cids.length);
        }
        // read one after another while segments are added: at most one segment apart
        expect(Math.max(...counts) - Math.min(...counts), `rendition playlist sizes ${[...counts].join(",")}`).to.be.at.most(1);
        sizes.push(playlistCids(texts[0]!).length);
        await sleep(2100);
      }
      expect(sizes.at(-1)!, `playlist sizes ${sizes.join(",")}`).to.be.greaterThan(sizes[0]!);

      // A buyer gets the content key from the web app's key release and opens a live segment.
      await buyAccess(live!.contentId);
      const cookie = await sessionCookie(web.url, FAN_KEY);
      const eph = await generateEphemeralKeyPair();
      const res = await fetch(`${web.url}/api/keys/${live!.contentId}`, { method: "POST", headers: { cookie, origin: web.url, "content-type": "application/json" }, body: JSON.stringify({ ephemeralPublicKey: eph.publicKey }) });
      const body = (await res.json()) as { wrapped: WrappedKey; wallet: string; message?: string };
      expect(res.status, body.message).to.equal(200);
      const key = await unwrapContentKey({ privateKey: eph.privateKey, wrapped: body.wrapped, contentId: live!.contentId, wallet: body.wallet });
      const grown = (await (await fetch(`${web.url}/api/manifest/${liveCid}`)).json()) as Manifest;
      for (const variant of grown.variants) {
        const seg = variant.segments[1]!;
        expect(seg.duration).to.equal(grown.variants[0]!.segments[1]!.duration); // the same time span in every rendition
        const sealed = new Uint8Array(await (await fetch(`${web.url}/api/piece/${seg.pieceCid}`)).arrayBuffer());
        expect(decryptManifestSegment(key, grown.contentId, variant, seg, sealed)[0], variant.name).to.equal(0x47);
      }

      // Discover lists it first with LIVE; its page shows LIVE and plays near the live edge, decrypted in the browser.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      // Segment pieces the page fetched, in order (mapped to renditions with the live manifest later).
      const fetched: string[] = [];
      page.on("response", (r) => {
        const m = /\/api\/piece\/([^/?]+)/.exec(r.url());
        if (m && r.status() === 200) fetched.push(decodeURIComponent(m[1]!));
      });
      await installWallet(page, FAN_KEY, stack.anvil.rpcUrl);
      await page.goto(web.url, { waitUntil: "networkidle" });
      const first = page.getByTestId("content-card").first();
      expect(await first.innerText()).to.contain("Friday gig");
      await first.getByTestId("live-badge").waitFor();
      await page.screenshot({ path: join(SHOTS, "live-discover-1280.png"), fullPage: true });
      await page.goto(`${web.url}/content/${live!.contentId}`, { waitUntil: "networkidle" });
      await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
      await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
      await page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 30_000 });
      await page.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.play().catch(() => {}));
      await page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.currentTime ?? 0) > 2, undefined, { timeout: 30_000 });
      const playing = await media(page);
      const now = (await status(id))!;
      expect(now.state).to.equal("live");
      // hls.js joins a few segments (3 x the 3 s target duration) behind the newest one.
      expect(playing.currentTime, `playing at ${playing.currentTime} s of ${now.secondsStored} s stored`).to.be.greaterThan(now.secondsStored - 16);
      expect(playing.currentTime).to.be.greaterThan(6); // not from the start
      const badge = page.getByTestId("live-badge");
      await badge.filter({ hasText: /watching/ }).waitFor({ timeout: 10_000 });
      expect(await badge.innerText()).to.match(/Live · [1-9]\d* watching/i);
      expect((await status(id))!.viewers).to.be.at.least(1);
      await page.screenshot({ path: join(SHOTS, "live-content-1280.png"), fullPage: true });

      // ABR across the renditions while live: hls.js has the video rungs as levels, starting on the top one.
      const quality = page.getByTestId("quality");
      expect(await quality.locator("option").allTextContents()).to.deep.equal(["Auto", "360p", "480p"]); // hls.js orders levels by bandwidth
      const player = page.locator("[data-testid=player]");
      expect(await player.getAttribute("data-variant")).to.equal("480p");

      // DVR: back more than a segment (2 s) behind the live edge, and it plays on from there.
      const edge = (await media(page)).seekableEnd;
      const target = Math.max(1, edge - 9);
      await page.evaluate((t) => void (document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime = t), target);
      await page.waitForFunction((t) => {
        const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
        return !m.paused && !m.seeking && m.currentTime > t + 1.5;
      }, target, { timeout: 20_000 });
      const back = await media(page);
      expect(back.currentTime, `seeked to ${target} s, live edge ${edge} s`).to.be.within(target + 1.5, back.seekableEnd - 2.5);
      expect(back.seekableEnd - back.currentTime, "behind the live edge").to.be.greaterThan(2);

      // Quality switch: pinning 360p (hls.currentLevel) loads that rendition's segments, which decrypt and play.
      const beforeSwitch = fetched.length;
      await quality.selectOption("360p");
      await page.waitForFunction(() => document.querySelector("[data-testid=player]")?.getAttribute("data-variant") === "360p", undefined, { timeout: 20_000 });
      const switchedAt = (await media(page)).currentTime;
      await page.waitForFunction((t) => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.currentTime ?? 0) > t + 2, switchedAt, { timeout: 20_000 });
      expect(await page.getByTestId("player-label").innerText()).to.match(/Full 360p quality · decrypted in your browser/);
      const ladder = (await (await fetch(`${web.url}/api/manifest/${liveCid}`)).json()) as Manifest;
      const renditionOf = new Map(ladder.variants.flatMap((v) => v.segments.map((x) => [x.pieceCid, v.name] as const)));
      const after = fetched.slice(beforeSwitch).map((cid) => renditionOf.get(cid));
      expect(after, "segments fetched after the switch").to.include("360p");
      expect(fetched.slice(0, beforeSwitch).map((cid) => renditionOf.get(cid)), "segments fetched before it").to.include("480p");
      expect(await page.getByTestId("player-error").count()).to.equal(0);
      await page.screenshot({ path: join(SHOTS, "live-quality-360p-1280.png"), fullPage: true });

      // A second fan without a pass joins in minute 1, opens a channel from the page's pay-per-minute
      // offer and plays near the live edge: it pays 1 x rate for the one minute it receives (not from minute 0).
      await page.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.pause()); // one decoding page at a time on a small CI machine
      for (const deadline = Date.now() + 90_000; Date.now() < deadline && ((await status(id))?.secondsStored ?? 0) < JOIN_AT; ) await sleep(500);
      const ppmContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const payer = await ppmContext.newPage();
      payer.on("pageerror", (e) => errors.push(String(e)));
      const asks: { minute: number; variants: string[]; cumulativeAmount: string }[] = [];
      const releasedKeys: { minute: number; variant: string }[] = [];
      const payerPieces: string[] = [];
      payer.on("request", (r) => {
        if (new URL(r.url()).pathname.endsWith("/stream")) asks.push(JSON.parse(r.postData() ?? "{}"));
      });
      payer.on("response", (r) => {
        const path = new URL(r.url()).pathname;
        const m = /\/api\/piece\/([^/?]+)/.exec(path);
        if (m && r.status() === 200) payerPieces.push(decodeURIComponent(m[1]!));
        if (path.endsWith("/stream") && r.status() === 200) void r.json().then((b: { keys: { minute: number; variant: string }[] }) => releasedKeys.push(...b.keys.map(({ minute, variant }) => ({ minute, variant }))));
      });
      await installWallet(payer, STREAMER_KEY, stack.anvil.rpcUrl);
      await payer.goto(`${web.url}/content/${live!.contentId}`, { waitUntil: "networkidle" });
      await payer.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
      await payer.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
      await payer.getByTestId("stream-price").filter({ hasText: "0.0001 ETH per minute" }).waitFor({ timeout: 15_000 });
      expect(await payer.getByTestId("player-label").innerText()).to.match(/Live stream · unlock below to watch/);
      await payer.getByTestId("stream-open").click();
      const meter = payer.getByTestId("stream-meter");
      await meter.filter({ hasText: /1 minute .*spent 0\.0001 ETH.*streaming/ }).waitFor({ timeout: 30_000 });
      await payer.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 15_000 });
      await payer.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.play().catch(() => {}));
      await payer.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.currentTime ?? 0) > 0, undefined, { timeout: 30_000 });
      const joinedAt = (await media(payer)).currentTime;
      await payer.waitForFunction((t) => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.currentTime ?? 0) > t + 3, joinedAt, { timeout: 30_000 });
      expect((await status(id))!.state, "still live while the second fan plays").to.equal("live");
      expect(joinedAt, "joined near the live edge, in minute 1").to.be.greaterThan(60);
      expect(await payer.getByTestId("player-label").innerText()).to.match(/Full 480p quality.*paid per minute, decrypted in your browser/);
      expect(await payer.getByTestId("player-error").count()).to.equal(0);
      await payer.screenshot({ path: join(SHOTS, "live-pay-per-minute-1280.png"), fullPage: true });
      // The minutes of the segments it received, from the live manifest: exactly the minutes it asked for and paid.
      const nowManifest = (await (await fetch(`${web.url}/api/manifest/${liveCid}`)).json()) as Manifest;
      const minuteOf = new Map(nowManifest.variants.flatMap((v) => v.segments.map((x) => [x.pieceCid, x.minute] as const)));
      const receivedMinutes = [...new Set(payerPieces.map((cid) => minuteOf.get(cid)).filter((m): m is number => m !== undefined))].sort((a, b) => a - b);
      expect(receivedMinutes, "minutes of the segments received").to.deep.equal([1]);
      // One ask per minute received, each voucher rate x (minutes received so far), for both video rungs (never the audio-only or minute 0).
      expect(asks.map((a) => [a.minute, a.variants, a.cumulativeAmount])).to.deep.equal(receivedMinutes.map((m, i) => [m, ["480p", "360p"], (BigInt(i + 1) * STREAM_RATE).toString()]));
      for (let i = 0; i < 50 && releasedKeys.length < 2 * receivedMinutes.length; i++) await sleep(100);
      expect(releasedKeys.map((k) => [k.minute, k.variant])).to.deep.equal(receivedMinutes.flatMap((m) => [[m, "480p"], [m, "360p"]]));
      // The server's ledger (what the creator's studio redeems): minutes released = minutes received, best voucher = rate x that, no key past it.
      const channelId = /Channel #(\d+)/.exec(await meter.innerText())![1]!;
      const streamsRes = await studioGet(web.url, CREATOR_KEY, `/api/studio/${privateKeyToAccount(CREATOR_KEY).address}/streams`);
      expect(streamsRes.status).to.equal(200);
      const row = ((await streamsRes.json()) as { streams: { id: string; contentId: string; minutesDelivered: number; ratePerMinute: string; voucher: { cumulativeAmount: string } | null }[] }).streams.find((x) => x.id === channelId);
      expect(row, `channel ${channelId} in the studio's streams`).to.not.equal(undefined);
      expect(row!.contentId.toLowerCase()).to.equal(live!.contentId.toLowerCase());
      expect(row!.ratePerMinute).to.equal(STREAM_RATE.toString());
      expect(row!.minutesDelivered, "minute windows released on the channel").to.equal(receivedMinutes.length);
      expect(row!.voucher?.cumulativeAmount, "best voucher").to.equal((BigInt(receivedMinutes.length) * STREAM_RATE).toString());
      await ppmContext.close();

      // The push ends: ENDLIST, the final manifest with the same pieces on chain, the page says it ended.
      expect(await push.done, `the RTMP push: ${push.stderr()}`).to.equal(0);
      const done = await cli.done;
      expect(done.code, done.stderr).to.equal(0);
      const ended = (await status(id))!;
      expect(ended.state).to.equal("ended");
      const finalText = await (await fetch(playlistUrl)).text();
      expect(finalText).to.contain("#EXT-X-ENDLIST");
      const cids = playlistCids(finalText);
      expect(await onChainManifest(ended.contentId)).to.equal(ended.manifestCid);
      const vod = (await (await fetch(`${web.url}/api/manifest/${ended.manifestCid}`)).json()) as Manifest;
      expect(vod.live).to.include({ status: "ended" });
      expect(vod.variants.map((v) => v.name)).to.deep.equal(["480p", "360p", "audio"]);
      expect(vod.variants[0]!.segments.map((s) => s.pieceCid)).to.deep.equal(cids);
      expect(vod.variants.every((v) => v.segments.length === cids.length)).to.equal(true);
      const vodMaster = await (await fetch(`${web.url}/api/hls/${ended.manifestCid}/master.m3u8`)).text();
      expect(vodMaster.split("\n").filter((l) => l.endsWith(".m3u8"))).to.deep.equal(["480p.m3u8", "360p.m3u8", "audio.m3u8"]);
      for (const v of vod.variants) expect(await (await fetch(`${web.url}/api/hls/${ended.manifestCid}/${v.name}.m3u8`)).text(), v.name).to.contain("#EXT-X-ENDLIST");
      expect(vod.variants[0]!.segments.map((s) => s.pieceCid).slice(0, 2)).to.deep.equal(grown.variants[0]!.segments.map((s) => s.pieceCid).slice(0, 2));
      await badge.filter({ hasText: /ended/ }).waitFor({ timeout: 10_000 });

      // Reopened, the same page plays the recording as VOD from the start.
      await page.reload({ waitUntil: "networkidle" });
      await page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId("live-badge").count()).to.equal(0);
      await page.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.play().catch(() => {}));
      await page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.currentTime ?? 0) > 1, undefined, { timeout: 30_000 });
      const vodPlaying = await media(page);
      expect(vodPlaying.currentTime).to.be.lessThan(10); // from the start
      expect(vodPlaying.duration).to.be.closeTo(vod.duration, 3);
      expect(await page.getByTestId("quality").locator("option").allTextContents()).to.deep.equal(["Auto", "360p", "480p"]);
      await page.screenshot({ path: join(SHOTS, "live-ended-vod-1280.png"), fullPage: true });
      expect(errors).to.deep.equal([]);
      await context.close();
    } finally {
      push.kill();
      if (cli.child.exitCode === null) process.kill(-cli.child.pid!, "SIGKILL"); // its ffmpeg too (own process group)
    }
  });
});
