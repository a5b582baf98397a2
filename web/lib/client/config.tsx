"use client";
import { createContext, useContext } from "react";
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

/** Contract lookup by name over the same deployment (the SDK's; <Providers> hands it the config). */
export { useContracts, type ContractLookup } from "@streamvault/sdk";
