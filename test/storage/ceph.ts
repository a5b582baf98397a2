/**
 * Test fixture: a real single-node Ceph cluster (one ceph-mon, one memstore ceph-osd, radosgw)
 * serving S3 on loopback, started once per suite from a temp dir and stopped after.
 *
 *   const ceph = await startCeph();          // in before(), with this.timeout(CEPH_START_TIMEOUT_MS)
 *   new S3Store(ceph.storeOptions("bucket")) // any S3 client: ceph.endpoint + ceph.accessKeyId/secretAccessKey
 *   await ceph.stop();                       // in after(): kills every daemon, removes the temp dir
 *
 * When root, the daemons run in their own network + PID namespace (`unshare -n -p -f --mount-proc
 * --kill-child`; radosgw needs the namespace's own /proc to name its threads):
 * they see only a private loopback, and the kernel kills all of them when the namespace's first
 * process exits, even if the test process is SIGKILLed. The test process reaches radosgw through
 * a unix socket in the temp dir (unix sockets live in the filesystem, so they cross network
 * namespaces): host TCP 127.0.0.1:<free port> -> unix socket -> relay in the namespace ->
 * radosgw on the namespace's 127.0.0.1. Without root the daemons bind 127.0.0.1 on free ports.
 *
 * Config follows ../shared/TOOLCHAIN.md ("S3-compatible: Ceph RADOS Gateway"): auth none, pool size
 * 1, `ms mon client mode = crc` (else radosgw retries forever with -13 under auth none).
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { S3StoreOptions } from "@streamvault/lib/storage/s3.ts";

const scriptPath = fileURLToPath(new URL("./ceph-boot.sh", import.meta.url));

/** Debian packages that provide the binaries below (scripts/setup.sh installs them when root). */
export const CEPH_PACKAGES = ["ceph-mon", "ceph-osd", "radosgw"];
const CEPH_BINARIES = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "ceph-authtool", "monmaptool"];
/** Generous start guard for 2 shared cores (a cold start takes ~15 s here); not a timed assertion. */
export const CEPH_START_TIMEOUT_MS = 240_000;

export interface CephRgw {
  /** S3 endpoint for clients in this process, e.g. http://127.0.0.1:43121. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** True when the daemons run in a private network namespace. */
  readonly isolated: boolean;
  /** Temp dir holding config, logs and sockets (removed by stop()). */
  readonly dir: string;
  /** S3Store options for a bucket on this gateway (path-style, as Ceph needs). */
  storeOptions(bucket: string, extra?: Partial<S3StoreOptions>): S3StoreOptions;
  /** Kill every daemon, check none is left, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Ceph binaries not found on PATH (empty when Ceph is installed). */
export function missingCephBinaries(): string[] {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/sbin", "/sbin"];
  return CEPH_BINARIES.filter((bin) => !dirs.some((d) => d && existsSync(join(d, bin))));
}

/**
 * For a suite's before(): returns true when Ceph can run. When the binaries are missing it skips
 * the suite with a loud message, except in CI (CI=true), where it throws: CI must run these tests.
 */
export function cephOrSkip(ctx: Mocha.Context): boolean {
  const missing = missingCephBinaries();
  if (missing.length === 0) return true;
  const how = `install them with: apt-get install -y --no-install-recommends ${CEPH_PACKAGES.join(" ")} (scripts/setup.sh does it when root)`;
  if (process.env.CI === "true") {
    throw new Error(`CI=true but Ceph is not installed (missing ${missing.join(", ")}): ${how}`);
  }
  const line = "!".repeat(100);
  console.warn(`\n${line}\n!! SKIPPING the S3 tests against Ceph: missing ${missing.join(", ")}.\n!! ${how}\n${line}\n`);
  ctx.skip();
  return false;
}

/** Whether we may create network + PID namespaces and bring their loopback up (root, kernel allows it, iproute2). */
function canUseNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync("unshare", ["-n", "-p", "-f", "--mount-proc", "--kill-child", "ip", "link", "set", "lo", "up"], { stdio: "ignore", timeout: 10_000 });
  return probe.status === 0;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// The relay inside the namespace: unix socket (reachable from outside) -> radosgw's loopback port.
const RELAY_JS = `
const net = require("node:net");
net.createServer((c) => {
  const u = net.connect(Number(process.env.RGW_PORT), "127.0.0.1");
  c.pipe(u).pipe(c);
  c.on("error", () => u.destroy());
  u.on("error", () => c.destroy());
}).listen(process.env.RELAY_SOCK);
`;

/** Pids of processes whose command line mentions `dir` (leftover daemons). */
function processesUsing(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(dir)) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Start Ceph (mon + memstore osd + radosgw) and an S3 user; resolves once S3 answers. */
export async function startCeph(options: { startTimeoutMs?: number; /** Default: whenever namespaces can be made. */ isolate?: boolean } = {}): Promise<CephRgw> {
  const missing = missingCephBinaries();
  if (missing.length > 0) {
    throw new Error(`Ceph is not installed (missing ${missing.join(", ")}): apt-get install -y --no-install-recommends ${CEPH_PACKAGES.join(" ")}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "sv-ceph-"));
  const isolated = options.isolate ?? canUseNamespaces();
  if (isolated && !canUseNamespaces()) throw new Error("startCeph({ isolate: true }) needs root, unshare and iproute2's ip");
  const accessKeyId = "STREAMVAULTTESTKEY01";
  const secretAccessKey = "streamvault-test-secret-0123456789abcdef";
  const relaySock = join(dir, "s3.sock");
  // A fresh namespace has every port free; without one, ask the kernel for free ones.
  const monPort = isolated ? 3300 : await freePort();
  const rgwPort = isolated ? 7480 : await freePort();
  const env = {
    ...process.env,
    CEPH_DIR: dir,
    CEPH_NETNS: isolated ? "1" : "0",
    MON_PORT: String(monPort),
    RGW_PORT: String(rgwPort),
    S3_ACCESS: accessKeyId,
    S3_SECRET: secretAccessKey,
    NODE_BIN: process.execPath,
    RELAY_JS,
    RELAY_SOCK: isolated ? relaySock : "",
  };
  const child: ChildProcess = isolated
    ? spawn("unshare", ["-n", "-p", "-f", "--mount-proc", "--kill-child", "bash", scriptPath], { env, stdio: ["pipe", "pipe", "pipe"] })
    : spawn("bash", [scriptPath], { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Without a namespace the daemons share bash's process group (detached: a group of its own).
  const killAll = () => {
    try {
      if (isolated) child.kill("SIGKILL"); // unshare --kill-child: the namespace and all in it die
      else if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const killOnExit = killAll;
  process.once("exit", killOnExit);

  let relay: Server | undefined;
  const sockets = new Set<Socket>();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", killOnExit);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
    child.stdin!.end();
    const timer = setTimeout(killAll, 15_000);
    await exited;
    clearTimeout(timer);
    // Nothing may outlive the fixture: sweep (and report) anything still running from our dir.
    const leftovers = processesUsing(dir);
    for (const pid of leftovers) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
    if (leftovers.length > 0) throw new Error(`Ceph fixture left processes ${leftovers.join(", ")} running (killed now)`);
  };

  try {
    await new Promise<void>((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(() => reject(new Error(`Ceph did not start within ${options.startTimeoutMs ?? CEPH_START_TIMEOUT_MS} ms`)), options.startTimeoutMs ?? CEPH_START_TIMEOUT_MS);
      child.stdout!.on("data", (d) => {
        stdout += d;
        if (stdout.includes("CEPH_READY")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Ceph bootstrap exited (${code ?? signal}) before it was ready`));
      });
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    let port = rgwPort;
    if (isolated) {
      relay = createServer((client) => {
        const upstream = connect(relaySock);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
      });
      await new Promise<void>((resolve, reject) => relay!.once("error", reject).listen(0, "127.0.0.1", resolve));
      port = (relay.address() as AddressInfo).port;
    }
    const endpoint = `http://127.0.0.1:${port}`;
    const region = "us-east-1";
    return {
      endpoint,
      region,
      accessKeyId,
      secretAccessKey,
      isolated,
      dir,
      storeOptions: (bucket, extra = {}) => ({ endpoint, region, bucket, accessKeyId, secretAccessKey, forcePathStyle: true, ...extra }),
      stop,
    };
  } catch (err) {
    const logs = await readFile(join(dir, "log", "daemons.out"), "utf8").catch(() => "");
    await stop().catch(() => {});
    throw new Error(`${(err as Error).message}\n--- bootstrap stderr ---\n${stderr}\n--- daemons ---\n${logs.slice(-3000)}`);
  }
}
