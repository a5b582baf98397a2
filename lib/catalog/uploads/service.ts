/**
 * Upload jobs wired from the environment: the same settings for the web instances (which mount
 * the routes and run a worker each) and the standalone worker (scripts/upload-worker.ts).
 *
 * | variable | default | what |
 * | `DATABASE_URL` | – | Postgres shared by every instance and worker (jobs and used nonces) |
 * | `UPLOAD_JOBS_DIR` | `$STREAMVAULT_HOME/upload-jobs` (home default `.streamvault`) | PGlite directory when there is no `DATABASE_URL` (one process only) |
 * | `UPLOAD_SPOOL_DIR` | `$STREAMVAULT_HOME/uploads/spool` | received files waiting for their job: one directory shared by every instance |
 * | `UPLOAD_MAX_BYTES` | 1 GiB | largest upload |
 * | `UPLOAD_JOB_LEASE_MS` | 30000 | a worker silent this long is taken for dead; its job is claimed again |
 * | `UPLOAD_JOB_MAX_ATTEMPTS` | 3 | claims of one job before it ends as failed (worker deaths) |
 * | `UPLOAD_WORKER_CONCURRENCY` | 1 | jobs one worker runs at once |
 */
import path from "node:path";
import { createPublicClient, http, type Address } from "viem";
import { contentAccessAbi } from "../../deployments/abis.ts";
import { openPglite, openPostgres, type SqlClient } from "../../db/index.ts";
import { sqlNonceLedger, type NonceLedger } from "../../signed-request/index.ts";
import { cidFromBytes } from "../../chain/cid.ts";
import { UploadJobQueue } from "./jobs.ts";
import { DEFAULT_UPLOAD_MAX_BYTES } from "./http.ts";

export interface UploadJobSettings {
  databaseUrl?: string;
  jobsDir: string;
  spoolDir: string;
  maxBytes: number;
  leaseMs: number;
  maxAttempts: number;
  concurrency: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return value;
}

/** Settings from the environment; relative directories are resolved against `root`. */
export function uploadJobSettings(env: NodeJS.ProcessEnv, root: string): UploadJobSettings {
  // Under the home the rest of the server's state lives in, so two homes never share one job list.
  const home = env.STREAMVAULT_HOME || ".streamvault";
  const dir = (value: string | undefined, fallback: string) => path.resolve(root, value || path.join(home, fallback));
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    jobsDir: dir(env.UPLOAD_JOBS_DIR, "upload-jobs"),
    spoolDir: dir(env.UPLOAD_SPOOL_DIR, "uploads/spool"),
    maxBytes: positive(env, "UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES),
    leaseMs: positive(env, "UPLOAD_JOB_LEASE_MS", 30_000),
    maxAttempts: positive(env, "UPLOAD_JOB_MAX_ATTEMPTS", 3),
    concurrency: positive(env, "UPLOAD_WORKER_CONCURRENCY", 1),
  };
}

export interface UploadJobDatabase {
  db: SqlClient;
  queue: UploadJobQueue;
  ledger: NonceLedger;
  close(): Promise<void>;
}

/** The job table and the nonce ledger, on Postgres (`DATABASE_URL`) or PGlite (`UPLOAD_JOBS_DIR`). */
export async function openUploadJobDatabase(settings: UploadJobSettings): Promise<UploadJobDatabase> {
  const db = settings.databaseUrl ? await openPostgres(settings.databaseUrl) : await openPglite(settings.jobsDir);
  const queue = await UploadJobQueue.open(db, { leaseMs: settings.leaseMs, maxAttempts: settings.maxAttempts });
  const ledger = await sqlNonceLedger(db);
  return { db, queue, ledger, close: () => db.close() };
}

/** Reads the manifest an item is registered with on ContentAccess (undefined when not registered). */
export function registeredManifestReader(rpcUrl: string, contentAccess: () => Address): (contentId: string) => Promise<string | undefined> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  return async (contentId) => {
    try {
      const [, , manifest] = await client.readContract({ address: contentAccess(), abi: contentAccessAbi, functionName: "contentInfo", args: [contentId as `0x${string}`] });
      return cidFromBytes(manifest);
    } catch (err) {
      if (String((err as Error).message).includes("UnknownContent")) return undefined;
      throw err;
    }
  };
}
