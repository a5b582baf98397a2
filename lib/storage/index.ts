/**
 * Public entry point of the storage library. Import from here:
 *
 *   import { createStore, startGateway } from "../lib/storage/index.ts";
 */
import path from "node:path";
import { LocalStore } from "./local.ts";
import { ReplicatedStore } from "./replicated.ts";
import type { StorageFault } from "./replicated.ts";
import { SynapseStore, createSynapse, synapseConfigFromEnv } from "./synapse.ts";
import { StoreSet } from "./set.ts";
import { s3StoreFromEnv } from "./s3.ts";
import { ipfsStoreFromEnv } from "./ipfs/index.ts";
import { webtorrentStoreFromEnv } from "./webtorrent/index.ts";
import { backendRegistration, memberSetting, orderStages, parseBackendSet, parseReadOrder, registerBackend, registerBackendFamily } from "./backends.ts";
import type { BackendContext, ReadStage } from "./backends.ts";
import { instrumentStore, sharedStats, statsFileFor } from "./stats.ts";
import type { StorageStats } from "./stats.ts";
import type { PieceStore } from "./types.ts";

export * from "./types.ts";
export * from "./piece.ts";
export * from "./local.ts";
export * from "./gateway.ts";
export * from "./replicated.ts";
export * from "./faulty.ts";
export * from "./cost.ts";
export * from "./synapse.ts";
export * from "./backends.ts";
export * from "./set.ts";
export * from "./stats.ts";

/** A backend name, or several joined by "+" ("synapse+s3+ipfs"). */
export type StorageBackend = string;

/** Default directory of the embedded store, relative to the working directory. */
export const DEFAULT_DATA_DIR = ".streamvault/pieces";

export interface StoreConfig {
  /** Backend set; default from STORAGE_BACKEND, else "local". */
  backend?: StorageBackend;
  /** Local piece directory; default from STORAGE_DATA_DIR, else ".streamvault/pieces". */
  dataDir?: string;
  /** Gateway base URL for local urlFor(); default from STORAGE_PUBLIC_URL. */
  publicUrl?: string;
  /**
   * Keep a local copy beside remote backends (read last). Default from STORAGE_LOCAL_COPY, else true;
   * a set naming "local" has one anyway.
   */
  localCopy?: boolean;
  /** Fault reporting hook (replicated reads/writes). */
  onFault?: (fault: StorageFault) => void;
  /** Per-backend counters; default the shared ones of `<dataDir>.stats.json` (STORAGE_STATS=off disables). */
  stats?: StorageStats | false;
  /**
   * Where placement wants each piece, given the set's backend names (the StoreSet's
   * `expectedBackends` hook: repair re-copies only there). lib/storage/placement's
   * `placementView(journalFile)` reads it from the placement journal.
   */
  placementView?: (backends: readonly string[]) => (pieceCid: string) => string[] | undefined;
  /** Environment to read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

registerBackend("local", (_env, ctx) => new LocalStore({ dir: ctx.dataDir, publicUrl: ctx.publicUrl }));
// More local disks, each an independent copy: `local+local-disk2` with STORAGE_LOCAL_DISK2_DIR.
registerBackendFamily("local", (name) => ({
  factory: (env) => {
    const key = memberSetting(name, "DIR");
    const dir = env[key];
    if (!dir) throw new Error(`backend "${name}" needs ${key}: the directory holding its copies (a different disk than STORAGE_DATA_DIR)`);
    return new LocalStore({ dir: path.resolve(dir), name });
  },
}));
registerBackend(
  "synapse",
  (env) => {
    const sc = synapseConfigFromEnv(env);
    return new SynapseStore({ synapse: createSynapse(sc), copies: sc.copies, withCDN: sc.withCDN });
  },
  {
    // The CDN and the provider are two read stages over the one Synapse copy.
    readStages: (store) => {
      const synapse = store as SynapseStore;
      return [...(synapse.withCDN ? [{ name: "cdn", store: synapse.view("cdn"), backend: "synapse" }] : []), { name: "synapse", store: synapse.view("provider"), backend: "synapse" }];
    },
  },
);
// Network backends: each module loads its heavy client (AWS SDK, Helia, webtorrent) on first use.
registerBackend("s3", s3StoreFromEnv);
registerBackend("ipfs", ipfsStoreFromEnv);
registerBackend("webtorrent", webtorrentStoreFromEnv);

/**
 * Build the configured PieceStore (sync: remote backends start lazily on first use).
 *
 * - `local` (default): a LocalStore in `dataDir`.
 * - a set, e.g. `synapse+s3+ipfs`: a StoreSet writing to every backend of the set (or those a put()
 *   names in `PutOptions.backends`), plus a local copy unless STORAGE_LOCAL_COPY=false; reads follow
 *   STORAGE_READ_ORDER (default cdn,synapse,ipfs,s3,webtorrent,local) with a circuit breaker per
 *   backend, every byte verified against the PieceCID, bad copies repaired in the background.
 *   `synapse` alone keeps its historic meaning: Synapse plus a local copy.
 *
 * Settings: STORAGE_BREAKER_THRESHOLD (5 failures), STORAGE_BREAKER_COOLDOWN_MS (30000),
 * STORAGE_READ_TIMEOUT_MS (30000), STORAGE_REPAIR_CONCURRENCY (2; 0 disables repair),
 * STORAGE_MIN_WRITES (default: every targeted backend).
 */
export function createStore(config: StoreConfig = {}): PieceStore {
  const env = config.env ?? process.env;
  const names = parseBackendSet(config.backend ?? env.STORAGE_BACKEND);
  const dataDir = config.dataDir ?? (env.STORAGE_DATA_DIR || DEFAULT_DATA_DIR);
  const publicUrl = config.publicUrl ?? (env.STORAGE_PUBLIC_URL || undefined);
  const ctx: BackendContext = { dataDir, publicUrl };
  const stats = config.stats === false || /^(0|off|false|no)$/i.test(env.STORAGE_STATS ?? "") ? undefined : (config.stats ?? sharedStats(env.STORAGE_STATS_FILE || statsFileFor(dataDir)));
  const wrap = <S extends PieceStore>(store: S, name = store.name): S => (stats ? instrumentStore(store, stats, name) : store);

  const localCopy = config.localCopy ?? !/^(0|off|false|no)$/i.test(env.STORAGE_LOCAL_COPY ?? "");
  if (names.length === 1 && names[0] === "local") return wrap(new LocalStore({ dir: dataDir, publicUrl }));
  if (localCopy && !names.includes("local")) names.push("local");

  const backends: PieceStore[] = [];
  const stages: ReadStage[] = [];
  for (const name of names) {
    const reg = backendRegistration(name);
    const built = reg.factory(env, ctx);
    const store = wrap(built, name);
    backends.push(renamed(store, name));
    const own = reg.readStages?.(built, env) ?? [{ name, store: built, backend: name }];
    for (const s of own) stages.push({ ...s, store: renamed(wrap(s.store, s.name), s.name) });
  }
  const int = (key: string, fallback: number) => {
    const raw = env[key];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${key} must be a non-negative integer, got "${raw}"`);
    return n;
  };
  const repairConcurrency = int("STORAGE_REPAIR_CONCURRENCY", 2);
  const minWrites = env.STORAGE_MIN_WRITES ? int("STORAGE_MIN_WRITES", 1) : undefined;
  return new StoreSet({
    name: names.join("+"),
    backends,
    readStages: orderStages(stages, parseReadOrder(env.STORAGE_READ_ORDER, stages.map((s) => s.name).concat(parseReadOrder(undefined)))),
    minWrites,
    breaker: { threshold: int("STORAGE_BREAKER_THRESHOLD", 5), halfOpenAfterMs: int("STORAGE_BREAKER_COOLDOWN_MS", 30_000) },
    readTimeoutMs: int("STORAGE_READ_TIMEOUT_MS", 30_000),
    repair: repairConcurrency === 0 ? false : { concurrency: repairConcurrency },
    stats,
    onFault: config.onFault,
    expectedBackends: config.placementView?.(names),
  });
}
export * from "./s3.ts";
export * from "./ipfs/index.ts";

/** A view of `store` under another name (a factory's store named differently from its registry key). */
function renamed(store: PieceStore, name: string): PieceStore {
  if (store.name === name) return store;
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "name") return name;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
export * from "./webtorrent/index.ts";
