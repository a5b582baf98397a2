"use client";
import { createContext, useContext } from "react";
import type { Address } from "viem";

export interface ClientConfig {
  chainId: number;
  contracts: {
    ContentAccess: Address;
    CreatorRegistry: Address;
    PaymentChannels: Address;
    MockStablecoin?: Address;
    BackupRegistry?: Address;
  };
}

const Ctx = createContext<ClientConfig | null>(null);
export const ConfigProvider = Ctx.Provider;

/** Addresses from deployments/<chainId>.json, handed down by the root layout. */
export function useAppConfig(): ClientConfig {
  const c = useContext(Ctx);
  if (!c) throw new Error("useAppConfig outside <Providers>");
  return c;
}
