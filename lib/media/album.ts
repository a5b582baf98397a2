/**
 * Albums and EPs: several tracks as ONE release (one content id, one price, one set of access
 * rules, one pay-per-minute channel). Each track goes through the media pipeline as a single
 * release does, with its variants named `t<n>-<role>` (so every track's segments have their own
 * minute keys) and its minute windows counted on the album's timeline; the manifest lists the
 * tracks in order (lib/manifest TrackSchema). One content key, one cover (the first track's or
 * `artwork`), album-level title/artist/description in `tags`.
 *
 *   const processed = await processAlbum(["a.flac", "b.flac"], { contentId, tier: "premium", workDir, album: "Night Drive" });
 */
import path from "node:path";
import { ContentEncryptor, generateContentKey } from "../crypto/segment.ts";
import { ContentIdSchema } from "../manifest/index.ts";
import type { ManifestTags } from "../manifest/index.ts";
import type { PieceMirror } from "../storage/types.ts";
import { StreamVaultError } from "../errors.ts";
import { MediaIngestError } from "./errors.ts";
import { buildManifest, processMedia } from "./pipeline.ts";
import type { ProcessedMedia, ProcessedTrack, ProcessOptions } from "./pipeline.ts";
import { applyReleaseMetadata, titleFromFileName } from "./release.ts";

/** Tracks an album may have (the manifest allows 999; this keeps one upload within reason). */
export const MAX_ALBUM_TRACKS = 100;

export interface AlbumProcessOptions extends Omit<ProcessOptions, "variantPrefix" | "timelineStart" | "encryptor" | "noArtwork" | "fallbackTitle" | "previewStart"> {
  /** The album's title (overridden by `metadata.title` when set). */
  album: string;
  /** Per-track titles in track order (absent or "": the file's title tag, else its file name). */
  trackTitles?: readonly (string | undefined)[];
  /** Called as track `number` (1-based) of `total` starts processing (an upload job's progress). */
  onTrack?: (number: number, total: number) => void;
}

/**
 * Process `files` (in track order) as one album: each track's variants, segments, encryption and
 * PieceCIDs as processMedia makes them, under the album's one content key. Throws bad_input for
 * fewer than 2 tracks, a video file, or a file the pipeline refuses (MediaIngestError names it).
 */
export async function processAlbum(files: readonly string[], options: AlbumProcessOptions): Promise<ProcessedMedia> {
  ContentIdSchema.parse(options.contentId);
  if (files.length < 2) throw new StreamVaultError("bad_input", `an album needs at least 2 tracks, got ${files.length}: upload a single track without --album`);
  if (files.length > MAX_ALBUM_TRACKS) throw new StreamVaultError("bad_input", `an album has at most ${MAX_ALBUM_TRACKS} tracks, got ${files.length}: split it into several releases`);
  const albumTitle = (options.metadata?.title ?? options.album).trim();
  if (!albumTitle) throw new StreamVaultError("bad_input", "the album needs a title: pass --album \"Name\"");
  const { album: _album, trackTitles, metadata, onTrack, ...common } = options;
  const key = options.tier === "free" ? undefined : (options.key ?? generateContentKey());
  const encryptor = key ? new ContentEncryptor(options.contentId, key) : undefined;

  const processedTracks: ProcessedMedia[] = [];
  const tracks: ProcessedTrack[] = [];
  let start = 0;
  // One track after another: each already encodes its variants in parallel, and the machine's cores are the limit.
  for (const [i, file] of files.entries()) {
    const number = i + 1;
    const title = trackTitles?.[i]?.trim();
    onTrack?.(number, files.length);
    const track = await processMedia(file, {
      ...common,
      workDir: path.join(options.workDir, `t${number}`),
      key,
      encryptor,
      variantPrefix: `t${number}-`,
      timelineStart: start,
      noArtwork: number > 1,
      metadata: title ? { title } : undefined,
      fallbackTitle: titleFromFileName(file),
    }).catch((err: unknown) => {
      // Say which track failed: the uploader sees its number and file name, not a work path.
      if (err instanceof MediaIngestError) throw new MediaIngestError(`track ${number} (${path.basename(file)})`, err.reason, err.detail);
      throw err;
    });
    if (track.info.kind !== "audio") throw new StreamVaultError("bad_input", `track ${number} (${path.basename(file)}) is a video: an album's tracks are audio files`);
    processedTracks.push(track);
    const entry: ProcessedTrack = { number, title: track.tags!.title!, duration: track.info.duration, start, variants: track.variants.map((v) => v.name) };
    if (track.tags?.artist) entry.artist = track.tags.artist;
    tracks.push(entry);
    start += track.info.duration;
  }

  const first = processedTracks[0]!;
  const { title: _t, trackNumber: _n, trackTotal: _tt, comment: _c, ...shared } = first.info.tags;
  const base: ManifestTags = { ...shared, title: albumTitle, album: albumTitle, trackTotal: files.length };
  const tags = applyReleaseMetadata(base, { ...metadata, title: albumTitle, trackNumber: undefined });
  const processed = {
    contentId: options.contentId,
    tier: options.tier,
    copies: first.copies,
    info: { ...first.info, duration: start, size: processedTracks.reduce((sum, t) => sum + t.info.size, 0), tags, warnings: processedTracks.flatMap((t) => t.info.warnings) },
    tags,
    tracks,
    variants: processedTracks.flatMap((t) => t.variants),
    thumbnails: first.thumbnails,
    pieces: processedTracks.flatMap((t) => t.pieces),
    pieceUrlPrefix: first.pieceUrlPrefix,
    buildManifest(pieceCids: ReadonlyMap<string, string> | Readonly<Record<string, string>>, mirrors?: ReadonlyMap<string, readonly PieceMirror[]>) {
      return buildManifest(processed, pieceCids, mirrors);
    },
  } as ProcessedMedia;
  if (encryptor && processed.variants.some((v) => v.encrypted)) processed.keyId = encryptor.keyId;
  Object.defineProperty(processed, "key", { value: key, enumerable: false, writable: false });
  return processed;
}
