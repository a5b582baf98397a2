/**
 * Web uploads as durable jobs (lib/catalog/uploads/jobs.ts, job-worker.ts, http.ts) and the
 * single-use body-bound signed requests they use (lib/signed-request), on PGlite and, when
 * TEST_DATABASE_URL is set, on Postgres: the same SQL on both. Real parts: anvil with the system
 * deployed, ffmpeg, the key store, a local piece store, worker child processes killed with SIGKILL.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseEther, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { openPglite, openPostgres, type SqlClient } from "@streamvault/lib/db";
import { UploadJobQueue, type UploadJob } from "@streamvault/lib/catalog/uploads/jobs.ts";
import { runUploadJob, spoolTrackOf } from "@streamvault/lib/catalog/uploads/job-worker.ts";
import { albumSha256 } from "@streamvault/lib/catalog/uploads/uploader.ts";
import { uploadHttp, type UploadHttp } from "@streamvault/lib/catalog/uploads/http.ts";
import { registeredManifestReader } from "@streamvault/lib/catalog/uploads/service.ts";
import { newNonce, signedRequestMessage, sqlNonceLedger, SIGNATURE_HEADER, SIGNED_REQUEST_HEADER, type SignedBody } from "@streamvault/lib/signed-request/index.ts";
import { contentIdFor, externalIdOfSha256 } from "@streamvault/lib/catalog/chain/content.ts";
import { cidToBytes } from "@streamvault/lib/chain/cid.ts";
import { contractOf } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { openKeyStore } from "@streamvault/lib/keys";
import { LocalStore } from "@streamvault/lib/storage";
import { startTestChain, type TestChain } from "../cli/helpers.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const WORKER = path.join(REPO, "scripts", "upload-worker.ts");
const MASTER_KEY = "42".repeat(32);
const CREATOR = privateKeyToAccount(DEV_PRIVATE_KEYS[1] as Hex);
const STRANGER = privateKeyToAccount(DEV_PRIVATE_KEYS[5] as Hex);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Backend {
  name: string;
  /** a fresh database; `url` is what worker processes get as DATABASE_URL (Postgres only) */
  create(dir: string): Promise<{ open(): Promise<SqlClient>; url?: string; drop(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "PGlite",
    async create(dir) {
      return { open: () => openPglite(path.join(dir, "jobs-db")), drop: async () => {} };
    },
  },
];
if (process.env.TEST_DATABASE_URL) {
  const admin = process.env.TEST_DATABASE_URL;
  backends.push({
    name: "Postgres (TEST_DATABASE_URL)",
    async create() {
      const name = `sv_upload_jobs_${process.pid}_${Date.now()}`;
      const root = await openPostgres(admin, { max: 1 });
      await root.query(`CREATE DATABASE ${name}`);
      await root.close();
      const url = new URL(admin);
      url.pathname = `/${name}`;
      return {
        url: url.toString(),
        open: () => openPostgres(url.toString()),
        async drop() {
          const again = await openPostgres(admin, { max: 1 });
          await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await again.close();
        },
      };
    },
  });
}

async function sha256Of(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

async function signUpload(account: typeof CREATOR, bodies: SignedBody[], time = new Date().toISOString()): Promise<Record<string, string>> {
  const message = signedRequestMessage({ action: "upload", wallet: account.address, nonce: newNonce(), time, bodies });
  const signature = await account.signMessage({ message });
  return { [SIGNED_REQUEST_HEADER]: Buffer.from(message).toString("base64"), [SIGNATURE_HEADER]: signature };
}

/** A request body that counts how many bytes the server pulled from it. */
function countingBody(total: number, chunk = 64 * 1024): { stream: ReadableStream<Uint8Array>; pulled(): number } {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(chunk, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(7));
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => sent };
}

function uploadRequest(query: Record<string, string>, headers: Record<string, string>, body: BodyInit | ReadableStream<Uint8Array>): Request {
  return new Request(`http://127.0.0.1/api/upload?${new URLSearchParams(query)}`, { method: "POST", headers, body: body as BodyInit, duplex: "half" } as RequestInit);
}

/** A worker process (scripts/upload-worker.ts) in its own process group, with its output lines. */
function startWorker(env: NodeJS.ProcessEnv): { child: ChildProcess; lines: string[]; waitFor(re: RegExp, timeoutMs?: number): Promise<string>; killHard(): Promise<void>; stop(): Promise<void> } {
  const child = spawn(process.execPath, [WORKER], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (d: Buffer) => {
    for (const line of String(d).split("\n").filter(Boolean)) {
      lines.push(line);
      for (const w of waiters.splice(0)) (w.re.test(line) ? w.resolve(line) : waiters.push(w));
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    lines,
    waitFor(re, timeoutMs = 120_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker never printed ${re}; output:\n${lines.join("\n")}`)), timeoutMs);
        child.once("exit", (code) => reject(new Error(`worker exited (${code}) before printing ${re}; output:\n${lines.join("\n")}`)));
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
    async killHard() {
      // The whole group: the worker and the ffmpeg it runs, as when a container dies.
      if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

for (const backend of backends) {
  describe(`upload jobs on ${backend.name}`, function () {
    this.timeout(300_000);
    let dir: string;
    let chain: TestChain;
    let database: Awaited<ReturnType<Backend["create"]>>;
    let db: SqlClient | undefined;
    let queue: UploadJobQueue;
    let routes: UploadHttp;
    let track: string;
    let trackSha: string;
    let trackSize: number;
    const workers: ReturnType<typeof startWorker>[] = [];
    const spoolDir = () => path.join(dir, "spool");

    async function openDb(leaseMs = 1500): Promise<void> {
      db = await database.open();
      queue = await UploadJobQueue.open(db, { leaseMs, maxAttempts: 3 });
      routes = uploadHttp({
        queue,
        ledger: await sqlNonceLedger(db),
        spoolDir: spoolDir(),
        maxBytes: 16 * 1024 * 1024,
        owner: "test-instance",
        refuseWallet: async (wallet: Address) => (wallet === STRANGER.address ? "launch as a creator before you upload" : null),
        registeredManifest: registeredManifestReader(chain.rpcUrl, () => contractOf(chain.deployment, "ContentAccess").address),
      });
    }
    async function closeDb(): Promise<void> {
      await db?.close();
      db = undefined;
    }
    const workerEnv = (): NodeJS.ProcessEnv => ({
      ...(database.url ? { DATABASE_URL: database.url } : { DATABASE_URL: "", UPLOAD_JOBS_DIR: path.join(dir, "jobs-db") }),
      UPLOAD_SPOOL_DIR: spoolDir(),
      UPLOAD_JOB_LEASE_MS: "1500",
      KEYSTORE_DIR: path.join(dir, "keys"),
      STREAMVAULT_MASTER_KEY: MASTER_KEY,
      STORAGE_BACKEND: "local",
      STORAGE_DATA_DIR: path.join(dir, "pieces"),
      STREAMVAULT_HOME: path.join(dir, "home"),
      RPC_URL: chain.rpcUrl,
      DEPLOYMENTS_DIR: chain.deploymentsDir,
      CHAIN_ID: "31337",
    });

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), "sv-upload-jobs-"));
      chain = await startTestChain(dir);
      database = await backend.create(dir);
      const registry = contractOf(chain.deployment, "CreatorRegistry");
      const hash = await chain.wallet(1).writeContract({
        address: registry.address, abi: registry.abi, functionName: "launchCreator",
        args: [
          { name: "Jobs", symbol: "JOB", supply: parseEther("1000"), creatorAllocation: parseEther("100") },
          { name: "Jobs Pass", symbol: "JOBP", maxSupply: 10n, mintPrice: 0n, mintEnabled: false, royaltyBps: 0 },
          "",
        ],
      });
      await chain.publicClient.waitForTransactionReceipt({ hash });
      // 40 s of pink noise: ffmpeg takes seconds on it, long enough to kill a worker mid-job.
      track = path.join(dir, "night-ferry.wav");
      await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "anoisesrc=d=40:c=pink:r=44100:a=0.3:seed=3", "-metadata", "title=Night Ferry", "-ac", "2", track]);
      trackSha = await sha256Of(track);
      trackSize = (await stat(track)).size;
      await openDb();
    });

    after(async () => {
      for (const w of workers) await w.killHard().catch(() => {});
      await closeDb();
      await database?.drop().catch(() => {});
      await chain?.anvil.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("leases: one worker per job, an expired lease is taken over, a stale worker cannot write, too many deaths end as failed with the reason, resume queues it again", async () => {
      const job = { creator: CREATOR.address, contentId: `0x${"ab".repeat(32)}`, externalId: `0x${"cd".repeat(32)}`, sha256: "0".repeat(64), size: 1, fileName: "a.wav", tier: "premium" as const };
      const reserved = await queue.reserve(job, "receiver");
      expect(reserved.created).to.equal(true);
      if (!reserved.created) return;
      expect(await queue.claim("w1"), "a job still receiving is not claimable").to.equal(undefined);
      const again = await queue.reserve(job, "receiver-2");
      expect(again.created, "the same bytes while receiving get the same job").to.equal(false);
      expect(again.job.id).to.equal(reserved.job.id);
      expect(await queue.markQueued(reserved.claimed)).to.equal(true);

      const first = (await queue.claim("w1"))!;
      expect(first.job.id).to.equal(reserved.job.id);
      expect(first.job.attempts).to.equal(1);
      expect(await queue.claim("w2"), "a leased job is not handed out twice").to.equal(undefined);
      expect(await queue.progress(first, "processing", 0.2)).to.equal(true);
      await sleep(1700); // the lease (1.5 s) expires: w1 "died"
      const second = (await queue.claim("w2"))!;
      expect(second.job.id).to.equal(first.job.id);
      expect(second.job.attempts).to.equal(2);
      expect(second.job.leaseOwner).to.equal("w2");
      expect(await queue.heartbeat(first), "the dead worker's heartbeat is refused").to.equal(false);
      expect(await queue.publish(first, { manifestCid: "x", title: "t", storedBytes: 1, warnings: [] }), "and so is its result").to.equal(false);
      expect(await queue.heartbeat(second)).to.equal(true);
      await sleep(1700);
      const third = (await queue.claim("w3"))!;
      expect(third.job.attempts).to.equal(3);
      await sleep(1700);
      expect(await queue.claim("w4"), "after 3 deaths the job is not claimed again").to.equal(undefined);
      const failed = (await queue.get(first.job.id))!;
      expect(failed.state).to.equal("failed");
      expect(failed.error).to.match(/worker stopped 3 times.*resume it/);
      const resumed = await queue.resume(first.job.id);
      expect(typeof resumed === "string" ? resumed : resumed.state).to.equal("queued");
      const fourth = (await queue.claim("w4"))!;
      expect(fourth.job.attempts).to.equal(1);
      expect(await queue.fail(fourth, "bad media", true)).to.equal(true);
      expect(await queue.resume(first.job.id), "a permanent failure is not resumed").to.match(/cannot succeed on a retry \(bad media\)/);
    });

    it("upload requests: signature checked before the body, over-limit bodies refused without being read, single use, bound to the bytes", async () => {
      const bytes = await readFile(track);
      const query = { creator: CREATOR.address, tier: "premium", name: "night-ferry.wav", sha256: trackSha };

      // Unsigned, signed by another wallet, or by a wallet that has not launched: refused before a byte is read.
      for (const [headers, why] of [
        [{}, /sign the upload request/],
        [await signUpload(STRANGER, [{ size: trackSize, sha256: trackSha }]), /names another wallet/],
      ] as const) {
        const body = countingBody(trackSize);
        const res = await routes.receive(uploadRequest(query, headers, body.stream));
        expect(res.status).to.equal(403);
        expect(((await res.json()) as { error: string }).error).to.match(why);
        expect(body.pulled(), "no body byte read before the signature").to.equal(0);
      }
      const strangerBody = countingBody(10);
      const stranger = await routes.receive(uploadRequest({ ...query, creator: STRANGER.address, sha256: "1".repeat(64) }, await signUpload(STRANGER, [{ size: 10, sha256: "1".repeat(64) }]), strangerBody.stream));
      expect(stranger.status).to.equal(403);
      expect(((await stranger.json()) as { error: string }).error).to.match(/launch as a creator/);
      expect(strangerBody.pulled()).to.equal(0);
      const old = await routes.receive(uploadRequest(query, await signUpload(CREATOR, [{ size: trackSize, sha256: trackSha }], new Date(Date.now() - 11 * 60_000).toISOString()), bytes));
      expect(old.status).to.equal(403);

      // A 3 GB body declared: refused at once, nothing read.
      const huge = countingBody(3 * 1024 ** 3);
      const tooBig = await routes.receive(uploadRequest({ ...query, sha256: "2".repeat(64) }, await signUpload(CREATOR, [{ size: 3 * 1024 ** 3, sha256: "2".repeat(64) }]), huge.stream));
      expect(tooBig.status).to.equal(413);
      expect(tooBig.headers.get("connection")).to.equal("close");
      expect(((await tooBig.json()) as { error: string }).error).to.match(/more than the 16777216-byte upload limit/);
      expect(huge.pulled()).to.equal(0);

      // A body that goes on past its signed size (here: 3 GB offered for a signed 1 MiB): cut off at the first byte over.
      const liar = countingBody(3 * 1024 ** 3);
      const cut = await routes.receive(uploadRequest({ ...query, sha256: "3".repeat(64) }, await signUpload(CREATOR, [{ size: 1024 * 1024, sha256: "3".repeat(64) }]), liar.stream));
      expect(cut.status).to.equal(413);
      expect(liar.pulled(), "read no further than the signed size and a chunk").to.be.at.most(1024 * 1024 + 64 * 1024);
      // Bytes other than the signed ones: refused at the end, nothing kept.
      const other = new Uint8Array(1000).fill(1);
      const otherSha = "4".repeat(64);
      const mismatch = await routes.receive(uploadRequest({ ...query, sha256: otherSha }, await signUpload(CREATOR, [{ size: 1000, sha256: otherSha }]), other));
      expect(mismatch.status).to.equal(400);
      expect(((await mismatch.json()) as { error: string }).error).to.match(/SHA-256 is .* not the 4{64} signed for/);
      expect(await queue.byContent(CREATOR.address, contentIdFor(CREATOR.address, externalIdOfSha256(otherSha))), "a refused body leaves no job").to.equal(undefined);
      expect(await readdir(spoolDir()).catch(() => []), "nor spool files").to.deep.equal([]);

      // The real file: accepted once (202 with a job id), the same signature replayed is refused.
      const headers = await signUpload(CREATOR, [{ size: trackSize, sha256: trackSha }]);
      const accepted = await routes.receive(uploadRequest(query, headers, bytes));
      expect(accepted.status).to.equal(202);
      const { jobId, job } = (await accepted.json()) as { jobId: string; job: { state: string; contentId: string } };
      expect(job.state).to.equal("queued");
      expect(job.contentId).to.equal(contentIdFor(CREATOR.address, externalIdOfSha256(trackSha)).toLowerCase());
      expect(await sha256Of(path.join(spoolDir(), jobId, "source"))).to.equal(trackSha);
      const replayBody = countingBody(trackSize);
      const replay = await routes.receive(uploadRequest(query, headers, replayBody.stream));
      expect(replay.status).to.equal(403);
      expect(((await replay.json()) as { error: string }).error).to.match(/already used/);
      expect(replayBody.pulled()).to.equal(0);
      // A fresh signature for the same bytes gets the same job; the bytes are not read again.
      const sameBody = countingBody(trackSize);
      const same = await routes.receive(uploadRequest(query, await signUpload(CREATOR, [{ size: trackSize, sha256: trackSha }]), sameBody.stream));
      expect(same.status).to.equal(200);
      expect(((await same.json()) as { jobId: string }).jobId).to.equal(jobId);
      expect(sameBody.pulled()).to.equal(0);
    });

    it("a worker killed with SIGKILL mid-job: another takes the job over and finishes it; registered on chain once; the same bytes again do nothing twice", async () => {
      const contentId = contentIdFor(CREATOR.address, externalIdOfSha256(trackSha)).toLowerCase() as Hex;
      const jobId = (await queue.byContent(CREATOR.address, contentId))!.id;
      // PGlite: one process at a time, so the workers take turns with this test process; Postgres:
      // both run at once and the survivor takes over while the test keeps its connection.
      const shared = database.url !== undefined;
      if (!shared) await closeDb();
      const a = startWorker(workerEnv());
      workers.push(a);
      const b = shared ? startWorker(workerEnv()) : undefined;
      if (b) workers.push(b);
      const processing = await Promise.race([a, b].filter((w) => w !== undefined).map((w) => w.waitFor(new RegExp(`upload job ${jobId}: processing`)).then(() => w)));
      await processing.killHard();
      const survivor = b ? (processing === a ? b : a) : startWorker(workerEnv());
      if (!b) workers.push(survivor);
      expect(await survivor.waitFor(new RegExp(`upload job ${jobId} \\(night-ferry.wav, attempt 2\\) taken by`))).to.be.a("string");
      await survivor.waitFor(new RegExp(`upload job ${jobId} published`));
      expect(processing.lines.join("\n"), "the killed worker never finished").not.to.match(/published/);
      if (!shared) {
        await survivor.stop();
        await openDb();
      }
      const job = (await queue.get(jobId))!;
      expect(job.state).to.equal("published");
      expect(job.attempts).to.equal(2);
      expect(job.leaseOwner).to.equal(null);
      expect(job.result!.title).to.equal("Night Ferry");
      expect(await readdir(spoolDir()).catch(() => []), "the spool is emptied once published").to.deep.equal([]);

      // What the worker stored is complete: the manifest and every piece it names, the key sealed.
      const store = new LocalStore({ dir: path.join(dir, "pieces") });
      const manifest = JSON.parse(new TextDecoder().decode(await store.get(job.result!.manifestCid))) as { variants: { segments: { pieceCid: string }[] }[] };
      for (const v of manifest.variants) for (const s of v.segments) expect(await store.has(s.pieceCid), s.pieceCid).to.equal(true);
      await survivor.stop();
      const keys = await openKeyStore({ ...(database.url ? { databaseUrl: database.url } : { dataDir: path.join(dir, "keys") }), env: { STREAMVAULT_MASTER_KEY: MASTER_KEY } });
      try {
        expect(await keys.hasKey(contentId)).to.equal(true);
      } finally {
        await keys.close();
      }

      // Reporting a registration that is not on chain is refused; the wallet registers once; then it is believed.
      const early = await routes.registered(jobId, new Request("http://127.0.0.1/x", { method: "POST", body: "{}" }));
      expect(early.status).to.equal(409);
      const access = contractOf(chain.deployment, "ContentAccess");
      const txHash = await chain.wallet(1).writeContract({
        address: access.address, abi: access.abi, functionName: "registerContent",
        args: [job.externalId as Hex, cidToBytes(job.result!.manifestCid), 1, { minCoinBalance: 0n, minPasses: 0n, inSubscription: false, paymentToken: "0x0000000000000000000000000000000000000000", price: 1000n, duration: 0 }, []],
      });
      await chain.publicClient.waitForTransactionReceipt({ hash: txHash });
      const reported = await routes.registered(jobId, new Request("http://127.0.0.1/x", { method: "POST", body: JSON.stringify({ txHash }) }));
      expect(reported.status).to.equal(200);
      const registered = ((await reported.json()) as { job: { state: string; result: { registerTx: string } } }).job;
      expect(registered.state).to.equal("registered");
      expect(registered.result.registerTx).to.equal(txHash);

      // The same bytes uploaded again: the job it has, no new processing, nothing sent to the chain.
      const again = await routes.receive(uploadRequest({ creator: CREATOR.address, tier: "premium", name: "copy.wav", sha256: trackSha }, await signUpload(CREATOR, [{ size: trackSize, sha256: trackSha }]), await readFile(track)));
      expect(again.status).to.equal(200);
      expect(((await again.json()) as { job: { id: string; state: string } }).job).to.include({ id: jobId, state: "registered" });
      const logs = await chain.publicClient.getContractEvents({ address: access.address, abi: access.abi, eventName: "ContentRegistered", fromBlock: 0n });
      expect(logs.filter((l) => l.args.contentId?.toLowerCase() === contentId)).to.have.length(1);
    });

    it("a job whose item is already on chain (an earlier attempt got that far) ends as registered without processing again; a failed job says why and resumes", async () => {
      // A job re-queued for content already registered with a stored manifest (the state a crash
      // between the wallet's registration and the report leaves).
      const contentId = contentIdFor(CREATOR.address, externalIdOfSha256(trackSha)).toLowerCase();
      const jobId = (await queue.byContent(CREATOR.address, contentId))!.id;
      await db!.query(`UPDATE upload_jobs SET state = 'failed', error = 'test: lost after registering', stage = 'storing' WHERE id = $1`, [jobId]);
      const failed = (await queue.get(jobId))!;
      expect(failed.error).to.equal("test: lost after registering");
      // Resume is signed like the upload, for the job's bytes, and single use.
      const headers = await signUpload(CREATOR, [{ size: trackSize, sha256: trackSha }]);
      const wrong = await routes.resume(jobId, new Request("http://127.0.0.1/x", { method: "POST", headers: await signUpload(CREATOR, [{ size: 5, sha256: "5".repeat(64) }]) }));
      expect(wrong.status).to.equal(403);
      const resumed = await routes.resume(jobId, new Request("http://127.0.0.1/x", { method: "POST", headers }));
      expect(resumed.status).to.equal(200);
      const replayed = await routes.resume(jobId, new Request("http://127.0.0.1/x", { method: "POST", headers }));
      expect(replayed.status).to.equal(403);
      const shared = database.url !== undefined;
      if (!shared) await closeDb();
      const w = startWorker(workerEnv());
      workers.push(w);
      await w.waitFor(new RegExp(`upload job ${jobId} \\(night-ferry.wav, attempt 1\\) taken by`));
      // Finished by the chain check: registered, and no processing line.
      await w.waitFor(new RegExp(`upload job ${jobId}: already registered on chain`));
      await w.stop();
      if (!shared) await openDb();
      expect((await queue.get(jobId))!.state).to.equal("registered");
      expect(w.lines.join("\n")).not.to.match(/processing/);
    });

    it("album requests: one request of the tracks' bodies back to back, every track signed, fewer than 2 refused; the worker makes ONE item with per-track progress and names a track that fails; a failed album resumes only with every track signed", async () => {
      const one = path.join(dir, "01 Dusk.wav");
      const two = path.join(dir, "02 Neon Rain.wav");
      await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "anoisesrc=d=4:c=pink:r=44100:a=0.3:seed=5", "-metadata", "title=Dusk", "-ac", "2", one]);
      await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "anoisesrc=d=3:c=pink:r=44100:a=0.3:seed=6", "-ac", "2", two]);
      const files = [one, two];
      const bytes = await Promise.all(files.map((f) => readFile(f)));
      const shas = await Promise.all(files.map(sha256Of));
      const bodies = bytes.map((b, i) => ({ size: b.length, sha256: shas[i]! }));
      const query = (tracks: string[], extra: Record<string, string> = {}) => {
        const q = new URLSearchParams({ creator: CREATOR.address, tier: "premium", album: "Night Drive", ...extra });
        tracks.forEach((t, i) => {
          q.append("track", t);
          q.append("trackName", path.basename(files[i] ?? "x.wav"));
          q.append("trackTitle", i === 0 ? "Opening" : "");
        });
        return q;
      };
      const albumRequest = (q: URLSearchParams, headers: Record<string, string>, body: BodyInit | ReadableStream<Uint8Array>) =>
        new Request(`http://127.0.0.1/api/upload?${q}`, { method: "POST", headers, body: body as BodyInit, duplex: "half" } as RequestInit);

      // One track is not an album; an unsigned track is refused; neither reads the body.
      const single = countingBody(bodies[0]!.size);
      const tooFew = await routes.receive(albumRequest(query([shas[0]!]), await signUpload(CREATOR, [bodies[0]!]), single.stream));
      expect(tooFew.status).to.equal(400);
      expect(((await tooFew.json()) as { error: string }).error).to.match(/an album needs at least 2 tracks, got 1/);
      expect(single.pulled()).to.equal(0);
      const unsignedBody = countingBody(bodies[0]!.size + bodies[1]!.size);
      const unsigned = await routes.receive(albumRequest(query(shas), await signUpload(CREATOR, [bodies[0]!]), unsignedBody.stream));
      expect(unsigned.status).to.equal(403);
      expect(((await unsigned.json()) as { error: string }).error).to.match(/track 2's SHA-256 is not among the files you signed for/);
      expect(unsignedBody.pulled()).to.equal(0);
      // The tracks sent in another order than listed: part 1 is not track 1's bytes; nothing kept.
      const swapped = await routes.receive(albumRequest(query(shas), await signUpload(CREATOR, bodies), Buffer.concat([bytes[1]!, bytes[0]!])));
      expect(swapped.status).to.equal(400);
      expect(((await swapped.json()) as { error: string }).error).to.match(/part 1 of the body/);
      expect(await readdir(spoolDir()).catch(() => []), "a refused album leaves no spool files").to.deep.equal([]);

      // Accepted: one job whose content id is the CLI's for the same tracks in the same order (albumSha256).
      const accepted = await routes.receive(albumRequest(query(shas), await signUpload(CREATOR, bodies), Buffer.concat(bytes)));
      expect(accepted.status, await accepted.clone().text()).to.equal(202);
      const { jobId, job } = (await accepted.json()) as { jobId: string; job: UploadJob };
      expect(job.contentId).to.equal(contentIdFor(CREATOR.address, externalIdOfSha256(await albumSha256(files))).toLowerCase());
      expect(job.size).to.equal(bodies[0]!.size + bodies[1]!.size);
      expect(job.album).to.deep.equal({ title: "Night Drive", tracks: [
        { fileName: "01 Dusk.wav", title: "Opening", sha256: shas[0], size: bodies[0]!.size },
        { fileName: "02 Neon Rain.wav", title: "", sha256: shas[1], size: bodies[1]!.size },
      ] });
      for (const [i, f] of files.entries()) expect(await sha256Of(spoolTrackOf(spoolDir(), jobId, i + 1, path.basename(f)))).to.equal(shas[i]);

      // The worker (in this process): one album item, its stage naming each track as it is encoded.
      const store = new LocalStore({ dir: path.join(dir, "pieces") });
      const keyStore = await openKeyStore({ ...(database.url ? { databaseUrl: database.url } : { dataDir: path.join(dir, "keys") }), env: { STREAMVAULT_MASTER_KEY: MASTER_KEY } });
      // The stages the worker writes, seen as it writes them.
      const stages = new Set<string>();
      const queueWithStages = Object.create(queue) as UploadJobQueue;
      queueWithStages.progress = async (claimed, stage, progress) => {
        stages.add(stage);
        return queue.progress(claimed, stage, progress);
      };
      try {
        const claimed = (await queue.claim("album-test"))!;
        expect(claimed.job.id).to.equal(jobId);
        await runUploadJob({ queue: queueWithStages, store, keyStore, spoolDir: spoolDir() }, claimed);
        const done = (await queue.get(jobId))!;
        expect(done.state, done.error ?? "").to.equal("published");
        expect(done.result!.title).to.equal("Night Drive");
        expect(done.result!.trackTitles).to.deep.equal(["Opening", "02 Neon Rain"]);
        expect([...stages].filter((s) => s.startsWith("processing track"))).to.deep.equal(["processing track 1 of 2", "processing track 2 of 2"]);
        const manifest = JSON.parse(new TextDecoder().decode(await store.get(done.result!.manifestCid))) as { tracks: { number: number; title: string; start: number }[] };
        // Titles: the creator's for track 1; track 2 has no title tag, so its file name.
        expect(manifest.tracks.map((t) => [t.number, t.title])).to.deep.equal([[1, "Opening"], [2, "02 Neon Rain"]]);
        expect(manifest.tracks[1]!.start).to.be.closeTo(4, 0.1);
        expect(await keyStore.hasKey(done.contentId)).to.equal(true);

        // An album whose track 2 is not audio: the job fails for good, naming the track and file.
        const junk = path.join(dir, "notes.mp3");
        await writeFile(junk, "this is not audio".repeat(20));
        const junkBytes = await readFile(junk);
        const junkSha = await sha256Of(junk);
        const q = query([shas[0]!, junkSha]);
        q.delete("trackName");
        q.append("trackName", "01 Dusk.wav");
        q.append("trackName", "notes.mp3");
        const bad = await routes.receive(albumRequest(q, await signUpload(CREATOR, [bodies[0]!, { size: junkBytes.length, sha256: junkSha }]), Buffer.concat([bytes[0]!, junkBytes])));
        expect(bad.status).to.equal(202);
        const badId = ((await bad.json()) as { jobId: string }).jobId;
        await runUploadJob({ queue, store, keyStore, spoolDir: spoolDir() }, (await queue.claim("album-test"))!);
        const failed = (await queue.get(badId))!;
        expect(failed).to.include({ state: "failed", permanent: true });
        expect(failed.error).to.match(/Cannot ingest "track 2 \(notes\.mp3\)": unsupported .*What to do/);

        // A failed album job that a retry can help (here: marked so) resumes only when every track is signed again.
        await db!.query(`UPDATE upload_jobs SET permanent = false, error = 'test: storage was down' WHERE id = $1`, [badId]);
        const partly = await routes.resume(badId, new Request("http://127.0.0.1/x", { method: "POST", headers: await signUpload(CREATOR, [bodies[0]!]) }));
        expect(partly.status).to.equal(403);
        expect(((await partly.json()) as { error: string }).error).to.match(/sign the upload of every track of this album/);
        const resumed = await routes.resume(badId, new Request("http://127.0.0.1/x", { method: "POST", headers: await signUpload(CREATOR, [bodies[0]!, { size: junkBytes.length, sha256: junkSha }]) }));
        expect(resumed.status).to.equal(200);
        expect(((await resumed.json()) as { job: UploadJob }).job.state).to.equal("queued");
      } finally {
        await keyStore.close();
      }
    });
  });
}
