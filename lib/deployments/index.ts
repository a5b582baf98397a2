/**
 * The one place addresses and ABIs come from. `npm run deploy` writes
 * `deployments/<chainId>.json` (address, ABI and deployment block of every contract); the indexer,
 * web app, CLI and tests read it through this module.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Abi, Address } from "viem";
import { REPO_ROOT, type ContractName } from "./artifacts.ts";
import {
  backupRegistryAbi,
  contentAccessAbi,
  creatorCoinAbi,
  creatorPassAbi,
  creatorRegistryAbi,
  mockStablecoinAbi,
  paymentChannelsAbi,
} from "./abis.ts";

export { DEPLOYED_CONTRACTS, type ContractName } from "./artifacts.ts";
export * from "./abis.ts";

/** ABIs by contract name, typed `as const` for viem. */
export const ABIS = {
  ContentAccess: contentAccessAbi,
  CreatorRegistry: creatorRegistryAbi,
  CreatorCoin: creatorCoinAbi,
  CreatorPass: creatorPassAbi,
  PaymentChannels: paymentChannelsAbi,
  BackupRegistry: backupRegistryAbi,
  MockStablecoin: mockStablecoinAbi,
} as const satisfies Record<ContractName, Abi>;

export interface DeployedContract {
  address: Address;
  abi: Abi;
  /** Block the contract was created in: where indexers start. */
  blockNumber: number;
}

export interface Deployment {
  chainId: number;
  deployer: Address;
  deployedAt: string;
  /**
   * CreatorCoin and CreatorPass are the implementations behind every creator's clone; their
   * addresses matter less than their ABIs (clones are found through CreatorRegistry events).
   * MockStablecoin exists on local chains only.
   */
  contracts: Partial<Record<ContractName, DeployedContract>>;
}

/** Folder holding `<chainId>.json`; `DEPLOYMENTS_DIR` overrides (tests use temp dirs). */
export function deploymentsDir(): string {
  return process.env.DEPLOYMENTS_DIR ?? join(REPO_ROOT, "deployments");
}

/** Path of the deployments file of `chainId`. */
export function deploymentPath(chainId: number, dir = deploymentsDir()): string {
  return join(dir, `${chainId}.json`);
}

/** Reads `deployments/<chainId>.json`; says what to run when it is missing. */
export function loadDeployment(chainId: number, dir = deploymentsDir()): Deployment {
  const path = deploymentPath(chainId, dir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(
      `No deployment for chain ${chainId} at ${path}. Start a chain (\`npm run chain\`) and run \`npm run deploy\`.`,
    );
  }
  const deployment = JSON.parse(text) as Deployment;
  if (deployment.chainId !== chainId) {
    throw new Error(`${path} is for chain ${deployment.chainId}, not ${chainId}.`);
  }
  return deployment;
}

/** Writes a deployment to `deployments/<chainId>.json`; returns the path. */
export function writeDeployment(deployment: Deployment, dir = deploymentsDir()): string {
  mkdirSync(dir, { recursive: true });
  const path = deploymentPath(deployment.chainId, dir);
  writeFileSync(path, JSON.stringify(deployment, null, 2) + "\n");
  return path;
}

/** Address and typed ABI of one deployed contract; throws when the deployment lacks it. */
export function contractOf<N extends ContractName>(
  deployment: Deployment,
  name: N,
): { address: Address; abi: (typeof ABIS)[N]; blockNumber: number } {
  const entry = deployment.contracts[name];
  if (!entry) throw new Error(`Chain ${deployment.chainId} has no ${name} deployed.`);
  return { address: entry.address, abi: ABIS[name], blockNumber: entry.blockNumber };
}
