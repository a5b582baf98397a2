/**
 * Test and benchmark harness for the indexer: a local chain with StreamVault deployed, and the
 * Ponder app run as a child process against it (temp PGlite dir, or Postgres when asked).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, defineChain, http, type Account, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { freePort, jsonRpc, startAnvil, type AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import { deploySystem } from "@streamvault/lib/deployments/deploy-system.ts";
import { writeDeployment, type Deployment } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";

export const INDEXER_DIR = join(REPO_ROOT, "indexer");
// npm workspaces hoist ponder to the root node_modules; a workspace-local copy wins when there is one.
const PONDER_BIN = [INDEXER_DIR, REPO_ROOT].map((dir) => join(dir, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js")).find((file) => existsSync(file)) ?? join(REPO_ROOT, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js");

export const anvilChain = (rpcUrl: string) =>
  defineChain({
    id: 31337,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });

export interface LocalChain {
  anvil: AnvilNode;
  rpcUrl: string;
  deployment: Deployment;
  deploymentsDir: string;
  publicClient: ReturnType<typeof makePublic>;
  accounts: Account[];
  wallet(account: Account): ReturnType<typeof makeWallet>;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

function makePublic(rpcUrl: string) {
  return createPublicClient({ chain: anvilChain(rpcUrl), transport: http(rpcUrl), pollingInterval: 20 });
}
function makeWallet(rpcUrl: string, account: Account) {
  return createWalletClient({ chain: anvilChain(rpcUrl), account, transport: http(rpcUrl) });
}

/** Starts anvil on a free port and deploys StreamVault; the deployment goes to a temp folder. */
export async function startLocalChain(options: { extraArgs?: string[] } = {}): Promise<LocalChain> {
  const anvil = await startAnvil({ extraArgs: options.extraArgs });
  try {
    const rpcUrl = anvil.rpcUrl;
    const publicClient = makePublic(rpcUrl);
    const accounts = DEV_PRIVATE_KEYS.map((k) => privateKeyToAccount(k));
    const deployment = await deploySystem({
      publicClient: publicClient as never,
      walletClient: makeWallet(rpcUrl, accounts[0]!) as never,
      treasury: accounts[1]!.address,
      mockStablecoin: true,
      subscriptionPriceNative: 10_000_000_000_000_000n, // 0.01
      subscriptionPriceStable: 5_000_000n,
    });
    const deploymentsDir = mkdtempSync(join(tmpdir(), "sv-deployments-"));
    writeDeployment(deployment, deploymentsDir);
    return {
      anvil,
      rpcUrl,
      deployment,
      deploymentsDir,
      publicClient,
      accounts,
      wallet: (account) => makeWallet(rpcUrl, account),
      rpc: <T>(method: string, params: unknown[] = []) => jsonRpc<T>(rpcUrl, method, params),
      async stop() {
        await anvil.stop();
        rmSync(deploymentsDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

export interface IndexerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  dataDir: string;
  /** Database schema the app writes to (pass it again to resume). */
  schema: string;
  log(): string;
  graphql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  get<T = any>(path: string): Promise<{ status: number; body: T }>;
  waitReady(timeoutMs?: number): Promise<void>;
  /** Waits until the indexed head is at least `block`. */
  waitForBlock(block: bigint | number, timeoutMs?: number): Promise<void>;
  /** SIGKILL, no cleanup: the data dir stays for a restart. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s) and removes the temp data dir unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export interface StartIndexerOptions {
  rpcUrl: string;
  deploymentsDir: string;
  /** PGlite directory to (re)use; a new temp dir when omitted. Ignored with databaseUrl. */
  dataDir?: string;
  /** Postgres connection string; PGlite when omitted. */
  databaseUrl?: string;
  /** Postgres schema (ponder start --schema); a unique one is made when omitted. */
  schema?: string;
  pollingInterval?: number;
  env?: Record<string, string>;
  /** `serve`: a read-only API replica over the writer's `schema` (Postgres only; it answers /health, not /ready, and has no /status). */
  command?: "start" | "serve";
  /** The port to listen on (default: a free one). */
  port?: number;
}

/** Runs `ponder start` (or `ponder serve`) on a free 127.0.0.1 port. */
export async function startIndexer(options: StartIndexerOptions): Promise<IndexerProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sv-ponder-"));
  const schema = options.schema ?? `sv_test_${process.pid}_${port}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PONDER_TELEMETRY_DISABLED: "true",
    CHAIN_ID: "31337",
    RPC_URL: options.rpcUrl,
    DEPLOYMENTS_DIR: options.deploymentsDir,
    POLLING_INTERVAL: String(options.pollingInterval ?? 100),
    PONDER_PGLITE_DIR: join(dataDir, "pglite"),
    PONDER_LOG_LEVEL: "info",
    NO_COLOR: "1",
    ...options.env,
  };
  delete env.DATABASE_URL;
  delete env.DATABASE_PRIVATE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const child = spawn(
    process.execPath,
    [PONDER_BIN, "--log-format", "json", options.command ?? "start", "--port", String(port), "--hostname", "127.0.0.1", "--schema", schema],
    { cwd: INDEXER_DIR, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 400_000) output = output.slice(-200_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = `http://127.0.0.1:${port}`;

  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const waitExit = () => new Promise<void>((resolve) => (exited() ? resolve() : child.once("exit", () => resolve())));

  const proc: IndexerProcess = {
    url,
    port,
    child,
    dataDir,
    schema,
    log: () => output,
    async graphql(query, variables) {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: unknown; errors?: { message: string }[] };
      if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join("; ")}`);
      return body.data as any;
    },
    async get(path) {
      const res = await fetch(`${url}${path}`);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // plain text
      }
      return { status: res.status, body: body as any };
    },
    async waitReady(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exited()) throw new Error(`ponder exited (${child.exitCode ?? child.signalCode}):\n${output.slice(-4000)}`);
        try {
          const res = await fetch(`${url}/ready`);
          if (res.status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`ponder not ready within ${timeoutMs} ms:\n${output.slice(-4000)}`);
    },
    async waitForBlock(block, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = -1;
      while (Date.now() < deadline) {
        if (exited()) throw new Error(`ponder exited:\n${output.slice(-4000)}`);
        try {
          const res = await fetch(`${url}/status`);
          if (res.ok) {
            const status = (await res.json()) as Record<string, { block: { number: number } }>;
            last = status.streamvault?.block.number ?? -1;
            if (last >= Number(block)) return;
          }
        } catch {
          // restarting
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`indexer stuck at block ${last}, wanted ${block}:\n${output.slice(-4000)}`);
    },
    async kill() {
      if (!exited()) child.kill("SIGKILL");
      await waitExit();
    },
    async stop(opts = {}) {
      if (!exited()) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await waitExit();
        clearTimeout(timer);
      }
      if (!opts.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return proc;
}

/**
 * A database of its own next to the one `databaseUrl` names (the role needs CREATEDB). Ponder
 * keeps its RPC cache in a `ponder_sync` schema shared by every app in a database, keyed by chain
 * id and block number; local chains restarted from genesis reuse both, so each test or benchmark
 * run gets a fresh database and drops it afterwards.
 */
export async function scratchDatabase(databaseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import("pg");
  const url = new URL(databaseUrl);
  const name = `sv_indexer_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
    throw new Error(`cannot create a scratch database through DATABASE_URL (the role needs CREATEDB): ${(error as Error).message}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export type { Hex };
