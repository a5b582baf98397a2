/**
 * PieceCID v2 (FRC-0069) geometry and the small amount of tree work both paths share: where a payload's
 * tree ends (height, padding), zero-subtree roots, folding chunk roots into the piece root, and the CID
 * encoding. Pure JavaScript, usable in browsers.
 *
 * A payload is zero-padded to the next "127 x 2^k" size, fr32-expanded (every 127 bytes become four
 * 32-byte leaves of 254 bits each) and hashed as a binary tree with SHA-256 truncated to 254 bits. The
 * CID's multihash (0x1011) carries varint(padding) || height || root, so the CID also gives the size.
 */
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { varint } from "multiformats";
import { hashNode } from "./portable/sha256.ts";

/** Bytes of payload per fr32 quad (4 leaves of 254 bits). */
export const QUAD_BYTES = 127;
/** Smallest payload a storage provider accepts as a piece. */
export const MIN_PIECE_PAYLOAD = 127;
/** Largest payload of one piece (127/128 of 1 GiB), the Synapse upload limit. */
export const MAX_PIECE_PAYLOAD = 1_065_353_216;
/** multihash code fr32-sha2-256-trunc254-padded-binary-tree */
export const PIECE_MULTIHASH = 0x1011;
const RAW_CODEC = 0x55;

/** Payload bytes under a subtree of `height` (2^height leaves). */
export function subtreePayloadBytes(height: number): number {
  return QUAD_BYTES * 2 ** (height - 2);
}

export interface PieceGeometry {
  /** Tree height: log2 of the number of 32-byte leaves. */
  height: number;
  /** Zero bytes added to the payload to fill the tree. */
  padding: number;
}

/** Height and padding of the piece for a payload of `size` bytes (size >= 1). */
export function pieceGeometry(size: number): PieceGeometry {
  let height = 2;
  while (subtreePayloadBytes(height) < size) height++;
  return { height, padding: subtreePayloadBytes(height) - size };
}

/** ZERO[level] = root of an all-zero subtree of that height. */
const ZERO: Uint8Array[] = [new Uint8Array(32)];
export function zeroRoot(level: number): Uint8Array {
  while (ZERO.length <= level) {
    const below = ZERO[ZERO.length - 1]!;
    const pair = new Uint8Array(64);
    pair.set(below, 0);
    pair.set(below, 32);
    const node = new Uint8Array(32);
    hashNode(pair, 0, node, 0);
    ZERO.push(node);
  }
  return ZERO[level]!;
}

/**
 * Reduce `count` nodes at `level`, packed in `nodes` (32 bytes each, room for one more), to the root of
 * their zero-padded subtree of `height`. Works in place; returns the root (a view of `nodes`).
 */
export function reduceLevels(nodes: Uint8Array, count: number, level: number, height: number): Uint8Array {
  let n = count;
  for (let l = level; l < height; l++) {
    if (n & 1) {
      nodes.set(zeroRoot(l), 32 * n);
      n++;
    }
    const pairs = n >> 1;
    for (let i = 0; i < pairs; i++) hashNode(nodes, 64 * i, nodes, 32 * i);
    n = pairs;
  }
  return nodes.subarray(0, 32);
}

/** Fold packed chunk roots (32 bytes each, subtrees of `chunkHeight`, in order) into the root of a tree of `height`. */
export function foldRoots(chunkRoots: readonly Uint8Array[], chunkHeight: number, height: number): Uint8Array {
  const total = chunkRoots.reduce((sum, roots) => sum + roots.length, 0);
  const nodes = new Uint8Array(total + 32);
  let offset = 0;
  for (const roots of chunkRoots) {
    nodes.set(roots, offset);
    offset += roots.length;
  }
  return reduceLevels(nodes, offset / 32, chunkHeight, height).slice();
}

/** The PieceCID v2 string for a tree root. */
export function pieceCidFromRoot(root: Uint8Array, { height, padding }: PieceGeometry): string {
  const paddingLength = varint.encodingLength(padding);
  const digest = new Uint8Array(paddingLength + 1 + 32);
  varint.encodeTo(padding, digest, 0);
  digest[paddingLength] = height;
  digest.set(root, paddingLength + 1);
  return CID.createV1(RAW_CODEC, Digest.create(PIECE_MULTIHASH, digest)).toString();
}
