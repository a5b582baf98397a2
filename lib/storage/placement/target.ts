/**
 * Where placement moves are carried out: a narrow interface (copies of a piece per backend, add a
 * copy, drop a copy, CDN on/off per item) and its implementation over the configured multi-backend
 * store, a StoreSet (lib/storage/set.ts): `locate()` says where a piece lives, `copy()` adds a copy
 * from a verified read, `removeCopy()` drops one (never the last). The policy never sees a backend.
 *
 * Where placement is recorded: in the placement journal (journal.ts), not in the manifests. A
 * manifest is a content-addressed piece whose PieceCID is anchored on chain, so recording a move in
 * its mirrors means a new manifest piece and a chain transaction (gas) per move, and fans' clients
 * would have to follow the new CID. Manifest mirrors therefore say where the pieces were written at
 * publish time (a hint: e.g. the IPFS root CID, still a valid content address after our node drops
 * its copy); the live truth is `locate()`, and the journal is what the set's repair consults
 * (`placementView`) so a later process never re-copies a piece onto a backend placement dropped it
 * from.
 */
import { readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../../catalog/uploads/journal.ts";
import { normalizePieceCid } from "../piece.ts";
import { StoreSet } from "../set.ts";
import type { PieceStore } from "../types.ts";
import { readJournal } from "./journal.ts";
import { StreamVaultError } from "../../errors.ts";

export interface PlacementTarget {
  /** Backend names, in the store's order (the placement's default preference). */
  readonly backends: readonly string[];
  /** Backends holding the piece now (asked live, not from a record). */
  copiesOf(pieceCid: string): Promise<string[]>;
  /** Copy the piece to `backend` from a verified read of a copy held elsewhere. */
  addCopy(pieceCid: string, backend: string, source?: string): Promise<void>;
  /** Remove the copy on `backend`. */
  dropCopy(pieceCid: string, backend: string): Promise<void>;
  cdnOf(itemId: string): Promise<boolean>;
  setCdn(itemId: string, on: boolean): Promise<void>;
}

export class PlacementError extends StreamVaultError {
  constructor(message: string) {
    super("bad_input", message);
    this.name = "PlacementError";
  }
}

/** The StoreSet placement acts on: the store itself, or a one-backend set around a single store. */
export function storeSetOf(store: PieceStore): StoreSet {
  return store instanceof StoreSet ? store : new StoreSet({ backends: [store], repair: false });
}

export interface SetPlacementTargetOptions {
  /** The configured store (createStore): a StoreSet, or a single backend. */
  store: PieceStore;
  /** JSON file recording which items are served through the CDN. */
  cdnStateFile: string;
}

/**
 * PlacementTarget over a StoreSet. A backend that cannot be asked (down, circuit open) counts as
 * not holding the piece for the plan, but is never dropped from: removeCopy() checks again that
 * another backend holds it. CDN state per item is kept in `cdnStateFile` (read by the studio and the
 * delivery side); with Synapse, serving an item through FilBeam means a CDN data set, which this
 * does not create.
 */
export class SetPlacementTarget implements PlacementTarget {
  readonly backends: readonly string[];
  readonly set: StoreSet;
  readonly #cdnStateFile: string;

  constructor(options: SetPlacementTargetOptions) {
    this.set = storeSetOf(options.store);
    this.backends = [...this.set.backends.keys()];
    this.#cdnStateFile = options.cdnStateFile;
  }

  #check(name: string): void {
    if (!this.set.backends.has(name)) throw new PlacementError(`no backend named "${name}" (configured: ${this.backends.join(", ")})`);
  }

  async copiesOf(pieceCid: string): Promise<string[]> {
    return (await this.set.locate(pieceCid)).filter((l) => l.has === true).map((l) => l.backend);
  }

  /** `source` is the policy's suggestion; the set reads the first good copy in its read order. */
  async addCopy(pieceCid: string, backend: string, _source?: string): Promise<void> {
    this.#check(backend);
    const cid = normalizePieceCid(pieceCid);
    try {
      await this.set.copy(cid, [backend]);
    } catch (err) {
      throw new PlacementError(`could not copy ${cid} to ${backend}: ${(err as Error).message}`);
    }
  }

  async dropCopy(pieceCid: string, backend: string): Promise<void> {
    this.#check(backend);
    try {
      await this.set.removeCopy(pieceCid, backend);
    } catch (err) {
      throw new PlacementError(`could not drop the copy of ${normalizePieceCid(pieceCid)} on ${backend}: ${(err as Error).message}`);
    }
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

/**
 * The set's `expectedBackends` hook from the placement journal: for a piece placement has moved,
 * the backends it should be on now (every backend of the set, minus the drops, plus the adds, in
 * journal order); undefined for a piece never moved (the set's default: every backend). The journal
 * is re-read only when its size or mtime changes.
 */
export function placementView(journalFile: string): (backends: readonly string[]) => (pieceCid: string) => string[] | undefined {
  let stamp = "";
  let moves = new Map<string, { kind: "add-copy" | "drop-copy"; backend: string }[]>();
  const load = () => {
    let now: string;
    try {
      const st = statSync(journalFile);
      now = `${st.size}:${st.mtimeMs}`;
    } catch {
      now = "absent";
    }
    if (now === stamp) return;
    const next = new Map<string, { kind: "add-copy" | "drop-copy"; backend: string }[]>();
    for (const e of now === "absent" ? [] : readJournal(journalFile)) {
      if ((e.kind !== "add-copy" && e.kind !== "drop-copy") || !e.pieceCid || !e.backend) continue;
      const cid = normalizePieceCid(e.pieceCid);
      next.set(cid, [...(next.get(cid) ?? []), { kind: e.kind, backend: e.backend }]);
    }
    moves = next;
    stamp = now;
  };
  return (backends) => (pieceCid) => {
    load();
    const list = moves.get(normalizePieceCid(pieceCid));
    if (!list) return undefined;
    const expected = new Set(backends);
    for (const m of list) {
      if (m.kind === "add-copy") expected.add(m.backend);
      else expected.delete(m.backend);
    }
    return [...expected].filter((b) => backends.includes(b));
  };
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
