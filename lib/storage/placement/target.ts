/**
 * Where placement moves are carried out: a narrow interface (copies of a piece per backend, add a
 * copy, drop a copy, CDN on/off per item) and its implementation over the named backends of a
 * multi-backend store (ReplicatedStore.writeTo, or a single store). Keeping the seam this narrow
 * lets it follow the store as backends are added (S3, IPFS, WebTorrent) without touching the policy.
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../../catalog/uploads/journal.ts";
import { LocalStore } from "../local.ts";
import { normalizePieceCid, verifyPiece } from "../piece.ts";
import { ReplicatedStore } from "../replicated.ts";
import { PieceNotFoundError } from "../types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "../types.ts";

export interface PlacementTarget {
  /** Backend names, in the store's order (the placement's default preference). */
  readonly backends: readonly string[];
  /** Backends holding the piece now (asked live, not from a record). */
  copiesOf(pieceCid: string): Promise<string[]>;
  /** Copy the piece to `backend`, reading it (verified) from `source` or any backend holding it. */
  addCopy(pieceCid: string, backend: string, source?: string): Promise<void>;
  /** Remove the copy on `backend`. */
  dropCopy(pieceCid: string, backend: string): Promise<void>;
  cdnOf(itemId: string): Promise<boolean>;
  setCdn(itemId: string, on: boolean): Promise<void>;
}

/** A backend that can remove a piece (what dropping a copy needs beyond PieceStore). */
export interface RemovablePieceStore extends PieceStore {
  remove(pieceCid: string): Promise<void>;
}

export class PlacementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlacementError";
  }
}

/**
 * A LocalStore under its own backend name (several directories = several independent copies, e.g.
 * several disks), able to remove pieces.
 */
export class NamedLocalStore implements RemovablePieceStore {
  readonly name: string;
  readonly inner: LocalStore;
  constructor(name: string, dir: string, publicUrl?: string) {
    this.name = name;
    this.inner = new LocalStore({ dir, publicUrl });
  }
  put(bytes: Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.inner.put(bytes, options);
  }
  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    try {
      return await this.inner.get(pieceCid, range);
    } catch (err) {
      if (err instanceof PieceNotFoundError) throw new PieceNotFoundError(pieceCid, this.name);
      throw err;
    }
  }
  has(pieceCid: string): Promise<boolean> {
    return this.inner.has(pieceCid);
  }
  urlFor(pieceCid: string): string | undefined {
    return this.inner.urlFor(pieceCid);
  }
  async remove(pieceCid: string): Promise<void> {
    await rm(this.inner.pathFor(pieceCid), { force: true });
  }
}

/** Remove a piece from a backend, or say why this backend cannot drop copies. */
export async function removePiece(store: PieceStore, pieceCid: string): Promise<void> {
  const cid = normalizePieceCid(pieceCid);
  if (typeof (store as Partial<RemovablePieceStore>).remove === "function") return (store as RemovablePieceStore).remove(cid);
  if (store instanceof LocalStore) {
    await rm(store.pathFor(cid), { force: true });
    return;
  }
  throw new PlacementError(`backend ${store.name} cannot remove pieces, so placement cannot drop its copies (give it a remove(pieceCid) method)`);
}

/** The named backends of a store: a ReplicatedStore's write set, else the store itself. */
export function backendsOf(store: PieceStore): PieceStore[] {
  return store instanceof ReplicatedStore ? store.writeTo : [store];
}

/**
 * `STORAGE_COPY_DIRS=/disk2/pieces,/disk3/pieces`: extra local directories, each an independent
 * backend (`copy-1`, `copy-2`, ...) that receives a copy of every piece written, beside the
 * configured store. Without it the store is returned as is.
 */
export function withCopyDirs(store: PieceStore, env: NodeJS.ProcessEnv = process.env): PieceStore {
  const dirs = (env.STORAGE_COPY_DIRS ?? "").split(",").map((d) => d.trim()).filter((d) => d !== "");
  if (dirs.length === 0) return store;
  const copies = dirs.map((dir, i) => new NamedLocalStore(`copy-${i + 1}`, path.resolve(dir)));
  const base = backendsOf(store);
  const readFrom = store instanceof ReplicatedStore ? [...store.readFrom, ...copies] : [store, ...copies];
  // Every copy must be written (the default): placement, not a failed write, decides what to drop.
  return new ReplicatedStore({ name: [...base, ...copies].map((s) => s.name).join("+"), writeTo: [...base, ...copies], readFrom });
}

export interface StorePlacementTargetOptions {
  /** Backends by name (names must be distinct). */
  backends: PieceStore[];
  /** JSON file recording which items are served through the CDN. */
  cdnStateFile: string;
}

/**
 * PlacementTarget over named PieceStores. Copies are what each backend's has() says; a copy is
 * added by a verified read from a backend holding it and a put (with the known PieceCID) to the
 * new one. CDN state per item is kept in `cdnStateFile` (read by the studio and the delivery side);
 * with Synapse, serving an item through FilBeam means a CDN data set, which this does not create.
 */
export class StorePlacementTarget implements PlacementTarget {
  readonly backends: readonly string[];
  readonly #stores: Map<string, PieceStore>;
  readonly #cdnStateFile: string;

  constructor(options: StorePlacementTargetOptions) {
    this.#stores = new Map(options.backends.map((s) => [s.name, s]));
    if (this.#stores.size !== options.backends.length) {
      throw new PlacementError(`backend names must be distinct for placement, got ${options.backends.map((s) => s.name).join(", ")}`);
    }
    this.backends = options.backends.map((s) => s.name);
    this.#cdnStateFile = options.cdnStateFile;
  }

  #store(name: string): PieceStore {
    const store = this.#stores.get(name);
    if (!store) throw new PlacementError(`no backend named "${name}" (configured: ${this.backends.join(", ")})`);
    return store;
  }

  async copiesOf(pieceCid: string): Promise<string[]> {
    const cid = normalizePieceCid(pieceCid);
    const held = await Promise.all(this.backends.map(async (name) => ((await this.#store(name).has(cid)) ? name : undefined)));
    return held.filter((n): n is string => n !== undefined);
  }

  async addCopy(pieceCid: string, backend: string, source?: string): Promise<void> {
    const cid = normalizePieceCid(pieceCid);
    const to = this.#store(backend);
    const sources = source ? [source, ...this.backends.filter((b) => b !== source && b !== backend)] : this.backends.filter((b) => b !== backend);
    const errors: string[] = [];
    for (const name of sources) {
      const from = this.#store(name);
      try {
        const bytes = await from.get(cid);
        // Never spread a corrupt copy: check the bytes unless the backend already did.
        if (!from.verifiesReads) verifyPiece(bytes, cid, from.name);
        await to.put(bytes, { pieceCid: cid });
        return;
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
    }
    throw new PlacementError(`could not copy ${cid} to ${backend}: no backend gave good bytes (${errors.join("; ") || "no other backend"})`);
  }

  async dropCopy(pieceCid: string, backend: string): Promise<void> {
    await removePiece(this.#store(backend), pieceCid);
  }

  async cdnOf(itemId: string): Promise<boolean> {
    return this.#cdnState()[itemId] === true;
  }

  async setCdn(itemId: string, on: boolean): Promise<void> {
    const state = this.#cdnState();
    if (on) state[itemId] = true;
    else delete state[itemId];
    writeFileAtomic(this.#cdnStateFile, JSON.stringify(state, null, 2) + "\n");
  }

  /** Every item currently served through the CDN. */
  cdnItems(): Record<string, boolean> {
    return this.#cdnState();
  }

  #cdnState(): Record<string, boolean> {
    return readCdnState(this.#cdnStateFile);
  }
}

/** The CDN state file: `{ "<itemId>": true }`; empty when absent. */
export function readCdnState(file: string): Record<string, boolean> {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new PlacementError(`${file} is not a CDN state object; move it away to start over`);
    return parsed as Record<string, boolean>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    if (err instanceof SyntaxError) throw new PlacementError(`${file} is not valid JSON (${err.message}); move it away to start over`);
    throw err;
  }
}
