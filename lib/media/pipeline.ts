/**
 * The media pipeline: ingest -> variants -> HLS segments -> per-tier encryption -> PieceCIDs ->
 * publish through a PieceStore -> manifest (its PieceCID goes on chain).
 *
 *   const processed = await processMedia("song.wav", { contentId, tier: "premium", workDir });
 *   const manifestCid = await publish(processed, store, { keyStore });
 */
import { open, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { ContentEncryptor, generateContentKey, hex } from "../crypto/segment.ts";
import { CONTENT_KEY_SCHEME, MINUTE_KEY_SCHEME } from "../crypto/minute.ts";
import type { KeyStore } from "../keys/index.ts";
import { ContentIdSchema, MANIFEST_VERSION, masterPlaylist, mediaPlaylist, segmentMinutes, serializeManifest } from "../manifest/index.ts";
import type { KeyScheme, Manifest, ManifestArtwork, ManifestMirror, ManifestTags, ManifestTrack, ManifestVariant, Tier, VariantRole } from "../manifest/index.ts";
import type { PieceMirror, PieceStore, PutResult } from "../storage/types.ts";
import { backendNamed } from "../storage/set.ts";
import { makeThumbnails } from "./artwork.ts";
import type { Thumbnail } from "./artwork.ts";
import { applyReleaseMetadata, titleFromFileName } from "./release.ts";
import type { ReleaseMetadata } from "./release.ts";
import { pieceCid, pieceCidOfFile, pieceCidSync } from "../piece/index.ts";
import { forEachFile, ingestLimits, ingestMedia } from "./probe.ts";
import type { BatchResult, IngestOptions, MediaInfo } from "./probe.ts";
import { encodeVariants, limitRenditions, planVariants, PREVIEW_SECONDS } from "./transcode.ts";
import { StreamVaultError } from "../errors.ts";
import type { EncodedVariant, EncodeOptions } from "./transcode.ts";

export type { Tier } from "../manifest/index.ts";

/** Storage copies kept per tier (manifest field `copies`). */
export const TIER_COPIES: Readonly<Record<Tier, number>> = { free: 2, premium: 2, exclusive: 3 };

/** Size of the byte chunks the original file is split into (pieces hash in parallel; stays far below the piece limit). */
export const DEFAULT_ORIGINAL_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Whether a variant of `role` is stored for `tier`, and whether it is encrypted. Premium and
 * exclusive sell the full track: every full-length variant is encrypted and only the 30-second
 * preview is in the clear, unless the creator gives the standard variant away (`freeStandard`).
 */
export function tierPolicy(tier: Tier, role: VariantRole, freeStandard = false): { store: boolean; encrypt: boolean } {
  switch (tier) {
    case "free":
      return { store: role === "standard" || role === "preview", encrypt: false };
    case "premium":
      return { store: role !== "original", encrypt: role === "high" || (role === "standard" && !freeStandard) };
    case "exclusive":
      return { store: true, encrypt: role === "original" || role === "high" || (role === "standard" && !freeStandard) };
  }
}

/** Why a piece exists. */
export type PieceRole = "segment" | "original" | "artwork";

/** One piece to store. Bytes live at `path` (read when publishing, so big media never sits in memory at once). */
export interface PieceToStore {
  /** stable id within the item, e.g. "high/3", "original/0", "artwork/600" */
  id: string;
  role: PieceRole;
  path: string;
  size: number;
  encrypted: boolean;
  /** PieceCID computed during processing (unless hashPieces was false); passed to PieceStore.put */
  pieceCid?: string;
}

interface ProcessedSegment {
  index: number;
  pieceId: string;
  size: number;
  duration?: number;
  nonce?: string;
  /** minute window whose key seals the segment ("minute-hkdf" variants) */
  minute?: number;
}

/** A processed variant (manifest entry minus PieceCIDs). */
export interface ProcessedVariant {
  name: string;
  role: VariantRole;
  kind: "hls" | "file";
  codecs: string;
  container: string;
  bitrate: number;
  encrypted: boolean;
  /** how encrypted segments are keyed: per minute window (hls) or the content key (the original's byte chunks) */
  keyScheme?: KeyScheme;
  duration: number;
  /** preview: seconds into the track it starts */
  start?: number;
  width?: number;
  height?: number;
  segments: ProcessedSegment[];
}

/** Result of {@link processMedia}. The content key is a non-enumerable property: it never shows up in logs or JSON. */
export interface ProcessedMedia {
  contentId: string;
  tier: Tier;
  copies: number;
  info: MediaInfo;
  /** the manifest's tags: the file's, with the creator's release metadata applied and a title always set (absent in work dirs saved before) */
  tags?: ManifestTags;
  variants: ProcessedVariant[];
  thumbnails: Thumbnail[];
  pieces: PieceToStore[];
  pieceUrlPrefix: string;
  /** fingerprint of the content key (present when anything is encrypted) */
  keyId?: string;
  /** the content key (non-enumerable); hand it to a KeyStore, never log it */
  readonly key?: Uint8Array;
  /** An album (processAlbum): its tracks in order, each naming its variants. */
  tracks?: ProcessedTrack[];
  /** Build the manifest once every piece is stored; `pieceCids` maps piece id -> PieceCID. */
  buildManifest(pieceCids: ReadonlyMap<string, string> | Readonly<Record<string, string>>, mirrors?: ReadonlyMap<string, readonly PieceMirror[]>): Manifest;
}

/** One track of a processed album: the manifest's `tracks[]` entry minus the playlist. */
export interface ProcessedTrack {
  number: number;
  title: string;
  artist?: string;
  duration: number;
  start: number;
  variants: string[];
}

export interface ProcessOptions extends IngestOptions, Pick<EncodeOptions, "aacCoder" | "x264Preset" | "concurrency"> {
  /** Streamable renditions at most (default INGEST_MAX_RENDITIONS, else 5): the highest rungs are dropped first. */
  maxRenditions?: number;
  contentId: string;
  tier: Tier;
  /** Scratch directory for this item (HLS output, encrypted pieces, thumbnails). */
  workDir: string;
  /** Content key to use (32 bytes); generated when the tier encrypts something and none is given. */
  key?: Uint8Array;
  /** Cover image to use instead of the embedded one. */
  artwork?: string;
  /** Where the 30-second preview starts, in seconds (default 0); moved earlier when less than 30 s follow, so the preview stays whole. */
  previewStart?: number;
  /** Title, artist, album, track number, description set by the creator over the file's tags. */
  metadata?: ReleaseMetadata;
  /** The title when neither `metadata` nor the file's tags have one (default: the file's name without extension). */
  fallbackTitle?: string;
  /** Override copies (default from tier). */
  copies?: number;
  /** Premium/exclusive: give the standard variant away (stored in the clear; default false: only the preview is free). */
  freeStandard?: boolean;
  /** Prefix of segment URIs in playlists (default "/piece/"). */
  pieceUrlPrefix?: string;
  originalChunkBytes?: number;
  /** Compute PieceCIDs while other variants still encode (default true); false leaves hashing to publish. */
  hashPieces?: boolean;
  /** Album tracks (processAlbum): prefix of every variant and piece name, e.g. "t2-". */
  variantPrefix?: string;
  /** Album tracks: seconds into the album where this track starts (its segments' minute windows count from there). */
  timelineStart?: number;
  /** Album tracks: the album's one encryptor (same key; nonces unique across the whole item). */
  encryptor?: ContentEncryptor;
  /** Album tracks after the first: make no thumbnails (the album has one cover). */
  noArtwork?: boolean;
}

/**
 * Validate `file`, encode the variants its tier stores, cut ~10 s HLS segments, encrypt per tier,
 * make thumbnails and compute PieceCIDs. Throws MediaIngestError for unusable files.
 */
export async function processMedia(file: string, options: ProcessOptions): Promise<ProcessedMedia> {
  ContentIdSchema.parse(options.contentId);
  const { contentId, tier, workDir } = options;
  const pieceUrlPrefix = options.pieceUrlPrefix ?? "/piece/";
  const info = await ingestMedia(file, options);
  await mkdir(workDir, { recursive: true });

  const policy = (role: VariantRole) => tierPolicy(tier, role, options.freeStandard ?? false);
  const previewStart = previewStartOf(info.duration, options.previewStart);
  const specs = limitRenditions(planVariants(info), ingestLimits(options).maxRenditions)
    .filter((s) => policy(s.role).store)
    .map((s) => (s.role === "preview" && previewStart > 0 ? { ...s, startSeconds: previewStart } : s));
  const storeOriginal = policy("original").store;
  const needsKey = specs.some((s) => policy(s.role).encrypt) || (storeOriginal && policy("original").encrypt);
  const key = needsKey ? (options.key ?? generateContentKey()) : undefined;
  const encryptor = key ? (options.encryptor ?? new ContentEncryptor(contentId, key)) : undefined;
  const prefix = options.variantPrefix ?? "";

  const hashPieces = options.hashPieces ?? true;
  const pieces: PieceToStore[] = [];
  const hashing: Promise<void>[] = [];
  const addPiece = (piece: PieceToStore, bytes: Uint8Array | undefined) => {
    pieces.push(piece);
    if (hashPieces) {
      // Off the event loop (native threads or worker threads, lib/piece); files are streamed, not loaded.
      hashing.push((async () => void (piece.pieceCid = await (bytes ? pieceCid(bytes) : pieceCidOfFile(piece.path))))());
    }
  };

  try {
    const piecesDir = path.join(workDir, "pieces");
    await mkdir(piecesDir, { recursive: true });

    // Segments are encrypted/hashed as soon as their variant finishes encoding.
    const finishing: Promise<ProcessedVariant>[] = [];
    const finishVariant = async (encoded: EncodedVariant): Promise<ProcessedVariant> => {
      const { encrypt } = policy(encoded.spec.role);
      const segments: ProcessedSegment[] = [];
      // Encrypted HLS segments are sealed under the key of their minute window (lib/crypto/minute.ts),
      // so pay-per-minute releases can hand out one minute at a time.
      const minutes = segmentMinutes(encoded.segments.map((s) => s.duration), options.timelineStart ?? 0);
      const name = `${prefix}${encoded.spec.name}`;
      for (const [i, seg] of encoded.segments.entries()) {
        const pieceId = `${name}/${seg.index}`;
        const segment: ProcessedSegment = { index: seg.index, pieceId, size: seg.size, duration: seg.duration };
        if (encrypt) {
          const minute = minutes[i]!;
          const { sealed, nonce } = encryptor!.encrypt(name, seg.index, await readFile(seg.path), minute);
          const out = path.join(piecesDir, `${name}-${seg.index}.enc`);
          await writeFile(out, sealed);
          segment.size = sealed.length;
          segment.nonce = hex(nonce);
          segment.minute = minute;
          addPiece({ id: pieceId, role: "segment", path: out, size: sealed.length, encrypted: true }, sealed);
        } else {
          addPiece({ id: pieceId, role: "segment", path: seg.path, size: seg.size, encrypted: false }, undefined);
        }
        segments.push(segment);
      }
      const variant: ProcessedVariant = {
        name,
        role: encoded.spec.role,
        kind: "hls",
        codecs: encoded.codecs,
        container: "mpegts",
        bitrate: encoded.spec.audioBitrate + (encoded.spec.videoBitrate ?? 0),
        encrypted: encrypt,
        keyScheme: encrypt ? MINUTE_KEY_SCHEME : undefined,
        duration: encoded.duration,
        segments,
      };
      if (encoded.spec.startSeconds !== undefined) variant.start = encoded.spec.startSeconds;
      if (encoded.width !== undefined) variant.width = encoded.width;
      if (encoded.height !== undefined) variant.height = encoded.height;
      return variant;
    };

    const encoding = encodeVariants(info, specs, {
      workDir,
      concurrency: options.concurrency,
      aacCoder: options.aacCoder,
      x264Preset: options.x264Preset,
      timeoutMs: options.timeoutMs,
      onVariant: (encoded) => finishing.push(finishVariant(encoded)),
    });
    // The original needs no transcoding: chunk/encrypt/hash it while ffmpeg runs.
    const original = storeOriginal ? chunkOriginal(info, piecesDir, options.originalChunkBytes ?? DEFAULT_ORIGINAL_CHUNK_BYTES, policy("original").encrypt ? encryptor : undefined, addPiece, `${prefix}original`) : undefined;
    const thumbnails = options.noArtwork ? Promise.resolve([]) : makeThumbnails(info, workDir, options.artwork);

    // Settle every branch before reporting a failure, so no promise is left to reject unobserved.
    const [encodedR, originalR, thumbsR] = await Promise.allSettled([encoding, original, thumbnails]);
    const finishedR = await Promise.allSettled(finishing);
    const firstError = [encodedR, originalR, thumbsR, ...finishedR].find((r) => r.status === "rejected");
    if (firstError) {
      await Promise.allSettled(hashing);
      throw firstError.reason;
    }
    const encoded = (encodedR as PromiseFulfilledResult<EncodedVariant[]>).value;
    const finished = finishedR.map((r) => (r as PromiseFulfilledResult<ProcessedVariant>).value);
    const byName = new Map(finished.map((v) => [v.name, v]));
    const variants: ProcessedVariant[] = [];
    const originalVariant = (originalR as PromiseFulfilledResult<ProcessedVariant | undefined>).value;
    if (originalVariant) variants.push(originalVariant);
    for (const e of encoded) variants.push(byName.get(`${prefix}${e.spec.name}`)!);
    const thumbs = (thumbsR as PromiseFulfilledResult<Thumbnail[]>).value;
    for (const t of thumbs) {
      addPiece({ id: `artwork/${t.size}`, role: "artwork", path: t.path, size: t.bytes, encrypted: false }, undefined);
    }
    const hashedR = await Promise.allSettled(hashing);
    const hashError = hashedR.find((r) => r.status === "rejected");
    if (hashError) throw hashError.reason;
    pieces.sort((a, b) => comparePieceIds(a.id, b.id));

    const processed = {
      contentId,
      tier,
      copies: options.copies ?? TIER_COPIES[tier],
      info,
      tags: releaseTags(info.tags, options.metadata, options.fallbackTitle ?? titleFromFileName(file)),
      variants,
      thumbnails: thumbs,
      pieces,
      pieceUrlPrefix,
      buildManifest(pieceCids: ReadonlyMap<string, string> | Readonly<Record<string, string>>, mirrors?: ReadonlyMap<string, readonly PieceMirror[]>): Manifest {
        return buildManifest(processed, pieceCids, mirrors);
      },
    } as ProcessedMedia;
    if (encryptor) processed.keyId = encryptor.keyId;
    Object.defineProperty(processed, "key", { value: key, enumerable: false, writable: false });
    return processed;
  } finally {
  }
}

async function chunkOriginal(
  info: MediaInfo,
  piecesDir: string,
  chunkBytes: number,
  encryptor: ContentEncryptor | undefined,
  addPiece: (piece: PieceToStore, bytes: Uint8Array) => void,
  name = "original",
): Promise<ProcessedVariant> {
  const segments: ProcessedSegment[] = [];
  const handle = await open(info.file, "r");
  try {
    for (let index = 0, offset = 0; offset < info.size; index++, offset += chunkBytes) {
      const plain = new Uint8Array(Math.min(chunkBytes, info.size - offset));
      const { bytesRead } = await handle.read(plain, 0, plain.length, offset);
      if (bytesRead !== plain.length) throw new Error(`${info.file} changed while reading`);
      const pieceId = `${name}/${index}`;
      const out = path.join(piecesDir, `${name}-${index}${encryptor ? ".enc" : ".bin"}`);
      let stored: Uint8Array = plain;
      const segment: ProcessedSegment = { index, pieceId, size: plain.length };
      if (encryptor) {
        const { sealed, nonce } = encryptor.encrypt(name, index, plain);
        stored = sealed;
        segment.nonce = hex(nonce);
        segment.size = sealed.length;
      }
      await writeFile(out, stored);
      addPiece({ id: pieceId, role: "original", path: out, size: stored.length, encrypted: encryptor !== undefined }, stored);
      segments.push(segment);
    }
  } finally {
    await handle.close();
  }
  const codec = info.kind === "video" ? (info.video?.codec ?? "unknown") : (info.audio?.codec ?? "unknown");
  return {
    name,
    role: "original",
    kind: "file",
    codecs: codec,
    container: info.container,
    bitrate: Math.round(info.bitRate ?? (info.size * 8) / Math.max(info.duration, 0.001)),
    encrypted: encryptor !== undefined,
    keyScheme: encryptor !== undefined ? CONTENT_KEY_SCHEME : undefined,
    duration: info.duration,
    segments,
  };
}

/**
 * The preview's start for a track of `duration` seconds: a start past the end is a bad_input error;
 * one with less than PREVIEW_SECONDS after it moves back so the preview stays whole.
 */
export function previewStartOf(duration: number, requested: number | undefined): number {
  if (requested === undefined || requested === 0) return 0;
  if (!Number.isFinite(requested) || requested < 0) throw new StreamVaultError("bad_input", `preview start ${requested} must be a number of seconds from 0`);
  if (requested >= duration) throw new StreamVaultError("bad_input", `preview start ${requested} s is past the end of the ${duration.toFixed(1)} s track: choose 0 to ${Math.floor(duration)}`);
  return Math.round(Math.max(0, Math.min(requested, duration - PREVIEW_SECONDS)) * 1000) / 1000;
}

/** The file's tags with the creator's metadata over them; never without a title (an untagged file is named after the file). */
function releaseTags(fileTags: ManifestTags, metadata: ReleaseMetadata | undefined, fallbackTitle: string): ManifestTags {
  const tags = applyReleaseMetadata(fileTags, metadata ?? {});
  if (!tags.title?.trim()) tags.title = fallbackTitle;
  return tags;
}

function comparePieceIds(a: string, b: string): number {
  const [an, ai] = a.split("/");
  const [bn, bi] = b.split("/");
  return an === bn ? Number(ai) - Number(bi) : an! < bn! ? -1 : 1;
}

function lookup(pieceCids: ReadonlyMap<string, string> | Readonly<Record<string, string>>, id: string): string {
  const cid = pieceCids instanceof Map ? pieceCids.get(id) : (pieceCids as Record<string, string>)[id];
  if (cid === undefined) throw new Error(`no PieceCID for piece ${id}: store every piece before building the manifest`);
  return cid;
}

/** Mirrors of a piece id, when the store reported several copies (sorted: manifest bytes stay canonical). */
function mirrorsOf(mirrors: ReadonlyMap<string, readonly PieceMirror[]> | undefined, id: string): ManifestMirror[] | undefined {
  return manifestMirrors(mirrors?.get(id));
}

/** A piece's copies as the manifest records them (sorted: manifest bytes stay canonical); undefined for none. */
export function manifestMirrors(list: readonly PieceMirror[] | undefined): ManifestMirror[] | undefined {
  if (!list || list.length === 0) return undefined;
  return [...list]
    .map((m) => (m.location ? { backend: m.backend, location: m.location } : { backend: m.backend }))
    .sort((a, b) => (a.backend < b.backend ? -1 : a.backend > b.backend ? 1 : 0));
}

/**
 * Manifest of a processed item given the PieceCIDs its pieces were stored under, and optionally
 * where each copy lives (`PutResult.mirrors` by piece id), recorded as `mirrors` per segment/artwork.
 */
export function buildManifest(
  processed: ProcessedMedia,
  pieceCids: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  mirrors?: ReadonlyMap<string, readonly PieceMirror[]>,
): Manifest {
  const { info } = processed;
  const playlists: Record<string, string> = {};
  const variants: ManifestVariant[] = processed.variants.map((v) => {
    const segments = v.segments.map((s) => {
      const seg: ManifestVariant["segments"][number] = { index: s.index, pieceCid: lookup(pieceCids, s.pieceId), size: s.size };
      if (s.duration !== undefined) seg.duration = s.duration;
      if (s.nonce !== undefined) seg.nonce = s.nonce;
      if (s.minute !== undefined) seg.minute = s.minute;
      const m = mirrorsOf(mirrors, s.pieceId);
      if (m) seg.mirrors = m;
      return seg;
    });
    const totalBytes = segments.reduce((sum, s) => sum + s.size, 0);
    const averageBandwidth = Math.round((totalBytes * 8) / Math.max(v.duration, 0.001));
    // Peak over full-length segments; a short final segment would overstate it.
    const rates = segments.filter((s) => (s.duration ?? 0) >= 1).map((s) => (s.size * 8) / s.duration!);
    const peakBandwidth = Math.round(Math.max(averageBandwidth, ...rates));
    const variant: ManifestVariant = {
      name: v.name,
      role: v.role,
      kind: v.kind,
      codecs: v.codecs,
      container: v.container,
      bitrate: v.bitrate,
      averageBandwidth: v.kind === "file" ? v.bitrate : averageBandwidth,
      peakBandwidth: v.kind === "file" ? v.bitrate : peakBandwidth,
      encrypted: v.encrypted,
      duration: v.duration,
      segments,
    };
    if (v.keyScheme !== undefined) variant.keyScheme = v.keyScheme;
    if (v.start !== undefined) variant.start = v.start;
    if (v.width !== undefined) variant.width = v.width;
    if (v.height !== undefined) variant.height = v.height;
    if (v.kind === "hls") {
      variant.playlist = v.name;
      playlists[v.name] = mediaPlaylist(
        segments.map((s) => ({ pieceCid: s.pieceCid, duration: s.duration! })),
        processed.pieceUrlPrefix,
      );
    }
    return variant;
  });
  const master = (of: readonly ManifestVariant[]): string | undefined => {
    const full = of.filter((v) => v.kind === "hls" && v.role !== "preview").sort((a, b) => b.peakBandwidth - a.peakBandwidth);
    if (full.length === 0) return undefined;
    return masterPlaylist(full.map((v) => ({ uri: `${v.name}.m3u8`, peakBandwidth: v.peakBandwidth, averageBandwidth: v.averageBandwidth, codecs: v.codecs, width: v.width, height: v.height })));
  };
  // An album has one master per track (`t<n>-master`): one master over every track would switch tracks as it switches quality.
  const tracks = processed.tracks?.map((t) => {
    const track: ManifestTrack = { ...t, variants: [...t.variants] };
    const text = master(variants.filter((v) => t.variants.includes(v.name)));
    if (text !== undefined) {
      track.playlist = `t${t.number}-master`;
      playlists[track.playlist] = text;
    }
    return track;
  });
  const whole = tracks === undefined ? master(variants) : undefined;
  if (whole !== undefined) playlists.master = whole;
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    contentId: processed.contentId,
    kind: info.kind,
    tier: processed.tier,
    copies: processed.copies,
    duration: info.duration,
    tags: processed.tags ?? info.tags,
    source: stripUndefined({
      container: info.container,
      codec: info.kind === "video" ? (info.video?.codec ?? "unknown") : (info.audio?.codec ?? "unknown"),
      size: info.size,
      lossless: info.audio?.lossless ?? false,
      bitrate: info.bitRate,
      sampleRate: info.audio?.sampleRate,
      channels: info.audio?.channels,
      width: info.video?.width,
      height: info.video?.height,
    }),
    variants,
    playlists,
    pieceUrlPrefix: processed.pieceUrlPrefix,
    artwork: processed.thumbnails.map((t) => {
      const art: ManifestArtwork = { size: t.size, width: t.width, height: t.height, format: t.format, pieceCid: lookup(pieceCids, `artwork/${t.size}`), bytes: t.bytes };
      const m = mirrorsOf(mirrors, `artwork/${t.size}`);
      if (m) art.mirrors = m;
      return art;
    }),
  };
  if (tracks !== undefined) manifest.tracks = tracks;
  if (processed.keyId !== undefined && variants.some((v) => v.encrypted)) {
    manifest.encryption = { alg: "AES-256-GCM", keyId: processed.keyId, aad: "SVSEG/1", nonceBytes: 12, tagBytes: 16 };
  }
  return manifest;
}

export interface PublishOptions {
  /** When given, the content key is sealed into it before any piece is stored (no orphaned ciphertext). */
  keyStore?: KeyStore;
  /** Pieces stored at once (default 4). */
  concurrency?: number;
  /** Progress after each stored piece. */
  onProgress?: (storedPieces: number, totalPieces: number) => void;
  signal?: AbortSignal;
  /**
   * The store whose `webtorrent` backend seeds the published item (default: `store`). The uploader
   * passes its real store here, since it publishes through a journaling view of it.
   */
  seedStore?: PieceStore;
}

/** What publishing seeded on WebTorrent: one torrent per item (lib/storage/webtorrent seedItem). */
export interface PublishedTorrent {
  infoHash: string;
  magnet: string;
  torrentPieceCid: string;
  pieceCids: string[];
}

export interface PublishResult {
  /** PieceCID of the manifest: what goes on chain */
  manifestCid: string;
  manifest: Manifest;
  manifestBytes: Uint8Array;
  /** put() result per piece id (plus "manifest") */
  stored: Map<string, PutResult>;
  /** When the store has a `webtorrent` backend: the item's torrent (its magnet is also in the backend's torrents.json). */
  torrent?: PublishedTorrent;
}

/** Store every piece, then the manifest; resolves with the manifest PieceCID. */
export async function publish(processed: ProcessedMedia, store: PieceStore, options: PublishOptions = {}): Promise<string> {
  return (await publishDetailed(processed, store, options)).manifestCid;
}

/** Like {@link publish} but also returns the manifest, its bytes and every put() result. */
export async function publishDetailed(processed: ProcessedMedia, store: PieceStore, options: PublishOptions = {}): Promise<PublishResult> {
  if (options.keyStore && processed.key) await options.keyStore.putKey(processed.contentId, processed.key);
  const stored = new Map<string, PutResult>();
  const queue = [...processed.pieces];
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let piece = queue.shift(); piece !== undefined; piece = queue.shift()) {
      options.signal?.throwIfAborted();
      const bytes = await readFile(piece.path);
      if (bytes.length !== piece.size) throw new Error(`piece ${piece.id} at ${piece.path} changed size since processing`);
      const result = await store.put(bytes, { pieceCid: piece.pieceCid, signal: options.signal });
      if (piece.pieceCid !== undefined && result.pieceCid !== piece.pieceCid) {
        throw new Error(`store returned PieceCID ${result.pieceCid} for piece ${piece.id}, expected ${piece.pieceCid}`);
      }
      stored.set(piece.id, result);
      options.onProgress?.(++done, processed.pieces.length + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  const mirrors = new Map([...stored].flatMap(([id, r]) => (r.mirrors ? [[id, r.mirrors] as const] : [])));
  const manifest = processed.buildManifest(new Map([...stored].map(([id, r]) => [id, r.pieceCid])), mirrors);
  const manifestBytes = serializeManifest(manifest);
  const result = await store.put(manifestBytes, { pieceCid: pieceCidSync(manifestBytes), signal: options.signal });
  stored.set("manifest", result);
  options.onProgress?.(++done, processed.pieces.length + 1);
  const torrent = await seedOnWebTorrent(options.seedStore ?? store, processed.contentId, [...stored.values()].map((r) => r.pieceCid));
  return { manifestCid: result.pieceCid, manifest, manifestBytes, stored, ...(torrent ? { torrent } : {}) };
}

/**
 * Seed an item's pieces (segments, playlists, artwork, manifest) as one torrent when the store has
 * a `webtorrent` backend, so fans with no peers still get them through its web seed. Without one
 * this is a single lookup. Only pieces that backend holds are seeded (placement may have written
 * some elsewhere only).
 */
export async function seedOnWebTorrent(store: PieceStore, itemId: string, pieceCids: string[]): Promise<PublishedTorrent | undefined> {
  const backend = backendNamed(store, "webtorrent") as (PieceStore & { seedItem?: (id: string, cids: string[]) => Promise<PublishedTorrent> }) | undefined;
  if (!backend?.seedItem) return undefined;
  const held: string[] = [];
  for (const cid of new Set(pieceCids)) if (await backend.has(cid)) held.push(cid);
  if (held.length === 0) return undefined;
  const { infoHash, magnet, torrentPieceCid, pieceCids: seeded } = await backend.seedItem(itemId, held);
  return { infoHash, magnet, torrentPieceCid, pieceCids: seeded };
}

/** Process many files, continuing past failures; each result carries the ProcessedMedia or the error. */
export function processBatch(files: string[], optionsFor: (file: string, index: number) => ProcessOptions): Promise<BatchResult<ProcessedMedia>[]> {
  let i = 0;
  return forEachFile(files, (file) => processMedia(file, optionsFor(file, i++)));
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
