/**
 * The segment AAD (format "SVSEG/1") and the browser's segment decryption: the one encoding of a
 * segment's position, used by the Node encryptor (segment.ts) and by the web player through
 * WebCrypto. No Node imports, so the web app bundles this file for the browser.
 *
 * AAD byte encoding (version 1), all integers big-endian:
 *   offset 0   : 8 bytes ASCII "SVSEG\x00\x01\x00"  -- magic "SVSEG", NUL, format version 1, NUL
 *   then       : u16  byte length of contentId (UTF-8)
 *   then       : contentId as UTF-8
 *   then       : u16  byte length of variant name (UTF-8)
 *   then       : variant name as UTF-8
 *   then       : u32  segment index (0-based)
 * Length prefixes keep the encoding unambiguous ("ab"+"c" never equals "a"+"bc").
 */

/** Magic + version prefix of every segment AAD. */
export const SEGMENT_AAD_MAGIC = new Uint8Array([0x53, 0x56, 0x53, 0x45, 0x47, 0x00, 0x01, 0x00]);
/** GCM tag length in bytes (appended to the ciphertext). */
export const TAG_BYTES = 16;

/** Where a segment sits: the AAD is derived from exactly these three fields. */
export interface SegmentPosition {
  contentId: string;
  variant: string;
  index: number;
}

/** The additional authenticated data for one segment (encoding documented at the top of this file). */
export function segmentAad(position: SegmentPosition): Uint8Array {
  const { contentId, variant, index } = position;
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new RangeError(`bad segment index ${index}`);
  const id = new TextEncoder().encode(contentId);
  const name = new TextEncoder().encode(variant);
  if (id.length === 0 || id.length > 0xffff) throw new RangeError("contentId must be 1..65535 UTF-8 bytes");
  if (name.length === 0 || name.length > 0xffff) throw new RangeError("variant must be 1..65535 UTF-8 bytes");
  const out = new Uint8Array(SEGMENT_AAD_MAGIC.length + 2 + id.length + 2 + name.length + 4);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(SEGMENT_AAD_MAGIC, at);
  at += SEGMENT_AAD_MAGIC.length;
  view.setUint16(at, id.length);
  at += 2;
  out.set(id, at);
  at += id.length;
  view.setUint16(at, name.length);
  at += 2;
  out.set(name, at);
  at += name.length;
  view.setUint32(at, index);
  return out;
}

/** Bytes of a hex string such as a manifest nonce (throws on odd length or non-hex). */
export function hexToBytes(text: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new Error("not a hex string");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Decrypt one stored segment (ciphertext||tag) with WebCrypto: the browser's side of
 * segment.ts `decryptSegment`. Rejects (OperationError) when the segment does not authenticate.
 */
export async function decryptSegmentWeb(key: CryptoKey, sealed: ArrayBuffer | Uint8Array, segment: SegmentPosition & { nonce: string }): Promise<ArrayBuffer> {
  return crypto.subtle.decrypt(
    { name: "AES-GCM", iv: hexToBytes(segment.nonce) as BufferSource, additionalData: segmentAad(segment) as BufferSource, tagLength: TAG_BYTES * 8 },
    key,
    sealed as BufferSource,
  );
}
