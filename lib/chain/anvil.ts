/**
 * Starts and stops a local anvil node from the npm-shipped binary. Tests use port 0 semantics
 * through {freePort} because 8545 may be taken on a shared machine.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";

export interface AnvilNode {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface StartAnvilOptions {
  /** Port to listen on; 0 or omitted picks a free one. */
  port?: number;
  /** Persist chain state to this file across restarts (anvil --state). */
  statePath?: string;
  /** Seconds between blocks; omitted = a block per transaction. */
  blockTime?: number;
  /** Pipe anvil's own log to this process's stdout. */
  quiet?: boolean;
  extraArgs?: string[];
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
/** One JSON-RPC call (for node methods viem has no action for: evm_snapshot, anvil_*); errors carry the method. */
export async function jsonRpc<T>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Path of the anvil binary inside node_modules (or ANVIL_PATH). */
export function anvilBinary(): string {
  if (process.env.ANVIL_PATH) return process.env.ANVIL_PATH;
  // The platform package holds the real binary; spawning it directly (not the node wrapper)
  // means a kill reaches anvil itself.
  const require = createRequire(import.meta.url);
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}/package.json`);
    const bin = join(dirname(pkg), "bin", "anvil");
    if (existsSync(bin)) return bin;
  } catch {
    // fall through to the wrapper on PATH
  }
  return "anvil";
}

/** Starts anvil on 127.0.0.1 and resolves once it answers JSON-RPC. */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilNode> {
  const port = options.port || (await freePort());
  const args = ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337"];
  if (options.statePath) args.push("--state", options.statePath, "--preserve-historical-states");
  if (options.blockTime) args.push("--block-time", String(options.blockTime));
  args.push(...(options.extraArgs ?? []));
  const child = spawn(anvilBinary(), args, { stdio: ["ignore", options.quiet === false ? "inherit" : "ignore", "inherit"] });
  const rpcUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`anvil exited with code ${code} (is port ${port} free?)`))),
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await Promise.race([
        fetch(rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        }),
        exited,
      ]);
      if (res.ok) break;
    } catch (error) {
      if (String(error).includes("anvil exited")) throw error;
      if (Date.now() > deadline) throw new Error(`anvil did not answer on ${rpcUrl} within 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  exited.catch(() => {});
  return {
    rpcUrl,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
