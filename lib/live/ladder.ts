/**
 * The live rendition ladder: which renditions a stream is encoded into, and the one ffmpeg process
 * that encodes all of them. Video: rungs of the VOD ladder (lib/media/transcode.ts VIDEO_LADDER:
 * 1080p/720p/480p/360p) never taller than the source, plus an audio-only rendition; audio: the VOD
 * audio variants 320k ("high") and 192k ("standard"). Every output has keyframes forced at each
 * multiple of the segment length and its own segment muxer, so segment n of every rendition starts
 * at the same time (n x segment seconds) and covers the same minute window.
 */
import { AAC_LC_CODEC, AUDIO_VARIANTS, VIDEO_LADDER } from "../media/transcode.ts";
import { StreamVaultError } from "../errors.ts";
import type { LiveRendition } from "./status.ts";

export type { LiveRendition } from "./status.ts";

/** Environment variable with the default ladder (`--renditions` of `streamvault live` overrides it). */
export const LIVE_RENDITIONS_ENV = "STREAMVAULT_LIVE_RENDITIONS";
/**
 * Default ladder: 720p + 360p + audio-only. Two x264 `veryfast` encodes of a 720p30 source keep up
 * in real time on 2 cores; 1080p and 480p are opt-in (`--renditions 1080,720,480,360,audio`).
 */
export const DEFAULT_LIVE_RENDITIONS = "720,360,audio";
/** Name of the audio-only rendition of a video stream. */
export const AUDIO_ONLY_RENDITION = "audio";
const AUDIO_ONLY_BITRATE = 128_000;

/** What ffmpeg reported of the input when it opened it. */
export interface SourceStreams {
  video?: { width: number; height: number };
  audio: boolean;
}

/** Parses `--renditions` / STREAMVAULT_LIVE_RENDITIONS: heights of the VOD ladder and "audio", comma-separated. */
export function parseRenditions(text: string): { heights: number[]; audio: boolean } {
  const allowed = VIDEO_LADDER.map((v) => v.height!);
  const items = text.split(",").map((s) => s.trim().toLowerCase().replace(/p$/, "")).filter((s) => s !== "");
  const heights: number[] = [];
  let audio = false;
  for (const item of items) {
    if (item === AUDIO_ONLY_RENDITION) audio = true;
    else if (allowed.includes(Number(item))) heights.includes(Number(item)) || heights.push(Number(item));
    else throw new StreamVaultError("bad_input", `renditions "${text}": "${item}" is not a rung; use a comma-separated list of ${allowed.join(", ")} and ${AUDIO_ONLY_RENDITION} (e.g. ${DEFAULT_LIVE_RENDITIONS})`);
  }
  if (heights.length === 0) throw new StreamVaultError("bad_input", `renditions "${text}" names no video height; pick at least one of ${allowed.join(", ")} (e.g. ${DEFAULT_LIVE_RENDITIONS})`);
  return { heights: heights.sort((a, b) => b - a), audio };
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/**
 * The renditions for this source, highest first. Rungs taller than the source are skipped; a
 * source below every requested rung gets one rendition at its own height (as VOD does).
 */
export function planLiveRenditions(source: SourceStreams, requested: string = process.env[LIVE_RENDITIONS_ENV] || DEFAULT_LIVE_RENDITIONS): LiveRendition[] {
  if (!source.video) {
    if (!source.audio) throw new StreamVaultError("bad_input", "the input has neither video nor audio: send a stream with at least one of them");
    return AUDIO_VARIANTS.filter((v) => v.role !== "preview").map((v) => ({ name: v.name, role: v.role as "high" | "standard", audioBitrate: v.audioBitrate, codecs: AAC_LC_CODEC }));
  }
  const { width, height } = source.video;
  const { heights, audio } = parseRenditions(requested);
  const codecsOf = (h: number) => `${h > 720 ? "avc1.640028" : "avc1.64001f"}${source.audio ? `,${AAC_LC_CODEC}` : ""}`;
  let rungs: LiveRendition[] = VIDEO_LADDER.filter((v) => heights.includes(v.height!) && v.height! <= height).map((v) => ({
    name: v.name,
    role: v.role as "high" | "standard",
    height: v.height!,
    width: even((width * v.height!) / height),
    videoBitrate: v.videoBitrate!,
    audioBitrate: v.audioBitrate,
    codecs: codecsOf(v.height!),
  }));
  if (rungs.length === 0) {
    const h = even(height - 1);
    rungs = [{ name: `${h}p`, role: "standard", height: h, width: even((width * h) / height), videoBitrate: 600_000, audioBitrate: 96_000, codecs: codecsOf(h) }];
  }
  if (audio && source.audio) rungs.push({ name: AUDIO_ONLY_RENDITION, role: "audio", audioBitrate: AUDIO_ONLY_BITRATE, codecs: AAC_LC_CODEC });
  return rungs;
}

/**
 * The input's streams from ffmpeg's own description of it (`-v info` prints "Input #0 ... Stream
 * #0:0: Video: h264 ..., 1280x720 ..." once it has opened the input, before "Output #0"), or
 * undefined while that description is not complete yet.
 */
export function sourceStreamsFromLog(log: string): SourceStreams | undefined {
  const start = log.indexOf("Input #0");
  const end = log.search(/^(Output #0|Stream mapping:)/m);
  if (start < 0 || end < start) return undefined;
  const input = log.slice(start, end);
  const video = /Stream #0:\d+.*?: Video: .*?, (\d{2,5})x(\d{2,5})\b/.exec(input);
  return { video: video ? { width: Number(video[1]), height: Number(video[2]) } : undefined, audio: /Stream #0:\d+.*?: Audio: /.test(input) };
}

/** The segment list ffmpeg writes for one rendition (csv: file,start,end). */
export function renditionListFile(dir: string, session: number, name: string): string {
  return `${dir}/chunks-${session}-${name}.csv`;
}

/** ffmpeg output arguments for every rendition, reading the input on pipe:0 (NUT from the ingest process). */
export function ladderArgs(renditions: readonly LiveRendition[], options: { dir: string; chunkDir: string; session: number; segmentSeconds: number; preset?: string }): string[] {
  const s = options.segmentSeconds;
  const args = ["-hide_banner", "-v", "error", "-f", "nut", "-i", "pipe:0"];
  for (const r of renditions) {
    if (r.height !== undefined) {
      const v = r.videoBitrate ?? 600_000;
      args.push(
        "-map", "0:v:0", "-map", "0:a:0?",
        "-vf", `scale=-2:${r.height}`, "-c:v", "libx264", "-preset", options.preset ?? "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-b:v", String(v), "-maxrate", String(Math.round(v * 1.2)), "-bufsize", String(v * 2),
        // keyframes exactly at every segment boundary, and no others that would let a segment cut elsewhere
        "-force_key_frames", `expr:gte(t,n_forced*${s})`, "-sc_threshold", "0",
        "-c:a", "aac", "-b:a", String(r.audioBitrate), "-ac", "2",
      );
    } else {
      args.push("-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", String(r.audioBitrate), "-ac", "2");
    }
    args.push(
      "-f", "segment", "-segment_time", String(s), "-segment_format", "mpegts",
      "-segment_list", renditionListFile(options.dir, options.session, r.name), "-segment_list_type", "csv",
      `${options.chunkDir}/${r.name}-%05d.ts`,
    );
  }
  return args;
}
