/**
 * ReplicatedStore: one PieceStore over several backends.
 *
 * - put() writes to every `writeTo` backend in parallel (each with exponential-backoff
 *   retries) and succeeds when at least `minWrites` copies are durable.
 * - get() tries `readFrom` in order (e.g. CDN -> provider -> local), recomputes the PieceCID
 *   of what it got, and on a missing/corrupt/failed copy reports a fault and moves on.
 * - Storing the same bytes twice is a no-op on every backend (each put is idempotent).
 */
import pRetry, { AbortError } from "p-retry";
import { InvalidPieceCidError, PieceIntegrityError, PieceNotFoundError, PieceSizeError, RangeNotSatisfiableError, isPieceError } from "./types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "./types.ts";
import { normalizePieceCid, pieceCidOf, assertPieceSize, sliceRange, verifyPiece } from "./piece.ts";
import { StreamVaultError } from "../errors.ts";

export type FaultKind = "write-failed" | "read-failed" | "missing" | "corrupt";

export interface StorageFault {
  kind: FaultKind;
  /** Backend name. */
  backend: string;
  pieceCid: string;
  error: unknown;
}

export interface RetryOptions {
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** First backoff delay in ms. Default 200. */
  minTimeout?: number;
  /** Cap on a single backoff delay in ms. Default 5000. */
  maxTimeout?: number;
  /** Backoff multiplier. Default 2. */
  factor?: number;
}

export interface ReplicatedStoreOptions {
  /** Backends that receive a copy of every piece. */
  writeTo: PieceStore[];
  /** Read fallback order; default `writeTo`. May include read-only views (e.g. a CDN). */
  readFrom?: PieceStore[];
  /** Copies that must succeed for put() to resolve. Default: all of `writeTo`. */
  minWrites?: number;
  retry?: RetryOptions;
  /** Called for every fault (failed write, missing or corrupt copy, failed read). */
  onFault?: (fault: StorageFault) => void;
  name?: string;
}

/** Thrown when too few copies could be written, or no backend could serve a piece. */
export class ReplicationError extends StreamVaultError {
  readonly pieceCid: string;
  readonly faults: StorageFault[];
  constructor(message: string, pieceCid: string, faults: StorageFault[]) {
    super("unavailable", `${message}: ${faults.map((f) => `${f.backend} ${f.kind} (${errMessage(f.error)})`).join("; ")}`);
    this.name = "ReplicationError";
    this.pieceCid = pieceCid;
    this.faults = faults;
  }
}

/** Errors that retrying the same backend cannot fix. */
function isPermanent(err: unknown): boolean {
  return isPieceError(err) || err instanceof PieceIntegrityError;
}

/** PieceStore that replicates writes and verifies reads across backends. */
export class ReplicatedStore implements PieceStore {
  readonly name: string;
  readonly verifiesReads = true;
  readonly writeTo: PieceStore[];
  readonly readFrom: PieceStore[];
  readonly minWrites: number;
  readonly #retry: Required<RetryOptions>;
  readonly #onFault: ((fault: StorageFault) => void) | undefined;

  constructor(options: ReplicatedStoreOptions) {
    if (options.writeTo.length === 0) throw new Error("ReplicatedStore needs at least one writeTo backend");
    this.writeTo = options.writeTo;
    this.readFrom = options.readFrom ?? options.writeTo;
    this.minWrites = options.minWrites ?? options.writeTo.length;
    if (this.minWrites < 1 || this.minWrites > this.writeTo.length) {
      throw new Error(`minWrites must be between 1 and ${this.writeTo.length}`);
    }
    this.#retry = { retries: 3, minTimeout: 200, maxTimeout: 5000, factor: 2, ...options.retry };
    this.#onFault = options.onFault;
    this.name = options.name ?? `replicated(${this.writeTo.map((s) => s.name).join(",")})`;
  }

  /** Write a copy to every backend; resolves once `minWrites` copies are durable. */
  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    assertPieceSize(bytes.length);
    // Hash once here and hand the CID down, instead of once per backend.
    const pieceCid = pieceCidOf(bytes, options.pieceCid);
    const size = bytes.length;
    const progress = new Array<number>(this.writeTo.length).fill(0);
    const report = () => options.onProgress?.(Math.floor(progress.reduce((a, b) => a + b, 0) / progress.length), size);

    const settled = await Promise.allSettled(
      this.writeTo.map((store, i) =>
        this.#withRetry(
          () =>
            store.put(bytes, {
              ...options,
              pieceCid,
              onProgress: (done) => {
                progress[i] = done;
                report();
              },
            }),
          options.signal,
        ),
      ),
    );
    const faults: StorageFault[] = [];
    let ok = 0;
    let allExisted = true;
    settled.forEach((r, i) => {
      if (r.status === "fulfilled") {
        ok++;
        allExisted &&= r.value.existed;
        if (r.value.pieceCid !== pieceCid) {
          faults.push(this.#fault("write-failed", this.writeTo[i], pieceCid, new PieceIntegrityError(pieceCid, this.writeTo[i].name, r.value.pieceCid)));
          ok--;
        }
      } else {
        faults.push(this.#fault("write-failed", this.writeTo[i], pieceCid, r.reason));
      }
    });
    if (ok < this.minWrites) {
      throw new ReplicationError(`only ${ok}/${this.writeTo.length} copies written (need ${this.minWrites})`, pieceCid, faults);
    }
    options.onProgress?.(size, size);
    return { pieceCid, size, existed: allExisted && faults.length === 0 };
  }

  /** Read from the first backend that returns bytes matching the PieceCID. */
  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    const cid = normalizePieceCid(pieceCid);
    const faults: StorageFault[] = [];
    // Missing copies are only faults once we know the piece exists somewhere.
    const missing: StorageFault[] = [];
    for (const store of this.readFrom) {
      try {
        let bytes: Uint8Array;
        if (store.verifiesReads) {
          bytes = await this.#withRetry(() => store.get(cid, range));
        } else {
          // Verification needs the whole piece; the range is cut after hashing.
          const whole = await this.#withRetry(() => store.get(cid));
          verifyPiece(whole, cid, store.name);
          bytes = sliceRange(whole, range);
        }
        for (const f of missing) this.#onFault?.(f);
        return bytes;
      } catch (err) {
        if (err instanceof RangeNotSatisfiableError) throw err;
        const kind: FaultKind =
          err instanceof PieceNotFoundError ? "missing" : err instanceof PieceIntegrityError ? "corrupt" : "read-failed";
        const fault: StorageFault = { kind, backend: store.name, pieceCid: cid, error: err };
        faults.push(fault);
        if (kind === "missing") missing.push(fault);
        else this.#onFault?.(fault);
      }
    }
    if (faults.every((f) => f.kind === "missing")) throw new PieceNotFoundError(cid, this.name);
    throw new ReplicationError(`no backend could serve ${cid}`, cid, faults);
  }

  /** True when any read backend has the piece. */
  async has(pieceCid: string): Promise<boolean> {
    const cid = normalizePieceCid(pieceCid);
    for (const store of this.readFrom) {
      try {
        if (await store.has(cid)) return true;
      } catch (err) {
        this.#onFault?.({ kind: "read-failed", backend: store.name, pieceCid: cid, error: err });
      }
    }
    return false;
  }

  /** URL from the first read backend that has one (CDN first when ordered so). */
  urlFor(pieceCid: string): string | undefined {
    for (const store of this.readFrom) {
      const url = store.urlFor?.(pieceCid);
      if (url) return url;
    }
    return undefined;
  }

  #fault(kind: FaultKind, store: PieceStore, pieceCid: string, error: unknown): StorageFault {
    const fault = { kind, backend: store.name, pieceCid, error };
    this.#onFault?.(fault);
    return fault;
  }

  #withRetry<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return pRetry(
      async () => {
        try {
          return await fn();
        } catch (err) {
          if (isPermanent(err)) throw new AbortError(err as Error);
          throw err;
        }
      },
      { ...this.#retry, signal },
    ).catch((err: unknown) => {
      // p-retry wraps permanent errors; callers want the original type.
      throw err instanceof AbortError ? err.originalError : err;
    });
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
