/**
 * Web uploads as durable jobs: one table (`upload_jobs`) in the server's database, the same SQL on
 * PGlite (embedded default) and Postgres (`DATABASE_URL`, shared by every instance).
 *
 * A job is reserved (`receiving`) before its bytes are read and queued once they are in the spool
 * directory, hashed while received and checked against the signed SHA-256. A worker
 * claims it with a lease (`lease_until`, renewed by heartbeats while it works); a worker that dies
 * (kill -9, crash, lost host) stops renewing, the lease expires, and any other worker claims the
 * job again. Every write a worker makes carries its lease token, so a worker that lost its lease
 * cannot overwrite the progress or the result of the one that took over (fencing).
 *
 * States: queued -> running -> published (pieces + manifest stored, key sealed; the creator's
 * wallet registers it) -> registered (seen on chain), or failed (with the reason; `resume` queues
 * it again). One job per (creator, content id): the same bytes uploaded again get the same job,
 * so nothing is processed, stored or registered twice.
 */
import { randomUUID } from "node:crypto";
import { ensureSchema, type SqlClient } from "../../db/index.ts";

export type UploadJobState = "receiving" | "queued" | "running" | "published" | "registered" | "failed";

export interface UploadJobResult {
  manifestCid: string;
  title: string;
  storedBytes: number;
  warnings: { code: string; message: string }[];
  /** an album: each track's title as published (the creator's, else its title tag, else its file name) */
  trackTitles?: string[];
  registerTx?: string;
}

/** One track of an album upload job, in track order. */
export interface UploadJobTrack {
  fileName: string;
  /** the creator's title for it ("" : the file's title tag, else its file name) */
  title: string;
  sha256: string;
  size: number;
}

/**
 * An album/EP uploaded as one job (one item: lib/media processAlbum): the job's `sha256` is the
 * album's (album-id.ts, from its tracks' in order), its `size` the tracks' total; while it is
 * processed, `stage` names the track being encoded ("processing track 2 of 3").
 */
export interface UploadJobAlbum {
  title: string;
  tracks: UploadJobTrack[];
}

export interface UploadJob {
  id: string;
  creator: string;
  contentId: string;
  externalId: string;
  sha256: string;
  size: number;
  fileName: string;
  tier: "free" | "premium" | "exclusive";
  /** premium/exclusive: the standard variant is stored in the clear (the creator gives it away) */
  freeStandard: boolean;
  /** seconds into the track the 30 s preview starts (0: the beginning) */
  previewStart: number;
  /** an album upload: its title and tracks (null: a single track) */
  album: UploadJobAlbum | null;
  state: UploadJobState;
  stage: string;
  progress: number;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseUntil: string | null;
  error: string | null;
  /** true when retrying cannot help (the file is not usable media) */
  permanent: boolean;
  result: UploadJobResult | null;
  createdAt: string;
  updatedAt: string;
}

/** What a worker holds while it works on a job: the job and its lease token. */
export interface ClaimedJob {
  job: UploadJob;
  token: string;
}

interface Row {
  id: string;
  creator: string;
  content_id: string;
  external_id: string;
  sha256: string;
  size: string | number;
  file_name: string;
  tier: UploadJob["tier"];
  free_standard: boolean;
  preview_start: number | string | null;
  album: UploadJobAlbum | string | null;
  state: UploadJobState;
  stage: string;
  progress: number;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_token: string | null;
  lease_until: Date | string | null;
  error: string | null;
  permanent: boolean;
  result: UploadJobResult | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function fromRow(r: Row): UploadJob {
  return {
    id: r.id,
    creator: r.creator,
    contentId: r.content_id,
    externalId: r.external_id,
    sha256: r.sha256,
    size: Number(r.size),
    fileName: r.file_name,
    tier: r.tier,
    freeStandard: r.free_standard,
    previewStart: Number(r.preview_start ?? 0),
    album: typeof r.album === "string" ? (JSON.parse(r.album) as UploadJobAlbum) : (r.album ?? null),
    state: r.state,
    stage: r.stage,
    progress: Number(r.progress),
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    leaseOwner: r.lease_owner,
    leaseUntil: iso(r.lease_until),
    error: r.error,
    permanent: r.permanent,
    result: typeof r.result === "string" ? (JSON.parse(r.result) as UploadJobResult) : r.result,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

export interface NewUploadJob {
  creator: string;
  contentId: string;
  externalId: string;
  sha256: string;
  size: number;
  fileName: string;
  tier: UploadJob["tier"];
  freeStandard?: boolean;
  previewStart?: number;
  album?: UploadJobAlbum;
}

/** The job table's operations; every instance and worker process opens its own on the same database. */
export class UploadJobQueue {
  readonly db: SqlClient;
  /** a worker that does not renew its lease for this long has died; its job is claimed again */
  readonly leaseMs: number;
  /** claims of one job (worker deaths count; a failure reported by a worker ends it at once) */
  readonly maxAttempts: number;

  private constructor(db: SqlClient, options: { leaseMs?: number; maxAttempts?: number }) {
    this.db = db;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  static async open(db: SqlClient, options: { leaseMs?: number; maxAttempts?: number } = {}): Promise<UploadJobQueue> {
    const queue = new UploadJobQueue(db, options);
    await ensureSchema(db, [
      `CREATE TABLE IF NOT EXISTS upload_jobs (
      id TEXT PRIMARY KEY,
      creator TEXT NOT NULL,
      content_id TEXT NOT NULL,
      external_id TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      size BIGINT NOT NULL,
      file_name TEXT NOT NULL,
      tier TEXT NOT NULL,
      free_standard BOOLEAN NOT NULL DEFAULT false,
      preview_start REAL NOT NULL DEFAULT 0,
      state TEXT NOT NULL,
      stage TEXT NOT NULL DEFAULT 'queued',
      progress REAL NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL,
      lease_owner TEXT,
      lease_token TEXT,
      lease_until TIMESTAMPTZ,
      error TEXT,
      permanent BOOLEAN NOT NULL DEFAULT false,
      result JSONB,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (creator, content_id)
    )`,
      // Tables made before these options get their columns.
      `ALTER TABLE upload_jobs ADD COLUMN IF NOT EXISTS free_standard BOOLEAN NOT NULL DEFAULT false`,
      `ALTER TABLE upload_jobs ADD COLUMN IF NOT EXISTS preview_start REAL NOT NULL DEFAULT 0`,
      `ALTER TABLE upload_jobs ADD COLUMN IF NOT EXISTS album JSONB`,
      `CREATE INDEX IF NOT EXISTS upload_jobs_claimable ON upload_jobs (state, lease_until)`,
    ]);
    return queue;
  }

  /**
   * Inserts a job whose bytes are still arriving (state `receiving`, leased to this request, never
   * claimed by workers), or returns the existing job of the same creator and bytes (`created:
   * false`). A `receiving` job whose request died (its lease expired) is taken over.
   */
  async reserve(job: NewUploadJob, owner: string): Promise<{ job: UploadJob; created: true; claimed: ClaimedJob } | { job: UploadJob; created: false }> {
    const id = randomUUID();
    const token = randomUUID();
    const { rows } = await this.db.query<Row>(
      `INSERT INTO upload_jobs (id, creator, content_id, external_id, sha256, size, file_name, tier, free_standard, preview_start, album, state, stage, max_attempts, lease_owner, lease_token, lease_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $13, $14, $15::jsonb, 'receiving', 'receiving', $9, $10, $11, now() + make_interval(secs => $12::double precision))
       ON CONFLICT (creator, content_id) DO UPDATE SET
         file_name = EXCLUDED.file_name, tier = EXCLUDED.tier, free_standard = EXCLUDED.free_standard, preview_start = EXCLUDED.preview_start, album = EXCLUDED.album, lease_owner = EXCLUDED.lease_owner,
         lease_token = EXCLUDED.lease_token, lease_until = EXCLUDED.lease_until, progress = 0, updated_at = now()
       WHERE upload_jobs.state = 'receiving' AND upload_jobs.lease_until < now()
       RETURNING *`,
      [id, job.creator.toLowerCase(), job.contentId.toLowerCase(), job.externalId, job.sha256, job.size, job.fileName, job.tier, this.maxAttempts, owner, token, this.leaseMs / 1000, job.freeStandard ?? false, job.previewStart ?? 0, job.album ? JSON.stringify(job.album) : null],
    );
    if (rows[0]) {
      const created = fromRow(rows[0]);
      return { job: created, created: true, claimed: { job: created, token } };
    }
    const existing = await this.byContent(job.creator, job.contentId);
    if (!existing) throw new Error(`upload job for ${job.contentId} vanished while being created; try again`);
    return { job: existing, created: false };
  }

  /** The reserved job's bytes are in the spool: workers may take it. False when the reservation was lost. */
  async markQueued(claimed: ClaimedJob): Promise<boolean> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE upload_jobs SET state = 'queued', stage = 'queued', progress = 0, lease_owner = NULL, lease_token = NULL, lease_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND state = 'receiving' RETURNING id`,
      [claimed.job.id, claimed.token],
    );
    return rows.length === 1;
  }

  /** The bytes never arrived whole: forget the reservation (nothing was stored). */
  async abandon(claimed: ClaimedJob): Promise<void> {
    await this.db.query(`DELETE FROM upload_jobs WHERE id = $1 AND lease_token = $2 AND state = 'receiving'`, [claimed.job.id, claimed.token]);
  }

  async get(id: string): Promise<UploadJob | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM upload_jobs WHERE id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async byContent(creator: string, contentId: string): Promise<UploadJob | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM upload_jobs WHERE creator = $1 AND content_id = $2`, [creator.toLowerCase(), contentId.toLowerCase()]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async listByCreator(creator: string, limit = 100): Promise<UploadJob[]> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM upload_jobs WHERE creator = $1 ORDER BY created_at DESC LIMIT $2`, [creator.toLowerCase(), limit]);
    return rows.map(fromRow);
  }

  /**
   * Takes the oldest queued job, or a running one whose lease expired (its worker died), for
   * `owner`. One statement with FOR UPDATE SKIP LOCKED: two workers never take the same job.
   */
  async claim(owner: string): Promise<ClaimedJob | undefined> {
    // Jobs whose workers died too often end as failed instead of being claimed forever.
    await this.db.query(
      `UPDATE upload_jobs SET state = 'failed', lease_owner = NULL, lease_token = NULL, lease_until = NULL, updated_at = now(),
         error = 'its worker stopped ' || attempts || ' times without finishing (killed, out of memory or crashed): resume it to try again; look at the server logs if it keeps stopping'
       WHERE state = 'running' AND lease_until < now() AND attempts >= max_attempts`,
    );
    const token = randomUUID();
    const { rows } = await this.db.query<Row>(
      `UPDATE upload_jobs SET state = 'running', lease_owner = $1, lease_token = $2,
         lease_until = now() + make_interval(secs => $3::double precision), attempts = attempts + 1, updated_at = now()
       WHERE id = (
         SELECT id FROM upload_jobs
         WHERE state = 'queued' OR (state = 'running' AND lease_until < now())
         ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
       ) RETURNING *`,
      [owner, token, this.leaseMs / 1000],
    );
    return rows[0] ? { job: fromRow(rows[0]), token } : undefined;
  }

  /** Renews the lease; false when it was lost (expired and taken by another worker): stop working then. */
  async heartbeat(claimed: ClaimedJob): Promise<boolean> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE upload_jobs SET lease_until = now() + make_interval(secs => $3::double precision)
       WHERE id = $1 AND lease_token = $2 AND state IN ('running', 'receiving') RETURNING id`,
      [claimed.job.id, claimed.token, this.leaseMs / 1000],
    );
    return rows.length === 1;
  }

  /** Progress of the job (0..1) with its stage; false when the lease was lost. */
  async progress(claimed: ClaimedJob, stage: string, progress: number): Promise<boolean> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE upload_jobs SET stage = $3, progress = $4, updated_at = now() WHERE id = $1 AND lease_token = $2 AND state IN ('running', 'receiving') RETURNING id`,
      [claimed.job.id, claimed.token, stage, progress],
    );
    return rows.length === 1;
  }

  /** Stored and sealed: the creator's wallet registers it next. False when the lease was lost. */
  async publish(claimed: ClaimedJob, result: UploadJobResult): Promise<boolean> {
    return this.finish(claimed, "published", result);
  }

  /** Already on chain with this content (an earlier run got that far): nothing left to do. */
  async registered(claimed: ClaimedJob, result: UploadJobResult): Promise<boolean> {
    return this.finish(claimed, "registered", result);
  }

  private async finish(claimed: ClaimedJob, state: "published" | "registered", result: UploadJobResult): Promise<boolean> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE upload_jobs SET state = $3, stage = $3, progress = 1, result = $4::jsonb, error = NULL, permanent = false,
         lease_owner = NULL, lease_token = NULL, lease_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING id`,
      [claimed.job.id, claimed.token, state, JSON.stringify(result)],
    );
    return rows.length === 1;
  }

  /** The job failed with `reason` (what to do included); `permanent` when retrying cannot help. */
  async fail(claimed: ClaimedJob, reason: string, permanent: boolean): Promise<boolean> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE upload_jobs SET state = 'failed', error = $3, permanent = $4, lease_owner = NULL, lease_token = NULL, lease_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING id`,
      [claimed.job.id, claimed.token, reason, permanent],
    );
    return rows.length === 1;
  }

  /** A failed job whose reason was not permanent, queued again (attempts start over). */
  async resume(id: string): Promise<UploadJob | string> {
    const job = await this.get(id);
    if (!job) return `no upload job ${id}`;
    if (job.state !== "failed") return `upload job ${id} is ${job.state}, not failed: nothing to resume`;
    if (job.permanent) return `upload job ${id} cannot succeed on a retry (${job.error}): fix the file and upload it again`;
    const { rows } = await this.db.query<Row>(
      `UPDATE upload_jobs SET state = 'queued', stage = 'queued', progress = 0, attempts = 0, updated_at = now()
       WHERE id = $1 AND state = 'failed' RETURNING *`,
      [id],
    );
    return rows[0] ? fromRow(rows[0]) : `upload job ${id} changed meanwhile; look again`;
  }

  /** The creator's wallet registered the item (checked on chain by the caller). */
  async markRegistered(id: string, registerTx: string | undefined): Promise<UploadJob | undefined> {
    const { rows } = await this.db.query<Row>(
      `UPDATE upload_jobs SET state = 'registered', stage = 'registered',
         result = CASE WHEN $2::text IS NULL THEN result ELSE jsonb_set(result, '{registerTx}', to_jsonb($2::text)) END, updated_at = now()
       WHERE id = $1 AND state IN ('published', 'registered') RETURNING *`,
      [id, registerTx ?? null],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }
}
