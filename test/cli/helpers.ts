/** CLI test helpers: a fresh anvil + deployment, the CLI as a child process, generated media. */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, createWalletClient, http } from "viem";
import type { Account, Chain, PublicClient, Transport, WalletClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { startAnvil } from "@streamvault/lib/chain/anvil.ts";
import type { AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import { deploySystem } from "@streamvault/lib/deployments/deploy-system.ts";
import { writeDeployment } from "@streamvault/lib/deployments";
import type { Deployment } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(REPO, "cli", "streamvault.ts");
export const NODE = path.join(REPO, "node_modules", ".bin", "node");
/** Fixed master key so the test process can open the CLI's key store afterwards. */
export const MASTER_KEY_HEX = "11".repeat(32);
export const MASTER_KEY = new Uint8Array(32).fill(0x11);
export const CREATOR = privateKeyToAccount(DEV_PRIVATE_KEYS[1]);

export interface TestChain {
  anvil: AnvilNode;
  rpcUrl: string;
  deploymentsDir: string;
  deployment: Deployment;
  publicClient: PublicClient;
  wallet(index: number): WalletClient<Transport, Chain, Account>;
}

export async function startTestChain(dir: string): Promise<TestChain> {
  const anvil = await startAnvil();
  const publicClient = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), pollingInterval: 100 }) as PublicClient;
  const wallet = (index: number) => createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: privateKeyToAccount(DEV_PRIVATE_KEYS[index]) });
  const deployment = await deploySystem({ publicClient, walletClient: wallet(0) });
  const deploymentsDir = path.join(dir, "deployments");
  writeDeployment(deployment, deploymentsDir);
  return { anvil, rpcUrl: anvil.rpcUrl, deploymentsDir, deployment, publicClient, wallet };
}

const children = new Set<ChildProcess>();

/** Kill every CLI child still running (process group: ffmpeg children too). */
export function killAllChildren(): void {
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function cliEnv(chain: TestChain | undefined, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RPC_URL: chain?.rpcUrl ?? "http://127.0.0.1:9",
    DEPLOYMENTS_DIR: chain?.deploymentsDir ?? path.join(home, "no-deployments"),
    STREAMVAULT_HOME: home,
    STREAMVAULT_MASTER_KEY: MASTER_KEY_HEX,
    ...extra,
  };
}

/** Start the CLI in its own process group; `done` resolves with its exit code and output. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, options: { cwd?: string; stdin?: "pipe" | "ignore" } = {}): { child: ChildProcess; done: Promise<CliRun>; output(): string } {
  const child = spawn(NODE, [CLI, ...args], { cwd: options.cwd ?? REPO, env, stdio: [options.stdin ?? "ignore", "pipe", "pipe"], detached: true });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) =>
    child.once("close", (code, signal) => {
      children.delete(child);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    }),
  );
  return { child, done, output: () => stdout + stderr };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, options: { cwd?: string } = {}): Promise<CliRun> {
  return startCli(args, env, options).done;
}

/** A short stereo tone (distinct frequency per file so the bytes differ). */
export async function makeTone(file: string, seconds: number, frequency: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", `sine=f=${frequency}:d=${seconds}:r=44100`, "-ac", "2", "-metadata", `title=Tone ${frequency}`, file]);
}

/** Bytes that look like a WAV but are not decodable. */
export async function makeCorrupt(file: string): Promise<void> {
  const junk = Buffer.alloc(4096, 0x5a);
  Buffer.from("RIFF\u0000\u0010\u0000\u0000WAVEfmt ").copy(junk);
  await writeFile(file, junk);
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}
