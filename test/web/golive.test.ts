/**
 * Going live from the browser: the creator opens the studio's "Go live" page in Chromium with its
 * fake camera and microphone (`--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`),
 * MediaRecorder's webm chunks go to the studio live routes and through the same live pipeline as
 * RTMP (archiveLive, inside the web server), the creator's wallet registers the item with the live
 * manifest, fans see LIVE and play near the live edge, a buyer's key opens a segment, and "End
 * stream" gives ENDLIST and the VOD (the wallet's updateManifest); the same wallet announces the
 * stream on LiveStreams (live during it, ended after; a refused startLive is offered again). The routes are checked on the
 * same stream: another wallet's session is refused, a chunk over the limit is refused before its
 * body is sent, a seq sent again is not fed twice (bytes fed == bytes the page sent).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { CID } from "multiformats/cid";
import { LIVE_STATUS, contractOf } from "@streamvault/lib/deployments";
import { decryptManifestSegment } from "@streamvault/lib/crypto";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/keyrelease/wrap.ts";
import type { Manifest } from "@streamvault/lib/manifest";
import { CREATOR_KEY, FAN_KEY, type Stack } from "./stack.ts";
import { sessionCookie, type WebServer } from "./server.ts";
import { startWebSuite, SHOTS, type WebSuite } from "./session.ts";
import { installWallet } from "./wallet.ts";
import type { Browser, Page } from "./pw.ts";
import { playlistCids } from "../cli/live-helpers.ts";
import { startCli } from "../cli/helpers.ts";
import { runTool } from "@streamvault/lib/media/ffmpeg.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const IDLE_SECONDS = 6;
/** The archiver waits this long for the creator's wallet (the third test's never comes). */
const WALLET_SECONDS = 12;

interface LiveStatusJson {
  state: string;
  contentId: Hex;
  chunksStored: number;
  secondsStored: number;
  viewers: number;
  liveManifestCid?: string;
  manifestCid?: string;
  error?: string;
}

describe("web: go live from the browser (MediaRecorder, fake camera)", function () {
  this.timeout(300_000);
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let suite: WebSuite | undefined;

  before(async () => {
    suite = await startWebSuite({
      // A short idle timeout: the second test's page goes offline and the stream must end by itself.
      env: () => ({ LIVE_IDLE_TIMEOUT: String(IDLE_SECONDS), LIVE_WALLET_TIMEOUT: String(WALLET_SECONDS) }),
      chromiumArgs: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    });
    ({ stack, web, browser } = suite);
  });

  after(() => suite?.stop());

  const status = async (id: string): Promise<LiveStatusJson | undefined> => {
    const res = await fetch(`${web.url}/api/live/${id}`);
    return res.ok ? ((await res.json()) as LiveStatusJson) : undefined;
  };

  async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
    for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline; await sleep(300)) {
      const v = await probe();
      if (v !== undefined) return v;
    }
    throw new Error(`${what} within ${seconds} s; web server log:\n${web.logs.join("").slice(-3000)}`);
  }

  async function onChainManifest(contentId: Hex): Promise<string> {
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const access = contractOf(stack.deployment, "ContentAccess");
    const [, , cid] = await pub.readContract({ address: access.address, abi: access.abi, functionName: "contentInfo", args: [contentId] });
    return CID.decode(Buffer.from(cid.slice(2), "hex")).toString();
  }

  /** LiveStreams.streamOf: status (LIVE_STATUS) and the segments reported at the end. */
  async function onChainLive(contentId: Hex): Promise<{ status: number; segments: number }> {
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const live = contractOf(stack.deployment, "LiveStreams");
    const s = await pub.readContract({ address: live.address, abi: live.abi, functionName: "streamOf", args: [contentId] });
    return { status: s.status, segments: s.segments };
  }

  const untilOnChain = (contentId: Hex, status: number) =>
    until(`LiveStreams shows status ${status}`, 30, async () => {
      const s = await onChainLive(contentId);
      return s.status === status ? s : undefined;
    });

  async function buyAccess(contentId: Hex): Promise<void> {
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const fan = createWalletClient({ account: privateKeyToAccount(FAN_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const access = contractOf(stack.deployment, "ContentAccess");
    const [, price, , version] = await pub.readContract({ address: access.address, abi: access.abi, functionName: "purchaseTerms", args: [contentId] });
    const hash = await fan.writeContract({ address: access.address, abi: access.abi, functionName: "purchaseAccess", args: [contentId, version], value: price });
    expect((await pub.waitForTransactionReceipt({ hash })).status).to.equal("success");
  }

  /** A PUT that declares `declared` bytes and sends none: the answer must come before any body. */
  function putDeclaring(url: string, cookie: string, declared: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: "PUT", headers: { cookie, "content-type": "application/octet-stream", "content-length": String(declared) } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on("error", reject);
      req.flushHeaders();
    });
  }

  async function connect(page: Page): Promise<void> {
    await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
    await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
  }

  it("goes live from the camera, registered and watchable while live, refuses other sessions, oversized and repeated chunks, then ENDLIST and the VOD", async () => {
    const creator = privateKeyToAccount(CREATOR_KEY).address;
    const fan = privateKeyToAccount(FAN_KEY).address;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await installWallet(page, CREATOR_KEY, stack.anvil.rpcUrl);
    await page.goto(`${web.url}/studio/live`, { waitUntil: "networkidle" });
    await connect(page);
    await page.getByTestId("golive-title").fill("Browser session");
    await page.screenshot({ path: join(SHOTS, "golive-setup-1280.png"), fullPage: true });
    await page.getByTestId("golive-start").click();
    const root = page.getByTestId("golive");
    await page.locator('[data-testid=golive][data-phase="live"]').waitFor({ timeout: 30_000 });
    const id = (await root.getAttribute("data-stream-id"))!;
    const contentId = (await root.getAttribute("data-content-id")) as Hex;
    expect(id).to.match(/^web-/);

    // Registered by the creator's wallet with the live manifest once the first segment is cut.
    const live = await until("the stream is live", 40, async () => {
      const s = await status(id);
      return s?.state === "live" ? s : undefined;
    });
    expect(live.contentId.toLowerCase()).to.equal(contentId.toLowerCase());
    expect(await onChainManifest(contentId)).to.equal(live.liveManifestCid);
    // Announced live on LiveStreams by the same wallet right after the registration, shown beside the record.
    await untilOnChain(contentId, LIVE_STATUS.live);
    await page.locator('[data-testid=golive-onchain][data-onchain="live"]').waitFor({ timeout: 10_000 });

    // Only the creator's session pushes; the limit is checked before the body; a seq is fed once.
    const chunkUrl = (seq: number, who = creator) => `${web.url}/api/studio/${who}/live/${id}/chunks/${seq}`;
    const anonymous = await fetch(chunkUrl(0), { method: "PUT", body: new Uint8Array(10) });
    expect(anonymous.status).to.equal(401);
    const fanCookie = await sessionCookie(web.url, FAN_KEY);
    const asFan = await fetch(chunkUrl(0), { method: "PUT", body: new Uint8Array(10), headers: { cookie: fanCookie } });
    expect(asFan.status).to.equal(403);
    expect(((await asFan.json()) as { message: string }).message).to.contain("sign in with that wallet");
    const fanOwnStudio = await fetch(chunkUrl(0, fan), { method: "PUT", body: new Uint8Array(10), headers: { cookie: fanCookie } });
    expect(fanOwnStudio.status).to.equal(403);
    expect(((await fanOwnStudio.json()) as { message: string }).message).to.contain("belongs to another creator");
    const creatorCookie = await sessionCookie(web.url, CREATOR_KEY);
    const huge = await putDeclaring(chunkUrl(1_000_000), creatorCookie, 64 * 1024 * 1024);
    expect(huge.status, huge.body).to.equal(413);
    expect(JSON.parse(huge.body).message).to.match(/at most 4 MiB/);
    const again = await fetch(chunkUrl(0), { method: "PUT", body: new Uint8Array(1000).fill(7), headers: { cookie: creatorCookie } });
    expect(again.status).to.equal(200);
    expect(await again.json()).to.include({ appended: false });
    const ahead = await fetch(chunkUrl(1_000_000), { method: "PUT", body: new Uint8Array(10), headers: { cookie: creatorCookie } });
    expect(ahead.status).to.equal(409);
    expect(((await ahead.json()) as { error: string }).error).to.equal("out_of_order");

    // The EVENT playlist grows and names stored pieces; a buyer's key opens a live segment.
    // The first rendition of the ladder (the live manifest lists them, highest first).
    const first = ((await (await fetch(`${web.url}/api/manifest/${live.liveManifestCid}`)).json()) as Manifest).variants[0]!.name;
    const playlistUrl = `${web.url}/api/hls/${live.liveManifestCid}/${first}.m3u8?c=${contentId}`;
    const before = playlistCids(await (await fetch(playlistUrl)).text());
    await sleep(4500);
    const grownText = await (await fetch(playlistUrl)).text();
    expect(grownText).to.contain("#EXT-X-PLAYLIST-TYPE:EVENT").and.not.contain("#EXT-X-ENDLIST");
    expect(playlistCids(grownText).length, "the live playlist grows").to.be.greaterThan(before.length);
    await buyAccess(contentId);
    const eph = await generateEphemeralKeyPair();
    const keyRes = await fetch(`${web.url}/api/keys/${contentId}`, { method: "POST", headers: { cookie: fanCookie, origin: web.url, "content-type": "application/json" }, body: JSON.stringify({ ephemeralPublicKey: eph.publicKey }) });
    const keyBody = (await keyRes.json()) as { wrapped: WrappedKey; wallet: string; message?: string };
    expect(keyRes.status, keyBody.message).to.equal(200);
    const key = await unwrapContentKey({ privateKey: eph.privateKey, wrapped: keyBody.wrapped, contentId, wallet: keyBody.wallet });
    const grown = (await (await fetch(`${web.url}/api/manifest/${live.liveManifestCid}`)).json()) as Manifest;
    expect(grown.kind).to.equal("video");
    const seg = grown.variants[0]!.segments[1]!;
    const sealed = new Uint8Array(await (await fetch(`${web.url}/api/piece/${seg.pieceCid}`)).arrayBuffer());
    expect(decryptManifestSegment(key, contentId, grown.variants[0]!, seg, sealed)[0]).to.equal(0x47); // MPEG-TS sync byte

    // A fan's page shows LIVE and plays near the live edge, decrypted in the browser.
    const fanContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const fanPage = await fanContext.newPage();
    fanPage.on("pageerror", (e) => errors.push(`fan: ${String(e)}`));
    await installWallet(fanPage, FAN_KEY, stack.anvil.rpcUrl);
    await fanPage.goto(`${web.url}/content/${contentId}`, { waitUntil: "networkidle" });
    await fanPage.getByTestId("live-badge").waitFor();
    await connect(fanPage);
    await fanPage.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 30_000 });
    await fanPage.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.play().catch(() => {}));
    await fanPage.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.currentTime ?? 0) > 1, undefined, { timeout: 30_000 });
    const playing = await fanPage.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime);
    const now = (await status(id))!;
    expect(playing, `playing at ${playing} s of ${now.secondsStored} s stored`).to.be.greaterThan(now.secondsStored - 16);
    // The studio page shows the record, the fan among the viewers.
    await page.locator("[data-testid=golive-viewers]", { hasText: /^[1-9]/ }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("golive-fan-link").getAttribute("href")).to.equal(`/content/${contentId}`);
    await fanPage.screenshot({ path: join(SHOTS, "golive-fan-live-1280.png"), fullPage: true });
    await page.screenshot({ path: join(SHOTS, "golive-live-1280.png"), fullPage: true });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.screenshot({ path: join(SHOTS, "golive-live-375.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    // "End stream": the last chunks, ENDLIST, the wallet's updateManifest, the same pieces as VOD.
    await page.getByTestId("golive-end").click();
    await page.locator('[data-testid=golive][data-phase="ended"]').waitFor({ timeout: 60_000 });
    const ended = (await status(id))!;
    expect(ended.state).to.equal("ended");
    const finalText = await (await fetch(playlistUrl)).text();
    expect(finalText).to.contain("#EXT-X-ENDLIST");
    expect(await onChainManifest(contentId)).to.equal(ended.manifestCid);
    const vod = (await (await fetch(`${web.url}/api/manifest/${ended.manifestCid}`)).json()) as Manifest;
    expect(vod.live).to.include({ status: "ended" });
    expect(vod.variants[0]!.segments.map((s) => s.pieceCid)).to.deep.equal(playlistCids(finalText));
    expect(vod.variants[0]!.segments.map((s) => s.pieceCid).slice(0, 2)).to.deep.equal(grown.variants[0]!.segments.map((s) => s.pieceCid).slice(0, 2));
    expect(vod.duration).to.be.greaterThan(8);
    // Announced ended after the final manifest, with the segments it lists.
    expect((await untilOnChain(contentId, LIVE_STATUS.ended)).segments).to.equal(vod.variants[0]!.segments.length);
    await page.locator('[data-testid=golive-onchain][data-onchain="ended"]').waitFor({ timeout: 10_000 });
    // Every byte the page sent was fed once: the repeated seq 0 added nothing.
    const state = JSON.parse(readFileSync(join(stack.env.STREAMVAULT_HOME!, "live", id, "state.json"), "utf8")) as { inputBytes: number };
    const sentBytes = Number(await root.getAttribute("data-sent-bytes"));
    expect(sentBytes).to.be.greaterThan(0);
    expect(state.inputBytes).to.equal(sentBytes);
    await page.screenshot({ path: join(SHOTS, "golive-ended-1280.png"), fullPage: true });
    expect(errors).to.deep.equal([]);
    await fanContext.close();
    await context.close();
  });

  it("microphone only: an audio stream; a refused startLive is offered again, a refused endLive too on a reloaded page; a page that goes offline stops sending, the stream ends by itself after the idle timeout, and the wallet publishes the recording once the page is back", async () => {
    const creator = privateKeyToAccount(CREATOR_KEY).address;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const wallet = await installWallet(page, CREATOR_KEY, stack.anvil.rpcUrl);
    // The creator refuses the first LiveStreams transaction (startLive); the registration goes through.
    const liveStreams = contractOf(stack.deployment, "LiveStreams").address.toLowerCase();
    const refuseLiveStreams = (method: string, params: unknown[]) => method === "eth_sendTransaction" && (params[0] as { to?: string }).to?.toLowerCase() === liveStreams;
    wallet.rejectIf = refuseLiveStreams;
    await page.goto(`${web.url}/studio/live`, { waitUntil: "networkidle" });
    await connect(page);
    await page.getByTestId("golive-title").fill("Mic check");
    await page.getByTestId("golive-tier").selectOption("free");
    await page.getByTestId("golive-audio-only").check();
    await page.getByTestId("golive-start").click();
    await page.locator('[data-testid=golive][data-phase="live"]').waitFor({ timeout: 30_000 });
    const id = (await page.getByTestId("golive").getAttribute("data-stream-id"))!;
    expect(await page.getByTestId("golive-preview").count(), "no camera preview for an audio stream").to.equal(0);
    const live = await until("two chunks stored", 40, async () => {
      const s = await status(id);
      return s?.state === "live" && s.chunksStored >= 2 ? s : undefined;
    });
    const manifest = (await (await fetch(`${web.url}/api/manifest/${live.liveManifestCid}`)).json()) as Manifest;
    expect(manifest.kind).to.equal("audio");
    expect(manifest.variants[0]).to.include({ codecs: "mp4a.40.2", encrypted: false });
    // Refused: the stream goes on unannounced, the page says so and offers the announcement again.
    const unannounced = page.getByTestId("golive-unannounced");
    await unannounced.waitFor({ timeout: 20_000 });
    expect(await unannounced.textContent()).to.contain("not announced live on chain");
    expect((await onChainLive(live.contentId)).status).to.equal(LIVE_STATUS.none);
    await page.locator('[data-testid=golive-onchain][data-onchain="none"]').waitFor({ timeout: 5_000 });
    await page.screenshot({ path: join(SHOTS, "golive-unannounced-1280.png"), fullPage: true });
    await page.getByTestId("golive-announce-retry").click();
    await untilOnChain(live.contentId, LIVE_STATUS.live);
    await page.locator('[data-testid=golive-onchain][data-onchain="live"]').waitFor({ timeout: 10_000 });
    expect(await unannounced.count()).to.equal(0);
    expect((await status(id))!.state, "the stream went on meanwhile").to.equal("live");

    // The connection drops: no chunk reaches the server, which ends the input after the idle timeout.
    await context.setOffline(true);
    const offlineAt = Date.now();
    const cookie = await sessionCookie(web.url, CREATOR_KEY);
    const control = async () => (await (await fetch(`${web.url}/api/studio/${creator}/live/${id}`, { headers: { cookie } })).json()) as { inputEnded: boolean; pending: { action: string } | null };
    await until("the input ends by itself", IDLE_SECONDS + 20, async () => ((await control()).inputEnded ? true : undefined));
    expect(Date.now() - offlineAt).to.be.at.least((IDLE_SECONDS - 1) * 1000);
    const late = await fetch(`${web.url}/api/studio/${creator}/live/${id}/chunks/100000`, { method: "PUT", body: new Uint8Array(10), headers: { cookie } });
    expect(late.status).to.equal(409);
    expect(((await late.json()) as { message: string }).message).to.contain(`ended after ${IDLE_SECONDS} s without a chunk`);
    const pending = await until("the final manifest waits for the wallet", 30, async () => (await control()).pending ?? undefined);
    expect(pending.action).to.equal("updateManifest");
    // Back online the wallet publishes the recording but refuses endLive.
    wallet.rejectIf = refuseLiveStreams;
    await context.setOffline(false);
    await page.locator('[data-testid=golive][data-phase="ended"]').waitFor({ timeout: 60_000 });
    const ended = (await status(id))!;
    expect(ended.state).to.equal("ended");
    expect(await onChainManifest(ended.contentId)).to.equal(ended.manifestCid);
    const vod = (await (await fetch(`${web.url}/api/manifest/${ended.manifestCid}`)).json()) as Manifest;
    expect(vod.kind).to.equal("audio");
    expect(vod.variants[0]!.segments.length).to.be.at.least(live.chunksStored);
    expect(await (await fetch(`${web.url}/api/hls/${ended.manifestCid}/${vod.variants[0]!.name}.m3u8`)).text()).to.contain("#EXT-X-ENDLIST");
    await page.getByTestId("golive-unannounced").waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("golive-unannounced").textContent()).to.contain("not announced ended on chain");
    expect((await onChainLive(ended.contentId)).status, "the refused end leaves it live on chain").to.equal(LIVE_STATUS.live);
    await page.screenshot({ path: join(SHOTS, "golive-audio-ended-1280.png"), fullPage: true });
    // A reloaded studio page lists the stream, ended but still live on chain, and "Announce end" ends it.
    await page.close();
    const reloaded = await context.newPage();
    reloaded.on("pageerror", (e) => errors.push(`reloaded: ${String(e)}`));
    await installWallet(reloaded, CREATOR_KEY, stack.anvil.rpcUrl);
    await reloaded.goto(`${web.url}/studio/live`, { waitUntil: "networkidle" });
    await connect(reloaded);
    const row = reloaded.locator(`[data-testid=golive-stream-row][data-stream-id="${id}"]`);
    await reloaded.locator(`[data-testid=golive-stream-row][data-stream-id="${id}"][data-onchain="live"]`).waitFor({ timeout: 20_000 });
    await reloaded.screenshot({ path: join(SHOTS, "golive-streams-1280.png"), fullPage: true });
    await row.getByTestId("golive-stream-announce").click();
    expect((await untilOnChain(ended.contentId, LIVE_STATUS.ended)).segments).to.equal(vod.variants[0]!.segments.length);
    await reloaded.locator(`[data-testid=golive-stream-row][data-stream-id="${id}"][data-onchain="ended"]`).waitFor({ timeout: 10_000 });
    expect(await row.getByTestId("golive-stream-announce").count()).to.equal(0);
    expect(errors).to.deep.equal([]);
    await context.close();
  });

  it("over the routes alone: webm chunks in order; a wallet that never comes leaves the stream failed with its pieces, and `streamvault live --finalize` with the creator's key ends it", async () => {
    const creator = privateKeyToAccount(CREATOR_KEY).address;
    const cookie = await sessionCookie(web.url, CREATOR_KEY);
    // What MediaRecorder sends: a webm (VP8 + Opus) stream, here 5 s made by ffmpeg, cut into 64 KiB chunks.
    const webm = (await runTool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=5", "-f", "lavfi", "-i", "sine=frequency=440:duration=5", "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "600k", "-c:a", "libopus", "-f", "webm", "pipe:1"])).stdout;
    const start = await fetch(`${web.url}/api/studio/${creator}/live`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ title: "Routes only", tier: "free" }) });
    const started = (await start.json()) as { id: string; contentId: Hex; message?: string };
    expect(start.status, started.message).to.equal(201);
    const again = await fetch(`${web.url}/api/studio/${creator}/live`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ title: "Twice", tier: "free" }) });
    expect(again.status, "one open stream per creator").to.equal(409);
    const chunk = 64 * 1024;
    for (let seq = 0; seq * chunk < webm.length; seq++) {
      const res = await fetch(`${web.url}/api/studio/${creator}/live/${started.id}/chunks/${seq}`, { method: "PUT", headers: { cookie }, body: new Uint8Array(webm.subarray(seq * chunk, (seq + 1) * chunk)) });
      expect(await res.json()).to.include({ appended: true, nextSeq: seq + 1 });
    }
    expect((await fetch(`${web.url}/api/studio/${creator}/live/${started.id}/end`, { method: "POST", headers: { cookie } })).status).to.equal(200);
    // Nobody's wallet answers: the live and then the final registration wait WALLET_SECONDS each.
    const failed = await until("the stream fails waiting for the wallet", 3 * WALLET_SECONDS + 30, async () => {
      const s = await status(started.id);
      return s?.state === "failed" ? s : undefined;
    });
    expect(failed.chunksStored).to.be.at.least(2);
    expect(failed.secondsStored).to.be.closeTo(5, 1.5);
    expect(failed.error).to.contain("did not put manifest");

    const cli = startCli(["live", "--finalize", started.id, "--json"], { PATH: process.env.PATH!, HOME: process.env.HOME!, ...stack.env, CREATOR_PRIVATE_KEY: CREATOR_KEY });
    const done = await cli.done;
    expect(done.code, done.stderr).to.equal(0);
    const ended = (await status(started.id))!;
    expect(ended.state).to.equal("ended");
    expect(ended.chunksStored).to.equal(failed.chunksStored);
    // Never announced while it ran (no wallet): the CLI's finalize starts and ends it on LiveStreams.
    expect(await onChainLive(started.contentId)).to.deep.equal({ status: LIVE_STATUS.ended, segments: ended.chunksStored });
    expect(await onChainManifest(started.contentId)).to.equal(ended.manifestCid);
  });
});
