/**
 * The SDK on another site: examples/embed (its own page, origin and wagmi config, bundled with
 * esbuild) embeds <StreamPlayer>, <UnlockButton>, <PaymentWidget> and <CreatorDashboard> against
 * the web test stack (test/web/stack.ts: anvil + contracts + a premium track through the real
 * pipeline), `next start` with SDK_ORIGINS naming the example's origin, and the real indexer.
 * In Chromium with the injected test wallet the fan hears the preview, buys access through the
 * SDK, signs in across origins and plays the gated track decrypted; the creator's dashboard on the
 * page picks the sale up from the indexer's live query without a reload.
 */
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@streamvault/lib/chain/anvil.ts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { startStack, FAN_KEY, TRACK_PRICE, type Stack } from "../web/stack.ts";
import { ensureBuild, playwright, startWeb, type WebServer } from "../web/server.ts";
import { installWallet, type TestWallet } from "../web/wallet.ts";
import type { Browser, Page } from "../web/pw.ts";
import { startIndexer, type IndexerProcess } from "../indexer/harness.ts";
import { startEmbedExample } from "../../examples/embed/serve.ts";

const SHOTS = join(REPO_ROOT, "test-results", "sdk");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("SDK embedded in a third-party page (examples/embed, chromium)", function () {
  this.timeout(420_000);
  let stack: Stack;
  let indexer: IndexerProcess;
  let web: WebServer;
  let site: { url: string; close(): Promise<void> };
  let browser: Browser;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const [s] = await Promise.all([startStack(), ensureBuild()]);
    stack = s;
    // The SDK's live dashboard reads /sql/live, off on PGlite unless asked.
    indexer = await startIndexer({ rpcUrl: stack.anvil.rpcUrl, deploymentsDir: stack.env.DEPLOYMENTS_DIR!, env: { INDEXER_SQL: "on" } });
    await indexer.waitReady(120_000);
    // The example's origin must be known to the web app before it starts (SDK_ORIGINS).
    const sitePort = await freePort();
    const siteOrigin = `http://127.0.0.1:${sitePort}`;
    web = await startWeb({ ...stack.env, INDEXER_URL: indexer.url, SDK_ORIGINS: siteOrigin });
    site = await startEmbedExample({
      port: sitePort,
      apiBase: web.url,
      rpcUrl: stack.anvil.rpcUrl,
      indexerUrl: indexer.url,
      deployment: stack.deployment,
      contentId: stack.track.contentId,
      creator: stack.creator,
    });
    expect(site.url).to.equal(siteOrigin);
    browser = await playwright().chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio",
      ],
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await site?.close();
    await web?.stop();
    await indexer?.stop();
    await stack?.stop();
  });

  it("answers CORS preflights for the listed origin only, and key release refuses other origins", async () => {
    const preflight = (origin: string) =>
      fetch(`${web.url}/api/auth/verify`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    const ok = await preflight(site.url);
    expect(ok.status).to.equal(204);
    expect(ok.headers.get("access-control-allow-origin")).to.equal(site.url);
    expect(ok.headers.get("access-control-allow-credentials")).to.equal("true");
    const other = await preflight("http://127.0.0.1:9");
    expect(other.headers.get("access-control-allow-origin")).to.equal(null);
    const refused = await fetch(`${web.url}/api/auth/verify`, {
      method: "POST",
      headers: { origin: "http://127.0.0.1:9", "content-type": "application/json" },
      body: JSON.stringify({ message: "x", signature: "0x" }),
    });
    expect(refused.status).to.equal(403);
    expect(((await refused.json()) as { error: string }).error).to.equal("bad_origin");
  });

  it("plays the preview, buys access through the SDK, plays the gated track decrypted; the live dashboard shows the sale", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const page: Page = await context.newPage();
    const pageErrors: string[] = [];
    const offsite: string[] = [];
    const origins = new Set<string>();
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.protocol.startsWith("http")) {
        origins.add(u.origin);
        if (u.hostname !== "127.0.0.1") offsite.push(r.url());
      }
    });
    const wallet: TestWallet = await installWallet(page, FAN_KEY, stack.anvil.rpcUrl);
    await page.addInitScript(() => {
      Object.defineProperty(navigator, "connection", { configurable: true, value: { effectiveType: "4g", downlink: 20, saveData: false } });
    });
    try {
      await page.goto(site.url, { waitUntil: "networkidle" });
      // Before connecting: the preview plays for anyone.
      await page.locator('[data-testid=player][data-mode="preview"]').waitFor({ timeout: 30_000 });
      await page.getByTestId("embed-connect").filter({ hasText: "StreamVault Test Wallet" }).click();
      await page.getByTestId("embed-wallet").waitFor({ timeout: 15_000 });
      await page.locator('[data-testid=access-status][data-reason="none"]').waitFor({ timeout: 15_000 });
      expect(await page.getByTestId("play-full").count()).to.equal(0);
      await page.evaluate(() => {
        const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
        m.muted = true;
        return m.play();
      });
      await page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime > 1, undefined, { timeout: 30_000 });
      expect(await page.getByTestId("player-label").innerText()).to.match(/^Preview/);
      // The dashboard is live before the sale: no earnings yet.
      await page.locator('[data-testid=dashboard-earnings][data-creator-share="0"]').waitFor({ timeout: 30_000 });
      const updatesBefore = Number(await page.getByTestId("creator-dashboard").getAttribute("data-updates"));
      await page.screenshot({ path: join(SHOTS, "embed-preview-1280.png"), fullPage: true });

      // Buy through the SDK's UnlockButton (purchaseAccess at the live terms).
      const button = page.getByTestId("unlock-button");
      expect(await button.innerText()).to.match(/Unlock for 0\.002 ETH/);
      await button.click();
      await page.locator('[data-testid=unlock-state][data-reason="purchase"]').waitFor({ timeout: 45_000 });
      await page.locator('[data-testid=access-status][data-reason="purchase"]').waitFor({ timeout: 15_000 });
      expect(wallet.calls).to.include("eth_sendTransaction");

      // The player sees the access itself (accessOf) and plays the full track: SIWE sign-in and the
      // key request go to the web app's origin with the session cookie.
      // A player that already held the session switches to the full track by itself once access
      // shows; otherwise it offers "play full". Either way it ends on the full track.
      const full = page.locator('[data-testid=player][data-mode="full"]');
      const offered = await Promise.race([
        page.getByTestId("play-full").waitFor({ timeout: 30_000 }).then(() => true),
        full.waitFor({ timeout: 30_000 }).then(() => false),
      ]);
      if (offered && (await full.count()) === 0) await page.getByTestId("play-full").click({ timeout: 20_000 }).catch(async (error: unknown) => {
        if ((await full.count()) === 0) throw error; // it switched by itself meanwhile
      });
      await full.waitFor({ timeout: 30_000 });
      expect(wallet.calls).to.include("personal_sign");
      await page.waitForFunction(() => {
        const m = document.querySelector<HTMLMediaElement>("[data-testid=media]");
        return m !== null && m.duration > 55;
      }, undefined, { timeout: 30_000 });
      await page.evaluate(() => {
        const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
        m.muted = true;
        m.currentTime = 40; // past the 30 s preview: only the decrypted full stream has these seconds
        return m.play();
      });
      await page.waitForFunction(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.currentTime > 41.5, undefined, { timeout: 30_000 });
      expect(await page.getByTestId("player-label").innerText()).to.match(/decrypted in your browser/);
      expect(await page.getByTestId("player-error").count()).to.equal(0);

      // The indexer pushes the sale to the open page (SSE): the creator's share of 0.002 ETH.
      await page.waitForFunction(() => document.querySelector("[data-testid=dashboard-earnings]")?.getAttribute("data-creator-share") !== "0", undefined, { timeout: 60_000 });
      const share = BigInt((await page.getByTestId("dashboard-earnings").getAttribute("data-creator-share"))!);
      expect(share > 0n && share <= TRACK_PRICE, `creator share ${share}`).to.equal(true);
      expect(Number(await page.getByTestId("creator-dashboard").getAttribute("data-updates"))).to.be.greaterThan(updatesBefore);
      expect((await page.getByTestId("dashboard-sales").innerText()).toLowerCase()).to.include(wallet.address.slice(0, 6).toLowerCase());
      // Plays come from the web app's counts (re-read every 15 s): the key release above is one.
      await page.waitForFunction(() => Number(document.querySelector("[data-testid=dashboard-plays]")?.getAttribute("data-plays")) >= 1, undefined, { timeout: 60_000 });
      await page.screenshot({ path: join(SHOTS, "embed-playing-1280.png"), fullPage: true });
      await page.setViewportSize({ width: 375, height: 812 });
      await page.screenshot({ path: join(SHOTS, "embed-playing-375.png"), fullPage: true });

      // The page is its own site: it talked to itself, the web app, the chain and the indexer only.
      expect([...origins].sort()).to.deep.equal([site.url, web.url, stack.anvil.rpcUrl.replace(/\/$/, ""), indexer.url].map((u) => new URL(u).origin).sort());
      expect(offsite).to.deep.equal([]);
      expect(pageErrors).to.deep.equal([]);
    } catch (error) {
      await page.screenshot({ path: join(SHOTS, "FAILED-embed.png"), fullPage: true }).catch(() => {});
      console.log(`    wallet calls: ${wallet.calls.join(",")}\n    page errors: ${JSON.stringify(pageErrors)}\n    page text: ${(await page.locator("body").innerText().catch(() => "")).slice(0, 2000)}`);
      console.log(`    web logs: ${web.logs.join("").slice(-2000)}`);
      throw error;
    } finally {
      await context.close();
    }
  });
});
