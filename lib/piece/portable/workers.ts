/**
 * The portable path spread over worker threads (Node): a batch of chunks is cut into one contiguous
 * range per worker, each range copied to its worker (transferred, not cloned twice), roots joined in order.
 */
import { Worker } from "node:worker_threads";
import type { ChunkRooter } from "../core.ts";
import { subtreePayloadBytes } from "../tree.ts";
import { chunkRoots } from "./roots.ts";

interface PendingJob {
  resolve: (roots: Uint8Array) => void;
  reject: (err: Error) => void;
}

class RootWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, PendingJob>();
  #nextId = 0;

  constructor() {
    this.#worker = new Worker(new URL("./worker.ts", import.meta.url));
    this.#worker.on("message", ({ id, roots }: { id: number; roots: Uint8Array }) => {
      this.#pending.get(id)?.resolve(roots);
      this.#pending.delete(id);
      if (this.#pending.size === 0) this.#worker.unref();
    });
    this.#worker.on("error", (err) => {
      for (const job of this.#pending.values()) job.reject(err);
      this.#pending.clear();
      workers.splice(workers.indexOf(this), 1);
    });
    // Referenced only while a job is pending: an idle pool never keeps the process alive.
    this.#worker.unref();
  }

  roots(data: Uint8Array, chunkHeight: number): Promise<Uint8Array> {
    const id = this.#nextId++;
    // A copy of just this range (Buffer#slice would be a view; posting a view clones its whole buffer).
    const copy = new Uint8Array(data);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, data: copy, chunkHeight }, [copy.buffer]);
    });
  }
}

const workers: RootWorker[] = [];

/** Portable rooter using up to `threads` worker threads for multi-chunk batches. */
export function portableWorkerRooter(threads: number): ChunkRooter & { detail: string } {
  return {
    name: "portable",
    detail: threads === 1 ? "JavaScript, calling thread" : `JavaScript, ${threads} worker threads`,
    sync: chunkRoots,
    async: async (data, chunkHeight) => {
      const chunkBytes = subtreePayloadBytes(chunkHeight);
      const chunks = Math.ceil(data.length / chunkBytes);
      if (threads <= 1 || chunks <= 1) return chunkRoots(data, chunkHeight);
      const perPart = Math.ceil(chunks / Math.min(threads, chunks));
      const parts = Math.ceil(chunks / perPart);
      while (workers.length < parts) workers.push(new RootWorker());
      const results = await Promise.all(
        Array.from({ length: parts }, (_, p) =>
          workers[p]!.roots(data.subarray(p * perPart * chunkBytes, Math.min((p + 1) * perPart * chunkBytes, data.length)), chunkHeight),
        ),
      );
      const out = new Uint8Array(32 * chunks);
      let offset = 0;
      for (const roots of results) {
        out.set(roots, offset);
        offset += roots.length;
      }
      return out;
    },
  };
}
