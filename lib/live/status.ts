/**
 * The live stream record: `<home>/live/<id>/state.json`, written only by the archiving process
 * (lib/live/archiver.ts) and read by everyone else through this file: `streamvault live-status`,
 * the web server (`GET /api/live/<id>`, the live manifest overlay, the growing playlist) under the
 * same STREAMVAULT_HOME. Node built-ins only, so the web server loads it without the media stack.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Hex } from "viem";
import { keccak256, stringToBytes } from "viem";
import { segmentMinutes } from "../manifest/minutes.ts";
import type { ManifestSegment } from "../manifest/schema.ts";
import { isAlive } from "../catalog/uploads/journal.ts";
import type { Tier } from "../catalog/chain/content.ts";

export type ChunkStatus = "pending" | "uploading" | "retrying" | "uploaded" | "failed";

/** One rendition of the live ladder (lib/live/ladder.ts): a manifest variant and its playlist, both named `name`. */
export interface LiveRendition {
  name: string;
  /** manifest variant role: the video rungs "high" (1080p/720p) or "standard" (480p/360p), audio input 320k "high" / 192k "standard", the audio-only rendition of a video stream "audio" */
  role: "high" | "standard" | "audio";
  /** video rungs only */
  width?: number;
  height?: number;
  videoBitrate?: number;
  audioBitrate: number;
  /** RFC 6381 codecs for the master playlist */
  codecs: string;
}

/** Segment n of one rendition. */
export interface RenditionPiece {
  file: string;
  size?: number;
  pieceCid?: string;
  storedSize?: number;
  nonce?: string;
  /** store puts tried */
  attempts?: number;
}

/**
 * Segment n of the stream: the same time span in every rendition (the ladder's segments are cut at
 * the same forced keyframes). It counts as stored ("uploaded") once every rendition's piece is;
 * `pieceCid`/`file` are the top rendition's, `size`/`storedSize` the sums over all of them.
 */
export interface LiveChunk {
  index: number;
  file: string;
  start: number;
  duration: number;
  size: number;
  status: ChunkStatus;
  attempts: number;
  /** minute window whose key seals it (encrypted streams) */
  minute?: number;
  pieceCid?: string;
  storedSize?: number;
  nonce?: string;
  /** first segment of a resumed session (its timestamps start again): #EXT-X-DISCONTINUITY before it */
  discontinuity?: boolean;
  /** when the store put succeeded (ISO time) */
  storedAt?: string;
  error?: string;
  /** each rendition's piece of this segment, by rendition name (absent in records written before the ladder: one rendition, LIVE_VARIANT, at the top level) */
  renditions?: Record<string, RenditionPiece>;
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
  width?: number;
  height?: number;
  /** the ladder, highest first (absent in records written before the ladder: one rendition named LIVE_VARIANT) */
  renditions?: LiveRendition[];
  /** HLS EXT-X-TARGETDURATION of the live playlist (fixed for the whole stream) */
  targetDuration?: number;
  chunks: LiveChunk[];
  /** the manifest registered when the stream started (marked live, no segments) */
  liveManifestCid?: string;
  /** the final manifest (every stored segment), set with updateManifest when the stream ended */
  manifestCid?: string;
  registerTx?: Hex;
  finalTx?: Hex;
  /** LiveStreams on chain (when the streaming process announces it): "live" once startLive is mined, "ended" once endLive is */
  liveOnChain?: "live" | "ended";
  liveStartTx?: Hex;
  liveEndTx?: Hex;
  /** the live-state transaction that failed last (retried when the stream ends, or by `live --finalize`); cleared when one succeeds */
  liveOnChainError?: string;
  /** store writes that failed (each retried until it succeeded or the retries ran out) */
  failedWrites?: number;
  /** RTMP input: hashStreamKey(the secret stream key) (lib/live/rtmp.ts); the key itself is never stored */
  rtmpKeyHash?: string;
  /** SRT input: hashStreamKey(the stream key, its SRT passphrase) (lib/live/srt.ts); the key itself is never stored */
  srtKeyHash?: string;
  /** RTMP publishers turned away (wrong stream key, a second publisher) */
  refusedPublishers?: number;
  error?: string;
}

/** What a viewer, the studio and `live-status` see of a stream. */
export type LivePhase = "starting" | "live" | "ended" | "interrupted" | "failed";

export interface LiveStatus {
  id: string;
  contentId: Hex;
  title: string;
  tier: Tier;
  state: LivePhase;
  kind?: "audio" | "video";
  startedAt: string;
  endedAt?: string;
  chunksStored: number;
  bytesStored: number;
  /** seconds of media stored (the playlist's length) */
  secondsStored: number;
  failedWrites: number;
  /** RTMP publishers turned away (wrong stream key, a second publisher) */
  refusedPublishers: number;
  /** chunks that needed more than one write */
  retriedChunks: number;
  /** when the newest stored segment was stored */
  latestSegmentAt?: string;
  liveManifestCid?: string;
  manifestCid?: string;
  error?: string;
}

export const LIVE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Name of the one rendition (variant and playlist) of streams recorded before the ladder (lib/live/ladder.ts). */
export const LIVE_VARIANT = "live";

/** The stream's renditions, highest first (a record from before the ladder: its one rendition). */
export function renditionsOf(state: Pick<LiveState, "renditions" | "kind">): LiveRendition[] {
  return state.renditions ?? [{ name: LIVE_VARIANT, role: "standard", audioBitrate: 192_000, codecs: state.kind === "video" ? "avc1.64001f,mp4a.40.2" : "mp4a.40.2" }];
}

/** Rendition `name`'s piece of a chunk (a record from before the ladder keeps its one rendition at the top level). */
export function chunkPiece(chunk: LiveChunk, name: string): RenditionPiece | undefined {
  return chunk.renditions?.[name] ?? (name === LIVE_VARIANT && !chunk.renditions ? { file: chunk.file, size: chunk.size, pieceCid: chunk.pieceCid, storedSize: chunk.storedSize, nonce: chunk.nonce } : undefined);
}

export function liveDir(home: string, id: string): string {
  if (!LIVE_ID.test(id)) throw new RangeError(`live id "${id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  return path.join(home, "live", id);
}

/** The growing HLS playlist of a variant (EVENT while live, ENDLIST once ended); segment URIs are `/piece/<PieceCID>`. */
export function livePlaylistPath(home: string, id: string, variant = LIVE_VARIANT): string {
  return path.join(liveDir(home, id), `${variant}.m3u8`);
}

/** externalId of a live stream: keccak256("streamvault:live:<id>"). */
export function liveExternalId(id: string): Hex {
  return keccak256(stringToBytes(`streamvault:live:${id}`));
}

/** The stream's record; a recording whose process is gone (crash, kill -9) reads as "interrupted". */
export function readLiveState(home: string, id: string): LiveState | undefined {
  if (!LIVE_ID.test(id)) return undefined;
  let text: string;
  try {
    text = readFileSync(path.join(liveDir(home, id), "state.json"), "utf8");
  } catch {
    return undefined;
  }
  const state = parseLiveState(text);
  return state && withProcessChecked(state);
}

/** A record's text as read from `state.json` (undefined when it is not JSON), before the process check. */
export function parseLiveState(text: string): LiveState | undefined {
  try {
    return JSON.parse(text) as LiveState;
  } catch {
    return undefined;
  }
}

/** `state` as it stands now: a recording whose process is gone (crash, kill -9) reads as "interrupted" (a copy; `state` is not changed). */
export function withProcessChecked(state: LiveState): LiveState {
  const gone = (state.status === "recording" || state.status === "finalizing") && state.pid !== undefined && state.pid !== process.pid && !isAlive(state.pid);
  return gone ? { ...state, status: "interrupted" } : state;
}

/** The chunks a playlist may list: the stored ones from index 0 up to the first that is not stored (never a missing piece). */
export function storedPrefix(state: LiveState): LiveChunk[] {
  const out: LiveChunk[] = [];
  for (const c of state.chunks) {
    if (c.status !== "uploaded" || !c.pieceCid) break;
    out.push(c);
  }
  return out;
}

/** Minute windows of chunks from their durations, exactly as manifest validation recomputes them. */
export function chunkMinutes(chunks: readonly Pick<LiveChunk, "duration">[]): number[] {
  return segmentMinutes(chunks.map((c) => c.duration));
}

/** Manifest segments of rendition `variant` (default: the top one) in the stored prefix (what the live manifest overlay and the final manifest list). */
export function liveSegments(state: LiveState, encrypted: boolean, variant: string = renditionsOf(state)[0]!.name): ManifestSegment[] {
  return storedPrefix(state).map((c) => {
    const piece = chunkPiece(c, variant);
    if (!piece?.pieceCid) throw new Error(`stored chunk ${c.index} of live stream ${state.id} has no piece of rendition ${variant}`);
    const s: ManifestSegment = { index: c.index, pieceCid: piece.pieceCid, size: piece.storedSize!, duration: c.duration };
    if (encrypted) {
      s.nonce = piece.nonce;
      s.minute = c.minute;
    }
    return s;
  });
}

export function livePhase(state: LiveState): LivePhase {
  if (state.status === "complete") return "ended";
  if (state.status === "interrupted") return "interrupted";
  if (state.status === "failed") return "failed";
  if (state.status === "finalizing") return "live";
  return state.liveManifestCid && storedPrefix(state).length > 0 ? "live" : "starting";
}

export function liveStatus(state: LiveState): LiveStatus {
  const stored = storedPrefix(state);
  return {
    id: state.id,
    contentId: state.contentId,
    title: state.title,
    tier: state.tier,
    state: livePhase(state),
    kind: state.kind,
    startedAt: state.startedAt,
    endedAt: state.endedAt,
    chunksStored: stored.length,
    bytesStored: stored.reduce((s, c) => s + (c.storedSize ?? 0), 0),
    secondsStored: Math.round(stored.reduce((s, c) => s + c.duration, 0) * 1000) / 1000,
    failedWrites: state.failedWrites ?? 0,
    refusedPublishers: state.refusedPublishers ?? 0,
    retriedChunks: state.chunks.filter((c) => c.attempts > 1).length,
    latestSegmentAt: stored.at(-1)?.storedAt,
    liveManifestCid: state.liveManifestCid,
    manifestCid: state.manifestCid,
    error: state.error,
  };
}
