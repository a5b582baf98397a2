/**
 * Ingest limits: duration (from the probe, before any decode or transcode), bytes and renditions,
 * configurable by option or environment. Inputs are made with ffmpeg's anullsrc at a low rate, so a
 * 10-hour file takes a few seconds to write and a few MB on disk.
 */
import { expect } from "chai";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AUDIO_VARIANTS,
  DEFAULT_MAX_DURATION_SECONDS,
  ingestLimits,
  ingestMedia,
  limitRenditions,
  MediaIngestError,
  processMedia,
  runFfmpeg,
  toolPath,
  VIDEO_LADDER,
} from "@streamvault/lib/media";
import { makeAudio } from "./helpers.ts";

async function silence(file: string, seconds: number): Promise<void> {
  await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", String(seconds), "-c:a", "flac", file]);
}

describe("media/ingest limits: duration, bytes, renditions", function () {
  this.timeout(120_000);
  let dir: string;
  const f = (name: string) => path.join(dir, name);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sv-ingest-limits-"));
    await silence(f("ten-hours.flac"), 36_000);
    await makeAudio(f("tone.wav"), 4, "sine");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a 10-hour file is refused from the probe, with what to do, and nothing is transcoded", async () => {
    const workDir = f("work-ten-hours");
    const error = await processMedia(f("ten-hours.flac"), { contentId: "ten-hours", tier: "free", workDir }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MediaIngestError);
    const ingest = error as MediaIngestError;
    expect(ingest.reason).to.equal("too-long");
    expect(ingest.message).to.contain("10 h 00 min long, the limit is 4 h 00 min");
    expect(ingest.message).to.match(/What to do: split it into shorter items, or raise the duration limit \(maxDurationSeconds, INGEST_MAX_SECONDS\)/);
    // Refused before the work directory was made: no segments, no CPU hour.
    const made = await readdir(workDir).catch(() => []);
    expect(made).to.deep.equal([]);
  });

  it("the duration limit is configurable: option first, then INGEST_MAX_SECONDS", async () => {
    expect(ingestLimits({}, {}).maxDurationSeconds).to.equal(DEFAULT_MAX_DURATION_SECONDS);
    expect(ingestLimits({}, { INGEST_MAX_SECONDS: "60" }).maxDurationSeconds).to.equal(60);
    expect(ingestLimits({ maxDurationSeconds: 30 }, { INGEST_MAX_SECONDS: "60" }).maxDurationSeconds).to.equal(30);
    expect(() => ingestLimits({}, { INGEST_MAX_SECONDS: "ten hours" })).to.throw(/INGEST_MAX_SECONDS must be a positive number/);
    const error = await ingestMedia(f("tone.wav"), { maxDurationSeconds: 2 }).catch((e: unknown) => e);
    expect((error as MediaIngestError).reason).to.equal("too-long");
    expect((await ingestMedia(f("tone.wav"), { maxDurationSeconds: 5 })).duration).to.be.closeTo(4, 0.1);
  });

  it("a file that hides its length is cut off by the decode check just past the limit", async () => {
    // FLAC written to a pipe has no total-sample count: the probe reports no duration.
    const hidden = f("hidden-length.flac");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(toolPath("ffmpeg"), ["-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "600", "-c:a", "flac", "-f", "flac", "pipe:1"]);
      const out = createWriteStream(hidden);
      child.stdout.pipe(out);
      child.on("error", reject);
      out.on("finish", () => resolve());
    });
    const error = await ingestMedia(hidden, { maxDurationSeconds: 30 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MediaIngestError);
    expect((error as MediaIngestError).reason).to.equal("too-long");
    expect((error as MediaIngestError).detail).to.match(/^31 s long, the limit is 30 s$/);
  });

  it("the byte limit is configurable by INGEST_MAX_BYTES", async () => {
    expect(ingestLimits({}, { INGEST_MAX_BYTES: "1000" }).maxBytes).to.equal(1000);
    const saved = process.env.INGEST_MAX_BYTES;
    process.env.INGEST_MAX_BYTES = "1000";
    try {
      const error = await ingestMedia(f("tone.wav")).catch((e: unknown) => e);
      expect((error as MediaIngestError).reason).to.equal("too-large");
      expect((error as MediaIngestError).message).to.contain("INGEST_MAX_BYTES");
    } finally {
      if (saved === undefined) delete process.env.INGEST_MAX_BYTES;
      else process.env.INGEST_MAX_BYTES = saved;
    }
  });

  it("renditions: past the limit the highest rungs are dropped; the preview and the lowest full rendition stay", async () => {
    const ladder = [...VIDEO_LADDER, { ...VIDEO_LADDER.at(-1)!, name: "preview", role: "preview" as const }];
    expect(limitRenditions(ladder, 3).map((v) => v.name)).to.deep.equal(["480p", "360p", "preview"]);
    expect(limitRenditions(ladder, 1).map((v) => v.name)).to.deep.equal(["360p", "preview"]);
    expect(limitRenditions(ladder, 10).map((v) => v.name)).to.deep.equal(ladder.map((v) => v.name));
    const processed = await processMedia(f("tone.wav"), { contentId: "tone-2", tier: "free", workDir: f("work-tone"), maxRenditions: 2 });
    expect(processed.variants.filter((v) => v.kind === "hls").map((v) => v.name).sort()).to.deep.equal(["preview", "standard"]);
    expect(AUDIO_VARIANTS.length).to.equal(3);
  });
});
