/**
 * Release metadata: what the creator calls a release (title, artist, album, track number,
 * description, cover) at upload, defaulting from the file's tags, and editing it later. An edit
 * stores a new manifest over the same media pieces (nothing is re-encoded or re-encrypted) plus any
 * new cover's thumbnails; its PieceCID goes on chain with `ContentAccess.updateManifest`.
 *
 *   const { manifestCid } = await editRelease(store, oldCid, { metadata: { title: "New name" }, workDir });
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod/v4";
import { StreamVaultError } from "../errors.ts";
import { canonicalJson, parseManifest, serializeManifest } from "../manifest/index.ts";
import type { Manifest, ManifestArtwork, ManifestTags } from "../manifest/index.ts";
import { pieceCidSync } from "../piece/index.ts";
import type { PieceStore } from "../storage/types.ts";
import { artworkThumbnails } from "./artwork.ts";
import { manifestMirrors } from "./pipeline.ts";

/**
 * What a creator may set on a release. Absent: keep (the file's tag at upload, the current value
 * when editing); "" (artist, album, description) or 0 (track number): remove.
 */
export const ReleaseMetadataSchema = z.strictObject({
  title: z.string().trim().min(1, "title cannot be empty").max(200, "title is longer than 200 characters").optional(),
  artist: z.string().trim().max(200, "artist is longer than 200 characters").optional(),
  album: z.string().trim().max(200, "album is longer than 200 characters").optional(),
  trackNumber: z.number().int("track number must be a whole number").min(0).max(999, "track number must be 0-999").optional(),
  description: z.string().trim().max(5000, "description is longer than 5000 characters").optional(),
});
export type ReleaseMetadata = z.infer<typeof ReleaseMetadataSchema>;

/** The release fields of free text input (CLI flags, form fields: every value a string); bad values are a bad_input error naming the field. */
export function parseReleaseMetadata(input: { title?: string; artist?: string; album?: string; trackNumber?: string | number; description?: string }): ReleaseMetadata {
  const raw: Record<string, unknown> = {};
  for (const key of ["title", "artist", "album", "description"] as const) if (input[key] !== undefined) raw[key] = input[key];
  if (input.trackNumber !== undefined && input.trackNumber !== "") {
    const n = Number(input.trackNumber);
    if (!/^\d+$/.test(String(input.trackNumber).trim())) throw new StreamVaultError("bad_input", `track number "${input.trackNumber}" must be a whole number such as 3 (0 removes it)`);
    raw.trackNumber = n;
  }
  const parsed = ReleaseMetadataSchema.safeParse(raw);
  if (!parsed.success) throw new StreamVaultError("bad_input", parsed.error.issues.map((i) => i.message).join("; "));
  return parsed.data;
}

/** The title an untagged file gets: its name without the extension ("Night Drive.wav" -> "Night Drive"). */
export function titleFromFileName(fileName: string): string {
  const base = path.basename(fileName, path.extname(fileName)).trim();
  return base.slice(0, 200) || "Untitled";
}

/** `tags` with the release metadata applied (see ReleaseMetadataSchema for keep / remove). */
export function applyReleaseMetadata(tags: ManifestTags, metadata: ReleaseMetadata): ManifestTags {
  const out: ManifestTags = { ...tags };
  const set = <K extends "title" | "artist" | "album" | "description">(key: K, value: string | undefined) => {
    if (value === undefined) return;
    if (value === "") delete out[key];
    else out[key] = value;
  };
  set("title", metadata.title);
  set("artist", metadata.artist);
  set("album", metadata.album);
  set("description", metadata.description);
  if (metadata.trackNumber !== undefined) {
    if (metadata.trackNumber === 0) delete out.trackNumber;
    else out.trackNumber = metadata.trackNumber;
  }
  return out;
}

export interface EditReleaseOptions {
  metadata: ReleaseMetadata;
  /** A new cover image (JPEG, PNG, WebP): its thumbnails replace the manifest's artwork. */
  artwork?: string;
  /** An album's track titles to change, by track number (1-based). */
  trackTitles?: Readonly<Record<number, string>>;
  /** Scratch directory for the thumbnails. */
  workDir: string;
  signal?: AbortSignal;
}

export interface EditReleaseResult {
  manifestCid: string;
  manifest: Manifest;
  /** false when nothing changed (the same manifest CID comes back; nothing to send on chain) */
  changed: boolean;
}

/** An album's tracks with some renamed (bad_input for a track it does not have or an empty/over-long title). */
function renameTracks(tracks: NonNullable<Manifest["tracks"]>, titles: Readonly<Record<number, string>>): NonNullable<Manifest["tracks"]> {
  const renamed = tracks.map((t) => ({ ...t, variants: [...t.variants] }));
  for (const [key, raw] of Object.entries(titles)) {
    const number = Number(key);
    const track = renamed.find((t) => t.number === number);
    if (track === undefined) throw new StreamVaultError("bad_input", `the album has tracks 1-${tracks.length}, not a track ${key}`);
    const title = raw.trim();
    if (!title || title.length > 200) throw new StreamVaultError("bad_input", `track ${number}'s title must be 1-200 characters`);
    track.title = title;
  }
  return renamed;
}

/** Read and check a manifest piece: its bytes must hash to `manifestCid`. */
export async function loadManifestPiece(store: PieceStore, manifestCid: string): Promise<Manifest> {
  const bytes = await store.get(manifestCid);
  const actual = pieceCidSync(bytes);
  if (actual !== manifestCid) throw new StreamVaultError("integrity", `manifest ${manifestCid} failed verification (its bytes hash to ${actual})`);
  return parseManifest(bytes);
}

/**
 * Store the edited manifest of a release (and the thumbnails of a new cover) and return its
 * PieceCID. The media pieces are the old manifest's own: only tags, artwork and `editedFrom` change.
 */
export async function editRelease(store: PieceStore, manifestCid: string, options: EditReleaseOptions): Promise<EditReleaseResult> {
  const previous = await loadManifestPiece(store, manifestCid);
  const { editedFrom: _previousEdit, ...rest } = previous;
  const next: Manifest = { ...rest, tags: applyReleaseMetadata(previous.tags, options.metadata) };
  if (previous.tracks !== undefined) {
    // An album's title is its album tag too: renaming the album renames both, unless the album is set on its own.
    if (options.metadata.title !== undefined && options.metadata.album === undefined) next.tags.album = options.metadata.title;
    next.tracks = renameTracks(previous.tracks, options.trackTitles ?? {});
  } else if (Object.keys(options.trackTitles ?? {}).length > 0) {
    throw new StreamVaultError("bad_input", "this release is a single track, not an album: rename it with its title (--title)");
  }
  if (options.artwork !== undefined) {
    const thumbnails = await artworkThumbnails(options.artwork, options.workDir);
    const artwork: ManifestArtwork[] = [];
    for (const t of thumbnails) {
      options.signal?.throwIfAborted();
      const bytes = await readFile(t.path);
      const stored = await store.put(bytes, { pieceCid: pieceCidSync(bytes), signal: options.signal });
      const art: ManifestArtwork = { size: t.size, width: t.width, height: t.height, format: t.format, pieceCid: stored.pieceCid, bytes: t.bytes };
      const mirrors = manifestMirrors(stored.mirrors);
      if (mirrors) art.mirrors = mirrors;
      artwork.push(art);
    }
    next.artwork = artwork;
  }
  if (canonicalJson(rest) === canonicalJson(next)) return { manifestCid, manifest: previous, changed: false };
  next.editedFrom = manifestCid;
  const bytes = serializeManifest(next);
  const result = await store.put(bytes, { pieceCid: pieceCidSync(bytes), signal: options.signal });
  return { manifestCid: result.pieceCid, manifest: next, changed: true };
}
