/**
 * The upload job worker: claims jobs from `upload_jobs` (jobs.ts) and runs each through the shared
 * pipeline (lib/media processMedia, or processAlbum for an album job, + publishDetailed): validated, encoded per tier, encrypted,
 * stored, key sealed. It runs inside every web instance (web/instrumentation.ts) and as a
 * standalone process (scripts/upload-worker.ts); any number of them share one database.
 *
 * While it works it renews the job's lease; when the lease is lost (this process stalled so long
 * that another worker took the job) it stops and writes nothing. A job taken over after a crash
 * reuses the content key sealed by the first attempt (the key store is written before any
 * ciphertext is stored), and pieces already stored are content-addressed, so nothing is stored
 * twice under another key. Before processing, the worker asks the chain: an item already
 * registered with a stored manifest is finished as `registered` without doing anything again.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { MediaIngestError, processAlbum, processMedia, publishDetailed, titleFromFileName } from "../../media/index.ts";
import { hasErrorCode } from "../../errors.ts";
import type { KeyStore } from "../../keys/index.ts";
import type { PieceStore } from "../../storage/types.ts";
import type { ClaimedJob, UploadJobQueue } from "./jobs.ts";

export interface UploadWorkerOptions {
  queue: UploadJobQueue;
  store: PieceStore;
  keyStore: KeyStore;
  /** where received uploads wait for their job (`<spoolDir>/<jobId>/source`); shared by every instance */
  spoolDir: string;
  /** The manifest CID the item is registered with on chain, undefined when it is not registered. */
  registeredManifest?: (contentId: string) => Promise<string | undefined>;
  /** this worker's name in `lease_owner` (default host:pid:random) */
  owner?: string;
  /** how often an idle worker looks for a job (default 1000 ms) */
  pollMs?: number;
  /** jobs run at once by this worker (default 1: ffmpeg already uses the cores) */
  concurrency?: number;
  log?: (line: string) => void;
}

/** Where a job's received bytes are (written by the upload route, read by the worker). */
export function spoolSourceOf(spoolDir: string, jobId: string): string {
  return path.join(spoolDir, jobId, "source");
}

/**
 * Where an album job's track `number` (1-based) is: under the uploader's file name (made safe), so
 * the pipeline's file-name title and its errors name the file the creator chose.
 */
export function spoolTrackOf(spoolDir: string, jobId: string, number: number, fileName: string): string {
  const safe = path.basename(fileName).replace(/[^\w .()+,-]/g, "_").replace(/^\.+/, "").slice(0, 120) || `track-${number}`;
  return path.join(spoolDir, jobId, "tracks", String(number), safe);
}

/** The spooled files of a job: its one source, or an album's tracks in order. */
function spooledFilesOf(spoolDir: string, job: ClaimedJob["job"]): string[] {
  return job.album ? job.album.tracks.map((t, i) => spoolTrackOf(spoolDir, job.id, i + 1, t.fileName)) : [spoolSourceOf(spoolDir, job.id)];
}

export interface UploadWorker {
  readonly owner: string;
  /** Stops claiming, waits for the jobs in hand to end. */
  stop(): Promise<void>;
}

/** Runs one claimed job to its end (published, registered or failed); never throws. */
export async function runUploadJob(options: UploadWorkerOptions, claimed: ClaimedJob): Promise<void> {
  const { queue, store, keyStore, spoolDir } = options;
  const { job } = claimed;
  const log = options.log ?? (() => {});
  const abort = new AbortController();
  let lost = false;
  const heartbeat = setInterval(() => {
    queue.heartbeat(claimed).then(
      (kept) => {
        if (!kept && !lost) {
          lost = true;
          log(`upload job ${job.id}: lease lost (another worker took it over); stopping`);
          abort.abort(new Error("lease lost"));
        }
      },
      (err: unknown) => log(`upload job ${job.id}: heartbeat failed: ${(err as Error).message}`),
    );
  }, Math.max(200, Math.floor(queue.leaseMs / 3)));
  const jobDir = path.join(spoolDir, job.id);
  const workDir = path.join(jobDir, `work-${claimed.token}`);
  try {
    log(`upload job ${job.id} (${job.fileName}, attempt ${job.attempts}) taken by ${job.leaseOwner}`);
    // Idempotency against the chain: an item already registered (by an earlier attempt's wallet
    // step, or the CLI) is not processed or stored again.
    const onChain = await options.registeredManifest?.(job.contentId);
    if (onChain && (await store.has(onChain))) {
      log(`upload job ${job.id}: already registered on chain with ${onChain}; nothing to do again`);
      await queue.registered(claimed, { manifestCid: onChain, title: job.result?.title ?? job.fileName, storedBytes: job.result?.storedBytes ?? 0, warnings: job.result?.warnings ?? [] });
      await rm(jobDir, { recursive: true, force: true });
      return;
    }
    const sources = spooledFilesOf(spoolDir, job);
    try {
      for (const source of sources) await stat(source);
    } catch {
      await queue.fail(claimed, `the uploaded file is no longer in the spool directory (${spoolDir}; with several instances it must be one shared directory, UPLOAD_SPOOL_DIR): upload the file again`, true);
      return;
    }
    await queue.progress(claimed, "processing", 0.1);
    log(`upload job ${job.id}: processing`);
    // A crash after the key was sealed leaves it in the key store: the retry encrypts under the same key.
    const existingKey = job.tier === "free" ? undefined : await keyStore.getKey(job.contentId);
    await mkdir(workDir, { recursive: true });
    const { album } = job;
    // An album is one item of several tracks (lib/media/album.ts); processing is 10-60 %, shared by its tracks.
    const processed = album
      ? await processAlbum(sources, {
          contentId: job.contentId, tier: job.tier, workDir, key: existingKey, freeStandard: job.freeStandard, album: album.title, trackTitles: album.tracks.map((t) => t.title),
          onTrack: (number, total) => void queue.progress(claimed, `processing track ${number} of ${total}`, 0.1 + 0.5 * ((number - 1) / total)).catch(() => {}),
        })
      : await processMedia(sources[0]!, { contentId: job.contentId, tier: job.tier, workDir, key: existingKey, freeStandard: job.freeStandard, previewStart: job.previewStart, fallbackTitle: titleFromFileName(job.fileName) });
    abort.signal.throwIfAborted();
    if (processed.key && !existingKey) await keyStore.putKey(job.contentId, processed.key, job.creator);
    await queue.progress(claimed, "storing", 0.6);
    log(`upload job ${job.id}: storing ${processed.pieces.length + 1} pieces`);
    const published = await publishDetailed(processed, store, {
      concurrency: 4,
      signal: abort.signal,
      onProgress: (done, total) => void queue.progress(claimed, "storing", 0.6 + 0.39 * (done / total)).catch(() => {}),
    });
    const storedBytes = [...published.stored.values()].reduce((sum, r) => sum + r.size, 0);
    const title = processed.tags?.title ?? job.fileName;
    const warnings = (processed.info.warnings ?? []).map(({ code, message }) => ({ code, message }));
    const trackTitles = processed.tracks?.map((t) => t.title);
    if (await queue.publish(claimed, { manifestCid: published.manifestCid, title, storedBytes, warnings, ...(trackTitles ? { trackTitles } : {}) })) {
      await rm(jobDir, { recursive: true, force: true });
      log(`upload job ${job.id} published ${published.manifestCid}`);
    }
  } catch (error) {
    if (lost) return; // the worker that took over owns the job now
    const e = error as { reason?: string; message?: string };
    // Bad media (or an album track that is a video) cannot succeed on a retry.
    const permanent = error instanceof MediaIngestError || hasErrorCode(error, "bad_input");
    const reason = permanent && e.reason ? `${e.reason}: ${e.message}` : `${e.message ?? String(error)} (resume the job to try again)`;
    log(`upload job ${job.id} failed: ${reason}`);
    await queue.fail(claimed, reason, permanent).catch(() => {});
    if (permanent) await rm(jobDir, { recursive: true, force: true });
  } finally {
    clearInterval(heartbeat);
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Starts a worker loop: claims and runs jobs until `stop()`. */
export function startUploadWorker(options: UploadWorkerOptions): UploadWorker {
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pollMs = options.pollMs ?? 1000;
  const log = options.log ?? (() => {});
  let stopping = false;
  let wake: (() => void) | undefined;
  const loop = async () => {
    while (!stopping) {
      let claimed: ClaimedJob | undefined;
      try {
        claimed = await options.queue.claim(owner);
      } catch (err) {
        log(`upload worker ${owner}: claim failed: ${(err as Error).message}`);
      }
      if (claimed) {
        await runUploadJob(options, claimed);
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  const loops = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, loop);
  return {
    owner,
    async stop() {
      stopping = true;
      wake?.();
      await Promise.all(loops);
    },
  };
}
