/**
 * lib/live/rtmp.ts on its own, with real ffmpeg publishers: the stream key is checked at publish,
 * the accepted publisher's media comes out as FLV that ffmpeg reads, one publisher at a time.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { freePort } from "@streamvault/lib/chain/anvil.ts";
import { runTool, toolPath } from "@streamvault/lib/media/ffmpeg.ts";
import { hashStreamKey, listenRtmp, newStreamKey, streamKeyMatches } from "@streamvault/lib/live/rtmp.ts";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

function publish(url: string, seconds: number): { done: Promise<{ code: number; stderr: string }>; kill(): void } {
  const child = spawn(
    toolPath("ffmpeg"),
    ["-hide_banner", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", `testsrc=size=160x120:rate=15:duration=${seconds}`, "-f", "lavfi", "-i", `sine=f=440:duration=${seconds}`,
      "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", url],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.once("close", (code) => resolve({ code: code ?? -1, stderr }))), kill: () => child.kill("SIGKILL") };
}

describe("live: RTMP ingest checks the stream key", function () {
  this.timeout(60_000);

  it("keys are random, kept as a hash and compared in constant time", () => {
    const key = newStreamKey();
    expect(key).to.match(/^sk_[A-Za-z0-9_-]{32}$/);
    expect(newStreamKey()).to.not.equal(key);
    expect(hashStreamKey(key)).to.match(/^sha256:[0-9a-f]{64}$/).and.not.contain(key);
    expect(streamKeyMatches(key, hashStreamKey(key))).to.equal(true);
    expect(streamKeyMatches(`${key}x`, hashStreamKey(key))).to.equal(false);
    expect(streamKeyMatches("", hashStreamKey(key))).to.equal(false);
  });

  it("refuses a wrong key before any media, passes the right key's media on as FLV, refuses a second publisher meanwhile", async () => {
    const key = newStreamKey();
    const port = await freePort();
    const reasons: string[] = [];
    let published = 0;
    const ingest = await listenRtmp({ host: "127.0.0.1", port, keyHash: hashStreamKey(key), onRefused: (r) => reasons.push(r), onPublish: () => published++ });
    const dir = await mkdtemp(path.join(tmpdir(), "sv-rtmp-"));
    try {
      const received: Buffer[] = [];
      ingest.flv.on("data", (d: Buffer) => received.push(d));
      const ended = new Promise<void>((resolve) => ingest.flv.once("end", () => resolve()));

      const wrong = await publish(`rtmp://127.0.0.1:${port}/live/not-the-key`, 2).done;
      expect(wrong.code).to.not.equal(0);
      expect(wrong.stderr).to.match(/wrong stream key/);
      expect(wrong.stderr).to.not.contain(key);
      expect(received, "no media from a refused publisher").to.deep.equal([]);
      expect(published).to.equal(0);

      const right = publish(`rtmp://127.0.0.1:${port}/live/${key}`, 4);
      for (const deadline = Date.now() + 15_000; published === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
      expect(published).to.equal(1);
      // While it streams, another publisher (even with the key) is turned away.
      const second = await publish(`rtmp://127.0.0.1:${port}/live/${key}`, 2).done;
      expect(second.code).to.not.equal(0);
      expect((await right.done).code).to.equal(0);
      await ended;
      expect(reasons[0]).to.equal("wrong stream key");
      expect(reasons).to.have.length(2);
      expect(ingest.refused()).to.equal(2);

      const flv = Buffer.concat(received);
      expect(flv.subarray(0, 3).toString()).to.equal("FLV");
      const file = path.join(dir, "in.flv");
      await writeFile(file, flv);
      const probe = JSON.parse((await runTool("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width:format=duration", "-of", "json", file])).stdout.toString()) as { streams: { codec_name: string; width?: number }[]; format: { duration: string } };
      expect(probe.streams.map((s) => s.codec_name).sort()).to.deep.equal(["aac", "h264"]);
      expect(probe.streams.find((s) => s.codec_name === "h264")!.width).to.equal(160);
      expect(Number(probe.format.duration)).to.be.closeTo(4, 0.6);
    } finally {
      ingest.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("says what to do when the port is taken", async () => {
    const port = await freePort();
    const first = await listenRtmp({ host: "127.0.0.1", port, keyHash: hashStreamKey(newStreamKey()) });
    try {
      let error: Error | undefined;
      await listenRtmp({ host: "127.0.0.1", port, keyHash: hashStreamKey(newStreamKey()) }).catch((e: Error) => (error = e));
      expect(error?.message).to.equal(`RTMP port 127.0.0.1:${port} is in use: pick another with --rtmp-port`);
    } finally {
      first.close();
    }
  });
});
