/**
 * Ingest validation benchmark: `npm run bench:ingest` (node scripts/bench-ingest.ts).
 *
 * For a 20-minute WAV, a 20-minute MP3 and 3-minute 1280x720 H.264 videos with and without audio,
 * times `ingestMedia` (probe, decode check with the stream-end and silence measurements, tags)
 * beside the baseline of the same run: a plain `ffmpeg -i FILE -f null -` full decode of the same file.
 * Best of 3 each. Writes bench/ingest.json.
 */
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { ingestMedia, runFfmpeg, runTool } from "@streamvault/lib/media";

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

async function best(fn: () => Promise<unknown>, times = 3): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await fn();
    fastest = Math.min(fastest, (performance.now() - start) / 1000);
  }
  return fastest;
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  const dir = await mkdtemp(path.join(tmpdir(), "sv-bench-ingest-"));
  try {
    const f = (name: string) => path.join(dir, name);
    const noise = "anoisesrc=d=1200:c=pink:r=44100:a=0.3:seed=1";
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", noise, "-ac", "2", f("20min.wav")]);
    await runFfmpeg(["-v", "error", "-y", "-i", f("20min.wav"), "-c:a", "libmp3lame", "-b:a", "192k", f("20min.mp3")]);
    const pictures = ["-f", "lavfi", "-i", "testsrc2=d=180:s=1280x720:r=25"];
    const h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];
    await runFfmpeg(["-v", "error", "-y", ...pictures, ...h264, f("3min-720p-noaudio.mp4")]);
    await runFfmpeg(["-v", "error", "-y", ...pictures, "-f", "lavfi", "-i", "sine=f=330:d=180:r=44100", ...h264, "-c:a", "aac", "-shortest", f("3min-720p.mp4")]);

    const files = ["20min.wav", "20min.mp3", "3min-720p.mp4", "3min-720p-noaudio.mp4"];
    const results: Record<string, { MiB: number; ingestSeconds: number; fullDecodeSeconds: number; ratioToFullDecode: number; duration: number }> = {};
    for (const name of files) {
      const file = f(name);
      let duration = 0;
      const ingestSeconds = await best(async () => void (duration = (await ingestMedia(file)).duration));
      const fullDecodeSeconds = await best(() => runTool("ffmpeg", ["-v", "error", "-nostdin", "-i", file, "-f", "null", "-"]));
      results[name] = {
        MiB: round((await stat(file)).size / 2 ** 20, 1),
        ingestSeconds: round(ingestSeconds),
        fullDecodeSeconds: round(fullDecodeSeconds),
        ratioToFullDecode: round(ingestSeconds / fullDecodeSeconds),
        duration,
      };
      console.log(`${name.padEnd(24)} ingest ${ingestSeconds.toFixed(2)} s, full decode ${fullDecodeSeconds.toFixed(2)} s, ratio ${(ingestSeconds / fullDecodeSeconds).toFixed(2)} (duration ${duration} s)`);
    }
    const out = {
      generatedAt: new Date().toISOString(),
      machine: { cpus: availableParallelism(), loadAverage1mAtStart: round(loadAtStart), loadAverage1mAtEnd: round(loadavg()[0]!), node: process.version },
      baseline: "plain ffmpeg full decode of the same file to the null muxer, same run",
      results,
    };
    await writeFile(path.join(import.meta.dirname, "..", "bench", "ingest.json"), JSON.stringify(out, null, 2) + "\n");
    console.log("wrote bench/ingest.json");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
