/** Segment decryption, format "SVSEG/1" (lib/crypto/README.md): AES-256-GCM, ciphertext||tag, AAD below. */
export function segmentAad(contentId: string, variant: string, index: number): Uint8Array {
  const enc = new TextEncoder();
  const id = enc.encode(contentId);
  const name = enc.encode(variant);
  const out = new Uint8Array(8 + 2 + id.length + 2 + name.length + 4);
  const v = new DataView(out.buffer);
  out.set([0x53, 0x56, 0x53, 0x45, 0x47, 0x00, 0x01, 0x00]);
  v.setUint16(8, id.length);
  out.set(id, 10);
  v.setUint16(10 + id.length, name.length);
  out.set(name, 12 + id.length);
  v.setUint32(12 + id.length + name.length, index);
  return out;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export async function decryptSegment(key: CryptoKey, bytes: ArrayBuffer, params: { contentId: string; variant: string; index: number; nonce: string }): Promise<ArrayBuffer> {
  return crypto.subtle.decrypt(
    { name: "AES-GCM", iv: hexToBytes(params.nonce) as BufferSource, additionalData: segmentAad(params.contentId, params.variant, params.index) as BufferSource, tagLength: 128 },
    key,
    bytes,
  );
}
