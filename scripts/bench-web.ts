/**
 * Web benchmark (`npm run bench:web`), on this machine, everything on 127.0.0.1:
 *
 * 1. key release: runs scripts/bench-keyrelease.ts (its own anvil + key-release server + autocannon)
 *    and takes its figures from bench/keyrelease.json: releases/s, p50/p99, beside the bare
 *    `hasValidAccess` eth_call. BENCH_WEB_KEYRELEASE=reuse takes the existing file instead.
 * 2. first audio: the web test stack (anvil, contracts, a 75 s premium track through the real
 *    pipeline), the production build under `next start`, Debian's chromium (playwright-core) with the
 *    injected test wallet. Time from pressing Play to the first audio frame (the media element's
 *    `playing` event and currentTime > 0), each run in a fresh browser context (cold HTTP cache):
 *      - preview: page loaded, `play()` on the audio element (what the native Play button does);
 *      - full, first play: click "Play full track" as the creator (who has access): SIWE sign-in,
 *        key release, unwrap, fetch + decrypt segments in the browser, play;
 *      - full, signed in: the same after a reload of that tab (session cookie already there).
 *    Median of BENCH_RUNS (default 5) runs each.
 * Writes bench/web.json and prints the figures. Goals: p50 <= 30 ms, >= 300 releases/s, first audio <= 1 s.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { startStack, CREATOR_KEY, type Stack } from "../test/web/stack.ts";
import { ensureBuild, playwright, startWeb, type WebServer } from "../test/web/server.ts";
import { installWallet } from "../test/web/wallet.ts";
import type { Browser, Page } from "../test/web/pw.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOALS = { p50Ms: 30, releasesPerSecond: 300, firstAudioMs: 1000 };
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

interface KeyReleaseReport {
  keyRelease: { requestsPerSecond: number; p50Ms: number; p90Ms: number; p99Ms: number; non2xx: number; errors: number; requests: number; connections: number; seconds: number };
  bareHasValidAccess: { requestsPerSecond: number; p50Ms: number; p99Ms: number };
  setup: Record<string, unknown>;
  date: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
const round = (x: number) => Math.round(x * 10) / 10;

async function keyReleaseFigures(): Promise<KeyReleaseReport> {
  const file = join(REPO_ROOT, "bench", "keyrelease.json");
  if (process.env.BENCH_WEB_KEYRELEASE === "reuse" && existsSync(file)) {
    console.log("key release: reusing bench/keyrelease.json");
  } else {
    console.log("key release: running scripts/bench-keyrelease.ts …");
    const child = spawn(process.execPath, [join(REPO_ROOT, "scripts", "bench-keyrelease.ts")], { cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit"] });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    if (code !== 0) throw new Error(`bench-keyrelease.ts exited with ${code}`);
  }
  return JSON.parse(readFileSync(file, "utf8")) as KeyReleaseReport;
}

/** Installs in-page timers: `window.__svPlay()` resolves with ms from now to `playing` and to currentTime > 0. */
const TIMING = `(() => {
  window.__svWatch = (t0, wantFull) => new Promise((resolve) => {
    const m = document.querySelector("[data-testid=media]");
    const player = document.querySelector("[data-testid=player]");
    let playingAt = null;
    const onPlaying = () => { if (!wantFull || player.dataset.mode === "full") playingAt ??= performance.now(); };
    m.addEventListener("playing", onPlaying);
    const poll = () => {
      if (m.currentTime > 0 && (!wantFull || player.dataset.mode === "full")) {
        const t = performance.now();
        m.removeEventListener("playing", onPlaying);
        resolve({ playingMs: (playingAt ?? t) - t0, frameMs: t - t0 });
      } else setTimeout(poll, 1);
    };
    poll();
  });
})();`;

interface Timing { playingMs: number; frameMs: number }

async function connect(page: Page): Promise<void> {
  await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
  await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
  await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).waitFor({ state: "detached", timeout: 15_000 });
}

async function previewRun(browser: Browser, url: string): Promise<Timing> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: "networkidle" });
    // the player is ready: hls.js attached and the preview playlist parsed (what a user sees before pressing Play)
    await page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.duration ?? 0) > 0, undefined, { timeout: 30_000 });
    await page.evaluate(TIMING);
    return await page.evaluate(() => {
      const w = window as unknown as { __svWatch(t0: number, full: boolean): Promise<Timing> };
      const t0 = performance.now();
      const done = w.__svWatch(t0, false);
      void document.querySelector<HTMLMediaElement>("[data-testid=media]")!.play();
      return done;
    });
  } finally {
    await context.close();
  }
}

async function fullRuns(browser: Browser, stack: Stack, url: string): Promise<{ first: Timing; signedIn: Timing }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    await installWallet(page, CREATOR_KEY, stack.anvil.rpcUrl);
    await page.goto(url, { waitUntil: "networkidle" });
    await connect(page);
    const once = async (): Promise<Timing> => {
      const button = page.getByTestId("play-full");
      await button.waitFor({ timeout: 20_000 });
      await page.evaluate(TIMING);
      // t0 is taken by a capturing listener at the click itself
      const done = page.evaluate(
        () =>
          new Promise<Timing>((resolve) => {
            const w = window as unknown as { __svWatch(t0: number, full: boolean): Promise<Timing> };
            document.addEventListener("click", () => void w.__svWatch(performance.now(), true).then(resolve), { capture: true, once: true });
          }),
      );
      await page.waitForTimeout(50);
      await button.click();
      const t = await done;
      const err = await page.getByTestId("player-error").count();
      if (err) throw new Error(`player error: ${await page.getByTestId("player-error").innerText()}`);
      return t;
    };
    const first = await once();
    await page.reload({ waitUntil: "networkidle" });
    await page.getByTestId("play-full").waitFor({ timeout: 20_000 });
    const signedIn = await once();
    return { first, signedIn };
  } finally {
    await context.close();
  }
}

async function firstAudio(): Promise<{ preview: Timing[]; fullFirst: Timing[]; fullSignedIn: Timing[] }> {
  console.log("first audio: starting the web stack (anvil, pipeline, next build if stale, next start) …");
  const [stack] = await Promise.all([startStack(), ensureBuild()]);
  let web: WebServer | undefined;
  let browser: Browser | undefined;
  try {
    web = await startWeb(stack.env);
    browser = await playwright().chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    });
    const url = `${web.url}/content/${stack.track.contentId}`;
    // one warm-up of each (first requests compile nothing under next start, but warm the server's caches)
    await previewRun(browser, url);
    await fullRuns(browser, stack, url);
    const preview: Timing[] = [];
    const fullFirst: Timing[] = [];
    const fullSignedIn: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      preview.push(await previewRun(browser, url));
      const f = await fullRuns(browser, stack, url);
      fullFirst.push(f.first);
      fullSignedIn.push(f.signedIn);
      console.log(`run ${i + 1}/${RUNS}: preview ${round(preview.at(-1)!.frameMs)} ms, full (first play, with sign-in) ${round(f.first.frameMs)} ms, full (signed in) ${round(f.signedIn.frameMs)} ms`);
    }
    return { preview, fullFirst, fullSignedIn };
  } finally {
    await browser?.close().catch(() => {});
    await web?.stop();
    await stack.stop();
  }
}

const summary = (runs: Timing[]) => ({
  medianMs: round(median(runs.map((r) => r.frameMs))),
  medianPlayingEventMs: round(median(runs.map((r) => r.playingMs))),
  runsMs: runs.map((r) => round(r.frameMs)),
});

const kr = await keyReleaseFigures();
const audio = await firstAudio();
const report = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavg1m: round(loadavg()[0]!) },
  goals: GOALS,
  keyRelease: {
    from: `bench/keyrelease.json (${kr.date})`,
    setup: kr.setup,
    p50Ms: kr.keyRelease.p50Ms,
    p90Ms: kr.keyRelease.p90Ms,
    p99Ms: kr.keyRelease.p99Ms,
    releasesPerSecond: kr.keyRelease.requestsPerSecond,
    requests: kr.keyRelease.requests,
    non2xx: kr.keyRelease.non2xx,
    errors: kr.keyRelease.errors,
  },
  bareHasValidAccess: { p50Ms: kr.bareHasValidAccess.p50Ms, p99Ms: kr.bareHasValidAccess.p99Ms, callsPerSecond: kr.bareHasValidAccess.requestsPerSecond },
  firstAudio: {
    runs: RUNS,
    how: "chromium (playwright-core) against next start on 127.0.0.1, fresh context per run; ms from pressing Play to currentTime > 0 (medianPlayingEventMs: to the `playing` event)",
    preview: { ...summary(audio.preview), note: "hls.js loads the preview playlist and first fragment when the page attaches the player, so Play starts from a buffered element" },
    fullFirstPlay: { ...summary(audio.fullFirst), includes: "SIWE sign-in (nonce, signature, verify), key release, unwrap, segment fetch + decrypt" },
    fullSignedIn: { ...summary(audio.fullSignedIn), includes: "key release, unwrap, segment fetch + decrypt" },
  },
  met: {} as Record<string, boolean>,
};
report.met = {
  p50: report.keyRelease.p50Ms <= GOALS.p50Ms,
  throughput: report.keyRelease.releasesPerSecond >= GOALS.releasesPerSecond,
  firstAudioPreview: report.firstAudio.preview.medianMs <= GOALS.firstAudioMs,
  firstAudioFull: report.firstAudio.fullFirstPlay.medianMs <= GOALS.firstAudioMs && report.firstAudio.fullSignedIn.medianMs <= GOALS.firstAudioMs,
};
mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
writeFileSync(join(REPO_ROOT, "bench", "web.json"), JSON.stringify(report, null, 2) + "\n");
console.log(`
key release          p50 ${report.keyRelease.p50Ms} ms, p99 ${report.keyRelease.p99Ms} ms, ${report.keyRelease.releasesPerSecond} releases/s
bare hasValidAccess  p50 ${report.bareHasValidAccess.p50Ms} ms, p99 ${report.bareHasValidAccess.p99Ms} ms, ${report.bareHasValidAccess.callsPerSecond} calls/s
first audio (median of ${RUNS})  preview ${report.firstAudio.preview.medianMs} ms · full, first play ${report.firstAudio.fullFirstPlay.medianMs} ms · full, signed in ${report.firstAudio.fullSignedIn.medianMs} ms
goals met: ${JSON.stringify(report.met)}
wrote bench/web.json`);
process.exit(0);
