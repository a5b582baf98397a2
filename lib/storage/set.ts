/**
 * StoreSet: one PieceStore over a named set of backends (`STORAGE_BACKEND=synapse+s3+ipfs`).
 *
 * - put() writes to the backends `PutOptions.backends` names (the placement decides), default all,
 *   and returns every copy as `PutResult.mirrors`.
 * - get() tries the read stages in order (CDN -> Filecoin provider -> IPFS -> S3 -> P2P -> local by
 *   default), verifies every byte against the PieceCID, and never serves a corrupt copy.
 * - Each stage runs behind cockatiel policies: retry (transient errors), a circuit breaker (a
 *   failing backend is skipped for a cool-down, then probed half-open, then closed again) and a
 *   timeout (a slow backend gives way to the next one).
 * - Repair: a copy found missing or corrupt on a backend that should hold it is re-copied there from
 *   the good copy just read, in the background with bounded concurrency (cockatiel bulkhead).
 * - copy() / removeCopy() add or drop one backend's copy (the placement policy's moves).
 */
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
} from "cockatiel";
import type { CircuitBreakerPolicy, IPolicy } from "cockatiel";
import { InvalidPieceCidError, PieceIntegrityError, PieceNotFoundError, PieceSizeError, RangeNotSatisfiableError, isPieceError } from "./types.ts";
import type { ByteRange, PieceMirror, PieceStore, PutOptions, PutResult } from "./types.ts";
import { assertPieceSize, normalizePieceCid, pieceCidOf, sliceRange, verifyPiece } from "./piece.ts";
import { ReplicationError } from "./replicated.ts";
import type { FaultKind, StorageFault } from "./replicated.ts";
import type { ReadStage } from "./backends.ts";
import type { BreakerState, StorageStats } from "./stats.ts";

export interface StoreSetOptions {
  /** Write backends, each under its PieceStore.name (unique). */
  backends: PieceStore[];
  /** Read fallback order; default one stage per backend, in `backends` order. */
  readStages?: ReadStage[];
  /** Copies a put() must write. Default: every targeted backend. */
  minWrites?: number;
  breaker?: {
    /** Consecutive failures that open a backend's circuit. Default 5. */
    threshold?: number;
    /** Cool-down before a half-open probe, ms. Default 30 000. */
    halfOpenAfterMs?: number;
  };
  retry?: {
    /** Retries after the first attempt, transient errors only. Default 2. */
    retries?: number;
    initialDelayMs?: number;
    maxDelayMs?: number;
  };
  /** Per-attempt timeout of a read, ms (a slow backend yields to the next). Default 30 000. */
  readTimeoutMs?: number;
  /** Per-attempt timeout of a write, ms. Default 10 minutes (large pieces to remote networks). */
  writeTimeoutMs?: number;
  /** Background repair; false disables it. */
  repair?: false | { concurrency?: number; queue?: number };
  /**
   * Backends that should hold a piece (repair re-copies only into these). Default: the backends the
   * last put()/copy() in this process wrote, else every backend of the set. store-placement plugs in
   * its own view (journal) here.
   */
  expectedBackends?: (pieceCid: string) => string[] | undefined;
  stats?: StorageStats;
  onFault?: (fault: StorageFault) => void;
  name?: string;
}

export interface RepairCounts {
  queued: number;
  done: number;
  failed: number;
  /** dropped because the repair queue was full */
  dropped: number;
}

function breakerState(state: CircuitState): BreakerState {
  return state === CircuitState.Open ? "open" : state === CircuitState.HalfOpen ? "half-open" : state === CircuitState.Isolated ? "isolated" : "closed";
}

export class StoreSet implements PieceStore {
  readonly name: string;
  readonly verifiesReads = true;
  /** Write backends by name. */
  readonly backends: ReadonlyMap<string, PieceStore>;
  readonly readStages: readonly ReadStage[];
  readonly repairs: RepairCounts = { queued: 0, done: 0, failed: 0, dropped: 0 };
  readonly #minWrites: number | undefined;
  readonly #breakers = new Map<string, CircuitBreakerPolicy>();
  readonly #readPolicies = new Map<string, IPolicy>();
  readonly #writePolicies = new Map<string, IPolicy>();
  readonly #repairBulkhead: ReturnType<typeof bulkhead> | undefined;
  readonly #repairing = new Map<string, Promise<void>>();
  readonly #placed = new Map<string, string[]>();
  readonly #options: StoreSetOptions;

  constructor(options: StoreSetOptions) {
    if (options.backends.length === 0) throw new Error("StoreSet needs at least one backend");
    const backends = new Map<string, PieceStore>();
    for (const b of options.backends) {
      if (backends.has(b.name)) throw new Error(`StoreSet: two backends named "${b.name}"`);
      backends.set(b.name, b);
    }
    this.backends = backends;
    this.readStages = options.readStages ?? options.backends.map((store) => ({ name: store.name, store, backend: store.name }));
    for (const s of this.readStages) {
      if (!backends.has(s.backend)) throw new Error(`read stage "${s.name}" reads backend "${s.backend}", which is not in the set`);
    }
    this.#minWrites = options.minWrites;
    this.#options = options;
    this.name = options.name ?? [...backends.keys()].join("+");
    const r = options.repair === false ? undefined : (options.repair ?? {});
    this.#repairBulkhead = r ? bulkhead(r.concurrency ?? 2, r.queue ?? 1000) : undefined;

    const retries = options.retry?.retries ?? 2;
    const backoff = new ExponentialBackoff({ initialDelay: options.retry?.initialDelayMs ?? 100, maxDelay: options.retry?.maxDelayMs ?? 2000 });
    const transient = handleWhen((err) => !isPieceError(err) && !(err instanceof PieceIntegrityError) && !(err instanceof BrokenCircuitError));
    // Corrupt copies count against a backend's health; a missing piece does not.
    const unhealthy = handleWhen((err) => !isPieceError(err));
    const names = new Set([...backends.keys(), ...this.readStages.map((s) => s.name)]);
    for (const name of names) {
      const breaker = circuitBreaker(unhealthy, {
        halfOpenAfter: options.breaker?.halfOpenAfterMs ?? 30_000,
        breaker: new ConsecutiveBreaker(options.breaker?.threshold ?? 5),
      });
      breaker.onStateChange((state) => options.stats?.breaker(name, breakerState(state)));
      this.#breakers.set(name, breaker);
      const retryPolicy = retry(transient, { maxAttempts: retries, backoff });
      this.#readPolicies.set(name, wrap(retryPolicy, breaker, timeout(options.readTimeoutMs ?? 30_000, TimeoutStrategy.Aggressive)));
      this.#writePolicies.set(name, wrap(retryPolicy, breaker, timeout(options.writeTimeoutMs ?? 600_000, TimeoutStrategy.Cooperative)));
    }
  }

  /** Circuit state of a backend or read stage. */
  breakerState(name: string): BreakerState {
    const b = this.#breakers.get(name);
    if (!b) throw new Error(`no backend or read stage "${name}" in ${this.name}`);
    return breakerState(b.state);
  }

  /** Write the piece to the targeted backends (default all); resolves once enough copies are durable. */
  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    assertPieceSize(bytes.length);
    const pieceCid = pieceCidOf(bytes, options.pieceCid);
    const targets = this.#targets(options.backends);
    const need = Math.min(this.#minWrites ?? targets.length, targets.length);
    const size = bytes.length;
    const progress = new Array<number>(targets.length).fill(0);
    const settled = await Promise.allSettled(
      targets.map((name, i) =>
        this.#writePolicies.get(name)!.execute(({ signal }) =>
          this.backends.get(name)!.put(bytes, {
            ...options,
            pieceCid,
            backends: undefined,
            signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal,
            onProgress: (done) => {
              progress[i] = done;
              options.onProgress?.(Math.floor(progress.reduce((a, b) => a + b, 0) / targets.length), size);
            },
          }),
        ),
      ),
    );
    const faults: StorageFault[] = [];
    const mirrors: PieceMirror[] = [];
    let allExisted = true;
    settled.forEach((r, i) => {
      const backend = targets[i];
      if (r.status === "rejected") return faults.push(this.#fault("write-failed", backend, pieceCid, r.reason));
      if (r.value.pieceCid !== pieceCid) {
        return faults.push(this.#fault("write-failed", backend, pieceCid, new PieceIntegrityError(pieceCid, backend, r.value.pieceCid)));
      }
      allExisted &&= r.value.existed;
      mirrors.push(r.value.location ? { backend, location: r.value.location } : { backend });
    });
    if (mirrors.length < need) {
      throw new ReplicationError(`only ${mirrors.length}/${targets.length} copies written (need ${need})`, pieceCid, faults);
    }
    if (options.backends) this.#placed.set(pieceCid, mirrors.map((m) => m.backend));
    options.onProgress?.(size, size);
    return { pieceCid, size, existed: allExisted && faults.length === 0, mirrors };
  }

  /** Verified read through the stages in order; schedules repair of bad copies found on the way. */
  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    return this.#read(pieceCid, range, true);
  }

  async #read(pieceCid: string, range: ByteRange | undefined, repair: boolean): Promise<Uint8Array> {
    const cid = normalizePieceCid(pieceCid);
    const faults: StorageFault[] = [];
    const bad: StorageFault[] = [];
    for (const stage of this.readStages) {
      try {
        const { bytes, whole } = await this.#readPolicies.get(stage.name)!.execute(() => readVerified(stage.store, cid, range));
        for (const f of faults) if (f.kind === "missing") this.#options.onFault?.(f);
        if (repair) this.#scheduleRepairs(cid, bad, stage, whole);
        return bytes;
      } catch (err) {
        if (err instanceof RangeNotSatisfiableError || (err instanceof Error && err.name === "AbortError")) throw err;
        const kind: FaultKind | "skipped" =
          err instanceof BrokenCircuitError ? "skipped"
          : err instanceof PieceNotFoundError ? "missing"
          : err instanceof PieceIntegrityError ? "corrupt"
          : "read-failed";
        if (kind === "skipped") continue;
        const fault: StorageFault = { kind, backend: stage.name, pieceCid: cid, error: err instanceof TaskCancelledError ? new Error(`read timed out on ${stage.name}`) : err };
        faults.push(fault);
        if (kind === "missing" || kind === "corrupt") bad.push({ ...fault, backend: stage.backend });
        // The backend's own wrapper saw a successful read (corrupt) or has not answered yet (timeout).
        if (kind === "corrupt" || err instanceof TaskCancelledError) this.#options.stats?.add(stage.name, "failures");
        if (kind !== "missing") this.#options.onFault?.(fault);
      }
    }
    if (faults.every((f) => f.kind === "missing")) throw new PieceNotFoundError(cid, this.name);
    throw new ReplicationError(`no backend could serve ${cid}`, cid, faults);
  }

  /** True when any read stage whose circuit is not open has the piece. */
  async has(pieceCid: string): Promise<boolean> {
    const cid = normalizePieceCid(pieceCid);
    for (const stage of this.readStages) {
      if (this.#breakers.get(stage.name)!.state === CircuitState.Open) continue;
      try {
        if (await stage.store.has(cid)) return true;
      } catch (err) {
        this.#options.onFault?.({ kind: "read-failed", backend: stage.name, pieceCid: cid, error: err });
      }
    }
    return false;
  }

  /** Which backends of the set hold the piece (a has() per backend; unreachable ones report an error). */
  async locate(pieceCid: string): Promise<{ backend: string; has: boolean | null; error?: string }[]> {
    const cid = normalizePieceCid(pieceCid);
    return Promise.all(
      [...this.backends].map(async ([backend, store]) => {
        try {
          return { backend, has: await store.has(cid) };
        } catch (err) {
          return { backend, has: null, error: (err as Error).message };
        }
      }),
    );
  }

  /** URL from the first read stage that has one (CDN first when ordered so). */
  urlFor(pieceCid: string): string | undefined {
    for (const stage of this.readStages) {
      const url = stage.store.urlFor?.(pieceCid);
      if (url) return url;
    }
    return undefined;
  }

  /** Copy a piece onto more backends from a verified read of an existing copy; returns the new mirrors. */
  async copy(pieceCid: string, to: string[]): Promise<PieceMirror[]> {
    const cid = normalizePieceCid(pieceCid);
    const targets = this.#targets(to);
    // No repair from this read: the copy itself is the move; which other backends lack the piece is
    // the placement's business (a repair here would spread the piece beyond the plan).
    const bytes = await this.#read(cid, undefined, false);
    const mirrors: PieceMirror[] = [];
    for (const name of targets) {
      const r = await this.#writePolicies.get(name)!.execute(({ signal }) => this.backends.get(name)!.put(bytes, { pieceCid: cid, signal }));
      mirrors.push(r.location ? { backend: name, location: r.location } : { backend: name });
    }
    this.#placed.set(cid, [...new Set([...(this.#expected(cid) ?? []), ...targets])]);
    return mirrors;
  }

  /**
   * Drop one backend's copy. Refuses to drop the last copy: another backend of the set must hold the
   * piece (the placement's floor of copies is the placement's rule; this guards against losing data).
   */
  async removeCopy(pieceCid: string, backend: string): Promise<boolean> {
    const cid = normalizePieceCid(pieceCid);
    const [name] = this.#targets([backend]);
    const store = this.backends.get(name)!;
    if (!store.delete) throw new Error(`backend "${name}" cannot delete pieces (no delete())`);
    const others = (await this.locate(cid)).filter((l) => l.backend !== name && l.has === true);
    if (others.length === 0) throw new Error(`refusing to remove the last copy of ${cid} (on ${name}): copy it elsewhere first`);
    const removed = await store.delete(cid);
    this.#placed.set(cid, (this.#expected(cid) ?? [...this.backends.keys()]).filter((b) => b !== name));
    return removed;
  }

  /** Resolves when every queued repair has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#repairing.size > 0) await Promise.allSettled([...this.#repairing.values()]);
  }

  async close(): Promise<void> {
    await this.idle();
    await Promise.allSettled([...this.backends.values()].map((b) => b.close?.()));
    await this.#options.stats?.flush();
  }

  #targets(names: string[] | undefined): string[] {
    if (names === undefined) return [...this.backends.keys()];
    if (names.length === 0) throw new Error("PutOptions.backends is empty: name at least one backend");
    for (const n of names) {
      if (!this.backends.has(n)) throw new Error(`backend "${n}" is not in the storage set ${this.name} (has: ${[...this.backends.keys()].join(", ")})`);
    }
    return [...new Set(names)];
  }

  #expected(cid: string): string[] | undefined {
    return this.#options.expectedBackends?.(cid) ?? this.#placed.get(cid);
  }

  #scheduleRepairs(cid: string, bad: StorageFault[], source: ReadStage, whole: Uint8Array | undefined): void {
    if (!this.#repairBulkhead || bad.length === 0) return;
    const expected = this.#expected(cid) ?? [...this.backends.keys()];
    for (const fault of bad) {
      // A missing copy on a backend the placement never put it on is not damage.
      if (fault.kind === "missing" && !expected.includes(fault.backend)) continue;
      if (fault.backend === source.backend) continue;
      const key = `${fault.backend}\n${cid}`;
      if (this.#repairing.has(key)) continue;
      this.repairs.queued++;
      const job = this.#repairBulkhead
        .execute(async () => {
          const bytes = whole ?? (await readVerified(source.store, cid)).bytes;
          const target = this.backends.get(fault.backend)!;
          // put() keeps an existing copy, so a corrupt one goes first where the backend can delete;
          // backends without delete() (s3, ipfs) remember a copy they found corrupt and overwrite it on put().
          if (fault.kind === "corrupt" && target.delete) await target.delete(cid);
          await this.#writePolicies.get(fault.backend)!.execute(({ signal }) => target.put(bytes, { pieceCid: cid, signal }));
          this.repairs.done++;
          this.#options.stats?.add(fault.backend, "repairs");
        })
        .catch((err: unknown) => {
          if (err instanceof BulkheadRejectedError) this.repairs.dropped++;
          else this.repairs.failed++;
          this.#options.stats?.add(fault.backend, "repairFailures");
          this.#options.onFault?.({ kind: "write-failed", backend: fault.backend, pieceCid: cid, error: err });
        })
        .finally(() => this.#repairing.delete(key));
      this.#repairing.set(key, job);
    }
  }

  #fault(kind: FaultKind, backend: string, pieceCid: string, error: unknown): StorageFault {
    const fault = { kind, backend, pieceCid, error };
    this.#options.onFault?.(fault);
    return fault;
  }
}

/** Read and verify: whole pieces are hashed here unless the backend verifies its own reads. */
async function readVerified(store: PieceStore, cid: string, range?: ByteRange): Promise<{ bytes: Uint8Array; whole?: Uint8Array }> {
  if (store.verifiesReads) {
    const bytes = await store.get(cid, range);
    return { bytes, whole: range ? undefined : bytes };
  }
  // Verification needs the whole piece; the range is cut after hashing.
  const whole = await store.get(cid);
  verifyPiece(whole, cid, store.name);
  return { bytes: sliceRange(whole, range), whole };
}

/**
 * The backend called `name` inside a store: a StoreSet's member, a ReplicatedStore's writer (the
 * STORAGE_COPY_DIRS wrapper), or the store itself when it has that name; undefined when absent.
 * Wrappers (stats, renaming) are Proxies that pass backend-specific methods through, so
 * `backendNamed(store, "webtorrent")?.seedItem` works on what createStore() returns.
 */
export function backendNamed(store: PieceStore, name: string): PieceStore | undefined {
  if (store instanceof StoreSet) return store.backends.get(name);
  const writers = (store as { writeTo?: unknown }).writeTo;
  if (Array.isArray(writers)) {
    for (const inner of writers as PieceStore[]) {
      const found = backendNamed(inner, name);
      if (found) return found;
    }
    return undefined;
  }
  return store.name === name ? store : undefined;
}
