/**
 * Live streaming: one pipeline behind every input (a growing file, stdin, or an RTMP publisher
 * such as OBS, received by lib/live/rtmp.ts, which refuses any publisher without the stream's
 * secret key and hands the accepted one's media on as FLV, or an SRT caller, received by
 * lib/live/srt.ts with the key as the SRT passphrase, as MPEG-TS). An ingest ffmpeg receives the input and passes it
 * on unchanged (NUT on a pipe) once it has said what the input is; from the source's streams the
 * ladder is planned (lib/live/ladder.ts: video rungs never taller than the source plus audio-only,
 * or 320k/192k for audio) and one encoding ffmpeg cuts every rendition into short MPEG-TS segments
 * (2 s by default) with aligned boundaries. When the first segment is cut the item is registered on
 * ContentAccess with a manifest marked live (tier and rules as for uploads), so fans can open it at
 * once. Each rendition's segment is encrypted under its minute window's key for that variant (the
 * pay-per-minute scheme, lib/crypto/minute.ts) and stored with retries; only after the puts
 * succeeded is segment n appended to each rendition's growing HLS EVENT playlist
 * `<home>/live/<id>/<rendition>.m3u8`, so a playlist never names a piece that is not stored.
 * When the input ends (EOF, the publisher disconnects, or no media for the idle timeout) the
 * playlist gets `#EXT-X-ENDLIST` and the final manifest, listing the same pieces (nothing
 * re-encoded or stored twice), replaces the live one with `updateManifest`.
 * With `liveState` (the CLI's is LiveStreams on chain, lib/catalog/chain/live.ts) the stream is
 * announced live right after the registration and ended after the final manifest; a failed
 * announcement never stops the stream: it is a warning, retried at the end and by `live --finalize`.
 * The record (lib/live/status.ts) lives in `<home>/live/<id>/state.json`.
 */
import { spawn } from "node:child_process";
import { open, mkdir, readFile, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import pRetry from "p-retry";
import type { Address, Hex } from "viem";
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
import type { AccessRules, RegisterRequest, RegisterResult, Tier } from "../catalog/chain/content.ts";
import { writeFileAtomic } from "../catalog/uploads/journal.ts";
import { hashStreamKey, listenRtmp, type RtmpIngest } from "./rtmp.ts";
import { listenSrt, srtUrl, type SrtIngest } from "./srt.ts";
import { chunkMinutes, chunkPiece, LIVE_ID, LIVE_VARIANT, liveDir, liveExternalId, livePlaylistPath, liveSegments, readLiveState, renditionsOf, storedPrefix } from "./status.ts";
import type { LiveChunk, LiveRendition, LiveState, RenditionPiece } from "./status.ts";
import { ladderArgs, planLiveRenditions, renditionListFile, sourceStreamsFromLog } from "./ladder.ts";
import type { SourceStreams } from "./ladder.ts";

export { LIVE_ID, liveDir, liveExternalId, livePlaylistPath, readLiveState, liveStatus } from "./status.ts";
export type { ChunkStatus, LiveChunk, LiveRendition, LiveState, LiveStatus, LivePhase } from "./status.ts";

export interface LiveEvents {
  onChunk?(chunk: LiveChunk): void;
  onStatus?(state: LiveState): void;
  /** an RTMP publisher was turned away (the reason never includes a key) */
  onRefused?(reason: string): void;
  /** something failed that did not stop the stream (a live-state announcement); the message says what to do */
  onWarning?(message: string): void;
}

/** Announces a stream's live state to the world (LiveStreams on chain: the CLI's wallet, or the creator's in the web studio); both idempotent, resolving with a transaction hash or undefined when nothing was sent. */
export interface LiveStateAnnouncer {
  start(contentId: Hex): Promise<Hex | undefined>;
  end(contentId: Hex, segments: number): Promise<Hex | undefined>;
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

/** An SRT caller (OBS, ffmpeg) connects to srt://host:port with the stream key as its passphrase. */
export interface SrtInput {
  port: number;
  /** default 127.0.0.1: only this machine can publish */
  host?: string;
  /**
   * The secret stream key, also the SRT passphrase (10-79 characters; newStreamKey() makes one).
   * Needed again to continue a stream: ffmpeg must hold it to listen, and the record keeps only its hash.
   */
  key: string;
}

export interface LiveOptions {
  /** a growing file, "-" for stdin; ignored when `rtmp` or `srt` is given */
  input: string;
  rtmp?: RtmpInput;
  srt?: SrtInput;
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
  /** the ladder: video heights and "audio", comma-separated (default STREAMVAULT_LIVE_RENDITIONS or "720,360,audio"; lib/live/ladder.ts) */
  renditions?: string;
  /** x264 preset of the video rungs (default "veryfast") */
  x264Preset?: string;
  /** input that brings no media for this long has ended (default 10 s; RTMP and stdin once media flowed, a file that stops growing) */
  idleTimeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
  events?: LiveEvents;
  /** the bytes when input is "-" (default process.stdin): any Node Readable or async iterable, e.g. browser chunks fed in order by the web server */
  stdin?: NodeJS.ReadableStream | (AsyncIterable<Uint8Array> & { destroy?: () => void });
  /**
   * Puts a manifest (the live one, then the final one) on chain; default: `registerContent` with
   * `chain`'s wallet. The web server, which never signs for creators, passes one that waits until
   * the creator's own wallet has sent the transaction (web/lib/server/golive.ts).
   */
  register?: (request: RegisterRequest) => Promise<RegisterResult>;
  /** announces the stream live after the registration and ended after the final manifest (none: not announced); the web server, which never signs for creators, passes one that waits for the creator's wallet (web/lib/server/golive.ts) */
  liveState?: LiveStateAnnouncer;
  /** aborting ends the stream as if the input had ended (Ctrl-C) */
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rewrites the stream's record (only the streaming or finalizing process does). */
function writeRecord(home: string, state: LiveState): void {
  writeFileAtomic(path.join(liveDir(home, state.id), "state.json"), JSON.stringify(state, null, 2) + "\n");
}

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

/**
 * Stores one chunk: each rendition's segment encrypted (under its variant's key of the chunk's
 * minute) and put with retries, the renditions in parallel; the state is saved after every step.
 * A rendition stored by an earlier attempt is not stored again.
 */
function chunkUploader(options: LiveOptions, state: LiveState, encryptor: ContentEncryptor | undefined, save: () => void, events: LiveEvents) {
  const retries = options.retries ?? 8;
  const storeOne = async (chunk: LiveChunk, name: string, piece: RenditionPiece) => {
    if (piece.pieceCid) return;
    const plain = new Uint8Array(await readFile(piece.file));
    piece.size = plain.length;
    let stored: Uint8Array = plain;
    if (encryptor) {
      const { sealed, nonce } = encryptor.encrypt(name, chunk.index, plain, chunk.minute);
      stored = sealed;
      piece.nonce = hex(nonce);
    }
    const cid = pieceCidOf(stored);
    await pRetry(
      async () => {
        piece.attempts = (piece.attempts ?? 0) + 1;
        chunk.attempts = Math.max(chunk.attempts, piece.attempts);
        const put = await options.store.put(stored, { pieceCid: cid });
        piece.pieceCid = put.pieceCid;
        piece.storedSize = stored.length;
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
              chunk.error = `${name}: ${error.message}`;
              save();
              events.onChunk?.({ ...chunk });
            }
          },
        },
      );
  };
  return async (chunk: LiveChunk) => {
    chunk.status = "uploading";
    save();
    events.onChunk?.({ ...chunk });
    try {
      const names = renditionsOf(state).map((r) => r.name);
      // A record from before the ladder keeps its one rendition at the top level: carried over into the map.
      chunk.renditions ??= { [LIVE_VARIANT]: chunkPiece(chunk, LIVE_VARIANT)! };
      await Promise.all(
        names.map((name) => {
          const piece = chunk.renditions![name];
          if (!piece) throw new Error(`chunk ${chunk.index} has no ${name} segment`);
          return storeOne(chunk, name, piece);
        }),
      );
      const pieces = names.map((name) => chunk.renditions![name]!);
      chunk.pieceCid = pieces[0]!.pieceCid;
      chunk.nonce = pieces[0]!.nonce;
      chunk.size = pieces.reduce((s, p) => s + (p.size ?? 0), 0);
      chunk.storedSize = pieces.reduce((s, p) => s + (p.storedSize ?? 0), 0);
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

/** A rendition's EVENT playlist of the stored prefix. */
function renditionPlaylist(state: LiveState, name: string, ended: boolean): string {
  const segments = storedPrefix(state).map((c) => ({ pieceCid: chunkPiece(c, name)!.pieceCid!, duration: c.duration, discontinuity: c.discontinuity }));
  return eventPlaylist(segments, "/piece/", { targetDuration: state.targetDuration ?? 10, ended });
}

/** Rewrites every rendition's playlist from the stored prefix (temp file + rename: a reader sees the old or the new one, never half). */
function writePlaylist(home: string, state: LiveState, ended: boolean): void {
  for (const r of renditionsOf(state)) writeFileAtomic(livePlaylistPath(home, state.id, r.name), renditionPlaylist(state, r.name, ended));
}

/** Start a live stream (or continue an interrupted one with the same id) and run it until the input ends. */
export async function archiveLive(options: LiveOptions): Promise<LiveState> {
  if (!LIVE_ID.test(options.id)) throw new Error(`live id "${options.id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  const dir = liveDir(options.home, options.id);
  const previous = readLiveState(options.home, options.id);
  if (previous && previous.status !== "failed" && previous.status !== "interrupted") throw new Error(`live stream "${options.id}" already exists (${previous.status}); pick another --id`);
  if (previous && !previous.renditions && storedPrefix(previous).length > 0) {
    throw new Error(`live stream "${options.id}" was recorded before the rendition ladder and cannot continue: end it with live --finalize ${options.id}`);
  }
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
        input: options.rtmp ? rtmpUrl(options.rtmp) : options.srt ? srtUrl({ host: options.srt.host, port: options.srt.port }) : options.input,
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
  const save = () => writeRecord(options.home, state);
  const events = options.events ?? {};
  // RTMP: the stream's key (a continued stream keeps the one it was created with); only its hash is recorded.
  const keyHash = options.rtmp && (options.rtmp.key !== undefined ? hashStreamKey(options.rtmp.key) : previous?.rtmpKeyHash);
  if (options.rtmp && !keyHash) throw new Error(`RTMP stream "${options.id}" needs a stream key: pass rtmp.key (newStreamKey() from lib/live/rtmp.ts)`);
  if (keyHash) state.rtmpKeyHash = keyHash;
  if (options.rtmp && options.srt) throw new Error("receive either RTMP or SRT, not both");
  if (options.srt) {
    const srtKeyHash = hashStreamKey(options.srt.key);
    if (previous?.srtKeyHash && previous.srtKeyHash !== srtKeyHash) throw new Error(`that is not the SRT key of live stream "${options.id}": continue it with the key shown when it was created`);
    state.srtKeyHash = srtKeyHash;
  }
  save();
  const encryptor = await contentEncryptor(options, state);
  const upload = chunkUploader(options, state, encryptor, save, events);

  // Chunks closed but not stored by an earlier session are dropped; new ones continue the timeline.
  state.chunks = storedPrefix(state);
  const offset = state.chunks.length;
  const session = state.sessions ?? 1;
  const chunkDir = path.join(dir, `chunks-${session}`);
  await mkdir(chunkDir, { recursive: true });
  // Listening before ffmpeg starts; a publisher is refused until its publish names the key.
  let ingest: RtmpIngest | undefined;
  let srt: SrtIngest | undefined;
  if (options.srt) srt = await listenSrt({ host: options.srt.host ?? "127.0.0.1", port: options.srt.port, key: options.srt.key });
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
  const input = ingest ? ["-f", "flv", "-i", "pipe:0"] : srt ? ["-f", "mpegts", "-i", "pipe:0"] : ["-i", "pipe:0"];
  // The ingest process: receives the input and, once it has described it (stderr, -v info), passes it on unchanged.
  const ff = spawn(
    toolPath("ffmpeg"),
    ["-hide_banner", "-nostats", "-v", "info", ...input, "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy", "-f", "nut", "pipe:1"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let ffErr = "";
  let described = "";
  let source: SourceStreams | undefined;
  let sourceKnown: (s: SourceStreams | undefined) => void = () => undefined;
  const sourceFound = new Promise<SourceStreams | undefined>((resolve) => (sourceKnown = resolve));
  ff.stderr!.on("data", (d: Buffer) => {
    ffErr = (ffErr + d.toString()).slice(-4000);
    if (source) return;
    described = (described + d.toString()).slice(-1_000_000);
    source = sourceStreamsFromLog(described);
    if (source) sourceKnown(source);
  });
  const ffDone = new Promise<number>((resolve) => ff.once("close", (code) => (sourceKnown(undefined), resolve(code ?? -1))));
  // The encoding process: every rendition from the ingest's output, planned from what the source is.
  let renditions: LiveRendition[] = [];
  let ladderError: string | undefined;
  const encoderDone = (async (): Promise<number | undefined> => {
    const found = await sourceFound;
    if (!found) return undefined; // the ingest ended before it could tell what the input is
    try {
      if (state.renditions && (state.kind === "video") !== Boolean(found.video)) {
        throw new Error(`this stream was ${state.kind === "video" ? "video" : "audio only"} and the input now is ${found.video ? "video" : "audio only"}: send the same kind of stream to continue it`);
      }
      state.kind = found.video ? "video" : "audio";
      if (found.video) ({ width: state.width, height: state.height } = found.video);
      state.renditions ??= planLiveRenditions(found, options.renditions);
      renditions = state.renditions;
      save();
    } catch (err) {
      ladderError = (err as Error).message;
      ff.kill("SIGKILL");
      return undefined;
    }
    const encoder = spawn(toolPath("ffmpeg"), ladderArgs(renditions, { dir, chunkDir, session, segmentSeconds, preset: options.x264Preset }), { stdio: ["pipe", "ignore", "pipe"] });
    encoder.stderr!.on("data", (d: Buffer) => (ffErr = (ffErr + d.toString()).slice(-4000)));
    encoder.stdin!.on("error", () => undefined); // it may exit first: reported via its exit code
    ff.stdout!.pipe(encoder.stdin!);
    return new Promise<number>((resolve) => encoder.once("close", (code) => resolve(code ?? -1)));
  })();
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
    srt?.close();
    ff.stdin!.end();
    // stdin that stays open without data must not keep the stream (or the process) waiting
    if (!options.rtmp && !options.srt && options.input === "-") (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  };
  options.signal?.addEventListener("abort", stop, { once: true });

  const idle = options.idleTimeoutMs ?? 10_000;
  const feed = (async () => {
    const write = async (buf: Uint8Array) => {
      state.inputBytes += buf.length;
      if (!ff.stdin!.write(buf)) await new Promise<void>((r) => ff.stdin!.once("drain", () => r()));
    };
    // An RTMP publisher's FLV or an SRT caller's MPEG-TS.
    const received = ingest ? { media: ingest.flv, close: () => ingest!.close() } : srt ? { media: srt.ts, close: () => srt!.close() } : undefined;
    if (received) {
      try {
        for await (const chunk of received.media) {
          if (stopped) break;
          await write(chunk as Buffer);
        }
      } finally {
        received.close(); // the publisher disconnected: the stream ends (a new session continues it)
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
  // The live announcement runs beside the uploads (a slow chain must not hold the first segments back); awaited before the end.
  let announced: Promise<void> = Promise.resolve();
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
            () => (options.register ?? ((r: RegisterRequest) => registerContent(options.chain, r)))({ externalId, manifestCid: put.pieceCid, tier: options.tier, rules: options.rules, onSent: (hash) => ((state.registerTx = hash), save()) }),
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
        return;
      }
      announced = announceStart(options, state, save, events);
    })());

  let seen = 0;
  let lastActivity = Date.now();
  let activitySeen = false;
  let currentSize = -1;
  let uploading: Promise<void> = Promise.resolve();
  const poll = async () => {
    if (renditions.length === 0) return; // the encoder has not started yet
    // Segment n is ready once every rendition has closed its segment n.
    const lists = await Promise.all(
      renditions.map((r) =>
        readFile(renditionListFile(dir, session, r.name), "utf8").then(
          (text) => text.split("\n").filter((l) => l.trim() !== ""),
          () => [] as string[], // no segment closed yet
        ),
      ),
    );
    const ready = Math.min(...lists.map((l) => l.length));
    for (; seen < ready; seen++) {
      const [name, start, end] = lists[0]![seen]!.split(",");
      const pieces = Object.fromEntries(renditions.map((r, i) => [r.name, { file: path.join(chunkDir, lists[i]![seen]!.split(",")[0]!) }]));
      const chunk: LiveChunk = { index: offset + seen, file: path.join(chunkDir, name!), start: Number(start), duration: Math.max(0.001, Number(end) - Number(start)), size: 0, status: "pending", attempts: 0, renditions: pieces };
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
    const growing = await stat(path.join(chunkDir, `${renditions[0]!.name}-${String(seen).padStart(5, "0")}.ts`)).then((s) => s.size, () => -1);
    if (growing !== currentSize) {
      if (growing > 0) activitySeen = true;
      currentSize = growing;
      lastActivity = Date.now();
    }
    if ((options.rtmp || options.srt || options.input === "-") && activitySeen && Date.now() - lastActivity > idle) stop();
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
  const encoderCode = await encoderDone;
  finished = true;
  await poller;
  await poll();
  await uploading;
  await announced;
  options.signal?.removeEventListener("abort", stop);
  state.endedAt = new Date().toISOString();

  // ffmpeg stopped with SIGINT exits 255 after closing its output.
  const ok = (code === 0 || (stopped && code === 255)) && (encoderCode === undefined || encoderCode === 0);
  const why = () => (ladderError ?? `ffmpeg exited with ${encoderCode !== undefined && encoderCode !== 0 ? encoderCode : code}: ${ffErr.trim().split("\n").filter((l) => !/^\s|^(Input|Output) #|^Stream mapping|^size=|^video:/.test(l)).slice(-3).join(" | ") || "no output"}`);
  if (!ok || ladderError || state.chunks.length === offset) {
    state.status = "failed";
    state.error = !ok || ladderError ? why() : "the input produced no media";
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
async function finish(options: Pick<LiveOptions, "home" | "store" | "chain" | "tier" | "rules" | "retries" | "retryDelayMs" | "register" | "liveState">, state: LiveState, encryptor: ContentEncryptor | undefined, save: () => void, events: LiveEvents): Promise<LiveState> {
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
      () => (options.register ?? ((r: RegisterRequest) => registerContent(options.chain, r)))({ externalId: state.externalId, manifestCid: put.pieceCid, tier: options.tier, rules: options.rules, onSent: (hash) => ((state.finalTx = hash), save()) }),
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
  if (state.status === "complete") await announceEnd(options, state, save, events);
  events.onStatus?.(state);
  return state;
}

/** Live on chain (once per stream: a resumed one is live already); a failure is a warning, retried at the end. */
async function announceStart(options: Pick<LiveOptions, "liveState">, state: LiveState, save: () => void, events: LiveEvents): Promise<void> {
  if (!options.liveState || state.liveOnChain) return;
  try {
    state.liveStartTx = (await options.liveState.start(state.contentId)) ?? state.liveStartTx;
    state.liveOnChain = "live";
    state.liveOnChainError = undefined;
  } catch (err) {
    state.liveOnChainError = `marking the stream live on chain failed: ${(err as Error).message}`;
    events.onWarning?.(`${state.liveOnChainError}; the stream goes on (fans watch it as usual) and it is tried again when the stream ends`);
  }
  save();
}

/** Ended on chain after the final manifest; a failure is a warning: the stream is complete, `live --finalize` retries. */
async function announceEnd(options: Pick<LiveOptions, "liveState">, state: LiveState, save: () => void, events: LiveEvents): Promise<void> {
  if (!options.liveState || state.liveOnChain === "ended") return;
  try {
    state.liveEndTx = (await options.liveState.end(state.contentId, state.chunks.length)) ?? state.liveEndTx;
    state.liveOnChain = "ended";
    state.liveOnChainError = undefined;
  } catch (err) {
    state.liveOnChainError = `marking the stream ended on chain failed: ${(err as Error).message}`;
    events.onWarning?.(`${state.liveOnChainError}; the stream is complete and its VOD is set: run \`streamvault live --finalize ${state.id}\` to try again`);
  }
  save();
}

/**
 * `live --finalize <id>`: ends a stream whose encoder never came back (interrupted or failed):
 * chunks ffmpeg closed but that were not stored yet are stored now (their files are still there),
 * the rest of the timeline stops at the first chunk that cannot be, and the stream ends as usual.
 */
export async function finalizeLive(options: Pick<LiveOptions, "home" | "store" | "keyStore" | "chain" | "retries" | "retryDelayMs" | "rules" | "events" | "register" | "liveState"> & { id: string }): Promise<LiveState> {
  const previous = readLiveState(options.home, options.id);
  if (!previous) throw new Error(`no live stream "${options.id}" in ${path.join(options.home, "live")}`);
  if (previous.status === "complete") {
    // Complete already: only an end announcement that failed is left to retry.
    const state = { ...previous };
    await announceEnd(options, state, () => writeRecord(options.home, state), options.events ?? {});
    return state;
  }
  if (previous.status === "recording" || previous.status === "finalizing") throw new Error(`live stream "${options.id}" is still ${previous.status} (process ${previous.pid}); stop that process first`);
  const state: LiveState = { ...previous, status: "finalizing", pid: process.pid, endedAt: previous.endedAt ?? new Date().toISOString() };
  const save = () => writeRecord(options.home, state);
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

/** The manifest of the stream: "live" (registered at the start, segments still coming) or "ended" (every stored segment, a VOD): one variant and playlist per rendition, and a master listing them. */
export function buildManifest(state: LiveState, encryptor: ContentEncryptor | undefined, status: "live" | "ended"): Manifest {
  const video = state.kind === "video";
  const playlists: Record<string, string> = {};
  const variants = renditionsOf(state).map((r): ManifestVariant => {
    const segments = status === "live" ? [] : liveSegments(state, encryptor !== undefined, r.name);
    const duration = segments.reduce((s, c) => s + (c.duration ?? 0), 0);
    const bytes = segments.reduce((s, x) => s + x.size, 0);
    const target = (r.videoBitrate ?? 0) + r.audioBitrate;
    // Live: the encoder's targets (nothing measured yet); ended: measured over the stored segments.
    const average = segments.length > 0 ? Math.round((bytes * 8) / Math.max(duration, 0.001)) : target;
    const rates = segments.filter((s) => (s.duration ?? 0) >= 1).map((s) => (s.size * 8) / s.duration!);
    const variant: ManifestVariant = {
      name: r.name,
      role: r.role,
      kind: "hls",
      codecs: r.codecs,
      container: "mpegts",
      bitrate: target,
      averageBandwidth: average,
      peakBandwidth: Math.round(Math.max(average, ...rates, 0)) || target,
      encrypted: encryptor !== undefined,
      duration,
      playlist: r.name,
      segments,
    };
    if (encryptor) variant.keyScheme = MINUTE_KEY_SCHEME;
    const width = r.width ?? (state.renditions ? undefined : state.width);
    const height = r.height ?? (state.renditions ? undefined : state.height);
    if (width && height) {
      variant.width = width;
      variant.height = height;
    }
    // the ended EVENT playlist is a VOD to players, with the resumed sessions' discontinuities
    playlists[r.name] = status === "live" ? eventPlaylist([], "/piece/", { targetDuration: state.targetDuration ?? 10, ended: false }) : renditionPlaylist(state, r.name, true);
    return variant;
  });
  // In ladder order: highest rung first, the audio-only rendition last (players that mix it with
  // video levels drop it). Not by measured bandwidth: a simple picture can make a lower rung peak higher.
  playlists.master = masterPlaylist(variants.map((v) => ({ uri: `${v.name}.m3u8`, peakBandwidth: v.peakBandwidth, averageBandwidth: v.averageBandwidth, codecs: v.codecs, width: v.width, height: v.height })));
  const duration = variants[0]!.duration;
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    contentId: state.contentId,
    kind: video ? "video" : "audio",
    tier: state.tier,
    copies: TIER_COPIES[state.tier],
    duration,
    tags: { title: state.title },
    source: { container: "live", codec: video ? "h264+aac" : "aac", size: state.inputBytes, lossless: false },
    variants,
    playlists,
    pieceUrlPrefix: "/piece/",
    artwork: [],
    live: { id: state.id, status, startedAt: state.startedAt },
  };
  if (state.width && state.height) Object.assign(manifest.source, { width: state.width, height: state.height });
  if (encryptor) manifest.encryption = { alg: "AES-256-GCM", keyId: encryptor.keyId, aad: "SVSEG/1", nonceBytes: 12, tagBytes: 16 };
  return manifest;
}
