/**
 * Browser tests of the web app: a production build served by `next start` against a fresh local
 * stack (anvil + deployed contracts + one premium track through the real pipeline), driven by
 * Debian's chromium through playwright-core with an injected EIP-6963 test wallet.
 */
import { expect } from "chai";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { newNonce, signedRequestMessage, SIGNATURE_HEADER, SIGNED_REQUEST_HEADER } from "@streamvault/lib/signed-request/index.ts";
import { join } from "node:path";
import { createSiweMessage } from "viem/siwe";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createPublicClient, createWalletClient, formatEther, http, keccak256, parseEther, toHex } from "viem";
import sharp from "sharp";
import { ABIS } from "@streamvault/lib/deployments";
import { foundry } from "viem/chains";
import { contractOf } from "@streamvault/lib/deployments";
import { cidToBytes } from "@streamvault/lib/chain/cid.ts";
import { CREATOR_KEY, FAN_KEY, NEW_CREATOR_KEY, STREAMER_KEY, STREAM_RATE, TRACK_PRICE, type Stack } from "./stack.ts";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { studioGet, type WebServer } from "./server.ts";
import { startWebSuite, SHOTS, type WebSuite } from "./session.ts";
import { installWallet, type TestWallet } from "./wallet.ts";
import type { Browser, BrowserContext, Page } from "./pw.ts";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { LocalStore, pieceSize, TIB } from "@streamvault/lib/storage";
import { PlacementJournal, SetPlacementTarget, cdnStatePath, journalPath, optimizePlacement, placementConfig } from "@streamvault/lib/storage/placement";
import type { PlacementItem } from "@streamvault/lib/storage/placement";


/** POSTs a body of `size` bytes in 1 MiB chunks until the server answers; how many bytes went out by then. */
function sendUntilAnswered(url: string, size: number, headers: Record<string, string>): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let sent = 0;
    let answered = false;
    const req = httpRequest(url, { method: "POST", headers: { ...headers, "content-length": String(size), "content-type": "application/octet-stream" } }, (res) => {
      answered = true;
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sent });
      });
    });
    req.on("error", (err) => (answered ? undefined : reject(err)));
    const pump = () => {
      while (!answered && sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
    };
    pump();
  });
}
const ZERO = "0x0000000000000000000000000000000000000000" as const;
const EXPLORER = "http://127.0.0.1:9/explorer";

interface Session {
  context: BrowserContext;
  page: Page;
  wallet: TestWallet;
  errors: string[];
  offsite: string[];
}

describe("web app (browser)", function () {
  this.timeout(360_000);
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  const sessions: Session[] = [];
  let suite: WebSuite | undefined;

  before(async () => {
    suite = await startWebSuite({
      stack: { exclusiveTrack: true, freeStandardTrack: true, freeTrack: true, album: true },
      // Receipts link to an explorer when one is configured (a local address: nothing leaves 127.0.0.1).
      env: () => ({ EXPLORER_URL: EXPLORER }),
    });
    ({ stack, web, browser } = suite);
  });

  afterEach(async function () {
    const last = sessions[sessions.length - 1];
    if (this.currentTest?.state === "failed" && last) {
      const name = this.currentTest.title.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
      await last.page.screenshot({ path: join(SHOTS, `FAILED-${name}.png`), fullPage: true }).catch(() => {});
      console.log(`    page errors: ${JSON.stringify(last.errors)}\n    wallet calls: ${last.wallet.calls.join(",")}`);
      console.log(`    page text: ${(await last.page.locator("main").innerText().catch(() => "")).slice(0, 2000)}`);
    }
  });

  after(async () => {
    for (const s of sessions) await s.context.close().catch(() => {});
    await suite?.stop();
  });

  async function open(key: `0x${string}`, width: number, height = 900): Promise<Session> {
    const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors: string[] = [];
    const offsite: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => {
      const u = new URL(r.url());
      if ((u.protocol === "http:" || u.protocol === "https:" || u.protocol === "ws:" || u.protocol === "wss:") && u.hostname !== "127.0.0.1") offsite.push(r.url());
    });
    const wallet = await installWallet(page, key, stack.anvil.rpcUrl);
    const s = { context, page, wallet, errors, offsite };
    sessions.push(s);
    return s;
  }

  async function connect(s: Session): Promise<void> {
    const { page } = s;
    await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
    await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
    const short = `${s.wallet.address.slice(0, 4)}`;
    await page.getByTestId("wallet").getByRole("button").filter({ hasText: short }).first().waitFor({ timeout: 15_000 }).catch(async () => {
      // small screens show only the avatar
      await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).waitFor({ state: "detached", timeout: 15_000 });
    });
  }

  const contentUrl = () => `${web.url}/content/${stack.track.contentId}`;

  it("loads with no console errors and no off-site requests at 375 px and 1280 px", async () => {
    for (const width of [375, 1280]) {
      const s = await open(FAN_KEY, width, width === 375 ? 812 : 900);
      // "launch": the studio of a wallet that has not launched yet is the launch form.
      const pages = [["discover", "/"], ["creator", `/creator/${stack.creator}`], ["content", `/content/${stack.track.contentId}`], ["library", "/library"], ["launch", "/studio"]] as const;
      for (const [name, path] of pages) {
        await s.page.goto(`${web.url}${path}`, { waitUntil: "networkidle" });
        await s.page.locator("h1").first().waitFor();
        const overflow = await s.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${name} at ${width} px scrolls sideways`).to.be.at.most(0);
        await s.page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
      }
      expect(s.errors, `console errors at ${width} px`).to.deep.equal([]);
      expect(s.offsite, `requests leaving 127.0.0.1 at ${width} px`).to.deep.equal([]);
    }
  });

  it("is keyboard reachable: Tab reaches the nav and the connect button", async () => {
    const s = await open(FAN_KEY, 1280);
    await s.page.goto(web.url, { waitUntil: "networkidle" });
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      await s.page.keyboard.press("Tab");
      seen.push(await s.page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText?.trim() ?? ""));
    }
    expect(seen.join("|")).to.match(/Discover/).and.to.match(/Library/).and.to.match(/Connect/i);
  });

  it("connects the injected wallet, shows the catalogue and handles a wrong network", async () => {
    const s = await open(FAN_KEY, 1280);
    await s.page.goto(web.url, { waitUntil: "networkidle" });
    await connect(s);
    expect(s.wallet.calls).to.include("eth_requestAccounts");
    await s.page.getByText(stack.track.title).first().waitFor();
    // search by title and by artist
    await s.page.goto(`${web.url}/?q=aurora`);
    expect(await s.page.getByTestId("content-card").count()).to.equal(1);
    await s.page.goto(`${web.url}/?q=nothing-like-this`);
    expect(await s.page.getByTestId("content-card").count()).to.equal(0);
    // wrong network: banner, then switch back
    await s.wallet.setChain(s.page, 1);
    await s.page.getByTestId("wrong-network").waitFor();
    await s.page.getByRole("button", { name: "Switch network" }).click();
    await s.page.getByTestId("wrong-network").waitFor({ state: "detached" });
    expect(s.errors).to.deep.equal([]);
  });

  it("content page shows every way to unlock, the price and the fan's holdings; without access only the preview plays", async () => {
    const s = await open(FAN_KEY, 1280);
    await s.page.goto(contentUrl(), { waitUntil: "networkidle" });
    await connect(s);
    await s.page.getByTestId("option-purchase").waitFor();
    await s.page.getByTestId("option-subscription").waitFor();
    await s.page.getByTestId("option-pass").waitFor();
    expect(await s.page.getByTestId("price").innerText()).to.contain("0.002 ETH");
    await s.page.getByTestId("access-status").and(s.page.locator('[data-reason="none"]')).waitFor();
    expect(await s.page.getByTestId("option-pass").innerText()).to.match(/You hold 0/);
    const player = s.page.getByTestId("player");
    expect(await player.getAttribute("data-mode")).to.equal("preview");
    expect(await player.getAttribute("data-variant")).to.equal("preview");
    expect(await s.page.getByTestId("play-full").count()).to.equal(0);
    // The preview is ~30 s long: hls.js reports that duration.
    await s.page.waitForFunction(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]");
      return m !== null && Number.isFinite(m.duration) && m.duration > 0;
    });
    const duration = await s.page.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.duration);
    expect(duration).to.be.within(25, 35);
    await s.page.screenshot({ path: join(SHOTS, "content-no-access-1280.png"), fullPage: true });
  });

  /** Variant name of every piece of a manifest, by PieceCID. */
  async function variantsByPiece(manifestCid: string) {
    const manifest = (await (await fetch(`${web.url}/api/manifest/${manifestCid}`)).json()) as {
      variants: { name: string; kind: string; role: string; encrypted: boolean; playlist?: string; segments: { pieceCid: string; size: number }[] }[];
    };
    return { manifest, variantOf: new Map(manifest.variants.flatMap((v) => v.segments.map((seg) => [seg.pieceCid, v.name] as const))) };
  }

  /** Whether bytes look like MPEG-TS (sync byte 0x47 every 188 bytes): cleartext HLS audio does, AES-GCM ciphertext does not. */
  const looksLikeMpegTs = (b: Uint8Array) => b.length >= 3 * 188 && b[0] === 0x47 && b[188] === 0x47 && b[376] === 0x47;

  it("premium without a wallet: only the preview plays, no request the page makes gets the full track, and the full variants' pieces fetched directly are ciphertext", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    sessions.push({ context, page, wallet: { calls: [] } as unknown as TestWallet, errors: [], offsite: [] });
    const errors: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    const { manifest, variantOf } = await variantsByPiece(stack.track.manifestCid);
    expect(manifest.variants.map((v) => [v.name, v.encrypted])).to.deep.equal([["high", true], ["standard", true], ["preview", false]]);
    const requests: { path: string; status: number; variant?: string }[] = [];
    page.on("response", (r) => {
      const url = new URL(r.url());
      if (url.hostname !== "127.0.0.1") return;
      const piece = /^\/api\/piece\/([^/?]+)/.exec(url.pathname)?.[1];
      requests.push({ path: url.pathname, status: r.status(), variant: piece ? variantOf.get(decodeURIComponent(piece)) : undefined });
    });
    await page.goto(contentUrl(), { waitUntil: "networkidle" });
    await page.getByTestId("access-status").filter({ hasText: "Connect a wallet" }).waitFor();
    const player = page.getByTestId("player");
    expect(await player.getAttribute("data-mode")).to.equal("preview");
    // The label names the preview once the manifest is in (on a cold server it says "No preview" for a moment before).
    await page.getByTestId("player-label").filter({ hasText: /Preview \(first 30 s\) · unlock below to hear everything/ }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("play-full").count()).to.equal(0);
    expect(await page.getByTestId("play-free").count()).to.equal(0);
    // Play it through to the end of the preview (seek near its end first).
    await page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.duration ?? 0) > 0);
    await page.evaluate(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
      m.muted = true;
      m.currentTime = Math.max(0, m.duration - 3);
      return m.play();
    });
    await page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.ended, undefined, { timeout: 30_000 });
    await page.waitForLoadState("networkidle");
    const duration = await page.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.duration);
    expect(duration).to.be.within(25, 35);
    await page.screenshot({ path: join(SHOTS, "content-no-wallet-1280.png"), fullPage: true });
    // Every request the page made: preview pieces only, the preview playlist only, no key request.
    const pieces = requests.filter((r) => r.path.startsWith("/api/piece/"));
    expect(pieces.length).to.be.greaterThan(0);
    expect([...new Set(pieces.map((r) => r.variant))]).to.deep.equal(["preview"]);
    const playlists = requests.filter((r) => r.path.startsWith("/api/hls/")).map((r) => r.path.split("/").pop());
    expect([...new Set(playlists)]).to.deep.equal(["preview.m3u8"]);
    expect(requests.filter((r) => r.path.startsWith("/api/keys/") || r.path.startsWith("/api/auth/"))).to.deep.equal([]);
    // Fetched directly (playlists and pieces are public): every full-length segment is ciphertext of the stored size.
    for (const v of manifest.variants.filter((x) => x.role !== "preview")) {
      const playlist = await (await fetch(`${web.url}/api/hls/${stack.track.manifestCid}/${v.playlist}.m3u8`)).text();
      const urls = playlist.split("\n").filter((l) => l.startsWith("/api/piece/"));
      expect(urls).to.have.length(v.segments.length);
      for (const [i, url] of urls.entries()) {
        const res = await fetch(`${web.url}${url}`);
        const bytes = new Uint8Array(await res.arrayBuffer());
        expect(res.status === 200 || res.status === 403, `${v.name}/${i}: ${res.status}`).to.equal(true);
        if (res.status === 200) {
          expect(bytes.length, `${v.name}/${i} size`).to.equal(v.segments[i]!.size);
          expect(looksLikeMpegTs(bytes), `${v.name}/${i} is cleartext MPEG-TS`).to.equal(false);
        }
      }
    }
    // ... while the preview's are cleartext (the check above can tell the two apart).
    const previewPiece = manifest.variants.find((x) => x.role === "preview")!.segments[0]!.pieceCid;
    expect(looksLikeMpegTs(new Uint8Array(await (await fetch(`${web.url}/api/piece/${previewPiece}`)).arrayBuffer()))).to.equal(true);
    expect(errors).to.deep.equal([]);
  });

  it("a creator who gives the standard variant away: the page says so and plays it in full without a wallet; high stays encrypted; the creator starts on the full track", async () => {
    const free = stack.freeStandard!;
    const { manifest, variantOf } = await variantsByPiece(free.manifestCid);
    expect(manifest.variants.map((v) => [v.name, v.encrypted])).to.deep.equal([["high", true], ["standard", false], ["preview", false]]);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    sessions.push({ context, page, wallet: { calls: [] } as unknown as TestWallet, errors: [], offsite: [] });
    const fetched = new Set<string>();
    page.on("response", (r) => {
      const piece = /\/api\/piece\/([^/?]+)/.exec(new URL(r.url()).pathname)?.[1];
      const variant = piece ? variantOf.get(decodeURIComponent(piece)) : undefined;
      if (variant) fetched.add(variant);
    });
    await page.goto(`${web.url}/content/${free.contentId}`, { waitUntil: "networkidle" });
    // The labels follow the manifest, which the page reads after hydration: wait for them, do not sample.
    await page.getByTestId("player-label").filter({ hasText: /the creator gives the standard-quality track away/ }).waitFor({ timeout: 15_000 });
    await page.getByTestId("access-status").filter({ hasText: /The creator gives the standard-quality track away: it plays in full without one/ }).waitFor({ timeout: 15_000 });
    await page.getByTestId("play-free").click();
    await page.locator('[data-testid=player][data-mode="full"][data-variant="standard"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.duration ?? 0) > 35, undefined, { timeout: 30_000 });
    await page.evaluate(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
      m.muted = true;
      m.currentTime = 33;
      return m.play();
    });
    await page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime > 34.5, undefined, { timeout: 30_000 });
    expect(await page.getByTestId("player-label").innerText()).to.match(/Full standard quality · free from the creator/);
    // The clear standard variant's pieces, never the encrypted high ones (the preview's may come from the browser cache).
    expect(fetched.has("standard")).to.equal(true);
    expect(fetched.has("high")).to.equal(false);
    await page.screenshot({ path: join(SHOTS, "content-free-standard-1280.png"), fullPage: true });

    // The creator (access) starts on the full track with the content key: both variants are levels.
    const c = await open(CREATOR_KEY, 1280);
    await c.page.goto(`${web.url}/content/${free.contentId}`, { waitUntil: "networkidle" });
    await connect(c);
    await c.page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 30_000 });
    await c.page.getByTestId("quality").waitFor({ timeout: 15_000 });
    expect((await c.page.getByTestId("quality").locator("option").allInnerTexts()).sort()).to.deep.equal(["Auto", "high", "standard"]);
    expect(await c.page.getByTestId("play-free").count()).to.equal(0);
    expect(c.errors).to.deep.equal([]);
  });

  it("refuses a direct key request from a signed-in fan without access (403)", async () => {
    const account = privateKeyToAccount(FAN_KEY);
    const nonce = (await (await fetch(`${web.url}/api/auth/nonce`)).json()) as { nonce: string; domain: string; uri: string; chainId: number };
    const message = createSiweMessage({ address: account.address, chainId: nonce.chainId, domain: nonce.domain, uri: nonce.uri, nonce: nonce.nonce, version: "1", issuedAt: new Date() });
    const verify = await fetch(`${web.url}/api/auth/verify`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: web.url },
      body: JSON.stringify({ message, signature: await account.signMessage({ message }) }),
    });
    expect(verify.status, await verify.clone().text()).to.equal(200);
    const cookie = verify.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
    const raw = Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey)).toString("base64url");
    const res = await fetch(`${web.url}/api/keys/${stack.track.contentId}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: web.url, cookie },
      body: JSON.stringify({ ephemeralPublicKey: raw }),
    });
    expect(res.status, await res.clone().text()).to.equal(403);
  });

  it("a fan buys a 30-day pass and plays the full, decrypted track past 30 s after a seek; the library lists it", async () => {
    const s = await open(FAN_KEY, 1280);
    // A good connection and device, so the player starts with the high variant (headless Chromium's
    // own network estimate varies with load, and the preload strategy follows it: lib/client/preload.ts).
    await s.page.addInitScript(() => {
      Object.defineProperty(navigator, "connection", { configurable: true, value: { effectiveType: "4g", downlink: 20, saveData: false } });
      Object.defineProperty(navigator, "deviceMemory", { configurable: true, value: 8 });
    });
    await s.page.goto(contentUrl(), { waitUntil: "networkidle" });
    await connect(s);
    // a rejected wallet prompt reads as such
    s.wallet.rejectNext = true;
    await s.page.getByTestId("buy-pass").click();
    await s.page.locator('[data-testid=tx-status][data-state="error"]').waitFor();
    const rejected = await s.page.getByTestId("tx-status").innerText();
    expect(rejected, rejected).to.match(/rejected/i);
    await s.page.getByTestId("buy-pass").click();
    await s.page.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
    await s.page.locator('[data-testid=access-status][data-reason="purchase"]').waitFor({ timeout: 15_000 });
    expect(await s.page.getByTestId("access-status").innerText()).to.match(/until/);
    // Bought: the player leaves the preview at once and plays the full track, with no second click.
    await s.page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 30_000 });
    await s.page.waitForFunction(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]");
      return m !== null && !m.paused && m.currentTime > 0.5;
    }, undefined, { timeout: 30_000 });
    await s.page.waitForFunction(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]");
      return m !== null && m.duration > 55;
    }, undefined, { timeout: 30_000 });
    await s.page.evaluate(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
      m.muted = true;
      m.currentTime = 40;
      return m.play();
    });
    await s.page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime > 41.5, undefined, { timeout: 30_000 });
    // With the content key both variants are levels; the decrypted 320k one is what plays on this fast
    // connection (ABR starts where the device hints say and moves up from there).
    expect((await s.page.getByTestId("quality").locator("option").allInnerTexts()).sort()).to.deep.equal(["Auto", "high", "standard"]);
    await s.page.locator('[data-testid=player][data-variant="high"]').waitFor({ timeout: 30_000 });
    const err = await s.page.getByTestId("player-error").count();
    expect(err).to.equal(0);
    await s.page.screenshot({ path: join(SHOTS, "content-playing-1280.png"), fullPage: true });
    // Plays counted on the server: the key release started one play; the segments the player then
    // fetched (tagged ?c=<contentId> by the HLS route) are the same play, and the preview is none.
    const counts = async () => (await (await fetch(`${web.url}/api/plays/${stack.track.contentId}`)).json()) as { plays: number; keyReleases: number; segmentPlays: number; uniqueWallets: number };
    expect(await counts()).to.deep.include({ plays: 1, keyReleases: 1, segmentPlays: 0, uniqueWallets: 1 });
    // A listener without a wallet fetching the full stream's segments through the media routes is a play too.
    const playlist = await (await fetch(`${web.url}/api/hls/${stack.track.manifestCid}/high.m3u8?c=${stack.track.contentId}`)).text();
    const segmentUrls = playlist.split("\n").filter((l) => l.startsWith("/api/piece/"));
    expect(segmentUrls.length).to.be.greaterThan(2);
    for (const url of segmentUrls) expect(url).to.match(new RegExp(`^/api/piece/[^?]+\\?c=${stack.track.contentId.toLowerCase()}$`));
    for (const url of segmentUrls.slice(0, 3)) expect((await fetch(`${web.url}${url}`, { headers: { "user-agent": "web-test-anonymous" } })).status).to.equal(200);
    expect(await counts()).to.deep.include({ plays: 2, keyReleases: 1, segmentPlays: 1 });

    await s.page.goto(`${web.url}/library`, { waitUntil: "networkidle" });
    await s.page.getByTestId("library").getByText(stack.track.title).waitFor({ timeout: 15_000 });
    expect(await s.page.getByTestId("library").innerText()).to.match(/30-day pass/);
    expect(s.errors).to.deep.equal([]);
    void TRACK_PRICE;
  });

  it("adaptive bitrate: hls.js gets the variants as levels of a master playlist made in the browser; a forced level switch keeps playback going, each level decrypted with its own keys", async () => {
    const ex = stack.exclusive!;
    const manifest = (await (await fetch(`${web.url}/api/manifest/${ex.manifestCid}`)).json()) as {
      variants: { name: string; kind: string; role: string; encrypted: boolean; keyScheme?: string; segments: { pieceCid: string }[] }[];
    };
    // Exclusive tier: both full variants encrypted, each keyed per minute under its own name.
    expect(manifest.variants.filter((v) => v.kind === "hls" && v.role !== "preview").map((v) => [v.name, v.encrypted, v.keyScheme])).to.deep.equal([
      ["high", true, "minute-hkdf"],
      ["standard", true, "minute-hkdf"],
    ]);
    const variantOf = new Map(manifest.variants.flatMap((v) => v.segments.map((seg) => [seg.pieceCid, v.name] as const)));
    const c = await open(CREATOR_KEY, 1280);
    // A 3G connection hint: the player starts at the 192k level (lib/client/preload.ts), ABR takes it from there.
    await c.page.addInitScript(`Object.defineProperty(Navigator.prototype, "connection", { configurable: true, get: () => ({ effectiveType: "3g", downlink: 1, saveData: false }) });`);
    const fetched: string[] = [];
    c.page.on("response", (r) => {
      const m = /\/api\/piece\/([^/?]+)/.exec(new URL(r.url()).pathname);
      const variant = m ? variantOf.get(decodeURIComponent(m[1]!)) : undefined;
      if (variant && r.ok()) fetched.push(variant);
    });
    await c.page.goto(`${web.url}/content/${ex.contentId}`, { waitUntil: "networkidle" });
    await connect(c);
    await c.page.locator('[data-testid=access-status][data-reason="creator"]').waitFor({ timeout: 15_000 });
    // With access the page starts on the full track (no "Play full" click).
    await c.page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 30_000 });
    const quality = c.page.getByTestId("quality");
    await quality.waitFor({ timeout: 15_000 });
    expect((await quality.locator("option").allInnerTexts()).sort()).to.deep.equal(["Auto", "high", "standard"]);
    const currentTime = () => c.page.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime);
    await c.page.evaluate(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
      m.muted = true;
      return m.play();
    });
    await c.page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime > 0.5, undefined, { timeout: 30_000 });
    expect(await c.page.getByTestId("player").getAttribute("data-variant")).to.equal("standard");
    // ABR on its own: the connection is in fact fast, so it moves up to the 320k level (heard from the next segment on).
    await c.page.evaluate(() => void (document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime = 12));
    await c.page.locator('[data-testid=player][data-variant="high"]').waitFor({ timeout: 30_000 });
    expect(await c.page.getByTestId("player-label").innerText()).to.match(/Full high quality \(adaptive\) · decrypted in your browser/);
    // Force the other level (hls.currentLevel: flush and refetch there): playback goes on, now decrypting standard's segments with standard's keys.
    const before = fetched.filter((v) => v === "standard").length;
    await quality.selectOption("standard");
    const switchedAt = await currentTime();
    await c.page.locator('[data-testid=player][data-variant="standard"]').waitFor({ timeout: 30_000 });
    await c.page.waitForFunction((t) => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime > t + 3, switchedAt, { timeout: 30_000 });
    expect(fetched.filter((v) => v === "standard").length).to.be.greaterThan(before);
    expect(await c.page.getByTestId("player-error").count()).to.equal(0);
    expect(await c.page.getByTestId("player-label").innerText()).to.match(/Full standard quality · decrypted in your browser/);
    // Back to automatic selection.
    await quality.selectOption("auto");
    expect(await c.page.getByTestId("player-label").innerText()).to.match(/\(adaptive\)/);
    expect(c.errors).to.deep.equal([]);
  });

  it("mints a creator's pass on the creator page, which unlocks the item while held", async () => {
    const s = await open(DEV_PRIVATE_KEYS[5] as `0x${string}`, 1280);
    await s.page.goto(`${web.url}/creator/${stack.creator}`, { waitUntil: "networkidle" });
    await connect(s);
    await s.page.getByTestId("mint-pass").click();
    await s.page.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
    await s.page.getByText("you hold 1").waitFor();
    // Not "networkidle": with access the page starts on the full track, whose buffering keeps the network busy.
    await s.page.goto(contentUrl(), { waitUntil: "load" });
    await s.page.locator('[data-testid=access-status][data-reason="pass"]').waitFor({ timeout: 15_000 });
    expect(await s.page.getByTestId("access-status").innerText()).to.match(/while you hold it/);
    expect(s.errors).to.deep.equal([]);
  });

  it("subscribes for 30 days with the native currency", async () => {
    const s = await open(DEV_PRIVATE_KEYS[6] as `0x${string}`, 375, 812);
    await s.page.goto(contentUrl(), { waitUntil: "networkidle" });
    await connect(s);
    await s.page.getByTestId("option-subscription").getByRole("button", { name: /ETH/ }).click();
    await s.page.locator('[data-testid=access-status][data-reason="subscription"]').waitFor({ timeout: 30_000 });
    await s.page.goto(`${web.url}/library`, { waitUntil: "networkidle" });
    await s.page.getByTestId("subscription").waitFor({ timeout: 15_000 });
    expect(await s.page.getByTestId("library").innerText()).to.match(/Premium subscription/);
    expect(s.errors).to.deep.equal([]);
  });

  it("explains a purchase the wallet cannot pay for (insufficient funds)", async () => {
    const s = await open(generatePrivateKey(), 1280);
    await s.page.goto(contentUrl(), { waitUntil: "networkidle" });
    await s.page.getByTestId("unlock-connect").click();
    await s.page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
    await s.page.getByTestId("buy-pass").click();
    await s.page.locator('[data-testid=tx-status][data-state="error"]').waitFor({ timeout: 20_000 });
    const text = await s.page.getByTestId("tx-status").innerText();
    expect(text, text).to.match(/insufficient funds/i);
  });

  it("buys a stablecoin-priced item with a permit signature and one transaction", async () => {
    // The creator lists the same media a second time, priced in the stablecoin.
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const creator = createWalletClient({ account: privateKeyToAccount(CREATOR_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const fanAddress = privateKeyToAccount(FAN_KEY).address;
    const access = contractOf(stack.deployment, "ContentAccess");
    const stable = contractOf(stack.deployment, "MockStablecoin");
    const externalId = keccak256(toHex("stable-edition"));
    await pub.waitForTransactionReceipt({
      hash: await creator.writeContract({
        address: access.address, abi: access.abi, functionName: "registerContent",
        args: [externalId, cidToBytes(stack.track.manifestCid), 1, { minCoinBalance: 0n, minPasses: 0n, inSubscription: false, paymentToken: stable.address, price: 3_000_000n, duration: 7 * 86400 }, []],
      }),
    });
    await pub.waitForTransactionReceipt({
      hash: await creator.writeContract({ address: stable.address, abi: stable.abi, functionName: "mint", args: [fanAddress, 10_000_000n] }),
    });
    const id = await pub.readContract({ address: access.address, abi: access.abi, functionName: "contentIdOf", args: [creator.account.address, externalId] });
    const s = await open(FAN_KEY, 375, 812);
    await s.page.goto(`${web.url}/content/${id}`, { waitUntil: "networkidle" });
    await connect(s);
    expect(await s.page.getByTestId("price").innerText()).to.equal("3 USD");
    expect(await s.page.getByTestId("option-purchase").innerText()).to.match(/7-day pass/);
    await s.page.getByTestId("buy-pass").click();
    await s.page.locator('[data-testid=access-status][data-reason="purchase"]').waitFor({ timeout: 30_000 });
    const sent = s.wallet.calls.filter((m) => m === "eth_sendTransaction" || m === "eth_signTypedData_v4");
    expect(sent).to.deep.equal(["eth_signTypedData_v4", "eth_sendTransaction"]);
    const balance = await pub.readContract({ address: stable.address, abi: stable.abi, functionName: "balanceOf", args: [fanAddress] });
    expect(balance).to.equal(7_000_000n);
    // This edition re-registers the track's manifest under a new content id, which has no key in the
    // key store: the player's automatic key request after the purchase answers 404 (shown in the player).
    expect(s.errors.filter((e) => !/status of 404/.test(e))).to.deep.equal([]);
  });

  it("a new creator launches a coin and pass in one transaction, with form validation", async () => {
    const s = await open(NEW_CREATOR_KEY, 375, 812);
    await s.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
    await connect(s);
    const form = s.page.getByTestId("launch-form");
    await form.waitFor();
    await s.page.getByTestId("launch-submit").click();
    await form.locator(".field-error").first().waitFor();
    await form.locator('input[name="coinName"]').fill("Echo Lane");
    await form.locator('input[name="coinSymbol"]').fill("ECHO");
    await form.locator('input[name="passName"]').fill("Echo Lane Pass");
    await form.locator('input[name="passSymbol"]').fill("ECHOP");
    await s.page.getByTestId("launch-submit").click();
    await s.page.getByTestId("studio").waitFor({ timeout: 30_000 });
    await s.page.screenshot({ path: join(SHOTS, "studio-launched-375.png"), fullPage: true });
    expect(s.errors).to.deep.equal([]);

    // Uploads must be signed by a launched creator.
    const unsigned = new FormData();
    unsigned.append("files", new Blob([new Uint8Array(1000)]), "x.wav");
    const anonymous = await fetch(`${web.url}/api/upload?creator=${s.wallet.address}&tier=premium&name=x.wav&sha256=${"0".repeat(64)}`, { method: "POST", body: unsigned });
    expect(anonymous.status).to.equal(403);
    expect(((await anonymous.json()) as { error: string }).error).to.match(/sign the upload request/);

    // Upload three files in the browser: a silent track (published, with a warning), a real track,
    // and one that is not media.
    const silence = join(stack.dir, "upload-silence.wav");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "6", "-metadata", "title=Room Tone", silence]);
    const audio = join(stack.dir, "upload-song.mp3");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=330:d=12:r=44100", "-metadata", "title=Night Ferry", "-ac", "2", audio]);
    const junk = join(stack.dir, "notes.mp3");
    writeFileSync(junk, "this is not audio".repeat(20));
    // Through the real server: a body declared larger than the limit is refused before it is read
    // (signed, so the refusal is the size and not the signature), and the connection is closed.
    const hugeSize = 3 * 1024 ** 3;
    const hugeSha = "6".repeat(64);
    const hugeMessage = signedRequestMessage({ action: "upload", wallet: s.wallet.address, nonce: newNonce(), time: new Date().toISOString(), bodies: [{ size: hugeSize, sha256: hugeSha }] });
    const hugeSignature = await privateKeyToAccount(NEW_CREATOR_KEY).signMessage({ message: hugeMessage });
    const huge = await sendUntilAnswered(`${web.url}/api/upload?creator=${s.wallet.address}&tier=premium&name=huge.wav&sha256=${hugeSha}`, hugeSize, {
      [SIGNED_REQUEST_HEADER]: Buffer.from(hugeMessage).toString("base64"),
      [SIGNATURE_HEADER]: hugeSignature,
    });
    expect(huge.status).to.equal(413);
    expect(huge.body).to.match(/upload limit/);
    expect(huge.sent, "bytes sent before the refusal").to.be.below(64 * 1024 * 1024);

    await s.page.getByTestId("file-input").setInputFiles([silence, audio, junk]);
    await s.page.getByTestId("upload-start").click();
    // The job's progress bar while the server works on it (processing or storing), then the end.
    // Small files on an idle machine can finish between two polls: the progress is checked when seen.
    const working = s.page.locator('[data-testid=upload-file][data-state=running]').first();
    const finished = s.page.getByTestId("upload-file").filter({ hasText: /upload-song\.mp3: published/ });
    const seen = await Promise.race([working.waitFor({ timeout: 120_000 }).then(() => "running"), finished.waitFor({ timeout: 120_000 }).then(() => "finished")]);
    if (seen === "running") {
      expect(Number(await working.getByRole("progressbar").getAttribute("aria-valuenow"))).to.be.within(30, 99);
      await s.page.screenshot({ path: join(SHOTS, "studio-upload-progress-375.png"), fullPage: true });
    }
    await s.page.getByTestId("upload-file").filter({ hasText: "notes.mp3" }).locator(".field-error").waitFor({ timeout: 120_000 });
    await s.page.getByTestId("upload-file").filter({ hasText: /upload-song\.mp3: published/ }).waitFor({ timeout: 120_000 });
    // The silent file is published too (registered before the song), and the studio says what ingest found.
    const silentRow = s.page.getByTestId("upload-file").filter({ hasText: /upload-silence\.wav: published/ });
    await silentRow.waitFor({ timeout: 30_000 });
    expect(await silentRow.getByTestId("upload-warning").innerText()).to.match(/silent for 6\.0 s of 6\.0 s \(100 %/);
    expect(await s.page.getByTestId("upload-file").filter({ hasText: "upload-song.mp3" }).getByTestId("upload-warning").count()).to.equal(0);
    await s.page.getByRole("link", { name: "Night Ferry" }).first().waitFor({ timeout: 30_000 });
    // Each upload is a job on the server: registered (checked on chain), the junk one failed with the reason.
    const songJob = await s.page.getByTestId("upload-file").filter({ hasText: "upload-song.mp3" }).getAttribute("data-job");
    const songState = (await (await fetch(`${web.url}/api/upload/jobs/${songJob}`)).json()) as { job: { state: string; attempts: number } };
    expect(songState.job.state).to.equal("registered");
    const junkJob = await s.page.getByTestId("upload-file").filter({ hasText: "notes.mp3" }).getAttribute("data-job");
    const junkState = (await (await fetch(`${web.url}/api/upload/jobs/${junkJob}`)).json()) as { job: { state: string; error: string; permanent: boolean } };
    expect(junkState.job).to.include({ state: "failed", permanent: true });
    expect(junkState.job.error).to.match(/What to do/);
    // The release row says what it sells for: price, the ways to unlock, the price per minute. No pass
    // unlocks it unless the creator asks (the form's "Passes that unlock" starts at 0).
    const uploaded = s.page.getByTestId("release-row").filter({ has: s.page.getByRole("link", { name: "Night Ferry" }) });
    expect(await uploaded.getByTestId("item-price").innerText()).to.equal("0.002 ETH");
    expect(await uploaded.getByTestId("item-access").innerText()).to.equal("unlocks with: 30-day pass 0.002 ETH · in the subscription");
    await uploaded.getByTestId("item-stream-price").filter({ hasText: "not offered per minute" }).waitFor({ timeout: 15_000 });
    expect(await s.page.getByTestId("free-standard").isChecked()).to.equal(false);
    await s.page.screenshot({ path: join(SHOTS, "studio-uploaded-375.png"), fullPage: true });

    // Edit the rules later: a new price on chain (and a new terms version).
    const release = s.page.locator(".panel").filter({ has: s.page.getByRole("link", { name: "Night Ferry" }) });
    await release.getByTestId("edit-rules").click();
    expect(await release.locator('input[name="price"]').inputValue()).to.equal("0.002");
    await release.locator('input[name="price"]').fill("0.005");
    await release.getByRole("button", { name: "Save rules" }).click();
    await release.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
    const items = (await (await fetch(`${web.url}/api/catalog?creator=${s.wallet.address}`)).json()) as { items: { id: `0x${string}`; price: string; minPasses: string }[] };
    expect(items.items.map((i) => i.price).sort()).to.deep.equal(["2000000000000000", "5000000000000000"]);
    expect(items.items.map((i) => i.minPasses)).to.deep.equal(["0", "0"]);

    // The upload route's free-standard option (the form's checkbox): standard stored in the clear, high encrypted; refused on a free item.
    const account = privateKeyToAccount(NEW_CREATOR_KEY);
    // The upload protocol the studio speaks: the raw file, its size and SHA-256 signed in the headers.
    const signedUpload = async (query: string, file: string) => {
      const bytes = readFileSync(file);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const message = signedRequestMessage({ action: "upload", wallet: account.address, nonce: newNonce(), time: new Date().toISOString(), bodies: [{ size: bytes.length, sha256 }] });
      return fetch(`${web.url}/api/upload?creator=${account.address}&${query}&name=giveaway.wav&sha256=${sha256}`, {
        method: "POST",
        headers: { [SIGNED_REQUEST_HEADER]: Buffer.from(message).toString("base64"), [SIGNATURE_HEADER]: await account.signMessage({ message }) },
        body: bytes,
      });
    };
    const giveaway = join(stack.dir, "upload-giveaway.wav");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=520:d=5:r=44100", "-ac", "2", giveaway]);
    const refusedFree = await signedUpload("tier=free&freeStandard=1", giveaway);
    expect(refusedFree.status).to.equal(400);
    expect(((await refusedFree.json()) as { error: string }).error).to.match(/freeStandard=1 is for premium and exclusive items/);
    const given = await signedUpload("tier=premium&freeStandard=1", giveaway);
    expect(given.status, await given.clone().text()).to.equal(202);
    const { jobId } = (await given.json()) as { jobId: string };
    type JobView = { state: string; error: string | null; freeStandard: boolean; result: { manifestCid: string } | null };
    let job: JobView | undefined;
    for (let i = 0; i < 240 && !["published", "registered", "failed"].includes(job?.state ?? ""); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      job = ((await (await fetch(`${web.url}/api/upload/jobs/${jobId}`)).json()) as { job: JobView }).job;
    }
    expect(job!.error, job!.error ?? "").to.equal(null);
    expect(job!.state).to.equal("published");
    expect(job!.freeStandard).to.equal(true);
    const givenManifest = (await (await fetch(`${web.url}/api/manifest/${job!.result!.manifestCid}`)).json()) as { variants: { name: string; encrypted: boolean }[] };
    expect(givenManifest.variants.map((v) => [v.name, v.encrypted])).to.deep.equal([["high", true], ["standard", false], ["preview", false]]);
    expect(s.errors.filter((e) => !/status of 4\d\d/.test(e))).to.deep.equal([]);
  });

  it("pay per minute end to end: each minute window's key fetched separately on a session-key voucher as playback reaches it (never the content key); the creator redeems (2 x rate - 3% fee), closes with the final voucher and withdraws", async () => {
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const channels = contractOf(stack.deployment, "PaymentChannels");
    const creator = stack.creator;
    const viewer = privateKeyToAccount(STREAMER_KEY).address;
    const RATE = STREAM_RATE; // 0.0001 ETH per minute: the creator's stream price, which StreamPanel opens at
    const s = await open(STREAMER_KEY, 1280);
    // A fast connection: the player starts at the high level (lib/client/preload.ts).
    await s.page.addInitScript(() => {
      Object.defineProperty(navigator, "connection", { configurable: true, value: { effectiveType: "4g", downlink: 20, saveData: false } });
      Object.defineProperty(navigator, "deviceMemory", { configurable: true, value: 8 });
    });
    // Every key request the page makes, and the minute keys each /stream answer carried.
    const keyPaths: string[] = [];
    const streamAsks: { minute: number; variants: string[]; cumulativeAmount: string }[] = [];
    const released: { minute: number; variant: string; keyId: string }[] = [];
    s.page.on("request", (r) => {
      const path = new URL(r.url()).pathname;
      if (!path.startsWith("/api/keys/")) return;
      keyPaths.push(path);
      if (path.endsWith("/stream")) streamAsks.push(JSON.parse(r.postData() ?? "{}"));
    });
    s.page.on("response", (r) => {
      if (!new URL(r.url()).pathname.endsWith("/stream") || r.status() !== 200) return;
      void r.json().then((b: { keys: { minute: number; variant: string; keyId: string }[] }) => released.push(...b.keys.map(({ minute, variant, keyId }) => ({ minute, variant, keyId }))));
    });
    await s.page.goto(contentUrl(), { waitUntil: "networkidle" });
    await connect(s);
    // The panel offers the creator's price (PaymentChannels.streamPrice), not one of its own.
    await s.page.getByTestId("stream-price").filter({ hasText: "0.0001 ETH per minute" }).waitFor({ timeout: 15_000 });
    await s.page.getByTestId("stream-open").click();
    const meter = s.page.getByTestId("stream-meter");
    // The player loads the first segments at once: minute 0's key, paid by the first voucher.
    await meter.filter({ hasText: /1 minute .*spent 0\.0001 ETH.*streaming/ }).waitFor({ timeout: 30_000 });
    expect(s.wallet.calls.filter((m) => m === "eth_sendTransaction")).to.have.length(1);
    expect(s.wallet.calls).to.not.include("eth_signTypedData_v4");
    await s.page.locator('[data-testid=player][data-mode="full"][data-variant="high"]').waitFor({ timeout: 15_000 });
    await s.page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.duration ?? 0) > 70, undefined, { timeout: 30_000 });
    expect(streamAsks.map((a) => a.minute)).to.deep.equal([0]);
    // Every status line follows what plays: the full track on the channel, not "no access".
    const accessLine = await s.page.getByTestId("access-status").innerText();
    expect(accessLine).to.match(/Streaming pay per minute: the full track plays/).and.not.to.match(/do not have access/);
    expect(await s.page.getByTestId("player-label").innerText()).to.match(/Full high quality.*paid per minute/);
    await s.page.screenshot({ path: join(SHOTS, "content-pay-per-minute-1280.png"), fullPage: true });
    // Playback reaching minute 1 (a seek to 0:58 here) makes the player ask for minute 1's key, paid by a second voucher.
    await s.page.evaluate(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
      m.muted = true;
      m.currentTime = 58;
      return m.play();
    });
    await meter.filter({ hasText: /2 minutes .*spent 0\.0002 ETH/ }).waitFor({ timeout: 30_000 });
    // ... and decrypted minute 1's segments with it: playback goes on past 1:02.
    await s.page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime > 62, undefined, { timeout: 30_000 });
    expect(await s.page.getByTestId("player-error").count()).to.equal(0);
    // still no wallet prompt for the second minute: the session key signed it
    expect(s.wallet.calls.filter((m) => m === "eth_sendTransaction" || m === "eth_signTypedData_v4")).to.have.length(1);
    // Separate minute keys: one request per minute window, each paying for the minute it asks for,
    // each answered with that minute's own key; the content key was never asked for.
    expect(keyPaths.every((p) => p === `/api/keys/${stack.track.contentId}/stream`), keyPaths.join(",")).to.equal(true);
    // Both full variants are encrypted (premium), so one minute's request carries both levels' keys.
    expect(streamAsks.map((a) => [a.minute, a.variants, a.cumulativeAmount])).to.deep.equal([
      [0, ["high", "standard"], RATE.toString()],
      [1, ["high", "standard"], (2n * RATE).toString()],
    ]);
    for (let i = 0; i < 50 && released.length < 4; i++) await new Promise((r) => setTimeout(r, 100));
    expect(released.map((k) => [k.minute, k.variant])).to.deep.equal([[0, "high"], [0, "standard"], [1, "high"], [1, "standard"]]);
    expect(new Set(released.map((k) => k.keyId)).size).to.equal(4);
    const channelId = BigInt(/Channel #(\d+)/.exec(await meter.innerText())![1]!);
    await s.page.getByTestId("stream-close").click();
    await s.page.locator('[data-testid=tx-status][data-state="confirmed"]').filter({ hasText: /Close/ }).waitFor({ timeout: 30_000 });
    await s.page.locator('[data-testid=player][data-mode="preview"]').waitFor();
    await s.page.getByTestId("access-status").filter({ hasText: "You do not have access yet: the 30-second preview plays." }).waitFor();
    expect(s.errors).to.deep.equal([]);

    // The creator's dashboard lists the channel with the latest voucher the server received.
    const c = await open(CREATOR_KEY, 1280);
    await c.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
    await connect(c);
    const row = c.page.locator(`[data-testid=stream-row][data-channel="${channelId}"]`);
    await row.getByTestId("stream-voucher").filter({ hasText: "0.0002 ETH" }).waitFor({ timeout: 20_000 });
    expect(await row.innerText()).to.match(/2 × 0\.0001 ETH/).and.to.match(/fan asked to close/);
    await c.page.getByTestId("active-streams").filter({ hasText: /^1$/ }).waitFor();
    const balance = () => pub.readContract({ address: channels.address, abi: channels.abi, functionName: "balanceOf", args: [creator, ZERO] });
    const before = await balance();
    await row.getByTestId("stream-redeem").click();
    const streamsTx = c.page.getByTestId("streams").getByTestId("tx-status");
    await streamsTx.and(c.page.locator('[data-state="confirmed"]')).filter({ hasText: /Redeem/ }).waitFor({ timeout: 30_000 });
    const earned = (await balance()) - before;
    expect(earned).to.equal(2n * RATE - (2n * RATE * 300n) / 10_000n); // 0.000194 ETH
    expect((await pub.readContract({ address: channels.address, abi: channels.abi, functionName: "getChannel", args: [channelId] })).redeemed).to.equal(2n * RATE);
    await c.page.getByTestId("streaming-balance-0").filter({ hasText: "0.000194 ETH" }).waitFor({ timeout: 15_000 });
    await row.getByTestId("stream-redeem").and(c.page.locator(":disabled")).waitFor({ timeout: 15_000 });

    // Close with the final voucher: nothing more to redeem, the rest of the deposit goes back to the fan.
    await row.getByTestId("stream-close-final").click();
    await streamsTx.and(c.page.locator('[data-state="confirmed"]')).filter({ hasText: /Close channel/ }).waitFor({ timeout: 30_000 });
    await row.waitFor({ state: "detached", timeout: 15_000 });
    await c.page.getByTestId("active-streams").filter({ hasText: /^0$/ }).waitFor();
    const closed = await pub.readContract({ address: channels.address, abi: channels.abi, functionName: "getChannel", args: [channelId] });
    expect(closed.status).to.equal(3);
    expect(await pub.readContract({ address: channels.address, abi: channels.abi, functionName: "balanceOf", args: [viewer, ZERO] })).to.equal(closed.deposit - 2n * RATE);
    expect(await balance()).to.equal(before + earned);

    // Withdraw the streaming earnings.
    const ethBefore = await pub.getBalance({ address: creator });
    await c.page.getByTestId("withdraw-streaming-0").click();
    await c.page.locator('[data-testid=tx-status][data-state="confirmed"]').filter({ hasText: /Withdraw streaming/ }).waitFor({ timeout: 30_000 });
    expect(await balance()).to.equal(0n);
    const withdrawn = await pub.getContractEvents({ address: channels.address, abi: channels.abi, eventName: "Withdrawn", args: { payee: creator }, fromBlock: 0n });
    expect(withdrawn.at(-1)!.args.amount).to.equal(before + earned);
    const gained = (await pub.getBalance({ address: creator })) - ethBefore;
    expect(gained > earned - 10n ** 15n && gained <= earned, `ETH balance grew by ${gained}, expected ${earned} minus gas`).to.equal(true);
    await c.page.getByTestId("streaming-balance-0").filter({ hasText: "Streaming: 0 ETH" }).waitFor({ timeout: 15_000 });

    // The creator changes the price per minute in the rules editor: setStreamPrice only (the
    // access terms stay as they were), and the fan's page offers the new price; 0 stops offering it.
    const release = c.page.locator(`[data-testid=release-row][data-content="${stack.track.contentId.toLowerCase()}"]`);
    await release.getByTestId("item-stream-price").filter({ hasText: "0.0001 ETH per minute" }).waitFor({ timeout: 15_000 });
    const access = contractOf(stack.deployment, "ContentAccess");
    const terms = () => pub.readContract({ address: access.address, abi: access.abi, functionName: "purchaseTerms", args: [stack.track.contentId] });
    const termsBefore = await terms();
    const setPerMinute = async (value: string) => {
      await release.getByTestId("edit-rules").click();
      await release.getByTestId("price-per-minute").fill(value);
      await release.getByRole("button", { name: "Save rules" }).click();
      await release.locator('[data-testid=tx-status][data-state="confirmed"]').filter({ hasText: /Set price per minute/ }).waitFor({ timeout: 30_000 });
    };
    await setPerMinute("0.0003");
    expect(await pub.readContract({ address: channels.address, abi: channels.abi, functionName: "streamPrice", args: [stack.track.contentId] })).to.deep.equal([ZERO, 3n * RATE]);
    expect(await terms()).to.deep.equal(termsBefore);
    await release.getByTestId("item-stream-price").filter({ hasText: "0.0003 ETH per minute" }).waitFor({ timeout: 15_000 });
    await s.page.reload({ waitUntil: "networkidle" });
    await s.page.getByTestId("stream-price").filter({ hasText: "0.0003 ETH per minute" }).waitFor({ timeout: 15_000 });
    await setPerMinute("0");
    expect((await pub.readContract({ address: channels.address, abi: channels.abi, functionName: "streamPrice", args: [stack.track.contentId] }))[1]).to.equal(0n);
    await s.page.reload({ waitUntil: "networkidle" });
    await s.page.getByTestId("option-purchase").waitFor({ timeout: 15_000 });
    await new Promise((r) => setTimeout(r, 1_000)); // the stream price read has answered by now
    expect(await s.page.getByTestId("option-stream").count()).to.equal(0);
    await setPerMinute("0.0001"); // as the stack seeded it
    expect(c.errors).to.deep.equal([]);
  });

  it("creator backs up the catalogue: stored, anchored by the creator's wallet, listed and verified against the chain; restore preview; export; tampering shows", async () => {
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const registry = contractOf(stack.deployment, "BackupRegistry");
    const c = await open(CREATOR_KEY, 1280);
    await c.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
    await connect(c);
    const backups = c.page.getByTestId("backups");
    await backups.getByText("No backups anchored yet.").waitFor({ timeout: 20_000 });
    // Key escrow first: the wallet signs the escrow typed data (twice, the same), then the request registering the public key.
    const escrowPanel = c.page.getByTestId("key-escrow");
    await escrowPanel.getByText(/Not set up: \d+ content keys? live only/).waitFor({ timeout: 20_000 });
    await backups.screenshot({ path: join(SHOTS, "studio-backups-no-escrow-1280.png") });
    await c.page.getByTestId("setup-escrow").click();
    await c.page.locator('[data-testid=key-escrow][data-escrow="on"]').waitFor({ timeout: 30_000 });
    const escrowText = await escrowPanel.getByTestId("escrow-status").innerText();
    const [, escrowedCount, storedCount] = /(\d+) of (\d+) content keys escrowed/.exec(escrowText) ?? [];
    expect(Number(escrowedCount)).to.be.greaterThan(0);
    expect(escrowedCount).to.equal(storedCount);
    await escrowPanel.screenshot({ path: join(SHOTS, "studio-key-escrow-1280.png") });
    await c.page.getByTestId("backup-now").click();
    await backups.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 60_000 });
    // studio sign-in, the escrow typed data twice, the signed escrow request, the signed backup request, the anchor
    expect(c.wallet.calls.filter((m) => m === "personal_sign" || m === "eth_signTypedData_v4" || m === "eth_sendTransaction")).to.deep.equal(["personal_sign", "eth_signTypedData_v4", "eth_signTypedData_v4", "personal_sign", "personal_sign", "eth_sendTransaction"]);
    const row = backups.getByTestId("backup-row");
    await row.and(c.page.locator('[data-status="verified"]')).waitFor({ timeout: 20_000 });
    expect(await row.count()).to.equal(1);
    expect(await row.getByTestId("backup-status").innerText()).to.match(/verified/);

    // Independently: the anchor is the creator's, and the stored bytes hash to the on-chain digest.
    expect(await pub.readContract({ address: registry.address, abi: registry.abi, functionName: "backupCount", args: [stack.creator] })).to.equal(1n);
    const anchored = await pub.getContractEvents({ address: registry.address, abi: registry.abi, eventName: "BackupAnchored", args: { creator: stack.creator }, fromBlock: 0n });
    expect(anchored[0]!.args.anchoredBy).to.equal(stack.creator);
    const list = (await (await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}/backups`)).json()) as { backups: { pieceCid: string; sha256: string; items: number }[] };
    const cid = list.backups[0]!.pieceCid;
    const bytes = Buffer.from(await (await fetch(`${web.url}/api/piece/${cid}`)).arrayBuffer());
    const onChain = await pub.readContract({ address: registry.address, abi: registry.abi, functionName: "backupAt", args: [stack.creator, 0n] });
    expect(`0x${createHash("sha256").update(bytes).digest("hex")}`).to.equal(onChain.sha256Digest);
    expect(BigInt(bytes.length)).to.equal(onChain.size);
    const snapshot = JSON.parse(bytes.toString("utf8")) as { creator: string; items: { contentId: string; title?: string }[]; escrow?: { keys: { contentId: string }[] } };
    expect(snapshot.creator.toLowerCase()).to.equal(stack.creator.toLowerCase());
    expect(snapshot.items.map((i) => i.contentId.toLowerCase())).to.include(stack.track.contentId);
    expect(snapshot.escrow!.keys.map((k) => k.contentId.toLowerCase())).to.include(stack.track.contentId);

    // Restore preview: verified, lists the releases, writes nothing.
    await row.getByTestId("backup-preview").click();
    const preview = c.page.getByTestId("restore-preview");
    await preview.getByText(/Verified against the chain/).waitFor({ timeout: 20_000 });
    expect(await preview.innerText()).to.contain(stack.track.title).and.to.match(/keep; registered, same manifest/).and.to.contain(`restore --piece-cid ${cid}`);

    // Export: one JSON package with the catalogue, tags and manifests.
    const [download] = await Promise.all([c.page.waitForEvent("download"), c.page.getByTestId("export-catalog").click()]);
    const bundle = JSON.parse(readFileSync(await download.path(), "utf8")) as { format: string; files: Record<string, { items?: { contentId: string; title?: string; manifestUrl: string }[] }> };
    expect(bundle.format).to.equal("streamvault-export-bundle");
    const exported = bundle.files["catalog.json"]!.items!;
    const track = exported.find((i) => i.contentId.toLowerCase() === stack.track.contentId)!;
    expect(track.title).to.equal(stack.track.title);
    expect(bundle.files).to.have.property(`manifests/${track.contentId}.json`);
    expect((await fetch(track.manifestUrl)).status).to.equal(200);

    // Tampered storage no longer verifies (and cannot be previewed), and is shown as such.
    const file = join(stack.env.STORAGE_DATA_DIR!, cid.slice(-2), cid);
    const original = readFileSync(file);
    try {
      const tampered = Buffer.from(original);
      tampered[tampered.length - 3] ^= 1;
      writeFileSync(file, tampered);
      await c.page.reload({ waitUntil: "networkidle" });
      await c.page.locator('[data-testid=backup-row][data-status="mismatch"]').waitFor({ timeout: 20_000 });
      expect((await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}/backups/${cid}`)).status).to.equal(409);
    } finally {
      writeFileSync(file, original);
    }
    expect(c.errors.filter((e) => !/status of 409/.test(e))).to.deep.equal([]);
  });

  it("creator dashboard at 375 px and 1280 px: no sideways scrolling, no console errors (screenshots)", async () => {
    for (const width of [375, 1280]) {
      const c = await open(CREATOR_KEY, width, width === 375 ? 812 : 900);
      await c.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
      await connect(c);
      await c.page.locator('[data-testid=backup-row][data-status="verified"]').waitFor({ timeout: 20_000 });
      await c.page.getByTestId("streams").waitFor();
      // Plays per release, counted by the server (key releases and segment requests of earlier tests).
      const plays = await c.page.getByTestId("item-plays").allInnerTexts();
      for (const p of plays) expect(p).to.match(/^\d+ plays?$/);
      expect(Math.max(...plays.map((p) => Number(p.split(" ")[0])))).to.be.at.least(2);
      expect(Number(await c.page.getByTestId("plays-total").innerText())).to.be.at.least(2);
      const overflow = await c.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `dashboard at ${width} px scrolls sideways`).to.be.at.most(0);
      await c.page.screenshot({ path: join(SHOTS, `dashboard-${width}.png`), fullPage: true });
      expect(c.errors).to.deep.equal([]);
    }
  });

  it("studio storage: real cost per item from the copies stored, 12 months of cost history, suggestions; applied moves show as journaled (screenshots)", async () => {
    const home = stack.env.STREAMVAULT_HOME!;
    const store = new LocalStore({ dir: stack.env.STORAGE_DATA_DIR! });
    // The pieces of each track, from its manifest (what the route must count).
    const itemOf = async (t: NonNullable<Stack["exclusive"]>, tier: "premium" | "exclusive"): Promise<PlacementItem> => {
      const m = JSON.parse(new TextDecoder().decode(await store.get(t.manifestCid))) as { variants: { segments: { pieceCid: string; size: number }[] }[]; artwork: { pieceCid: string; bytes: number }[] };
      const pieces = new Map<string, number>([[t.manifestCid, pieceSize(t.manifestCid)]]);
      for (const v of m.variants) for (const seg of v.segments) pieces.set(seg.pieceCid, seg.size);
      for (const a of m.artwork) pieces.set(a.pieceCid, a.bytes);
      return { id: t.contentId, title: t.title, tier, pieces: [...pieces].map(([pieceCid, bytes]) => ({ pieceCid, bytes })) };
    };
    const premium = await itemOf(stack.track, "premium");
    const exclusive = await itemOf(stack.exclusive!, "exclusive");
    const bytesOf = (i: PlacementItem) => i.pieces.reduce((n, p) => n + p.bytes, 0);
    // The premium track was put on the CDN; with a handful of plays it is cold, so the policy says off.
    mkdirSync(join(home, "placement"), { recursive: true });
    writeFileSync(cdnStatePath(home), JSON.stringify({ [premium.id]: true }));

    type Report = {
      items: { itemId: string; bytes: number; storedBytes: number; minCopies: number; storage: number; cdn: boolean; shortfall?: string }[];
      history: { month: string; storage: number }[];
      suggestions: { itemId: string; kind: string; monthlySaving: number }[];
      backendStats: { backend: string; pieces: number; reads: number; failures: number; readLatencyMs: { p50: number | null; samples: number } }[];
    };
    const report = (await (await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}/storage`)).json()) as Report;
    const row = (id: string) => report.items.find((i) => i.itemId === id)!;
    expect(row(exclusive.id)).to.include({ bytes: bytesOf(exclusive), storedBytes: bytesOf(exclusive), minCopies: 1, cdn: false });
    expect(row(exclusive.id).storage).to.be.closeTo((bytesOf(exclusive) / TIB) * 2.5, 1e-15);
    expect(row(exclusive.id).shortfall).to.match(/3 copies but only 1 backend/);
    expect(row(premium.id)).to.include({ bytes: bytesOf(premium), cdn: true });
    expect(report.history).to.have.length(12);
    expect(report.history.at(-1)!.storage).to.be.greaterThan(0);
    expect(report.suggestions.map((x) => `${x.itemId} ${x.kind}`)).to.deep.equal([`${premium.id} cdn-off`]);
    // Backend health from the stats wrapper (storageStatus) beside pieces and bytes: the web app has
    // read manifests and segments through the instrumented store, so reads and latency are recorded.
    const local = report.backendStats.find((b) => b.backend === "local")!;
    expect(local.pieces).to.be.greaterThan(0);
    expect(local.reads).to.be.greaterThan(0);
    expect(local.failures).to.be.a("number");
    expect(local.readLatencyMs.samples).to.be.greaterThan(0);
    expect(local.readLatencyMs.p50).to.be.a("number");

    const c = await open(CREATOR_KEY, 1280, 900);
    await c.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
    await connect(c);
    await c.page.getByRole("link", { name: /real cost and placement/i }).click();
    await c.page.getByTestId("storage-items").waitFor({ timeout: 20_000 });
    const premiumRow = c.page.locator(`[data-item="${premium.id}"]`);
    expect(await premiumRow.innerText()).to.match(/Aurora Drift[\s\S]*premium[\s\S]*on → off/i);
    expect(await c.page.locator(`[data-item="${exclusive.id}"]`).getByTestId("copies").innerText()).to.equal("1");
    expect(await c.page.getByTestId("suggestions").innerText()).to.match(/cdn-off/);
    expect(await c.page.getByTestId("backend-stats").innerText()).to.match(/local\s+\d+\s+\d/);
    expect(await c.page.getByTestId("backend-stats").locator("thead").innerText()).to.match(/Failures[\s\S]*Read p50[\s\S]*Read p99/);
    expect(await c.page.locator('[data-testid=backend-stats] [data-backend="local"] [data-testid=latency-p50]').innerText()).to.match(/^\d+(\.\d)? ms$/);
    await c.page.locator("[data-testid=cost-history] .recharts-bar-rectangle").first().waitFor({ timeout: 10_000 });
    expect(await c.page.locator("[data-testid=cost-history] .recharts-xAxis .recharts-cartesian-axis-tick").count()).to.be.at.least(6);
    await c.page.screenshot({ path: join(SHOTS, "studio-storage-1280.png"), fullPage: true });

    // Apply the plan as `streamvault optimize --apply` does: the page then has nothing to suggest and lists the move.
    const target = new SetPlacementTarget({ store, cdnStateFile: cdnStatePath(home) });
    const applied = await optimizePlacement([premium, exclusive], {}, target, placementConfig(["local"]), { apply: true, journal: new PlacementJournal(journalPath(home)), by: "optimize" });
    expect(applied.outcome!.applied.map((e) => e.kind)).to.deep.equal(["cdn-off"]);
    await c.page.reload({ waitUntil: "networkidle" });
    await c.page.getByTestId("recent-moves").waitFor({ timeout: 20_000 });
    expect(await c.page.getByTestId("recent-moves").innerText()).to.match(/Aurora Drift[\s\S]*cdn-off[\s\S]*CDN on → CDN off/);
    await c.page.getByTestId("no-suggestions").waitFor();
    await c.page.screenshot({ path: join(SHOTS, "studio-storage-applied-1280.png"), fullPage: true });
    expect(c.errors).to.deep.equal([]);
  });

  it("a designed 404: unknown pages, unregistered content and creators (screenshots at 375 px and 1280 px)", async () => {
    for (const width of [375, 1280]) {
      const s = await open(FAN_KEY, width, width === 375 ? 812 : 900);
      for (const path of ["/no-such-page", `/content/0x${"00".repeat(32)}`, `/creator/0x${"00".repeat(20)}`]) {
        const res = await s.page.goto(`${web.url}${path}`, { waitUntil: "networkidle" });
        expect(res?.status(), path).to.equal(404);
        await s.page.getByTestId("not-found").waitFor();
        expect(await s.page.locator("h1").innerText()).to.equal("Nothing plays here");
        expect(await s.page.getByTestId("not-found").getByRole("link", { name: "Discover music and video" }).getAttribute("href")).to.equal("/");
        const overflow = await s.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `404 at ${width} px scrolls sideways`).to.be.at.most(0);
      }
      await s.page.screenshot({ path: join(SHOTS, `not-found-${width}.png`), fullPage: true });
      expect(s.errors.filter((e) => !/status of 404/.test(e))).to.deep.equal([]);
    }
  });

  it("opened at localhost instead of the configured 127.0.0.1: a banner explains it and links to the same page there; the player says why the paid stream cannot play", async () => {
    const port = new URL(web.url).port;
    const c = await open(CREATOR_KEY, 1280);
    const atLocalhost = `http://localhost:${port}/content/${stack.track.contentId}`;
    await c.page.goto(atLocalhost, { waitUntil: "networkidle" });
    const banner = c.page.getByTestId("wrong-origin");
    await banner.waitFor({ timeout: 15_000 });
    expect(await banner.innerText()).to.contain(`http://localhost:${port}`).and.to.contain(web.url).and.to.match(/WEB_ORIGIN/);
    expect(await c.page.getByTestId("wrong-origin-link").getAttribute("href")).to.equal(`${web.url}/content/${stack.track.contentId}`);
    // With access the player asks for the key; sign-in names 127.0.0.1, so it fails, and says why (no silent fallback).
    await connect(c);
    await c.page.getByTestId("player-error").filter({ hasText: `sign-in works only at ${web.url}` }).waitFor({ timeout: 30_000 });
    expect(await c.page.getByTestId("player").getAttribute("data-mode")).to.equal("preview");
    // The access line follows what plays: access, but not the full track here.
    expect(await c.page.getByTestId("access-status").innerText()).to.match(/You have access: You are the creator · but the full track cannot play here/);
    await c.page.screenshot({ path: join(SHOTS, "wrong-origin-1280.png"), fullPage: true });
    // Following the link: the same page at the configured origin, no banner.
    await c.page.getByTestId("wrong-origin-link").click();
    await c.page.waitForURL(`${web.url}/content/${stack.track.contentId}`);
    await c.page.getByTestId("player").waitFor();
    expect(await c.page.getByTestId("wrong-origin").count()).to.equal(0);
  });

  describe("creator profiles and tools", () => {
    const fanA = privateKeyToAccount(DEV_PRIVATE_KEYS[7] as `0x${string}`);
    const fanB = privateKeyToAccount(DEV_PRIVATE_KEYS[8] as `0x${string}`);
    const quietPine = privateKeyToAccount(DEV_PRIVATE_KEYS[9] as `0x${string}`);
    const pub = () => createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const tokens = async () => {
      const registry = contractOf(stack.deployment, "CreatorRegistry");
      const [coin, pass] = await pub().readContract({ address: registry.address, abi: registry.abi, functionName: "creatorTokens", args: [stack.creator] });
      return { coin, pass };
    };
    const coinAbi = ABIS.CreatorCoin;
    const passAbi = ABIS.CreatorPass;

    it("edits the profile (name, avatar, banner, bio, link) in the studio: the creator page and Discover cards show it, images load", async () => {
      const avatar = join(stack.dir, "avatar.png");
      const banner = join(stack.dir, "banner.png");
      await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 230, g: 120, b: 40 } } }).png().toFile(avatar);
      await sharp({ create: { width: 1800, height: 700, channels: 3, background: { r: 30, g: 90, b: 160 } } }).png().toFile(banner);
      // A second creator, launched with no profile URI.
      const registry = contractOf(stack.deployment, "CreatorRegistry");
      const launch = await createWalletClient({ account: quietPine, chain: foundry, transport: http(stack.anvil.rpcUrl) }).writeContract({
        address: registry.address,
        abi: registry.abi,
        functionName: "launchCreator",
        args: [
          { name: "Quiet Pine", symbol: "PINE", supply: parseEther("1000"), creatorAllocation: parseEther("100") },
          { name: "Quiet Pine Pass", symbol: "PINEP", maxSupply: 10n, mintPrice: 0n, mintEnabled: true, royaltyBps: 0 },
          "",
        ],
      });
      await pub().waitForTransactionReceipt({ hash: launch });
      const s = await open(CREATOR_KEY, 1280);
      await s.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
      await connect(s);
      const panel = s.page.getByTestId("studio-profile");
      await panel.waitFor({ timeout: 30_000 });
      const profilePosts: string[] = [];
      s.page.on("request", (r) => void (r.method() === "POST" && r.url().toLowerCase().endsWith(`/api/studio/${stack.creator.toLowerCase()}/profile`) && profilePosts.push(r.url())));
      // Bad input is refused in the form, before any signature.
      await panel.locator('input[name="profileName"]').fill(" ");
      await panel.locator('textarea[name="links"]').fill("Site ftp://nova.example");
      await panel.getByTestId("profile-save").click();
      const errors = await panel.getByTestId("profile-errors").innerText();
      expect(errors).to.match(/the name is empty/).and.to.match(/a link must be an http/);
      expect(profilePosts, "nothing sent for the refused form").to.have.length(0);
      await panel.locator('input[name="profileName"]').fill("Nova Harbour");
      await panel.locator('textarea[name="bio"]').fill("Ambient music from the harbour.");
      await panel.locator('textarea[name="links"]').fill("Website https://nova.example");
      await panel.getByTestId("profile-avatar").setInputFiles(avatar);
      await panel.getByTestId("profile-banner").setInputFiles(banner);
      await panel.getByTestId("profile-save").click();
      await panel.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 60_000 });
      expect(profilePosts, "one signed profile request").to.have.length(1);
      // On chain: the URI names the stored profile piece, served by the piece route.
      const uri = await pub().readContract({ address: registry.address, abi: registry.abi, functionName: "profileURI", args: [stack.creator] });
      expect(uri).to.match(new RegExp(`^${web.url}/api/piece/bafk`));
      const stored = (await (await fetch(uri)).json()) as { name: string; avatar: string; banner: string; links: { url: string }[] };
      expect(stored).to.deep.include({ name: "Nova Harbour", links: [{ label: "Website", url: "https://nova.example" }] });

      await s.page.goto(`${web.url}/creator/${stack.creator}`, { waitUntil: "networkidle" });
      const head = s.page.getByTestId("creator-profile");
      expect(await head.locator("h1").innerText()).to.equal("Nova Harbour");
      expect(await head.getByTestId("creator-bio").innerText()).to.equal("Ambient music from the harbour.");
      expect(await head.getByTestId("creator-links").getByRole("link", { name: "Website" }).getAttribute("href")).to.equal("https://nova.example");
      const loaded = async (testId: string) => head.getByTestId(testId).evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth);
      expect(await loaded("creator-avatar")).to.equal(400);
      expect(await loaded("creator-banner")).to.equal(1500);
      await s.page.screenshot({ path: join(SHOTS, "creator-profile-1280.png"), fullPage: true });
      await s.page.setViewportSize({ width: 375, height: 812 });
      expect(await s.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "sideways scroll at 375 px").to.equal(true);
      await s.page.screenshot({ path: join(SHOTS, "creator-profile-375.png"), fullPage: true });
      await s.page.setViewportSize({ width: 1280, height: 900 });

      await s.page.goto(web.url, { waitUntil: "networkidle" });
      const card = s.page.getByTestId("content-card").filter({ has: s.page.locator(`[data-testid=creator-name][title="${stack.creator.toLowerCase()}"]`) }).first();
      expect(await card.getByTestId("creator-name").innerText()).to.equal("Nova Harbour");
      const creatorCard = s.page.getByTestId("creator-card").filter({ hasText: "Nova Harbour" });
      expect(await creatorCard.locator("img.avatar").evaluate((img) => (img as HTMLImageElement).naturalWidth)).to.be.greaterThan(0);
      // A creator without a profile is named by its coin, never by a bare address.
      expect(await s.page.getByTestId("creator-card").filter({ hasText: "Quiet Pine" }).getByTestId("creator-name").innerText()).to.equal("Quiet Pine");
      const text = (await s.page.locator("main").innerText()).toLowerCase();
      for (const a of [stack.creator, quietPine.address]) expect(text).to.not.contain(a.toLowerCase());
      await s.page.screenshot({ path: join(SHOTS, "discover-profiles-1280.png"), fullPage: true });
      expect(s.errors).to.deep.equal([]);
    });

    it("hands out coins to two fans and airdrops a pass, each with its gas cost shown first; balances on chain and on the fan's page", async () => {
      const { coin, pass } = await tokens();
      const before = await Promise.all([fanA, fanB].map((f) => pub().readContract({ address: coin, abi: coinAbi, functionName: "balanceOf", args: [f.address] })));
      const passesBefore = await pub().readContract({ address: pass, abi: passAbi, functionName: "balanceOf", args: [fanA.address] });
      const s = await open(CREATOR_KEY, 375, 812);
      await s.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
      await connect(s);
      const coins = s.page.getByTestId("distribute-coins");
      await coins.getByTestId("coin-reserve").filter({ hasText: /\d/ }).waitFor({ timeout: 30_000 });
      // Row by row: a bad address, a zero amount, a row past the reserve.
      await coins.getByTestId("distribute-rows").fill(`0x12345, 10\n${fanA.address}, 0\n${fanB.address}, 999999999`);
      expect(await coins.getByTestId("distribute-errors").innerText()).to.match(/row 1: "0x12345" is not an address/).and.to.match(/row 2: the amount must be more than 0/).and.to.match(/row 3: brings the total past the coins left in your reserve/);
      expect(await coins.getByTestId("distribute-submit").isDisabled()).to.equal(true);
      await coins.getByTestId("distribute-rows").fill(`address,amount\n${fanA.address}, 150\n${fanB.address}, 25.5`);
      const gas = coins.locator('[data-testid=distribute-gas][data-state="ready"]');
      await gas.waitFor({ timeout: 15_000 });
      expect(Number(await gas.getAttribute("data-gas"))).to.be.within(40_000, 200_000);
      expect(await gas.innerText()).to.match(/Estimated gas: ≈ [\d.]+ ETH \([\d,]+ gas at [\d.]+ gwei\)/);
      await s.page.screenshot({ path: join(SHOTS, "studio-tools-375.png"), fullPage: true });
      await coins.getByTestId("distribute-submit").click();
      await coins.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
      const after = await Promise.all([fanA, fanB].map((f) => pub().readContract({ address: coin, abi: coinAbi, functionName: "balanceOf", args: [f.address] })));
      expect([after[0]! - before[0]!, after[1]! - before[1]!]).to.deep.equal([parseEther("150"), parseEther("25.5")]);

      const drop = s.page.getByTestId("airdrop-passes");
      await drop.getByTestId("airdrop-rows").fill(`${fanA.address}\nnot-an-address`);
      expect(await drop.getByTestId("airdrop-errors").innerText()).to.match(/row 2: "not-an-address" is not an address/);
      await drop.getByTestId("airdrop-rows").fill(fanA.address);
      await drop.locator('[data-testid=airdrop-gas][data-state="ready"]').waitFor({ timeout: 15_000 });
      await drop.getByTestId("airdrop-submit").click();
      await drop.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
      expect(await pub().readContract({ address: pass, abi: passAbi, functionName: "balanceOf", args: [fanA.address] })).to.equal(passesBefore + 1n);
      expect(s.errors).to.deep.equal([]);

      const fan = await open(DEV_PRIVATE_KEYS[7] as `0x${string}`, 1280);
      await fan.page.goto(`${web.url}/creator/${stack.creator}`, { waitUntil: "networkidle" });
      await connect(fan);
      const holdings = fan.page.locator(`[data-testid=fan-holdings][data-coins="${after[0]}"]`);
      await holdings.waitFor({ timeout: 15_000 });
      expect(await holdings.getAttribute("data-passes")).to.equal(String(passesBefore + 1n));
      expect(await holdings.innerText()).to.match(new RegExp(`You hold ${Number(formatEther(after[0]!)).toLocaleString("en-US")} \\$NOVA and ${passesBefore + 1n} NOVAP pass`));
    });

    it("closes minting with its gas cost shown: the fan's mint button is disabled and the contract refuses a mint", async () => {
      const { pass } = await tokens();
      const s = await open(CREATOR_KEY, 1280);
      await s.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
      await connect(s);
      const mint = s.page.getByTestId("mint-settings");
      await mint.getByTestId("mint-state").filter({ hasText: "minting open" }).waitFor({ timeout: 30_000 });
      expect(await mint.getByTestId("mint-save").isDisabled()).to.equal(true); // nothing changed yet
      await mint.getByTestId("mint-price").fill("abc");
      await mint.locator(".field-error").filter({ hasText: "the price is a number of ETH" }).waitFor();
      await mint.getByTestId("mint-price").fill("0.02");
      await mint.getByTestId("mint-open").uncheck();
      await mint.locator('[data-testid=mint-gas][data-state="ready"]').waitFor({ timeout: 15_000 });
      await mint.getByTestId("mint-save").click();
      await mint.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
      const sale = await pub().readContract({ address: pass, abi: passAbi, functionName: "saleInfo" });
      expect([sale[2], sale[3]]).to.deep.equal([parseEther("0.02"), false]);
      await mint.getByTestId("mint-state").filter({ hasText: "minting closed" }).waitFor({ timeout: 15_000 });

      const fan = await open(DEV_PRIVATE_KEYS[8] as `0x${string}`, 1280);
      await fan.page.goto(`${web.url}/creator/${stack.creator}`, { waitUntil: "networkidle" });
      await connect(fan);
      const button = fan.page.getByTestId("mint-pass");
      await button.filter({ hasText: "Minting closed" }).waitFor({ timeout: 15_000 });
      expect(await button.isDisabled()).to.equal(true);
      const fanWallet = createWalletClient({ account: fanB, chain: foundry, transport: http(stack.anvil.rpcUrl) });
      let refused = "";
      await fanWallet.writeContract({ address: pass, abi: passAbi, functionName: "mint", args: [1n], value: parseEther("0.02") }).catch((e: Error) => (refused = e.message));
      expect(refused).to.match(/MintingDisabled/);
      // Open again for whatever runs after.
      await mint.getByTestId("mint-open").check();
      await mint.getByTestId("mint-save").click();
      await mint.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
      expect(s.errors).to.deep.equal([]);
    });
  });

  describe("releases: details at upload, edited later", () => {
    const coverWidth = (page: Page, selector: string) =>
      page.waitForFunction((sel) => {
        const img = document.querySelector<HTMLImageElement>(sel);
        return img !== null && img.complete && img.naturalWidth > 0 ? img.naturalWidth : false;
      }, selector, { timeout: 20_000 }).then((h) => h.jsonValue() as Promise<number>);
    type ManifestView = { tags: Record<string, unknown>; artwork: { size: number; pieceCid: string }[]; variants: unknown[]; editedFrom?: string };
    const manifestOf = async (id: string): Promise<{ cid: string; manifest: ManifestView }> => {
      const items = (await (await fetch(`${web.url}/api/catalog?creator=${privateKeyToAccount(CREATOR_KEY).address}`)).json()) as { items: { id: string; manifestCid: string }[] };
      const cid = items.items.find((i) => i.id === id)!.manifestCid;
      return { cid, manifest: (await (await fetch(`${web.url}/api/manifest/${cid}`)).json()) as ManifestView };
    };

    it("an untagged WAV uploaded with a title, artist, album, track, description, cover and preview start goes live under them; renamed later, the content page and the discover card show the new title", async () => {
      const s = await open(CREATOR_KEY, 1280);
      await s.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
      await connect(s);
      await s.page.getByTestId("studio").waitFor({ timeout: 30_000 });
      // Named "t" and without tags: with no details it would go live as "t".
      const take = join(stack.dir, "t.wav");
      await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=610:d=36:r=44100", "-ac", "2", "-map_metadata", "-1", "-fflags", "+bitexact", take]);
      const cover = join(stack.dir, "harbour-cover.png");
      await sharp({ create: { width: 800, height: 800, channels: 3, background: { r: 230, g: 140, b: 40 } } }).png().toFile(cover);

      await s.page.getByTestId("file-input").setInputFiles([take]);
      await s.page.getByTestId("release-title").fill("Harbour Lights");
      await s.page.getByTestId("release-artist").fill("Mara Quinn");
      await s.page.getByTestId("release-album").fill("Tides");
      await s.page.getByTestId("release-track").fill("3");
      await s.page.getByTestId("release-description").fill("Recorded on the pier at dawn.");
      await s.page.getByTestId("release-artwork").setInputFiles([cover]);
      await s.page.getByTestId("preview-start").fill("4");
      expect(await s.page.locator('input[name="minPasses"]').first().inputValue(), "passes that unlock start at 0").to.equal("0");
      await s.page.screenshot({ path: join(SHOTS, "studio-upload-details-1280.png"), fullPage: true });
      await s.page.getByTestId("upload-start").click();
      const row = s.page.getByTestId("release-row").filter({ has: s.page.getByRole("link", { name: "Harbour Lights", exact: true }) });
      await row.waitFor({ timeout: 180_000 });
      const id = (await row.getAttribute("data-content"))!;
      const jobId = await s.page.getByTestId("upload-file").filter({ hasText: "t.wav" }).getAttribute("data-job");
      const job = (await (await fetch(`${web.url}/api/upload/jobs/${jobId}`)).json()) as { job: { state: string; result: { manifestCid: string } } };
      expect(job.job.state, "registered with the edited manifest, accepted as the job's").to.equal("registered");
      expect(await row.getByTestId("item-price").innerText()).to.equal("0.002 ETH");
      const first = await manifestOf(id);
      expect(first.manifest.tags).to.include({ title: "Harbour Lights", artist: "Mara Quinn", album: "Tides", trackNumber: 3, description: "Recorded on the pier at dawn." });
      expect(first.manifest.editedFrom).to.equal(job.job.result.manifestCid);
      expect(first.manifest.artwork.map((a) => a.size)).to.deep.equal([600, 200]);
      const preview = (first.manifest.variants as { role: string; start?: number; duration: number }[]).find((v) => v.role === "preview")!;
      expect(preview.start, "the creator-chosen preview start").to.equal(4);
      expect(preview.duration).to.be.within(29, 30.1);

      await s.page.goto(`${web.url}/content/${id}`, { waitUntil: "load" }); // the creator's player keeps streaming
      expect(await s.page.getByTestId("content-title").innerText()).to.equal("Harbour Lights");
      expect(await s.page.getByTestId("content-album").innerText()).to.equal("Tides · track 3");
      expect(await s.page.getByTestId("content-description").innerText()).to.equal("Recorded on the pier at dawn.");
      expect(await coverWidth(s.page, ".content-head img.art")).to.equal(600);
      await s.page.screenshot({ path: join(SHOTS, "content-release-details-1280.png"), fullPage: true });

      // Rename: a new manifest over the same media pieces, put on chain by the creator's wallet.
      await s.page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
      const edited = s.page.locator(`[data-testid=release-row][data-content="${id}"]`);
      await edited.getByTestId("edit-details").click();
      expect(await edited.getByTestId("release-album").inputValue()).to.equal("Tides");
      await edited.getByTestId("release-title").fill("Harbour Lights (Dawn Mix)");
      await edited.getByTestId("release-description").fill("");
      await edited.getByTestId("save-details").click();
      await edited.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
      await s.page.getByTestId("release-row").filter({ has: s.page.getByRole("link", { name: "Harbour Lights (Dawn Mix)" }) }).waitFor({ timeout: 30_000 });
      const renamed = await manifestOf(id);
      expect(renamed.cid).not.to.equal(first.cid);
      expect(renamed.manifest.editedFrom).to.equal(first.cid);
      expect(renamed.manifest.tags).to.include({ title: "Harbour Lights (Dawn Mix)", album: "Tides", trackNumber: 3 });
      expect(renamed.manifest.tags).not.to.have.property("description");
      expect(renamed.manifest.variants, "nothing re-encoded").to.deep.equal(first.manifest.variants);
      expect(renamed.manifest.artwork).to.deep.equal(first.manifest.artwork);

      await s.page.goto(`${web.url}/content/${id}`, { waitUntil: "load" }); // the creator's player keeps streaming
      expect(await s.page.getByTestId("content-title").innerText()).to.equal("Harbour Lights (Dawn Mix)");
      expect(await s.page.getByTestId("content-description").count()).to.equal(0);
      // Discover: the card has the new title, the cover, and the release's terms.
      await s.page.goto(`${web.url}/`, { waitUntil: "networkidle" });
      const card = s.page.locator(`[data-testid=content-card][data-content="${id}"]`);
      expect(await card.getByTestId("card-title").innerText()).to.equal("Harbour Lights (Dawn Mix)");
      expect(await coverWidth(s.page, `[data-testid=content-card][data-content="${id}"] img.art`)).to.be.greaterThan(0);
      expect(await card.getByTestId("card-price").innerText()).to.match(/^premium 0\.002 ETH · 0:36$/i);
      expect(await card.getByTestId("card-access").innerText()).to.equal("unlocks with: 30-day pass 0.002 ETH · in the subscription");
      expect(await card.getByTestId("card-stream-price").innerText()).to.equal("not offered per minute");
      // The seeded track is priced per minute: its card says so.
      const seeded = s.page.locator(`[data-testid=content-card][data-content="${stack.track.contentId.toLowerCase()}"]`);
      expect(await seeded.getByTestId("card-stream-price").innerText()).to.equal("or 0.0001 ETH per minute");
      await s.page.screenshot({ path: join(SHOTS, "discover-release-terms-1280.png"), fullPage: true });
      expect(s.errors.filter((e) => !/status of 4\d\d/.test(e))).to.deep.equal([]);
    });
  });

  describe("the player that stays (mini player)", () => {
    const mini = () => "[data-testid=mini-media]";
    /** The mini player's media element state, and whether it is the element marked at the start. */
    const miniState = (page: Page) =>
      page.evaluate((sel) => {
        const m = document.querySelector<HTMLMediaElement & { __svMark?: string }>(sel);
        return { same: m?.__svMark === "first", time: m?.currentTime ?? -1, paused: m?.paused ?? true, count: document.querySelectorAll(sel).length };
      }, mini());
    const miniPlaysPast = (page: Page, seconds: number) =>
      page.waitForFunction(([sel, t]) => {
        const m = document.querySelector<HTMLMediaElement>(sel as string);
        return m !== null && !m.paused && m.currentTime > (t as number);
      }, [mini(), seconds] as const, { timeout: 30_000 });

    it("a card's play button starts the mini player, which keeps playing (same element, time increasing) across client-side navigation; queue, keyboard, media session, and the content page's player take turns", async () => {
      const free = stack.free!;
      const s = await open(DEV_PRIVATE_KEYS[7] as `0x${string}`, 1280);
      await s.page.goto(web.url, { waitUntil: "networkidle" });
      // A full reload would reset this; client-side navigation keeps it.
      await s.page.evaluate(() => ((window as unknown as { __svNoReload: boolean }).__svNoReload = true));
      const card = s.page.locator(`[data-testid=content-card][data-content="${free.contentId}"]`);
      await card.getByTestId("play-button").click();
      await s.page.getByTestId("mini-title").filter({ hasText: free.title }).waitFor({ timeout: 15_000 });
      await miniPlaysPast(s.page, 0.5);
      await s.page.evaluate((sel) => ((document.querySelector(sel) as HTMLMediaElement & { __svMark?: string }).__svMark = "first"), mini());
      // The free tier plays in full: the whole 45 s, not a 30 s preview.
      await s.page.waitForFunction((sel) => (document.querySelector<HTMLMediaElement>(sel)?.duration ?? 0) > 40, mini(), { timeout: 15_000 });
      expect(await s.page.getByTestId("mini-mode").innerText()).to.match(/Full track/);
      expect(await s.page.evaluate(() => navigator.mediaSession.metadata?.title)).to.equal(free.title);
      await s.page.screenshot({ path: join(SHOTS, "mini-player-discover-1280.png") });

      let last = (await miniState(s.page)).time;
      for (const link of ["Library", "Studio"]) {
        await s.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: link }).click();
        await s.page.waitForURL(new RegExp(`/${link.toLowerCase()}$`));
        await s.page.locator("h1").first().waitFor();
        await miniPlaysPast(s.page, last + 1);
        const now = await miniState(s.page);
        expect(now.same, `the mini player's element was replaced on ${link}`).to.equal(true);
        expect(now.count).to.equal(1);
        expect(now.time).to.be.greaterThan(last);
        expect(await s.page.getByTestId("mini-title").innerText()).to.equal(free.title);
        last = now.time;
      }
      expect(await s.page.evaluate(() => (window as unknown as { __svNoReload?: boolean }).__svNoReload)).to.equal(true);

      // Space pauses and resumes (focus not in a field); typing a space in a field does not.
      await s.page.locator("body").click({ position: { x: 5, y: 400 } });
      await s.page.keyboard.press("Space");
      await s.page.waitForFunction((sel) => document.querySelector<HTMLMediaElement>(sel)!.paused, mini());
      await s.page.keyboard.press("Space");
      await miniPlaysPast(s.page, last);

      // The title links to the item's page: the page's own player mounts without pausing the mini player,
      // and is the page's one data-testid=media element.
      await s.page.getByTestId("mini-title").click();
      await s.page.waitForURL(/\/content\//);
      await s.page.getByTestId("player").waitFor();
      expect(await s.page.getByTestId("media").count()).to.equal(1);
      await s.page.waitForTimeout(1500);
      expect((await miniState(s.page)).paused, "the content page paused the mini player by mounting").to.equal(false);
      // Playing the page's player pauses the mini player; playing the mini player again pauses the page's.
      await s.page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.readyState ?? 0) >= 1, undefined, { timeout: 15_000 });
      await s.page.getByTestId("media").evaluate((m: HTMLMediaElement) => m.play());
      await s.page.waitForFunction((sel) => document.querySelector<HTMLMediaElement>(sel)!.paused, mini());
      await s.page.getByTestId("mini-toggle").click();
      await miniPlaysPast(s.page, 0);
      await s.page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.paused);
      await s.page.screenshot({ path: join(SHOTS, "mini-player-content-1280.png") });

      // The queue is Discover's list: next plays the item after the free track there, in full where it is
      // clear (the standard stream given away), else its preview (no wallet here).
      const order = await (await fetch(`${web.url}/api/catalog`)).json() as { items: { id: string; title: string }[] };
      const after = order.items[order.items.findIndex((i) => i.id === free.contentId) + 1]!;
      await s.page.getByTestId("mini-next").click();
      await s.page.getByTestId("mini-title").filter({ hasText: after.title }).waitFor({ timeout: 15_000 });
      await miniPlaysPast(s.page, 0.5);
      expect(await s.page.getByTestId("mini-mode").innerText()).to.match(after.id === stack.freeStandard!.contentId ? /Full track$/ : /Preview/);
      expect(await s.page.evaluate(() => navigator.mediaSession.metadata?.title)).to.equal(after.title);
      // Previous past the first 3 s restarts the track; within them, goes back one in the queue.
      await s.page.evaluate((sel) => void (document.querySelector<HTMLMediaElement>(sel)!.currentTime = 8), mini());
      await miniPlaysPast(s.page, 8);
      await s.page.getByTestId("mini-previous").click();
      await s.page.waitForFunction((sel) => document.querySelector<HTMLMediaElement>(sel)!.currentTime < 3, mini());
      expect(await s.page.getByTestId("mini-title").innerText()).to.equal(after.title);
      await s.page.getByTestId("mini-previous").click();
      await s.page.getByTestId("mini-title").filter({ hasText: free.title }).waitFor({ timeout: 15_000 });
      await miniPlaysPast(s.page, 0.5);
      expect(s.errors).to.deep.equal([]);

      // Phone width: the bar fits (no sideways scrolling).
      await s.page.setViewportSize({ width: 375, height: 812 });
      expect(await s.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
      await s.page.screenshot({ path: join(SHOTS, "mini-player-content-375.png") });
    });

    it("the library lists every item the wallet can open (free and bought) with play buttons, plays a bought one in full, and links each purchase's receipt to its transaction", async () => {
      const key = DEV_PRIVATE_KEYS[8] as `0x${string}`;
      const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
      const buyer = createWalletClient({ account: privateKeyToAccount(key), chain: foundry, transport: http(stack.anvil.rpcUrl) });
      const access = contractOf(stack.deployment, "ContentAccess");
      const [, price, , version] = await pub.readContract({ address: access.address, abi: access.abi, functionName: "purchaseTerms", args: [stack.track.contentId] });
      const tx = await buyer.writeContract({ address: access.address, abi: access.abi, functionName: "purchaseAccess", args: [stack.track.contentId, version], value: price });
      expect((await pub.waitForTransactionReceipt({ hash: tx })).status).to.equal("success");

      const s = await open(key, 1280);
      await s.page.goto(`${web.url}/library`, { waitUntil: "networkidle" });
      await connect(s);
      const list = s.page.getByTestId("library");
      await list.locator(`[data-testid=library-item][data-content="${stack.track.contentId}"]`).waitFor({ timeout: 20_000 });
      const reasons = await list.getByTestId("library-item").evaluateAll((rows) => Object.fromEntries(rows.map((r) => [r.getAttribute("data-content"), r.getAttribute("data-reason")])));
      expect(reasons).to.deep.equal({ [stack.free!.contentId]: "free", [stack.track.contentId]: "purchase" });
      expect(await list.getByTestId("play-button").count()).to.equal(2);

      // The receipt: date, amount, and the transaction hash linked to the explorer.
      const receipt = s.page.locator(`[data-testid=receipt][data-content="${stack.track.contentId}"]`);
      await receipt.waitFor({ timeout: 15_000 });
      expect(await receipt.innerText()).to.contain(stack.track.title).and.to.match(/0\.002 ETH/).and.to.match(/UTC/);
      expect(await receipt.getByTestId("receipt-tx").getAttribute("href")).to.equal(`${EXPLORER}/tx/${tx}`);
      const api = (await (await fetch(`${web.url}/api/receipts/${buyer.account.address}`)).json()) as { receipts: { tx: string; amount: string; kind: string }[] };
      expect(api.receipts).to.deep.equal([{ ...api.receipts[0], kind: "purchase", tx, amount: String(price) }]);
      expect((await fetch(`${web.url}/api/receipts/not-an-address`)).status).to.equal(400);

      // Play the bought item from its row: the full track, decrypted (past the 30 s preview's end).
      await list.locator(`[data-testid=library-item][data-content="${stack.track.contentId}"]`).getByTestId("play-button").click();
      await s.page.getByTestId("mini-title").filter({ hasText: stack.track.title }).waitFor({ timeout: 15_000 });
      await miniPlaysPast(s.page, 0.5);
      expect(await s.page.getByTestId("mini-mode").innerText()).to.match(/Full track, decrypted in your browser/);
      await s.page.waitForFunction((sel) => (document.querySelector<HTMLMediaElement>(sel)?.duration ?? 0) > 70, mini(), { timeout: 15_000 });
      await s.page.evaluate((sel) => void (document.querySelector<HTMLMediaElement>(sel)!.currentTime = 40), mini());
      await miniPlaysPast(s.page, 41);
      await s.page.screenshot({ path: join(SHOTS, "library-player-1280.png"), fullPage: true });
      await s.page.setViewportSize({ width: 375, height: 812 });
      expect(await s.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
      await s.page.screenshot({ path: join(SHOTS, "library-player-375.png"), fullPage: true });
      expect(s.errors).to.deep.equal([]);
    });
  });
  describe("albums: one release of several tracks", () => {
    const mini = "[data-testid=mini-media]";
    const miniDuration = (page: Page) => page.evaluate((sel) => document.querySelector<HTMLMediaElement>(sel)?.duration ?? 0, mini);
    const miniPlays = (page: Page) =>
      page.waitForFunction((sel) => {
        const m = document.querySelector<HTMLMediaElement>(sel);
        return m !== null && !m.paused && m.currentTime > 0.5 && Number.isFinite(m.duration);
      }, mini, { timeout: 30_000 });

    it("the album page lists its tracks; without access each track plays only its 30 s preview (no key asked for); Discover shows Album · 2 tracks", async () => {
      const album = stack.album!;
      const s = await open(generatePrivateKey(), 1280);
      const hls: string[] = [];
      s.page.on("request", (r) => {
        const u = new URL(r.url());
        if (u.pathname.startsWith("/api/hls/") || u.pathname.startsWith("/api/keys/")) hls.push(u.pathname.split("/").slice(-2).join("/"));
      });
      await s.page.goto(web.url, { waitUntil: "networkidle" });
      const card = s.page.locator(`[data-testid=content-card][data-content="${album.contentId}"]`);
      expect(await card.getByTestId("card-album").innerText()).to.equal("Album · 2 tracks");
      expect(await card.getByTestId("card-stream-price").innerText()).to.equal("one price for every track");
      await s.page.screenshot({ path: join(SHOTS, "album-discover-1280.png"), fullPage: true });
      await s.page.goto(`${web.url}/content/${album.contentId}`, { waitUntil: "networkidle" });
      expect(await s.page.getByTestId("content-title").innerText()).to.equal("Night Drive");
      const rows = s.page.getByTestId("album-track");
      expect(await rows.count()).to.equal(2);
      expect((await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim())).to.deep.equal(["1 Dusk 0:36", "2 Neon Rain 0:34"]);
      expect(await s.page.getByTestId("album-access").innerText()).to.match(/30-second preview/);
      // the album is bought whole: no per-minute offer, and the page's own player is the track list
      expect(await s.page.getByTestId("player").count()).to.equal(0);
      await s.page.screenshot({ path: join(SHOTS, "album-page-no-access-1280.png"), fullPage: true });

      await rows.nth(1).getByTestId("play-button").click();
      await s.page.getByTestId("mini-title").filter({ hasText: "Neon Rain" }).waitFor({ timeout: 15_000 });
      await miniPlays(s.page);
      expect(await s.page.getByTestId("mini-mode").innerText()).to.match(/Track 2 of Night Drive · Preview/);
      expect(await miniDuration(s.page)).to.be.closeTo(30, 1);
      expect(hls.filter((p) => p.endsWith(".m3u8"))).to.deep.equal([`${album.manifestCid}/t2-preview.m3u8`]);
      expect(hls.filter((p) => p.includes("keys"))).to.deep.equal([]);
      expect(s.errors).to.deep.equal([]);
    });

    it("album bought once unlocks every track: Play all plays track 1 in full, then the player advances to track 2, in full", async () => {
      const album = stack.album!;
      const key = generatePrivateKey();
      await fetch(stack.anvil.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_setBalance", params: [privateKeyToAccount(key).address, toHex(parseEther("10"))] }) });
      const s = await open(key, 1280);
      const played: string[] = [];
      s.page.on("request", (r) => {
        const u = new URL(r.url());
        if (u.pathname.endsWith(".m3u8")) played.push(u.pathname.split("/").pop()!);
      });
      await s.page.goto(`${web.url}/content/${album.contentId}`, { waitUntil: "networkidle" });
      await connect(s);
      await s.page.getByTestId("buy-pass").click();
      await s.page.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
      await s.page.locator('[data-testid=access-status][data-reason="purchase"]').waitFor({ timeout: 15_000 });
      await s.page.getByTestId("album-access").filter({ hasText: /every track plays in full/ }).waitFor({ timeout: 15_000 });
      // one purchase on chain, of the album's one content id
      const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
      const access = contractOf(stack.deployment, "ContentAccess");
      const [reason] = await pub.readContract({ address: access.address, abi: access.abi, functionName: "accessOf", args: [privateKeyToAccount(key).address, album.contentId] });
      expect(reason).to.not.equal(0);

      await s.page.getByTestId("album-play-all").click();
      await s.page.getByTestId("mini-title").filter({ hasText: "Dusk" }).waitFor({ timeout: 15_000 });
      await miniPlays(s.page);
      expect(await s.page.getByTestId("mini-mode").innerText()).to.match(/Track 1 of Night Drive · Full track, decrypted in your browser/);
      expect(await miniDuration(s.page)).to.be.closeTo(36, 1);
      await s.page.screenshot({ path: join(SHOTS, "album-page-owned-1280.png"), fullPage: true });
      // past the preview's end, then to the end of track 1: the queue moves on to track 2 by itself
      await s.page.evaluate((sel) => void (document.querySelector<HTMLMediaElement>(sel)!.currentTime = 33.5), mini);
      await s.page.getByTestId("mini-title").filter({ hasText: "Neon Rain" }).waitFor({ timeout: 30_000 });
      await miniPlays(s.page);
      expect(await s.page.getByTestId("mini-mode").innerText()).to.match(/Track 2 of Night Drive · Full track, decrypted in your browser/);
      expect(await miniDuration(s.page)).to.be.closeTo(34, 1);
      await s.page.evaluate((sel) => void (document.querySelector<HTMLMediaElement>(sel)!.currentTime = 31), mini);
      await s.page.waitForFunction((sel) => document.querySelector<HTMLMediaElement>(sel)!.currentTime > 31.5, mini, { timeout: 30_000 });
      expect(await s.page.locator("[data-testid=album-track].current").getAttribute("data-track")).to.equal("2");
      // each track played its own full variants, never another track's, never a preview
      expect(played.length).to.be.greaterThan(1);
      for (const p of played) expect(p).to.match(/^t[12]-(high|standard)\.m3u8$/);
      expect(played.some((p) => p.startsWith("t1-")) && played.some((p) => p.startsWith("t2-"))).to.equal(true);
      await s.page.setViewportSize({ width: 375, height: 812 });
      expect(await s.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
      await s.page.screenshot({ path: join(SHOTS, "album-page-owned-375.png"), fullPage: true });
      expect(s.errors).to.deep.equal([]);
    });
  });
});
