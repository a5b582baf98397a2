/**
 * Backups, restore previews and exports for the creator dashboard, through the same lib/catalog
 * functions the CLI uses (`@streamvault/lib`, loaded by Node at run time: a server external package in
 * next.config.ts). Those functions act for
 * `ctx.account`; here that is a read-only account for the creator's address: the server never
 * holds the creator's key, so it only reads the chain and stores snapshots, and the creator's
 * wallet anchors them (BackupRegistry.anchorBackup) from the browser.
 */
import { createPublicClient, http, type Address, type PublicClient } from "viem";
import { CHAIN_ID, RPC_URL, deployment } from "./config.ts";
import { pieceStore } from "./store.ts";

export type SnapshotLib = typeof import("@streamvault/lib/catalog/backup/snapshot.ts");
export type RestoreLib = typeof import("@streamvault/lib/catalog/backup/restore.ts");
export type ChainContext = import("@streamvault/lib/catalog/chain/client.ts").ChainContext;

export async function catalogLibs(): Promise<{ snapshot: SnapshotLib; restore: RestoreLib }> {
  const [snapshot, restore] = await Promise.all([import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/backup/snapshot.ts"), import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/backup/restore.ts")]);
  return { snapshot, restore };
}

/** A ChainContext for `creator` that can read but not sign (walletClient throws if ever used). */
export async function readOnlyContext(creator: Address): Promise<ChainContext> {
  const d = deployment();
  const { contractOf } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/deployments");
  const publicClient = createPublicClient({ transport: http(RPC_URL, { timeout: 15_000 }) }) as PublicClient;
  const refuse = () => {
    throw new Error("the web server does not sign for creators: the creator's wallet sends this transaction");
  };
  return {
    rpcUrl: RPC_URL,
    chainId: CHAIN_ID,
    account: { address: creator, type: "json-rpc" } as ChainContext["account"],
    publicClient,
    walletClient: new Proxy({}, { get: refuse }) as ChainContext["walletClient"],
    deployment: d,
    contentAccess: contractOf(d, "ContentAccess"),
    backupRegistry: contractOf(d, "BackupRegistry"),
    creatorRegistry: contractOf(d, "CreatorRegistry"),
    serialize: refuse as ChainContext["serialize"],
  };
}

export { pieceStore };
