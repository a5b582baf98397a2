/**
 * The upload journal: one JSON file, rewritten atomically (temp file + fsync + rename) after every
 * step, so a run killed at any moment (kill -9) resumes where it stopped. Per item it records how
 * far the item got: processed (work dir kept), which pieces are stored, the manifest CID, whether
 * the content key is in the key store, and the registration transaction.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import type { Hex } from "viem";
import type { Tier } from "../chain/content.ts";
import type { IngestWarning } from "../../media/probe.ts";

export type ItemState = "new" | "processed" | "published" | "registered" | "failed";

export interface JournalItem {
  contentId: Hex;
  externalId: Hex;
  source: string;
  sha256: string;
  size: number;
  tier: Tier;
  state: ItemState;
  /** the content key is sealed in the key store */
  keyStored: boolean;
  /** PieceCIDs already stored (never uploaded again) */
  storedPieces: string[];
  piecesTotal?: number;
  manifestCid?: string;
  storedBytes?: number;
  registerTx?: Hex;
  registerOutcome?: "registered" | "exists" | "updated" | "restored";
  title?: string;
  artist?: string;
  kind?: "audio" | "video";
  duration?: number;
  /** what ingest warned about (e.g. mostly silent), repeated on every re-run's report */
  warnings?: IngestWarning[];
  /** last failure reason (state "failed", or a failed attempt before a later success) */
  error?: string;
  /** true when the failure cannot be fixed by retrying (bad media) */
  permanent?: boolean;
  attempts: number;
  updatedAt: string;
}

export interface JournalData {
  version: 1;
  chainId?: number;
  creator?: string;
  items: Record<string, JournalItem>;
}

/** Write a file atomically: a crash leaves either the old or the new content, never a mix. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export class UploadJournal {
  readonly file: string;
  data: JournalData;

  constructor(file: string, data: JournalData) {
    this.file = file;
    this.data = data;
  }

  static load(file: string): UploadJournal {
    let data: JournalData = { version: 1, items: {} };
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as JournalData;
      if (parsed.version !== 1 || typeof parsed.items !== "object") throw new Error(`${file} is not a StreamVault upload journal`);
      data = parsed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        if (err instanceof SyntaxError) throw new Error(`${file} is not valid JSON (${err.message}); move it away to start a fresh journal`);
        throw err;
      }
    }
    return new UploadJournal(file, data);
  }

  get(contentId: string): JournalItem | undefined {
    return this.data.items[contentId];
  }

  items(): JournalItem[] {
    return Object.values(this.data.items);
  }

  /** Update an item and persist the journal before returning. */
  update(contentId: string, patch: Partial<JournalItem>): JournalItem {
    const current = this.data.items[contentId];
    if (!current && !patch.contentId) throw new Error(`journal has no item ${contentId}`);
    const next = { ...(current as JournalItem), ...patch, updatedAt: new Date().toISOString() };
    this.data.items[contentId] = next;
    this.save();
    return next;
  }

  save(): void {
    writeFileAtomic(this.file, JSON.stringify(this.data, null, 2) + "\n");
  }
}

/** Exclusive lock on a directory's journal; a lock left by a killed process is taken over. */
export function acquireLock(file: string): () => void {
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`another streamvault upload (pid ${pid}) is using ${path.dirname(file)}; wait for it to finish or stop it`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take the lock ${file}`);
}

/** Whether process `pid` still runs (EPERM: it runs as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

