/**
 * The one place addresses and ABIs come from. `npm run deploy` writes
 * `deployments/<chainId>.json` (address, ABI and deployment block of every contract); the indexer,
 * web app, CLI and tests read it through this module. The file-system-free half (names, ABIs,
 * enums and structs, `contractOf`, `contractAt`) is ./contracts.ts, also in `@streamvault/lib/browser`.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./artifacts.ts";
import { contractOf, type BoundContract, type ContractName, type Deployment } from "./contracts.ts";

export * from "./contracts.ts";

/** Folder holding `<chainId>.json`; `DEPLOYMENTS_DIR` overrides (tests use temp dirs). */
export function deploymentsDir(): string {
  return process.env.DEPLOYMENTS_DIR ?? join(REPO_ROOT, "deployments");
}

/** The chain this process works on: `CHAIN_ID`, else the local anvil chain. */
export function defaultChainId(): number {
  const chainId = Number(process.env.CHAIN_ID ?? 31337);
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new Error(`CHAIN_ID must be a positive integer, got "${process.env.CHAIN_ID}".`);
  return chainId;
}

/** Path of the deployments file of `chainId`. */
export function deploymentPath(chainId: number, dir = deploymentsDir()): string {
  return join(dir, `${chainId}.json`);
}

// Parsed files by path, re-read when the file changes: a redeploy shows up in a running server.
const cache = new Map<string, { mtimeMs: number; size: number; deployment: Deployment }>();

/** Reads `deployments/<chainId>.json` (again only when it changed); says what to run when it is missing. */
export function loadDeployment(chainId: number = defaultChainId(), dir = deploymentsDir()): Deployment {
  const path = deploymentPath(chainId, dir);
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new Error(
      `No deployment for chain ${chainId} at ${path}. Start a chain (\`npm run chain\`) and run \`npm run deploy\` (or \`npm run dev\`).`,
    );
  }
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit.deployment;
  let deployment: Deployment;
  try {
    deployment = JSON.parse(readFileSync(path, "utf8")) as Deployment;
  } catch (cause) {
    throw new Error(`${path} is not a deployments file (${(cause as Error).message}): run \`npm run deploy\` again.`, { cause });
  }
  if (deployment.chainId !== chainId) {
    throw new Error(`${path} is for chain ${deployment.chainId}, not ${chainId}.`);
  }
  cache.set(path, { mtimeMs: stat.mtimeMs, size: stat.size, deployment });
  return deployment;
}

/** Writes a deployment to `deployments/<chainId>.json`; returns the path. */
export function writeDeployment(deployment: Deployment, dir = deploymentsDir()): string {
  mkdirSync(dir, { recursive: true });
  const path = deploymentPath(deployment.chainId, dir);
  writeFileSync(path, JSON.stringify(deployment, null, 2) + "\n");
  cache.delete(path);
  return path;
}

export interface ContractLookup {
  /** Chain whose deployments file is read (default `CHAIN_ID`, else 31337). */
  chainId?: number;
  /** Folder of the deployments files (default `DEPLOYMENTS_DIR`, else `<repo>/deployments`). */
  dir?: string;
  /** A deployment already loaded (the CLI's context, a test's fresh deploy) instead of the file. */
  deployment?: Deployment;
}

/**
 * A deployed contract by name: `{ address, abi }` with the ABI typed for viem, from the
 * deployments file of the current chain, to spread into viem calls: `{ ...contract("ContentAccess"),
 * functionName }`. Only those two keys (a `blockNumber` spread into a read would pin it to that
 * block): the deployment block is `contractOf(deployment, name).blockNumber`.
 */
export function contract<N extends ContractName>(name: N, lookup: ContractLookup = {}): BoundContract<N> {
  const { address, abi } = contractOf(lookup.deployment ?? loadDeployment(lookup.chainId ?? defaultChainId(), lookup.dir ?? deploymentsDir()), name);
  return { address, abi };
}

