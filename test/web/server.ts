/**
 * The web app for browser tests: one production build per run (skipped when a build newer than
 * every source file exists), then web/server.ts (`next start` behind the socket-address and playlist server) on a free port against a test stack.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { freePort } from "@streamvault/lib/chain/anvil.ts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { createSiweMessage } from "viem/siwe";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";

export const WEB_DIR = join(REPO_ROOT, "web");
const webRequire = createRequire(join(WEB_DIR, "package.json"));
/** Next's CLI as the web workspace resolves it (hoisted to the root node_modules by npm workspaces). */
const NEXT_BIN = (() => {
  try {
    return join(dirname(webRequire.resolve("next/package.json")), "dist", "bin", "next");
  } catch {
    return join(WEB_DIR, "node_modules", "next", "dist", "bin", "next");
  }
})();

/** playwright-core is the web workspace's dev dependency. */
export function playwright(): { chromium: { launch(options: object): Promise<import("./pw.ts").Browser> } } {
  assertInstalled();
  return webRequire("playwright-core");
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === ".next" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Says what to install when the web app's packages or the browser are missing. */
export function assertInstalled(): void {
  if (!existsSync(NEXT_BIN)) throw new Error("the web workspace's packages (next) are missing: run `npm install` at the repository root (scripts/setup.sh does)");
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) throw new Error(`${chromium} is missing: run \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
}

let building: Promise<void> | undefined;

/** Builds the app unless a build newer than every source (web/, lib/ and sdk/) exists; once per process. */
export function ensureBuild(): Promise<void> {
  building ??= build();
  return building;
}

async function build(): Promise<void> {
  if (!existsSync(NEXT_BIN)) throw new Error("the web workspace's packages (next) are missing: run `npm install` at the repository root (scripts/setup.sh does)");
  const marker = join(WEB_DIR, ".next", "BUILD_ID");
  if (process.env.WEB_SKIP_BUILD === "1" && existsSync(marker)) return;
  if (existsSync(marker)) {
    const built = statSync(marker).mtimeMs;
    if (built > newestSource(WEB_DIR) && built > newestSource(join(REPO_ROOT, "lib")) && built > newestSource(join(REPO_ROOT, "sdk"))) return;
  }
  // Asynchronous, so the test stack (chain, media pipeline) gets ready meanwhile.
  const child = spawn(process.execPath, [NEXT_BIN, "build"], {
    cwd: WEB_DIR,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`next build failed (exit ${code}):\n${output}`);
}

export interface WebServer {
  url: string;
  process: ChildProcess;
  logs: string[];
  stop(): Promise<void>;
}

export interface StartWebOptions {
  /** The route polled until it answers 2xx (default /api/catalog, which needs a chain and deployment). */
  readyPath?: string;
  /** The port to listen on (default: a free one). */
  port?: number;
  /** WEB_ORIGIN, the origin SIWE messages name (default: this server's URL; behind a balancer, the balancer's). */
  origin?: string;
}

export async function startWeb(env: Record<string, string>, options: StartWebOptions = {}): Promise<WebServer> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  // web/server.ts, as `npm run serve` runs it: the socket address for rate limits, playlists before Next.
  const child = spawn(process.execPath, [join(WEB_DIR, "server.ts"), "start", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: WEB_DIR,
    env: { ...process.env, ...env, PORT: String(port), WEB_ORIGIN: options.origin ?? url, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  child.stdout!.on("data", (d) => logs.push(String(d)));
  child.stderr!.on("data", (d) => logs.push(String(d)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the web server (web/server.ts start) exited: ${logs.join("")}`);
    try {
      const res = await fetch(`${url}${options.readyPath ?? "/api/catalog"}`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`the web server (web/server.ts start) did not answer within 60 s: ${logs.join("")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    process: child,
    logs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

const sessionCookies = new Map<string, Promise<string>>();

/**
 * The Cookie header of a SIWE session for `privateKey` on this web server (signed in once per
 * server and wallet): the studio's reads need the creator's session.
 */
export function sessionCookie(webUrl: string, privateKey: Hex): Promise<string> {
  const account = privateKeyToAccount(privateKey);
  const key = `${webUrl} ${account.address}`;
  let cookie = sessionCookies.get(key);
  if (cookie === undefined) {
    cookie = (async () => {
      const nonce = (await (await fetch(`${webUrl}/api/auth/nonce`)).json()) as { nonce: string; domain: string; uri: string; chainId: number };
      const message = createSiweMessage({ address: account.address, chainId: nonce.chainId, domain: nonce.domain, uri: nonce.uri, nonce: nonce.nonce, version: "1", issuedAt: new Date() });
      const res = await fetch(`${webUrl}/api/auth/verify`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: webUrl },
        body: JSON.stringify({ message, signature: await account.signMessage({ message }) }),
      });
      if (res.status !== 200) throw new Error(`sign-in as ${account.address} failed: ${res.status} ${await res.text()}`);
      return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    })();
    sessionCookies.set(key, cookie);
  }
  return cookie;
}

/** GET a studio route of `webUrl` as the signed-in `privateKey` wallet. */
export async function studioGet(webUrl: string, privateKey: Hex, path: string): Promise<Response> {
  return fetch(`${webUrl}${path}`, { headers: { cookie: await sessionCookie(webUrl, privateKey) } });
}
