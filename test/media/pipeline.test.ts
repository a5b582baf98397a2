import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { decryptManifestSegment, decryptSegment, deriveMinuteKey, fromHex, SegmentDecryptError } from "@streamvault/lib/crypto";
import { openKeyStore } from "@streamvault/lib/keys";
import type { KeyStore } from "@streamvault/lib/keys";
import { parseManifest, serializeManifest, validateManifest, ManifestValidationError } from "@streamvault/lib/manifest";
import type { Manifest, ManifestVariant } from "@streamvault/lib/manifest";
import { MediaIngestError, planVariants, processBatch, processMedia, publishDetailed, tierPolicy } from "@streamvault/lib/media";
import type { MediaInfo, ProcessedMedia, PublishResult } from "@streamvault/lib/media";
import { backendNamed, createStore, WebTorrentStore } from "@streamvault/lib/storage";
import { audioPayloadBitrate, decodedSeconds, makeAudio, makeVideo, MemoryStore, probe } from "./helpers.ts";

/** Fetch + (if encrypted) decrypt every segment of a variant, concatenated. */
async function variantBytes(store: MemoryStore, manifest: Manifest, variant: ManifestVariant, key?: Uint8Array): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (const s of variant.segments) {
    const stored = await store.get(s.pieceCid);
    expect(stored.length).to.equal(s.size);
    parts.push(variant.encrypted ? decryptManifestSegment(key!, manifest.contentId, variant, s, stored) : stored);
  }
  return Buffer.concat(parts);
}

function variant(manifest: Manifest, name: string): ManifestVariant {
  const v = manifest.variants.find((x) => x.name === name);
  if (!v) throw new Error(`no variant ${name} in manifest`);
  return v;
}

describe("media/pipeline: processMedia + publish", function () {
  this.timeout(180_000);
  let dir: string;
  let keys: KeyStore;
  const f = (name: string) => path.join(dir, name);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sv-pipeline-"));
    keys = await openKeyStore({ inMemory: true, masterKey: new Uint8Array(32).fill(7), env: {} });
  });
  after(async () => {
    await keys?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe("exclusive tier, 3-minute WAV (noise)", () => {
    let processed: ProcessedMedia;
    let published: PublishResult;
    let store: MemoryStore;
    let key: Uint8Array;

    before(async () => {
      await makeAudio(f("long.wav"), 180, "noise");
      processed = await processMedia(f("long.wav"), { contentId: "excl-1", tier: "exclusive", workDir: f("work-excl") });
      store = new MemoryStore();
      published = await publishDetailed(processed, store, { keyStore: keys });
      key = (await keys.getKey("excl-1"))!;
    });

    it("stores original, high, standard encrypted and preview clear, 3 copies", () => {
      const m = published.manifest;
      expect(m.tier).to.equal("exclusive");
      expect(m.copies).to.equal(3);
      expect(m.variants.map((v) => [v.name, v.encrypted])).to.deep.equal([
        ["original", true],
        ["high", true],
        ["standard", true],
        ["preview", false],
      ]);
      expect(m.encryption).to.deep.include({ alg: "AES-256-GCM", keyId: processed.keyId });
      expect(m.duration).to.be.closeTo(180, 0.1);
    });

    it("the original decrypts back to the exact source bytes", async () => {
      const original = await variantBytes(store, published.manifest, variant(published.manifest, "original"), key);
      const source = await readFile(f("long.wav"));
      expect(createHash("sha256").update(original).digest("hex")).to.equal(createHash("sha256").update(source).digest("hex"));
    });

    it("high/standard decrypt to AAC that ffmpeg decodes for the full duration at the expected bitrates", async () => {
      const rates: Record<string, number> = {};
      for (const name of ["high", "standard"]) {
        const v = variant(published.manifest, name);
        const file = f(`excl-${name}.ts`);
        await writeFile(file, await variantBytes(store, published.manifest, v, key));
        expect(await decodedSeconds(file)).to.be.closeTo(180, 0.5);
        const info = await probe(file);
        expect(info.streams[0]).to.include({ codec_type: "audio", codec_name: "aac" });
        rates[name] = await audioPayloadBitrate(file);
      }
      // The native AAC encoder runs a little under high targets; bounds leave room for that.
      expect(rates.high).to.be.within(320_000 * 0.75, 320_000 * 1.1);
      expect(rates.standard).to.be.within(192_000 * 0.85, 192_000 * 1.1);
      expect(rates.high!).to.be.greaterThan(rates.standard! * 1.25);
    });

    it("cuts ~10 s segments", () => {
      for (const name of ["high", "standard"]) {
        const segs = variant(published.manifest, name).segments;
        expect(segs.length).to.be.within(18, 19);
        for (const s of segs.slice(0, -1)) expect(s.duration).to.be.closeTo(10, 0.1);
      }
    });

    it("preview is the first ~30 s at ~128 kbps, in the clear", async () => {
      const v = variant(published.manifest, "preview");
      expect(v.duration).to.be.closeTo(30, 0.2);
      expect(v.segments).to.have.length(3);
      expect(v.segments.every((s) => s.nonce === undefined)).to.equal(true);
      const file = f("excl-preview.ts");
      await writeFile(file, await variantBytes(store, published.manifest, v));
      expect(await decodedSeconds(file)).to.be.closeTo(30, 0.3);
      expect(await audioPayloadBitrate(file)).to.be.within(128_000 * 0.85, 128_000 * 1.1);
    });

    it("version 2: HLS variants are keyed per minute window (segments starting in [60m, 60m+60)), the original by the content key", async () => {
      const m = published.manifest;
      expect(m.version).to.equal(2);
      expect(m.variants.map((v) => [v.name, v.keyScheme])).to.deep.equal([
        ["original", "content"],
        ["high", "minute-hkdf"],
        ["standard", "minute-hkdf"],
        ["preview", undefined],
      ]);
      const high = variant(m, "high");
      let start = 0;
      for (const s of high.segments) {
        expect(s.minute, `segment ${s.index} starts at ${start}`).to.equal(Math.floor(start / 60 + 1e-9));
        start += s.duration!;
      }
      expect(new Set(high.segments.map((s) => s.minute))).to.deep.equal(new Set([0, 1, 2]));
      expect(variant(m, "original").segments.every((s) => s.minute === undefined)).to.equal(true);
      // A minute key opens its own minute's segments only; the content key opens none of them.
      const firstOf = (minute: number) => high.segments.find((s) => s.minute === minute)!;
      const open = (k: Uint8Array, s: ManifestVariant["segments"][number], stored: Uint8Array) =>
        decryptSegment(k, fromHex(s.nonce!), { contentId: m.contentId, variant: "high", index: s.index }, stored);
      const minute1 = deriveMinuteKey(key, m.contentId, "high", 1);
      const s1 = firstOf(1);
      const s2 = firstOf(2);
      const [b1, b2] = [await store.get(s1.pieceCid), await store.get(s2.pieceCid)];
      expect(open(minute1, s1, b1)[0]).to.equal(0x47);
      expect(() => open(minute1, s2, b2)).to.throw(SegmentDecryptError);
      expect(() => open(key, s1, b1)).to.throw(SegmentDecryptError);
      // minute keys are per variant too
      expect(() => open(deriveMinuteKey(key, m.contentId, "standard", 1), s1, b1)).to.throw(SegmentDecryptError);
    });

    it("swapped, reordered or tampered segments fail to decrypt", async () => {
      const m = published.manifest;
      const high = variant(m, "high");
      const std = variant(m, "standard");
      // every segment here is in minute 0: its key is minute 0's
      expect(high.segments[0]!.minute).to.equal(0);
      expect(high.segments[1]!.minute).to.equal(0);
      const minute0 = deriveMinuteKey(key, m.contentId, "high", 0);
      const seg0 = await store.get(high.segments[0]!.pieceCid);
      const seg1 = await store.get(high.segments[1]!.pieceCid);
      const nonce0 = fromHex(high.segments[0]!.nonce!);
      const nonce1 = fromHex(high.segments[1]!.nonce!);
      // reordered: segment 1's bytes (with its nonce) presented as segment 0
      expect(() => decryptSegment(minute0, nonce1, { contentId: m.contentId, variant: "high", index: 0 }, seg1)).to.throw(SegmentDecryptError);
      // swapped across variants: standard's segment 0, with standard's own key, presented as high's segment 0
      const std0 = await store.get(std.segments[0]!.pieceCid);
      expect(() => decryptSegment(deriveMinuteKey(key, m.contentId, "standard", 0), fromHex(std.segments[0]!.nonce!), { contentId: m.contentId, variant: "high", index: 0 }, std0)).to.throw(SegmentDecryptError);
      // moved to another content item
      expect(() => decryptSegment(minute0, nonce0, { contentId: "other", variant: "high", index: 0 }, seg0)).to.throw(SegmentDecryptError);
      // tampered
      const bad = Buffer.from(seg0);
      bad[bad.length >> 1]! ^= 0x40;
      expect(() => decryptSegment(minute0, nonce0, { contentId: m.contentId, variant: "high", index: 0 }, bad)).to.throw(SegmentDecryptError);
      // the genuine one still works
      expect(decryptSegment(minute0, nonce0, { contentId: m.contentId, variant: "high", index: 0 }, seg0).length).to.be.greaterThan(0);
    });

    it("every nonce is unique", () => {
      const nonces = published.manifest.variants.flatMap((v) => v.segments.map((s) => s.nonce)).filter((n) => n !== undefined);
      expect(new Set(nonces).size).to.equal(nonces.length);
    });

    it("the manifest validates, is deterministic and holds no key", () => {
      const bytes = published.manifestBytes;
      const again = serializeManifest(processed.buildManifest(new Map([...published.stored].map(([id, r]) => [id, r.pieceCid]))));
      expect(Buffer.from(again).equals(Buffer.from(bytes))).to.equal(true);
      const parsed = parseManifest(bytes);
      expect(Buffer.from(serializeManifest(parsed)).equals(Buffer.from(bytes))).to.equal(true);
      const text = Buffer.from(bytes).toString("utf8");
      const k = Buffer.from(key);
      for (const form of [k.toString("hex"), k.toString("base64"), k.toString("base64url")]) expect(text).to.not.include(form);
      expect(Buffer.from(bytes).includes(k)).to.equal(false);
      expect(JSON.stringify(processed)).to.not.include(k.toString("hex"));
      expect(() => validateManifest({ ...parsed, key: k.toString("hex") })).to.throw(ManifestValidationError);
      expect(() => validateManifest({ ...parsed, encryption: { ...parsed.encryption, key: k.toString("hex") } })).to.throw(ManifestValidationError);
    });

    it("stores every piece and the manifest under its PieceCID; playlists point at /piece/<cid>", async () => {
      const m = published.manifest;
      expect(await store.has(published.manifestCid)).to.equal(true);
      expect(Buffer.from(await store.get(published.manifestCid)).equals(Buffer.from(published.manifestBytes))).to.equal(true);
      for (const v of m.variants) for (const s of v.segments) expect(await store.has(s.pieceCid)).to.equal(true);
      const high = m.playlists.high!;
      for (const s of variant(m, "high").segments) expect(high).to.include(`/piece/${s.pieceCid}`);
      expect(high).to.include("#EXT-X-ENDLIST").and.include("#EXT-X-TARGETDURATION:");
      expect(m.playlists.master).to.include("high.m3u8").and.include("standard.m3u8").and.include('CODECS="mp4a.40.2"');
      expect(m.playlists.master).to.not.include("preview");
      expect(store.pieces.size).to.equal(processed.pieces.length + 1);
    });

    it("publishing again is idempotent (same PieceCIDs, pieces already there)", async () => {
      const again = await publishDetailed(processed, store, { keyStore: keys });
      expect(again.manifestCid).to.equal(published.manifestCid);
      expect([...again.stored.values()].every((r) => r.existed)).to.equal(true);
    });
  });

  describe("premium FLAC with tags and cover, free MP3", () => {
    let premium: PublishResult;
    let premiumStore: MemoryStore;
    let processedPremium: ProcessedMedia;

    before(async () => {
      await sharp({ create: { width: 1000, height: 1000, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toFile(f("cover.png"));
      await makeAudio(f("song.flac"), 45, "noise", [
        "-i", f("cover.png"), "-map", "0:a", "-map", "1:v", "-c:v", "png", "-disposition:v", "attached_pic",
        "-metadata", "title=Pink", "-metadata", "artist=Noise Collective", "-metadata", "album=Spectra",
      ]);
      processedPremium = await processMedia(f("song.flac"), { contentId: "prem-1", tier: "premium", workDir: f("work-prem") });
      premiumStore = new MemoryStore();
      premium = await publishDetailed(processedPremium, premiumStore, { keyStore: keys });
    });

    it("premium: every full-length variant encrypted, only the 30 s preview clear; 2 copies; tags and thumbnails", async () => {
      const m = premium.manifest;
      expect(m.copies).to.equal(2);
      expect(m.variants.map((v) => [v.name, v.encrypted])).to.deep.equal([
        ["high", true],
        ["standard", true],
        ["preview", false],
      ]);
      // The stored bytes of the full variants are ciphertext: no piece of them decodes as audio.
      const cipher = f("prem-standard-stored.ts");
      await writeFile(cipher, Buffer.concat(await Promise.all(variant(m, "standard").segments.map((s) => premiumStore.get(s.pieceCid)))));
      expect(await decodedSeconds(cipher).catch(() => 0)).to.be.below(1);
      expect(m.tags).to.include({ title: "Pink", artist: "Noise Collective", album: "Spectra" });
      expect(m.source).to.include({ codec: "flac", lossless: true });
      expect(m.artwork.map((a) => [a.size, a.width, a.height])).to.deep.equal([
        [600, 600, 600],
        [200, 200, 200],
      ]);
      const thumb = await premiumStore.get(m.artwork[1]!.pieceCid);
      expect((await sharp(thumb).metadata()).format).to.equal("jpeg");
      const key = (await keys.getKey("prem-1"))!;
      for (const name of ["high", "standard"]) {
        const file = f(`prem-${name}.ts`);
        await writeFile(file, await variantBytes(premiumStore, m, variant(m, name), key));
        expect(await decodedSeconds(file)).to.be.closeTo(45, 0.5);
      }
      expect(variant(m, "preview").duration).to.be.closeTo(30, 0.2);
    });

    it("free: only standard + preview, all clear, no encryption block, no key", async () => {
      await makeAudio(f("free.mp3"), 25, "noise", ["-c:a", "libmp3lame", "-b:a", "256k"]);
      const processed = await processMedia(f("free.mp3"), { contentId: "free-1", tier: "free", workDir: f("work-free") });
      expect(processed.key).to.equal(undefined);
      const store = new MemoryStore();
      const { manifest } = await publishDetailed(processed, store, { keyStore: keys });
      expect(await keys.hasKey("free-1")).to.equal(false);
      expect(manifest.variants.map((v) => [v.name, v.encrypted])).to.deep.equal([
        ["standard", false],
        ["preview", false],
      ]);
      expect(manifest.encryption).to.equal(undefined);
      expect(manifest.copies).to.equal(2);
      // A source shorter than 30 s: the preview is the whole track.
      expect(variant(manifest, "preview").duration).to.be.closeTo(25, 0.3);
      const file = f("free-standard.ts");
      await writeFile(file, await variantBytes(store, manifest, variant(manifest, "standard")));
      expect(await decodedSeconds(file)).to.be.closeTo(25, 0.5);
    });

    it("tier policy table: premium and exclusive leave only the preview clear unless the creator gives standard away", () => {
      expect(tierPolicy("free", "high").store).to.equal(false);
      expect(tierPolicy("free", "standard")).to.deep.equal({ store: true, encrypt: false });
      expect(tierPolicy("premium", "original").store).to.equal(false);
      expect(tierPolicy("premium", "high")).to.deep.equal({ store: true, encrypt: true });
      expect(tierPolicy("premium", "standard")).to.deep.equal({ store: true, encrypt: true });
      expect(tierPolicy("premium", "preview")).to.deep.equal({ store: true, encrypt: false });
      expect(tierPolicy("exclusive", "preview")).to.deep.equal({ store: true, encrypt: false });
      expect(tierPolicy("exclusive", "standard")).to.deep.equal({ store: true, encrypt: true });
      // freeStandard: the creator's choice to give the 192k variant away
      expect(tierPolicy("premium", "standard", true)).to.deep.equal({ store: true, encrypt: false });
      expect(tierPolicy("premium", "high", true)).to.deep.equal({ store: true, encrypt: true });
      expect(tierPolicy("exclusive", "standard", true)).to.deep.equal({ store: true, encrypt: false });
    });

    it("premium with freeStandard: standard stored in the clear and decodes in full, high still encrypted", async () => {
      const processed = await processMedia(f("song.flac"), { contentId: "prem-free-std", tier: "premium", workDir: f("work-prem-free"), freeStandard: true });
      const store = new MemoryStore();
      const { manifest } = await publishDetailed(processed, store, { keyStore: keys });
      expect(manifest.variants.map((v) => [v.name, v.encrypted])).to.deep.equal([
        ["high", true],
        ["standard", false],
        ["preview", false],
      ]);
      const file = f("prem-free-standard.ts");
      await writeFile(file, await variantBytes(store, manifest, variant(manifest, "standard")));
      expect(await decodedSeconds(file)).to.be.closeTo(45, 0.5);
    });
  });

  describe("video", () => {
    it("premium 640x480 video: 480p+360p HLS renditions (none taller than the source), preview, thumbnails", async () => {
      await makeVideo(f("clip.mp4"), 12, 640, 480);
      const processed = await processMedia(f("clip.mp4"), { contentId: "vid-1", tier: "premium", workDir: f("work-vid"), x264Preset: "ultrafast" });
      const store = new MemoryStore();
      const { manifest } = await publishDetailed(processed, store, { keyStore: keys });
      expect(manifest.kind).to.equal("video");
      expect(manifest.variants.map((v) => [v.name, v.height, v.encrypted])).to.deep.equal([
        ["480p", 480, true],
        ["360p", 360, true],
        ["preview", 360, false],
      ]);
      expect(manifest.playlists.master).to.include("RESOLUTION=640x480").and.include("RESOLUTION=480x360");
      // ultrafast makes x264 write Constrained Baseline; the CODECS string must say so.
      for (const v of manifest.variants) expect(v.codecs).to.equal("avc1.42e01e,mp4a.40.2");
      const file = f("vid-360.ts");
      await writeFile(file, await variantBytes(store, manifest, variant(manifest, "360p"), (await keys.getKey("vid-1"))!));
      const info = await probe(file);
      expect(info.streams.find((s) => s.codec_type === "video")).to.include({ codec_name: "h264", height: 360 });
      expect(info.streams.find((s) => s.codec_type === "audio")).to.include({ codec_name: "aac" });
      expect(await decodedSeconds(file)).to.be.closeTo(12, 0.6);
      expect(variant(manifest, "480p").segments.map((s) => Math.round(s.duration!))).to.deep.equal([10, 2]);
      expect(manifest.artwork.map((a) => a.width)).to.deep.equal([600, 200]);
    });
  });

  it("video ladder never exceeds the source height", () => {
    const video = (height: number): MediaInfo => ({
      file: "x.mp4", size: 1, kind: "video", container: "mov", duration: 60, tags: {}, warnings: [],
      video: { codec: "h264", width: Math.round((height * 16) / 9), height },
    });
    expect(planVariants(video(1080)).map((v) => v.name)).to.deep.equal(["1080p", "720p", "480p", "360p", "preview"]);
    expect(planVariants(video(800)).map((v) => v.name)).to.deep.equal(["720p", "480p", "360p", "preview"]);
    expect(planVariants(video(240)).map((v) => [v.name, v.height])).to.deep.equal([["240p", 240], ["preview", 240]]);
  });

  describe("batch", () => {
    it("processes good files and reports bad ones without stopping", async () => {
      await makeAudio(f("b1.wav"), 6, "sine");
      await writeFile(f("b2.mp3"), new Uint8Array(0));
      await writeFile(f("b3.mp3"), Buffer.from("ID3 but not really an mp3 file at all".repeat(100)));
      await makeAudio(f("b4.flac"), 6, "sine");
      const results = await processBatch([f("b1.wav"), f("b2.mp3"), f("b3.mp3"), f("b4.flac")], (file, i) => ({
        contentId: `batch-${i}`,
        tier: "free",
        workDir: f(`work-batch-${i}`),
      }));
      expect(results.map((r) => r.ok)).to.deep.equal([true, false, false, true]);
      // A failure mid-pipeline (unreadable chosen cover) rejects cleanly.
      const bad = await processMedia(f("b1.wav"), { contentId: "bad-art", tier: "premium", workDir: f("work-bad"), artwork: f("b3.mp3") }).catch((e: unknown) => e);
      expect((bad as Error).message).to.match(/not a readable image/);
      const failed = results.filter((r) => !r.ok);
      for (const r of failed) {
        if (r.ok) continue;
        expect(r.error).to.be.instanceOf(MediaIngestError);
        expect(r.error.message).to.include(path.basename(r.file));
      }
    });
  });

  describe("publish with a webtorrent backend", () => {
    it("seeds the item as one torrent of every piece, manifest included, recorded in the backend; without webtorrent nothing is seeded", async () => {
      await makeAudio(f("seed.wav"), 20, "noise");
      const processed = await processMedia(f("seed.wav"), { contentId: "seed-1", tier: "free", workDir: f("work-seed") });
      const webSeed = "http://127.0.0.1:9/api";
      const store = createStore({ dataDir: f("seed-local"), env: { STORAGE_BACKEND: "webtorrent+local", STORAGE_STATS: "off", WEBTORRENT_DIR: f("seed-wt"), WEBTORRENT_WEB_SEED_URL: webSeed } });
      try {
        const published = await publishDetailed(processed, store);
        const torrent = published.torrent!;
        expect(torrent, "publish seeds when the store has webtorrent").to.not.equal(undefined);
        const every = [...new Set([...published.stored.values()].map((r) => r.pieceCid))].sort();
        expect([...torrent.pieceCids].sort()).to.deep.equal(every);
        expect(torrent.pieceCids).to.include(published.manifestCid);
        expect(torrent.magnet).to.match(/^magnet:\?xt=urn:btih:[0-9a-f]{40}/).and.to.contain(`ws=${encodeURIComponent(webSeed)}`);
        const seeded = await (backendNamed(store, "webtorrent") as WebTorrentStore).seededItems();
        expect(seeded.map((i) => [i.itemId, i.magnet])).to.deep.equal([["seed-1", torrent.magnet]]);
        expect((await publishDetailed(processed, new MemoryStore())).torrent).to.equal(undefined);
      } finally {
        await store.close?.();
      }
    });
  });
});
