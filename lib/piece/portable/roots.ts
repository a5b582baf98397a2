/**
 * Portable chunk roots: the same contract as the native addon's `chunkRoots`, in plain JavaScript.
 * `data` is cut into chunks of 127 x 2^(chunkHeight-2) bytes; each chunk (the last zero-padded) is the
 * payload of a subtree of 2^chunkHeight leaves; the result packs their 32-byte roots in order.
 */
import { reduceLevels, subtreePayloadBytes, QUAD_BYTES } from "../tree.ts";

/** Leaves per block kept in one scratch buffer (32 KiB: stays in cache). */
const BLOCK_HEIGHT = 10;

const tail = new Uint8Array(QUAD_BYTES);

/** fr32: the 127 payload bytes at src[at..] (zero beyond `end`) -> four 32-byte leaves at out[o..]. */
function fr32Quad(src: Uint8Array, at: number, end: number, out: Uint8Array, o: number): void {
  if (at + QUAD_BYTES > end) {
    tail.fill(0);
    tail.set(src.subarray(at, end));
    src = tail;
    at = 0;
  }
  // Four 254-bit groups, each shifted by 0, 2, 4 or 6 bits into a 256-bit leaf with two zero top bits.
  for (let i = 0; i < 32; i++) out[o + i] = src[at + i]!;
  out[o + 31]! &= 0x3f;
  for (let i = 32; i < 64; i++) out[o + i] = (src[at + i]! << 2) | (src[at + i - 1]! >>> 6);
  out[o + 63]! &= 0x3f;
  for (let i = 64; i < 96; i++) out[o + i] = (src[at + i]! << 4) | (src[at + i - 1]! >>> 4);
  out[o + 95]! &= 0x3f;
  for (let i = 96; i < 127; i++) out[o + i] = (src[at + i]! << 6) | (src[at + i - 1]! >>> 2);
  out[o + 127] = src[at + 126]! >>> 2;
}

/** Root of the subtree of `height` (<= BLOCK_HEIGHT) over src[at..end), written to out[o..]. */
function blockRoot(src: Uint8Array, at: number, end: number, height: number, scratch: Uint8Array, out: Uint8Array, o: number): void {
  const quads = Math.ceil((end - at) / QUAD_BYTES);
  for (let q = 0; q < quads; q++) fr32Quad(src, at + q * QUAD_BYTES, end, scratch, 128 * q);
  out.set(reduceLevels(scratch, quads * 4, 0, height), o);
}

/** Roots of the chunks of `data` (see module doc). chunkHeight is 2..30. */
export function chunkRoots(data: Uint8Array, chunkHeight: number): Uint8Array {
  const chunkBytes = subtreePayloadBytes(chunkHeight);
  const chunks = Math.ceil(data.length / chunkBytes);
  const out = new Uint8Array(32 * chunks);
  const scratch = new Uint8Array((32 << BLOCK_HEIGHT) + 32);
  const blockBytes = subtreePayloadBytes(BLOCK_HEIGHT);
  const blockRoots = chunkHeight > BLOCK_HEIGHT ? new Uint8Array(32 * (2 ** (chunkHeight - BLOCK_HEIGHT) + 1)) : scratch;
  for (let c = 0; c < chunks; c++) {
    const start = c * chunkBytes;
    const end = Math.min(start + chunkBytes, data.length);
    if (chunkHeight <= BLOCK_HEIGHT) {
      blockRoot(data, start, end, chunkHeight, scratch, out, 32 * c);
      continue;
    }
    const blocks = Math.ceil((end - start) / blockBytes);
    for (let b = 0; b < blocks; b++) {
      const at = start + b * blockBytes;
      blockRoot(data, at, Math.min(at + blockBytes, end), BLOCK_HEIGHT, scratch, blockRoots, 32 * b);
    }
    out.set(reduceLevels(blockRoots, blocks, BLOCK_HEIGHT, chunkHeight), 32 * c);
  }
  return out;
}
