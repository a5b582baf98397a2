/**
 * Live streaming: one pipeline behind every input (a growing file, stdin, or an RTMP publisher
 * such as OBS, received by lib/live/rtmp.ts, which refuses any publisher without the stream's
 * secret key and hands ffmpeg the accepted one's media as FLV on stdin). ffmpeg cuts the input into short MPEG-TS segments
 * (2 s by default); when the first one is cut the item is registered on ContentAccess with a
 * manifest marked live (tier and rules as for uploads), so fans can open it at once. Each segment
 * is encrypted under its minute window's key (the pay-per-minute scheme, lib/crypto/minute.ts) and
 * stored with retries; only after the store put succeeded is it appended to the growing HLS EVENT
 * playlist `<home>/live/<id>/live.m3u8`, so the playlist never names a piece that is not stored.
 * When the input ends (EOF, the publisher disconnects, or no media for the idle timeout) the
 * playlist gets `#EXT-X-ENDLIST` and the final manifest, listing the same pieces (nothing
 * re-encoded or stored twice), replaces the live one with `updateManifest`.
 * The record (lib/live/status.ts) lives in `<home>/live/<id>/state.json`.
 */
import { spawn } from "node:child_process";
import { open, mkdir, readFile, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import pRetry from "p-retry";
import type { Address } from "viem";
import { ContentEncryptor, generateContentKey, hex } from "../crypto/segment.ts";
import { MINUTE_KEY_SCHEME } from "../crypto/minute.ts";
import type { KeyStore } from "../keys/index.ts";
import { eventPlaylist, masterPlaylist, MANIFEST_VERSION, serializeManifest } from "../manifest/index.ts";
import type { Manifest, ManifestVariant } from "../manifest/index.ts";
import { runTool, toolPath } from "../media/ffmpeg.ts";
import { TIER_COPIES } from "../media/pipeline.ts";
import { pieceCidOf } from "../storage/piece.ts";
import type { PieceStore } from "../storage/types.ts";
import type { ChainContext } from "../catalog/chain/client.ts";
import { contentIdFor, registerContent, setStreamPrice } from "../catalog/chain/content.ts";
import type { AccessRules, Tier } from "../catalog/chain/content.ts";
import { writeFileAtomic } from "../catalog/uploads/journal.ts";
import { hashStreamKey, listenRtmp, type RtmpIngest } from "./rtmp.ts";
import { chunkMinutes, LIVE_ID, LIVE_VARIANT, liveDir, liveExternalId, livePlaylistPath, liveSegments, readLiveState, storedPrefix } from "./status.ts";
import type { LiveChunk, LiveState } from "./status.ts";

export { LIVE_ID, liveDir, liveExternalId, livePlaylistPath, readLiveState, liveStatus } from "./status.ts";
export type { ChunkStatus, LiveChunk, LiveState, LiveStatus, LivePhase } from "./status.ts";

export interface LiveEvents {
  onChunk?(chunk: LiveChunk): void;
  onStatus?(state: LiveState): void;
  /** an RTMP publisher was turned away (the reason never includes a key) */
  onRefused?(reason: string): void;
}

/** An RTMP publisher (OBS, ffmpeg) connects to rtmp://host:port/live with the stream key as its stream name. */
export interface RtmpInput {
  port: number;
  /** default 127.0.0.1: only this machine can publish */
  host?: string;
  /**
   * The secret stream key (lib/live/rtmp.ts newStreamKey); the record keeps only its hash.
   * Optional when continuing a stream: the key it was created with still works.
   */
  key?: string;
}

export interface LiveOptions {
  /** a growing file, "-" for stdin; ignored when `rtmp` is given */
  input: string;
  rtmp?: RtmpInput;
  id: string;
  title?: string;
  tier: Tier;
  home: string;
  store: PieceStore;
  keyStore: KeyStore;
  chain: ChainContext;
  rules?: Partial<AccessRules>;
  /** pay-per-minute price, set right after the live registration (as uploads do) */
  streamPrice?: { token: Address; ratePerMinute: bigint };
  /** segment length (default 2 s: short segments keep the live edge close) */
  segmentSeconds?: number;
  /** input that brings no media for this long has ended (default 10 s; RTMP and stdin once media flowed, a file that stops growing) */
  idleTimeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
  events?: LiveEvents;
  /** stdin stream when input is "-" (default process.stdin) */
  stdin?: NodeJS.ReadableStream;
  /** aborting ends the stream as if the input had ended (Ctrl-C) */
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The RTMP server URL a publisher is given (OBS "Server"; the stream key goes in "Stream Key", or after a / for ffmpeg). */
export function rtmpUrl(rtmp: Pick<RtmpInput, "host" | "port">): string {
  return `rtmp://${rtmp.host ?? "127.0.0.1"}:${rtmp.port}/live`;
}

async function contentEncryptor(options: Pick<LiveOptions, "keyStore" | "tier" | "chain">, state: LiveState): Promise<ContentEncryptor | undefined> {
  if (options.tier === "free") return undefined;
  let key = await options.keyStore.getKey(state.contentId);
  if (!key) {
    key = generateContentKey();
    await options.keyStore.putKey(state.contentId, key, options.chain.account.address); // sealed to the creator's escrow key too
  }
  return new ContentEncryptor(state.contentId, key);
}

/** Stores one chunk: encrypt (under its minute's key), put with retries; the state is saved after every step. */
function chunkUploader(options: LiveOptions, state: LiveState, encryptor: ContentEncryptor | undefined, save: () => void, events: LiveEvents) {
  const retries = options.retries ?? 8;
  return async (chunk: LiveChunk) => {
    chunk.status = "uploading";
    save();
    events.onChunk?.({ ...chunk });
    try {
      const plain = new Uint8Array(await readFile(chunk.file));
      chunk.size = plain.length;
      let stored: Uint8Array = plain;
      if (encryptor) {
        const { sealed, nonce } = encryptor.encrypt(LIVE_VARIANT, chunk.index, plain, chunk.minute);
        stored = sealed;
        chunk.nonce = hex(nonce);
      }
      const cid = pieceCidOf(stored);
      await pRetry(
        async () => {
          chunk.attempts++;
          const put = await options.store.put(stored, { pieceCid: cid });
          chunk.pieceCid = put.pieceCid;
          chunk.storedSize = stored.length;
        },
        {
          retries,
          minTimeout: options.retryDelayMs ?? 200,
          maxTimeout: 2000,
          factor: 2,
          onFailedAttempt: ({ error, retriesLeft }) => {
            state.failedWrites = (state.failedWrites ?? 0) + 1;
            if (retriesLeft > 0) {
              chunk.status = "retrying";
              chunk.error = error.message;
              save();
              events.onChunk?.({ ...chunk });
            }
          },
        },
      );
      chunk.status = "uploaded";
      chunk.storedAt = new Date().toISOString();
      chunk.error = undefined;
    } catch (err) {
      chunk.status = "failed";
      chunk.error = (err as Error).message;
    }
    save();
    events.onChunk?.({ ...chunk });
  };
}

/** Rewrites the playlist from the stored prefix (temp file + rename: a reader sees the old or the new one, never half). */
function writePlaylist(home: string, state: LiveState, ended: boolean): void {
  const segments = storedPrefix(state).map((c) => ({ pieceCid: c.pieceCid!, duration: c.duration, discontinuity: c.discontinuity }));
  writeFileAtomic(livePlaylistPath(home, state.id), eventPlaylist(segments, "/piece/", { targetDuration: state.targetDuration ?? 10, ended }));
}

/** Start a live stream (or continue an interrupted one with the same id) and run it until the input ends. */
export async function archiveLive(options: LiveOptions): Promise<LiveState> {
  if (!LIVE_ID.test(options.id)) throw new Error(`live id "${options.id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  const dir = liveDir(options.home, options.id);
  const previous = readLiveState(options.home, options.id);
  if (previous && previous.status !== "failed" && previous.status !== "interrupted") throw new Error(`live stream "${options.id}" already exists (${previous.status}); pick another --id`);
  const segmentSeconds = options.segmentSeconds ?? 2;
  const externalId = liveExternalId(options.id);
  const contentId = contentIdFor(options.chain.account.address, externalId);
  // An interrupted/failed stream continues: its stored chunks are kept, new chunks follow them.
  const state: LiveState = previous
    ? { ...previous, status: "recording", pid: process.pid, sessions: (previous.sessions ?? 1) + 1, error: undefined, endedAt: undefined }
    : {
        pid: process.pid,
        sessions: 1,
        id: options.id,
        input: options.rtmp ? rtmpUrl(options.rtmp) : options.input,
        tier: options.tier,
        title: options.title ?? options.id,
        contentId,
        externalId,
        status: "recording",
        startedAt: new Date().toISOString(),
        inputBytes: 0,
        targetDuration: Math.ceil(segmentSeconds * 1.5),
        chunks: [],
        failedWrites: 0,
      };
  const save = () => writeFileAtomic(path.join(dir, "state.json"), JSON.stringify(state, null, 2) + "\n");
  const events = options.events ?? {};
  // RTMP: the stream's key (a continued stream keeps the one it was created with); only its hash is recorded.
  const keyHash = options.rtmp && (options.rtmp.key !== undefined ? hashStreamKey(options.rtmp.key) : previous?.rtmpKeyHash);
  if (options.rtmp && !keyHash) throw new Error(`RTMP stream "${options.id}" needs a stream key: pass rtmp.key (newStreamKey() from lib/live/rtmp.ts)`);
  if (keyHash) state.rtmpKeyHash = keyHash;
  save();
  const encryptor = await contentEncryptor(options, state);
  const upload = chunkUploader(options, state, encryptor, save, events);

  // Chunks closed but not stored by an earlier session are dropped; new ones continue the timeline.
  state.chunks = storedPrefix(state);
  const offset = state.chunks.length;
  const session = state.sessions ?? 1;
  const chunkDir = path.join(dir, `chunks-${session}`);
  await mkdir(chunkDir, { recursive: true });
  const listFile = path.join(dir, `chunks-${session}.csv`);
  // Listening before ffmpeg starts; a publisher is refused until its publish names the key.
  let ingest: RtmpIngest | undefined;
  if (options.rtmp && keyHash) {
    ingest = await listenRtmp({
      host: options.rtmp.host ?? "127.0.0.1",
      port: options.rtmp.port,
      keyHash,
      onRefused: (reason) => {
        state.refusedPublishers = (state.refusedPublishers ?? 0) + 1;
        save();
        events.onRefused?.(reason);
      },
    });
  }
  const input = ingest ? ["-f", "flv", "-i", "pipe:0"] : ["-i", "pipe:0"];
  const ff = spawn(
    toolPath("ffmpeg"),
    [
      "-hide_banner", "-v", "error", ...input,
      "-map", "0:a:0?", "-map", "0:v:0?",
      "-c:a", "aac", "-b:a", "192k", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
      "-force_key_frames", `expr:gte(t,n_forced*${segmentSeconds})`,
      "-f", "segment", "-segment_time", String(segmentSeconds), "-segment_format", "mpegts",
      "-segment_list", listFile, "-segment_list_type", "csv",
      path.join(chunkDir, "chunk-%05d.ts"),
    ],
    { stdio: ["pipe", "ignore", "pipe"] },
  );
  let ffErr = "";
  ff.stderr!.on("data", (d: Buffer) => (ffErr = (ffErr + d.toString()).slice(-4000)));
  const ffDone = new Promise<number>((resolve) => ff.once("close", (code) => resolve(code ?? -1)));
  ff.stdin!.on("error", () => undefined); // ffmpeg may exit first (bad input): reported via its exit code
  // Ending on purpose (idle, abort): ffmpeg's stdin is closed (it closes the last segment); the RTMP server stops and drops the publisher.
  let stopped = false;
  let stoppedFeed: () => void = () => undefined;
  const feedStopped = new Promise<void>((resolve) => (stoppedFeed = resolve));
  const stdin = options.stdin ?? process.stdin;
  const stop = () => {
    if (stopped || ff.exitCode !== null) return;
    stopped = true;
    stoppedFeed();
    ingest?.close();
    ff.stdin!.end();
    // stdin that stays open without data must not keep the stream (or the process) waiting
    if (!options.rtmp && options.input === "-") (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  };
  options.signal?.addEventListener("abort", stop, { once: true });

  const idle = options.idleTimeoutMs ?? 10_000;
  const feed = (async () => {
    const write = async (buf: Uint8Array) => {
      state.inputBytes += buf.length;
      if (!ff.stdin!.write(buf)) await new Promise<void>((r) => ff.stdin!.once("drain", () => r()));
    };
    if (ingest) {
      try {
        for await (const chunk of ingest.flv) {
          if (stopped) break;
          await write(chunk as Buffer);
        }
      } finally {
        ingest.close(); // the publisher disconnected: the stream ends (a new session continues it)
      }
    } else if (options.input === "-") {
      for await (const chunk of stdin) {
        if (stopped) break;
        await write(chunk as Buffer);
      }
    } else {
      const fh = await open(options.input, "r");
      try {
        const buf = Buffer.alloc(256 * 1024);
        let lastGrowth = Date.now();
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead > 0) {
            lastGrowth = Date.now();
            await write(new Uint8Array(buf.subarray(0, bytesRead)));
          } else if (Date.now() - lastGrowth > idle || ff.exitCode !== null || stopped) {
            break;
          } else {
            await sleep(150);
          }
        }
      } finally {
        await fh.close();
      }
    }
    if (!stopped) ff.stdin!.end();
  })().catch((err: unknown) => {
    // a stdin destroyed by stop() ends the loop with an error: that is the end of the input
    if (!stopped) throw err;
  });

  // Registered when the first segment is cut (its streams tell audio or video): the item is on chain before anything is stored.
  let registered: Promise<void> | undefined;
  const register = (first: LiveChunk) =>
    (registered ??= (async () => {
      try {
        if (!state.kind) await probeKind(state, first.file);
        if (!state.liveManifestCid) {
          const bytes = serializeManifest(buildManifest(state, encryptor, "live"));
          const put = await pRetry(() => options.store.put(bytes, { pieceCid: pieceCidOf(bytes) }), { retries: options.retries ?? 8, minTimeout: options.retryDelayMs ?? 200, maxTimeout: 2000 });
          state.liveManifestCid = put.pieceCid;
          save();
          const reg = await pRetry(
            () => registerContent(options.chain, { externalId, manifestCid: put.pieceCid, tier: options.tier, rules: options.rules, onSent: (hash) => ((state.registerTx = hash), save()) }),
            { retries: 2 },
          );
          state.registerTx = reg.txHash ?? state.registerTx;
          save();
          if (options.streamPrice) await setStreamPrice(options.chain, state.contentId, options.streamPrice.token, options.streamPrice.ratePerMinute);
          events.onStatus?.({ ...state });
        }
      } catch (err) {
        // Segments are still stored; the end of the stream registers the final manifest.
        state.error = `live registration failed: ${(err as Error).message}`;
        save();
      }
    })());

  let seen = 0;
  let lastActivity = Date.now();
  let activitySeen = false;
  let currentSize = -1;
  let uploading: Promise<void> = Promise.resolve();
  const poll = async () => {
    let text = "";
    try {
      text = await readFile(listFile, "utf8");
    } catch {
      // no segment closed yet
    }
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    for (; seen < lines.length; seen++) {
      const [name, start, end] = lines[seen]!.split(",");
      const chunk: LiveChunk = { index: offset + seen, file: path.join(chunkDir, name!), start: Number(start), duration: Math.max(0.001, Number(end) - Number(start)), size: 0, status: "pending", attempts: 0 };
      // A resumed session's timestamps start again at 0: players are told at its first segment.
      if (seen === 0 && offset > 0) chunk.discontinuity = true;
      state.chunks.push(chunk);
      if (encryptor) chunk.minute = chunkMinutes(state.chunks).at(-1);
      save();
      events.onChunk?.({ ...chunk });
      uploading = uploading.then(() => register(chunk)).then(() => upload(chunk)).then(() => (chunk.status === "uploaded" ? writePlaylist(options.home, state, false) : undefined));
      lastActivity = Date.now();
      activitySeen = true;
    }
    // The segment being written growing counts as activity too (a long segment is not idleness).
    const growing = await stat(path.join(chunkDir, `chunk-${String(seen).padStart(5, "0")}.ts`)).then((s) => s.size, () => -1);
    if (growing !== currentSize) {
      if (growing > 0) activitySeen = true;
      currentSize = growing;
      lastActivity = Date.now();
    }
    if ((options.rtmp || options.input === "-") && activitySeen && Date.now() - lastActivity > idle) stop();
  };
  let finished = false;
  const poller = (async () => {
    while (!finished) {
      await poll();
      await sleep(200);
    }
  })();
  await Promise.race([feed, feedStopped]);
  const code = await ffDone;
  finished = true;
  await poller;
  await poll();
  await uploading;
  options.signal?.removeEventListener("abort", stop);
  state.endedAt = new Date().toISOString();

  // ffmpeg stopped with SIGINT exits 255 after closing its segments.
  const ok = code === 0 || (stopped && code === 255);
  if (!ok || state.chunks.length === offset) {
    state.status = "failed";
    state.error = !ok ? `ffmpeg exited with ${code}: ${ffErr.trim().split("\n").slice(-3).join(" | ") || "no output"}` : "the input produced no media";
    save();
    events.onStatus?.(state);
    return state;
  }
  const failed = state.chunks.filter((c) => c.status !== "uploaded");
  if (failed.length > 0) {
    state.status = "failed";
    state.error = `${failed.length} chunk(s) could not be stored: ${failed.map((c) => `#${c.index} ${c.error}`).join("; ")}; run live --id ${state.id} again to continue, or live --finalize ${state.id} to end it with what is stored`;
    save();
    events.onStatus?.(state);
    return state;
  }
  return finish(options, state, encryptor, save, events);
}

/** Ends the stream: ENDLIST, the final manifest stored and set on chain (registered if the live registration never happened). */
async function finish(options: Pick<LiveOptions, "home" | "store" | "chain" | "tier" | "rules" | "retries" | "retryDelayMs">, state: LiveState, encryptor: ContentEncryptor | undefined, save: () => void, events: LiveEvents): Promise<LiveState> {
  state.status = "finalizing";
  save();
  events.onStatus?.(state);
  writePlaylist(options.home, state, true);
  try {
    if (!state.kind) await probeKind(state, state.chunks[0]!.file);
    const bytes = serializeManifest(buildManifest(state, encryptor, "ended"));
    const put = await pRetry(() => options.store.put(bytes, { pieceCid: pieceCidOf(bytes) }), { retries: options.retries ?? 8, minTimeout: options.retryDelayMs ?? 200, maxTimeout: 2000 });
    state.manifestCid = put.pieceCid;
    save();
    const reg = await pRetry(
      () => registerContent(options.chain, { externalId: state.externalId, manifestCid: put.pieceCid, tier: options.tier, rules: options.rules, onSent: (hash) => ((state.finalTx = hash), save()) }),
      { retries: 2 },
    );
    state.finalTx = reg.txHash ?? state.finalTx;
    state.registerTx ??= state.finalTx;
    state.status = "complete";
    state.error = undefined;
  } catch (err) {
    state.status = "failed";
    state.error = (err as Error).message;
  }
  save();
  events.onStatus?.(state);
  return state;
}

/**
 * `live --finalize <id>`: ends a stream whose encoder never came back (interrupted or failed):
 * chunks ffmpeg closed but that were not stored yet are stored now (their files are still there),
 * the rest of the timeline stops at the first chunk that cannot be, and the stream ends as usual.
 */
export async function finalizeLive(options: Pick<LiveOptions, "home" | "store" | "keyStore" | "chain" | "retries" | "retryDelayMs" | "rules" | "events"> & { id: string }): Promise<LiveState> {
  const previous = readLiveState(options.home, options.id);
  if (!previous) throw new Error(`no live stream "${options.id}" in ${path.join(options.home, "live")}`);
  if (previous.status === "complete") return previous;
  if (previous.status === "recording" || previous.status === "finalizing") throw new Error(`live stream "${options.id}" is still ${previous.status} (process ${previous.pid}); stop that process first`);
  const state: LiveState = { ...previous, status: "finalizing", pid: process.pid, endedAt: previous.endedAt ?? new Date().toISOString() };
  const save = () => writeFileAtomic(path.join(liveDir(options.home, state.id), "state.json"), JSON.stringify(state, null, 2) + "\n");
  const events = options.events ?? {};
  const full: LiveOptions = { ...options, input: state.input, tier: state.tier };
  const encryptor = await contentEncryptor(full, state);
  const upload = chunkUploader(full, state, encryptor, save, events);
  const kept: LiveChunk[] = [];
  for (const chunk of state.chunks) {
    if (chunk.status !== "uploaded") {
      if (!existsSync(chunk.file)) break;
      await upload(chunk);
      if ((chunk.status as LiveChunk["status"]) !== "uploaded") break; // upload() changed it
    }
    kept.push(chunk);
  }
  state.chunks = kept;
  if (kept.length === 0) {
    state.status = "failed";
    state.error = "nothing was stored: there is no stream to end";
    save();
    return state;
  }
  return finish({ ...full, tier: state.tier }, state, encryptor, save, events);
}

async function probeKind(state: LiveState, file: string): Promise<void> {
  const probe = await runTool("ffprobe", ["-v", "error", "-show_streams", "-of", "json", file]);
  const streams = (JSON.parse(probe.stdout.toString("utf8") || "{}") as { streams?: { codec_type: string; width?: number; height?: number }[] }).streams ?? [];
  const video = streams.find((s) => s.codec_type === "video");
  state.kind = video ? "video" : "audio";
  if (video?.width && video.height) {
    state.width = video.width;
    state.height = video.height;
  }
}

/** The manifest of the stream: "live" (registered at the start, segments still coming) or "ended" (every stored segment, a VOD). */
export function buildManifest(state: LiveState, encryptor: ContentEncryptor | undefined, status: "live" | "ended"): Manifest {
  const segments = status === "live" ? [] : liveSegments(state, encryptor !== undefined);
  const duration = segments.reduce((s, c) => s + (c.duration ?? 0), 0);
  const bytes = segments.reduce((s, x) => s + x.size, 0);
  const average = Math.round((bytes * 8) / Math.max(duration, 0.001));
  const rates = segments.filter((s) => (s.duration ?? 0) >= 1).map((s) => (s.size * 8) / s.duration!);
  const peak = Math.round(Math.max(average, ...rates, 0)) || 192_000;
  const video = state.kind === "video";
  const codecs = video ? "avc1.64001f,mp4a.40.2" : "mp4a.40.2";
  const variant: ManifestVariant = {
    name: LIVE_VARIANT,
    role: "standard",
    kind: "hls",
    codecs,
    container: "mpegts",
    bitrate: 192_000,
    averageBandwidth: average || 192_000,
    peakBandwidth: peak,
    encrypted: encryptor !== undefined,
    duration,
    playlist: LIVE_VARIANT,
    segments,
  };
  if (encryptor) variant.keyScheme = MINUTE_KEY_SCHEME;
  if (state.width && state.height) {
    variant.width = state.width;
    variant.height = state.height;
  }
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    contentId: state.contentId,
    kind: video ? "video" : "audio",
    tier: state.tier,
    copies: TIER_COPIES[state.tier],
    duration,
    tags: { title: state.title },
    source: { container: "live", codec: video ? "h264+aac" : "aac", size: state.inputBytes, lossless: false },
    variants: [variant],
    playlists: {
      [LIVE_VARIANT]:
        status === "live"
          ? eventPlaylist([], "/piece/", { targetDuration: state.targetDuration ?? 10, ended: false })
          : // the ended EVENT playlist (a VOD to players), with the resumed sessions' discontinuities
            eventPlaylist(storedPrefix(state).map((c) => ({ pieceCid: c.pieceCid!, duration: c.duration, discontinuity: c.discontinuity })), "/piece/", { targetDuration: state.targetDuration ?? 10, ended: true }),
      master: masterPlaylist([{ uri: `${LIVE_VARIANT}.m3u8`, peakBandwidth: peak, averageBandwidth: variant.averageBandwidth, codecs, width: variant.width, height: variant.height }]),
    },
    pieceUrlPrefix: "/piece/",
    artwork: [],
    live: { id: state.id, status, startedAt: state.startedAt },
  };
  if (encryptor) manifest.encryption = { alg: "AES-256-GCM", keyId: encryptor.keyId, aad: "SVSEG/1", nonceBytes: 12, tagBytes: 16 };
  return manifest;
}
