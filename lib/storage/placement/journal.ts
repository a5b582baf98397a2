/**
 * The placement journal: one JSON line per move carried out, appended and fsynced after the move
 * succeeded (never rewritten), in `<home>/placement/journal.jsonl`. It is the history the studio's
 * cost chart is rebuilt from; idempotence does not depend on it (plans are made from the live
 * state), so a move done but not journaled before a crash is simply not planned again.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import path from "node:path";
import type { PlacementMove } from "./policy.ts";

/** A move as carried out: the planned move (without its target) plus when and by what. */
export interface JournalEntry extends Omit<PlacementMove, "targetCopies"> {
  /** ISO time the move was done. */
  at: string;
  /** What carried it out: "optimize" or "watch". */
  by: string;
}

export const PLACEMENT_DIR = "placement";
export const JOURNAL_FILE = "journal.jsonl";
export const CDN_STATE_FILE = "cdn.json";

export function journalPath(home: string): string {
  return path.join(home, PLACEMENT_DIR, JOURNAL_FILE);
}

export function cdnStatePath(home: string): string {
  return path.join(home, PLACEMENT_DIR, CDN_STATE_FILE);
}

export class PlacementJournal {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }

  /** Append one move (fsynced before returning). */
  append(move: PlacementMove, by: string, at: Date = new Date()): JournalEntry {
    const entry: JournalEntry = {
      at: at.toISOString(),
      kind: move.kind,
      itemId: move.itemId,
      ...(move.title !== undefined ? { title: move.title } : {}),
      tier: move.tier,
      ...(move.pieceCid !== undefined ? { pieceCid: move.pieceCid } : {}),
      ...(move.backend !== undefined ? { backend: move.backend } : {}),
      ...(move.source !== undefined ? { source: move.source } : {}),
      from: move.from,
      to: move.to,
      reason: move.reason,
      monthlySaving: move.monthlySaving,
      bytes: move.bytes,
      by,
    };
    mkdirSync(path.dirname(this.file), { recursive: true });
    const fd = openSync(this.file, "a", 0o600);
    try {
      writeSync(fd, JSON.stringify(entry) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return entry;
  }

  /** Every entry, oldest first. A torn last line (crash mid-append) is skipped; other bad lines are an error. */
  entries(): JournalEntry[] {
    return readJournal(this.file);
  }
}

export function readJournal(file: string): JournalEntry[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const lines = text.split("\n");
  const out: JournalEntry[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      if (i === lines.length - 1) return; // the append that a crash cut short
      throw new Error(`${file} line ${i + 1} is not JSON; fix or remove that line`);
    }
  });
  return out;
}
