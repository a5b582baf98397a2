/**
 * PieceCID in the browser (or any JavaScript runtime without Node's APIs): the portable path on the
 * calling thread. Same results as the Node entry point (lib/piece/index.ts).
 */
import { pieceCidOfBytesSync, pieceCidOfChunks, type ByteSource, type ChunkRooter, type PieceCidInputOptions } from "./core.ts";
import { chunkRoots } from "./portable/roots.ts";

export const portableRooter: ChunkRooter = {
  name: "portable",
  sync: chunkRoots,
  async: async (data, chunkHeight) => chunkRoots(data, chunkHeight),
};

/** PieceCID v2 string of `bytes`. */
export function pieceCidOf(bytes: Uint8Array, options?: PieceCidInputOptions): string {
  return pieceCidOfBytesSync(bytes, portableRooter, options);
}

/** PieceCID v2 string of a stream (e.g. `file.stream()` of a browser File). */
export function pieceCidOfStream(source: ByteSource, options?: PieceCidInputOptions): Promise<string> {
  return pieceCidOfChunks(source, portableRooter, options);
}

export { PieceInputError } from "./errors.ts";
export { MAX_PIECE_PAYLOAD, MIN_PIECE_PAYLOAD, pieceGeometry } from "./tree.ts";
