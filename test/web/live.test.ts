/**
 * Live streaming end to end: ffmpeg pushes a generated picture and tone over RTMP (`-re`, as OBS
 * would) to `streamvault live --rtmp`, beside the production web app on the same test stack
 * (one chain, piece store, key store and STREAMVAULT_HOME). While it is live the item is on chain,
 * the web app's EVENT playlist grows and names only stored pieces, a buyer gets the content key
 * from key release and decrypts a segment, and in Chromium the page shows LIVE and plays near the
 * live edge; when the push ends the playlist has ENDLIST, the final manifest (same pieces) is on
 * chain and the same page plays it as VOD from the start.
 */
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { CID } from "multiformats/cid";
import { contractOf } from "@streamvault/lib/deployments";
import { freePort } from "@streamvault/lib/chain/anvil.ts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { decryptManifestSegment } from "@streamvault/lib/crypto";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/keyrelease/wrap.ts";
import { serializeManifest, type Manifest } from "@streamvault/lib/manifest";
import { LocalStore } from "@streamvault/lib/storage";
import { pieceCidOf } from "@streamvault/lib/storage/piece.ts";
import { startStack, CREATOR_KEY, FAN_KEY, type Stack } from "./stack.ts";
import { ensureBuild, playwright, sessionCookie, startWeb, type WebServer } from "./server.ts";
import { installWallet } from "./wallet.ts";
import type { Browser, Page } from "./pw.ts";
import { startCli } from "../cli/helpers.ts";
import { playlistCids, pushRtmp, streamKeyOf } from "../cli/live-helpers.ts";

const SHOTS = join(REPO_ROOT, "test-results", "web");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const [s] = await Promise.all([startStack(), ensureBuild()]);
    stack = s;
    web = await startWeb(stack.env);
    browser = await playwright().chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await web?.stop();
    await stack?.stop();
  });

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
    const cli = startCli(["live", "--rtmp", "--rtmp-port", String(port), "--id", id, "--title", "Friday gig", "--tier", "premium", "--price", "0.002", "--idle-timeout", "5", "--json"], env);
    const push = pushRtmp(`rtmp://127.0.0.1:${port}/live/${await streamKeyOf(cli)}`, 40);
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
      expect(manifest.variants[0]!.keyScheme).to.equal("minute-hkdf");

      // Another manifest naming the same stream id (anyone can store and register one) gets none of its segments.
      const impostor = serializeManifest({ ...manifest, tags: { title: "Impostor" }, variants: manifest.variants.map((v) => ({ ...v, segments: [] })) });
      const impostorCid = (await new LocalStore({ dir: stack.env.STORAGE_DATA_DIR! }).put(impostor, { pieceCid: pieceCidOf(impostor) })).pieceCid;
      expect(playlistCids(await (await fetch(`${web.url}/api/hls/${impostorCid}/live.m3u8`)).text())).to.deep.equal([]);
      expect(((await (await fetch(`${web.url}/api/manifest/${impostorCid}`)).json()) as Manifest).variants[0]!.segments).to.deep.equal([]);

      // The web app's playlist grows, is never cached, and names only pieces the app serves.
      const playlistUrl = `${web.url}/api/hls/${liveCid}/live.m3u8?c=${live!.contentId}`;
      const sizes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(playlistUrl);
        expect(res.headers.get("cache-control")).to.equal("no-store");
        const text = await res.text();
        expect(text).to.contain("#EXT-X-PLAYLIST-TYPE:EVENT").and.not.contain("#EXT-X-ENDLIST");
        const cids = playlistCids(text);
        for (const cid of cids) expect((await fetch(`${web.url}/api/piece/${cid}`, { method: "HEAD" })).status, `piece ${cid}`).to.equal(200);
        sizes.push(cids.length);
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
      const seg = grown.variants[0]!.segments[1]!;
      const sealed = new Uint8Array(await (await fetch(`${web.url}/api/piece/${seg.pieceCid}`)).arrayBuffer());
      expect(decryptManifestSegment(key, grown.contentId, grown.variants[0]!, seg, sealed)[0]).to.equal(0x47);

      // Discover lists it first with LIVE; its page shows LIVE and plays near the live edge, decrypted in the browser.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
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
      expect(vod.variants[0]!.segments.map((s) => s.pieceCid)).to.deep.equal(cids);
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
      await page.screenshot({ path: join(SHOTS, "live-ended-vod-1280.png"), fullPage: true });
      expect(errors).to.deep.equal([]);
      await context.close();
    } finally {
      push.kill();
      if (cli.child.exitCode === null) process.kill(-cli.child.pid!, "SIGKILL"); // its ffmpeg too (own process group)
    }
  });
});
