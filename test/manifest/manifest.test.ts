import { expect } from "chai";
import { canonicalJson, eventPlaylist, ManifestValidationError, parseManifest, segmentMinutes, serializeManifest, validateManifest, variantKeyScheme, mediaPlaylist } from "@streamvault/lib/manifest";
import type { Manifest } from "@streamvault/lib/manifest";
import { pieceCidSync as pieceCidOf } from "@streamvault/lib/piece";

const cid = (n: number) => pieceCidOf(new Uint8Array(200).fill(n));

/** Same value with every object's keys in reverse insertion order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}

function sample(): Manifest {
  return {
    version: 1,
    contentId: "song-1",
    kind: "audio",
    tier: "premium",
    copies: 2,
    duration: 20.5,
    tags: { title: "Ünïcode title", artist: "A" },
    source: { container: "wav", codec: "pcm_s16le", size: 1000, lossless: true },
    encryption: { alg: "AES-256-GCM", keyId: "0123456789abcdef0123456789abcdef", aad: "SVSEG/1", nonceBytes: 12, tagBytes: 16 },
    variants: [
      {
        name: "high", role: "high", kind: "hls", codecs: "mp4a.40.2", container: "mpegts", bitrate: 320000,
        averageBandwidth: 300000, peakBandwidth: 310000, encrypted: true, duration: 20.5, playlist: "high",
        segments: [
          { index: 0, pieceCid: cid(1), size: 400000, duration: 10, nonce: "000102030405060708090a0b" },
          { index: 1, pieceCid: cid(2), size: 400000, duration: 10.5, nonce: "0c0d0e0f1011121314151617" },
        ],
      },
    ],
    playlists: { high: mediaPlaylist([{ pieceCid: cid(1), duration: 10 }, { pieceCid: cid(2), duration: 10.5 }], "/piece/") },
    pieceUrlPrefix: "/piece/",
    artwork: [],
  };
}

/** Version 2: the encrypted HLS variant keyed per minute (7 x 10 s: segment 6 starts at 60 s, minute 1). */
function sampleV2(): Manifest {
  const durations = [10, 10, 10, 10, 10, 10, 5];
  const segments = durations.map((duration, index) => ({ index, pieceCid: cid(index + 1), size: 1000, duration, nonce: `${index}`.padStart(24, "0"), minute: index < 6 ? 0 : 1 }));
  return {
    ...sample(),
    version: 2,
    duration: 65,
    variants: [
      {
        name: "high", role: "high", kind: "hls", codecs: "mp4a.40.2", container: "mpegts", bitrate: 320000,
        averageBandwidth: 300000, peakBandwidth: 310000, encrypted: true, keyScheme: "minute-hkdf", duration: 65, playlist: "high", segments,
      },
      {
        name: "original", role: "original", kind: "file", codecs: "pcm_s16le", container: "wav", bitrate: 1411200,
        averageBandwidth: 1411200, peakBandwidth: 1411200, encrypted: true, keyScheme: "content", duration: 65,
        segments: [{ index: 0, pieceCid: cid(50), size: 9000, nonce: "ffffffffffffffffffffffff" }],
      },
    ],
    playlists: { high: mediaPlaylist(segments, "/piece/") },
  };
}

describe("manifest: schema and canonical serialisation", () => {
  it("canonical JSON sorts keys at every depth and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: null }], c: "s" } })).to.equal('{"a":{"c":"s","d":[3,{"x":null,"z":1}]},"b":1}');
    expect(() => canonicalJson({ n: Number.NaN })).to.throw();
  });

  it("same manifest, any key order -> identical bytes", () => {
    const a = sample();
    const b = reverseKeys(a) as Manifest;
    expect(JSON.stringify(b)).to.not.equal(JSON.stringify(a));
    expect(Buffer.from(serializeManifest(a)).equals(Buffer.from(serializeManifest(b)))).to.equal(true);
    const bytes = serializeManifest(a);
    expect(parseManifest(bytes)).to.deep.equal(a);
    expect(pieceCidOf(bytes)).to.equal(pieceCidOf(serializeManifest(parseManifest(bytes))));
  });

  it("playlists reference segments by /piece/<PieceCID>", () => {
    const text = sample().playlists.high!;
    expect(text.split("\n").filter((l) => l.startsWith("/piece/"))).to.deep.equal([`/piece/${cid(1)}`, `/piece/${cid(2)}`]);
    expect(text).to.include("#EXT-X-TARGETDURATION:11");
  });

  const invalid: [string, (m: Record<string, unknown> & Manifest) => unknown][] = [
    ["a key field anywhere", (m) => ({ ...m, key: "00".repeat(32) })],
    ["a key inside encryption", (m) => ({ ...m, encryption: { ...m.encryption, key: "00".repeat(32) } })],
    ["version 3", (m) => ({ ...m, version: 3 })],
    ["a keyScheme in a version-1 manifest", (m) => ({ ...m, variants: [{ ...m.variants[0]!, keyScheme: "content" }] })],
    ["segment minutes in a version-1 manifest", (m) => ({ ...m, variants: [{ ...m.variants[0]!, segments: m.variants[0]!.segments.map((x) => ({ ...x, minute: 0 })) }] })],
    ["a bad PieceCID", (m) => ({ ...m, variants: [{ ...m.variants[0]!, segments: [{ ...m.variants[0]!.segments[0]!, pieceCid: "bafy-not-a-piece" }, m.variants[0]!.segments[1]] }] })],
    ["an encrypted segment without nonce", (m) => ({ ...m, variants: [{ ...m.variants[0]!, segments: [{ ...m.variants[0]!.segments[0]!, nonce: undefined }, m.variants[0]!.segments[1]] }] })],
    ["encrypted variants without an encryption block", (m) => ({ ...m, encryption: undefined })],
    ["segments out of order", (m) => ({ ...m, variants: [{ ...m.variants[0]!, segments: [...m.variants[0]!.segments].reverse() }] })],
    ["a missing playlist", (m) => ({ ...m, playlists: {} })],
    ["an unknown tier", (m) => ({ ...m, tier: "platinum" })],
  ];
  for (const [what, mutate] of invalid) {
    it(`rejects ${what}`, () => {
      expect(() => validateManifest(mutate(sample() as Record<string, unknown> & Manifest))).to.throw(ManifestValidationError);
    });
  }

  it("version 1 (every segment under the content key) still parses: old manifests keep decrypting", () => {
    const v1 = sample();
    expect(validateManifest(v1)).to.deep.equal(v1);
    expect(v1.variants[0]!.keyScheme).to.equal(undefined);
    expect(variantKeyScheme(v1.variants[0]!)).to.equal("content");
  });

  it("version 2 records each encrypted variant's key scheme and each minute-keyed segment's minute", () => {
    const v2 = sampleV2();
    const parsed = parseManifest(serializeManifest(v2));
    expect(parsed).to.deep.equal(v2);
    expect(parsed.variants.map((v) => variantKeyScheme(v))).to.deep.equal(["minute-hkdf", "content"]);
    expect(parsed.variants[0]!.segments.map((x) => x.minute)).to.deep.equal(segmentMinutes([10, 10, 10, 10, 10, 10, 5]));
  });

  const invalidV2: [string, (m: Manifest) => unknown][] = [
    ["an encrypted variant without keyScheme", (m) => ({ ...m, variants: [{ ...m.variants[0]!, keyScheme: undefined }, m.variants[1]] })],
    ["a keyScheme on a clear variant", (m) => ({ ...m, variants: [m.variants[0], { ...m.variants[1]!, encrypted: false, keyScheme: "content", segments: [{ ...m.variants[1]!.segments[0]!, nonce: undefined }] }] })],
    ["a segment in the wrong minute", (m) => ({ ...m, variants: [{ ...m.variants[0]!, segments: m.variants[0]!.segments.map((x) => ({ ...x, minute: 0 })) }, m.variants[1]] })],
    ["a minute-keyed segment without minute", (m) => ({ ...m, variants: [{ ...m.variants[0]!, segments: m.variants[0]!.segments.map((x) => ({ ...x, minute: undefined })) }, m.variants[1]] })],
    ["a minute on a content-keyed segment", (m) => ({ ...m, variants: [m.variants[0], { ...m.variants[1]!, segments: [{ ...m.variants[1]!.segments[0]!, minute: 0 }] }] })],
    ["minute keys on a file variant", (m) => ({ ...m, variants: [m.variants[0], { ...m.variants[1]!, keyScheme: "minute-hkdf" }] })],
    ["an unknown key scheme", (m) => ({ ...m, variants: [{ ...m.variants[0]!, keyScheme: "per-segment" }, m.variants[1]] })],
  ];
  for (const [what, mutate] of invalidV2) {
    it(`version 2 rejects ${what}`, () => {
      expect(() => validateManifest(sampleV2())).to.not.throw();
      expect(() => validateManifest(mutate(sampleV2()))).to.throw(ManifestValidationError);
    });
  }

  it("rejects non-JSON bytes", () => {
    expect(() => parseManifest(new TextEncoder().encode("{nope"))).to.throw(ManifestValidationError);
  });

  it("a live stream's manifest (live.status \"live\") may have no segments yet; an ended or ordinary one may not", () => {
    const live: Manifest = { ...sample(), live: { id: "gig", status: "live" }, duration: 0, variants: [{ ...sample().variants[0]!, duration: 0, segments: [] }] };
    expect(validateManifest(live).live).to.deep.equal({ id: "gig", status: "live" });
    expect(() => validateManifest({ ...live, live: { id: "gig", status: "ended" } })).to.throw(ManifestValidationError, /at least one segment/);
    expect(() => validateManifest({ ...live, live: undefined })).to.throw(ManifestValidationError, /at least one segment/);
    expect(() => validateManifest({ ...live, live: { id: "../etc", status: "live" } })).to.throw(ManifestValidationError);
  });

  it("eventPlaylist: EVENT type, a fixed target duration, discontinuities, ENDLIST only once ended", () => {
    const segs = [{ pieceCid: cid(1), duration: 2 }, { pieceCid: cid(2), duration: 2.04, discontinuity: true }];
    const growing = eventPlaylist(segs, "/piece/", { targetDuration: 3, ended: false });
    expect(growing).to.contain("#EXT-X-PLAYLIST-TYPE:EVENT").and.contain("#EXT-X-TARGETDURATION:3").and.not.contain("#EXT-X-ENDLIST");
    expect(growing.split("\n").filter((l) => l.startsWith("/piece/"))).to.deep.equal([`/piece/${cid(1)}`, `/piece/${cid(2)}`]);
    expect(growing.indexOf("#EXT-X-DISCONTINUITY")).to.be.greaterThan(growing.indexOf(`/piece/${cid(1)}`)).and.lessThan(growing.indexOf(`/piece/${cid(2)}`));
    expect(eventPlaylist(segs, "/piece/", { targetDuration: 3, ended: true }).trimEnd().endsWith("#EXT-X-ENDLIST")).to.equal(true);
  });
});
