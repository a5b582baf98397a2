/**
 * PieceCID v2 (FRC-0069) of bytes, streams and files: the same values as `@filoz/synapse-core/piece`,
 * at close to the machine's SHA-256 speed.
 *
 * Two paths behind one API:
 * - native: a C addon (lib/piece/native, built at install by node-gyp) using the CPU's SHA extensions
 *   and native threads;
 * - portable: plain JavaScript (also what lib/piece/browser.ts runs in browsers), on worker threads here.
 * The native path is used when it loads; STREAMVAULT_PIECE_IMPL=native|portable forces one (tests,
 * benchmarks), STREAMVAULT_PIECE_THREADS sets the thread count (default: all cores).
 */
import { createReadStream } from "node:fs";
import { availableParallelism } from "node:os";
import { pieceCidOfBytes, pieceCidOfBytesSync, pieceCidOfChunks, type ByteSource, type ChunkRooter, type PieceCidInputOptions } from "./core.ts";
import { NativePieceUnavailableError } from "./errors.ts";
import { nativeRooter, nativeUnavailableReason } from "./native.ts";
import { portableWorkerRooter } from "./portable/workers.ts";

export type PiecePath = "native" | "portable";

export interface PieceCidOptions extends PieceCidInputOptions {
  /** Force a path (default: STREAMVAULT_PIECE_IMPL, else native when available). */
  path?: PiecePath;
  /** Threads to spread one piece over (default: STREAMVAULT_PIECE_THREADS, else all cores). */
  threads?: number;
}

function configuredPath(): PiecePath | undefined {
  const value = process.env.STREAMVAULT_PIECE_IMPL;
  if (value === undefined || value === "" || value === "auto") return undefined;
  if (value === "native" || value === "portable") return value;
  throw new Error(`STREAMVAULT_PIECE_IMPL must be "native", "portable" or "auto", not "${value}"`);
}

function configuredThreads(): number {
  const value = process.env.STREAMVAULT_PIECE_THREADS;
  const threads = value === undefined || value === "" ? availableParallelism() : Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new Error(`STREAMVAULT_PIECE_THREADS must be an integer from 1 to 256, not "${value}"`);
  }
  return threads;
}

/** The rooter a call will use, with a human-readable description of it. */
export function pieceRooter(options: Pick<PieceCidOptions, "path" | "threads"> = {}): ChunkRooter & { detail: string } {
  const path = options.path ?? configuredPath();
  const threads = options.threads ?? configuredThreads();
  if (path !== "portable") {
    const native = nativeRooter(threads);
    if (native !== undefined) return native;
    if (path === "native") throw new NativePieceUnavailableError(nativeUnavailableReason() ?? "unknown");
  }
  return portableWorkerRooter(threads);
}

/** PieceCID v2 string of `bytes`, blocking the calling thread (native threads still help). */
export function pieceCidSync(bytes: Uint8Array, options: PieceCidOptions = {}): string {
  return pieceCidOfBytesSync(bytes, pieceRooter(options), options);
}

/** PieceCID v2 string of `bytes`, hashed off the event loop. The bytes must not change until it settles. */
export function pieceCid(bytes: Uint8Array, options: PieceCidOptions = {}): Promise<string> {
  return pieceCidOfBytes(bytes, pieceRooter(options), options);
}

/** PieceCID v2 string of a stream (Node Readable, web ReadableStream, any async iterable of bytes). */
export function pieceCidOfStream(source: ByteSource, options: PieceCidOptions = {}): Promise<string> {
  return pieceCidOfChunks(source, pieceRooter(options), options);
}

/** PieceCID v2 string of a file, read in 4 MiB blocks (memory stays bounded for any size). */
export function pieceCidOfFile(path: string, options: PieceCidOptions = {}): Promise<string> {
  return pieceCidOfStream(createReadStream(path, { highWaterMark: 4 << 20 }), options);
}

export { nativeUnavailableReason } from "./native.ts";
export { NativePieceUnavailableError, PieceInputError } from "./errors.ts";
export { MAX_PIECE_PAYLOAD, MIN_PIECE_PAYLOAD, pieceGeometry } from "./tree.ts";
