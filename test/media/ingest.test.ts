import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { ingestBatch, ingestMedia, MediaIngestError, resolveToolPath, toolPath } from "../../lib/media/index.ts";
import { makeAudio } from "./helpers.ts";

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
});
