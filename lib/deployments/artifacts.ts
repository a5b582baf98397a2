import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Abi, Hex } from "viem";
import type { ContractName } from "./contracts.ts";

export { DEPLOYED_CONTRACTS, type ContractName } from "./contracts.ts";

const SOURCES: Record<ContractName, string> = {
  ContentAccess: "access/ContentAccess.sol",
  CreatorRegistry: "creator/CreatorRegistry.sol",
  CreatorCoin: "creator/CreatorCoin.sol",
  CreatorPass: "creator/CreatorPass.sol",
  PaymentChannels: "payments/PaymentChannels.sol",
  BackupRegistry: "backup/BackupRegistry.sol",
  MockStablecoin: "mocks/MockStablecoin.sol",
  LiveStreams: "live/LiveStreams.sol",
};

// From import.meta.url, not import.meta.dirname (Ponder's vite-node leaves it undefined), and
// without `new URL(relative, import.meta.url)` (Turbopack takes that for an asset to bundle).
export const REPO_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Path of a contract's Hardhat artifact (HARDHAT_ARTIFACTS_DIR: the coverage build's folder). */
export function artifactPath(name: ContractName, root = REPO_ROOT): string {
  return join(root, process.env.HARDHAT_ARTIFACTS_DIR ?? "artifacts", "contracts", SOURCES[name], `${name}.json`);
}

/** ABI and creation bytecode of a compiled contract; tells you to compile when it is missing. */
export function readArtifact(name: ContractName, root = REPO_ROOT): { abi: Abi; bytecode: Hex } {
  try {
    const artifact = JSON.parse(readFileSync(artifactPath(name, root), "utf8"));
    return { abi: artifact.abi, bytecode: artifact.bytecode };
  } catch (cause) {
    throw new Error(`No compiled artifact for ${name}: run \`npm run build\` first.`, { cause });
  }
}
