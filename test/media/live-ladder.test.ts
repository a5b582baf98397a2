/**
 * The live ladder (lib/live/ladder.ts): which renditions a source gets, the parsing of
 * `--renditions`, the source description read from ffmpeg's log, and the one encoding ffmpeg on
 * a real generated 854x480 source: every rendition is cut at the same boundaries, at the planned size.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ladderArgs, parseRenditions, planLiveRenditions, renditionListFile, sourceStreamsFromLog } from "@streamvault/lib/live/ladder.ts";
import { runTool, toolPath } from "@streamvault/lib/media/ffmpeg.ts";
import { validateManifest, type Manifest } from "@streamvault/lib/manifest";
import { pieceCidOf } from "@streamvault/lib/storage/piece.ts";

describe("live: rendition ladder", function () {
  this.timeout(60_000);

  it("plans rungs never taller than the source, plus audio only; audio input gets 320k and 192k", () => {
    const names = (r: ReturnType<typeof planLiveRenditions>) => r.map((x) => `${x.name}:${x.role}:${x.width ?? ""}x${x.height ?? ""}`);
    expect(names(planLiveRenditions({ video: { width: 1920, height: 1080 }, audio: true }, "1080,720,480,360,audio"))).to.deep.equal(["1080p:high:1920x1080", "720p:high:1280x720", "480p:standard:854x480", "360p:standard:640x360", "audio:audio:x"]);
    expect(names(planLiveRenditions({ video: { width: 854, height: 480 }, audio: true }, "720,360,audio"))).to.deep.equal(["360p:standard:640x360", "audio:audio:x"]);
    // below every rung: one rendition at the source height; no audio stream: no audio-only rendition
    expect(names(planLiveRenditions({ video: { width: 320, height: 240 }, audio: false }, "720,360,audio"))).to.deep.equal(["240p:standard:320x240"]);
    expect(planLiveRenditions({ video: { width: 320, height: 240 }, audio: false }, "360")[0]!.codecs).to.equal("avc1.64001f");
    const audio = planLiveRenditions({ audio: true }, "720,360");
    expect(audio.map((r) => [r.name, r.role, r.audioBitrate])).to.deep.equal([["high", "high", 320_000], ["standard", "standard", 192_000]]);
    expect(() => planLiveRenditions({ audio: false })).to.throw(/neither video nor audio/);
  });

  it("--renditions: heights of the VOD ladder and audio, anything else refused with what to write", () => {
    expect(parseRenditions("360, 720p,audio")).to.deep.equal({ heights: [720, 360], audio: true });
    expect(() => parseRenditions("720,540")).to.throw(/"540" is not a rung; use a comma-separated list of 1080, 720, 480, 360 and audio/);
    expect(() => parseRenditions("audio")).to.throw(/names no video height/);
  });

  it("reads the source's streams from ffmpeg's description of its input, not from its output", () => {
    const log = [
      "Input #0, flv, from 'rtmp://127.0.0.1:1935/live/gig':",
      "  Stream #0:0: Video: h264 (High), yuv420p(progressive), 1280x720 [SAR 1:1 DAR 16:9], 30 fps, 30 tbr, 1k tbn",
      "  Stream #0:1: Audio: aac (LC), 48000 Hz, stereo, fltp, 160 kb/s",
    ].join("\n");
    expect(sourceStreamsFromLog(log)).to.equal(undefined); // still opening: no output yet
    const done = `${log}\nOutput #0, nut, to 'pipe:1':\n  Stream #0:0: Video: h264, 640x360\n`;
    expect(sourceStreamsFromLog(done)).to.deep.equal({ video: { width: 1280, height: 720 }, audio: true });
    expect(sourceStreamsFromLog("Input #0, mpegts, from 'pipe:0':\n  Stream #0:0[0x100]: Audio: aac (LC) ([15][0][0][0] / 0x000F), 44100 Hz, stereo\nStream mapping:\n")).to.deep.equal({ video: undefined, audio: true });
  });

  it("one ffmpeg cuts every rendition at the same boundaries (real ffmpeg, 854x480 source)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sv-ladder-"));
    let ingest: ReturnType<typeof spawn> | undefined;
    try {
      // The ingest as the archiver runs it: describes its one input (picture and tone), passes it on as NUT.
      ingest = spawn(toolPath("ffmpeg"), ["-hide_banner", "-nostats", "-v", "info", "-f", "lavfi", "-i", "testsrc=size=854x480:rate=15:duration=7[out0];sine=f=440:duration=7[out1]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-f", "nut", "pipe:1"], { stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      const source = await new Promise<ReturnType<typeof sourceStreamsFromLog>>((resolve) => {
        ingest!.stderr!.on("data", (d: Buffer) => {
          log += d.toString();
          const s = sourceStreamsFromLog(log);
          if (s) resolve(s);
        });
        ingest!.once("close", () => resolve(undefined));
      });
      expect(source).to.deep.equal({ video: { width: 854, height: 480 }, audio: true });
      const renditions = planLiveRenditions(source!, "480,360,audio");
      const encoder = spawn(toolPath("ffmpeg"), ladderArgs(renditions, { dir, chunkDir: dir, session: 1, segmentSeconds: 2, preset: "ultrafast" }), { stdio: ["pipe", "ignore", "pipe"] });
      let err = "";
      encoder.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      ingest.stdout!.pipe(encoder.stdin!);
      expect(await new Promise<number | null>((r) => encoder.once("close", r)), err).to.equal(0);
      const lists = renditions.map((r) => readFileSync(renditionListFile(dir, 1, r.name), "utf8").trim().split("\n").map((l) => l.split(",")));
      expect(lists[0]!.length).to.equal(4); // 2 + 2 + 2 + 1 s
      for (const list of lists) {
        expect(list.length).to.equal(lists[0]!.length);
        list.forEach(([, start], i) => expect(Number(start), `segment ${i}`).to.be.closeTo(Number(lists[0]![i]![1]), 0.05));
      }
      // segment n starts at n x 2 s (forced keyframes; the encoder's start delay of a few ms aside), at the planned size
      lists[0]!.forEach(([, start], n) => expect(Number(start), `segment ${n}`).to.be.closeTo(2 * n, 0.05));
      for (const r of renditions) {
        const probe = JSON.parse((await runTool("ffprobe", ["-v", "error", "-show_streams", "-of", "json", path.join(dir, lists[renditions.indexOf(r)]![1]![0]!)])).stdout.toString("utf8")) as { streams: { codec_type: string; width?: number; height?: number }[] };
        const video = probe.streams.find((s) => s.codec_type === "video");
        expect(video ? `${video.width}x${video.height}` : "audio only", r.name).to.equal(r.height ? `${r.width}x${r.height}` : "audio only");
        expect(probe.streams.some((s) => s.codec_type === "audio"), r.name).to.equal(true);
      }
    } finally {
      if (ingest?.exitCode === null) ingest.kill("SIGKILL"); // a failed check must not leave it blocked on its pipe
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the manifest schema takes the audio-only role beside the VOD roles", () => {
    const segment = { index: 0, pieceCid: pieceCidOf(new Uint8Array(200).fill(7)), size: 10, duration: 2 };
    const variant = (name: string, role: string) => ({ name, role, kind: "hls", codecs: "mp4a.40.2", container: "mpegts", bitrate: 1, averageBandwidth: 1, peakBandwidth: 1, encrypted: false, duration: 2, playlist: name, segments: [segment] });
    const m = {
      version: 2, contentId: "0x" + "ab".repeat(32), kind: "video", tier: "free", copies: 2, duration: 2, tags: {}, artwork: [], pieceUrlPrefix: "/piece/",
      source: { container: "live", codec: "h264+aac", size: 0, lossless: false },
      variants: [variant("360p", "standard"), variant("audio", "audio")],
      playlists: { "360p": "#EXTM3U", audio: "#EXTM3U", master: "#EXTM3U" },
    } as unknown as Manifest;
    expect(validateManifest(m).variants.map((v) => v.role)).to.deep.equal(["standard", "audio"]);
  });
});
