import { expect } from "chai";
import {
  ContentEncryptor,
  decryptSegment,
  encryptSegment,
  fromHex,
  generateContentKey,
  generateNonce,
  keyIdOf,
  SegmentDecryptError,
  segmentAad,
} from "../../lib/crypto/index.ts";

describe("media/crypto: AES-256-GCM segment format", () => {
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
