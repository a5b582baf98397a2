/**
 * The persistent PieceCID -> IPFS root CID index of an IpfsStore: one small JSON file per piece
 * under `<repo>/piece-index/<last 2 chars>/<PieceCID>.json`, written to a temp file and renamed so
 * a crash never leaves half a record. The root is a dag-pb UnixFS root (1 MiB raw leaves), never
 * the PieceCID itself, so the index is what lets a PieceCID be served from IPFS.
 */
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

export interface RootRecord {
  /** IPFS root CID (CIDv1 dag-pb, or raw for a one-leaf piece). */
  root: string;
  /** Request id of the remote pin at the pinning service, once requested. */
  pinRequestId?: string;
  /** Pinning service endpoint the request id belongs to. */
  pinEndpoint?: string;
}

export class RootIndex {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  /** File of a piece's record; callers pass a normalized PieceCID (base32, path-safe). */
  pathFor(pieceCid: string): string {
    return join(this.dir, pieceCid.slice(-2), `${pieceCid}.json`);
  }

  async get(pieceCid: string): Promise<RootRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathFor(pieceCid), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    return parseRecord(text, this.pathFor(pieceCid));
  }

  /** Synchronous read, for the synchronous PieceStore.urlFor(). */
  getSync(pieceCid: string): RootRecord | undefined {
    try {
      return parseRecord(readFileSync(this.pathFor(pieceCid), "utf8"), this.pathFor(pieceCid));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async set(pieceCid: string, record: RootRecord): Promise<void> {
    const path = this.pathFor(pieceCid);
    await mkdir(join(this.dir, pieceCid.slice(-2)), { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(tmp, JSON.stringify(record) + "\n", { flush: true });
    await rename(tmp, path);
  }

  /** Forget a piece's record; true when there was one. */
  async remove(pieceCid: string): Promise<boolean> {
    try {
      await unlink(this.pathFor(pieceCid));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
  }
}

function parseRecord(text: string, path: string): RootRecord {
  const parsed = JSON.parse(text) as RootRecord;
  if (typeof parsed?.root !== "string") throw new Error(`IPFS piece index record ${path} has no root CID`);
  return parsed;
}
