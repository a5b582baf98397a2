/**
 * Streamable renditions: ffmpeg encodes each variant straight into ~10 s HLS segments
 * (AAC-LC in MPEG-TS, H.264 for video), which hls.js plays in every browser with MSE and
 * Safari plays natively. Each variant runs in its own ffmpeg process so variants encode
 * in parallel on multi-core machines.
 */
import { appendFile, mkdir, readFile, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { runFfmpeg, runTool } from "./ffmpeg.ts";
import type { MediaInfo } from "./probe.ts";

/** Target segment length in seconds. */
export const SEGMENT_SECONDS = 10;
/** A final segment shorter than this is merged into the one before it. */
const MERGE_TAIL_SECONDS = 1;
/** Preview length in seconds. */
export const PREVIEW_SECONDS = 30;

/** What a variant is for; tiers decide which are stored and which are encrypted. */
export type VariantRole = "original" | "high" | "standard" | "preview";

/** How to encode one streamable variant. */
export interface VariantSpec {
  name: string;
  role: VariantRole;
  /** target audio bits/s */
  audioBitrate: number;
  /** target video bits/s (video only) */
  videoBitrate?: number;
  /** output height in pixels (video only) */
  height?: number;
  /** encode only the first N seconds (from `startSeconds`) */
  limitSeconds?: number;
  /** start this far into the source (the creator-chosen preview start) */
  startSeconds?: number;
}

/** One HLS segment written by ffmpeg. */
export interface EncodedSegment {
  index: number;
  path: string;
  /** seconds, from the EXTINF ffmpeg wrote */
  duration: number;
  size: number;
}

/** One encoded streamable variant. */
export interface EncodedVariant {
  spec: VariantSpec;
  /** RFC 6381 codecs string for the HLS master playlist */
  codecs: string;
  width?: number;
  height?: number;
  /** seconds */
  duration: number;
  segments: EncodedSegment[];
  /** ffmpeg's own playlist (file names), kept for debugging */
  playlistPath: string;
}

export const AUDIO_VARIANTS: readonly VariantSpec[] = [
  { name: "high", role: "high", audioBitrate: 320_000 },
  { name: "standard", role: "standard", audioBitrate: 192_000 },
  { name: "preview", role: "preview", audioBitrate: 128_000, limitSeconds: PREVIEW_SECONDS },
];

/** Video ladder; renditions taller than the source are skipped. 1080p/720p count as "high". */
export const VIDEO_LADDER: readonly VariantSpec[] = [
  { name: "1080p", role: "high", height: 1080, videoBitrate: 5_000_000, audioBitrate: 192_000 },
  { name: "720p", role: "high", height: 720, videoBitrate: 2_800_000, audioBitrate: 128_000 },
  { name: "480p", role: "standard", height: 480, videoBitrate: 1_400_000, audioBitrate: 128_000 },
  { name: "360p", role: "standard", height: 360, videoBitrate: 800_000, audioBitrate: 96_000 },
];

export const AAC_LC_CODEC = "mp4a.40.2";

/** The streamable variants a source yields (before tier filtering). */
export function planVariants(info: MediaInfo): VariantSpec[] {
  if (info.kind === "audio") return AUDIO_VARIANTS.map((v) => ({ ...v }));
  const sourceHeight = info.video?.height ?? 0;
  let ladder = VIDEO_LADDER.filter((v) => (v.height ?? 0) <= sourceHeight).map((v) => ({ ...v }));
  if (ladder.length === 0) {
    // Smaller than 360p: one rendition at the source height (even, as H.264 4:2:0 needs).
    const height = Math.max(2, sourceHeight - (sourceHeight % 2));
    ladder = [{ name: `${height}p`, role: "standard", height, videoBitrate: 600_000, audioBitrate: 96_000 }];
  }
  const lowest = ladder[ladder.length - 1]!;
  return [...ladder, { ...lowest, name: "preview", role: "preview", limitSeconds: PREVIEW_SECONDS }];
}

/**
 * At most `max` streamable renditions: the highest (costliest) rungs go first, the preview and the
 * lowest full rendition always stay (INGEST_MAX_RENDITIONS, see ingestLimits in probe.ts).
 */
export function limitRenditions(specs: readonly VariantSpec[], max: number): VariantSpec[] {
  const preview = specs.filter((s) => s.role === "preview");
  const full = specs.filter((s) => s.role !== "preview");
  const keep = Math.max(1, max - preview.length);
  return [...full.slice(Math.max(0, full.length - keep)), ...preview];
}

export interface EncodeOptions {
  /** Output root; each variant gets `<workDir>/hls/<name>/`. */
  workDir: string;
  /** ffmpeg processes at once (default: CPU count). */
  concurrency?: number;
  /** Native AAC coder: "fast" (default; ~3x faster, meets the ingest time goal) or "twoloop" (slower, slightly better quality). */
  aacCoder?: "fast" | "twoloop";
  /** x264 preset for video (default "veryfast"). */
  x264Preset?: string;
  timeoutMs?: number;
  /** Called as soon as each variant is encoded (lets the caller encrypt/hash while others still encode). */
  onVariant?: (variant: EncodedVariant) => void;
}

/** Encode the given variants of a validated source into HLS segments. */
export async function encodeVariants(info: MediaInfo, specs: VariantSpec[], options: EncodeOptions): Promise<EncodedVariant[]> {
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  // Longest jobs first so the pool finishes together.
  const order = specs.map((spec, i) => ({ spec, i })).sort((a, b) => cost(info, b.spec) - cost(info, a.spec));
  const results: EncodedVariant[] = new Array(specs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < order.length) {
      const job = order[next++]!;
      const encoded = await encodeOne(info, job.spec, options);
      results[job.i] = encoded;
      options.onVariant?.(encoded);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, order.length) }, worker));
  return results;
}

function cost(info: MediaInfo, spec: VariantSpec): number {
  const seconds = Math.min(info.duration - (spec.startSeconds ?? 0), spec.limitSeconds ?? Infinity);
  return seconds * ((spec.videoBitrate ?? 0) + spec.audioBitrate);
}

async function encodeOne(info: MediaInfo, spec: VariantSpec, options: EncodeOptions): Promise<EncodedVariant> {
  const dir = path.join(options.workDir, "hls", spec.name);
  await mkdir(dir, { recursive: true });
  const playlistPath = path.join(dir, "index.m3u8");
  // -ss before -i seeks the input; decoding resumes exactly there since every variant is re-encoded.
  const args = ["-v", "error", "-y", ...(spec.startSeconds ? ["-ss", spec.startSeconds.toFixed(3)] : []), "-i", info.file];
  // Slightly under the limit: encoder frames overshoot -t, which would leave a one-frame 4th segment.
  if (spec.limitSeconds !== undefined) args.push("-t", String(spec.limitSeconds - 0.05));
  args.push("-map_metadata", "-1", "-map_chapters", "-1");
  const hasAudio = info.audio !== undefined;
  let codecs = AAC_LC_CODEC;
  let width: number | undefined;
  let height: number | undefined;
  if (info.kind === "video" && spec.height !== undefined) {
    height = spec.height;
    const srcW = info.video?.width ?? 0;
    const srcH = info.video?.height ?? 1;
    width = Math.max(2, Math.round((srcW * height) / srcH / 2) * 2);
    const fps = info.video?.frameRate && info.video.frameRate > 0 ? info.video.frameRate : 30;
    args.push("-map", "0:v:0", "-vf", `scale=${width}:${height}:flags=bicubic,format=yuv420p`);
    args.push(
      "-c:v", "libx264", "-preset", options.x264Preset ?? "veryfast", "-profile:v", "main",
      "-b:v", String(spec.videoBitrate), "-maxrate", String(Math.round((spec.videoBitrate ?? 0) * 1.2)),
      "-bufsize", String((spec.videoBitrate ?? 0) * 2),
      // Keyframe every segment boundary so ffmpeg can cut exactly at ~10 s.
      "-force_key_frames", `expr:gte(t,n_forced*${SEGMENT_SECONDS})`, "-sc_threshold", "0",
      "-g", String(Math.round(fps * SEGMENT_SECONDS)),
    );
    args.push("-level:v", height > 720 ? "4.0" : height > 480 ? "3.1" : "3.0");
    if (hasAudio) args.push("-map", "0:a:0");
  } else {
    args.push("-map", "0:a:0", "-vn");
  }
  if (hasAudio) {
    const sampleRate = info.audio!.sampleRate > 48_000 || info.audio!.sampleRate < 32_000 ? 48_000 : info.audio!.sampleRate;
    args.push("-c:a", "aac", "-aac_coder", options.aacCoder ?? "fast", "-b:a", String(spec.audioBitrate), "-ar", String(sampleRate), "-ac", "2");
    // The native encoder low-passes early by default and then undershoots high targets; open it up for 320k.
    if (spec.audioBitrate >= 256_000) args.push("-cutoff", "20000");
  }
  args.push(
    "-f", "hls", "-hls_time", String(SEGMENT_SECONDS), "-hls_playlist_type", "vod", "-hls_list_size", "0",
    "-hls_segment_type", "mpegts", "-hls_segment_filename", path.join(dir, "seg_%05d.ts"), playlistPath,
  );
  await runFfmpeg(args, { timeoutMs: options.timeoutMs ?? 60 * 60_000 });
  const segments = await readSegments(playlistPath);
  if (info.kind === "video") {
    // The CODECS attribute must describe what x264 actually wrote (presets can change the profile).
    const avc = await avcCodecString(segments[0]!.path);
    codecs = hasAudio ? `${avc},${AAC_LC_CODEC}` : avc;
  }
  const duration = Math.round(segments.reduce((sum, s) => sum + s.duration, 0) * 1000) / 1000;
  const variant: EncodedVariant = { spec, codecs, duration, segments, playlistPath };
  if (width !== undefined) variant.width = width;
  if (height !== undefined) variant.height = height;
  return variant;
}

const AVC_PROFILE_PREFIX: Record<string, string> = {
  "Constrained Baseline": "42e0",
  Baseline: "4200",
  Main: "4d40",
  High: "6400",
};

/** RFC 6381 `avc1.PPCCLL` string of the first video stream in a file. */
async function avcCodecString(file: string): Promise<string> {
  const result = await runTool("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=profile,level", "-of", "json", file]);
  const stream = (JSON.parse(result.stdout.toString("utf8") || "{}") as { streams?: { profile?: string; level?: number }[] }).streams?.[0];
  const prefix = AVC_PROFILE_PREFIX[stream?.profile ?? ""] ?? "4d40";
  const level = Math.max(10, Math.min(62, stream?.level ?? 31));
  return `avc1.${prefix}${level.toString(16).padStart(2, "0")}`;
}

/** Parse an ffmpeg media playlist into segment files and durations. */
async function readSegments(playlistPath: string): Promise<EncodedSegment[]> {
  const text = await readFile(playlistPath, "utf8");
  const { stat } = await import("node:fs/promises");
  const segments: EncodedSegment[] = [];
  let pending: number | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const extinf = /^#EXTINF:([\d.]+)/.exec(line);
    if (extinf) pending = Number(extinf[1]);
    else if (line && !line.startsWith("#") && pending !== undefined) {
      const file = path.join(path.dirname(playlistPath), line);
      segments.push({ index: segments.length, path: file, duration: pending, size: (await stat(file)).size });
      pending = undefined;
    }
  }
  if (segments.length === 0) throw new Error(`ffmpeg wrote no segments to ${playlistPath}`);
  // Encoder padding often spills one AAC frame (~23 ms) into a last segment of its own; a piece
  // that small costs as much to store as a full one, so fold it into the previous segment.
  // Consecutive segments of one ffmpeg HLS run concatenate into valid MPEG-TS.
  const last = segments[segments.length - 1]!;
  if (segments.length > 1 && last.duration < MERGE_TAIL_SECONDS) {
    const prev = segments[segments.length - 2]!;
    await appendFile(prev.path, await readFile(last.path));
    await rm(last.path);
    prev.duration = Math.round((prev.duration + last.duration) * 1e6) / 1e6;
    prev.size += last.size;
    segments.pop();
  }
  return segments;
}
