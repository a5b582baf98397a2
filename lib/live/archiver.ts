/**
 * Live archiving: a live input (a growing file, or stdin) is cut by ffmpeg into ~10 s MPEG-TS
 * chunks; each chunk is encrypted (unless the tier is free) and stored as soon as ffmpeg closes
 * it, with retries. When the input ends (stdin EOF, or a file that stops growing for the idle
 * timeout) the archive's manifest is stored and the archive is registered on ContentAccess like
 * any upload. State (per-chunk status) lives in `<home>/live/<id>/state.json` for `live-status`.
 */
import { spawn } from "node:child_process";
import { open, mkdir, readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import path from "node:path";
import pRetry from "p-retry";
import { keccak256, stringToBytes } from "viem";
import type { Hex } from "viem";
import { ContentEncryptor, generateContentKey, hex } from "../crypto/segment.ts";
import type { KeyStore } from "../keys/index.ts";
import { masterPlaylist, mediaPlaylist, serializeManifest } from "../manifest/index.ts";
import type { Manifest } from "../manifest/index.ts";
import { runTool, toolPath } from "../media/ffmpeg.ts";
import { TIER_COPIES } from "../media/pipeline.ts";
import { pieceCidOf } from "../storage/piece.ts";
import type { PieceStore } from "../storage/types.ts";
import type { ChainContext } from "../catalog/chain/client.ts";
import { contentIdFor, registerContent } from "../catalog/chain/content.ts";
import type { AccessRules, Tier } from "../catalog/chain/content.ts";
import { isAlive, writeFileAtomic } from "../catalog/uploads/journal.ts";

export type ChunkStatus = "pending" | "uploading" | "retrying" | "uploaded" | "failed";

export interface LiveChunk {
  index: number;
  file: string;
  start: number;
  duration: number;
  size: number;
  status: ChunkStatus;
  attempts: number;
  pieceCid?: string;
  storedSize?: number;
  nonce?: string;
  error?: string;
}

export interface LiveState {
  id: string;
  input: string;
  tier: Tier;
  title: string;
  contentId: Hex;
  externalId: Hex;
  status: "recording" | "finalizing" | "complete" | "failed" | "interrupted";
  /** process archiving it (to tell a crashed run from a running one) */
  pid?: number;
  /** recording sessions: an interrupted or failed archive continues with the same id */
  sessions?: number;
  startedAt: string;
  endedAt?: string;
  inputBytes: number;
  kind?: "audio" | "video";
  chunks: LiveChunk[];
  manifestCid?: string;
  registerTx?: Hex;
  error?: string;
}

export interface LiveEvents {
  onChunk?(chunk: LiveChunk): void;
  onStatus?(state: LiveState): void;
}

export interface LiveOptions {
  input: string;
  id: string;
  title?: string;
  tier: Tier;
  home: string;
  store: PieceStore;
  keyStore: KeyStore;
  chain: ChainContext;
  rules?: Partial<AccessRules>;
  segmentSeconds?: number;
  /** a growing file that does not grow for this long has ended (default 10 s) */
  idleTimeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
  events?: LiveEvents;
  /** stdin stream when input is "-" (default process.stdin) */
  stdin?: NodeJS.ReadableStream;
}

export function liveDir(home: string, id: string): string {
  return path.join(home, "live", id);
}

/** The archive's state; a recording whose process is gone (crash, kill -9) reads as "interrupted". */
export function readLiveState(home: string, id: string): LiveState | undefined {
  let state: LiveState;
  try {
    state = JSON.parse(readFileSync(path.join(liveDir(home, id), "state.json"), "utf8")) as LiveState;
  } catch {
    return undefined;
  }
  if ((state.status === "recording" || state.status === "finalizing") && state.pid !== undefined && state.pid !== process.pid && !isAlive(state.pid)) state.status = "interrupted";
  return state;
}

/** externalId of a live archive: keccak256("streamvault:live:<id>"). */
export function liveExternalId(id: string): Hex {
  return keccak256(stringToBytes(`streamvault:live:${id}`));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Archive a live input until it ends; resolves with the final state (status complete or failed). */
export async function archiveLive(options: LiveOptions): Promise<LiveState> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(options.id)) throw new Error(`live id "${options.id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  const dir = liveDir(options.home, options.id);
  const previous = readLiveState(options.home, options.id);
  if (previous && previous.status !== "failed" && previous.status !== "interrupted") throw new Error(`live archive "${options.id}" already exists (${previous.status}); pick another --id`);
  const segmentSeconds = options.segmentSeconds ?? 10;
  const externalId = liveExternalId(options.id);
  const contentId = contentIdFor(options.chain.account.address, externalId);
  // An interrupted/failed archive continues: its stored chunks are kept, new chunks follow them.
  const state: LiveState = previous ? { ...previous, status: "recording", pid: process.pid, sessions: (previous.sessions ?? 1) + 1, error: undefined, endedAt: undefined } : {
    pid: process.pid,
    sessions: 1,
    id: options.id,
    input: options.input,
    tier: options.tier,
    title: options.title ?? options.id,
    contentId,
    externalId,
    status: "recording",
    startedAt: new Date().toISOString(),
    inputBytes: 0,
    chunks: [],
  };
  const save = () => writeFileAtomic(path.join(dir, "state.json"), JSON.stringify(state, null, 2) + "\n");
  save();
  const events = options.events ?? {};

  let encryptor: ContentEncryptor | undefined;
  if (options.tier !== "free") {
    let key = await options.keyStore.getKey(contentId);
    if (!key) {
      key = generateContentKey();
      await options.keyStore.putKey(contentId, key, options.chain.account.address);
    }
    encryptor = new ContentEncryptor(contentId, key);
  }

  // ffmpeg cuts the input into chunks and appends a CSV line per closed chunk.
  // Chunks closed but not stored by an earlier session are dropped if their file is gone.
  state.chunks = state.chunks.filter((c) => c.status === "uploaded");
  const offset = state.chunks.length;
  const session = state.sessions ?? 1;
  const chunkDir = path.join(dir, `chunks-${session}`);
  await mkdir(chunkDir, { recursive: true });
  const listFile = path.join(dir, `chunks-${session}.csv`);
  const ff = spawn(
    toolPath("ffmpeg"),
    [
      "-hide_banner", "-v", "error", "-i", "pipe:0",
      "-map", "0:a:0?", "-map", "0:v:0?",
      "-c:a", "aac", "-b:a", "192k", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
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

  const feed = (async () => {
    const write = async (buf: Uint8Array) => {
      state.inputBytes += buf.length;
      if (!ff.stdin!.write(buf)) await new Promise<void>((r) => ff.stdin!.once("drain", () => r()));
    };
    if (options.input === "-") {
      for await (const chunk of options.stdin ?? process.stdin) await write(chunk as Buffer);
    } else {
      const idle = options.idleTimeoutMs ?? 10_000;
      const fh = await open(options.input, "r");
      try {
        const buf = Buffer.alloc(256 * 1024);
        let lastGrowth = Date.now();
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead > 0) {
            lastGrowth = Date.now();
            await write(new Uint8Array(buf.subarray(0, bytesRead)));
          } else if (Date.now() - lastGrowth > idle || ff.exitCode !== null) {
            break;
          } else {
            await sleep(150);
          }
        }
      } finally {
        await fh.close();
      }
    }
    ff.stdin!.end();
  })();

  // Upload chunks in order, as ffmpeg closes them.
  const retries = options.retries ?? 4;
  const upload = async (chunk: LiveChunk) => {
    chunk.status = "uploading";
    save();
    events.onChunk?.({ ...chunk });
    try {
      await pRetry(
        async () => {
          chunk.attempts++;
          const plain = new Uint8Array(await readFile(chunk.file));
          chunk.size = plain.length;
          let stored: Uint8Array = plain;
          if (encryptor) {
            const { sealed, nonce } = encryptor.encrypt("live", chunk.index, plain);
            stored = sealed;
            chunk.nonce = hex(nonce);
          }
          const put = await options.store.put(stored, { pieceCid: pieceCidOf(stored) });
          chunk.pieceCid = put.pieceCid;
          chunk.storedSize = stored.length;
        },
        {
          retries,
          minTimeout: options.retryDelayMs ?? 300,
          factor: 2,
          onFailedAttempt: ({ error, retriesLeft }) => {
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
      chunk.error = undefined;
    } catch (err) {
      chunk.status = "failed";
      chunk.error = (err as Error).message;
    }
    save();
    events.onChunk?.({ ...chunk });
  };

  let seen = 0;
  let uploading: Promise<void> = Promise.resolve();
  const poll = async () => {
    let text = "";
    try {
      text = await readFile(listFile, "utf8");
    } catch {
      return;
    }
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    for (; seen < lines.length; seen++) {
      const [name, start, end] = lines[seen]!.split(",");
      const chunk: LiveChunk = { index: offset + seen, file: path.join(chunkDir, name!), start: Number(start), duration: Math.max(0.001, Number(end) - Number(start)), size: 0, status: "pending", attempts: 0 };
      state.chunks.push(chunk);
      save();
      events.onChunk?.({ ...chunk });
      uploading = uploading.then(() => upload(chunk));
    }
  };
  let finished = false;
  const poller = (async () => {
    while (!finished) {
      await poll();
      await sleep(250);
    }
  })();
  await feed;
  const code = await ffDone;
  finished = true;
  await poller;
  await poll();
  await uploading;
  state.endedAt = new Date().toISOString();

  if (code !== 0 || state.chunks.length === offset) {
    state.status = "failed";
    state.error = code !== 0 ? `ffmpeg exited with ${code}: ${ffErr.trim().split("\n").slice(-3).join(" | ") || "no output"}` : "the input produced no media";
    save();
    events.onStatus?.(state);
    return state;
  }
  const failed = state.chunks.filter((c) => c.status !== "uploaded");
  if (failed.length > 0) {
    state.status = "failed";
    state.error = `${failed.length} chunk(s) could not be stored: ${failed.map((c) => `#${c.index} ${c.error}`).join("; ")}`;
    save();
    events.onStatus?.(state);
    return state;
  }

  // Finalize: manifest -> storage -> chain.
  state.status = "finalizing";
  save();
  events.onStatus?.(state);
  try {
    const probe = await runTool("ffprobe", ["-v", "error", "-show_streams", "-of", "json", state.chunks[0]!.file]);
    const streams = (JSON.parse(probe.stdout.toString("utf8") || "{}") as { streams?: { codec_type: string; width?: number; height?: number }[] }).streams ?? [];
    const video = streams.find((s) => s.codec_type === "video");
    state.kind = video ? "video" : "audio";
    const manifest = liveManifest(state, encryptor, video);
    const bytes = serializeManifest(manifest);
    const put = await pRetry(() => options.store.put(bytes, { pieceCid: pieceCidOf(bytes) }), { retries, minTimeout: options.retryDelayMs ?? 300 });
    state.manifestCid = put.pieceCid;
    save();
    const reg = await pRetry(
      () =>
        registerContent(options.chain, {
          externalId,
          manifestCid: put.pieceCid,
          tier: options.tier,
          rules: options.rules,
          onSent: (hash) => {
            state.registerTx = hash;
            save();
          },
        }),
      { retries: 2 },
    );
    state.registerTx = reg.txHash ?? state.registerTx;
    state.status = "complete";
  } catch (err) {
    state.status = "failed";
    state.error = (err as Error).message;
  }
  save();
  events.onStatus?.(state);
  return state;
}

function liveManifest(state: LiveState, encryptor: ContentEncryptor | undefined, video: { width?: number; height?: number } | undefined): Manifest {
  const segments = state.chunks.map((c) => {
    const s: Manifest["variants"][number]["segments"][number] = { index: c.index, pieceCid: c.pieceCid!, size: c.storedSize!, duration: c.duration };
    if (c.nonce) s.nonce = c.nonce;
    return s;
  });
  const duration = state.chunks.reduce((s, c) => s + c.duration, 0);
  const bytes = segments.reduce((s, x) => s + x.size, 0);
  const average = Math.round((bytes * 8) / Math.max(duration, 0.001));
  const rates = segments.filter((s) => (s.duration ?? 0) >= 1).map((s) => (s.size * 8) / s.duration!);
  const peak = Math.round(Math.max(average, ...rates));
  const codecs = video ? "avc1.64001f,mp4a.40.2" : "mp4a.40.2";
  const variant: Manifest["variants"][number] = {
    name: "live",
    role: "standard",
    kind: "hls",
    codecs,
    container: "mpegts",
    bitrate: 192_000,
    averageBandwidth: average,
    peakBandwidth: peak,
    encrypted: encryptor !== undefined,
    duration,
    playlist: "live",
    segments,
  };
  if (video?.width && video.height) {
    variant.width = video.width;
    variant.height = video.height;
  }
  const manifest: Manifest = {
    version: 1,
    contentId: state.contentId,
    kind: video ? "video" : "audio",
    tier: state.tier,
    copies: TIER_COPIES[state.tier],
    duration,
    tags: { title: state.title },
    source: { container: "live", codec: video ? "h264+aac" : "aac", size: state.inputBytes, lossless: false },
    variants: [variant],
    playlists: {
      live: mediaPlaylist(segments.map((s) => ({ pieceCid: s.pieceCid, duration: s.duration! })), "/piece/"),
      master: masterPlaylist([{ uri: "live.m3u8", peakBandwidth: peak, averageBandwidth: average, codecs, width: variant.width, height: variant.height }]),
    },
    pieceUrlPrefix: "/piece/",
    artwork: [],
  };
  if (encryptor) manifest.encryption = { alg: "AES-256-GCM", keyId: encryptor.keyId, aad: "SVSEG/1", nonceBytes: 12, tagBytes: 16 };
  return manifest;
}
