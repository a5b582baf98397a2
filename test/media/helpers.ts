/** Test helpers: media generated with ffmpeg at test time, an in-memory PieceStore, ffprobe. */
import { writeFile } from "node:fs/promises";
import { runFfmpeg, runTool } from "@streamvault/lib/media/ffmpeg.ts";
import { pieceCidSync as pieceCidOf } from "@streamvault/lib/piece";
import { PieceNotFoundError } from "@streamvault/lib/storage/types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "@streamvault/lib/storage/types.ts";

/** Generate a stereo test signal: pink noise (realistic bitrate use) or a sine tone. */
export async function makeAudio(file: string, seconds: number, signal: "noise" | "sine" = "noise", extraArgs: string[] = []): Promise<void> {
  const source = signal === "noise" ? `anoisesrc=d=${seconds}:c=pink:r=44100:a=0.3:seed=7` : `sine=f=440:d=${seconds}:r=44100`;
  await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", source, ...extraArgs, "-ac", "2", file]);
}

/** A short test video (testsrc + tone). */
export async function makeVideo(file: string, seconds: number, width: number, height: number): Promise<void> {
  await runFfmpeg([
    "-v", "error", "-y",
    "-f", "lavfi", "-i", `testsrc2=d=${seconds}:s=${width}x${height}:r=25`,
    "-f", "lavfi", "-i", `sine=f=330:d=${seconds}:r=44100`,
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-shortest", file,
  ]);
}

export interface ProbeSummary {
  duration: number;
  streams: { codec_type: string; codec_name: string; bit_rate?: string; height?: number; width?: number }[];
}

/** ffprobe format duration and streams of a file. */
export async function probe(file: string): Promise<ProbeSummary> {
  const result = await runTool("ffprobe", ["-v", "error", "-show_format", "-show_streams", "-of", "json", file]);
  if (result.code !== 0) throw new Error(`ffprobe failed on ${file}: ${result.stderr}`);
  const json = JSON.parse(result.stdout.toString("utf8")) as { format: { duration: string }; streams: ProbeSummary["streams"] };
  return { duration: Number(json.format.duration), streams: json.streams };
}

/** Seconds ffmpeg actually decodes from a file (fails the test if it cannot decode). */
export async function decodedSeconds(file: string): Promise<number> {
  const result = await runTool("ffmpeg", ["-v", "error", "-i", file, "-f", "null", "-progress", "pipe:1", "-nostats", "-"]);
  if (result.code !== 0) throw new Error(`ffmpeg could not decode ${file}: ${result.stderr}`);
  let seconds = 0;
  for (const m of result.stdout.toString("utf8").matchAll(/^out_time_us=(\d+)$/gm)) seconds = Number(m[1]) / 1e6;
  return seconds;
}

/** Average AAC payload bitrate of a file: sum of packet sizes over duration (independent of TS overhead). */
export async function audioPayloadBitrate(file: string): Promise<number> {
  const result = await runTool("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "packet=size,duration_time", "-of", "json", file]);
  const { packets } = JSON.parse(result.stdout.toString("utf8")) as { packets: { size: string; duration_time: string }[] };
  let bytes = 0;
  let seconds = 0;
  for (const p of packets) {
    bytes += Number(p.size);
    seconds += Number(p.duration_time);
  }
  return (bytes * 8) / seconds;
}

/** Trivial in-memory PieceStore keyed by the real PieceCID function. */
export class MemoryStore implements PieceStore {
  readonly name = "memory";
  readonly pieces = new Map<string, Uint8Array>();
  puts = 0;

  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.puts++;
    const pieceCid = options.pieceCid ?? pieceCidOf(bytes);
    const existed = this.pieces.has(pieceCid);
    this.pieces.set(pieceCid, new Uint8Array(bytes));
    return { pieceCid, size: bytes.length, existed };
  }

  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    const bytes = this.pieces.get(pieceCid);
    if (bytes === undefined) throw new PieceNotFoundError(pieceCid, this.name);
    return range ? bytes.subarray(range.start, range.end === undefined ? undefined : range.end + 1) : bytes;
  }

  async has(pieceCid: string): Promise<boolean> {
    return this.pieces.has(pieceCid);
  }
}

/** Write bytes to a file (small convenience for tests). */
export async function writeBytes(file: string, bytes: Uint8Array): Promise<string> {
  await writeFile(file, bytes);
  return file;
}
