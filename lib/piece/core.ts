/**
 * The PieceCID driver shared by every path: size checks, padding, chunking, streaming with bounded
 * memory, folding chunk roots into the piece root and the CID. A path only supplies a {@link ChunkRooter}
 * (native addon, portable JavaScript, portable JavaScript on worker threads). Browser-safe.
 */
import { PieceInputError } from "./errors.ts";
import { foldRoots, MAX_PIECE_PAYLOAD, MIN_PIECE_PAYLOAD, pieceCidFromRoot, pieceGeometry, subtreePayloadBytes, type PieceGeometry } from "./tree.ts";

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

interface PreparedPiece {
  /** The payload, zero-padded to 127 bytes when the caller asked to pad. */
  data: Uint8Array;
  geometry: PieceGeometry;
  /** Height of the subtrees handed to the path: the whole tree for pieces of up to one chunk. */
  chunkHeight: number;
}

/** Checks the size (padding when asked) and plans the tree: throws PieceInputError outside the limits. */
function prepare(bytes: Uint8Array, options: PieceCidInputOptions): PreparedPiece {
  if (bytes.length > MAX_PIECE_PAYLOAD || (bytes.length < MIN_PIECE_PAYLOAD && !options.pad)) throw new PieceInputError(bytes.length);
  let data = bytes;
  if (bytes.length < MIN_PIECE_PAYLOAD) {
    data = new Uint8Array(MIN_PIECE_PAYLOAD);
    data.set(bytes);
  }
  const geometry = pieceGeometry(data.length);
  return { data, geometry, chunkHeight: Math.min(geometry.height, CHUNK_HEIGHT) };
}

/** The CID from the chunk roots, in order (folding is a no-op when one chunk is the whole tree). */
function cidFromChunkRoots(roots: readonly Uint8Array[], { geometry, chunkHeight }: Pick<PreparedPiece, "geometry" | "chunkHeight">): string {
  return pieceCidFromRoot(foldRoots(roots, chunkHeight, geometry.height), geometry);
}

/** PieceCID of whole bytes, on the calling thread(s). */
export function pieceCidOfBytesSync(bytes: Uint8Array, rooter: ChunkRooter, options: PieceCidInputOptions = {}): string {
  const piece = prepare(bytes, options);
  return cidFromChunkRoots([rooter.sync(piece.data, piece.chunkHeight)], piece);
}

/** PieceCID of whole bytes without blocking the caller's thread (where the path allows). */
export async function pieceCidOfBytes(bytes: Uint8Array, rooter: ChunkRooter, options: PieceCidInputOptions = {}): Promise<string> {
  const piece = prepare(bytes, options);
  return cidFromChunkRoots([await rooter.async(piece.data, piece.chunkHeight)], piece);
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
  if (filled > 0) roots.push(await rooter.async(rest, CHUNK_HEIGHT));
  return cidFromChunkRoots(roots, { geometry: pieceGeometry(total), chunkHeight: CHUNK_HEIGHT });
}
