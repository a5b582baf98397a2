"use client";
/**
 * What the SDK needs to know about a StreamVault deployment: the chain and contract addresses
 * (from `deployments/<chainId>.json`, i.e. lib/deployments; ABIs are bundled from
 * `@streamvault/lib/browser`) and where the StreamVault server (manifests, playlists, pieces, key
 * release) and the indexer answer. The host site brings its own wagmi config and React Query client.
 */
import { createContext, useCallback, useContext, type ReactNode } from "react";
import type { Address } from "viem";
import { contractAt, type BoundContract, type ContractName } from "@streamvault/lib/browser";
import type { StreamVaultConfig } from "./deployment.ts";

export { configFromDeployment, type StreamVaultConfig, type StreamVaultContracts, type ResolvedConfig, type DeploymentLike } from "./deployment.ts";
import type { ResolvedConfig } from "./deployment.ts";

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

/** Looks a contract up by name: `{ address, abi }` to spread into wagmi calls. */
export type ContractLookup = <N extends ContractName>(name: N, at?: Address) => BoundContract<N>;

/**
 * Contract lookup by name over the configured deployment (as scaffold-eth-2's
 * useScaffoldContract): `contract("ContentAccess")`, or `contract("CreatorPass", pass)` for the
 * ABI at another address (a creator's clone, a payment token).
 */
export function useContracts(): ContractLookup {
  const { chainId, contracts } = useStreamVault();
  return useCallback(
    <N extends ContractName>(name: N, at?: Address) => {
      const address = at ?? (contracts as Partial<Record<ContractName, Address>>)[name];
      if (!address) throw new Error(`chain ${chainId} has no ${name} deployed: run \`npm run deploy\` for it`);
      return contractAt(name, address);
    },
    [chainId, contracts],
  );
}
