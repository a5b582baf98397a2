/**
 * The audit log: every sign-in, logout, release and stream release, allowed or denied, is an
 * `audit_log` row; a release's play row is written with its audit row (group-committed). Nothing
 * here holds state beyond the queue of rows being written.
 */
import type { SqlClient } from "./db.ts";
import { Refusal, type Logger } from "./http.ts";

export interface AuditEntry {
  event: "sign-in" | "logout" | "release" | "stream-release";
  outcome: "allowed" | "denied";
  wallet?: string | null;
  ip?: string | null;
  contentId?: string | null;
  channelId?: string | null;
  reason: string;
  detail?: Record<string, unknown>;
}

/** A `plays` row: evidence of a play (see plays.ts). */
export interface PlayRow {
  contentId: string;
  wallet: string | null;
  kind: "key-release" | "segment" | "segment-request";
  segments: number;
  at: Date;
  viewer: string;
  playStart: boolean;
}

export class AuditLog {
  readonly #writer: BatchWriter;
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(db: SqlClient, now: () => number, log: Logger) {
    this.#writer = new BatchWriter(db);
    this.#now = now;
    this.#log = log;
  }

  /** Writes an audit row; resolves once it is in the database (rows of concurrent requests share one INSERT). */
  write(entry: AuditEntry): Promise<void> {
    return this.#writer.write(this.#row(entry), undefined);
  }

  /** Audit row and play row, written in one statement; a release is answered only once both are in. */
  writeWithPlay(entry: AuditEntry, play: PlayRow): Promise<void> {
    return this.#writer.write(this.#row(entry), playValues(play));
  }

  /** A play row alone (segment requests). */
  writePlay(play: PlayRow): Promise<void> {
    return this.#writer.write(undefined, playValues(play));
  }

  /** Audits a refused request (never throws: a failed audit write is logged). */
  async denial(error: unknown, entry: Omit<AuditEntry, "outcome" | "reason">): Promise<void> {
    const reason = error instanceof Refusal ? error.reason : "internal_error";
    const detail = error instanceof Refusal ? { status: error.status, message: error.message } : { status: 500 };
    try {
      await this.write({ ...entry, outcome: "denied", reason, detail });
    } catch (auditError) {
      this.#log.error("audit write failed", { event: entry.event, error: String(auditError) });
    }
    this.#log.info("key request denied", { event: entry.event, contentId: entry.contentId, wallet: entry.wallet, reason });
  }

  /** Resolves once every queued row is written. */
  idle(): Promise<void> {
    return this.#writer.idle();
  }

  #row(entry: AuditEntry): unknown[] {
    return [
      new Date(this.#now()),
      entry.event,
      entry.outcome,
      entry.wallet ?? null,
      entry.ip ?? null,
      entry.contentId?.toLowerCase() ?? null,
      entry.channelId ?? null,
      entry.reason,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    ];
  }
}

function playValues(play: PlayRow): unknown[] {
  return [play.contentId.toLowerCase(), play.wallet, play.kind, play.segments, play.at, play.viewer, play.playStart];
}

/**
 * Group commit for audit and play rows: requests arriving while a write is in flight are queued and
 * written together in the next statement (one multi-row INSERT per table, in one statement).
 * Every caller's promise settles only after its own rows are written, so no release is answered
 * before its audit row exists, and a failed write fails every request in that batch.
 */
class BatchWriter {
  readonly #db: SqlClient;
  #queue: { audit: unknown[] | undefined; play: unknown[] | undefined; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #running: Promise<void> | undefined;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  /** An audit row, a play row (content_id, wallet, kind, segments, at, viewer, play_start), or both. */
  write(audit: unknown[] | undefined, play: unknown[] | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ audit, play, resolve, reject });
      if (this.#running === undefined) this.#running = this.#drain();
    });
  }

  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, 500);
      try {
        await this.#flush(batch.flatMap((b) => (b.audit === undefined ? [] : [b.audit])), batch.flatMap((b) => (b.play === undefined ? [] : [b.play])));
        for (const b of batch) b.resolve();
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.#running = undefined;
  }

  async #flush(audits: unknown[][], plays: unknown[][]): Promise<void> {
    const values = (rows: unknown[][], width: number, offset = 0) => rows.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${offset + r * width + c + 1}`).join(", ")})`).join(", ");
    const auditSql = `INSERT INTO audit_log (at, event, outcome, wallet, ip, content_id, channel_id, reason, detail) VALUES ${values(audits, 9)}`;
    const playSql = (offset: number) => `INSERT INTO plays (content_id, wallet, kind, segments, at, viewer, play_start) VALUES ${values(plays, 7, offset)}`;
    if (plays.length === 0) {
      if (audits.length > 0) await this.#db.query(auditSql, audits.flat());
      return;
    }
    if (audits.length === 0) {
      await this.#db.query(playSql(0), plays.flat());
      return;
    }
    // One statement: the plays insert rides in a data-modifying CTE with the audit insert (atomic).
    await this.#db.query(`WITH audit AS (${auditSql}) ${playSql(audits.length * 9)}`, [...audits.flat(), ...plays.flat()]);
  }
}
