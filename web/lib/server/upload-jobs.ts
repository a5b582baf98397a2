/**
 * Upload jobs in the web server (lib/catalog/uploads): the routes' handlers and this instance's
 * job worker. One per process, kept on globalThis: Next bundles instrumentation.ts (which starts
 * the worker at boot) apart from the route handlers, and both must share one database handle and
 * one key store (PGlite allows one opener per directory). UPLOAD_WORKER=0 leaves the jobs to
 * standalone workers (`npm run upload-worker`).
 */
import { createPublicClient, http, type Address } from "viem";
import type { UploadHttp } from "@streamvault/lib/catalog/uploads/http.ts";
import type { UploadJobQueue } from "@streamvault/lib/catalog/uploads/jobs.ts";
import { REPO_ROOT, RPC_URL, contract, publicConfig } from "./config.ts";
import { keyStore } from "./keystore.ts";
import { loadManifest, pieceStore } from "./store.ts";

interface UploadService {
  http: UploadHttp;
  /** the job table (the release route reads a finished job's manifest) */
  queue: UploadJobQueue;
  worker?: { owner: string; stop(): Promise<void> };
}

const shared = globalThis as typeof globalThis & { __streamvaultUploads?: Promise<UploadService> };

async function launchedCreatorRefusal(wallet: Address): Promise<string | null> {
  const client = createPublicClient({ transport: http(RPC_URL) });
  const coin = await client.readContract({ ...contract("CreatorRegistry"), functionName: "coinOf", args: [wallet] });
  return /^0x0{40}$/.test(coin) ? "launch as a creator before you upload" : null;
}

async function start(): Promise<UploadService> {
  const [service, httpLib, workerLib] = await Promise.all([
    import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/uploads/service.ts"),
    import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/uploads/http.ts"),
    import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/uploads/job-worker.ts"),
  ]);
  const settings = service.uploadJobSettings(process.env, REPO_ROOT);
  const jobs = await service.openUploadJobDatabase(settings);
  const registeredManifest = service.registeredManifestReader(RPC_URL, () => publicConfig().contracts.ContentAccess);
  const owner = `web:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  // A job's item may go on chain with an edited manifest (the creator's details over the job's media).
  const editedFrom = async (cid: string) => (await loadManifest(cid).catch(() => undefined))?.editedFrom;
  const routes = httpLib.uploadHttp({ queue: jobs.queue, ledger: jobs.ledger, spoolDir: settings.spoolDir, maxBytes: settings.maxBytes, owner, refuseWallet: launchedCreatorRefusal, registeredManifest, editedFrom });
  let worker: UploadService["worker"];
  if (!/^(0|off|false|no)$/i.test(process.env.UPLOAD_WORKER ?? "")) {
    const [store, keys] = await Promise.all([pieceStore(), keyStore()]);
    worker = workerLib.startUploadWorker({
      queue: jobs.queue, store, keyStore: keys, spoolDir: settings.spoolDir, concurrency: settings.concurrency, owner,
      registeredManifest, log: (line) => console.log(line),
    });
  }
  return { http: routes, queue: jobs.queue, worker };
}

/** The upload handlers of this process (the worker starts with them). */
export function uploadService(): Promise<UploadService> {
  shared.__streamvaultUploads ??= start();
  shared.__streamvaultUploads.catch(() => (shared.__streamvaultUploads = undefined));
  return shared.__streamvaultUploads;
}
