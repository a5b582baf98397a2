/**
 * The one hash of the PieceCID tree, in plain JavaScript (runs in Node and in browsers): a node is
 * SHA-256 of its two 32-byte children with the two top bits of the result cleared (FRC-0069 "trunc254").
 *
 * Every node hashes exactly 64 bytes, so its second compression always runs over the same padding block;
 * that block's message schedule plus the round constants is computed once (PAD_WK) and only its rounds
 * remain per node.
 */

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const H0 = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const PAD_WK = (() => {
  const w = new Int32Array(64);
  w[0] = 0x80000000 | 0;
  w[15] = 512;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  for (let i = 0; i < 64; i++) w[i] = (w[i]! + K[i]!) | 0;
  return w;
})();

const W = new Int32Array(64);

/**
 * dst[dstOffset..+32] = trunc254(SHA-256(src[srcOffset..+64])). The input is read completely before
 * the output is written, so a level can be reduced in place (dst may overlap src).
 */
export function hashNode(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
  const w = W;
  for (let i = 0, o = srcOffset; i < 16; i++, o += 4) {
    w[i] = (src[o]! << 24) | (src[o + 1]! << 16) | (src[o + 2]! << 8) | src[o + 3]!;
  }
  // First block: the 64 data bytes, schedule computed as the rounds go.
  let a = H0[0]!, b = H0[1]!, c = H0[2]!, d = H0[3]!, e = H0[4]!, f = H0[5]!, g = H0[6]!, h = H0[7]!;
  for (let i = 0; i < 64; i++) {
    if (i >= 16) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  a = (a + H0[0]!) | 0;
  b = (b + H0[1]!) | 0;
  c = (c + H0[2]!) | 0;
  d = (d + H0[3]!) | 0;
  e = (e + H0[4]!) | 0;
  f = (f + H0[5]!) | 0;
  g = (g + H0[6]!) | 0;
  h = (h + H0[7]!) | 0;
  // Second block: the constant padding, rounds only. The round body is repeated on purpose: one loop
  // over 128 rounds with a branch for the block measured ~20% slower in V8.
  const sa = a, sb = b, sc = c, sd = d, se = e, sf = f, sg = g, sh = h;
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + PAD_WK[i]!) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  writeWord(dst, dstOffset, a + sa);
  writeWord(dst, dstOffset + 4, b + sb);
  writeWord(dst, dstOffset + 8, c + sc);
  writeWord(dst, dstOffset + 12, d + sd);
  writeWord(dst, dstOffset + 16, e + se);
  writeWord(dst, dstOffset + 20, f + sf);
  writeWord(dst, dstOffset + 24, g + sg);
  writeWord(dst, dstOffset + 28, (h + sh) & ~0xc0);
}

/** Big-endian store; for the last word the mask above clears the two top bits of the last byte. */
function writeWord(dst: Uint8Array, o: number, v: number): void {
  dst[o] = v >>> 24;
  dst[o + 1] = v >>> 16;
  dst[o + 2] = v >>> 8;
  dst[o + 3] = v;
}
