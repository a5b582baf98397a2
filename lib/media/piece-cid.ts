/**
 * PieceCID v2 computation, the same function the storage backends use
 * (@filoz/synapse-core/piece `calculate`). It is CPU-bound (~10-15 MiB/s on one core), so
 * {@link PieceCidPool} spreads whole pieces over worker threads; each piece is hashed once and
 * the result handed to `PieceStore.put(bytes, { pieceCid })`.
 */
import * as Piece from "@filoz/synapse-core/piece";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** PieceCID v2 string of `bytes`, computed on the calling thread. */
export function pieceCidOf(bytes: Uint8Array): string {
  return Piece.calculate(bytes).toString();
}

interface Pending {
  resolve: (cid: string) => void;
  reject: (err: Error) => void;
}

/** Below this size a piece is hashed inline: posting it to a worker costs more than hashing. */
const INLINE_BYTES = 64 * 1024;

/**
 * A small pool of worker threads computing PieceCIDs in parallel. Call {@link close} when done
 * (workers are unref'd, so a forgotten pool does not keep the process alive).
 */
export class PieceCidPool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: { id: number; bytes: Uint8Array }[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #busy = new Map<Worker, number>();
  #nextId = 0;
  #closed = false;

  /** @param size worker count; default = CPU count */
  constructor(size: number = availableParallelism()) {
    this.size = Math.max(1, size);
  }

  /** PieceCID of `bytes` (the bytes are copied to a worker; the caller's buffer is untouched). */
  compute(bytes: Uint8Array): Promise<string> {
    if (this.#closed) return Promise.reject(new Error("PieceCidPool is closed"));
    if (bytes.length <= INLINE_BYTES) {
      try {
        return Promise.resolve(pieceCidOf(bytes));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#queue.push({ id, bytes });
      this.#pump();
    });
  }

  /** Stop the workers; pending computations are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [, p] of this.#pending) p.reject(new Error("PieceCidPool closed"));
    this.#pending.clear();
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers.length = 0;
    this.#idle.length = 0;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (worker === undefined && this.#workers.length < this.size) worker = this.#spawn();
      if (worker === undefined) return;
      const job = this.#queue.shift()!;
      this.#busy.set(worker, job.id);
      worker.postMessage(job);
    }
  }

  #spawn(): Worker {
    const worker = new Worker(new URL("./piece-cid-worker.ts", import.meta.url));
    worker.unref();
    worker.on("message", (msg: { id: number; pieceCid?: string; error?: string }) => {
      const pending = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      this.#busy.delete(worker);
      this.#idle.push(worker);
      if (pending) {
        if (msg.pieceCid !== undefined) pending.resolve(msg.pieceCid);
        else pending.reject(new Error(msg.error ?? "PieceCID worker failed"));
      }
      this.#pump();
    });
    worker.on("error", (err) => {
      const id = this.#busy.get(worker);
      this.#busy.delete(worker);
      const index = this.#workers.indexOf(worker);
      if (index >= 0) this.#workers.splice(index, 1);
      if (id !== undefined) {
        this.#pending.get(id)?.reject(err);
        this.#pending.delete(id);
      }
      this.#pump();
    });
    this.#workers.push(worker);
    return worker;
  }
}
