/**
 * A key-release cluster on loopback for the scale test and `npm run bench:scale`: key-release
 * instances (lib/keyrelease/server.ts over one Postgres), each its own Node process so its CPU time
 * is its own, and a round-robin balancer (node:http, its own process) that appends X-Forwarded-For
 * (the instances trust one hop) and retries a request once on the next instance when the connection
 * fails before an answer (key and stream-key release are reads of chain state: safe to retry). The
 * balancer fronts any HTTP backends (test/serve/web-cluster.test.ts puts it before web instances and
 * `ponder serve` replicas) and names the one that answered in SERVED_BY_HEADER.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createServer, request as httpRequest, Agent, type IncomingMessage } from "node:http";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { createPublicClient, defineChain, http, type PublicClient } from "viem";

const SELF = fileURLToPath(import.meta.url);
const QUIET = { info() {}, warn() {}, error() {} };

export interface InstanceConfig {
  role: "instance";
  databaseUrl: string;
  masterKeyHex: string;
  rpcUrl: string;
  chainId: number;
  deployment: unknown;
  siwe: { domain: string; uri: string };
}

export interface BalancerConfig {
  role: "balancer";
  /** Backend base URLs; they may start listening after the balancer (a refused connection goes to the next). */
  backends: string[];
}

/** Response header the balancer adds: the base URL of the backend that answered. */
export const SERVED_BY_HEADER = "x-balancer-backend";

type ChildMessage = { ready: string } | { cpu: NodeJS.CpuUsage };

/** A key-release instance: the node server over Postgres, answering {ready: url}, then {cpu} when asked. */
async function runInstance(config: InstanceConfig): Promise<void> {
  const { openKeyStore } = await import("@streamvault/lib/keys");
  const { startKeyReleaseServer } = await import("@streamvault/lib/keyrelease/server.ts");
  const chain = defineChain({ id: config.chainId, name: "anvil", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [config.rpcUrl] } } });
  const publicClient = createPublicClient({ chain, transport: http(config.rpcUrl, { batch: { wait: 0 } }) }) as PublicClient;
  const keyStore = await openKeyStore({ databaseUrl: config.databaseUrl, masterKey: Buffer.from(config.masterKeyHex, "hex"), env: {} });
  const server = await startKeyReleaseServer({
    port: 0,
    publicClient,
    deployment: config.deployment as never,
    keyStore,
    databaseUrl: config.databaseUrl,
    siwe: config.siwe,
    trustedProxyHops: 1,
    // The limiter is measured by the anomaly checks, not the load: limits far above what a run reaches.
    rateLimits: { wallet: { points: 10_000_000, durationSeconds: 60 }, ip: { points: 100_000_000, durationSeconds: 60 } },
    logger: QUIET,
  });
  process.send!({ ready: server.url } satisfies ChildMessage);
  process.on("message", (m: unknown) => {
    if (m === "cpu") process.send!({ cpu: process.cpuUsage() } satisfies ChildMessage);
  });
}

/** Round-robin proxy; a request whose connection fails before an answer is sent once to the next backend. */
async function runBalancer(config: BalancerConfig): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const down = new Map<string, number>();
  let next = 0;
  const pick = (exclude?: string): string | undefined => {
    for (let i = 0; i < config.backends.length; i++) {
      const backend = config.backends[next++ % config.backends.length]!;
      if (backend !== exclude && (down.get(backend) ?? 0) < Date.now()) return backend;
    }
    return config.backends.find((b) => b !== exclude);
  };
  const forward = (backend: string, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const url = new URL(req.url ?? "/", backend);
      const headers = { ...req.headers, host: url.host, "x-forwarded-for": [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", ") };
      const out = httpRequest(url, { method: req.method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      out.on("error", reject);
      out.end(body);
    });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      let backend = pick();
      for (let attempt = 0; attempt < 2 && backend !== undefined; attempt++) {
        try {
          const answer = await forward(backend, req, body);
          const headers = { ...answer.headers };
          delete headers["transfer-encoding"];
          delete headers.connection;
          headers[SERVED_BY_HEADER] = backend;
          res.writeHead(answer.status, headers);
          res.end(answer.body);
          return;
        } catch {
          down.set(backend, Date.now() + 2_000);
          backend = pick(backend);
        }
      }
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "bad_gateway", message: "no backend answered" }));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.send!({ ready: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } satisfies ChildMessage);
  process.on("message", (m: unknown) => {
    if (m === "cpu") process.send!({ cpu: process.cpuUsage() } satisfies ChildMessage);
  });
}

export interface Child {
  process: ChildProcess;
  url: string;
  cpuSeconds(): Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts an instance or a balancer process; resolves when it listens. */
export function startChild(config: InstanceConfig | BalancerConfig): Promise<Child> {
  const child = fork(SELF, ["--child"], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" });
  child.send(config);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${config.role} exited (${code}) before it was ready`)));
    child.once("message", (m: ChildMessage) => {
      if (!("ready" in m)) return reject(new Error(`${config.role}: unexpected first message`));
      child.removeAllListeners("exit");
      resolve({
        process: child,
        url: m.ready,
        cpuSeconds: () =>
          new Promise((done) => {
            child.once("message", (r: ChildMessage) => done("cpu" in r ? (r.cpu.user + r.cpu.system) / 1e6 : NaN));
            child.send("cpu");
          }),
        kill: (signal = "SIGTERM") =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once("exit", () => done());
            child.kill(signal);
          }),
      });
    });
  });
}

if (process.argv[1] === SELF && process.argv.includes("--child")) {
  process.once("message", (config: InstanceConfig | BalancerConfig) => {
    (config.role === "instance" ? runInstance(config) : runBalancer(config)).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
}

/**
 * A database of its own on the server `serverUrl` points at (dropped by `drop`): the content-key
 * table is not schema-scoped, and anvil's deterministic addresses give the same content id each run.
 */
export async function freshDatabase(serverUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const pg = (await import("pg")).default;
  const name = `${prefix}_${process.pid}_${Date.now() % 1_000_000}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
