/**
 * The one storage interface every backend implements (local directory, Synapse/Filecoin,
 * replicated set). Pieces are addressed by their PieceCID v2 (FRC-0069) string.
 */
export interface PutOptions {
  /** Called with bytes uploaded so far, for progress bars. */
  onProgress?: (uploadedBytes: number, totalBytes: number) => void;
  /** Abort the upload. */
  signal?: AbortSignal;
  /** Free-form metadata a backend may attach (e.g. Synapse piece metadata). */
  metadata?: Record<string, string>;
}

export interface PutResult {
  /** PieceCID v2 string of the stored bytes. */
  pieceCid: string;
  /** Byte size of the stored bytes. */
  size: number;
  /** True when the backend already held these bytes (storing twice is a no-op). */
  existed: boolean;
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
}

export class PieceNotFoundError extends Error {
  readonly pieceCid: string;
  readonly backend: string;
  constructor(pieceCid: string, backend: string) {
    super(`piece ${pieceCid} not found on ${backend}`);
    this.name = "PieceNotFoundError";
    this.pieceCid = pieceCid;
    this.backend = backend;
  }
}
