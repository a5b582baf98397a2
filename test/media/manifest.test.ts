import { expect } from "chai";
import { canonicalJson, ManifestValidationError, parseManifest, serializeManifest, validateManifest, mediaPlaylist } from "../../lib/manifest/index.ts";
import type { Manifest } from "../../lib/manifest/index.ts";
import { pieceCidSync as pieceCidOf } from "../../lib/piece/index.ts";

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

describe("media/manifest: schema and canonical serialisation", () => {
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
    ["version 2", (m) => ({ ...m, version: 2 })],
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

  it("rejects non-JSON bytes", () => {
    expect(() => parseManifest(new TextEncoder().encode("{nope"))).to.throw(ManifestValidationError);
  });
});
