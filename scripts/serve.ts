/**
 * `npm run serve`: the production profile. Checks the settings first (scripts/serve-settings.ts:
 * every problem at once, with what to set; exit 2), then runs on this host, all on one Postgres
 * (DATABASE_URL):
 *   - `ponder start`: the one indexer writer (INDEXER_PORT);
 *   - one `ponder serve` per INDEXER_REPLICA_PORTS: read-only API replicas over the writer's schema,
 *     started once the writer answers; the web instances read from them;
 *   - one web instance per WEB_PORTS: the built app (`next build` first when web/.next holds no
 *     build, or with --build) served by web/server.ts, the `next start` server that tells route
 *     handlers each request's socket address (with TRUSTED_PROXY_HOPS, the client's);
 *   - the voucher keeper (scripts/keeper.ts), one for the whole deployment (SERVE_KEEPER=off on the
 *     other hosts).
 * A load balancer goes in front of the web ports (and, for third parties, the indexer replicas).
 * When any process exits, the others are stopped and `serve` exits 1, so the process manager
 * (systemd, a container runtime) restarts the set; SIGTERM/SIGINT stop everything and exit 0.
 * `npm start` keeps the embedded single-process defaults; this script never falls back to them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { Supervisor } from "./serve-supervisor.ts";
import { checkServices, serveSettings, ServeSettingsError, type ServeSettings } from "./serve-settings.ts";

const WEB_DIR = join(REPO_ROOT, "web");
const INDEXER_DIR = join(REPO_ROOT, "indexer");

/** A package's file as `dir`'s workspace sees it: its own node_modules, else the root's (npm workspaces hoist). */
function packageFile(dir: string, pkg: string, file: string): string {
  const candidates = [dir, REPO_ROOT].map((d) => join(d, "node_modules", pkg, file));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`${pkg} is not installed (looked for ${candidates.join(" and ")}): run \`npm install\` at the repository root`);
  return found;
}

/** Where this host reaches a server listening on `host` (a wildcard address is reached on loopback). */
function localUrl(host: string, port: number): string {
  const reach = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reach.includes(":") ? `[${reach}]` : reach}:${port}`;
}

/** Polls `url` until it answers with a status `accept` takes; fails when the process behind it exits or time runs out. */
async function waitFor(url: string, timeoutMs: number, alive: () => boolean, accept: (status: number) => boolean = (status) => status < 300): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the process behind ${url} exited before it answered`);
    try {
      if (accept((await fetch(url, { signal: AbortSignal.timeout(2000) })).status)) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

const running = (child: ChildProcess) => () => child.exitCode === null && child.signalCode === null;

/** The newest source file under `dir` (node_modules, builds and dot-files aside). */
function newestSource(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === ".next" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestSource(path) : { path, mtimeMs: statSync(path).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

async function buildWeb(nextBin: string, env: NodeJS.ProcessEnv): Promise<void> {
  console.log("npm run serve: building the web app (next build; a few minutes)");
  const code = await new Promise<number | null>((resolve, reject) => {
    const build = spawn(process.execPath, [nextBin, "build"], { cwd: WEB_DIR, env, stdio: "inherit" });
    // serve stopped (SIGTERM) mid-build: the build goes too.
    const stopBuild = () => build.kill("SIGTERM");
    process.once("exit", stopBuild);
    build.on("error", reject);
    build.on("exit", (code) => {
      process.off("exit", stopBuild);
      resolve(code);
    });
  });
  if (code !== 0) throw new Error(`next build exited with ${code}: fix the build, then run \`npm run serve\` again`);
}

async function main(): Promise<void> {
  let s: ServeSettings;
  try {
    s = serveSettings(process.env);
    await checkServices(s);
  } catch (error) {
    if (!(error instanceof ServeSettingsError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  const supervisor = new Supervisor({ graceMs: 10_000, exit: (code) => process.exit(code) });
  process.on("SIGINT", () => void supervisor.stop(0));
  process.on("SIGTERM", () => void supervisor.stop(0));

  // Private keys go only to the process that signs with them (the keeper), never to web or indexer.
  const { KEEPER_PRIVATE_KEY: _keeperKey, DEPLOYER_PRIVATE_KEY: _deployerKey, ...inherited } = process.env;
  const base: NodeJS.ProcessEnv = {
    ...inherited,
    NODE_ENV: "production",
    PONDER_TELEMETRY_DISABLED: "true",
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: s.databaseUrl,
    STREAMVAULT_MASTER_KEY: s.masterKey,
    RPC_URL: s.rpcUrl,
    CHAIN_ID: String(s.chainId),
    DEPLOYMENTS_DIR: s.deploymentsDir,
  };
  try {
    const nextBin = packageFile(WEB_DIR, "next", join("dist", "bin", "next"));
    const ponderBin = packageFile(INDEXER_DIR, "ponder", join("dist", "esm", "bin", "ponder.js"));
    const buildMarker = join(WEB_DIR, ".next", "BUILD_ID");
    if (process.argv.includes("--build") || !existsSync(buildMarker)) await buildWeb(nextBin, base);
    else {
      // Never rebuilt behind the operator's back (minutes of CPU on a serving host): said instead.
      const newest = ["web", "lib", "sdk"].map((d) => newestSource(join(REPO_ROOT, d))).reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
      if (newest.mtimeMs > statSync(buildMarker).mtimeMs) console.warn(`npm run serve: the web build in web/.next is older than ${newest.path}: serving the old build; run \`npm run serve -- --build\` to rebuild`);
    }

    if (s.indexerWriter) {
      const writer = supervisor.start("indexer writer", [ponderBin, "start", "--schema", s.indexerSchema, "--port", String(s.indexerPort), "--hostname", s.indexerHost], INDEXER_DIR, base);
      // Replicas serve the writer's tables: start them once the writer has set its schema up (its
      // HTTP server answers /health from then on, during the backfill too).
      await waitFor(`${localUrl(s.indexerHost, s.indexerPort)}/health`, 300_000, running(writer));
    }
    const replicaUrls = s.indexerReplicaPorts.map((port) => localUrl(s.indexerHost, port));
    const pending: Promise<void>[] = [];
    s.indexerReplicaPorts.forEach((port, i) => {
      const replica = supervisor.start(`indexer replica ${i + 1} (:${port})`, [ponderBin, "serve", "--schema", s.indexerSchema, "--port", String(port), "--hostname", s.indexerHost], INDEXER_DIR, base);
      pending.push(waitFor(`${replicaUrls[i]}/health`, 180_000, running(replica)));
    });
    const indexerUrls = s.indexerUrl ? [s.indexerUrl] : replicaUrls.length > 0 ? replicaUrls : [localUrl(s.indexerHost, s.indexerPort)];

    s.webPorts.forEach((port, i) => {
      const env = {
        ...base,
        PORT: String(port),
        WEB_ORIGIN: s.webOrigin,
        TRUSTED_PROXY_HOPS: String(s.trustedProxyHops),
        // Spread the web instances over the replicas, unless one indexer URL (a balancer) is given.
        INDEXER_URL: indexerUrls[i % indexerUrls.length]!,
      };
      const web = supervisor.start(`web (:${port})`, ["server.ts", "start", "--hostname", s.webHost, "--port", String(port)], WEB_DIR, env);
      // Any answer below 500 means Next serves (a probe path renders the 404 page; no state written).
      pending.push(waitFor(`${localUrl(s.webHost, port)}/.well-known/streamvault-serve-probe`, 180_000, running(web), (status) => status < 500));
    });

    if (s.keeper) supervisor.start("voucher keeper", ["scripts/keeper.ts"], REPO_ROOT, { ...base, KEEPER_PRIVATE_KEY: s.keeperPrivateKey });
    await Promise.all(pending);
  } catch (error) {
    console.error(`npm run serve: ${(error as Error).message}`);
    await supervisor.stop(1);
    return;
  }
  console.log(
    `npm run serve: ready for ${s.webOrigin}: web on ${s.webHost}:${s.webPorts.join(",")}, ${s.indexerWriter ? `indexer writer on ${s.indexerHost}:${s.indexerPort}` : "no indexer writer (SERVE_INDEXER_WRITER=off)"}, ` +
      `${s.indexerReplicaPorts.length} replica(s)${s.indexerReplicaPorts.length ? ` on :${s.indexerReplicaPorts.join(",")}` : ""}${s.keeper ? ", voucher keeper" : ", no keeper (SERVE_KEEPER=off)"}`,
  );
}

if (import.meta.main) await main();
