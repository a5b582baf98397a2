import { createCipheriv, createHash } from "node:crypto";

/** `size` pseudo-random bytes fixed by `label` (AES-256-CTR keystream): reproducible test inputs at GB/s. */
export function seededBytes(size: number, label: string): Uint8Array {
  const key = createHash("sha256").update(label).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const out = new Uint8Array(size);
  const zeros = new Uint8Array(Math.min(size, 16 << 20));
  for (let at = 0; at < size; at += zeros.length) {
    const n = Math.min(zeros.length, size - at);
    out.set(cipher.update(zeros.subarray(0, n)), at);
  }
  return out;
}
