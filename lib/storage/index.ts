/**
 * Public entry point of the storage library. Import from here:
 *
 *   import { createStore, startGateway } from "../lib/storage/index.ts";
 */
import { LocalStore } from "./local.ts";
import { ReplicatedStore } from "./replicated.ts";
import type { StorageFault } from "./replicated.ts";
import { SynapseStore, createSynapse, synapseConfigFromEnv } from "./synapse.ts";
import type { PieceStore } from "./types.ts";

export * from "./types.ts";
export * from "./piece.ts";
export * from "./local.ts";
export * from "./gateway.ts";
export * from "./replicated.ts";
export * from "./faulty.ts";
export * from "./cost.ts";
export * from "./synapse.ts";

export type StorageBackend = "local" | "synapse";

/** Default directory of the embedded store, relative to the working directory. */
export const DEFAULT_DATA_DIR = ".streamvault/pieces";

export interface StoreConfig {
  /** Backend; default from STORAGE_BACKEND, else "local". */
  backend?: StorageBackend;
  /** Local piece directory; default from STORAGE_DATA_DIR, else ".streamvault/pieces". */
  dataDir?: string;
  /** Gateway base URL for local urlFor(); default from STORAGE_PUBLIC_URL. */
  publicUrl?: string;
  /** For "synapse": also keep a local copy (read last, after CDN and provider). Default true. */
  localCopy?: boolean;
  /** Fault reporting hook (synapse backend's replicated reads/writes). */
  onFault?: (fault: StorageFault) => void;
  /** Environment to read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Build the configured PieceStore.
 *
 * - `local`: a LocalStore in `dataDir`.
 * - `synapse`: Filecoin via Synapse (SYNAPSE_* env vars), replicated with a local copy:
 *   writes go to Synapse and local; reads go CDN (if SYNAPSE_WITH_CDN) -> provider -> local,
 *   every byte verified against the PieceCID.
 */
export function createStore(config: StoreConfig = {}): PieceStore {
  const env = config.env ?? process.env;
  const backend = config.backend ?? ((env.STORAGE_BACKEND || "local") as StorageBackend);
  const dataDir = config.dataDir ?? (env.STORAGE_DATA_DIR || DEFAULT_DATA_DIR);
  const publicUrl = config.publicUrl ?? (env.STORAGE_PUBLIC_URL || undefined);
  if (backend === "local") return new LocalStore({ dir: dataDir, publicUrl });
  if (backend !== "synapse") throw new Error(`STORAGE_BACKEND must be "local" or "synapse", got "${backend}"`);

  const sc = synapseConfigFromEnv(env);
  const synapse = new SynapseStore({ synapse: createSynapse(sc), copies: sc.copies, withCDN: sc.withCDN });
  if (config.localCopy === false) return synapse;
  const local = new LocalStore({ dir: dataDir, publicUrl });
  const readFrom: PieceStore[] = [
    ...(sc.withCDN ? [synapse.view("cdn")] : []),
    synapse.view("provider"),
    local,
  ];
  return new ReplicatedStore({ name: "synapse+local", writeTo: [synapse, local], readFrom, onFault: config.onFault });
}
export * from "./s3.ts";
export * from "./ipfs/index.ts";
