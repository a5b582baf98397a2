/**
 * PieceCID helpers shared by every backend. PieceCID v2 (FRC-0069) commits to both the
 * data (CommP) and its raw byte size, so a piece's size is known from its CID alone.
 */
import * as Piece from "@filoz/synapse-core/piece";
import { pieceCidSync } from "../piece/index.ts";
import {
  InvalidPieceCidError,
  MAX_PIECE_BYTES,
  MIN_PIECE_BYTES,
  PieceIntegrityError,
  PieceSizeError,
  RangeNotSatisfiableError,
} from "./types.ts";
import type { ByteRange } from "./types.ts";

/** Compute the PieceCID v2 string of `bytes` (lib/piece: native SHA extensions + threads, or portable JS). */
export function computePieceCid(bytes: Uint8Array): string {
  return pieceCidSync(bytes);
}

/** Return the canonical string form of a PieceCID v2, or throw InvalidPieceCidError. */
export function normalizePieceCid(pieceCid: string): string {
  const parsed = Piece.asPieceCID(pieceCid);
  if (parsed == null) throw new InvalidPieceCidError(pieceCid);
  return parsed.toString();
}

/** True when `value` parses as a PieceCID v2. */
export function isPieceCid(value: string): boolean {
  return Piece.asPieceCID(value) != null;
}

/** Raw byte size encoded in a PieceCID v2. */
export function pieceSize(pieceCid: string): number {
  const parsed = Piece.asPieceCID(pieceCid);
  if (parsed == null) throw new InvalidPieceCidError(pieceCid);
  return Piece.getSizeFromPieceCID(parsed);
}

/** Throw PieceSizeError unless `size` is within the Synapse upload limits. */
export function assertPieceSize(size: number): void {
  if (size < MIN_PIECE_BYTES || size > MAX_PIECE_BYTES) throw new PieceSizeError(size);
}

/** Recompute the PieceCID of `bytes` and throw PieceIntegrityError if it differs. */
export function verifyPiece(bytes: Uint8Array, pieceCid: string, backend: string): void {
  // Size is part of the CID: a cheap length check rejects truncation without hashing.
  if (bytes.length !== pieceSize(pieceCid)) {
    throw new PieceIntegrityError(pieceCid, backend, `${bytes.length} bytes`);
  }
  const actual = computePieceCid(bytes);
  if (actual !== pieceCid) throw new PieceIntegrityError(pieceCid, backend, actual);
}

/** Resolve an inclusive range against a size; throws RangeNotSatisfiableError when outside. */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } {
  const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
  if (!Number.isInteger(range.start) || range.start < 0 || range.start >= size || end < range.start) {
    throw new RangeNotSatisfiableError(range, size);
  }
  return { start: range.start, end };
}

/** Slice a whole piece down to an optional inclusive range (copy-free view). */
export function sliceRange(bytes: Uint8Array, range?: ByteRange): Uint8Array {
  if (range === undefined) return bytes;
  const { start, end } = resolveRange(range, bytes.length);
  return bytes.subarray(start, end + 1);
}

/** PieceCID of `bytes`: the caller's precomputed value (size-checked) or a fresh hash. */
export function pieceCidOf(bytes: Uint8Array, precomputed?: string): string {
  if (precomputed === undefined) return computePieceCid(bytes);
  const cid = normalizePieceCid(precomputed);
  // The CID encodes the size, so a mismatched hint is caught without hashing.
  if (pieceSize(cid) !== bytes.length) {
    throw new PieceIntegrityError(cid, "caller", `${bytes.length} bytes`);
  }
  return cid;
}
