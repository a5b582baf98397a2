/**
 * The embedded default backend: a directory of pieces named by their PieceCID v2.
 *
 * Layout: `<dir>/<last 2 chars of cid>/<cid>`; in-flight writes live in `<dir>/.tmp/` and are
 * renamed into place only when complete and fsynced, so a crash never leaves a half piece
 * under a real PieceCID name.
 */
import { createReadStream } from "node:fs";
import type { ReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { assertPieceSize, pieceCidOf, normalizePieceCid, pieceSize, resolveRange } from "./piece.ts";
import { PieceNotFoundError } from "./types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "./types.ts";

export interface LocalStoreOptions {
  /** Directory holding the pieces (created if missing). */
  dir: string;
  /** Base URL of a gateway serving this store, used by urlFor(), e.g. "http://127.0.0.1:8080". */
  publicUrl?: string;
  /** Write chunk size in bytes; progress is reported once per chunk. Default 4 MiB. */
  chunkSize?: number;
  /** Backend name (errors, stats, sets); default "local". Further disks: "local-disk2", ... */
  name?: string;
}

/** Directory-backed PieceStore keyed by real PieceCID v2. */
export class LocalStore implements PieceStore {
  readonly name: string;
  readonly dir: string;
  publicUrl: string | undefined;
  readonly #chunkSize: number;
  readonly #tmpDir: string;

  constructor(options: LocalStoreOptions) {
    this.name = options.name ?? "local";
    this.dir = options.dir;
    this.publicUrl = options.publicUrl?.replace(/\/+$/, "");
    this.#chunkSize = options.chunkSize ?? 4 * 1024 * 1024;
    this.#tmpDir = join(this.dir, ".tmp");
  }

  /** Final on-disk path of a piece (the CID is validated first, so it is path-safe). */
  pathFor(pieceCid: string): string {
    const cid = normalizePieceCid(pieceCid);
    return join(this.dir, cid.slice(-2), cid);
  }

  /** Store bytes under their PieceCID; a second put of the same bytes only reports existed. */
  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    assertPieceSize(bytes.length);
    options.signal?.throwIfAborted();
    const pieceCid = pieceCidOf(bytes, options.pieceCid);
    const size = bytes.length;
    const finalPath = this.pathFor(pieceCid);
    if (await exists(finalPath)) {
      options.onProgress?.(size, size);
      return { pieceCid, size, existed: true };
    }
    await mkdir(this.#tmpDir, { recursive: true });
    await mkdir(join(this.dir, pieceCid.slice(-2)), { recursive: true });
    // Unique temp name: concurrent writers of the same piece never share a file.
    const tmpPath = join(this.#tmpDir, `${pieceCid}.${process.pid}.${randomBytes(4).toString("hex")}`);
    const fh = await open(tmpPath, "wx");
    try {
      for (let off = 0; off < size; off += this.#chunkSize) {
        options.signal?.throwIfAborted();
        const chunk = bytes.subarray(off, Math.min(off + this.#chunkSize, size));
        await fh.write(chunk, 0, chunk.length, off);
        options.onProgress?.(off + chunk.length, size);
      }
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tmpPath, { force: true });
      throw err;
    }
    await fh.close();
    // rename() is atomic within one filesystem: readers see nothing or the whole piece.
    await rename(tmpPath, finalPath);
    await syncDir(join(this.dir, pieceCid.slice(-2)));
    return { pieceCid, size, existed: false };
  }

  /** Read a piece or an inclusive byte range of it. */
  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    const path = this.pathFor(pieceCid);
    const size = pieceSize(pieceCid);
    const { start, end } = range ? resolveRange(range, size) : { start: 0, end: size - 1 };
    let fh;
    try {
      fh = await open(path, "r");
    } catch (err) {
      if (isNotFound(err)) throw new PieceNotFoundError(pieceCid, this.name);
      throw err;
    }
    try {
      const out = new Uint8Array(end - start + 1);
      let got = 0;
      while (got < out.length) {
        const { bytesRead } = await fh.read(out, got, out.length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      // A short file can only come from outside tampering; return what is there and let
      // verifying readers (ReplicatedStore) flag it rather than hiding it here.
      return got === out.length ? out : out.subarray(0, got);
    } finally {
      await fh.close();
    }
  }

  /** Whether the piece file exists. */
  async has(pieceCid: string): Promise<boolean> {
    return exists(this.pathFor(pieceCid));
  }

  /** Remove the piece file (repair replaces a corrupt copy this way: put() alone keeps an existing file). */
  async delete(pieceCid: string): Promise<boolean> {
    const path = this.pathFor(pieceCid);
    if (!(await exists(path))) return false;
    await rm(path, { force: true });
    await syncDir(join(this.dir, normalizePieceCid(pieceCid).slice(-2)));
    return true;
  }

  /** Gateway URL of the piece when `publicUrl` is configured. */
  urlFor(pieceCid: string): string | undefined {
    return this.publicUrl ? `${this.publicUrl}/piece/${normalizePieceCid(pieceCid)}` : undefined;
  }

  /** Stream a piece (or inclusive range) from disk; used by the gateway for large pieces. */
  async createReadStream(pieceCid: string, range?: ByteRange): Promise<ReadStream> {
    const path = this.pathFor(pieceCid);
    const size = pieceSize(pieceCid);
    const { start, end } = range ? resolveRange(range, size) : { start: 0, end: size - 1 };
    if (!(await exists(path))) throw new PieceNotFoundError(pieceCid, this.name);
    return createReadStream(path, { start, end });
  }

  /** Delete leftovers of interrupted writes older than `maxAgeMs`; returns how many were removed. */
  async sweepTempFiles(maxAgeMs = 60 * 60 * 1000): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#tmpDir);
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
    let removed = 0;
    const cutoff = Date.now() - maxAgeMs;
    for (const name of names) {
      const p = join(this.#tmpDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st && st.mtimeMs <= cutoff) {
        await rm(p, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === "ENOENT";
}

/** fsync a directory so the rename itself survives a power loss (best effort off Linux). */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms (Windows) cannot fsync directories; the rename is still atomic.
  }
}
