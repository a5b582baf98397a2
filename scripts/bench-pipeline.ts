/**
 * Media pipeline benchmark: `npm run bench:pipeline` (node scripts/bench-pipeline.ts).
 *
 * Measures, each beside plain node:crypto SHA-256 over the same bytes in the same run:
 *   - AES-256-GCM segment encryption MiB/s
 *   - PieceCID MiB/s (lib/piece, one thread and all cores; `npm run bench:piece` has the full picture)
 *   - end-to-end ingest seconds of a 3-minute WAV (validate, encode, segment, encrypt, PieceCIDs,
 *     store every piece + manifest in a temp-dir LocalStore) for each tier; goal <= 10 s.
 * Writes bench/pipeline.json.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { ContentEncryptor, generateContentKey } from "@streamvault/lib/crypto";
import { pieceCid, pieceCidSync, pieceRooter } from "@streamvault/lib/piece";
import { processMedia, publishDetailed, runFfmpeg, runTool, toolPath } from "@streamvault/lib/media";
import type { Tier } from "@streamvault/lib/media";
import { LocalStore } from "@streamvault/lib/storage/local.ts";

const MiB = 1024 * 1024;
const GOAL_SECONDS = 10;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

function timeSync(fn: () => void): number {
  const start = performance.now();
  fn();
  return (performance.now() - start) / 1000;
}

async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/**
 * CPU seconds used so far by this process (all threads) plus its finished child processes (ffmpeg),
 * from /proc on Linux: a load-independent measure next to wall-clock time.
 */
async function cpuSeconds(): Promise<number | undefined> {
  try {
    const stat = await readFile("/proc/self/stat", "utf8");
    // Fields after the ")" of the command name: utime=14, stime=15, cutime=16, cstime=17 (1-based in proc(5)).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** SHA-256 MiB/s over `bytes` (best of 3, to be fair to the baseline). */
function sha256Rate(bytes: Uint8Array): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) best = Math.min(best, timeSync(() => createHash("sha256").update(bytes).digest()));
  return bytes.length / MiB / best;
}

async function main(): Promise<void> {
  // Other work on the machine skews every figure; record it so runs can be compared.
  const loadAtStart = loadavg()[0]!;
  const dir = await mkdtemp(path.join(tmpdir(), "sv-bench-"));
  try {
    const wav = path.join(dir, "three-minutes.wav");
    // Pink noise: worst case for the AAC encoder (a sine tone would flatter the numbers).
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "anoisesrc=d=180:c=pink:r=44100:a=0.3:seed=1", "-ac", "2", "-c:a", "pcm_s16le", wav]);
    const bytes = new Uint8Array(await readFile(wav));
    const sizeMiB = bytes.length / MiB;
    const shaMiBs = sha256Rate(bytes);

    // Encryption: the WAV cut into 8 MiB segments, as the pipeline does for originals.
    const encryptor = new ContentEncryptor("bench", generateContentKey());
    const chunk = 8 * MiB;
    const encSeconds = timeSync(() => {
      for (let i = 0, off = 0; off < bytes.length; i++, off += chunk) encryptor.encrypt("original", i, bytes.subarray(off, off + chunk));
    });
    const encMiBs = sizeMiB / encSeconds;

    // PieceCID (lib/piece, its default path): one thread over the whole WAV, then all cores.
    const cidSeconds = timeSync(() => void pieceCidSync(bytes, { threads: 1 }));
    const cidMiBs = sizeMiB / cidSeconds;
    const allCoresSeconds = await timeAsync(async () => void (await pieceCid(bytes)));
    const allCoresMiBs = sizeMiB / allCoresSeconds;

    // End to end, per tier, into a temp-dir LocalStore.
    const ingest: Record<string, { seconds: number; cpuSeconds: number | undefined; processSeconds: number; publishSeconds: number; pieces: number; storedMiB: number; manifestCid: string }> = {};
    for (const tier of ["exclusive", "premium", "free"] as Tier[]) {
      const workDir = path.join(dir, `work-${tier}`);
      const store = new LocalStore({ dir: path.join(dir, `store-${tier}`) });
      const cpu0 = await cpuSeconds();
      const t0 = performance.now();
      const processed = await processMedia(wav, { contentId: `bench-${tier}`, tier, workDir });
      const t1 = performance.now();
      const published = await publishDetailed(processed, store);
      const t2 = performance.now();
      const cpu1 = await cpuSeconds();
      ingest[tier] = {
        seconds: round((t2 - t0) / 1000),
        cpuSeconds: cpu0 !== undefined && cpu1 !== undefined ? round(cpu1 - cpu0) : undefined,
        processSeconds: round((t1 - t0) / 1000),
        publishSeconds: round((t2 - t1) / 1000),
        pieces: processed.pieces.length + 1,
        storedMiB: round(processed.pieces.reduce((s, p) => s + p.size, 0) / MiB),
        manifestCid: published.manifestCid,
      };
      await rm(workDir, { recursive: true, force: true });
    }

    const shaSecondsForWav = sizeMiB / shaMiBs;
    const ffmpegVersion = (await runTool("ffmpeg", ["-version"])).stdout.toString("utf8").split("\n")[0];
    const result = {
      generatedAt: new Date().toISOString(),
      machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, loadAverage1mAtStart: round(loadAtStart), loadAverage1mAtEnd: round(loadavg()[0]!), node: process.version, ffmpeg: toolPath("ffmpeg"), ffmpegVersion },
      input: { file: "3-minute 44.1 kHz 16-bit stereo WAV (pink noise)", MiB: round(sizeMiB) },
      sha256MiBs: round(shaMiBs, 1),
      encryption: { alg: "AES-256-GCM", MiBs: round(encMiBs, 1), ratioToSha256: round(encMiBs / shaMiBs, 3) },
      pieceCid: {
        path: pieceRooter().detail,
        singleThreadMiBs: round(cidMiBs, 1),
        ratioToSha256: round(cidMiBs / shaMiBs, 4),
        allCoresMiBs: round(allCoresMiBs, 1),
        threads: availableParallelism(),
        allCoresRatioToSha256: round(allCoresMiBs / shaMiBs, 4),
      },
      ingest: Object.fromEntries(
        Object.entries(ingest).map(([tier, r]) => [
          tier,
          { ...r, effectiveMiBs: round(sizeMiB / r.seconds, 1), sha256SecondsSameBytes: round(shaSecondsForWav, 4), ratioToSha256: round(shaSecondsForWav / r.seconds, 5) },
        ]),
      ),
      goal: { seconds: GOAL_SECONDS, tier: "exclusive", met: ingest.exclusive!.seconds <= GOAL_SECONDS },
    };
    await mkdir("bench", { recursive: true });
    await writeFile(path.join("bench", "pipeline.json"), JSON.stringify(result, null, 2) + "\n");

    const line = (label: string, value: string, ratio: string) => console.log(`${label.padEnd(34)} ${value.padStart(14)}   ${ratio}`);
    console.log(`input: ${round(sizeMiB)} MiB WAV, ${availableParallelism()} CPUs, 1-min load average ${round(loadAtStart)} at start, ${round(loadavg()[0]!)} at end`);
    line("SHA-256 (baseline)", `${round(shaMiBs, 1)} MiB/s`, "1");
    line("AES-256-GCM encryption", `${round(encMiBs, 1)} MiB/s`, `x${round(encMiBs / shaMiBs, 3)} of SHA-256`);
    line("PieceCID, 1 thread", `${round(cidMiBs, 1)} MiB/s`, `x${round(cidMiBs / shaMiBs, 4)} of SHA-256`);
    line(`PieceCID, ${availableParallelism()} threads`, `${round(allCoresMiBs, 1)} MiB/s`, `x${round(allCoresMiBs / shaMiBs, 4)} of SHA-256`);
    for (const [tier, r] of Object.entries(result.ingest)) {
      line(`ingest 3-min WAV, ${tier}`, `${r.seconds} s`, `SHA-256 of same bytes ${r.sha256SecondsSameBytes} s (x${r.ratioToSha256}); CPU ${r.cpuSeconds ?? "?"} s; process ${r.processSeconds} s + publish ${r.publishSeconds} s, ${r.pieces} pieces, ${r.storedMiB} MiB`);
    }
    console.log(`goal: exclusive ingest <= ${GOAL_SECONDS} s: ${result.goal.met ? "met" : "NOT met"}`);
    console.log("wrote bench/pipeline.json");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
