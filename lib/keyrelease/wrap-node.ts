/**
 * Server-side wrapping on node:crypto, byte-for-byte the "SV-KW1" format of wrap.ts (which is
 * WebCrypto, for the browser). Node's WebCrypto layer costs several times more CPU per release
 * than the direct ECDH/HKDF/GCM calls (argument normalisation, a promise and thread-pool hop per
 * step); under load that was the largest single cost on the release path, so the service wraps
 * here by default. Tests unwrap every server response with the WebCrypto `unwrapContentKey`, and
 * cross-check both wrap implementations (test/keyrelease/wrap.test.ts).
 */
import { createCipheriv, createECDH, hkdfSync, randomBytes } from "node:crypto";
import { fromBase64Url, InvalidPublicKeyError, WRAP_ALG, wrapInfo, type EphemeralPublicKey, type WrappedKey } from "./wrap.ts";

/** Validates a client's ephemeral P-256 public key and returns it as a raw uncompressed point (65 bytes). */
export function rawEphemeralPublicKey(key: EphemeralPublicKey): Uint8Array {
  let raw: Uint8Array;
  if (typeof key === "string" || key instanceof Uint8Array) {
    try {
      raw = typeof key === "string" ? fromBase64Url(key) : key;
    } catch {
      throw new InvalidPublicKeyError("ephemeral public key must be a 65-byte uncompressed P-256 point (base64url)");
    }
    if (raw.length !== 65 || raw[0] !== 0x04) throw new InvalidPublicKeyError("ephemeral public key must be a 65-byte uncompressed P-256 point (base64url)");
  } else {
    if (typeof key !== "object" || key === null) throw new InvalidPublicKeyError("ephemeral public key must be base64url or a JWK");
    if ("d" in key) throw new InvalidPublicKeyError("send the public JWK only: never send the private key (it has a \"d\" member)");
    if (key.kty !== "EC" || key.crv !== "P-256" || typeof key.x !== "string" || typeof key.y !== "string") {
      throw new InvalidPublicKeyError("ephemeral JWK must be {kty: \"EC\", crv: \"P-256\", x, y}");
    }
    let x: Uint8Array, y: Uint8Array;
    try {
      x = fromBase64Url(key.x);
      y = fromBase64Url(key.y);
    } catch {
      throw new InvalidPublicKeyError("ephemeral JWK x and y must be base64url");
    }
    if (x.length !== 32 || y.length !== 32) throw new InvalidPublicKeyError("ephemeral JWK x and y must be 32 bytes each");
    raw = new Uint8Array(65);
    raw[0] = 0x04;
    raw.set(x, 1);
    raw.set(y, 33);
  }
  if (!onCurve(raw)) throw new InvalidPublicKeyError("ephemeral public key is not a valid P-256 point");
  return raw;
}

// P-256 (secp256r1): y^2 = x^3 - 3x + b over F_p.
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function onCurve(raw: Uint8Array): boolean {
  const x = BigInt("0x" + Buffer.from(raw.subarray(1, 33)).toString("hex"));
  const y = BigInt("0x" + Buffer.from(raw.subarray(33, 65)).toString("hex"));
  if (x >= P || y >= P) return false;
  const rhs = (((x * x) % P) * x - 3n * x + B) % P;
  return (y * y) % P === (rhs + P) % P;
}

const b64u = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");

/** Wraps `contentKey` to the client's ephemeral public key (raw point from {@link rawEphemeralPublicKey}). */
export function wrapContentKeyNode(params: { contentKey: Uint8Array; clientPublicKey: Uint8Array; contentId: string; wallet: string; label?: string }): WrappedKey {
  const server = createECDH("prime256v1");
  const serverPublicKey = server.generateKeys();
  let shared: Buffer;
  try {
    shared = server.computeSecret(params.clientPublicKey);
  } catch {
    throw new InvalidPublicKeyError("ephemeral public key is not a valid P-256 point");
  }
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const info = wrapInfo(params.contentId, params.wallet, params.label);
  const kek = Buffer.from(hkdfSync("sha256", shared, salt, info, 32));
  shared.fill(0);
  const cipher = createCipheriv("aes-256-gcm", kek, iv, { authTagLength: 16 });
  cipher.setAAD(info);
  const ciphertext = Buffer.concat([cipher.update(params.contentKey), cipher.final(), cipher.getAuthTag()]);
  kek.fill(0);
  return { alg: WRAP_ALG, serverPublicKey: b64u(serverPublicKey), salt: b64u(salt), iv: b64u(iv), ciphertext: b64u(ciphertext) };
}
