/**
 * An album streamed pay-per-minute on ONE payment channel (issue 15): the creator prices the album
 * per minute; the fan's album page offers it; opening the channel starts the album in the app-wide
 * player, and each track asks for the minute keys of its own segments on the album's timeline
 * (track 2 starts at 0:36, inside minute 0), so the channel pays each minute window of the album
 * once across tracks: track 1 then track 2 (70 s in all) = minutes 0 and 1, two vouchers (1 x and
 * 2 x the rate); closing it drops the track to its preview. The studio's streams row shows the 2 minutes. Real parts: anvil, the production
 * Next build with its key-release routes, Chromium with the injected wallet.
 */
import { expect } from "chai";
import { join } from "node:path";
import { createWalletClient, http, parseEther, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { contractOf } from "@streamvault/lib/deployments";
import { CREATOR_KEY, STREAM_RATE, type Stack } from "./stack.ts";
import type { WebServer } from "./server.ts";
import { openWithWallet, startWebSuite, SHOTS, type WebSuite } from "./session.ts";
import type { Browser, Page } from "./pw.ts";

const ZERO = "0x0000000000000000000000000000000000000000" as const;

describe("web: an album streamed pay-per-minute on one channel", function () {
  this.timeout(300_000);
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  const pages: Page[] = [];

  let suite: WebSuite | undefined;

  before(async () => {
    suite = await startWebSuite({
      stack: { album: true },
      // The creator offers the album per minute (the seeded album is sold whole only).
      beforeWeb: async (s) => {
        const creator = createWalletClient({ account: privateKeyToAccount(CREATOR_KEY), chain: foundry, transport: http(s.anvil.rpcUrl) });
        const channels = contractOf(s.deployment, "PaymentChannels");
        await creator.writeContract({ address: channels.address, abi: channels.abi, functionName: "setStreamPrice", args: [s.album!.contentId, ZERO, STREAM_RATE] });
      },
    });
    ({ stack, web, browser } = suite);
  });

  afterEach(async function () {
    const last = pages[pages.length - 1];
    if (this.currentTest?.state === "failed" && last) {
      await last.screenshot({ path: join(SHOTS, "FAILED-album-stream.png"), fullPage: true }).catch(() => {});
      console.log(`    page text: ${(await last.locator("main").innerText().catch(() => "")).slice(0, 2500)}\n    web log: ${web.logs.join("").slice(-2000)}`);
    }
  });

  after(() => suite?.stop());

  const open = (key: Hex, path: string) => openWithWallet(browser, { key, rpcUrl: stack.anvil.rpcUrl, webUrl: web.url, path, width: 1280 }).then((s) => (pages.push(s.page), s));

  const mini = "[data-testid=mini-media]";
  const playingPast = (page: Page, seconds: number) =>
    page.waitForFunction(([sel, s]) => {
      const m = document.querySelector<HTMLMediaElement>(sel as string);
      return m !== null && !m.paused && m.currentTime > (s as number);
    }, [mini, seconds] as const, { timeout: 30_000 });

  it("one channel for the album: track 1 then track 2 ask for minutes 0 and 1 of the album's timeline, one voucher each; the studio shows 2 minutes", async () => {
    const album = stack.album!;
    const fanKey = generatePrivateKey();
    const fanAddress = privateKeyToAccount(fanKey).address;
    await fetch(stack.anvil.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_setBalance", params: [fanAddress, toHex(parseEther("10"))] }) });

    // Discover says the album streams per minute too.
    const { page, errors } = await open(fanKey, "/");
    expect(await page.locator(`[data-testid=content-card][data-content="${album.contentId}"]`).getByTestId("card-stream-price").innerText()).to.equal("or 0.0001 ETH per minute");

    const asks: { minute: number; variants: string[]; cumulativeAmount: string }[] = [];
    const keyPaths: string[] = [];
    page.on("request", (r) => {
      const path = new URL(r.url()).pathname;
      if (!path.startsWith("/api/keys/")) return;
      keyPaths.push(path);
      if (path.endsWith("/stream")) asks.push(JSON.parse(r.postData() ?? "{}"));
    });
    await page.goto(`${web.url}/content/${album.contentId}`, { waitUntil: "networkidle" });
    await page.getByTestId("stream-price").filter({ hasText: "0.0001 ETH per minute" }).waitFor({ timeout: 15_000 });
    await page.getByTestId("stream-open").click();
    const meter = page.getByTestId("stream-meter");

    // Opening the channel starts the album: track 1 in full on minute 0's keys (which also hold track 2's start).
    await page.getByTestId("mini-title").filter({ hasText: "Dusk" }).waitFor({ timeout: 30_000 });
    await playingPast(page, 0.5);
    await page.getByTestId("mini-mode").filter({ hasText: /Track 1 of Night Drive · Full track, paid per minute, decrypted in your browser/ }).waitFor({ timeout: 15_000 });
    await meter.filter({ hasText: /1 minute .*spent 0\.0001 ETH.*streaming/ }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("album-access").innerText()).to.match(/Streaming on your pay-per-minute channel/);
    expect(await page.getByTestId("access-status").innerText()).to.match(/Streaming pay per minute/);
    await page.screenshot({ path: join(SHOTS, "album-pay-per-minute-1280.png"), fullPage: true });

    // Track 2 (0:36-1:10 on the album's timeline): its first segments are in minute 0 (already paid),
    // its last in minute 1, asked for (and paid by a second voucher) as playback nears it.
    await page.getByTestId("album-track").nth(1).getByTestId("play-button").click();
    await page.getByTestId("mini-title").filter({ hasText: "Neon Rain" }).waitFor({ timeout: 15_000 });
    await playingPast(page, 0.5);
    await page.getByTestId("mini-mode").filter({ hasText: /Track 2 of Night Drive · Full track, paid per minute/ }).waitFor({ timeout: 15_000 });
    await page.evaluate((sel) => void (document.querySelector<HTMLMediaElement>(sel)!.currentTime = 28), mini);
    await meter.filter({ hasText: /2 minutes .*spent 0\.0002 ETH/ }).waitFor({ timeout: 30_000 });
    await playingPast(page, 31); // minute 1's segment decrypted and playing
    expect(await page.getByTestId("mini-error").count()).to.equal(0);

    // One request per minute window of the album, each voucher paying for the minutes received so far.
    expect(keyPaths.every((p) => p === `/api/keys/${album.contentId}/stream`), keyPaths.join(",")).to.equal(true);
    expect(asks.map((a) => [a.minute, a.cumulativeAmount])).to.deep.equal([[0, STREAM_RATE.toString()], [1, (2n * STREAM_RATE).toString()]]);
    // Minute 0 covers the end of track 1 and the start of track 2; minute 1 only track 2.
    expect(asks[0]!.variants.slice().sort()).to.deep.equal(["t1-high", "t1-standard", "t2-high", "t2-standard"]);
    expect(asks[1]!.variants.slice().sort()).to.deep.equal(["t2-high", "t2-standard"]);
    const channelId = /Channel #(\d+)/.exec(await meter.innerText())![1]!;
    // Stop and close: nothing more is paid, the track playing goes back to its preview.
    await page.getByTestId("stream-close").click();
    await page.locator('[data-testid=tx-status][data-state="confirmed"]').filter({ hasText: /Close/ }).waitFor({ timeout: 30_000 });
    await page.getByTestId("mini-mode").filter({ hasText: /Track 2 of Night Drive · Preview \(30 s\)/ }).waitFor({ timeout: 15_000 });
    expect(asks).to.have.length(2);
    expect(errors).to.deep.equal([]);

    // The creator's studio: the album's channel, 2 minutes at the rate, the latest voucher.
    const studio = await open(CREATOR_KEY, "/studio");
    const row = studio.page.locator(`[data-testid=stream-row][data-channel="${channelId}"]`);
    await row.getByTestId("stream-voucher").filter({ hasText: "0.0002 ETH" }).waitFor({ timeout: 20_000 });
    expect(await row.innerText()).to.match(/Night Drive/).and.to.match(/2 × 0\.0001 ETH/);
    await row.scrollIntoViewIfNeeded();
    await studio.page.screenshot({ path: join(SHOTS, "studio-album-stream-1280.png"), fullPage: true });
  });
});
