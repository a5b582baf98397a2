"use client";
import { createContext, useCallback, useContext } from "react";
import type { Address } from "viem";
import { contractAt, type BoundContract, type ContractName } from "@streamvault/lib/browser";
import type { PublicConfig } from "../server/config.ts";

/** What the server hands the browser (type only: nothing of the server module is bundled). */
export type ClientConfig = PublicConfig;

const Ctx = createContext<ClientConfig | null>(null);
export const ConfigProvider = Ctx.Provider;

/** Addresses from deployments/<chainId>.json, handed down by the root layout. */
export function useAppConfig(): ClientConfig {
  const c = useContext(Ctx);
  if (!c) throw new Error("useAppConfig outside <Providers>");
  return c;
}

/** Looks a contract up by name: `{ address, abi }` to spread into wagmi calls. */
export type ContractLookup = <N extends ContractName>(name: N, at?: Address) => BoundContract<N>;

/**
 * Contract lookup by name over the deployment the server handed down (as scaffold-eth-2's
 * useScaffoldContract): `contract("ContentAccess")`, or `contract("CreatorPass", pass)` for the
 * ABI at another address (a creator's clone, a payment token).
 */
export function useContracts(): ContractLookup {
  const { chainId, contracts } = useAppConfig();
  return useCallback(
    <N extends ContractName>(name: N, at?: Address) => {
      const address = at ?? (contracts as Partial<Record<ContractName, Address>>)[name];
      if (!address) throw new Error(`chain ${chainId} has no ${name} deployed: run \`npm run deploy\` for it`);
      return contractAt(name, address);
    },
    [chainId, contracts],
  );
}
