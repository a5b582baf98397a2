import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { ingestBatch, ingestMedia, MediaIngestError, processMedia, publishDetailed, resolveToolPath, runFfmpeg, SILENT_WARNING_FRACTION, toolPath } from "@streamvault/lib/media";
import { makeAudio, MemoryStore } from "./helpers.ts";

describe("media/ingest: validation by decoding, tags and artwork", function () {
  this.timeout(120_000);
  let dir: string;
  const f = (name: string) => path.join(dir, name);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sv-ingest-"));
    await sharp({ create: { width: 800, height: 800, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toFile(f("cover.png"));
    await makeAudio(f("tone.wav"), 5, "sine");
    await makeAudio(f("tone.flac"), 20, "sine");
    // MP3 with ID3 tags and an embedded front cover.
    await makeAudio(f("tagged.mp3"), 8, "sine", [
      "-i", f("cover.png"), "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-b:a", "192k", "-c:v", "mjpeg",
      "-id3v2_version", "3", "-disposition:v", "attached_pic", "-metadata:s:v", "comment=Cover (front)",
      "-metadata", "title=Night Drive", "-metadata", "artist=The Testers", "-metadata", "album=Sine Waves", "-metadata", "date=2024", "-metadata", "track=3/9",
    ]);
    const flac = await readFile(f("tone.flac"));
    await writeFile(f("truncated.flac"), flac.subarray(0, flac.length >> 1));
    const mp3 = await readFile(f("tagged.mp3"));
    await writeFile(f("truncated.mp3"), mp3.subarray(0, Math.floor(mp3.length * 0.6)));
    await writeFile(f("random.mp3"), randomBytes(64 * 1024));
    await writeFile(f("empty.wav"), new Uint8Array(0));
    await writeFile(f("notes.mp3"), "these are liner notes, not audio\n".repeat(50));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds ffmpeg and ffprobe", () => {
    expect(toolPath("ffmpeg")).to.match(/ffmpeg$/);
    expect(toolPath("ffprobe")).to.match(/ffprobe$/);
  });

  it("resolves FFMPEG_PATH first, then the system binary, then the npm-shipped one", () => {
    expect(resolveToolPath("ffmpeg", { FFMPEG_PATH: "/bin/true" })).to.equal("/bin/true");
    expect(() => resolveToolPath("ffprobe", { FFPROBE_PATH: "/nonexistent/ffprobe" })).to.throw(/FFPROBE_PATH/);
    expect(resolveToolPath("ffmpeg", { PATH: "" })).to.equal("/usr/bin/ffmpeg");
  });

  it("reads format, duration, bitrate of WAV and FLAC (lossless)", async () => {
    const wav = await ingestMedia(f("tone.wav"));
    expect(wav.kind).to.equal("audio");
    expect(wav.container).to.equal("wav");
    expect(wav.duration).to.be.closeTo(5, 0.05);
    expect(wav.audio).to.include({ codec: "pcm_s16le", sampleRate: 44100, channels: 2, lossless: true });
    expect(wav.bitRate).to.be.closeTo(1_411_200, 5_000);
    const flac = await ingestMedia(f("tone.flac"));
    expect(flac.audio).to.include({ codec: "flac", lossless: true });
    expect(flac.duration).to.be.closeTo(20, 0.05);
  });

  it("reads ID3 tags and the embedded cover of an MP3", async () => {
    const info = await ingestMedia(f("tagged.mp3"));
    expect(info.audio).to.include({ codec: "mp3", lossless: false });
    expect(info.duration).to.be.closeTo(8, 0.1);
    expect(info.tags).to.include({ title: "Night Drive", artist: "The Testers", album: "Sine Waves", year: 2024, trackNumber: 3, trackTotal: 9 });
    expect(info.picture?.format).to.match(/image\/jpe?g/);
    const meta = await sharp(info.picture!.data).metadata();
    expect(meta.width).to.equal(800);
    expect(info.bitRate).to.be.greaterThan(150_000);
  });

  const rejects: [string, string[]][] = [
    ["empty.wav", ["empty"]],
    ["random.mp3", ["corrupt", "unsupported"]],
    ["truncated.flac", ["truncated", "corrupt"]],
    ["truncated.mp3", ["truncated", "corrupt"]],
    ["notes.mp3", ["unsupported", "corrupt"]],
    ["missing.wav", ["not-found"]],
  ];
  for (const [name, reasons] of rejects) {
    it(`rejects ${name} with one clear MediaIngestError (${reasons.join("/")})`, async () => {
      let error: unknown;
      try {
        await ingestMedia(f(name));
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(MediaIngestError);
      const e = error as MediaIngestError;
      expect(e.file).to.equal(f(name));
      expect(reasons).to.include(e.reason);
      expect(e.message).to.include(name).and.to.include(e.reason).and.to.include("What to do");
    });
  }

  it("says the truncated FLAC is truncated (decodes less than its header declares)", async () => {
    const error = await ingestMedia(f("truncated.flac")).catch((e: unknown) => e);
    expect((error as MediaIngestError).reason).to.equal("truncated");
  });

  it("rejects files over the size limit before decoding", async () => {
    const error = await ingestMedia(f("tone.wav"), { maxBytes: 1000 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MediaIngestError);
    expect((error as MediaIngestError).reason).to.equal("too-large");
  });

  it("rejects a still image as unsupported", async () => {
    const error = await ingestMedia(f("cover.png")).catch((e: unknown) => e);
    expect((error as MediaIngestError).reason).to.equal("unsupported");
  });

  it("a batch reports each failure and carries on with the rest", async () => {
    const files = ["tone.wav", "empty.wav", "random.mp3", "tagged.mp3", "truncated.flac", "tone.flac"].map(f);
    const results = await ingestBatch(files);
    expect(results.map((r) => r.ok)).to.deep.equal([true, false, false, true, false, true]);
    for (const r of results) {
      expect(r.file).to.be.a("string");
      if (!r.ok) expect(r.error).to.be.instanceOf(MediaIngestError);
    }
  });

  describe("issue 10: video without audio, truncated WAV, silence", () => {
    /** H.264 test pattern with no audio stream; `keyframeEvery` seconds between keyframes (x264 keyint, no scene cuts). */
    const silentVideo = (file: string, seconds: number, size: string, keyframeEvery: number, extra: string[] = []) =>
      runFfmpeg([
        "-v", "error", "-y", "-f", "lavfi", "-i", `testsrc=d=${seconds}:s=${size}:r=25`,
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-x264-params", `keyint=${keyframeEvery * 25}:min-keyint=${keyframeEvery * 25}:scenecut=0`, ...extra, file,
      ]);
    /** `seconds` of a tone followed by silence up to `total` seconds (stereo WAV). */
    const toneThenSilence = (file: string, seconds: number, total: number) =>
      runFfmpeg([
        "-v", "error", "-y", "-f", "lavfi", "-i", `sine=f=440:d=${seconds}:r=44100`, "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo",
        "-filter_complex", `[0]aformat=channel_layouts=stereo[tone];[1]atrim=duration=${total - seconds}[quiet];[tone][quiet]concat=n=2:v=0:a=1`, file,
      ]);

    before(async () => {
      await Promise.all([
        // 8-s 854x480 with a single keyframe: a keyframes-only decode sees 0.04 s of it.
        silentVideo(f("noaudio-8s.mp4"), 8, "854x480", 10),
        // 60 s with a keyframe every 30 s, complete.
        silentVideo(f("noaudio-60s-gop30.mp4"), 60, "320x240", 30, ["-movflags", "+faststart"]),
        makeAudio(f("declares-40s.wav"), 40, "sine"),
        runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "20", f("silence-20s.wav")]),
        toneThenSilence(f("mostly-silent.wav"), 1, 20),
        toneThenSilence(f("half-silent.wav"), 10, 20),
      ]);
      // The same 60 s, cut after 75 % of its bytes (moov first, so the header still declares 60 s).
      const full = await readFile(f("noaudio-60s-gop30.mp4"));
      await writeFile(f("noaudio-cut.mp4"), full.subarray(0, Math.floor(full.length * 0.75)));
      // What an interrupted copy leaves: the RIFF/data header of 40 s, then 10 s of samples.
      const wav = await readFile(f("declares-40s.wav"));
      const dataStart = wav.indexOf("data") + 8;
      await writeFile(f("wav-cut-10s.wav"), wav.subarray(0, dataStart + 10 * 44100 * 4));
    });

    it("item 8: the duration of a video without audio is its full length, in ingest and in the manifest", async () => {
      const info = await ingestMedia(f("noaudio-8s.mp4"));
      expect(info.kind).to.equal("video");
      expect(info.audio).to.equal(undefined);
      expect(info.duration).to.be.closeTo(8, 0.05);
      const processed = await processMedia(f("noaudio-8s.mp4"), { contentId: "noaudio-8s", tier: "free", workDir: f("work-noaudio"), x264Preset: "ultrafast" });
      const { manifest } = await publishDetailed(processed, new MemoryStore());
      expect(manifest.duration).to.be.closeTo(8, 0.05);
      for (const v of manifest.variants.filter((x) => x.role !== "preview")) expect(v.duration, v.name).to.be.closeTo(8, 0.3);
    });

    it("item 8: a complete 60-s video with no audio and a 30-s keyframe interval is accepted as 60 s", async () => {
      const info = await ingestMedia(f("noaudio-60s-gop30.mp4"));
      expect(info.duration).to.be.closeTo(60, 0.05);
    });

    it("item 8: the same video really cut short is still refused as truncated", async () => {
      const error = await ingestMedia(f("noaudio-cut.mp4")).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(MediaIngestError);
      expect((error as MediaIngestError).reason).to.equal("truncated");
      expect((error as MediaIngestError).message).to.include("upload the complete file");
    });

    it("item 9: a WAV whose header declares 40 s but holds 10 s is refused as truncated, saying both lengths", async () => {
      const error = await ingestMedia(f("wav-cut-10s.wav")).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(MediaIngestError);
      const e = error as MediaIngestError;
      expect(e.reason).to.equal("truncated");
      expect(e.message).to.include("the file is truncated: header declares 40.0 s, 10.0 s present");
      expect(e.message).to.include("upload the complete file");
      // The complete file is accepted, as 40 s.
      expect((await ingestMedia(f("declares-40s.wav"))).duration).to.be.closeTo(40, 0.05);
    });

    it("item 11: warns when the audio is silent or near-silent for most of its length, not otherwise", async () => {
      const silent = await ingestMedia(f("silence-20s.wav"));
      expect(silent.warnings.map((w) => w.code)).to.deep.equal(["mostly-silent"]);
      expect(silent.warnings[0]!.message).to.match(/silent for 20\.0 s of 20\.0 s \(100 %/);
      expect(silent.silentSeconds).to.be.closeTo(20, 0.1);
      const mostly = await ingestMedia(f("mostly-silent.wav"));
      expect(mostly.warnings.map((w) => w.code)).to.deep.equal(["mostly-silent"]);
      expect(mostly.silentSeconds! / mostly.duration).to.be.at.least(SILENT_WARNING_FRACTION);
      const half = await ingestMedia(f("half-silent.wav"));
      expect(half.warnings).to.deep.equal([]);
      expect(half.silentSeconds).to.be.closeTo(10, 0.2);
      const tone = await ingestMedia(f("tone.wav"));
      expect(tone.warnings).to.deep.equal([]);
      expect(tone.silentSeconds).to.equal(0);
      // A video without audio has nothing to be silent.
      expect((await ingestMedia(f("noaudio-8s.mp4"))).warnings).to.deep.equal([]);
    });

    it("tags that read like ffmpeg log lines neither fail the decode check nor count as silence", async () => {
      const file = f("log-like-tags.mp3");
      await makeAudio(file, 4, "sine", ["-c:a", "libmp3lame", "-metadata", "title=[error] Header missing", "-metadata", "comment=[silencedetect @ 0x1] [info] silence_duration: 99"]);
      const info = await ingestMedia(file);
      expect(info.tags.title).to.equal("[error] Header missing");
      expect(info.silentSeconds).to.equal(0);
      expect(info.warnings).to.deep.equal([]);
    });
  });
});
