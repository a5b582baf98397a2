/**
 * The PieceCID driver shared by every path: size checks, padding, chunking, streaming with bounded
 * memory, folding chunk roots into the piece root and the CID. A path only supplies a {@link ChunkRooter}
 * (native addon, portable JavaScript, portable JavaScript on worker threads). Browser-safe.
 */
import { PieceInputError } from "./errors.ts";
import { foldRoots, MAX_PIECE_PAYLOAD, MIN_PIECE_PAYLOAD, pieceCidFromRoot, pieceGeometry, subtreePayloadBytes } from "./tree.ts";

/**
 * Roots of consecutive subtrees of 2^chunkHeight leaves over `data` (the last zero-padded), packed
 * 32 bytes each. Implementations may split the work across threads.
 */
export interface ChunkRooter {
  readonly name: string;
  sync(data: Uint8Array, chunkHeight: number): Uint8Array;
  async(data: Uint8Array, chunkHeight: number): Promise<Uint8Array>;
}

export interface PieceCidInputOptions {
  /** Zero-pad payloads under 127 bytes up to 127 (the caller must then store the padded bytes). */
  pad?: boolean;
}

/** A Node Readable, any async iterable of bytes, or a web ReadableStream (not async-iterable in every browser). */
export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

async function* byteChunks(source: ByteSource): AsyncIterable<Uint8Array> {
  if (!("getReader" in source)) return yield* source;
  const reader = source.getReader();
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) yield read.value;
  } finally {
    reader.releaseLock();
  }
}

/** Subtrees handed to a path at once: 2^15 leaves = 1,040,384 payload bytes (~1 MiB). */
export const CHUNK_HEIGHT = 15;
const CHUNK_BYTES = subtreePayloadBytes(CHUNK_HEIGHT);
/** Stream batches: 16 chunks (~16 MiB); two are alive at once (one filling, one hashing). */
const BATCH_BYTES = 16 * CHUNK_BYTES;

function checkedSize(size: number, options: PieceCidInputOptions): number {
  if (size > MAX_PIECE_PAYLOAD || (size < MIN_PIECE_PAYLOAD && !options.pad)) throw new PieceInputError(size);
  return Math.max(size, MIN_PIECE_PAYLOAD);
}

function padded(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.length === size) return bytes;
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}

/** PieceCID of whole bytes, on the calling thread(s). */
export function pieceCidOfBytesSync(bytes: Uint8Array, rooter: ChunkRooter, options: PieceCidInputOptions = {}): string {
  const size = checkedSize(bytes.length, options);
  const geometry = pieceGeometry(size);
  const data = padded(bytes, size);
  if (geometry.height <= CHUNK_HEIGHT) return pieceCidFromRoot(rooter.sync(data, geometry.height), geometry);
  return pieceCidFromRoot(foldRoots([rooter.sync(data, CHUNK_HEIGHT)], CHUNK_HEIGHT, geometry.height), geometry);
}

/** PieceCID of whole bytes without blocking the caller's thread (where the path allows). */
export async function pieceCidOfBytes(bytes: Uint8Array, rooter: ChunkRooter, options: PieceCidInputOptions = {}): Promise<string> {
  const size = checkedSize(bytes.length, options);
  const geometry = pieceGeometry(size);
  const data = padded(bytes, size);
  if (geometry.height <= CHUNK_HEIGHT) return pieceCidFromRoot(await rooter.async(data, geometry.height), geometry);
  return pieceCidFromRoot(foldRoots([await rooter.async(data, CHUNK_HEIGHT)], CHUNK_HEIGHT, geometry.height), geometry);
}

/**
 * PieceCID of a stream of byte chunks of any sizes, holding at most two ~16 MiB batches: one is
 * filled while the other is hashed. Rejects early once the stream passes the piece limit.
 */
export async function pieceCidOfChunks(
  source: ByteSource,
  rooter: ChunkRooter,
  options: PieceCidInputOptions = {},
): Promise<string> {
  const buffers = [new Uint8Array(BATCH_BYTES), new Uint8Array(BATCH_BYTES)];
  let current = 0;
  let filled = 0;
  let total = 0;
  const roots: Uint8Array[] = [];
  let hashing: Promise<void> = Promise.resolve();
  for await (const piece of byteChunks(source)) {
    total += piece.length;
    if (total > MAX_PIECE_PAYLOAD) throw new PieceInputError(total);
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(piece.length - offset, BATCH_BYTES - filled);
      buffers[current]!.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === BATCH_BYTES) {
        await hashing; // the other buffer is free again, and roots stay in stream order
        const full = buffers[current]!;
        hashing = rooter.async(full, CHUNK_HEIGHT).then((r) => void roots.push(r));
        current ^= 1;
        filled = 0;
      }
    }
  }
  await hashing;
  const rest = buffers[current]!.subarray(0, filled);
  if (roots.length === 0) return pieceCidOfBytes(rest, rooter, options); // under one batch: no chunking needed
  const geometry = pieceGeometry(total);
  if (filled > 0) roots.push(await rooter.async(rest, CHUNK_HEIGHT));
  return pieceCidFromRoot(foldRoots(roots, CHUNK_HEIGHT, geometry.height), geometry);
}
