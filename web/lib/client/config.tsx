"use client";
import { useStreamVault, type ResolvedConfig } from "../../../sdk/src/config.tsx";
import type { PublicConfig } from "../server/config.ts";

/** What the server hands the browser (type only: nothing of the server module is bundled). */
export type ClientConfig = PublicConfig;

/** Addresses from deployments/<chainId>.json, handed down by the root layout through the SDK's provider. */
export function useAppConfig(): ResolvedConfig {
  return useStreamVault();
}
