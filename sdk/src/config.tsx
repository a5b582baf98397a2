"use client";
/**
 * What the SDK needs to know about a StreamVault deployment: the chain and contract addresses
 * (from `deployments/<chainId>.json`, i.e. lib/deployments; ABIs are bundled from
 * lib/deployments/abis.ts) and where the StreamVault server (manifests, playlists, pieces, key
 * release) and the indexer answer. The host site brings its own wagmi config and React Query client.
 */
import { createContext, useContext, type ReactNode } from "react";
import type { Address } from "viem";

export interface StreamVaultContracts {
  ContentAccess: Address;
  CreatorRegistry: Address;
  PaymentChannels: Address;
  MockStablecoin?: Address;
  BackupRegistry?: Address;
}

export interface StreamVaultConfig {
  chainId: number;
  contracts: StreamVaultContracts;
  /**
   * Origin of the StreamVault server ("https://app.streamvault.xyz"); "" (the default) means the
   * page's own origin, as in the StreamVault web app. Another origin must list this site in the
   * server's `SDK_ORIGINS`.
   */
  apiBase?: string;
  /** The Ponder indexer (GraphQL, `/sql/live`), for `<CreatorDashboard>` and `createIndexerClient`. */
  indexerUrl?: string;
}

export interface ResolvedConfig extends StreamVaultConfig {
  apiBase: string;
}

/** A deployment as lib/deployments writes it: `{ chainId, contracts: { Name: { address } } }`. */
export interface DeploymentLike {
  chainId: number;
  contracts: Record<string, { address: Address } | undefined>;
}

/** The SDK config of a `deployments/<chainId>.json` (throws, naming what is missing, when a contract is absent). */
export function configFromDeployment(deployment: DeploymentLike, urls: { apiBase?: string; indexerUrl?: string } = {}): StreamVaultConfig {
  const need = (name: "ContentAccess" | "CreatorRegistry" | "PaymentChannels") => {
    const address = deployment.contracts[name]?.address;
    if (!address) throw new Error(`the deployment of chain ${deployment.chainId} has no ${name}: deploy the system first (npm run deploy)`);
    return address;
  };
  return {
    chainId: deployment.chainId,
    contracts: {
      ContentAccess: need("ContentAccess"),
      CreatorRegistry: need("CreatorRegistry"),
      PaymentChannels: need("PaymentChannels"),
      MockStablecoin: deployment.contracts.MockStablecoin?.address,
      BackupRegistry: deployment.contracts.BackupRegistry?.address,
    },
    ...urls,
  };
}

const Ctx = createContext<ResolvedConfig | null>(null);

/** Put it inside the host's `<WagmiProvider>` and `<QueryClientProvider>`. */
export function StreamVaultProvider({ config, children }: { config: StreamVaultConfig; children: ReactNode }) {
  const resolved: ResolvedConfig = { ...config, apiBase: (config.apiBase ?? "").replace(/\/$/, "") };
  return <Ctx.Provider value={resolved}>{children}</Ctx.Provider>;
}

export function useStreamVault(): ResolvedConfig {
  const c = useContext(Ctx);
  if (!c) throw new Error("StreamVault components must be inside <StreamVaultProvider config={...}>");
  return c;
}

/** `fetch` options for the StreamVault server: the session cookie goes along, same origin or not. */
export const WITH_SESSION: RequestInit = { credentials: "include" };
