/**
 * An album uploaded from the web studio (issue 15): the creator picks "Album / EP", adds the
 * tracks (reordered in the form, one title typed, the others from tags / file names), one price for
 * the whole release, and uploads them through the durable upload-job path as ONE item; per-track
 * progress; clear errors for fewer than 2 tracks, a non-audio file, and a track the server's
 * pipeline refuses (named). The release row says "Album · 3 tracks" and its price; a fan's page
 * lists the tracks, buys the album once and plays track 1 then track 2. Real parts: anvil, the
 * production Next build, ffmpeg in the upload worker, Chromium with the injected wallet.
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEther, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { CREATOR_KEY, type Stack } from "./stack.ts";
import type { WebServer } from "./server.ts";
import { openWithWallet, startWebSuite, SHOTS, type WebSuite } from "./session.ts";
import type { Browser, Page } from "./pw.ts";

describe("web: album upload from the studio", function () {
  this.timeout(360_000);
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  const pages: Page[] = [];

  let suite: WebSuite | undefined;

  before(async () => {
    suite = await startWebSuite();
    ({ stack, web, browser } = suite);
  });

  afterEach(async function () {
    const last = pages[pages.length - 1];
    if (this.currentTest?.state === "failed" && last) {
      await last.screenshot({ path: join(SHOTS, `FAILED-album-upload.png`), fullPage: true }).catch(() => {});
      console.log(`    page text: ${(await last.locator("main").innerText().catch(() => "")).slice(0, 3000)}\n    web log: ${web.logs.join("").slice(-2000)}`);
    }
  });

  after(() => suite?.stop());

  const open = (key: Hex, width: number, path: string) => openWithWallet(browser, { key, rpcUrl: stack.anvil.rpcUrl, webUrl: web.url, path, width }).then((s) => (pages.push(s.page), s));

  const noise = async (file: string, seconds: number, seed: number, title?: string) =>
    runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", `anoisesrc=d=${seconds}:c=pink:r=44100:a=0.3:seed=${seed}`, ...(title ? ["-metadata", `title=${title}`] : []), "-ac", "2", file]);

  it("the creator uploads a 3-track album as one release at one price (errors first: a track list too long for one request, 1 file, a cover image, a track the pipeline refuses); a fan sees the track list, buys it once and plays track 1 then 2", async () => {
    const dusk = join(stack.dir, "01-dusk.wav");
    const neon = join(stack.dir, "02 Neon Rain.wav");
    const exit = join(stack.dir, "03 Last Exit.wav");
    await noise(dusk, 7, 31, "Dusk");
    await noise(neon, 6, 32);
    await noise(exit, 5, 33);
    const cover = join(stack.dir, "cover.png");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", cover]);
    const junk = join(stack.dir, "notes.mp3");
    writeFileSync(junk, "this is not audio".repeat(20));

    const { page, errors, notFound } = await open(CREATOR_KEY, 1280, "/studio");
    await page.getByTestId("studio").waitFor({ timeout: 30_000 });
    // A track list too long for one request (the names and hashes travel in its head): refused before any hashing, saying what to do.
    await page.getByTestId("upload-mode-album").check();
    const many = Array.from({ length: 80 }, (_, i) => join(stack.dir, `${String(i + 1).padStart(2, "0")} ${"a very long track name ".repeat(4)}.wav`));
    for (const f of many) writeFileSync(f, "RIFF");
    await page.getByTestId("file-input").setInputFiles(many);
    await page.getByTestId("album-title").fill("Everything");
    await page.getByTestId("upload-start").click();
    expect(await page.locator("section[aria-labelledby=upload-h] [role=alert]").innerText()).to.match(/track list of these 80 tracks .* is too long for one upload: .*streamvault upload --as-album/);
    expect(await page.getByTestId("upload-file").count()).to.equal(0);
    await page.reload({ waitUntil: "networkidle" });
    await page.getByTestId("studio").waitFor({ timeout: 30_000 });
    await page.getByTestId("upload-mode-album").check();
    const form = page.getByTestId("album-form");
    const formError = page.locator("section[aria-labelledby=upload-h] [role=alert]");

    // Fewer than 2 files, and a file that is not audio: refused in the browser, saying which and why.
    await page.getByTestId("file-input").setInputFiles([dusk]);
    await page.getByTestId("upload-start").click();
    expect(await formError.innerText()).to.match(/an album needs at least 2 tracks, you added 1/);
    await page.getByTestId("file-input").setInputFiles([cover]);
    await form.getByTestId("album-title").fill("Night Shift");
    await page.getByTestId("upload-start").click();
    expect(await formError.innerText()).to.match(/track 2 \(cover\.png\) is not an audio file \(image\/png\)/);
    await page.getByRole("button", { name: "Remove track 2" }).click();

    // A track the server's pipeline refuses (not media, though named .mp3): the album job fails, naming it.
    await page.getByTestId("file-input").setInputFiles([junk]);
    await page.getByTestId("upload-start").click();
    const failedTrack = page.getByTestId("upload-track").nth(1);
    await failedTrack.locator(".field-error").waitFor({ timeout: 120_000 });
    expect(await failedTrack.innerText()).to.match(/notes \(notes\.mp3\): unsupported: Cannot ingest "track 2 \(notes\.mp3\)": unsupported .*What to do: upload an audio/s);
    expect(await page.getByTestId("upload-file").locator(".field-error").first().innerText()).to.equal("track 2 (notes.mp3) cannot be used, see below: remove or replace it and upload the album again");
    expect(await page.getByTestId("upload-track").nth(0).getAttribute("data-stage")).to.equal("encoded");
    expect(await page.getByTestId("upload-file").getAttribute("data-state")).to.equal("failed");
    expect(await page.getByTestId("upload-resume").count(), "a bad file is not resumable").to.equal(0);
    await page.screenshot({ path: join(SHOTS, "studio-album-track-refused-1280.png"), fullPage: true });

    // The album: added out of order and moved into place; track 2's title typed, 1 and 3 from tag and file name.
    await page.getByTestId("upload-mode-album").check();
    await page.getByTestId("file-input").setInputFiles([dusk, exit]);
    await page.getByTestId("file-input").setInputFiles([neon]);
    await page.getByRole("button", { name: "Move track 3 up" }).click();
    expect(await form.getByTestId("album-file").locator(".album-file-name").allInnerTexts()).to.deep.equal(["01-dusk.wav", "02 Neon Rain.wav", "03 Last Exit.wav"]);
    await form.getByTestId("album-track-title").nth(1).fill("Neon Rain");
    await form.getByTestId("album-title").fill("Night Shift");
    await page.locator('section[aria-labelledby=upload-h] input[name="price"]').fill("0.003");
    await page.screenshot({ path: join(SHOTS, "studio-album-form-1280.png"), fullPage: true });
    await page.getByTestId("upload-start").click();

    const row = page.getByTestId("upload-file");
    // Per-track progress while the worker encodes one track after another (seen when a poll lands on it).
    const processing = page.locator("[data-testid=upload-track][data-stage=processing]");
    const done = row.filter({ hasText: /Album “Night Shift”: published/ });
    const seen = await Promise.race([processing.first().waitFor({ timeout: 120_000 }).then(() => "processing"), done.waitFor({ timeout: 120_000 }).then(() => "done")]);
    if (seen === "processing") {
      expect(await page.getByTestId("upload-track").count()).to.equal(3);
      await page.screenshot({ path: join(SHOTS, "studio-album-progress-1280.png"), fullPage: true });
    }
    await done.waitFor({ timeout: 180_000 });
    expect(await page.getByTestId("upload-track").evaluateAll((els) => els.map((e) => e.getAttribute("data-stage")))).to.deep.equal(["published", "published", "published"]);
    // Each track under the title it was published with: the tag, the typed title, the file name.
    expect((await page.getByTestId("upload-track").allInnerTexts()).map((t) => t.split(" (")[0])).to.deep.equal(["Dusk", "Neon Rain", "03 Last Exit"]);
    const jobId = await row.getAttribute("data-job");
    const job = ((await (await fetch(`${web.url}/api/upload/jobs/${jobId}`)).json()) as { job: { state: string; contentId: Hex; album: { title: string; tracks: { fileName: string; title: string }[] } } }).job;
    expect(job.state).to.equal("registered");
    expect(job.album.tracks.map((t) => [t.fileName, t.title])).to.deep.equal([["01-dusk.wav", ""], ["02 Neon Rain.wav", "Neon Rain"], ["03 Last Exit.wav", ""]]);

    // The release row: one item, an album of 3 tracks, one price.
    const release = page.locator(`[data-testid=release-row][data-content="${job.contentId}"]`);
    await release.waitFor({ timeout: 30_000 });
    expect(await release.getByRole("link").first().innerText()).to.equal("Night Shift");
    expect(await release.getByTestId("item-album").innerText()).to.equal("Album · 3 tracks");
    expect(await release.getByTestId("item-price").innerText()).to.equal("0.003 ETH");
    await release.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, "studio-album-uploaded-1280.png"), fullPage: true });
    // The only 404s: the studio asking whether each album's bytes have a job already (they had none).
    expect(notFound).to.deep.equal(["/api/upload/jobs", "/api/upload/jobs"]);
    expect(errors.filter((e) => !/status of 404/.test(e))).to.deep.equal([]);

    // A fan: the track list (tag, typed title, file name), one purchase, track 1 plays, then track 2.
    const fanKey = generatePrivateKey();
    await fetch(stack.anvil.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_setBalance", params: [privateKeyToAccount(fanKey).address, toHex(parseEther("10"))] }) });
    const fan = await open(fanKey, 375, `/content/${job.contentId}`);
    const rows = fan.page.getByTestId("album-track");
    expect((await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim())).to.deep.equal(["1 Dusk 0:07", "2 Neon Rain 0:06", "3 03 Last Exit 0:05"]);
    expect(await fan.page.getByTestId("price").innerText()).to.equal("0.003 ETH");
    await fan.page.getByTestId("buy-pass").click();
    await fan.page.locator('[data-testid=access-status][data-reason="purchase"]').waitFor({ timeout: 30_000 });
    await fan.page.getByTestId("album-access").filter({ hasText: /every track plays in full/ }).waitFor({ timeout: 15_000 });
    await fan.page.getByTestId("album-play-all").click();
    await fan.page.getByTestId("mini-title").filter({ hasText: "Dusk" }).waitFor({ timeout: 15_000 });
    await fan.page.getByTestId("mini-mode").filter({ hasText: /Track 1 of Night Shift · Full track/ }).waitFor({ timeout: 15_000 });
    await fan.page.screenshot({ path: join(SHOTS, "album-uploaded-fan-375.png"), fullPage: true });
    // Track 1 is 7 s: the queue moves on to track 2 by itself.
    await fan.page.getByTestId("mini-title").filter({ hasText: "Neon Rain" }).waitFor({ timeout: 30_000 });
    await fan.page.waitForFunction(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=mini-media]");
      return m !== null && !m.paused && m.currentTime > 0.5;
    }, undefined, { timeout: 30_000 });
    await fan.page.getByTestId("mini-mode").filter({ hasText: /Track 2 of Night Shift · Full track/ }).waitFor({ timeout: 15_000 });
    expect(await fan.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
    expect(fan.errors).to.deep.equal([]);
  });
});
