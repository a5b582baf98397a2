/**
 * Segment encryption for StreamVault content.
 *
 * Format (identical to what WebCrypto `AES-GCM` produces/consumes, so a browser can decrypt):
 *   stored piece bytes = ciphertext || tag   (tag = 16 bytes, appended)
 *   key   = 32 random bytes per content item (AES-256)
 *   nonce = 12 random bytes per segment, unique within a content item, kept in the manifest
 *   AAD   = segmentAad (segment-aad.ts); binds content id + variant + segment index so a segment
 *           cannot be swapped between items/variants or moved to another position.
 *
 * The AAD encoding is in segment-aad.ts (browser-safe: the web player imports it).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import { segmentAad, TAG_BYTES, type SegmentPosition } from "./segment-aad.ts";
import { CONTENT_KEY_SCHEME, MINUTE_KEY_SCHEME, minuteKeyInfo, minuteKeySalt, type KeyScheme } from "./minute.ts";
import { StreamVaultError } from "../errors.ts";

export const SEGMENT_CIPHER = "AES-256-GCM" as const;
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export { SEGMENT_AAD_MAGIC, segmentAad, TAG_BYTES, type SegmentPosition } from "./segment-aad.ts";

/** Thrown when a segment does not authenticate (wrong key, wrong position, or tampered bytes). */
export class SegmentDecryptError extends StreamVaultError {
  readonly position: SegmentPosition;
  constructor(position: SegmentPosition, cause?: unknown) {
    super("integrity", 
      `segment ${position.index} of variant "${position.variant}" (content ${position.contentId}) failed authentication: ` +
        "wrong key, wrong position (swapped/reordered segment) or tampered bytes",
      { cause },
    );
    this.name = "SegmentDecryptError";
    this.position = position;
  }
}

/** A fresh random 256-bit content key. */
export function generateContentKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

/** A fresh random 96-bit nonce. */
export function generateNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES));
}

/**
 * Public identifier of a content key: first 16 bytes of SHA-256("streamvault/key-id/v1" || key), hex.
 * Lets a client check it was handed the right key without revealing anything usable about the key.
 */
export function keyIdOf(key: Uint8Array): string {
  assertKey(key);
  return createHash("sha256").update("streamvault/key-id/v1").update(key).digest("hex").slice(0, 32);
}

/** Encrypt one segment. Returns ciphertext||tag; the caller keeps `nonce` (in the manifest). */
export function encryptSegment(key: Uint8Array, nonce: Uint8Array, position: SegmentPosition, plaintext: Uint8Array): Uint8Array {
  assertKey(key);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(segmentAad(position));
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(body.length + final.length + TAG_BYTES);
  out.set(body, 0);
  out.set(final, body.length);
  out.set(tag, body.length + final.length);
  return out;
}

/** Decrypt ciphertext||tag of one segment; throws {@link SegmentDecryptError} if it does not authenticate. */
export function decryptSegment(key: Uint8Array, nonce: Uint8Array, position: SegmentPosition, sealed: Uint8Array): Uint8Array {
  assertKey(key);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`);
  if (sealed.length < TAG_BYTES) throw new SegmentDecryptError(position, new Error("shorter than the tag"));
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(segmentAad(position));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    const final = decipher.final();
    return final.length === 0 ? new Uint8Array(body.buffer, body.byteOffset, body.length) : new Uint8Array(Buffer.concat([body, final]));
  } catch (err) {
    throw new SegmentDecryptError(position, err);
  }
}

/**
 * The key of minute window `minute` of `variant` (scheme "minute-hkdf", lib/crypto/minute.ts):
 * HKDF-SHA-256(content key, salt = lower-case content id, info = "streamvault/minute/<variant>/<minute>").
 */
export function deriveMinuteKey(contentKey: Uint8Array, contentId: string, variant: string, minute: number): Uint8Array {
  assertKey(contentKey);
  return new Uint8Array(hkdfSync("sha256", contentKey, minuteKeySalt(contentId), minuteKeyInfo(variant, minute), KEY_BYTES));
}

/** What decides a segment's key: the variant's scheme (absent = "content", as in every version-1 manifest) and the segment's minute. */
export interface SegmentKeying {
  contentId: string;
  variant: { name: string; keyScheme?: KeyScheme };
  segment: { minute?: number };
}

/** The key that seals one segment of a manifest: the content key, or the key of the segment's minute window. */
export function segmentKey(contentKey: Uint8Array, keying: SegmentKeying): Uint8Array {
  const scheme = keying.variant.keyScheme ?? CONTENT_KEY_SCHEME;
  if (scheme === CONTENT_KEY_SCHEME) return contentKey;
  if (keying.segment.minute === undefined) throw new Error(`segment of minute-keyed variant "${keying.variant.name}" has no minute`);
  return deriveMinuteKey(contentKey, keying.contentId, keying.variant.name, keying.segment.minute);
}

/**
 * Decrypts one stored segment of a manifest with the content key, whatever the variant's key
 * scheme (the minute key is derived when the variant is minute-keyed).
 */
export function decryptManifestSegment(
  contentKey: Uint8Array,
  contentId: string,
  variant: { name: string; keyScheme?: KeyScheme },
  segment: { index: number; nonce?: string; minute?: number },
  sealed: Uint8Array,
): Uint8Array {
  if (segment.nonce === undefined) throw new Error(`segment ${segment.index} of ${variant.name} is not encrypted (no nonce)`);
  const key = segmentKey(contentKey, { contentId, variant, segment });
  return decryptSegment(key, fromHex(segment.nonce), { contentId, variant: variant.name, index: segment.index }, sealed);
}

/**
 * Encrypts the segments of one content item and guarantees nonce uniqueness within it
 * (random 96-bit nonces collide with negligible probability; the check makes it certain).
 * Segments given a `minute` are sealed under that minute's key (scheme "minute-hkdf"), others
 * under the content key.
 */
export class ContentEncryptor {
  readonly contentId: string;
  readonly keyId: string;
  readonly #key: Uint8Array;
  readonly #usedNonces = new Set<string>();
  readonly #minuteKeys = new Map<string, Uint8Array>();

  constructor(contentId: string, key: Uint8Array) {
    assertKey(key);
    this.contentId = contentId;
    this.#key = key;
    this.keyId = keyIdOf(key);
  }

  /** Encrypt segment `index` of `variant` (under minute `minute`'s key when given); returns the stored bytes and the nonce to record. */
  encrypt(variant: string, index: number, plaintext: Uint8Array, minute?: number): { sealed: Uint8Array; nonce: Uint8Array } {
    let nonce = generateNonce();
    while (this.#usedNonces.has(hex(nonce))) nonce = generateNonce();
    this.#usedNonces.add(hex(nonce));
    const key = minute === undefined ? this.#key : this.#minuteKey(variant, minute);
    return { sealed: encryptSegment(key, nonce, { contentId: this.contentId, variant, index }, plaintext), nonce };
  }

  #minuteKey(variant: string, minute: number): Uint8Array {
    const id = `${variant}/${minute}`;
    let key = this.#minuteKeys.get(id);
    if (key === undefined) {
      key = deriveMinuteKey(this.#key, this.contentId, variant, minute);
      this.#minuteKeys.set(id, key);
    }
    return key;
  }
}


/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Bytes from a hex string (throws on odd length or non-hex). */
export function fromHex(text: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new Error("not a hex string");
  return new Uint8Array(Buffer.from(text, "hex"));
}

function assertKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new RangeError(`content key must be ${KEY_BYTES} bytes`);
}
