/**
 * lib/crypto/segment-aad.ts is the one AAD encoding: the Node encryptor seals with it and the
 * browser's WebCrypto decryption (what the web player runs) opens the result, and refuses a
 * segment presented at another position.
 */
import { expect } from "chai";
import { webcrypto } from "node:crypto";
import { decryptSegmentWeb, hexToBytes, segmentAad } from "@streamvault/lib/crypto/segment-aad.ts";
import { encryptSegment, generateContentKey, generateNonce, hex, segmentAad as nodeSegmentAad } from "@streamvault/lib/crypto/segment.ts";

describe("crypto: segment AAD shared by Node and the browser", () => {
  it("segment.ts re-exports the same function (one implementation)", () => {
    expect(nodeSegmentAad).to.equal(segmentAad);
    expect(hex(segmentAad({ contentId: "ab", variant: "x", index: 0x01020304 }))).to.equal("53565345470001000002616200017801020304");
  });

  it("decryptSegmentWeb opens a Node-sealed segment and rejects it at another index or variant", async () => {
    const key = generateContentKey();
    const nonce = generateNonce();
    const plain = new TextEncoder().encode("an MPEG-TS segment, more or less");
    const position = { contentId: "0xabc", variant: "high", index: 3 };
    const sealed = encryptSegment(key, nonce, position, plain);
    const webKey = await webcrypto.subtle.importKey("raw", key, "AES-GCM", false, ["decrypt"]);
    const opened = await decryptSegmentWeb(webKey as CryptoKey, sealed, { ...position, nonce: hex(nonce) });
    expect(Buffer.from(opened).toString()).to.equal("an MPEG-TS segment, more or less");
    for (const moved of [{ ...position, index: 4 }, { ...position, variant: "low" }, { ...position, contentId: "0xabd" }]) {
      let failed = false;
      await decryptSegmentWeb(webKey as CryptoKey, sealed, { ...moved, nonce: hex(nonce) }).catch(() => (failed = true));
      expect(failed, JSON.stringify(moved)).to.equal(true);
    }
  });

  it("hexToBytes rejects non-hex nonces instead of decoding them to zeros", () => {
    expect([...hexToBytes("00ff10")]).to.deep.equal([0, 255, 16]);
    expect(() => hexToBytes("zz")).to.throw(/not a hex string/);
    expect(() => hexToBytes("abc")).to.throw(/not a hex string/);
  });
});
