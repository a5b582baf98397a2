/**
 * Per-backend storage statistics: an instrumenting PieceStore wrapper counts pieces and bytes
 * written, reads, failures and read latency; StoreSet adds repairs and breaker state. Counters are
 * persisted to a JSON file (default `<dataDir>.stats.json`, beside the piece directory: tools that list
 * the pieces see only pieces) so `streamvault storage status` and
 * `/api/storage/status` see what the uploader and the web server did.
 *
 * Persistence merges deltas into the file (read, add, write to a temp file, rename), so several
 * processes over one data directory add up; two flushes racing across processes can lose one
 * flush's deltas, which is acceptable for operational counters.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { PieceNotFoundError } from "./types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "./types.ts";
import { hasErrorCode } from "../errors.ts";

export type BreakerState = "closed" | "open" | "half-open" | "isolated";

/** Counters of one backend (persisted form). */
export interface BackendCounters {
  piecesWritten: number;
  bytesWritten: number;
  reads: number;
  bytesRead: number;
  /** reads that found no copy (not failures: the piece may simply live elsewhere) */
  misses: number;
  /** failed writes and reads, timeouts and corrupt copies */
  failures: number;
  /** copies re-made on this backend from a good copy elsewhere */
  repairs: number;
  repairFailures: number;
  breaker: BreakerState;
  /** most recent read latencies, ms (bounded reservoir for p50/p99) */
  latencyMs: number[];
}

export interface StatsFile {
  version: 1;
  updatedAt: string;
  backends: Record<string, BackendCounters>;
}

/** One backend's row of `storageStatus()`: its counters, with latency percentiles instead of samples. */
export interface BackendStatus extends Omit<BackendCounters, "latencyMs"> {
  backend: string;
  /** read latency percentiles over the recent samples, ms; null before the first read */
  readLatencyMs: { p50: number | null; p99: number | null; samples: number };
}

export interface StorageStatusReport {
  file: string;
  updatedAt: string | null;
  backends: BackendStatus[];
}

/** Latency samples kept per backend. */
export const LATENCY_SAMPLES = 1000;

type NumericKey = Exclude<keyof BackendCounters, "breaker" | "latencyMs">;
const NUMERIC: NumericKey[] = ["piecesWritten", "bytesWritten", "reads", "bytesRead", "misses", "failures", "repairs", "repairFailures"];

function emptyCounters(): BackendCounters {
  return { piecesWritten: 0, bytesWritten: 0, reads: 0, bytesRead: 0, misses: 0, failures: 0, repairs: 0, repairFailures: 0, breaker: "closed", latencyMs: [] };
}

/** Default stats file of a piece directory: a sibling file, e.g. `.streamvault/pieces.stats.json`. */
export function statsFileFor(dataDir: string): string {
  return `${resolve(dataDir)}.stats.json`;
}

/** In-process counters with debounced persistence to `file` (no file: memory only). */
export class StorageStats {
  readonly file: string | undefined;
  /** Totals seen by this process (what tests and the bench assert on). */
  readonly #totals = new Map<string, BackendCounters>();
  /** Not yet written to the file. */
  #pending = new Map<string, BackendCounters>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  readonly #flushMs: number;

  constructor(options: { file?: string; flushMs?: number } = {}) {
    this.file = options.file;
    this.#flushMs = options.flushMs ?? 1000;
  }

  #entries(backend: string): [BackendCounters, BackendCounters] {
    let t = this.#totals.get(backend);
    if (!t) this.#totals.set(backend, (t = emptyCounters()));
    let p = this.#pending.get(backend);
    if (!p) this.#pending.set(backend, (p = emptyCounters()));
    return [t, p];
  }

  add(backend: string, key: NumericKey, n = 1): void {
    for (const c of this.#entries(backend)) c[key] += n;
    this.#schedule();
  }

  latency(backend: string, ms: number): void {
    for (const c of this.#entries(backend)) {
      c.latencyMs.push(Math.round(ms * 100) / 100);
      if (c.latencyMs.length > LATENCY_SAMPLES) c.latencyMs.splice(0, c.latencyMs.length - LATENCY_SAMPLES);
    }
    this.#schedule();
  }

  breaker(backend: string, state: BreakerState): void {
    for (const c of this.#entries(backend)) c.breaker = state;
    this.#schedule();
  }

  /** This process's counters of one backend. */
  get(backend: string): BackendCounters {
    return structuredClone(this.#totals.get(backend) ?? emptyCounters());
  }

  /** This process's counters as a status report (not merged with the file). */
  snapshot(): BackendStatus[] {
    return [...this.#totals].map(([name, c]) => toStatus(name, c));
  }

  #exitHook = false;

  #schedule(): void {
    if (!this.file || this.#timer) return;
    if (!this.#exitHook) {
      // The flush timer is unref'd (never keeps a CLI alive); write what is left when the loop drains.
      this.#exitHook = true;
      process.on("beforeExit", () => void this.flush().catch(() => {}));
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush().catch(() => {});
    }, this.#flushMs);
    this.#timer.unref();
  }

  /** Merge pending counters into the file now. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const file = this.file;
    if (!file) return Promise.resolve();
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const pending = this.#pending;
      this.#pending = new Map();
      try {
        const data = await readStatsFile(file);
        for (const [name, delta] of pending) {
          const c = (data.backends[name] ??= emptyCounters());
          for (const k of NUMERIC) c[k] = (c[k] ?? 0) + delta[k];
          c.breaker = delta.breaker;
          c.latencyMs = [...(c.latencyMs ?? []), ...delta.latencyMs].slice(-LATENCY_SAMPLES);
        }
        data.updatedAt = new Date().toISOString();
        await mkdir(dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify(data));
        await rename(tmp, file);
      } catch (err) {
        // Keep the deltas for the next flush rather than losing them.
        for (const [name, delta] of pending) {
          const [, p] = this.#entries(name);
          for (const k of NUMERIC) p[k] += delta[k];
          p.latencyMs.unshift(...delta.latencyMs);
        }
        throw err;
      }
    });
    return this.#flushing;
  }
}

async function readStatsFile(file: string): Promise<StatsFile> {
  try {
    const data = JSON.parse(await readFile(file, "utf8")) as StatsFile;
    if (data && data.version === 1 && typeof data.backends === "object") return data;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" && !(err instanceof SyntaxError)) throw err;
  }
  return { version: 1, updatedAt: new Date(0).toISOString(), backends: {} };
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function toStatus(backend: string, c: BackendCounters): BackendStatus {
  const sorted = [...(c.latencyMs ?? [])].sort((a, b) => a - b);
  return {
    backend,
    piecesWritten: c.piecesWritten,
    bytesWritten: c.bytesWritten,
    reads: c.reads,
    bytesRead: c.bytesRead,
    misses: c.misses,
    failures: c.failures,
    repairs: c.repairs,
    repairFailures: c.repairFailures,
    breaker: c.breaker,
    readLatencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: sorted.length },
  };
}

/** p50/p99 of raw samples (bench). */
export function latencyPercentiles(samples: number[]): { p50: number | null; p99: number | null } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** One process-wide StorageStats per stats file, so the store and the status endpoint share counters. */
const shared = new Map<string, StorageStats>();
export function sharedStats(file: string): StorageStats {
  let s = shared.get(file);
  if (!s) shared.set(file, (s = new StorageStats({ file })));
  return s;
}

/**
 * Per-backend storage status as plain JSON: the persisted counters of `file` (default
 * `<dataDir>.stats.json`), after flushing this process's pending counters for that file.
 */
export async function storageStatus(options: { dataDir?: string; file?: string }): Promise<StorageStatusReport> {
  const file = options.file ?? (options.dataDir !== undefined ? statsFileFor(options.dataDir) : undefined);
  if (!file) throw new Error("storageStatus needs dataDir or file");
  await shared.get(file)?.flush();
  const data = await readStatsFile(file);
  const updatedAt = data.updatedAt === new Date(0).toISOString() ? null : data.updatedAt;
  return {
    file,
    updatedAt,
    backends: Object.entries(data.backends)
      .map(([name, c]) => toStatus(name, { ...emptyCounters(), ...c }))
      .sort((a, b) => a.backend.localeCompare(b.backend)),
  };
}

/**
 * Wrap a backend so every put/get/has is counted under `name` (default store.name). Other members
 * (LocalStore's `dir`, `pathFor`, `createReadStream`) pass through, bound to the real store.
 */
export function instrumentStore<S extends PieceStore>(store: S, stats: StorageStats, name: string = store.name): S {
  const put = async (bytes: Uint8Array, options?: PutOptions): Promise<PutResult> => {
    try {
      const r = await store.put(bytes, options);
      if (!r.existed) {
        stats.add(name, "piecesWritten");
        stats.add(name, "bytesWritten", r.size);
      }
      return r;
    } catch (err) {
      if (!(err instanceof Error && err.name === "AbortError")) stats.add(name, "failures");
      throw err;
    }
  };
  const get = async (pieceCid: string, range?: ByteRange): Promise<Uint8Array> => {
    const t0 = performance.now();
    try {
      const bytes = await store.get(pieceCid, range);
      stats.latency(name, performance.now() - t0);
      stats.add(name, "reads");
      stats.add(name, "bytesRead", bytes.length);
      return bytes;
    } catch (err) {
      if (err instanceof PieceNotFoundError) stats.add(name, "misses");
      else if (!hasErrorCode(err, "range_not_satisfiable")) stats.add(name, "failures");
      throw err;
    }
  };
  const createReadStream = (store as { createReadStream?: (cid: string, range?: ByteRange) => Promise<unknown> }).createReadStream;
  const stream =
    createReadStream &&
    (async (pieceCid: string, range?: ByteRange) => {
      const t0 = performance.now();
      try {
        const s = await createReadStream.call(store, pieceCid, range);
        // First-byte latency: the stream is open, bytes follow at disk speed.
        stats.latency(name, performance.now() - t0);
        stats.add(name, "reads");
        return s;
      } catch (err) {
        stats.add(name, err instanceof PieceNotFoundError ? "misses" : "failures");
        throw err;
      }
    });
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "put") return put;
      if (prop === "get") return get;
      if (prop === "createReadStream" && stream) return stream;
      if (prop === "instrumented") return true;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
