/**
 * Server-side configuration of the web app. Everything comes from the environment, with the
 * local-stack defaults of `npm run dev`. Addresses come from the deployments file written by
 * `npm run deploy` (`deployments/<chainId>.json`, or `$DEPLOYMENTS_DIR/<chainId>.json`): the one
 * source of truth shared with the indexer, the CLI and the tests.
 */
import { isAbsolute, join, resolve } from "node:path";
import type { Address } from "viem";
import { contractOf, loadDeployment, type BoundContract, type ContractName, type Deployment } from "@streamvault/lib/deployments";

/** The repository root: the web app runs from `web/`. */
export const REPO_ROOT = process.env.STREAMVAULT_ROOT ?? resolve(process.cwd(), "..");

function fromRoot(path: string): string {
  return isAbsolute(path) ? path : join(REPO_ROOT, path);
}

export const CHAIN_ID = Number(process.env.CHAIN_ID ?? 31337);
export const RPC_URL = process.env.RPC_URL ?? "http://127.0.0.1:8545";
export const INDEXER_URL = (process.env.INDEXER_URL ?? "http://127.0.0.1:42069").replace(/\/$/, "");
export const STORAGE_DATA_DIR = fromRoot(process.env.STORAGE_DATA_DIR ?? ".streamvault/pieces");
export const DEPLOYMENTS_DIR = fromRoot(process.env.DEPLOYMENTS_DIR ?? "deployments");
/** The creator tool's data directory (`streamvault --home`): the placement journal and CDN state live in <home>/placement/. */
export const STREAMVAULT_HOME = fromRoot(process.env.STREAMVAULT_HOME ?? ".streamvault");

/** Addresses the browser needs (ABIs are bundled from `@streamvault/lib/browser`). */
export interface PublicConfig {
  chainId: number;
  /** The origin wallet sign-in (SIWE) names: the app works fully only when opened there. */
  origin: string;
  /** Block explorer base (EXPLORER_URL, e.g. https://etherscan.io): receipts link `<explorer>/tx/<hash>`; unset, hashes show plain. */
  explorerUrl?: string;
  contracts: {
    ContentAccess: Address;
    CreatorRegistry: Address;
    PaymentChannels: Address;
    MockStablecoin?: Address;
    BackupRegistry?: Address;
    /** absent on a chain deployed before it: the studio then says live streams are not announced there */
    LiveStreams?: Address;
  };
}

/** The origin the app is served from: SIWE messages must name it (WEB_ORIGIN, else 127.0.0.1:$PORT). */
export function webOrigin(): string {
  return (process.env.WEB_ORIGIN ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/$/, "");
}

/** `deployments/<chainId>.json` through the library's one loader (re-read when the file changes: a redeploy shows up without a restart). */
export function deployment(): Deployment {
  return loadDeployment(CHAIN_ID, DEPLOYMENTS_DIR);
}

/** A deployed contract of this server's chain by name, `{ address, abi }` to spread into viem calls (`contract("ContentAccess")`). */
export function contract<N extends ContractName>(name: N): BoundContract<N> {
  const { address, abi } = contractOf(deployment(), name);
  return { address, abi };
}

/** The block `name` was deployed in: where log scans start. */
export function deployBlock(name: ContractName): bigint {
  return BigInt(contractOf(deployment(), name).blockNumber);
}

export function publicConfig(): PublicConfig {
  const d = deployment();
  return {
    chainId: CHAIN_ID,
    origin: webOrigin(),
    explorerUrl: process.env.EXPLORER_URL?.trim().replace(/\/$/, "") || undefined,
    contracts: {
      ContentAccess: contractOf(d, "ContentAccess").address,
      CreatorRegistry: contractOf(d, "CreatorRegistry").address,
      PaymentChannels: contractOf(d, "PaymentChannels").address,
      MockStablecoin: d.contracts.MockStablecoin?.address,
      BackupRegistry: d.contracts.BackupRegistry?.address,
      LiveStreams: d.contracts.LiveStreams?.address,
    },
  };
}
