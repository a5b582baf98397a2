/**
 * Server-side configuration of the web app. Everything comes from the environment, with the
 * local-stack defaults of `npm run dev`. Addresses come from the deployments file written by
 * `npm run deploy` (`deployments/<chainId>.json`, or `$DEPLOYMENTS_DIR/<chainId>.json`): the one
 * source of truth shared with the indexer, the CLI and the tests.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Address } from "viem";
import type { Deployment } from "../../../lib/deployments/index.ts";

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

/** Addresses the browser needs (ABIs are bundled from lib/deployments/abis.ts). */
export interface PublicConfig {
  chainId: number;
  /** The origin wallet sign-in (SIWE) names: the app works fully only when opened there. */
  origin: string;
  contracts: {
    ContentAccess: Address;
    CreatorRegistry: Address;
    PaymentChannels: Address;
    MockStablecoin?: Address;
    BackupRegistry?: Address;
  };
}

/** The origin the app is served from: SIWE messages must name it (WEB_ORIGIN, else 127.0.0.1:$PORT). */
export function webOrigin(): string {
  return (process.env.WEB_ORIGIN ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/$/, "");
}

let cached: { at: number; deployment: Deployment } | undefined;

/** `deployments/<chainId>.json`, re-read at most every 2 s (a redeploy shows up without a restart). */
export function deployment(): Deployment {
  if (cached && Date.now() - cached.at < 2000) return cached.deployment;
  const path = join(DEPLOYMENTS_DIR, `${CHAIN_ID}.json`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(`No deployment for chain ${CHAIN_ID} at ${path}: run \`npm run dev\` (or \`npm run deploy\`).`);
  }
  const parsed = JSON.parse(text) as Deployment;
  if (parsed.chainId !== CHAIN_ID) throw new Error(`${path} is for chain ${parsed.chainId}, not ${CHAIN_ID}`);
  cached = { at: Date.now(), deployment: parsed };
  return parsed;
}

export function publicConfig(): PublicConfig {
  const d = deployment();
  const need = (name: "ContentAccess" | "CreatorRegistry" | "PaymentChannels") => {
    const entry = d.contracts[name];
    if (!entry) throw new Error(`deployment of chain ${CHAIN_ID} lacks ${name}`);
    return entry.address;
  };
  return {
    chainId: CHAIN_ID,
    origin: webOrigin(),
    contracts: {
      ContentAccess: need("ContentAccess"),
      CreatorRegistry: need("CreatorRegistry"),
      PaymentChannels: need("PaymentChannels"),
      MockStablecoin: d.contracts.MockStablecoin?.address,
      BackupRegistry: d.contracts.BackupRegistry?.address,
    },
  };
}
