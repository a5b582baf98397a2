import { expect } from "chai";
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CID } from "multiformats/cid";
import { bytesToHex } from "viem";
import { decryptManifestSegment, decryptSegment, fromHex } from "@streamvault/lib/crypto";
import { contractOf, LIVE_STATUS } from "@streamvault/lib/deployments";
import { openKeyStore } from "@streamvault/lib/keys";
import { parseManifest } from "@streamvault/lib/manifest";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { LocalStore } from "@streamvault/lib/storage";
import { freePort } from "@streamvault/lib/chain/anvil.ts";
import { MASTER_KEY, runCli, startCli } from "./helpers.ts";
import { createSocket } from "node:dgram";
import { pushRtmp, pushSrt, playlistCids, streamKeyOf } from "./live-helpers.ts";
import { getFixture } from "./fixture.ts";
import type { Fixture } from "./fixture.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ChunkEvent {
  event: string;
  index: number;
  status: string;
}

describe("cli: live archiving", function () {
  this.timeout(240_000);
  let fx: Fixture;
  let source: Buffer;

  before(async () => {
    fx = await getFixture();
    const file = path.join(fx.dir, "live-source.ts");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=660:d=22:r=44100", "-ac", "2", "-c:a", "aac", "-b:a", "128k", "-f", "mpegts", file]);
    source = readFileSync(file);
  });

  async function registeredManifest(contentId: `0x${string}`, manifestCid: string): Promise<void> {
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const [, , manifest] = await fx.chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "contentInfo", args: [contentId] });
    expect(manifest).to.equal(bytesToHex(CID.parse(manifestCid).bytes));
  }

  /** LiveStreams' view of the item: status and reported segments. */
  async function onChainLive(contentId: `0x${string}`): Promise<{ status: number; segments: number }> {
    const ls = contractOf(fx.chain.deployment, "LiveStreams");
    return fx.chain.publicClient.readContract({ address: ls.address, abi: ls.abi, functionName: "streamOf", args: [contentId] });
  }

  it("archives a growing file as ~10 s chunks uploaded as they close, completes when it stops growing, registers it", async () => {
    const growing = path.join(fx.dir, "growing.ts");
    const part = Math.ceil(source.length / 4);
    writeFileSync(growing, source.subarray(0, part));
    const run = startCli(["live", growing, "--id", "show-1", "--title", "Live one", "--segment-seconds", "10", "--idle-timeout", "2", "--json"], fx.env);
    for (let i = 1; i < 4; i++) {
      await sleep(700);
      appendFileSync(growing, source.subarray(i * part, (i + 1) * part));
    }
    const done = await run.done;
    expect(done.code, done.stderr).to.equal(0);
    const events = done.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const final = events.at(-1);
    expect(final.event).to.equal("done");
    expect(final.status).to.equal("complete");
    expect(final.chunks).to.have.length(3); // 10 s + 10 s + 2 s
    expect(final.chunks.every((c: { status: string }) => c.status === "uploaded")).to.equal(true);
    const statuses = (events.filter((e: ChunkEvent) => e.event === "chunk") as ChunkEvent[]).filter((e) => e.index === 0).map((e) => e.status);
    expect(statuses).to.include.members(["pending", "uploading", "uploaded"]);
    await registeredManifest(final.contentId, final.manifestCid);

    const store = new LocalStore({ dir: path.join(fx.home, "pieces") });
    const manifest = parseManifest(await store.get(final.manifestCid));
    expect(manifest.duration).to.be.closeTo(22, 1);
    // Audio input: the 320k and 192k renditions, cut at the same boundaries.
    expect(manifest.variants.map((v) => [v.name, v.role])).to.deep.equal([["high", "high"], ["standard", "standard"]]);
    expect(manifest.variants[1]!.segments.map((s) => s.duration)).to.deep.equal(manifest.variants[0]!.segments.map((s) => s.duration));
    expect(manifest.playlists.master).to.contain("high.m3u8").and.contain("standard.m3u8");
    const live = manifest.variants[0]!;
    expect(live.encrypted).to.equal(true);
    const keys = await openKeyStore({ dataDir: path.join(fx.home, "keys"), masterKey: MASTER_KEY });
    try {
      const key = (await keys.getKey(final.contentId))!;
      const seg = live.segments[1]!;
      const sealed = await store.get(seg.pieceCid);
      // minute-keyed like every pay-per-minute stream: the content key itself does not open it
      expect(live.keyScheme).to.equal("minute-hkdf");
      expect(() => decryptSegment(key, fromHex(seg.nonce!), { contentId: manifest.contentId, variant: live.name, index: 1 }, sealed)).to.throw();
      const plain = decryptManifestSegment(key, manifest.contentId, live, seg, sealed);
      expect(plain[0]).to.equal(0x47);
      // each rendition under its own variant's minute keys
      const other = manifest.variants[1]!;
      const otherSealed = await store.get(other.segments[1]!.pieceCid);
      expect(decryptManifestSegment(key, manifest.contentId, other, other.segments[1]!, otherSealed)[0]).to.equal(0x47);
      expect(() => decryptManifestSegment(key, manifest.contentId, live, { ...other.segments[1]!, index: 1 }, otherSealed)).to.throw();
    } finally {
      await keys.close();
    }

    const status = await runCli(["live-status", "show-1", "--json"], fx.env);
    expect(status.code).to.equal(0);
    expect(JSON.parse(status.stdout)).to.include({ status: "complete", manifestCid: final.manifestCid });
    const table = await runCli(["live-status", "show-1"], fx.env);
    expect(table.stdout).to.match(/uploaded/);
    const missing = await runCli(["live-status", "nope"], fx.env);
    expect(missing.code).to.equal(4);
  });

  it("archives stdin with failing storage writes: chunks retry and the archive completes", async () => {
    const run = startCli(["live", "-", "--id", "show-2", "--tier", "free", "--segment-seconds", "10", "--json"], { ...fx.env, STREAMVAULT_FAULTY_WRITE_RATE: "0.4", STREAMVAULT_FAULTY_SEED: "3" }, { stdin: "pipe" });
    run.child.stdin!.end(source);
    const done = await run.done;
    expect(done.code, done.stderr).to.equal(0);
    const events = done.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const final = events.at(-1);
    expect(final.status).to.equal("complete");
    expect(final.chunks).to.have.length(3);
    expect(events.some((e: ChunkEvent) => e.event === "chunk" && e.status === "retrying")).to.equal(true);
    await registeredManifest(final.contentId, final.manifestCid);
    const manifest = parseManifest(await new LocalStore({ dir: path.join(fx.home, "pieces") }).get(final.manifestCid));
    expect(manifest.variants[0]!.encrypted).to.equal(false);
  });

  it("stdin that stays open but brings no media for --idle-timeout ends the stream on its own; live-state transactions that fail only warn, and --finalize retries them", async () => {
    // This run's deployments file lacks LiveStreams: both live-state announcements fail.
    const deploymentsDir = path.join(fx.dir, "deployments-without-live");
    mkdirSync(deploymentsDir, { recursive: true });
    const { LiveStreams: _live, ...others } = fx.chain.deployment.contracts;
    writeFileSync(path.join(deploymentsDir, "31337.json"), JSON.stringify({ ...fx.chain.deployment, contracts: others }));
    const run = startCli(["live", "-", "--id", "idle-1", "--tier", "free", "--idle-timeout", "2", "--json"], { ...fx.env, DEPLOYMENTS_DIR: deploymentsDir }, { stdin: "pipe" });
    run.child.stdin!.write(source.subarray(0, Math.ceil(source.length / 2))); // ~11 s, then silence: stdin is never closed
    const done = await Promise.race([run.done, sleep(45_000).then(() => Promise.reject(new Error(`still running after 45 s: ${run.output()}`)))]);
    expect(done.code, done.stderr).to.equal(0);
    const final = JSON.parse(done.stdout.trim().split("\n").at(-1)!);
    expect(final.status).to.equal("complete");
    expect(final.chunks.reduce((s: number, c: { duration: number }) => s + c.duration, 0)).to.be.closeTo(11, 2);
    run.child.stdin!.destroy();
    const warnings = done.stderr.split("\n").filter((l) => l.startsWith('{"event":"warning"')).map((l) => JSON.parse(l));
    expect(warnings.map((w: { message: string }) => w.message)).to.have.length(2);
    expect(warnings[0].message).to.match(/marking the stream live on chain failed: .*no LiveStreams deployed.*tried again when the stream ends/);
    expect(warnings[1].message).to.match(/marking the stream ended on chain failed: .*run `streamvault live --finalize idle-1` to try again/);
    expect(final.liveOnChain).to.equal(undefined);
    expect((await onChainLive(final.contentId)).status).to.equal(LIVE_STATUS.none);
    const fin = await runCli(["live", "--finalize", "idle-1", "--json"], fx.env);
    expect(fin.code, fin.stderr).to.equal(0);
    const retried = JSON.parse(fin.stdout.trim().split("\n").at(-1)!);
    expect(retried).to.include({ status: "complete", liveOnChain: "ended", manifestCid: final.manifestCid });
    expect(retried.liveOnChainError).to.equal(undefined);
    expect(await onChainLive(final.contentId)).to.deep.include({ status: LIVE_STATUS.ended, segments: final.chunks.length });
  });

  it("an archive killed with SIGKILL reads as interrupted and continues with the same id, keeping stored chunks", async () => {
    const first = path.join(fx.dir, "session-1.ts");
    const second = path.join(fx.dir, "session-2.ts");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=770:d=12:r=44100", "-ac", "2", "-c:a", "aac", "-f", "mpegts", first]);
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=880:d=12:r=44100", "-ac", "2", "-c:a", "aac", "-f", "mpegts", second]);
    const stateFile = path.join(fx.home, "live", "show-3", "state.json");
    const run = startCli(["live", first, "--id", "show-3", "--segment-seconds", "10", "--idle-timeout", "60"], fx.env);
    let stored: { index: number; pieceCid: string } | undefined;
    // Killed once a segment is stored and the stream is live on chain (announced beside the uploads).
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !stored; await sleep(100)) {
      try {
        const record = JSON.parse(readFileSync(stateFile, "utf8"));
        if (record.liveOnChain === "live") stored = record.chunks.find((c: { status: string }) => c.status === "uploaded");
      } catch {
        // not written yet
      }
    }
    expect(stored, run.output()).to.not.equal(undefined);
    process.kill(-run.child.pid!, "SIGKILL");
    await run.done;
    const interrupted = await runCli(["live-status", "show-3", "--json"], fx.env);
    expect(JSON.parse(interrupted.stdout).status).to.equal("interrupted");
    expect((await onChainLive(JSON.parse(interrupted.stdout).contentId)).status, "an interrupted stream stays live on chain").to.equal(LIVE_STATUS.live);

    const resumed = await runCli(["live", second, "--id", "show-3", "--segment-seconds", "10", "--idle-timeout", "1", "--json"], fx.env);
    expect(resumed.code, resumed.stderr).to.equal(0);
    const final = JSON.parse(resumed.stdout.trim().split("\n").at(-1)!);
    expect(final).to.include({ status: "complete", sessions: 2, liveOnChain: "ended" });
    expect(resumed.stderr, "the resumed stream is live already: no warning").to.not.match(/warning/);
    expect(await onChainLive(final.contentId)).to.deep.include({ status: LIVE_STATUS.ended, segments: 3 });
    expect(final.chunks).to.have.length(3); // 10 s from session 1, then 10 s + 2 s from session 2
    expect(final.chunks[0]).to.include({ index: 0, pieceCid: stored!.pieceCid });
    expect(final.chunks.map((c: { index: number }) => c.index)).to.deep.equal([0, 1, 2]);
    await registeredManifest(final.contentId, final.manifestCid);
    const manifest = parseManifest(await new LocalStore({ dir: path.join(fx.home, "pieces") }).get(final.manifestCid));
    expect(manifest.duration).to.be.closeTo(22, 1.5);
  });

  it("RTMP with 30% of storage writes failing: a wrong stream key is refused with nothing stored; the right one is registered and watchable while live (EVENT playlist of stored pieces only), then ENDLIST and the same pieces as the VOD", async () => {
    const port = await freePort();
    const id = "rtmp-1";
    const env = { ...fx.env, STREAMVAULT_FAULTY_WRITE_RATE: "0.3", STREAMVAULT_FAULTY_SEED: "7" };
    const run = startCli(["live", "--rtmp", "--rtmp-port", String(port), "--id", id, "--title", "RTMP gig", "--idle-timeout", "4", "--json"], env);
    const key = await streamKeyOf(run);
    expect(key).to.match(/^sk_[A-Za-z0-9_-]{32}$/);
    const store = new LocalStore({ dir: path.join(fx.home, "pieces") });
    const stateFile = path.join(fx.home, "live", id, "state.json");
    // 320x240 is below every rung: one rendition at the source height, and the audio-only one
    const playlistFile = path.join(fx.home, "live", id, "240p.m3u8");
    const audioFile = path.join(fx.home, "live", id, "audio.m3u8");
    // ffmpeg's own RTMP server took any key; this one refuses a publisher without the stream's key (the stream id is no key).
    for (const wrong of [id, `${key}x`]) {
      const bad = pushRtmp(`rtmp://127.0.0.1:${port}/live/${wrong}`, 14);
      expect(await bad.done, bad.stderr()).to.not.equal(0);
      expect(bad.stderr()).to.match(/wrong stream key/);
    }
    const refusedState = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(refusedState).to.include({ refusedPublishers: 2, inputBytes: 0 });
    expect(refusedState.chunks).to.deep.equal([]);
    expect(refusedState.liveManifestCid, "nothing registered for a refused publisher").to.equal(undefined);
    expect(existsSync(playlistFile)).to.equal(false);
    // The record keeps only the key's hash, and the output shows the key once (the start event).
    expect(readFileSync(stateFile, "utf8")).to.not.contain(key);
    expect((statSync(stateFile).mode & 0o777).toString(8)).to.equal("600");
    const push = pushRtmp(`rtmp://127.0.0.1:${port}/live/${key}`, 14);
    const counts: number[] = [];
    let liveManifestCid: string | undefined;
    let checkedChain = false;
    let liveOnChain = false;
    let decrypted = false;
    const keys = await openKeyStore({ dataDir: path.join(fx.home, "keys"), masterKey: MASTER_KEY });
    try {
      // Watch it while live: every playlist read names only pieces the store has, and it grows.
      for (const deadline = Date.now() + 60_000; Date.now() < deadline && push.exitCode() === undefined; await sleep(400)) {
        let text: string;
        try {
          text = readFileSync(playlistFile, "utf8");
        } catch {
          continue;
        }
        expect(text).to.contain("#EXT-X-PLAYLIST-TYPE:EVENT");
        expect(text).to.not.contain("#EXT-X-ENDLIST");
        const cids = playlistCids(text);
        for (const cid of [...cids, ...playlistCids(existsSync(audioFile) ? readFileSync(audioFile, "utf8") : "")]) expect(await store.has(cid), `playlist names ${cid} before it is stored`).to.equal(true);
        if (counts.at(-1) !== cids.length) counts.push(cids.length);
        const state = JSON.parse(readFileSync(stateFile, "utf8"));
        liveManifestCid ??= state.liveManifestCid;
        if (!checkedChain && liveManifestCid && cids.length > 0) {
          await registeredManifest(state.contentId, liveManifestCid);
          const m = parseManifest(await store.get(liveManifestCid));
          expect(m.live).to.include({ id, status: "live" });
          expect(m.variants[0]!.segments).to.have.length(0);
          checkedChain = true;
        }
        // Announced beside the first uploads: LiveStreams says live while it streams.
        if (!liveOnChain && state.contentId) liveOnChain = (await onChainLive(state.contentId)).status === LIVE_STATUS.live;
        if (!decrypted && cids.length > 0) {
          // The content key of the live item is in the key store from the start; segment 0 opens with its minute key.
          const c0 = state.chunks[0];
          const key = (await keys.getKey(state.contentId))!;
          const plain = decryptManifestSegment(key, state.contentId, { name: "240p", keyScheme: "minute-hkdf" }, { index: 0, nonce: c0.renditions["240p"].nonce, minute: c0.minute }, await store.get(cids[0]!));
          expect(plain[0]).to.equal(0x47);
          decrypted = true;
        }
      }
    } finally {
      await keys.close();
    }
    expect(await push.done, `the RTMP push: ${push.stderr()}`).to.equal(0);
    expect(checkedChain, run.output()).to.equal(true);
    expect(liveOnChain, "LiveStreams said live during the stream").to.equal(true);
    expect(decrypted).to.equal(true);
    expect(counts.length, `playlist sizes seen: ${counts.join(",")}`).to.be.greaterThan(2);
    const done = await run.done;
    expect(done.code, done.stderr).to.equal(0);
    const final = JSON.parse(done.stdout.trim().split("\n").at(-1)!);
    expect(final).to.include({ event: "done", status: "complete" });
    expect(final.failedWrites).to.be.greaterThan(0); // the faults happened and were retried
    const text = readFileSync(playlistFile, "utf8");
    expect(text).to.contain("#EXT-X-ENDLIST");
    const cids = playlistCids(text);
    expect(cids.length).to.be.at.least(6); // ~14 s in 2 s segments
    await registeredManifest(final.contentId, final.manifestCid);
    expect(await onChainLive(final.contentId)).to.deep.include({ status: LIVE_STATUS.ended, segments: cids.length });
    const vod = parseManifest(await store.get(final.manifestCid));
    expect(vod.live).to.include({ id, status: "ended" });
    expect(vod.kind).to.equal("video");
    expect(vod.variants.map((v) => [v.name, v.role, v.height])).to.deep.equal([["240p", "standard", 240], ["audio", "audio", undefined]]);
    expect(vod.variants[0]!.segments.map((s) => s.pieceCid)).to.deep.equal(cids);
    expect(vod.variants[1]!.segments.map((s) => s.pieceCid)).to.deep.equal(playlistCids(readFileSync(audioFile, "utf8")));
    expect(final.chunks.map((c: { pieceCid: string }) => c.pieceCid)).to.deep.equal(cids);
    expect(vod.duration).to.be.closeTo(14, 2.5);
    const statusRun = await runCli(["live-status", id, "--json"], fx.env);
    const status = JSON.parse(statusRun.stdout);
    expect(status).to.include({ state: "ended", chunksStored: cids.length, refusedPublishers: 2 });
    expect(status.rtmpKeyHash).to.equal(undefined);
    expect(done.stdout.split(key).length - 1, "the key is printed once").to.equal(1);
    expect(done.stderr + statusRun.stdout).to.not.contain(key);
    expect(status.failedWrites).to.equal(final.failedWrites);
  });

  it("SRT: the stream key is the SRT passphrase (a caller without it fails the handshake, nothing stored); the right one is registered, archived and ends as the VOD; the key is never stored", async () => {
    const port = await freePort();
    const id = "srt-1";
    const run = startCli(["live", "--srt", "--srt-port", String(port), "--id", id, "--title", "SRT gig", "--renditions", "360,audio", "--preset", "ultrafast", "--idle-timeout", "4", "--json"], fx.env);
    const key = await streamKeyOf(run);
    expect(key).to.match(/^sk_[A-Za-z0-9_-]{32}$/);
    const stateFile = path.join(fx.home, "live", id, "state.json");
    const bad = pushSrt(`srt://127.0.0.1:${port}?passphrase=${key}x`, 6);
    expect(await bad.done, bad.stderr()).to.not.equal(0);
    expect(bad.stderr()).to.match(/passphrase/i);
    const refused = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(refused).to.include({ inputBytes: 0 });
    expect(refused.chunks).to.deep.equal([]);
    expect(refused.liveManifestCid, "nothing registered for a refused caller").to.equal(undefined);
    const push = pushSrt(`srt://127.0.0.1:${port}?passphrase=${key}`, 8);
    expect(await push.done, `the SRT push: ${push.stderr()}`).to.equal(0);
    const done = await run.done;
    expect(done.code, done.stderr).to.equal(0);
    const final = JSON.parse(done.stdout.trim().split("\n").at(-1)!);
    expect(final).to.include({ event: "done", status: "complete" });
    await registeredManifest(final.contentId, final.manifestCid);
    const store = new LocalStore({ dir: path.join(fx.home, "pieces") });
    const vod = parseManifest(await store.get(final.manifestCid));
    expect(vod.live).to.include({ id, status: "ended" });
    expect(vod.variants.map((v) => v.name)).to.deep.equal(["240p", "audio"]);
    for (const v of vod.variants) expect(v.segments.map((s) => s.pieceCid)).to.deep.equal(playlistCids(readFileSync(path.join(fx.home, "live", id, `${v.name}.m3u8`), "utf8")));
    expect(vod.duration).to.be.closeTo(8, 2.5);
    expect(readFileSync(stateFile, "utf8")).to.not.contain(key);
    expect(done.stdout.split(key).length - 1, "the key is printed once").to.equal(1);
    expect(done.stderr).to.not.contain(key);
    const status = JSON.parse((await runCli(["live-status", id, "--json"], fx.env)).stdout);
    expect(status.srtKeyHash).to.equal(undefined);
  });

  it("SRT refusals say what to do: a taken UDP port, a short key, a continued stream without its key", async () => {
    const socket = createSocket("udp4");
    const port = await freePort();
    await new Promise<void>((r) => socket.bind(port, "127.0.0.1", () => r()));
    try {
      const taken = await runCli(["live", "--srt", "--srt-port", String(port), "--id", "srt-taken", "--renditions", "360,audio", "--preset", "ultrafast"], fx.env);
      expect(taken.code).to.not.equal(0);
      expect(taken.stderr).to.match(new RegExp(`SRT port 127\\.0\\.0\\.1:${port} is in use: pick another with --srt-port`));
    } finally {
      socket.close();
    }
    const short = await runCli(["live", "--srt", "--srt-key", "short", "--id", "srt-short"], fx.env);
    expect(short.code).to.not.equal(0);
    expect(short.stderr).to.match(/--srt-key must be 10-79 characters/);
    const again = await runCli(["live", "--srt", "--id", "srt-taken", "--renditions", "360,audio", "--preset", "ultrafast"], fx.env);
    expect(again.code).to.not.equal(0);
    expect(again.stderr).to.match(/continuing SRT stream "srt-taken" needs its key: pass --srt-key/);
  });

  it("--finalize ends an interrupted stream with what was stored; refuses a running or unknown one", async () => {
    const missing = await runCli(["live", "--finalize", "nope"], fx.env);
    expect(missing.code).to.equal(4);
    expect(missing.stderr).to.match(/no live stream "nope"/);
    const both = await runCli(["live", "x.ts", "--rtmp"], fx.env);
    expect(both.code).to.not.equal(0);
    const port = await freePort();
    const run = startCli(["live", "--rtmp", "--rtmp-port", String(port), "--id", "rtmp-2", "--idle-timeout", "60", "--json"], fx.env);
    const push = pushRtmp(`rtmp://127.0.0.1:${port}/live/${await streamKeyOf(run)}`, 30);
    const stateFile = path.join(fx.home, "live", "rtmp-2", "state.json");
    let stored = 0;
    for (const deadline = Date.now() + 40_000; Date.now() < deadline && stored < 2; await sleep(200)) {
      try {
        stored = JSON.parse(readFileSync(stateFile, "utf8")).chunks.filter((c: { status: string }) => c.status === "uploaded").length;
      } catch {
        // not written yet
      }
    }
    expect(stored, run.output()).to.be.at.least(2);
    const running = await runCli(["live", "--finalize", "rtmp-2"], fx.env);
    expect(running.code).to.not.equal(0);
    expect(running.stderr).to.match(/still recording/);
    process.kill(-run.child.pid!, "SIGKILL"); // the encoder's machine dies
    push.kill();
    await run.done;
    expect(JSON.parse((await runCli(["live-status", "rtmp-2", "--json"], fx.env)).stdout).state).to.equal("interrupted");
    const fin = await runCli(["live", "--finalize", "rtmp-2", "--json"], fx.env);
    expect(fin.code, fin.stderr).to.equal(0);
    const final = JSON.parse(fin.stdout.trim().split("\n").at(-1)!);
    expect(final.status).to.equal("complete");
    expect(final.chunks.length).to.be.at.least(stored);
    await registeredManifest(final.contentId, final.manifestCid);
    expect(await onChainLive(final.contentId)).to.deep.include({ status: LIVE_STATUS.ended, segments: final.chunks.length });
    const text = readFileSync(path.join(fx.home, "live", "rtmp-2", "240p.m3u8"), "utf8");
    expect(text).to.contain("#EXT-X-ENDLIST");
    expect(playlistCids(text)).to.deep.equal(final.chunks.map((c: { pieceCid: string }) => c.pieceCid));
  });
});
