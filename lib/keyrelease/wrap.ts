/**
 * Content-key wrapping for key release, on WebCrypto only (`globalThis.crypto.subtle`): this file
 * imports nothing from Node, so the browser bundles and runs exactly the unwrap code the tests run.
 *
 * Scheme ("SV-KW1": ECDH-ES P-256 + HKDF-SHA-256 + AES-256-GCM):
 *   1. The browser generates an ephemeral ECDH P-256 key pair and sends the public key
 *      (raw uncompressed point, base64url, or a public JWK) with the key request.
 *   2. For every release the server generates its own ephemeral P-256 key pair and computes
 *      Z = ECDH(server private, browser public) (32 bytes).
 *   3. KEK = HKDF-SHA-256(ikm = Z, salt = 32 random bytes, info) -> AES-256-GCM key, where
 *        info = "streamvault/key-release/v1" 0x00 contentId 0x00 wallet [0x00 label]
 *      with contentId as 0x-prefixed lowercase hex (bytes32) and wallet as 0x-prefixed lowercase address.
 *      The label is absent for the content key and names any other released key, e.g.
 *      "minute/high/3" for minute 3 of variant "high" (lib/crypto/minute.ts `minuteKeyLabel`), so a
 *      wrapped minute key does not unwrap as the content key or as another minute's key.
 *   4. wrapped = AES-256-GCM(KEK, 12-byte random iv, aad = info, content key) = ciphertext || tag.
 * The response carries the server public key (raw, base64url), salt, iv and wrapped bytes. Only the
 * holder of the browser's ephemeral private key can derive the KEK; the info/AAD binding means a
 * wrapped key handed out for one content id or wallet does not unwrap as another.
 */
import { StreamVaultError } from "../errors.ts";

export const WRAP_ALG = "SV-KW1" as const;
const INFO_PREFIX = "streamvault/key-release/v1";
const EC = { name: "ECDH", namedCurve: "P-256" } as const;

/** What the server returns in `wrapped` (all binary fields base64url, no padding). */
export interface WrappedKey {
  alg: typeof WRAP_ALG;
  /** Server's ephemeral P-256 public key, raw uncompressed point (65 bytes). */
  serverPublicKey: string;
  /** HKDF salt (32 bytes). */
  salt: string;
  /** AES-GCM iv (12 bytes). */
  iv: string;
  /** AES-256-GCM ciphertext of the 32-byte content key followed by the 16-byte tag. */
  ciphertext: string;
}

/** A P-256 public key as a client may send it: raw uncompressed point (base64url or bytes) or a public JWK. */
export type EphemeralPublicKey = string | Uint8Array | JsonWebKey;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new Error("WebCrypto (crypto.subtle) is not available: use a secure context (https or localhost)");
  return s;
}

export function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError("not base64url");
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The HKDF info (also the GCM AAD) binding a wrapped key to one content id, one wallet and (when given) what the key is. */
export function wrapInfo(contentId: string, wallet: string, label?: string): Uint8Array {
  if (label !== undefined && (label.length === 0 || label.includes("\0"))) throw new RangeError("wrap label must be non-empty and contain no NUL");
  const base = `${INFO_PREFIX}\0${contentId.toLowerCase()}\0${wallet.toLowerCase()}`;
  return new TextEncoder().encode(label === undefined ? base : `${base}\0${label}`);
}

/** Thrown when a client's ephemeral public key is not a valid P-256 public key. */
export class InvalidPublicKeyError extends StreamVaultError {
  constructor(message: string) {
    super("bad_input", message);
    this.name = "InvalidPublicKeyError";
  }
}

/** Imports a client's ephemeral public key (raw point or public JWK); rejects anything else, including private JWKs. */
export async function importEphemeralPublicKey(key: EphemeralPublicKey): Promise<CryptoKey> {
  try {
    if (typeof key === "string" || key instanceof Uint8Array) {
      const raw = typeof key === "string" ? fromBase64Url(key) : key;
      if (raw.length !== 65 || raw[0] !== 0x04) throw new InvalidPublicKeyError("ephemeral public key must be a 65-byte uncompressed P-256 point (base64url)");
      return await subtle().importKey("raw", raw as BufferSource, EC, true, []);
    }
    if (typeof key !== "object" || key === null) throw new InvalidPublicKeyError("ephemeral public key must be base64url or a JWK");
    if ("d" in key) throw new InvalidPublicKeyError("send the public JWK only: never send the private key (it has a \"d\" member)");
    if (key.kty !== "EC" || key.crv !== "P-256" || typeof key.x !== "string" || typeof key.y !== "string") {
      throw new InvalidPublicKeyError("ephemeral JWK must be {kty: \"EC\", crv: \"P-256\", x, y}");
    }
    return await subtle().importKey("jwk", { kty: "EC", crv: "P-256", x: key.x, y: key.y, ext: true }, EC, true, []);
  } catch (error) {
    if (error instanceof InvalidPublicKeyError) throw error;
    throw new InvalidPublicKeyError("ephemeral public key is not a valid P-256 point");
  }
}

async function deriveKek(privateKey: CryptoKey, publicKey: CryptoKey, salt: Uint8Array, info: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  const shared = await subtle().deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256);
  const ikm = await subtle().importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return subtle().deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: salt as BufferSource, info: info as BufferSource },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

/** Server side: wraps `contentKey` to the client's ephemeral public key. */
export async function wrapContentKey(params: {
  contentKey: Uint8Array;
  clientPublicKey: CryptoKey | EphemeralPublicKey;
  contentId: string;
  wallet: string;
  /** What the wrapped key is when it is not the content key (e.g. "minute/high/3"). */
  label?: string;
}): Promise<WrappedKey> {
  const clientKey = params.clientPublicKey instanceof CryptoKey ? params.clientPublicKey : await importEphemeralPublicKey(params.clientPublicKey);
  const server = (await subtle().generateKey(EC, true, ["deriveBits"])) as CryptoKeyPair;
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const info = wrapInfo(params.contentId, params.wallet, params.label);
  const kek = await deriveKek(server.privateKey, clientKey, salt, info, "encrypt");
  const ciphertext = new Uint8Array(
    await subtle().encrypt({ name: "AES-GCM", iv, additionalData: info as BufferSource, tagLength: 128 }, kek, params.contentKey as BufferSource),
  );
  const serverPublicKey = new Uint8Array(await subtle().exportKey("raw", server.publicKey));
  return { alg: WRAP_ALG, serverPublicKey: toBase64Url(serverPublicKey), salt: toBase64Url(salt), iv: toBase64Url(iv), ciphertext: toBase64Url(ciphertext) };
}

/** Browser side: a fresh ephemeral key pair; the private key is not extractable. Send `publicKey` (base64url raw) with the request. */
export async function generateEphemeralKeyPair(): Promise<{ privateKey: CryptoKey; publicKey: string; publicJwk: JsonWebKey }> {
  const pair = (await subtle().generateKey(EC, false, ["deriveBits"])) as CryptoKeyPair;
  const raw = new Uint8Array(await subtle().exportKey("raw", pair.publicKey));
  const publicJwk = await subtle().exportKey("jwk", pair.publicKey);
  return { privateKey: pair.privateKey, publicKey: toBase64Url(raw), publicJwk };
}

/** Thrown when a wrapped key does not authenticate: wrong private key, content id, wallet, or tampered bytes. */
export class UnwrapError extends StreamVaultError {
  constructor() {
    super("integrity", "wrapped content key did not authenticate: wrong ephemeral key, content id or wallet, or tampered response");
    this.name = "UnwrapError";
  }
}

/**
 * Browser side: recovers the 32-byte content key from a key-release response.
 * @param privateKey The ephemeral private key whose public half was sent with the request.
 * @param wrapped `response.wrapped` from `POST /api/keys/:contentId` (or `/stream`).
 * @param contentId The content id requested (bytes32 hex).
 * @param wallet The signed-in wallet (`response.wallet`).
 * @param label What the key is when it is not the content key (`/stream` minute keys: "minute/<variant>/<m>").
 */
export async function unwrapContentKey(params: { privateKey: CryptoKey; wrapped: WrappedKey; contentId: string; wallet: string; label?: string }): Promise<Uint8Array> {
  const { privateKey, wrapped } = params;
  if (wrapped.alg !== WRAP_ALG) throw new UnwrapError();
  let serverKey: CryptoKey;
  try {
    serverKey = await subtle().importKey("raw", fromBase64Url(wrapped.serverPublicKey) as BufferSource, EC, true, []);
  } catch {
    throw new UnwrapError();
  }
  const info = wrapInfo(params.contentId, params.wallet, params.label);
  try {
    const kek = await deriveKek(privateKey, serverKey, fromBase64Url(wrapped.salt), info, "decrypt");
    const plain = await subtle().decrypt(
      { name: "AES-GCM", iv: fromBase64Url(wrapped.iv) as BufferSource, additionalData: info as BufferSource, tagLength: 128 },
      kek,
      fromBase64Url(wrapped.ciphertext) as BufferSource,
    );
    return new Uint8Array(plain);
  } catch {
    throw new UnwrapError();
  }
}

/** Browser side: unwraps straight into a non-extractable AES-GCM key for `crypto.subtle.decrypt` of segments. */
export async function unwrapContentCryptoKey(params: { privateKey: CryptoKey; wrapped: WrappedKey; contentId: string; wallet: string; label?: string }): Promise<CryptoKey> {
  const bytes = await unwrapContentKey(params);
  try {
    return await subtle().importKey("raw", bytes as BufferSource, { name: "AES-GCM" }, false, ["decrypt"]);
  } finally {
    bytes.fill(0);
  }
}
