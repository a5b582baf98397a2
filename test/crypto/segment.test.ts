import { expect } from "chai";
import { createHmac } from "node:crypto";
import {
  ContentEncryptor,
  decryptManifestSegment,
  decryptSegment,
  deriveMinuteCryptoKey,
  deriveMinuteKey,
  deriveMinuteKeyBytesWebCrypto,
  hex,
  importMinuteKeyBase,
  minuteKeyInfo,
  segmentKey,
  encryptSegment,
  fromHex,
  generateContentKey,
  generateNonce,
  keyIdOf,
  SegmentDecryptError,
  segmentAad,
} from "@streamvault/lib/crypto";
import { segmentMinutes } from "@streamvault/lib/manifest";

describe("crypto: AES-256-GCM segment format", () => {
  const key = generateContentKey();
  const pos = { contentId: "song-1", variant: "high", index: 3 };
  const plain = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);

  it("round-trips and appends a 16-byte tag", () => {
    const nonce = generateNonce();
    const sealed = encryptSegment(key, nonce, pos, plain);
    expect(sealed.length).to.equal(plain.length + 16);
    expect(Buffer.from(decryptSegment(key, nonce, pos, sealed)).equals(Buffer.from(plain))).to.equal(true);
  });

  it("rejects a segment moved to another index, variant or content item", () => {
    const nonce = generateNonce();
    const sealed = encryptSegment(key, nonce, pos, plain);
    for (const wrong of [
      { ...pos, index: 4 },
      { ...pos, variant: "standard" },
      { ...pos, contentId: "song-2" },
    ]) {
      expect(() => decryptSegment(key, nonce, wrong, sealed)).to.throw(SegmentDecryptError);
    }
  });

  it("rejects tampered bytes, a wrong nonce and a wrong key", () => {
    const nonce = generateNonce();
    const sealed = encryptSegment(key, nonce, pos, plain);
    const flipped = sealed.slice();
    flipped[10]! ^= 1;
    expect(() => decryptSegment(key, nonce, pos, flipped)).to.throw(SegmentDecryptError);
    const tagFlipped = sealed.slice();
    tagFlipped[tagFlipped.length - 1]! ^= 1;
    expect(() => decryptSegment(key, nonce, pos, tagFlipped)).to.throw(SegmentDecryptError);
    expect(() => decryptSegment(key, generateNonce(), pos, sealed)).to.throw(SegmentDecryptError);
    expect(() => decryptSegment(generateContentKey(), nonce, pos, sealed)).to.throw(SegmentDecryptError);
    expect(() => decryptSegment(key, nonce, pos, sealed.subarray(0, 8))).to.throw(SegmentDecryptError);
  });

  it("encodes the AAD exactly as documented (magic, u16 lengths, u32 index, big-endian)", () => {
    const aad = segmentAad({ contentId: "ab", variant: "x", index: 0x01020304 });
    expect(Buffer.from(aad).toString("hex")).to.equal("5356534547000100" + "0002" + "6162" + "0001" + "78" + "01020304");
    // Length prefixes keep ("ab","c") and ("a","bc") apart.
    const a = segmentAad({ contentId: "ab", variant: "c", index: 0 });
    const b = segmentAad({ contentId: "a", variant: "bc", index: 0 });
    expect(Buffer.from(a).equals(Buffer.from(b))).to.equal(false);
  });

  it("is decryptable by WebCrypto (what a browser runs) with the documented AAD", async () => {
    const nonce = generateNonce();
    const sealed = encryptSegment(key, nonce, pos, plain);
    const subtle = globalThis.crypto.subtle;
    // WebCrypto's types want ArrayBuffer-backed views.
    const ab = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>;
    const webKey = await subtle.importKey("raw", ab(key), "AES-GCM", false, ["decrypt", "encrypt"]);
    const out = await subtle.decrypt({ name: "AES-GCM", iv: ab(nonce), additionalData: ab(segmentAad(pos)), tagLength: 128 }, webKey, ab(sealed));
    expect(Buffer.from(out).equals(Buffer.from(plain))).to.equal(true);
    // And the other way: WebCrypto output decrypts here.
    const fromBrowser = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: ab(nonce), additionalData: ab(segmentAad(pos)) }, webKey, ab(plain)));
    expect(Buffer.from(fromBrowser).equals(Buffer.from(sealed))).to.equal(true);
  });

  it("ContentEncryptor gives every segment a distinct nonce and a stable key id", () => {
    const enc = new ContentEncryptor("song-1", key);
    const nonces = new Set<string>();
    for (let i = 0; i < 200; i++) nonces.add(Buffer.from(enc.encrypt("high", i, plain.subarray(0, 100)).nonce).toString("hex"));
    expect(nonces.size).to.equal(200);
    expect(enc.keyId).to.equal(keyIdOf(key)).and.to.match(/^[0-9a-f]{32}$/);
    expect(enc.keyId).to.not.equal(Buffer.from(key).toString("hex").slice(0, 32));
  });

  it("hex helpers reject junk", () => {
    expect(() => fromHex("abc")).to.throw();
    expect(() => fromHex("zz")).to.throw();
    expect(Array.from(fromHex("0aff"))).to.deep.equal([10, 255]);
  });
});

describe("crypto: per-minute keys (scheme minute-hkdf)", () => {
  const key = generateContentKey();
  const plain = new Uint8Array(5000).map((_, i) => (i * 11) & 0xff);
  const ab = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>;

  /** RFC 5869 HKDF-SHA-256 written out with HMAC, independent of node's hkdf and WebCrypto. */
  function referenceHkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Buffer {
    const prk = createHmac("sha256", salt).update(ikm).digest();
    return createHmac("sha256", prk).update(info).update(Buffer.from([1])).digest();
  }

  it("is HKDF-SHA-256(content key, salt = lower-case content id, info = streamvault/minute/<variant>/<m>)", async () => {
    const id = "0xABCdef";
    const expected = referenceHkdf(key, Buffer.from("0xabcdef"), Buffer.from("streamvault/minute/high/7"));
    expect(Buffer.from(deriveMinuteKey(key, id, "high", 7)).equals(expected)).to.equal(true);
    expect(Buffer.from(minuteKeyInfo("high", 7)).toString()).to.equal("streamvault/minute/high/7");
    // the browser's WebCrypto derivation gives the same bytes
    expect(Buffer.from(await deriveMinuteKeyBytesWebCrypto(key, id, "high", 7)).equals(expected)).to.equal(true);
  });

  it("gives a different key per minute, variant and content item, never the content key", () => {
    const keys = [
      deriveMinuteKey(key, "song-1", "high", 0),
      deriveMinuteKey(key, "song-1", "high", 1),
      deriveMinuteKey(key, "song-1", "standard", 0),
      deriveMinuteKey(key, "song-2", "high", 0),
      deriveMinuteKey(generateContentKey(), "song-1", "high", 0),
      key,
    ].map((k) => hex(k));
    expect(new Set(keys).size).to.equal(keys.length);
    expect(() => deriveMinuteKey(key, "song-1", "high", -1)).to.throw(RangeError);
    expect(() => deriveMinuteKey(key, "song-1", "high", 1.5)).to.throw(RangeError);
    expect(() => deriveMinuteKey(key, "song-1", "a/b", 0)).to.throw(RangeError);
  });

  it("ContentEncryptor seals a segment under its minute's key: that minute key opens it, the next minute's and the content key do not", () => {
    const enc = new ContentEncryptor("song-1", key);
    const { sealed, nonce } = enc.encrypt("high", 6, plain, 1);
    const pos = { contentId: "song-1", variant: "high", index: 6 };
    expect(Buffer.from(decryptSegment(deriveMinuteKey(key, "song-1", "high", 1), nonce, pos, sealed)).equals(Buffer.from(plain))).to.equal(true);
    expect(() => decryptSegment(deriveMinuteKey(key, "song-1", "high", 2), nonce, pos, sealed)).to.throw(SegmentDecryptError);
    expect(() => decryptSegment(deriveMinuteKey(key, "song-1", "high", 0), nonce, pos, sealed)).to.throw(SegmentDecryptError);
    expect(() => decryptSegment(key, nonce, pos, sealed)).to.throw(SegmentDecryptError);
    // the AAD still binds the position under a minute key
    expect(() => decryptSegment(deriveMinuteKey(key, "song-1", "high", 1), nonce, { ...pos, index: 7 }, sealed)).to.throw(SegmentDecryptError);
  });

  it("a browser decrypts a minute-keyed segment with a key derived on WebCrypto from the content key", async () => {
    const enc = new ContentEncryptor("song-1", key);
    const { sealed, nonce } = enc.encrypt("high", 9, plain, 1);
    const base = await importMinuteKeyBase(key);
    const subtle = globalThis.crypto.subtle;
    const decryptWith = (k: CryptoKey) =>
      subtle.decrypt({ name: "AES-GCM", iv: ab(nonce), additionalData: ab(segmentAad({ contentId: "song-1", variant: "high", index: 9 })), tagLength: 128 }, k, ab(sealed));
    const out = await decryptWith(await deriveMinuteCryptoKey(base, "song-1", "high", 1));
    expect(Buffer.from(out).equals(Buffer.from(plain))).to.equal(true);
    let failed = false;
    await decryptWith(await deriveMinuteCryptoKey(base, "song-1", "high", 2)).catch(() => (failed = true));
    expect(failed).to.equal(true);
  });

  it("decryptManifestSegment: version-1 variants (no keyScheme) use the content key, minute-hkdf variants their minute's key", () => {
    const enc = new ContentEncryptor("song-1", key);
    const old = enc.encrypt("high", 0, plain);
    const v1 = { name: "high" };
    expect(segmentKey(key, { contentId: "song-1", variant: v1, segment: {} })).to.equal(key);
    expect(Buffer.from(decryptManifestSegment(key, "song-1", v1, { index: 0, nonce: hex(old.nonce) }, old.sealed)).equals(Buffer.from(plain))).to.equal(true);
    const v2 = { name: "high", keyScheme: "minute-hkdf" as const };
    const fresh = enc.encrypt("high", 7, plain, 1);
    expect(Buffer.from(decryptManifestSegment(key, "song-1", v2, { index: 7, nonce: hex(fresh.nonce), minute: 1 }, fresh.sealed)).equals(Buffer.from(plain))).to.equal(true);
    expect(() => decryptManifestSegment(key, "song-1", v2, { index: 7, nonce: hex(fresh.nonce), minute: 0 }, fresh.sealed)).to.throw(SegmentDecryptError);
    expect(() => decryptManifestSegment(key, "song-1", v2, { index: 7, nonce: hex(fresh.nonce) }, fresh.sealed)).to.throw(/has no minute/);
  });

  it("maps segments to minute windows by start time [60m, 60m+60), rounding starts to the microsecond", () => {
    expect(segmentMinutes([10, 10, 10, 10, 10, 10, 10, 10])).to.deep.equal([0, 0, 0, 0, 0, 0, 1, 1]);
    // a segment starting at 55 s and ending at 65 s belongs to minute 0
    expect(segmentMinutes([11, 11, 11, 11, 11, 10, 10])).to.deep.equal([0, 0, 0, 0, 0, 0, 1]);
    // float sums just under 60 s count as 60 s
    expect(segmentMinutes(Array(7).fill(9.99999999))).to.deep.equal([0, 0, 0, 0, 0, 0, 1]);
    expect(segmentMinutes([59.9999, 0.0001, 60, 1])).to.deep.equal([0, 0, 1, 2]);
    expect(segmentMinutes([])).to.deep.equal([]);
  });
});
