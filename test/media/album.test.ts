import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { decryptManifestSegment, SegmentDecryptError } from "@streamvault/lib/crypto";
import { openKeyStore } from "@streamvault/lib/keys";
import type { KeyStore } from "@streamvault/lib/keys";
import { ManifestValidationError, parseManifest, serializeManifest, trackVariants, validateManifest } from "@streamvault/lib/manifest";
import type { Manifest, ManifestVariant } from "@streamvault/lib/manifest";
import { processAlbum, publishDetailed } from "@streamvault/lib/media";
import type { PublishResult } from "@streamvault/lib/media";
import { decodedSeconds, makeAudio, MemoryStore } from "./helpers.ts";

/** Every segment of `variant` decrypted with the album's key (as `asVariant` when given: another track's keys). */
async function decryptVariant(store: MemoryStore, m: Manifest, variant: ManifestVariant, key: Uint8Array, asVariant = variant.name): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (const s of variant.segments) parts.push(decryptManifestSegment(key, m.contentId, { ...variant, name: asVariant }, s, await store.get(s.pieceCid)));
  return Buffer.concat(parts);
}

describe("media/album: one release of several tracks", function () {
  this.timeout(180_000);
  let dir: string;
  let keys: KeyStore;
  let store: MemoryStore;
  let published: PublishResult;
  let key: Uint8Array;
  const f = (name: string) => path.join(dir, name);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sv-album-"));
    keys = await openKeyStore({ inMemory: true, masterKey: new Uint8Array(32).fill(9), env: {} });
    // Track 1 runs past the first minute, so track 2 starts in the album's minute 1.
    await makeAudio(f("one.wav"), 65, "sine");
    await makeAudio(f("two.wav"), 8, "sine", ["-metadata", "title=Second Light"]);
    const processed = await processAlbum([f("one.wav"), f("two.wav")], {
      contentId: "album-1", tier: "premium", workDir: f("work"), album: "Night Drive", trackTitles: ["Opening", undefined], metadata: { artist: "Ada", description: "Two tracks" },
    });
    store = new MemoryStore();
    published = await publishDetailed(processed, store, { keyStore: keys });
    key = (await keys.getKey("album-1"))!;
  });
  after(async () => {
    await keys?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("one manifest: album tags, the tracks in order with their titles, durations, timeline starts and own variants", () => {
    const m = published.manifest;
    expect(m.tags).to.include({ title: "Night Drive", album: "Night Drive", artist: "Ada", description: "Two tracks", trackTotal: 2 });
    expect(m.tracks!.map((t) => [t.number, t.title, t.playlist])).to.deep.equal([[1, "Opening", "t1-master"], [2, "Second Light", "t2-master"]]);
    const [one, two] = m.tracks!;
    expect(one!.start).to.equal(0);
    expect(one!.duration).to.be.closeTo(65, 0.2);
    expect(two!.start).to.equal(one!.duration);
    expect(m.duration).to.be.closeTo(73, 0.3);
    expect(one!.variants).to.deep.equal(["t1-high", "t1-standard", "t1-preview"]);
    expect(two!.variants).to.deep.equal(["t2-high", "t2-standard", "t2-preview"]);
    expect(m.playlists.master).to.equal(undefined);
    expect(m.playlists["t2-master"]).to.include("t2-high.m3u8").and.not.include("t1-");
    expect(trackVariants(m, 2).map((v) => v.name)).to.deep.equal(two!.variants);
    expect(() => trackVariants(m, 3)).to.throw(/tracks 1-2, not 3/);
  });

  it("round-trips: canonical bytes parse back to the same manifest", () => {
    const parsed = parseManifest(published.manifestBytes);
    expect(parsed).to.deep.equal(published.manifest);
    expect(Buffer.from(serializeManifest(parsed)).equals(Buffer.from(published.manifestBytes))).to.equal(true);
  });

  it("minute windows count on the album's timeline: track 2 starts in minute 1", () => {
    const m = published.manifest;
    const high1 = m.variants.find((v) => v.name === "t1-high")!;
    const high2 = m.variants.find((v) => v.name === "t2-high")!;
    expect(new Set(high1.segments.map((s) => s.minute))).to.deep.equal(new Set([0, 1]));
    expect(high2.segments.every((s) => s.minute === 1)).to.equal(true);
    // the schema checks it: track 2's segments claiming minute 0 are refused
    const wrong = structuredClone(m);
    wrong.variants.find((v) => v.name === "t2-high")!.segments[0]!.minute = 0;
    expect(() => validateManifest(wrong)).to.throw(ManifestValidationError, /starts in minute 1/);
  });

  it("each track's variants decrypt with their own keys, in full, and not with another track's", async () => {
    const m = published.manifest;
    for (const t of m.tracks!) {
      for (const v of trackVariants(m, t.number).filter((x) => x.role !== "preview")) {
        expect(v.encrypted, v.name).to.equal(true);
        const file = f(`${v.name}.ts`);
        await writeFile(file, await decryptVariant(store, m, v, key));
        expect(await decodedSeconds(file), v.name).to.be.closeTo(t.duration, 0.3);
      }
    }
    const high2 = m.variants.find((v) => v.name === "t2-high")!;
    // track 1's minute-1 key (same minute, other track) does not open track 2's minute-1 segments
    let refused: unknown;
    try {
      await decryptVariant(store, m, high2, key, "t1-high");
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(SegmentDecryptError);
    // previews stay in the clear, one per track
    expect(trackVariants(m, 2).find((v) => v.role === "preview")!.encrypted).to.equal(false);
  });

  it("refuses albums the schema cannot describe: a variant no track lists, a track naming a missing variant, numbers out of order", () => {
    const m = published.manifest;
    const orphan = structuredClone(m);
    orphan.tracks![1]!.variants = ["t2-high", "t2-standard"];
    expect(() => validateManifest(orphan)).to.throw(ManifestValidationError, /must belong to one of its tracks/);
    const missing = structuredClone(m);
    missing.tracks![0]!.variants.push("t9-high");
    expect(() => validateManifest(missing)).to.throw(ManifestValidationError, /no variant named t9-high/);
    const order = structuredClone(m);
    order.tracks![1]!.number = 5;
    expect(() => validateManifest(order)).to.throw(ManifestValidationError, /1\.\.n in order/);
  });

  it("an album of one track is refused with what to do", async () => {
    let error: unknown;
    try {
      await processAlbum([f("two.wav")], { contentId: "album-2", tier: "premium", workDir: f("work-2"), album: "Solo" });
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/at least 2 tracks.*without --album/);
  });
});
