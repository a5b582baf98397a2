/**
 * StreamVault content manifest. The manifest is stored as a piece; its PieceCID is what goes on
 * chain. It lists every stored piece (by PieceCID) and never contains a key: every object is
 * strict, so an unknown field such as "key" fails validation.
 *
 * Versions (both parse; the pipeline writes the newest):
 *   1  every encrypted segment is sealed under the content key itself.
 *   2  every encrypted variant names its `keyScheme`: "minute-hkdf" (HLS variants: each segment
 *      under the key of its minute window, `segments[i].minute`; lib/crypto/minute.ts) or
 *      "content" (the content key, e.g. the original file's byte chunks, which have no time).
 */
import { z } from "zod/v4";
import * as Piece from "@filoz/synapse-core/piece";
import { segmentMinutes } from "./minutes.ts";
import { TIER_NAMES } from "../deployments/contract-types.ts";

/** The version the pipeline writes. */
export const MANIFEST_VERSION = 2 as const;
/** Every version that parses. */
export const MANIFEST_VERSIONS = [1, 2] as const;

const pieceCid = z.string().refine((value) => Piece.asPieceCID(value) != null, { message: "not a PieceCID v2" });
const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes}-byte lower-case hex`);
const nonNegInt = z.number().int().nonnegative();
const seconds = z.number().nonnegative().finite();

export const ContentIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "1-128 chars of A-Z a-z 0-9 . _ : -");
export const TierSchema = z.enum(TIER_NAMES);
/** "audio": the audio-only rendition of a video item (live ladders, lib/live/ladder.ts); full length, gated like "standard". */
export const VariantRoleSchema = z.enum(["original", "high", "standard", "preview", "audio"]);

/**
 * Where one copy of a piece lives (from `PutResult.mirrors`): the backend name and, when the
 * backend has one, its own address of the copy (ipfs://<root>, s3://bucket/key, magnet:...).
 * Optional everywhere: manifests written before mirrors, or by a single backend, have none.
 */
export const MirrorSchema = z.strictObject({
  backend: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "backend name: lower-case letters, digits, -"),
  location: z.string().min(1).max(2048).optional(),
});
const mirrors = z.array(MirrorSchema).min(1).optional();

export const SegmentSchema = z.strictObject({
  index: nonNegInt,
  pieceCid,
  /** stored bytes (ciphertext||tag when encrypted) */
  size: nonNegInt,
  /** seconds; absent for byte chunks of a non-streamable original */
  duration: seconds.optional(),
  /** 12-byte AES-GCM nonce, hex; present exactly when the variant is encrypted */
  nonce: hex(12).optional(),
  /** version 2, "minute-hkdf" variants only: the minute window whose key seals this segment */
  minute: nonNegInt.optional(),
  /** copies of this segment's piece, one per backend (StoreSet writes) */
  mirrors,
});

/** How the segments of an encrypted variant are keyed (version 2; version 1 is always "content"). */
export const KeySchemeSchema = z.enum(["content", "minute-hkdf"]);

export const VariantSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  role: VariantRoleSchema,
  /** "hls": ~10 s MPEG-TS segments with a media playlist; "file": the original file split into byte chunks */
  kind: z.enum(["hls", "file"]),
  /** RFC 6381 codecs (hls) or the source codec name (file) */
  codecs: z.string().min(1),
  /** "mpegts" for hls; the source container for file */
  container: z.string().min(1),
  /** target bits/s of the encoder (file: source bitrate) */
  bitrate: nonNegInt,
  /** measured average bits/s of the stored segments */
  averageBandwidth: nonNegInt,
  /** measured peak bits/s over segments (HLS BANDWIDTH) */
  peakBandwidth: nonNegInt,
  encrypted: z.boolean(),
  /** version 2: present exactly on encrypted variants */
  keyScheme: KeySchemeSchema.optional(),
  duration: seconds,
  width: nonNegInt.optional(),
  height: nonNegInt.optional(),
  /** preview only: where in the track it starts, in seconds (absent: at the beginning) */
  start: seconds.optional(),
  /** key into `playlists` (hls only) */
  playlist: z.string().optional(),
  /** at least one, except in the manifest of a stream that is live now (its segments are still coming) */
  segments: z.array(SegmentSchema),
});

/**
 * A live stream's item (lib/live): registered when the stream starts with `status: "live"` and no
 * segments yet (players read the growing list from the server: `GET /api/manifest/<cid>`,
 * `/api/hls/<cid>/<variant>.m3u8`), and replaced with `updateManifest` by the final one,
 * `status: "ended"`, listing the same pieces.
 */
export const LiveSchema = z.strictObject({
  /** the stream id under `<home>/live/` on the creator's server: `LIVE_ID` of lib/live/status.ts, copied because browsers load this file and it cannot import that one (node:fs) */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  status: z.enum(["live", "ended"]),
  startedAt: z.string().optional(),
});

export const TagsSchema = z.strictObject({
  title: z.string().optional(),
  artist: z.string().optional(),
  album: z.string().optional(),
  albumArtist: z.string().optional(),
  genre: z.array(z.string()).optional(),
  year: z.number().int().optional(),
  trackNumber: nonNegInt.optional(),
  trackTotal: nonNegInt.optional(),
  discNumber: nonNegInt.optional(),
  composer: z.array(z.string()).optional(),
  comment: z.string().optional(),
  /** the creator's notes on the release (set at upload or edited later; never read from the file) */
  description: z.string().max(5000).optional(),
});

export const SourceSchema = z.strictObject({
  container: z.string(),
  codec: z.string(),
  size: nonNegInt,
  lossless: z.boolean(),
  bitrate: nonNegInt.optional(),
  sampleRate: nonNegInt.optional(),
  channels: nonNegInt.optional(),
  width: nonNegInt.optional(),
  height: nonNegInt.optional(),
});

export const ArtworkSchema = z.strictObject({
  /** bounding box requested (px) */
  size: nonNegInt,
  width: nonNegInt,
  height: nonNegInt,
  format: z.literal("jpeg"),
  pieceCid,
  bytes: nonNegInt,
  /** copies of this artwork's piece, one per backend */
  mirrors,
});

export const EncryptionSchema = z.strictObject({
  alg: z.literal("AES-256-GCM"),
  /** public key fingerprint (lib/crypto keyIdOf), never the key */
  keyId: hex(16),
  /** AAD scheme; see lib/crypto/README.md */
  aad: z.literal("SVSEG/1"),
  nonceBytes: z.literal(12),
  tagBytes: z.literal(16),
});

/**
 * One track of an album/EP (a manifest with `tracks`): the whole album is one item on chain (one
 * content id, price, access rules and pay-per-minute channel) and each track has its own variants,
 * named `t<number>-<role>` (so each track's segments are sealed under their own minute keys, whose
 * HKDF info names the variant). Minute windows count on the album's timeline: a track's segments
 * start at `start` (the sum of the tracks before it), so one channel pays minute by minute across tracks.
 */
export const TrackSchema = z.strictObject({
  /** 1..n in album order */
  number: z.number().int().min(1).max(999),
  title: z.string().min(1).max(200),
  artist: z.string().max(200).optional(),
  duration: seconds,
  /** seconds into the album's timeline where the track starts */
  start: seconds,
  /** names of this track's entries in `variants` */
  variants: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/)).min(1),
  /** key into `playlists` of this track's master playlist (its full-length hls variants) */
  playlist: z.string().optional(),
});

export const ManifestSchema = z
  .strictObject({
    version: z.union([z.literal(1), z.literal(2)]),
    contentId: ContentIdSchema,
    kind: z.enum(["audio", "video"]),
    tier: TierSchema,
    /** storage copies to keep of every piece */
    copies: z.number().int().min(1).max(10),
    duration: seconds,
    tags: TagsSchema,
    source: SourceSchema,
    encryption: EncryptionSchema.optional(),
    variants: z.array(VariantSchema).min(1),
    /** HLS playlists by name: "master" plus one per hls variant; segment URIs are `${pieceUrlPrefix}${pieceCid}` */
    playlists: z.record(z.string(), z.string()),
    /** prefix of segment URIs inside the playlists, e.g. "/piece/" */
    pieceUrlPrefix: z.string(),
    artwork: z.array(ArtworkSchema),
    /** set on a manifest made by editing the release (lib/media/release.ts): the manifest it replaced, same media pieces */
    editedFrom: pieceCid.optional(),
    live: LiveSchema.optional(),
    /** an album/EP: its tracks in order (absent: a single track, every variant is the one track's) */
    tracks: z.array(TrackSchema).min(1).max(999).optional(),
  })
  .superRefine((m, ctx) => {
    // An album: every variant belongs to exactly one track, whose start places its minute windows.
    const trackStart = new Map<string, number>();
    m.tracks?.forEach((t, ti) => {
      if (t.number !== ti + 1) ctx.addIssue({ code: "custom", path: ["tracks", ti, "number"], message: `track numbers must be 1..n in order: expected ${ti + 1}` });
      if (t.playlist !== undefined && m.playlists[t.playlist] === undefined) ctx.addIssue({ code: "custom", path: ["tracks", ti, "playlist"], message: "track playlist missing from playlists" });
      t.variants.forEach((name, i) => {
        if (trackStart.has(name)) ctx.addIssue({ code: "custom", path: ["tracks", ti, "variants", i], message: `variant ${name} is listed by two tracks` });
        else if (!m.variants.some((v) => v.name === name)) ctx.addIssue({ code: "custom", path: ["tracks", ti, "variants", i], message: `no variant named ${name}` });
        trackStart.set(name, t.start);
      });
    });
    if (m.tracks !== undefined) {
      m.variants.forEach((v, vi) => {
        if (!trackStart.has(v.name)) ctx.addIssue({ code: "custom", path: ["variants", vi, "name"], message: "an album's every variant must belong to one of its tracks" });
      });
    }
    const anyEncrypted = m.variants.some((v) => v.encrypted);
    if (anyEncrypted !== (m.encryption !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["encryption"], message: "encryption block must be present exactly when a variant is encrypted" });
    }
    const names = new Set<string>();
    m.variants.forEach((v, vi) => {
      if (v.segments.length === 0 && m.live?.status !== "live") {
        ctx.addIssue({ code: "custom", path: ["variants", vi, "segments"], message: "a variant needs at least one segment (only a live stream's manifest may have none yet)" });
      }
      if (names.has(v.name)) ctx.addIssue({ code: "custom", path: ["variants", vi, "name"], message: "duplicate variant name" });
      names.add(v.name);
      if (v.kind === "hls" && (v.playlist === undefined || m.playlists[v.playlist] === undefined)) {
        ctx.addIssue({ code: "custom", path: ["variants", vi, "playlist"], message: "hls variant needs a playlist present in playlists" });
      }
      if (m.version === 1 && v.keyScheme !== undefined) {
        ctx.addIssue({ code: "custom", path: ["variants", vi, "keyScheme"], message: "keyScheme needs manifest version 2" });
      }
      if (m.version >= 2 && v.encrypted !== (v.keyScheme !== undefined)) {
        ctx.addIssue({ code: "custom", path: ["variants", vi, "keyScheme"], message: "keyScheme present exactly on encrypted variants (version 2)" });
      }
      const minuteKeyed = v.keyScheme === "minute-hkdf";
      if (minuteKeyed && v.kind !== "hls") {
        ctx.addIssue({ code: "custom", path: ["variants", vi, "keyScheme"], message: "minute-hkdf keys need an hls variant (segments with durations)" });
      }
      const expected = minuteKeyed && v.segments.every((s) => s.duration !== undefined) ? segmentMinutes(v.segments.map((s) => s.duration!), trackStart.get(v.name) ?? 0) : undefined;
      v.segments.forEach((s, si) => {
        if (minuteKeyed !== (s.minute !== undefined)) {
          ctx.addIssue({ code: "custom", path: ["variants", vi, "segments", si, "minute"], message: "minute present exactly on segments of minute-hkdf variants" });
        } else if (expected !== undefined && s.minute !== expected[si]) {
          ctx.addIssue({ code: "custom", path: ["variants", vi, "segments", si, "minute"], message: `segment starts in minute ${expected[si]}, not ${s.minute}` });
        }
        if (s.index !== si) ctx.addIssue({ code: "custom", path: ["variants", vi, "segments", si, "index"], message: "segment indexes must be 0..n-1 in order" });
        if (v.encrypted !== (s.nonce !== undefined)) {
          ctx.addIssue({ code: "custom", path: ["variants", vi, "segments", si, "nonce"], message: "nonce present exactly on encrypted segments" });
        }
        if (v.kind === "hls" && s.duration === undefined) {
          ctx.addIssue({ code: "custom", path: ["variants", vi, "segments", si, "duration"], message: "hls segments need a duration" });
        }
      });
    });
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestVariant = z.infer<typeof VariantSchema>;
export type ManifestSegment = z.infer<typeof SegmentSchema>;
export type ManifestTags = z.infer<typeof TagsSchema>;
export type ManifestArtwork = z.infer<typeof ArtworkSchema>;
export type ManifestMirror = z.infer<typeof MirrorSchema>;
export type ManifestLive = z.infer<typeof LiveSchema>;
export type ManifestTrack = z.infer<typeof TrackSchema>;
export type Tier = z.infer<typeof TierSchema>;
export type KeyScheme = z.infer<typeof KeySchemeSchema>;

/** How an encrypted variant's segments are keyed ("content" for every version-1 manifest); undefined for clear variants. */
export function variantKeyScheme(variant: Pick<ManifestVariant, "encrypted" | "keyScheme">): KeyScheme | undefined {
  if (!variant.encrypted) return undefined;
  return variant.keyScheme ?? "content";
}
export type VariantRole = z.infer<typeof VariantRoleSchema>;

/** The variants of album track `number` (1-based); of a single-track manifest, all of them (`number` 1 or absent). */
export function trackVariants(manifest: Pick<Manifest, "variants" | "tracks">, number?: number): ManifestVariant[] {
  if (manifest.tracks === undefined) {
    if (number !== undefined && number !== 1) throw new RangeError(`this release has one track, not a track ${number}`);
    return manifest.variants;
  }
  const track = manifest.tracks.find((t) => t.number === (number ?? 1));
  if (track === undefined) throw new RangeError(`this album has tracks 1-${manifest.tracks.length}, not ${number}`);
  return manifest.variants.filter((v) => track.variants.includes(v.name));
}
