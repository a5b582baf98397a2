/**
 * Per-minute segment keys (key scheme "minute-hkdf", manifest version 2).
 *
 * Segments of a minute-keyed variant are not encrypted under the content key itself but under a
 * key derived for their minute window, so that a key released for one paid minute decrypts that
 * minute only:
 *
 *   minuteKey(m) = HKDF-SHA-256(ikm  = content key (32 bytes),
 *                               salt = UTF-8(lower-case content id),
 *                               info = UTF-8("streamvault/minute/" variant "/" m),   m in decimal
 *                               L    = 32)
 *
 * Minute m covers the segments whose start time (sum of the previous segments' durations, rounded
 * to the microsecond) lies in [60 m, 60 m + 60); the manifest records each segment's minute
 * (`segments[i].minute`, see lib/manifest/minutes.ts). The AAD is unchanged (content id + variant +
 * index), so a segment still cannot be moved between positions, variants or items.
 *
 * This file imports nothing from Node: the browser derives minute keys from a released content key
 * with exactly this code (WebCrypto HKDF), and the Node side (segment.ts, hkdfSync) is checked
 * against it byte for byte (test/crypto/segment.test.ts).
 */

/** Manifest `keyScheme` of a variant whose segments use per-minute keys. */
export const MINUTE_KEY_SCHEME = "minute-hkdf" as const;
/** Manifest `keyScheme` of a variant whose segments use the content key itself (every version-1 manifest). */
export const CONTENT_KEY_SCHEME = "content" as const;
export type KeyScheme = typeof MINUTE_KEY_SCHEME | typeof CONTENT_KEY_SCHEME;

/** Length of one key window, seconds (= the pay-per-minute unit). */
export const MINUTE_SECONDS = 60;
/** Largest minute index a key is derived for (about 69 days; keeps labels short and bounded). */
export const MAX_MINUTE = 99_999;

const VARIANT_NAME = /^[A-Za-z0-9_-]{1,32}$/;

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function checkMinute(variant: string, minute: number): void {
  if (!VARIANT_NAME.test(variant)) throw new RangeError(`bad variant name ${JSON.stringify(variant)}`);
  if (!Number.isSafeInteger(minute) || minute < 0 || minute > MAX_MINUTE) throw new RangeError(`bad minute ${minute}: 0..${MAX_MINUTE}`);
}

/** HKDF salt of an item's minute keys: its content id, lower-cased, as UTF-8. */
export function minuteKeySalt(contentId: string): Uint8Array {
  if (contentId.length === 0) throw new RangeError("contentId must not be empty");
  return utf8(contentId.toLowerCase());
}

/** HKDF info of minute `minute` of `variant`: "streamvault/minute/<variant>/<minute>". */
export function minuteKeyInfo(variant: string, minute: number): Uint8Array {
  checkMinute(variant, minute);
  return utf8(`streamvault/minute/${variant}/${minute}`);
}

/** Label a released minute key is wrapped under (lib/keyrelease/wrap.ts `label`): "minute/<variant>/<minute>". */
export function minuteKeyLabel(variant: string, minute: number): string {
  checkMinute(variant, minute);
  return `minute/${variant}/${minute}`;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new Error("WebCrypto (crypto.subtle) is not available: use a secure context (https or localhost)");
  return s;
}

/** Imports a content key as a non-extractable HKDF base key, from which minute keys are derived. */
export async function importMinuteKeyBase(contentKey: Uint8Array): Promise<CryptoKey> {
  if (contentKey.length !== 32) throw new RangeError("content key must be 32 bytes");
  return subtle().importKey("raw", contentKey as BufferSource, "HKDF", false, ["deriveKey", "deriveBits"]);
}

/** The AES-256-GCM key of one minute window (non-extractable, decrypt only unless `usages` says otherwise). */
export async function deriveMinuteCryptoKey(
  base: CryptoKey,
  contentId: string,
  variant: string,
  minute: number,
  usages: KeyUsage[] = ["decrypt"],
): Promise<CryptoKey> {
  return subtle().deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: minuteKeySalt(contentId) as BufferSource, info: minuteKeyInfo(variant, minute) as BufferSource },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    usages,
  );
}

/** The 32 bytes of one minute key, on WebCrypto (tests cross-check the Node derivation with it). */
export async function deriveMinuteKeyBytesWebCrypto(contentKey: Uint8Array, contentId: string, variant: string, minute: number): Promise<Uint8Array> {
  const base = await importMinuteKeyBase(contentKey);
  const bits = await subtle().deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: minuteKeySalt(contentId) as BufferSource, info: minuteKeyInfo(variant, minute) as BufferSource },
    base,
    256,
  );
  return new Uint8Array(bits);
}
