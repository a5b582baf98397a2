/**
 * Browser tests of the web app: a production build served by `next start` against a fresh local
 * stack (anvil + deployed contracts + one premium track through the real pipeline), driven by
 * Debian's chromium through playwright-core with an injected EIP-6963 test wallet.
 */
import { expect } from "chai";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSiweMessage } from "viem/siwe";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createPublicClient, createWalletClient, http, keccak256, toHex } from "viem";
import { foundry } from "viem/chains";
import { contractOf } from "../../lib/deployments/index.ts";
import { toBytesHex } from "../../web/components/piece-cid.ts";
import { startStack, CREATOR_KEY, FAN_KEY, NEW_CREATOR_KEY, STREAMER_KEY, TRACK_PRICE, type Stack } from "./stack.ts";
import { runFfmpeg } from "../../lib/media/ffmpeg.ts";
import { ensureBuild, playwright, startWeb, type WebServer } from "./server.ts";
import { installWallet, type TestWallet } from "./wallet.ts";
import type { Browser, BrowserContext, Page } from "./pw.ts";
import { REPO_ROOT } from "../../lib/deployments/artifacts.ts";
import { DEV_PRIVATE_KEYS } from "../../lib/deployments/dev-accounts.ts";

const SHOTS = join(REPO_ROOT, "test-results", "web");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

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

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const [s] = await Promise.all([startStack(), ensureBuild()]);
    stack = s;
    web = await startWeb(stack.env);
    browser = await playwright().chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio",
      ],
    });
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
    await browser?.close().catch(() => {});
    await web?.stop();
    await stack?.stop();
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
      for (const [name, path] of [["discover", "/"], ["content", `/content/${stack.track.contentId}`], ["library", "/library"], ["studio", "/studio"]] as const) {
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
    await s.page.getByTestId("play-full").click();
    await s.page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 30_000 });
    expect(await s.page.getByTestId("player").getAttribute("data-variant")).to.equal("high");
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
    const err = await s.page.getByTestId("player-error").count();
    expect(err).to.equal(0);
    await s.page.screenshot({ path: join(SHOTS, "content-playing-1280.png"), fullPage: true });

    await s.page.goto(`${web.url}/library`, { waitUntil: "networkidle" });
    await s.page.getByTestId("library").getByText(stack.track.title).waitFor({ timeout: 15_000 });
    expect(await s.page.getByTestId("library").innerText()).to.match(/30-day pass/);
    expect(s.errors).to.deep.equal([]);
    void TRACK_PRICE;
  });

  it("mints a creator's pass on the creator page, which unlocks the item while held", async () => {
    const s = await open(DEV_PRIVATE_KEYS[5] as `0x${string}`, 1280);
    await s.page.goto(`${web.url}/creator/${stack.creator}`, { waitUntil: "networkidle" });
    await connect(s);
    await s.page.getByTestId("mint-pass").click();
    await s.page.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
    await s.page.getByText("you hold 1").waitFor();
    await s.page.goto(contentUrl(), { waitUntil: "networkidle" });
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
        args: [externalId, toBytesHex(stack.track.manifestCid), 1, { minCoinBalance: 0n, minPasses: 0n, inSubscription: false, paymentToken: stable.address, price: 3_000_000n, duration: 7 * 86400 }, []],
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
    expect(s.errors).to.deep.equal([]);
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
    const anonymous = await fetch(`${web.url}/api/upload?creator=${s.wallet.address}&tier=premium`, { method: "POST", body: unsigned });
    expect(anonymous.status).to.equal(403);

    // Upload two files in the browser: one real track, one that is not media.
    const audio = join(stack.dir, "upload-song.mp3");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=330:d=12:r=44100", "-metadata", "title=Night Ferry", "-ac", "2", audio]);
    const junk = join(stack.dir, "notes.mp3");
    writeFileSync(junk, "this is not audio".repeat(20));
    await s.page.getByTestId("file-input").setInputFiles([audio, junk]);
    await s.page.getByTestId("upload-start").click();
    await s.page.getByTestId("upload-file").filter({ hasText: "notes.mp3" }).locator(".field-error").waitFor({ timeout: 120_000 });
    await s.page.getByTestId("upload-file").filter({ hasText: /upload-song\.mp3: published/ }).waitFor({ timeout: 120_000 });
    await s.page.getByRole("link", { name: "Night Ferry" }).first().waitFor({ timeout: 30_000 });
    await s.page.screenshot({ path: join(SHOTS, "studio-uploaded-375.png"), fullPage: true });

    // Edit the rules later: a new price on chain (and a new terms version).
    const release = s.page.locator(".panel").filter({ has: s.page.getByRole("link", { name: "Night Ferry" }) });
    await release.getByTestId("edit-rules").click();
    expect(await release.locator('input[name="price"]').inputValue()).to.equal("0.002");
    await release.locator('input[name="price"]').fill("0.005");
    await release.getByRole("button", { name: "Save rules" }).click();
    await release.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
    const items = (await (await fetch(`${web.url}/api/catalog?creator=${s.wallet.address}`)).json()) as { items: { id: `0x${string}`; price: string }[] };
    expect(items.items).to.have.length(1);
    expect(items.items[0]!.price).to.equal("5000000000000000");
    expect(s.errors.filter((e) => !/status of 4\d\d/.test(e))).to.deep.equal([]);
  });

  it("pay per minute: opens a channel once, the session key signs the voucher without a wallet prompt, the full stream plays", async () => {
    const s = await open(STREAMER_KEY, 1280);
    await s.page.goto(contentUrl(), { waitUntil: "networkidle" });
    await connect(s);
    await s.page.getByTestId("stream-open").click();
    await s.page.getByTestId("stream-meter").filter({ hasText: /1 minute .*streaming/ }).waitFor({ timeout: 30_000 });
    expect(s.wallet.calls.filter((m) => m === "eth_sendTransaction")).to.have.length(1);
    expect(s.wallet.calls).to.not.include("eth_signTypedData_v4");
    await s.page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 15_000 });
    await s.page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.duration ?? 0) > 55, undefined, { timeout: 30_000 });
    await s.page.getByTestId("stream-close").click();
    await s.page.locator('[data-testid=tx-status][data-state="confirmed"]').filter({ hasText: /Close/ }).waitFor({ timeout: 30_000 });
    await s.page.locator('[data-testid=player][data-mode="preview"]').waitFor();
    expect(s.errors).to.deep.equal([]);
  });
});
