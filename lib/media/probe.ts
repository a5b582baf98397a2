/**
 * Ingest validation and metadata: a file is accepted only if ffprobe recognises it and ffmpeg
 * decodes it end to end (never by extension). Tags, duration, bitrate and embedded artwork come
 * from music-metadata, with ffprobe as the fallback. The same decoding pass measures silence, so a
 * file that is (nearly) all silence is accepted with a warning.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { MediaIngestError } from "./errors.ts";
import { lastLines, runTool } from "./ffmpeg.ts";
import { readWavLayout } from "./wav.ts";

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

/** Something about an accepted file that its uploader should hear about (the file is still ingested). */
export interface IngestWarning {
  /** "mostly-silent": the audio is below {@link SILENCE_THRESHOLD_DB} for at least {@link SILENT_WARNING_FRACTION} of its length */
  code: "mostly-silent";
  /** one sentence for people: what was found and what to check */
  message: string;
}

/** Audio quieter than this (dBFS, every channel) counts as silence. */
export const SILENCE_THRESHOLD_DB = -50;
/** Quiet stretches shorter than this (seconds) are pauses, not silence. */
export const SILENCE_MIN_SECONDS = 2;
/** Warn when at least this share of the audio is silence. */
export const SILENT_WARNING_FRACTION = 0.9;

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
  /** seconds of silence in the audio (stretches of at least SILENCE_MIN_SECONDS below SILENCE_THRESHOLD_DB); absent without audio */
  silentSeconds?: number;
  /** accepted, but worth telling the uploader (e.g. "mostly-silent"); empty when nothing is odd */
  warnings: IngestWarning[];
}

export interface IngestOptions {
  /** Reject files larger than this many bytes. Default INGEST_MAX_BYTES, else 4 GiB. */
  maxBytes?: number;
  /**
   * Reject media longer than this many seconds, from the probe (before any decoding or transcoding);
   * the decode check stops just past it, so a file that lies about its length costs no more.
   * Default INGEST_MAX_SECONDS, else 4 hours.
   */
  maxDurationSeconds?: number;
  /** Kill a decoder that runs longer than this. Default 10 minutes. */
  timeoutMs?: number;
}

/** Default size limit for one upload. */
export const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;
/** Default duration limit: a long DJ set or film fits; 10 hours of silence (~2.3 GB of segments) does not. */
export const DEFAULT_MAX_DURATION_SECONDS = 4 * 3600;
/** Default cap on streamable renditions per item (every rung of the video ladder plus the preview). */
export const DEFAULT_MAX_RENDITIONS = 5;

export interface IngestLimits {
  maxBytes: number;
  maxDurationSeconds: number;
  /** Streamable renditions per item; past it the highest (costliest) rungs are dropped, the preview kept. */
  maxRenditions: number;
}

function positiveFromEnv(env: Record<string, string | undefined>, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

/**
 * The ingest limits in force: explicit options first, then INGEST_MAX_BYTES, INGEST_MAX_SECONDS and
 * INGEST_MAX_RENDITIONS from the environment, then the defaults.
 */
export function ingestLimits(options: Partial<IngestLimits> = {}, env: Record<string, string | undefined> = process.env): IngestLimits {
  return {
    maxBytes: options.maxBytes ?? positiveFromEnv(env, "INGEST_MAX_BYTES") ?? DEFAULT_MAX_BYTES,
    maxDurationSeconds: options.maxDurationSeconds ?? positiveFromEnv(env, "INGEST_MAX_SECONDS") ?? DEFAULT_MAX_DURATION_SECONDS,
    maxRenditions: Math.max(2, Math.floor(options.maxRenditions ?? positiveFromEnv(env, "INGEST_MAX_RENDITIONS") ?? DEFAULT_MAX_RENDITIONS)),
  };
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : m > 0 ? `${m} min ${String(s).padStart(2, "0")} s` : `${s} s`;
}

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
  const { maxBytes, maxDurationSeconds } = ingestLimits(options);
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
  if (/(^|,)wav(,|$)/.test(container)) await checkWavComplete(file, num(audioStream?.bit_rate));
  const tooLong = (seconds: number) =>
    new MediaIngestError(file, "too-long", `${formatDuration(seconds)} long, the limit is ${formatDuration(maxDurationSeconds)}`);
  const probed = num(parsed.format.duration) ?? 0;
  if (probed > maxDurationSeconds) throw tooLong(probed);

  const decoded = await decodeCheck(file, kind, audioStream !== undefined, timeoutMs, maxDurationSeconds + 1);
  if (decoded.duration > maxDurationSeconds) throw tooLong(decoded.duration);
  const metadata = await readMusicMetadata(file);
  const declared = Math.max(num(parsed.format.duration) ?? 0, metadata?.duration ?? 0);
  if (declared > maxDurationSeconds) throw tooLong(declared);
  // Video's end is where its last packet is (see decodeCheck), one frame short of the declared end.
  const slack = kind === "video" ? Math.max(1, declared * 0.03) : Math.max(0.5, declared * 0.03);
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
  let duration = decoded.duration;
  // The last video packet starts one frame before the end; count that frame (never past the declared end).
  if (kind === "video" && video?.frameRate && declared > 0) duration = Math.max(duration, Math.min(declared, duration + 1 / video.frameRate));
  const info: MediaInfo = {
    file,
    size,
    kind,
    container,
    duration: round3(duration),
    tags: mergeTags(metadata?.tags ?? {}, parsed.format.tags ?? {}, file),
    warnings: [],
  };
  if (decoded.silentSeconds !== undefined) {
    const silent = Math.min(decoded.silentSeconds, duration);
    info.silentSeconds = round3(silent);
    if (duration > 0 && silent / duration >= SILENT_WARNING_FRACTION) {
      info.warnings.push({
        code: "mostly-silent",
        message:
          `the audio is silent for ${silent.toFixed(1)} s of ${duration.toFixed(1)} s (${Math.round((100 * silent) / duration)} %, below ${SILENCE_THRESHOLD_DB} dBFS): ` +
          "check that this is the file you meant to publish",
      });
    }
  }
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

/**
 * Refuse a WAV whose data chunk declares more bytes than the file holds (an interrupted copy):
 * ffmpeg would decode what is there and call it the whole track.
 */
async function checkWavComplete(file: string, streamBitRate: number | undefined): Promise<void> {
  const layout = await readWavLayout(file);
  if (layout?.declaredDataBytes === undefined) return;
  const missing = layout.declaredDataBytes - layout.presentDataBytes;
  // One sample frame of slack: some writers count a pad byte into the data size.
  if (missing <= Math.max(1, layout.blockAlign)) return;
  const bytesPerSecond = layout.byteRate || (streamBitRate ?? 0) / 8;
  const detail =
    bytesPerSecond > 0
      ? `header declares ${(layout.declaredDataBytes / bytesPerSecond).toFixed(1)} s, ${(layout.presentDataBytes / bytesPerSecond).toFixed(1)} s present`
      : `header declares ${layout.declaredDataBytes} bytes of audio, ${layout.presentDataBytes} present`;
  throw new MediaIngestError(file, "truncated", `the file is truncated: ${detail}`);
}

interface DecodeReport {
  /** seconds: the end of the decoded audio or of the demuxed video packets, whichever is later */
  duration: number;
  /** the decoder's last error lines ("" when clean) */
  errors: string;
  /** seconds of silence found by silencedetect (audio only) */
  silentSeconds?: number;
}

/** One ffmpeg pass: decode (video: keyframes only), find where the streams end, measure silence. */
async function decodeCheck(file: string, kind: "audio" | "video", hasAudio: boolean, timeoutMs: number, stopAfterSeconds: number): Promise<DecodeReport> {
  // Info level (tagged) for silencedetect's lines; errors are told apart by their level tag.
  const args = ["-hide_banner", "-nostdin", "-loglevel", "level+info"];
  if (kind === "video") args.push("-skip_frame:v", "nokey");
  args.push("-i", file, "-map", "0:a:0?", "-map", "0:v:0?");
  // A keyframes-only decode ends at the last keyframe (up to a GOP early, the whole video without
  // audio). A stream copy of the video packets to the null muxer costs no decoding and ends where
  // the packets present end, which is what tells a complete file from a cut one.
  if (kind === "video") args.push("-map", "0:v:0", "-c:v:1", "copy");
  if (hasAudio) args.push("-af", `silencedetect=noise=${SILENCE_THRESHOLD_DB}dB:duration=${SILENCE_MIN_SECONDS}`);
  // Output stops just past the duration limit: a file whose header understates its length is still cut off.
  args.push("-t", String(stopAfterSeconds), "-f", "null", "-progress", "pipe:1", "-nostats", "-");
  const result = await runTool("ffmpeg", args, { timeoutMs });
  let duration = 0;
  // out_time is the furthest end over all output streams.
  for (const match of result.stdout.toString("utf8").matchAll(/^out_time_us=(\d+)$/gm)) duration = Number(match[1]) / 1e6;
  const lines = result.stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  // "[ctx @ 0x…] [level] text" or "[level] text"; anchored, so a tag value that reads "[error]" is not one.
  const errors = lines
    .map((l) => LOG_LINE.exec(l))
    .filter((m) => m !== null && /^(error|fatal|panic)$/.test(m[2]!))
    .map((m) => `${m![1] ? `[${m![1]}] ` : ""}${m![3]}`)
    .slice(-3)
    .join(" | ");
  if (result.code !== 0) return { duration: 0, errors: errors || `ffmpeg exit ${result.code}` };
  const report: DecodeReport = { duration, errors };
  if (hasAudio) report.silentSeconds = silenceFrom(lines, duration);
  return report;
}

/** One line of ffmpeg's log with `-loglevel level+…`: [1] context (e.g. "mp3float @ 0x…"), [2] level, [3] text. */
const LOG_LINE = /^(?:\[([^\]]+ @ 0x[0-9a-f]+)\] )?\[(trace|debug|verbose|info|warning|error|fatal|panic)\] (.*)$/;

/** Total silence from silencedetect's log lines; a silence still open at the end runs to `end`. */
function silenceFrom(lines: string[], end: number): number {
  let total = 0;
  let openStart: number | undefined;
  for (const line of lines) {
    const m = LOG_LINE.exec(line);
    if (!m || !m[1]?.startsWith("silencedetect @")) continue;
    const text = m[3]!;
    const start = /^silence_start: (-?[\d.e+-]+)/.exec(text);
    if (start) openStart = Math.max(0, Number(start[1]));
    const length = /silence_duration: ([\d.e+-]+)/.exec(text);
    if (length) {
      total += Number(length[1]);
      openStart = undefined;
    }
  }
  if (openStart !== undefined && end > openStart) total += end - openStart;
  return total;
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
