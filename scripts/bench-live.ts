/**
 * Live streaming figures on this machine: `npm run bench:live` writes bench/live.json.
 *
 * 1. The web test stack (anvil, contracts, a 75 s premium track through the real pipeline: the VOD
 *    item) and the production web app; `streamvault live --rtmp` (premium, pay per minute) beside it
 *    under the same STREAMVAULT_HOME, as a creator runs it.
 * 2. Glass to glass: ffmpeg pushes over RTMP at real speed (`-re`) a 15 fps picture whose top band
 *    carries the frame number as 16 black/white blocks (geq on `N`); ffmpeg's `-progress` gives the
 *    wall-clock time of frame 0 (the smallest wall time - out_time seen). In Chromium the real
 *    content page (test wallet, access bought) plays the stream at the live edge; every presented
 *    frame (requestVideoFrameCallback) is drawn to a canvas, its blocks read back, and
 *    latency = now - (t0 + frame / 15 s). No OCR: a block is white or black.
 * 3. Load (after the latency samples, so it does not skew them), in worker threads, with
 *    BENCH_CONNECTIONS (default 500) viewers for BENCH_SECONDS (default 10; 20 for the watching
 *    phase) each. Watching (the goals): that many viewers at once, each on its own keep-alive
 *    connection and its own phase, reloading the playlist every 2 s segment and fetching a minute
 *    key every minute, both loads at the same time, for the live and then the VOD item; latency
 *    counts from each request's planned send time. The same again "synchronized" (autocannon's
 *    rate limit: every polling connection at the same instant once a second, a worst case).
 *    Joining: all of them joining within 10 s (a minute key each), spread and synchronized. Then
 *    each route again closed loop with autocannon (capacity: as fast as answers come):
 *    the live EVENT playlist and the VOD playlist through the web app's `/api/hls` route, then
 *    minute keys (`POST /api/keys/:id/stream`, real vouchers on real channels, one wallet cookie per
 *    connection) of the live item and of the VOD item on the key-release service (lib/keyrelease,
 *    the code the web route runs) with its rate limits raised, since 500 viewers from one address
 *    would otherwise measure the limiter. Each viewer re-asks for minutes already paid, so every
 *    answer is a 200 through the whole path (session, channel read, voucher check, conditional
 *    ledger update, key wrap, audit and plays rows).
 * Goals: glass-to-glass p50 <= 6 s on loopback; while watching, p99 <= 50 ms playlists, <= 100 ms minute keys.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, parseEther, parseEventLogs, zeroAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { contractOf } from "@streamvault/lib/deployments";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { freePort } from "@streamvault/lib/chain/anvil.ts";
import { toolPath } from "@streamvault/lib/media/ffmpeg.ts";
import { openKeyStore } from "@streamvault/lib/keys";
import { startKeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { voucherTypedData } from "@streamvault/lib/keyrelease/channels.ts";
import { generateEphemeralKeyPair, unwrapContentKey } from "@streamvault/lib/keyrelease/wrap.ts";
import type { Manifest } from "@streamvault/lib/manifest";
import { startStack, CREATOR_KEY, FAN_KEY, STREAM_RATE } from "../test/web/stack.ts";
import { ensureBuild, startWeb } from "../test/web/server.ts";
import { launchChromium } from "../test/web/session.ts";
import { installWallet } from "../test/web/wallet.ts";
import { startCli } from "../test/cli/helpers.ts";
import { streamKeyOf } from "../test/cli/live-helpers.ts";
import { signIn, SIWE_DOMAIN, SIWE_URI } from "../test/keyrelease/fixture.ts";
import { loadInWorker, type LoadJob, type LoadResult } from "./bench-load.ts";



const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WALLETS = Number(process.env.BENCH_WALLETS ?? 50);
const SAMPLE_SECONDS = Number(process.env.BENCH_SAMPLE_SECONDS ?? 30);
const FPS = 15;
const SEGMENT_SECONDS = 2;
const GOALS = { glassToGlassP50Ms: 6000, playlistP99Ms: 50, minuteKeyP99Ms: 100 };
const ID = "bench-live";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The RTMP push: a frame-numbered picture and a tone at real speed; resolves t0 (wall ms of frame 0) once progress is reported. */
function pushCoded(url: string, seconds: number): { child: ChildProcess; t0(): number; stderr(): string } {
  // Top 60 rows: 16 blocks of 20 px, block i white when bit i of the frame number is set; the rest grey.
  const geq = `geq=lum='if(lt(Y,60),255*mod(floor(N/pow(2,floor(X/20))),2),110)'`;
  const child = spawn(
    toolPath("ffmpeg"),
    ["-hide_banner", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", `color=c=gray:s=320x240:r=${FPS}:d=${seconds},format=gray,${geq},format=yuv420p`,
      "-re", "-f", "lavfi", "-i", `sine=f=440:duration=${seconds}`,
      "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", String(FPS * SEGMENT_SECONDS), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
      "-progress", "pipe:1", "-stats_period", "0.2", "-f", "flv", url],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let t0 = Infinity;
  let err = "";
  child.stdout!.on("data", (d: Buffer) => {
    const now = Date.now();
    for (const m of d.toString().matchAll(/out_time_us=(\d+)/g)) {
      const us = Number(m[1]);
      if (us > 0) t0 = Math.min(t0, now - us / 1000);
    }
  });
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  return { child, t0: () => t0, stderr: () => err };
}

async function main(): Promise<void> {
  const started = Date.now();
  const [stack] = await Promise.all([startStack(), ensureBuild()]);
  const web = await startWeb(stack.env);
  const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
  const channels = contractOf(stack.deployment, "PaymentChannels");
  const access = contractOf(stack.deployment, "ContentAccess");
  const env = { PATH: process.env.PATH!, HOME: process.env.HOME!, ...stack.env, CREATOR_PRIVATE_KEY: CREATOR_KEY };
  const port = await freePort();
  const cli = startCli(["live", "--rtmp", "--rtmp-port", String(port), "--id", ID, "--title", "Bench live", "--tier", "premium", "--price", "0.002", "--price-per-minute", "0.0001", "--segment-seconds", String(SEGMENT_SECONDS), "--idle-timeout", "6", "--json"], env);
  const pushSeconds = 60 + SAMPLE_SECONDS + 10 * SECONDS;
  const push = pushCoded(`rtmp://127.0.0.1:${port}/live/${await streamKeyOf(cli)}`, pushSeconds);
  const browser = await launchChromium();
  let keyServer: Awaited<ReturnType<typeof startKeyReleaseServer>> | undefined;
  let keyStore: Awaited<ReturnType<typeof openKeyStore>> | undefined;
  try {
    // Live once the first segment is stored and the item is registered (with its per-minute price).
    let live: { state: string; contentId: Hex; liveManifestCid?: string; secondsStored: number } | undefined;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(300)) {
      const res = await fetch(`${web.url}/api/live/${ID}`);
      live = res.ok ? ((await res.json()) as typeof live) : undefined;
      if (live?.state === "live" && (await pub.readContract({ address: channels.address, abi: channels.abi, functionName: "streamPrice", args: [live.contentId] }))[1] > 0n) break;
    }
    if (live?.state !== "live" || !live.liveManifestCid) throw new Error(`the stream did not go live: ${cli.output()} ${push.stderr()}`);
    const liveCid = live.liveManifestCid;
    console.log(`live: ${live.contentId} (manifest ${liveCid})`);
    // The ladder's first rendition (highest first), the one a viewer's player loads and pays for.
    const liveVariant = ((await (await fetch(`${web.url}/api/manifest/${liveCid}`)).json()) as Manifest).variants[0]!.name;

    // --- glass to glass, in the real content page ---
    const fan = createWalletClient({ account: privateKeyToAccount(FAN_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const [, price, , version] = await pub.readContract({ address: access.address, abi: access.abi, functionName: "purchaseTerms", args: [live.contentId] });
    await pub.waitForTransactionReceipt({ hash: await fan.writeContract({ address: access.address, abi: access.abi, functionName: "purchaseAccess", args: [live.contentId, version], value: price }) });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await installWallet(page, FAN_KEY, stack.anvil.rpcUrl);
    await page.goto(`${web.url}/content/${live.contentId}`, { waitUntil: "networkidle" });
    await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
    await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
    await page.locator('[data-testid=player][data-mode="full"]').waitFor({ timeout: 30_000 });
    await page.evaluate(() => document.querySelector<HTMLMediaElement>("[data-testid=media]")!.play().catch(() => {}));
    await page.waitForFunction(() => (document.querySelector<HTMLMediaElement>("[data-testid=media]")?.currentTime ?? 0) > 1, undefined, { timeout: 30_000 });
    if (!Number.isFinite(push.t0())) throw new Error("ffmpeg reported no progress");
    const frames = (await page.evaluate(
      ({ seconds }) =>
        new Promise<{ frame: number; at: number }[]>((resolve) => {
          const video = document.querySelector<HTMLVideoElement>("[data-testid=media]")!;
          const canvas = document.createElement("canvas");
          canvas.width = 320;
          canvas.height = 240;
          const g = canvas.getContext("2d", { willReadFrequently: true })!;
          const out: { frame: number; at: number }[] = [];
          const end = Date.now() + seconds * 1000;
          const read = () => {
            const at = Date.now();
            g.drawImage(video, 0, 0, 320, 240);
            const row = g.getImageData(0, 30, 320, 1).data;
            let frame = 0;
            for (let i = 0; i < 16; i++) if (row[(i * 20 + 10) * 4]! > 128) frame |= 1 << i;
            out.push({ frame, at });
            if (at >= end) return resolve(out);
            video.requestVideoFrameCallback(read);
          };
          video.requestVideoFrameCallback(read);
        }),
      { seconds: SAMPLE_SECONDS },
    )) as { frame: number; at: number }[];
    const t0 = push.t0();
    const state = await page.evaluate(() => {
      const m = document.querySelector<HTMLMediaElement>("[data-testid=media]")!;
      return { currentTime: m.currentTime, seekableEnd: m.seekable.length ? m.seekable.end(m.seekable.length - 1) : 0 };
    });
    await page.screenshot({ path: join(REPO_ROOT, "test-results", "bench-live-page.png") }).catch(() => undefined);
    await context.close();
    // First presentation of each frame number, read plausibly (increasing, not beyond what was sent).
    const seen = new Map<number, number>();
    let last = -1;
    for (const f of frames) {
      const sentAt = t0 + (f.frame * 1000) / FPS;
      if (f.frame <= last || sentAt > f.at) continue;
      last = f.frame;
      seen.set(f.frame, f.at - sentAt);
    }
    const latencies = [...seen.values()].sort((a, b) => a - b);
    if (latencies.length < SAMPLE_SECONDS * 5) throw new Error(`only ${latencies.length} frames read back of ${frames.length} presented`);
    const glass = {
      method: `frame number in 16 black/white blocks (geq on N, ${FPS} fps) pushed over RTMP with ffmpeg -re; t0 from ffmpeg -progress (min wall time - out_time); read back in Chromium from the real content page's <video> (premium, decrypted per segment) with requestVideoFrameCallback + canvas; latency = presented time - (t0 + frame/${FPS} s)`,
      segmentSeconds: SEGMENT_SECONDS,
      samples: latencies.length,
      framesPresented: frames.length,
      p50Ms: Math.round(percentile(latencies, 50)),
      p95Ms: Math.round(percentile(latencies, 95)),
      minMs: Math.round(latencies[0]!),
      maxMs: Math.round(latencies.at(-1)!),
      playerBehindSeekableEndS: Math.round((state.seekableEnd - state.currentTime) * 10) / 10,
    };
    console.log(`glass to glass: p50 ${glass.p50Ms} ms, p95 ${glass.p95Ms} ms over ${glass.samples} frames`);

    // --- viewers with channels on both items ---
    const vod = stack.track;
    const vodManifest = (await (await fetch(`${web.url}/api/manifest/${vod.manifestCid}`)).json()) as Manifest;
    const vodVariant = vodManifest.variants.find((v) => v.encrypted && v.keyScheme === "minute-hkdf") ?? vodManifest.variants[0]!;
    keyStore = await openKeyStore({ dataDir: stack.env.KEYSTORE_DIR!, env: { STREAMVAULT_MASTER_KEY: stack.env.STREAMVAULT_MASTER_KEY! } });
    keyServer = await startKeyReleaseServer({
      port: 0,
      host: "127.0.0.1",
      publicClient: pub as never,
      deployment: stack.deployment,
      keyStore,
      siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI },
      rateLimits: { wallet: { points: 10_000_000, durationSeconds: 60 }, ip: { points: 100_000_000, durationSeconds: 60 } },
      logger: { info() {}, warn() {}, error() {} },
    });
    const funder = createWalletClient({ account: privateKeyToAccount(CREATOR_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const viewers: { account: PrivateKeyAccount; cookie: string; live: bigint; vod: bigint }[] = [];
    const deposit = STREAM_RATE * 100n;
    for (let i = 0; i < WALLETS; i++) {
      const account = privateKeyToAccount(generatePrivateKey());
      await pub.waitForTransactionReceipt({ hash: await funder.sendTransaction({ to: account.address, value: parseEther("1") }) });
      const wallet = createWalletClient({ account, chain: foundry, transport: http(stack.anvil.rpcUrl) });
      const open = async (contentId: Hex): Promise<bigint> => {
        const now = Number((await pub.getBlock()).timestamp);
        const hash = await wallet.writeContract({
          address: channels.address,
          abi: channels.abi,
          functionName: "openChannel",
          args: [{ contentId, token: zeroAddress, deposit, ratePerMinute: STREAM_RATE, expiresAt: BigInt(now + 7 * 86_400), sessionKey: { key: zeroAddress, spendingCap: 0n, expiresAt: 0n } }],
          value: deposit,
        });
        const receipt = await pub.waitForTransactionReceipt({ hash });
        return parseEventLogs({ abi: channels.abi, logs: receipt.logs, eventName: "ChannelOpened" })[0]!.args.channelId;
      };
      viewers.push({ account, cookie: await signIn(keyServer.url, account), live: await open(live.contentId), vod: await open(vod.contentId) });
    }
    console.log(`${WALLETS} viewers signed in, a channel each on the live and the VOD item`);

    // Each viewer receives minutes 0..2 of both items (paid 1, 2, 3 x rate); the load re-asks for them with the 3 x rate voucher.
    const MINUTES = 3;
    const bodySets = async (contentId: Hex, channel: (v: (typeof viewers)[number]) => bigint, variant: string, contentKeyCheck: boolean) => {
      const publicKeys: string[] = [];
      for (let i = 0; i < 8; i++) publicKeys.push((await generateEphemeralKeyPair()).publicKey);
      const sets: string[][] = [];
      for (const v of viewers) {
        const id = channel(v);
        for (let m = 0; m < MINUTES; m++) {
          const amount = STREAM_RATE * BigInt(m + 1);
          const client = await generateEphemeralKeyPair();
          const signature = await v.account.signTypedData(voucherTypedData(31337, channels.address, id, amount));
          const res = await fetch(`${keyServer!.url}/api/keys/${contentId}/stream`, { method: "POST", headers: { cookie: v.cookie }, body: JSON.stringify({ channelId: id.toString(), cumulativeAmount: amount.toString(), signature, ephemeralPublicKey: client.publicKey, minute: m, variants: [variant] }) });
          const body = (await res.json()) as { keys: { wrapped: never }[]; wallet: string; minutesDelivered: number; message?: string };
          if (res.status !== 200 || body.minutesDelivered !== m + 1) throw new Error(`minute ${m} of ${contentId}: ${res.status} ${body.message}`);
          if (contentKeyCheck && m === 0) await unwrapContentKey({ privateKey: client.privateKey, wrapped: body.keys[0]!.wrapped, contentId, wallet: body.wallet, label: `minute/${variant}/0` });
        }
        const amount = STREAM_RATE * BigInt(MINUTES);
        const signature = await v.account.signTypedData(voucherTypedData(31337, channels.address, id, amount));
        sets.push(Array.from({ length: MINUTES * 4 }, (_, k) => JSON.stringify({ channelId: id.toString(), cumulativeAmount: amount.toString(), signature, ephemeralPublicKey: publicKeys[k % publicKeys.length], minute: k % MINUTES, variants: [variant] })));
      }
      return sets;
    };
    const liveSets = await bodySets(live.contentId, (v) => v.live, liveVariant, true);
    const vodSets = await bodySets(vod.contentId, (v) => v.vod, vodVariant.name, true);
    const cookies = viewers.map((v) => ({ cookie: v.cookie }));

    const run = async (name: string, job: Parameters<typeof loadInWorker>[0]): Promise<LoadResult & { name: string }> => {
      const r = await loadInWorker(job);
      console.log(`${name}: ${r.requestsPerSecond}/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
      return { name, ...r };
    };
    const common = { connections: CONNECTIONS, seconds: SECONDS, bodies: [""] };
    const jobs = {
      livePlaylist: { ...common, url: web.url, path: `/api/hls/${liveCid}/${liveVariant}.m3u8?c=${live.contentId}`, method: "GET" as const, headers: [{}] },
      vodPlaylist: { ...common, url: web.url, path: `/api/hls/${vod.manifestCid}/${vodVariant.playlist}.m3u8?c=${vod.contentId}`, method: "GET" as const, headers: [{}] },
      liveKeys: { ...common, url: keyServer.url, path: `/api/keys/${live.contentId}/stream`, headers: cookies, bodySets: liveSets },
      vodKeys: { ...common, url: keyServer.url, path: `/api/keys/${vod.contentId}/stream`, headers: cookies, bodySets: vodSets },
    };
    // What 500 viewers watching ask for: a playlist reload per segment each (500 / 2 s) and, at the
    // same time, a minute key each per minute (500 / 60 s). Joining: a minute key each within 10 s.
    const PLAYLIST_RATE = Math.round(CONNECTIONS / SEGMENT_SECONDS);
    const WATCH_KEY_RATE = Math.max(1, Math.round(CONNECTIONS / 60));
    const JOIN_KEY_RATE = Math.round(CONNECTIONS / 10);
    const WATCH_SECONDS = SECONDS * 2; // enough minute-key samples at the watching rate for a p99
    // Viewers poll on their own phases ("spread": the goals); "synchronized" is autocannon's rate
    // limit, every polling connection at the same instant once a second (a worst case, and what
    // this benchmark measured before: see LoadJob.arrivals).
    const watching = async (item: "live" | "VOD", playlist: LoadJob, keys: LoadJob, arrivals: "spread" | "autocannon") => {
      const how = arrivals === "spread" ? "" : ", synchronized";
      const [p, k] = await Promise.all([
        run(`${item} playlist while ${CONNECTIONS} viewers watch${how}: GET /api/hls (web app) every ${SEGMENT_SECONDS} s each = ${PLAYLIST_RATE}/s`, { ...playlist, seconds: WATCH_SECONDS, overallRate: PLAYLIST_RATE, arrivals }),
        run(`${item} minute keys while ${CONNECTIONS} viewers watch${how}: POST /api/keys/<id>/stream (voucher checked) once a minute each = ${WATCH_KEY_RATE}/s`, { ...keys, seconds: WATCH_SECONDS, overallRate: WATCH_KEY_RATE, arrivals }),
      ]);
      return { playlist: p, minuteKeys: k };
    };
    const liveWatching = await watching("live", jobs.livePlaylist, jobs.liveKeys, "spread");
    const vodWatching = await watching("VOD", jobs.vodPlaylist, jobs.vodKeys, "spread");
    const synchronized = {
      live: await watching("live", jobs.livePlaylist, jobs.liveKeys, "autocannon"),
      vod: await watching("VOD", jobs.vodPlaylist, jobs.vodKeys, "autocannon"),
    };
    const joining = {
      live: await run(`live minute keys as ${CONNECTIONS} viewers join within 10 s = ${JOIN_KEY_RATE}/s`, { ...jobs.liveKeys, overallRate: JOIN_KEY_RATE, arrivals: "spread" }),
      vod: await run(`VOD minute keys as ${CONNECTIONS} viewers join within 10 s = ${JOIN_KEY_RATE}/s`, { ...jobs.vodKeys, overallRate: JOIN_KEY_RATE, arrivals: "spread" }),
      liveSynchronized: await run(`live minute keys as ${CONNECTIONS} viewers join within 10 s, synchronized = ${JOIN_KEY_RATE}/s`, { ...jobs.liveKeys, overallRate: JOIN_KEY_RATE }),
      vodSynchronized: await run(`VOD minute keys as ${CONNECTIONS} viewers join within 10 s, synchronized = ${JOIN_KEY_RATE}/s`, { ...jobs.vodKeys, overallRate: JOIN_KEY_RATE }),
    };
    // Capacity: the same routes with every connection asking again as soon as it is answered (closed loop; latency is then queueing: connections / throughput).
    const capacity = {
      livePlaylist: await run("capacity: live playlist, closed loop", jobs.livePlaylist),
      vodPlaylist: await run("capacity: VOD playlist, closed loop", jobs.vodPlaylist),
      liveKeys: await run("capacity: live minute keys, closed loop", jobs.liveKeys),
      vodKeys: await run("capacity: VOD minute keys, closed loop", jobs.vodKeys),
    };
    const stillLive = ((await (await fetch(`${web.url}/api/live/${ID}`)).json()) as { state: string }).state;

    const report = {
      date: new Date().toISOString(),
      command: "npm run bench:live",
      machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavg1m: Math.round(loadavg()[0]! * 100) / 100, note: "2 cores shared with other jobs; the web app, the live archiver (ffmpeg x264), the RTMP push, Chromium and the load generator all run on them" },
      setup: {
        stream: `streamvault live --rtmp, premium, pay per minute, ${SEGMENT_SECONDS} s segments, 320x240 ${FPS} fps + AAC; RTMP push by ffmpeg -re`,
        web: "web/server.ts start (production build; playlists answered before Next), 127.0.0.1",
        keyRelease: "lib/keyrelease server (the service the web route runs), PGlite, rate limits raised",
        connections: CONNECTIONS,
        seconds: SECONDS,
        wallets: WALLETS,
        loadTool: "worker threads: open-loop arrivals spread evenly over the viewers (each on its own phase, keep-alive; latency from the planned send time) for watching and joining; autocannon for the synchronized variants and the closed-loop capacity",
        liveDuringLoad: stillLive,
      },
      goals: GOALS,
      glassToGlass: glass,
      watching: { live: liveWatching, vod: vodWatching },
      watchingSynchronized: synchronized,
      joiningMinuteKeys: joining,
      capacityClosedLoop: capacity,
      met: {
        glassToGlassP50: glass.p50Ms <= GOALS.glassToGlassP50Ms,
        livePlaylistP99: liveWatching.playlist.p99Ms <= GOALS.playlistP99Ms,
        vodPlaylistP99: vodWatching.playlist.p99Ms <= GOALS.playlistP99Ms,
        liveMinuteKeyP99: liveWatching.minuteKeys.p99Ms <= GOALS.minuteKeyP99Ms,
        vodMinuteKeyP99: vodWatching.minuteKeys.p99Ms <= GOALS.minuteKeyP99Ms,
        allSucceeded: [liveWatching.playlist, liveWatching.minuteKeys, vodWatching.playlist, vodWatching.minuteKeys, synchronized.live.playlist, synchronized.live.minuteKeys, synchronized.vod.playlist, synchronized.vod.minuteKeys, ...Object.values(joining)].every((r) => r.non2xx === 0 && r.errors === 0),
      },
      wallSeconds: Math.round((Date.now() - started) / 1000),
    };
    mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
    writeFileSync(join(REPO_ROOT, "bench", "live.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`wrote bench/live.json; met: ${JSON.stringify(report.met)}`);
  } finally {
    push.child.kill("SIGKILL");
    if (cli.child.exitCode === null) process.kill(-cli.child.pid!, "SIGKILL"); // the archiver and its ffmpeg (own process group)
    await browser.close().catch(() => undefined);
    await keyServer?.close();
    await keyStore?.close();
    await web.stop();
    await stack.stop();
  }
}

await main();
