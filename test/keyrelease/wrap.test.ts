import { expect } from "chai";
import { generateContentKey } from "@streamvault/lib/crypto/segment.ts";
import {
  fromBase64Url,
  generateEphemeralKeyPair,
  importEphemeralPublicKey,
  InvalidPublicKeyError,
  toBase64Url,
  unwrapContentCryptoKey,
  unwrapContentKey,
  UnwrapError,
  wrapContentKey,
  wrapInfo,
} from "@streamvault/lib/keyrelease/wrap.ts";
import { rawEphemeralPublicKey, wrapContentKeyNode } from "@streamvault/lib/keyrelease/wrap-node.ts";

const CONTENT = "0x" + "ab".repeat(32);
const OTHER_CONTENT = "0x" + "cd".repeat(32);
const WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER_WALLET = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

async function rejects(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("key wrapping (ECDH P-256 + HKDF-SHA-256 + AES-256-GCM on WebCrypto)", () => {
  it("round-trips: the unwrapped key equals the wrapped key (raw public key)", async () => {
    const client = await generateEphemeralKeyPair();
    const key = generateContentKey();
    const wrapped = await wrapContentKey({ contentKey: key, clientPublicKey: client.publicKey, contentId: CONTENT, wallet: WALLET });
    expect(wrapped.alg).to.equal("SV-KW1");
    expect(fromBase64Url(wrapped.serverPublicKey)).to.have.length(65);
    expect(fromBase64Url(wrapped.ciphertext)).to.have.length(48);
    const out = await unwrapContentKey({ privateKey: client.privateKey, wrapped, contentId: CONTENT, wallet: WALLET });
    expect(Buffer.from(out).equals(Buffer.from(key))).to.equal(true);
    // Wallet case does not matter (checksummed or lowercase): the info uses lowercase.
    const again = await unwrapContentKey({ privateKey: client.privateKey, wrapped, contentId: CONTENT.toUpperCase().replace("0X", "0x"), wallet: WALLET.toLowerCase() });
    expect(Buffer.from(again).equals(Buffer.from(key))).to.equal(true);
  });

  it("accepts a public JWK and yields a usable AES-GCM CryptoKey", async () => {
    const client = await generateEphemeralKeyPair();
    const key = generateContentKey();
    const wrapped = await wrapContentKey({ contentKey: key, clientPublicKey: client.publicJwk, contentId: CONTENT, wallet: WALLET });
    const cryptoKey = await unwrapContentCryptoKey({ privateKey: client.privateKey, wrapped, contentId: CONTENT, wallet: WALLET });
    expect(cryptoKey.extractable).to.equal(false);
    const iv = new Uint8Array(12);
    const reference = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await crypto.subtle.importKey("raw", key as BufferSource, "AES-GCM", false, ["encrypt"]), new Uint8Array([1, 2, 3]));
    const plain = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, cryptoKey, reference));
    expect([...plain]).to.deep.equal([1, 2, 3]);
  });

  it("a labelled wrap (minute key) unwraps only under its label, in node and WebCrypto alike", async () => {
    const client = await generateEphemeralKeyPair();
    const key = generateContentKey();
    const raw = rawEphemeralPublicKey(client.publicKey);
    for (const wrapped of [
      await wrapContentKey({ contentKey: key, clientPublicKey: client.publicKey, contentId: CONTENT, wallet: WALLET, label: "minute/high/3" }),
      wrapContentKeyNode({ contentKey: key, clientPublicKey: raw, contentId: CONTENT, wallet: WALLET, label: "minute/high/3" }),
    ]) {
      const out = await unwrapContentKey({ privateKey: client.privateKey, wrapped, contentId: CONTENT, wallet: WALLET, label: "minute/high/3" });
      expect(Buffer.from(out).equals(Buffer.from(key))).to.equal(true);
      for (const label of [undefined, "minute/high/4", "minute/standard/3"]) {
        expect(await rejects(unwrapContentKey({ privateKey: client.privateKey, wrapped, contentId: CONTENT, wallet: WALLET, label }))).to.be.instanceOf(UnwrapError);
      }
    }
    // without a label the info is exactly the original format
    expect(Buffer.from(wrapInfo(CONTENT, WALLET)).toString()).to.equal(`streamvault/key-release/v1\0${CONTENT}\0${WALLET.toLowerCase()}`);
    expect(Buffer.from(wrapInfo(CONTENT, WALLET, "minute/high/3")).toString()).to.equal(`streamvault/key-release/v1\0${CONTENT}\0${WALLET.toLowerCase()}\0minute/high/3`);
    expect(() => wrapInfo(CONTENT, WALLET, "")).to.throw(RangeError);
  });

  it("each wrap uses a fresh server key, salt and iv", async () => {
    const client = await generateEphemeralKeyPair();
    const key = generateContentKey();
    const a = await wrapContentKey({ contentKey: key, clientPublicKey: client.publicKey, contentId: CONTENT, wallet: WALLET });
    const b = await wrapContentKey({ contentKey: key, clientPublicKey: client.publicKey, contentId: CONTENT, wallet: WALLET });
    expect(a.serverPublicKey).to.not.equal(b.serverPublicKey);
    expect(a.salt).to.not.equal(b.salt);
    expect(a.ciphertext).to.not.equal(b.ciphertext);
  });

  it("refuses to unwrap for another content id, another wallet, another private key, or tampered bytes", async () => {
    const client = await generateEphemeralKeyPair();
    const intruder = await generateEphemeralKeyPair();
    const wrapped = await wrapContentKey({ contentKey: generateContentKey(), clientPublicKey: client.publicKey, contentId: CONTENT, wallet: WALLET });
    expect(await rejects(unwrapContentKey({ privateKey: client.privateKey, wrapped, contentId: OTHER_CONTENT, wallet: WALLET }))).to.be.instanceOf(UnwrapError);
    expect(await rejects(unwrapContentKey({ privateKey: client.privateKey, wrapped, contentId: CONTENT, wallet: OTHER_WALLET }))).to.be.instanceOf(UnwrapError);
    expect(await rejects(unwrapContentKey({ privateKey: intruder.privateKey, wrapped, contentId: CONTENT, wallet: WALLET }))).to.be.instanceOf(UnwrapError);
    const bytes = fromBase64Url(wrapped.ciphertext);
    bytes[0]! ^= 1;
    const tampered = { ...wrapped, ciphertext: toBase64Url(bytes) };
    expect(await rejects(unwrapContentKey({ privateKey: client.privateKey, wrapped: tampered, contentId: CONTENT, wallet: WALLET }))).to.be.instanceOf(UnwrapError);
  });

  it("rejects invalid public keys: wrong length, off-curve point, private JWK, wrong curve", async () => {
    const client = await generateEphemeralKeyPair();
    expect(await rejects(importEphemeralPublicKey(toBase64Url(new Uint8Array(33))))).to.be.instanceOf(InvalidPublicKeyError);
    const offCurve = fromBase64Url(client.publicKey);
    offCurve[64]! ^= 1;
    expect(await rejects(importEphemeralPublicKey(toBase64Url(offCurve)))).to.be.instanceOf(InvalidPublicKeyError);
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const privateJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const error = await rejects(importEphemeralPublicKey(privateJwk));
    expect(error).to.be.instanceOf(InvalidPublicKeyError);
    expect(String(error)).to.match(/never send the private key/);
    expect(await rejects(importEphemeralPublicKey({ ...client.publicJwk, crv: "P-384" }))).to.be.instanceOf(InvalidPublicKeyError);
    expect(await rejects(importEphemeralPublicKey("not base64!"))).to.be.instanceOf(InvalidPublicKeyError);
  });

  it("binds the HKDF info to content id and wallet unambiguously", () => {
    const text = new TextDecoder().decode(wrapInfo(CONTENT, WALLET));
    expect(text).to.equal(`streamvault/key-release/v1\0${CONTENT}\0${WALLET.toLowerCase()}`);
  });

  it("the node:crypto server wrap produces the same format: WebCrypto unwrap recovers the key (raw and JWK client keys)", async () => {
    for (let i = 0; i < 5; i++) {
      const client = await generateEphemeralKeyPair();
      const key = generateContentKey();
      const viaRaw = wrapContentKeyNode({ contentKey: key, clientPublicKey: rawEphemeralPublicKey(client.publicKey), contentId: CONTENT, wallet: WALLET });
      const viaJwk = wrapContentKeyNode({ contentKey: key, clientPublicKey: rawEphemeralPublicKey(client.publicJwk), contentId: CONTENT, wallet: WALLET });
      for (const wrapped of [viaRaw, viaJwk]) {
        const out = await unwrapContentKey({ privateKey: client.privateKey, wrapped, contentId: CONTENT, wallet: WALLET });
        expect(Buffer.from(out).equals(Buffer.from(key))).to.equal(true);
        expect(await rejects(unwrapContentKey({ privateKey: client.privateKey, wrapped, contentId: OTHER_CONTENT, wallet: WALLET }))).to.be.instanceOf(UnwrapError);
      }
    }
  });

  it("the node:crypto path rejects the same bad public keys (off-curve point checked arithmetically)", async () => {
    const client = await generateEphemeralKeyPair();
    const offCurve = fromBase64Url(client.publicKey);
    offCurve[64]! ^= 1;
    for (const bad of [toBase64Url(new Uint8Array(33)), toBase64Url(offCurve), "not base64!", { ...client.publicJwk, crv: "P-384" }, { ...client.publicJwk, d: "AAAA" }, { ...client.publicJwk, x: "AAAA" }]) {
      expect(() => rawEphemeralPublicKey(bad as never), JSON.stringify(bad)).to.throw(InvalidPublicKeyError);
    }
    expect(rawEphemeralPublicKey(client.publicKey)).to.have.length(65);
  });
});
