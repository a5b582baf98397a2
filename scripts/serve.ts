/**
 * `npm run serve`: the production profile. Checks the settings first (every problem at once, with
 * what to set), then runs on this host, all sharing one Postgres (DATABASE_URL):
 *   - `ponder start`: the one indexer writer (INDEXER_PORT);
 *   - INDEXER_REPLICAS x `ponder serve`: read-only API replicas (INDEXER_PORT+1, +2, ...);
 *   - WEB_INSTANCES x `next start` of the built web app (WEB_PORT, +1, ...); `next build` first
 *     when web/.next holds no build (or with --build);
 *   - the voucher keeper (scripts/keeper.ts), one for the whole deployment (SERVE_KEEPER=off when
 *     another host runs it).
 * Put a load balancer in front of the web ports and the indexer ports (README, "Deploy").
 * A child that exits stops the others and `serve` exits non-zero, for the process manager to restart.
 * `npm start` keeps the embedded single-process defaults; this script never falls back to them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { deploymentPath } from "@streamvault/lib/deployments";

export interface ServeSettings {
  databaseUrl: string;
  webOrigin: string;
  trustedProxyHops: number;
  rpcUrl: string;
  chainId: number;
  webInstances: number;
  webPort: number;
  webHost: string;
  indexerReplicas: number;
  indexerPort: number;
  indexerHost: string;
  indexerSchema: string;
  keeper: boolean;
}

/**
 * The production settings from `env`. Throws one Error listing every missing or bad setting and
 * what to set instead. `deploymentsDir` is where deployments/<CHAIN_ID>.json must exist.
 */
export function serveSettings(env: NodeJS.ProcessEnv, deploymentsDir = env.DEPLOYMENTS_DIR ?? join(REPO_ROOT, "deployments")): ServeSettings {
  const problems: string[] = [];
  const integer = (name: string, fallback: number | undefined, min: number, what: string): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") {
      if (fallback === undefined) problems.push(`${name} is not set: ${what}`);
      return fallback ?? 0;
    }
    if (!/^[0-9]+$/.test(raw) || Number(raw) < min) problems.push(`${name}=${raw}: must be a whole number >= ${min} (${what})`);
    return Number(raw);
  };

  const databaseUrl = env.DATABASE_URL ?? "";
  if (!databaseUrl) problems.push("DATABASE_URL is not set: the Postgres every instance shares (postgresql://user:password@host:5432/db); the embedded PGlite is one process only, use `npm start` for that");
  else if (!/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push("DATABASE_URL must be a postgresql:// URL");

  const masterKey = env.STREAMVAULT_MASTER_KEY ?? "";
  if (!masterKey) problems.push("STREAMVAULT_MASTER_KEY is not set: 64 hex characters (`openssl rand -hex 32`), the same on every instance (it seals the content keys in the database; keep it out of the database's backups)");
  else if (!/^[0-9a-fA-F]{64}$/.test(masterKey.trim())) problems.push("STREAMVAULT_MASTER_KEY must be 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`");

  const webOrigin = (env.WEB_ORIGIN ?? "").replace(/\/$/, "");
  if (!webOrigin) problems.push("WEB_ORIGIN is not set: the public origin fans open (https://app.example.com); sign-in messages and allowed POST origins are checked against it");
  else {
    let url: URL | undefined;
    try {
      url = new URL(webOrigin);
    } catch {
      problems.push(`WEB_ORIGIN=${webOrigin}: not a URL; give the public origin, e.g. https://app.example.com`);
    }
    if (url && url.origin !== webOrigin) problems.push(`WEB_ORIGIN=${webOrigin}: give the origin only (scheme, host, port), e.g. ${url.origin}`);
    else if (url && url.protocol !== "https:" && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) problems.push(`WEB_ORIGIN=${webOrigin}: must be https:// (session cookies are Secure); http:// only for 127.0.0.1 or localhost`);
  }

  const trustedProxyHops = integer("TRUSTED_PROXY_HOPS", undefined, 0, "how many proxies in front of the web instances append to X-Forwarded-For (1 for one load balancer; 0 when clients connect directly); the client address is the entry that many hops from the right");
  const rpcUrl = env.RPC_URL ?? "";
  if (!rpcUrl) problems.push("RPC_URL is not set: the JSON-RPC endpoint of the chain the contracts are on");
  const chainId = integer("CHAIN_ID", undefined, 1, "the chain id of the deployment (deployments/<CHAIN_ID>.json)");
  if (chainId > 0 && !existsSync(deploymentPath(chainId, deploymentsDir))) problems.push(`no deployment for CHAIN_ID=${chainId} at ${deploymentPath(chainId, deploymentsDir)}: run \`npm run deploy\` against RPC_URL (or set DEPLOYMENTS_DIR)`);

  const keeper = env.SERVE_KEEPER !== "off";
  if (keeper && !/^0x[0-9a-fA-F]{64}$/.test(env.KEEPER_PRIVATE_KEY ?? "")) problems.push("KEEPER_PRIVATE_KEY is not set: the 0x-hex key of a funded account for the voucher keeper (it pays gas; redemptions pay the creators), or SERVE_KEEPER=off when one runs elsewhere");

  const settings: ServeSettings = {
    databaseUrl,
    webOrigin,
    trustedProxyHops,
    rpcUrl,
    chainId,
    webInstances: integer("WEB_INSTANCES", 1, 1, "web instances on this host"),
    webPort: integer("WEB_PORT", 3000, 1, "port of the first web instance"),
    webHost: env.WEB_HOST || "127.0.0.1",
    indexerReplicas: integer("INDEXER_REPLICAS", 1, 0, "`ponder serve` replicas beside the writer"),
    indexerPort: integer("INDEXER_PORT", 42069, 1, "port of the indexer writer; replicas take the next ones"),
    indexerHost: env.INDEXER_HOST || "127.0.0.1",
    indexerSchema: env.DATABASE_SCHEMA || "streamvault",
    keeper,
  };
  if (!/^[a-z_][a-z0-9_]{0,44}$/.test(settings.indexerSchema)) problems.push(`DATABASE_SCHEMA=${settings.indexerSchema}: lower-case letters, digits and _ (at most 45)`);
  if (problems.length > 0) throw new Error(`npm run serve: cannot start:\n  - ${problems.join("\n  - ")}`);
  return settings;
}

async function main(): Promise<void> {
  let s: ServeSettings;
  try {
    s = serveSettings(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const { child } of children) {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
    }
    setTimeout(() => process.exit(code), 2000).unref();
  };
  process.on("SIGINT", () => stopAll(0));
  process.on("SIGTERM", () => stopAll(0));
  const start = (name: string, cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) => {
    const child = spawn(cmd, args, { cwd, env, stdio: "inherit", detached: true });
    children.push({ name, child });
    child.on("exit", (code, signal) => {
      if (stopping) return;
      console.error(`npm run serve: ${name} exited (${signal ?? code}); stopping the others`);
      stopAll(1);
    });
    return child;
  };
  const base = { ...process.env, NODE_ENV: "production", PONDER_TELEMETRY_DISABLED: "true", NEXT_TELEMETRY_DISABLED: "1", RPC_URL: s.rpcUrl, CHAIN_ID: String(s.chainId) };
  const webDir = join(REPO_ROOT, "web");
  const indexerDir = join(REPO_ROOT, "indexer");
  const ponder = join(indexerDir, "node_modules", ".bin", "ponder");
  const next = join(webDir, "node_modules", "next", "dist", "bin", "next");

  if (process.argv.includes("--build") || !existsSync(join(webDir, ".next", "BUILD_ID"))) {
    console.log("npm run serve: building the web app (next build)");
    await new Promise<void>((resolve, reject) => {
      const build = spawn(process.execPath, [next, "build"], { cwd: webDir, env: base, stdio: "inherit" });
      build.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`next build exited with ${code}`))));
    });
  }

  const indexerEnv = { ...base, DATABASE_URL: s.databaseUrl };
  start("indexer writer", ponder, ["start", "--schema", s.indexerSchema, "--port", String(s.indexerPort), "--hostname", s.indexerHost], indexerDir, indexerEnv);
  // Replicas read the writer's tables: start them once the writer has created its schema.
  await waitFor(`http://${s.indexerHost}:${s.indexerPort}/health`, 300_000);
  for (let i = 1; i <= s.indexerReplicas; i++) {
    start(`indexer replica ${i}`, ponder, ["serve", "--schema", s.indexerSchema, "--port", String(s.indexerPort + i), "--hostname", s.indexerHost], indexerDir, indexerEnv);
  }
  const webEnv = {
    ...base,
    DATABASE_URL: s.databaseUrl,
    WEB_ORIGIN: s.webOrigin,
    TRUSTED_PROXY_HOPS: String(s.trustedProxyHops),
    INDEXER_URL: process.env.INDEXER_URL || `http://${s.indexerHost}:${s.indexerPort}`,
  };
  for (let i = 0; i < s.webInstances; i++) {
    const port = s.webPort + i;
    start(`web ${port}`, process.execPath, [next, "start", "--hostname", s.webHost, "--port", String(port)], webDir, { ...webEnv, PORT: String(port) });
  }
  if (s.keeper) start("voucher keeper", process.execPath, ["scripts/keeper.ts"], REPO_ROOT, { ...base, DATABASE_URL: s.databaseUrl });
  console.log(
    `npm run serve: indexer writer ${s.indexerHost}:${s.indexerPort}, ${s.indexerReplicas} replica(s) from :${s.indexerPort + 1}, ` +
      `${s.webInstances} web instance(s) from ${s.webHost}:${s.webPort} for ${s.webOrigin}${s.keeper ? ", voucher keeper" : ""}`,
  );
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
