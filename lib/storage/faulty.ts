/**
 * Fault injection for tests (storage, CLI, replication): wraps a PieceStore and makes a
 * deterministic, seeded fraction of operations fail, go missing or return corrupted bytes.
 */
import { PieceNotFoundError } from "./types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "./types.ts";
import { StreamVaultError } from "../errors.ts";

export interface FaultOptions {
  /** Probability [0,1] that a put() throws before writing anything. */
  failWriteRate?: number;
  /** Probability that a get() throws a transient error. */
  failReadRate?: number;
  /** Probability that a get() returns bytes with one bit flipped. */
  corruptReadRate?: number;
  /** Probability that a get() reports the piece as missing. */
  missingReadRate?: number;
  /** PRNG seed: the same seed gives the same fault sequence. Default 1. */
  seed?: number;
  /** Optional fixed delay per operation, in ms. */
  latencyMs?: number;
}

/** Error thrown by injected faults (so tests can tell them from real bugs). */
export class InjectedFaultError extends StreamVaultError {
  readonly op: string;
  constructor(op: string, backend: string) {
    super("unavailable", `injected ${op} fault on ${backend}`);
    this.name = "InjectedFaultError";
    this.op = op;
  }
}

export interface FaultyStore extends PieceStore {
  readonly inner: PieceStore;
  /** Counts of injected faults, for assertions. */
  readonly injected: { writes: number; reads: number; corruptions: number; missing: number };
}

/** mulberry32: tiny, fast, well-distributed 32-bit PRNG; deterministic for a given seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Wrap `inner` so that operations fail at the given rates. The wrapper never claims
 * `verifiesReads`, so replication layers always re-hash what it returns.
 */
export function faultyStore(inner: PieceStore, options: FaultOptions = {}): FaultyStore {
  const rand = mulberry32(options.seed ?? 1);
  const name = `faulty(${inner.name})`;
  const injected = { writes: 0, reads: 0, corruptions: 0, missing: 0 };
  const hit = (rate: number | undefined) => rate !== undefined && rate > 0 && rand() < rate;
  const delay = () =>
    options.latencyMs ? new Promise<void>((r) => setTimeout(r, options.latencyMs)) : Promise.resolve();

  const store: FaultyStore = {
    name,
    inner,
    injected,
    async put(bytes: Uint8Array, opts?: PutOptions): Promise<PutResult> {
      await delay();
      if (hit(options.failWriteRate)) {
        injected.writes++;
        throw new InjectedFaultError("write", name);
      }
      return inner.put(bytes, opts);
    },
    async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
      await delay();
      // Draw all three every call so one rate does not shift the others' sequence.
      const fail = hit(options.failReadRate);
      const missing = hit(options.missingReadRate);
      const corrupt = hit(options.corruptReadRate);
      if (fail) {
        injected.reads++;
        throw new InjectedFaultError("read", name);
      }
      if (missing) {
        injected.missing++;
        throw new PieceNotFoundError(pieceCid, name);
      }
      const bytes = await inner.get(pieceCid, range);
      if (!corrupt || bytes.length === 0) return bytes;
      injected.corruptions++;
      const copy = bytes.slice();
      copy[Math.floor(rand() * copy.length)] ^= 0x01;
      return copy;
    },
    has: (pieceCid: string) => inner.has(pieceCid),
  };
  if (inner.urlFor) store.urlFor = (cid: string) => inner.urlFor?.(cid);
  return store;
}
