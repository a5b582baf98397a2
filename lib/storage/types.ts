/**
 * The one storage interface every backend implements (local directory, Synapse/Filecoin,
 * replicated set). Pieces are addressed by their PieceCID v2 (FRC-0069) string.
 */
import { StreamVaultError } from "../errors.ts";
export interface PutOptions {
  /** Called with bytes uploaded so far, for progress bars. */
  onProgress?: (uploadedBytes: number, totalBytes: number) => void;
  /** Abort the upload. */
  signal?: AbortSignal;
  /** Free-form metadata a backend may attach (e.g. Synapse piece metadata). */
  metadata?: Record<string, string>;
  /**
   * PieceCID of these exact bytes when the caller already computed it (hashing is slow:
   * ~10-15 MiB/s). Only pass a value you computed yourself; Synapse providers re-verify it.
   */
  pieceCid?: string;
  /**
   * Stores over several backends (StoreSet): names of the backends that receive a copy, e.g.
   * `["synapse", "s3"]` (the placement policy decides). Default: every writable backend of the set.
   * Single backends ignore it.
   */
  backends?: string[];
}

export interface PutResult {
  /** PieceCID v2 string of the stored bytes. */
  pieceCid: string;
  /** Byte size of the stored bytes. */
  size: number;
  /** True when the backend already held these bytes (storing twice is a no-op). */
  existed: boolean;
  /**
   * Backend-specific address of the stored copy, when the backend has one beyond the PieceCID:
   * `ipfs://<root CID>` for IPFS (a dag-pb root, not the PieceCID), `s3://<bucket>/<key>` for S3,
   * a magnet/infohash for WebTorrent. Recorded in the manifest as a mirror.
   */
  location?: string;
  /** Set by stores over several backends: every copy written by this put, one entry per backend. */
  mirrors?: PieceMirror[];
}

/** Where one copy of a piece lives. */
export interface PieceMirror {
  /** PieceStore.name of the backend holding the copy. */
  backend: string;
  /** PutResult.location of that copy, when the backend reports one. */
  location?: string;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive; omitted = to the end. */
  end?: number;
}

export interface PieceStore {
  /** Short backend name for logs and reports, e.g. "local", "synapse". */
  readonly name: string;
  /** Store bytes; resolves with their PieceCID. Idempotent. */
  put(bytes: Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** Read a whole piece (or a byte range). Throws PieceNotFoundError when absent. */
  get(pieceCid: string, range?: ByteRange): Promise<Uint8Array>;
  /** Whether the backend holds the piece. */
  has(pieceCid: string): Promise<boolean>;
  /** A URL a browser can fetch the piece from, when the backend has one. */
  urlFor?(pieceCid: string): string | undefined;
  /** True when get() already checks bytes against the PieceCID (wrappers may skip re-hashing). */
  readonly verifiesReads?: boolean;
  /** Release sockets, peers and child processes (IPFS node, torrent client). Idempotent. */
  close?(): Promise<void>;
  /**
   * Drop this backend's copy of a piece (placement removing a copy, repair replacing a corrupt one).
   * Resolves true when a copy was removed, false when there was none. Optional: not every network can delete.
   */
  delete?(pieceCid: string): Promise<boolean>;
}

export class PieceNotFoundError extends StreamVaultError {
  readonly pieceCid: string;
  readonly backend: string;
  constructor(pieceCid: string, backend: string) {
    super("not_found", `piece ${pieceCid} not found on ${backend}`);
    this.name = "PieceNotFoundError";
    this.pieceCid = pieceCid;
    this.backend = backend;
  }
}

/** Smallest piece Synapse accepts (bytes). Every backend enforces it so pieces stay portable. */
export const MIN_PIECE_BYTES = 127;
/** Largest piece Synapse accepts (bytes): 1 GiB padded minus Fr32 expansion. */
export const MAX_PIECE_BYTES = 1_065_353_216;

/** Thrown by put() when the payload is outside [MIN_PIECE_BYTES, MAX_PIECE_BYTES]. */
export class PieceSizeError extends StreamVaultError {
  readonly size: number;
  constructor(size: number) {
    super("bad_input", 
      `piece of ${size} bytes is outside the allowed range ${MIN_PIECE_BYTES}..${MAX_PIECE_BYTES} bytes` +
        (size < MIN_PIECE_BYTES ? " (pad small payloads)" : " (split large media into several pieces)"),
    );
    this.name = "PieceSizeError";
    this.size = size;
  }
}

/** Thrown when bytes read back do not hash to the PieceCID they were asked for. */
export class PieceIntegrityError extends StreamVaultError {
  readonly pieceCid: string;
  readonly actualPieceCid: string | undefined;
  readonly backend: string;
  constructor(pieceCid: string, backend: string, actualPieceCid?: string) {
    super("integrity", `piece ${pieceCid} from ${backend} failed verification${actualPieceCid ? ` (got ${actualPieceCid})` : ""}`);
    this.name = "PieceIntegrityError";
    this.pieceCid = pieceCid;
    this.backend = backend;
    this.actualPieceCid = actualPieceCid;
  }
}

/** Thrown for a byte range that lies outside the piece (HTTP 416 at the gateway). */
export class RangeNotSatisfiableError extends StreamVaultError {
  readonly size: number;
  constructor(range: ByteRange, size: number) {
    super("range_not_satisfiable", `range ${range.start}-${range.end ?? ""} not satisfiable for piece of ${size} bytes`);
    this.name = "RangeNotSatisfiableError";
    this.size = size;
  }
}

/** Thrown for strings that are not PieceCID v2. */
export class InvalidPieceCidError extends StreamVaultError {
  constructor(value: string) {
    super("bad_input", `not a PieceCID v2: ${JSON.stringify(value)}`);
    this.name = "InvalidPieceCidError";
  }
}

/** Errors that say something about the piece or the request, not about the backend's health. */
export function isPieceError(err: unknown): boolean {
  return (
    err instanceof PieceNotFoundError ||
    err instanceof PieceSizeError ||
    err instanceof InvalidPieceCidError ||
    err instanceof RangeNotSatisfiableError ||
    (err instanceof Error && err.name === "AbortError")
  );
}
