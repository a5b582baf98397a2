/**
 * `npm run upload-worker`: the upload job worker as a process of its own (every web instance also
 * runs one unless UPLOAD_WORKER=0). Reads the same settings as the web app: DATABASE_URL (or the
 * PGlite UPLOAD_JOBS_DIR, which only one process may open: alone on PGlite, stop the web server
 * first or leave the worker inside it), UPLOAD_SPOOL_DIR (shared with the web instances),
 * STORAGE_*, KEYSTORE_DIR, STREAMVAULT_MASTER_KEY, RPC_URL, CHAIN_ID, DEPLOYMENTS_DIR.
 * SIGTERM/SIGINT: stops claiming and lets the job in hand finish; kill -9: another worker takes
 * the job over when its lease expires (UPLOAD_JOB_LEASE_MS).
 */
import path from "node:path";
import { openKeyStore } from "@streamvault/lib/keys";
import { createStore } from "@streamvault/lib/storage";
import { journalPath, placementView } from "@streamvault/lib/storage/placement";
import { contractOf, loadDeployment } from "@streamvault/lib/deployments";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { startUploadWorker } from "@streamvault/lib/catalog/uploads/job-worker.ts";
import { openUploadJobDatabase, registeredManifestReader, uploadJobSettings } from "@streamvault/lib/catalog/uploads/service.ts";

const env = process.env;
const root = env.STREAMVAULT_ROOT ?? REPO_ROOT;
const fromRoot = (value: string | undefined, fallback: string) => path.resolve(root, value || fallback);
const settings = uploadJobSettings(env, root);
const chainId = Number(env.CHAIN_ID ?? 31337);
const deploymentsDir = fromRoot(env.DEPLOYMENTS_DIR, "deployments");

const jobs = await openUploadJobDatabase(settings);
const keyStore = await openKeyStore({ dataDir: fromRoot(env.KEYSTORE_DIR, ".streamvault/keys") });
const store = createStore({
  dataDir: fromRoot(env.STORAGE_DATA_DIR, ".streamvault/pieces"),
  placementView: placementView(journalPath(fromRoot(env.STREAMVAULT_HOME, ".streamvault"))),
});
const worker = startUploadWorker({
  queue: jobs.queue,
  store,
  keyStore,
  spoolDir: settings.spoolDir,
  concurrency: settings.concurrency,
  registeredManifest: registeredManifestReader(env.RPC_URL ?? "http://127.0.0.1:8545", () => contractOf(loadDeployment(chainId, deploymentsDir), "ContentAccess").address),
  log: (line) => console.log(line),
});
console.log(`upload worker ${worker.owner} ready (${settings.databaseUrl ? "Postgres" : `PGlite ${settings.jobsDir}`}, spool ${settings.spoolDir})`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await worker.stop();
  await Promise.all([jobs.close(), keyStore.close()]);
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
