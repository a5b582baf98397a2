/**
 * Ingest validation and metadata: a file is accepted only if ffprobe recognises it and ffmpeg
 * decodes it end to end (never by extension). Tags, duration, bitrate and embedded artwork come
 * from music-metadata, with ffprobe as the fallback.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { MediaIngestError } from "./errors.ts";
import { lastLines, runTool } from "./ffmpeg.ts";

export interface AudioStreamInfo {
  codec: string;
  sampleRate: number;
  channels: number;
  /** bits/s when known */
  bitRate?: number;
  bitsPerSample?: number;
  lossless: boolean;
}

export interface VideoStreamInfo {
  codec: string;
  width: number;
  height: number;
  frameRate?: number;
}

/** Normalised tags; absent fields are omitted. */
export interface MediaTags {
  title?: string;
  artist?: string;
  album?: string;
  albumArtist?: string;
  genre?: string[];
  year?: number;
  trackNumber?: number;
  trackTotal?: number;
  discNumber?: number;
  composer?: string[];
  comment?: string;
}

export interface EmbeddedPicture {
  format: string;
  data: Uint8Array;
}

/** What ingest learned about an accepted file. */
export interface MediaInfo {
  file: string;
  size: number;
  kind: "audio" | "video";
  /** ffprobe container name, e.g. "wav", "flac", "mp3", "mov,mp4,m4a,3gp,3g2,mj2" */
  container: string;
  /** seconds, as decoded */
  duration: number;
  /** overall bits/s */
  bitRate?: number;
  audio?: AudioStreamInfo;
  video?: VideoStreamInfo;
  tags: MediaTags;
  picture?: EmbeddedPicture;
}

export interface IngestOptions {
  /** Reject files larger than this many bytes. Default 4 GiB. */
  maxBytes?: number;
  /** Kill a decoder that runs longer than this. Default 10 minutes. */
  timeoutMs?: number;
}

/** Default size limit for one upload. */
export const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

const LOSSLESS_CODECS = new Set(["flac", "alac", "wavpack", "ape", "tta", "mlp", "truehd", "shorten", "tak"]);

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  sample_rate?: string;
  channels?: number;
  bit_rate?: string;
  bits_per_raw_sample?: string;
  bits_per_sample?: number;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  disposition?: { attached_pic?: number };
}
interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; bit_rate?: string; tags?: Record<string, string> };
}

/**
 * Validate a media file by decoding it and read its metadata.
 * Throws {@link MediaIngestError} (file + reason + advice) for missing, empty, oversized,
 * unsupported, corrupt or truncated files.
 */
export async function ingestMedia(file: string, options: IngestOptions = {}): Promise<MediaInfo> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new MediaIngestError(file, "unsupported", "not a regular file");
    size = info.size;
  } catch (err) {
    if (err instanceof MediaIngestError) throw err;
    throw new MediaIngestError(file, "not-found", (err as Error).message);
  }
  if (size === 0) throw new MediaIngestError(file, "empty", "0 bytes");
  if (size > maxBytes) throw new MediaIngestError(file, "too-large", `${size} bytes, limit ${maxBytes}`);

  const probe = await runTool("ffprobe", ["-v", "error", "-show_format", "-show_streams", "-of", "json", file], { timeoutMs });
  let parsed: ProbeOutput = {};
  try {
    parsed = JSON.parse(probe.stdout.toString("utf8") || "{}") as ProbeOutput;
  } catch {
    parsed = {};
  }
  if (probe.code !== 0 || parsed.format === undefined) {
    throw new MediaIngestError(file, "unsupported", `not a recognised media format: ${lastLines(probe.stderr, 2) || "ffprobe found no format"}`);
  }
  const container = parsed.format.format_name ?? "unknown";
  const streams = parsed.streams ?? [];
  const audioStream = streams.find((s) => s.codec_type === "audio");
  const videoStream = streams.find((s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1);
  const isImage = /(^|,)(image2|[a-z0-9]+_pipe)(,|$)/.test(container);
  if (isImage || (audioStream === undefined && videoStream === undefined)) {
    throw new MediaIngestError(file, "unsupported", isImage ? `still image (${container})` : `no audio or video stream in ${container}`);
  }
  const kind: "audio" | "video" = videoStream !== undefined ? "video" : "audio";

  const decoded = await decodeCheck(file, kind, timeoutMs);
  const metadata = await readMusicMetadata(file);
  const declared = Math.max(num(parsed.format.duration) ?? 0, metadata?.duration ?? 0);
  // Video is decoded keyframes-only (cheap), so its decoded end can trail by up to a GOP.
  const slack = kind === "video" ? Math.max(12, declared * 0.03) : Math.max(0.5, declared * 0.03);
  if (decoded.duration <= 0) throw new MediaIngestError(file, "corrupt", decoded.errors || "nothing decodable");
  if (declared > 0 && decoded.duration < declared - slack) {
    throw new MediaIngestError(file, "truncated", `decodes ${decoded.duration.toFixed(2)} s of ${declared.toFixed(2)} s declared`);
  }
  if (decoded.errors) {
    const nearEnd = declared > 0 && decoded.duration < declared - 0.05;
    throw new MediaIngestError(file, nearEnd ? "truncated" : "corrupt", `decoder errors: ${decoded.errors}`);
  }

  const audio: AudioStreamInfo | undefined = audioStream && {
    codec: audioStream.codec_name ?? "unknown",
    sampleRate: num(audioStream.sample_rate) ?? 0,
    channels: audioStream.channels ?? 0,
    bitRate: num(audioStream.bit_rate) ?? metadata?.bitrate,
    bitsPerSample: num(audioStream.bits_per_raw_sample) || audioStream.bits_per_sample || undefined,
    lossless: (audioStream.codec_name ?? "").startsWith("pcm_") || LOSSLESS_CODECS.has(audioStream.codec_name ?? ""),
  };
  const video: VideoStreamInfo | undefined = videoStream && {
    codec: videoStream.codec_name ?? "unknown",
    width: videoStream.width ?? 0,
    height: videoStream.height ?? 0,
    frameRate: frameRate(videoStream.avg_frame_rate),
  };
  const info: MediaInfo = {
    file,
    size,
    kind,
    container,
    duration: round3(decoded.duration),
    tags: mergeTags(metadata?.tags ?? {}, parsed.format.tags ?? {}, file),
  };
  const bitRate = num(parsed.format.bit_rate);
  if (bitRate !== undefined) info.bitRate = bitRate;
  if (audio) info.audio = stripUndefined(audio);
  if (video) info.video = stripUndefined(video);
  if (metadata?.picture) info.picture = metadata.picture;
  return info;
}

/** Result of trying one file in a batch. */
export type BatchResult<T> = { file: string; ok: true; value: T } | { file: string; ok: false; error: MediaIngestError | Error };

/**
 * Run `work` on every file in order, continuing past failures; each result says ok or carries the error.
 * Used for batch ingest and batch processing.
 */
export async function forEachFile<T>(files: string[], work: (file: string) => Promise<T>): Promise<BatchResult<T>[]> {
  const results: BatchResult<T>[] = [];
  for (const file of files) {
    try {
      results.push({ file, ok: true, value: await work(file) });
    } catch (err) {
      results.push({ file, ok: false, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  return results;
}

/** Validate many files; failures are reported per file and do not stop the batch. */
export function ingestBatch(files: string[], options: IngestOptions = {}): Promise<BatchResult<MediaInfo>[]> {
  return forEachFile(files, (file) => ingestMedia(file, options));
}

async function decodeCheck(file: string, kind: "audio" | "video", timeoutMs: number): Promise<{ duration: number; errors: string }> {
  const args = ["-hide_banner", "-nostdin", "-v", "error"];
  if (kind === "video") args.push("-skip_frame:v", "nokey");
  args.push("-i", file, "-map", "0:a:0?", "-map", "0:v:0?", "-f", "null", "-progress", "pipe:1", "-nostats", "-");
  const result = await runTool("ffmpeg", args, { timeoutMs });
  let duration = 0;
  for (const match of result.stdout.toString("utf8").matchAll(/^out_time_us=(\d+)$/gm)) duration = Number(match[1]) / 1e6;
  const errors = lastLines(result.stderr, 3);
  if (result.code !== 0) return { duration: 0, errors: errors || `ffmpeg exit ${result.code}` };
  return { duration, errors };
}

interface MusicMetadataResult {
  duration?: number;
  bitrate?: number;
  tags: MediaTags;
  picture?: EmbeddedPicture;
}

async function readMusicMetadata(file: string): Promise<MusicMetadataResult | undefined> {
  const { parseFile } = await import("music-metadata");
  try {
    const meta = await parseFile(file, { skipCovers: false });
    const c = meta.common;
    const tags: MediaTags = {
      title: c.title,
      artist: c.artist,
      album: c.album,
      albumArtist: c.albumartist,
      genre: c.genre && c.genre.length > 0 ? c.genre : undefined,
      year: c.year,
      trackNumber: c.track.no ?? undefined,
      trackTotal: c.track.of ?? undefined,
      discNumber: c.disk.no ?? undefined,
      composer: c.composer && c.composer.length > 0 ? c.composer : undefined,
      comment: c.comment?.[0]?.text,
    };
    const cover = c.picture?.find((p) => /front/i.test(p.type ?? "")) ?? c.picture?.[0];
    return {
      duration: meta.format.duration,
      bitrate: meta.format.bitrate,
      tags: stripUndefined(tags),
      picture: cover ? { format: cover.format, data: new Uint8Array(cover.data) } : undefined,
    };
  } catch {
    // music-metadata does not know every container ffmpeg does; ffprobe tags are the fallback.
    return undefined;
  }
}

function mergeTags(primary: MediaTags, probeTags: Record<string, string>, file: string): MediaTags {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(probeTags)) lower[k.toLowerCase()] = v;
  const year = num(lower.date?.slice(0, 4));
  const merged: MediaTags = {
    ...stripUndefined({
      title: lower.title,
      artist: lower.artist,
      album: lower.album,
      albumArtist: lower.album_artist,
      genre: lower.genre ? [lower.genre] : undefined,
      year,
    }),
    ...primary,
  };
  if (merged.title === undefined) merged.title = path.basename(file, path.extname(file));
  return merged;
}

function num(value: string | number | undefined): number | undefined {
  if (value === undefined || value === "N/A" || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function frameRate(text: string | undefined): number | undefined {
  const [a, b] = (text ?? "").split("/").map(Number);
  return a && b ? round3(a / b) : undefined;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
