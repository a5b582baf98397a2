/**
 * Registry of storage backends by name, and the parsing of `STORAGE_BACKEND` / `STORAGE_READ_ORDER`.
 *
 * Every backend file exports a sync factory `<name>StoreFromEnv(env, ctx)`; it plugs into
 * createStore with one line in lib/storage/index.ts:
 *
 *   registerBackend("s3", s3StoreFromEnv);
 *
 * A factory builds the backend's own store; `readStages` (optional) splits it into several read
 * stages of the fallback order, e.g. Synapse into "cdn" and "synapse" (the provider).
 */
import type { PieceStore } from "./types.ts";
import { StreamVaultError } from "../errors.ts";

export interface BackendContext {
  /** Local piece directory (backends keep their own state beside it, e.g. an IPFS repo). */
  dataDir: string;
  /** Public base URL of the piece gateway / web piece route (web seeds, local urlFor). */
  publicUrl?: string;
}

/** Sync factory: reads its settings from env, throws an error naming the missing variable. */
export type BackendFactory = (env: NodeJS.ProcessEnv, ctx: BackendContext) => PieceStore;

/** One step of the read fallback order: `store` is read, `backend` names the write backend holding that copy. */
export interface ReadStage {
  /** Stage name as written in STORAGE_READ_ORDER ("cdn", "synapse", "ipfs", "s3", "webtorrent", "local"). */
  name: string;
  store: PieceStore;
  /** Backend whose copy this stage reads (repair re-copies into it); "cdn" reads the "synapse" copy. */
  backend: string;
}

export interface BackendRegistration {
  factory: BackendFactory;
  /** Read stages of a built store; default one stage named like the backend. */
  readStages?: (store: PieceStore, env: NodeJS.ProcessEnv) => ReadStage[];
}

/** Default read order (issue 13): CDN -> Filecoin provider -> IPFS gateway -> S3 -> P2P -> local. */
export const DEFAULT_READ_ORDER = ["cdn", "synapse", "ipfs", "s3", "webtorrent", "local"] as const;

/** Backend names with a module under lib/storage/ that registers them (s3, ipfs, webtorrent once they land). */
export const BACKEND_NAMES = ["local", "synapse", "s3", "ipfs", "webtorrent"] as const;

const registry = new Map<string, BackendRegistration>();
/** Backend families: `<prefix>-<suffix>` names built by one factory maker (e.g. `local-disk2`). */
const families = new Map<string, (name: string) => BackendRegistration>();

/** Add (or replace) a backend by name. */
export function registerBackend(name: string, factory: BackendFactory, options: Omit<BackendRegistration, "factory"> = {}): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`backend name must be lower-case letters, digits and "-", got "${name}"`);
  registry.set(name, { factory, ...options });
}

/**
 * Register a family of backends named `<prefix>-<suffix>` (suffix: lower-case letters, digits, "-"),
 * e.g. `local-disk2`: several instances of one kind, each with its own settings, chosen by the
 * factory from the full name.
 */
export function registerBackendFamily(prefix: string, registrationFor: (name: string) => BackendRegistration): void {
  if (!/^[a-z][a-z0-9]*$/.test(prefix)) throw new Error(`backend family prefix must be lower-case letters and digits, got "${prefix}"`);
  families.set(prefix, registrationFor);
}

/** `STORAGE_<NAME>_<KEY>` of a family member: `local-disk2` + `DIR` -> `STORAGE_LOCAL_DISK2_DIR`. */
export function memberSetting(name: string, key: string): string {
  return `STORAGE_${name.toUpperCase().replace(/-/g, "_")}_${key}`;
}

/** Names of the registered backends, in registration order. */
export function knownBackends(): string[] {
  return [...registry.keys()];
}

export function backendRegistration(name: string): BackendRegistration {
  const reg = registry.get(name);
  if (reg) return reg;
  const m = /^([a-z][a-z0-9]*)-([a-z0-9][a-z0-9-]*)$/.exec(name);
  const family = m ? families.get(m[1]) : undefined;
  if (family) return family(name);
  throw new UnknownBackendError(name, [...knownBackends(), ...[...families.keys()].map((p) => `${p}-<name>`)]);
}

export class UnknownBackendError extends StreamVaultError {
  readonly backend: string;
  constructor(backend: string, known: string[]) {
    super("bad_input", 
      `unknown storage backend "${backend}" in STORAGE_BACKEND; known backends: ${known.join(", ")}` +
        ` (combine several with "+", e.g. "synapse+local")`,
    );
    this.name = "UnknownBackendError";
    this.backend = backend;
  }
}

/** Parse `STORAGE_BACKEND` ("local", "synapse+s3+ipfs"): names, deduplicated, each registered. */
export function parseBackendSet(value: string | undefined): string[] {
  const text = (value ?? "").trim() || "local";
  const names = text.split("+").map((s) => s.trim().toLowerCase());
  if (names.some((n) => n === "")) {
    throw new Error(`STORAGE_BACKEND "${value}" has an empty name: write backend names joined by "+", e.g. "synapse+s3"`);
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`STORAGE_BACKEND "${value}" names "${n}" twice`);
    seen.add(n);
    backendRegistration(n);
  }
  return names;
}

/**
 * Parse `STORAGE_READ_ORDER` ("cdn,synapse,ipfs,s3,webtorrent,local"): stage names, comma or "+"
 * separated. Unknown names are an error (a typo would otherwise silently reorder reads).
 */
export function parseReadOrder(value: string | undefined, knownStages: readonly string[] = [...DEFAULT_READ_ORDER, ...knownBackends()]): string[] {
  const text = (value ?? "").trim();
  if (text === "") return [...DEFAULT_READ_ORDER];
  const names = text.split(/[,+\s]+/).filter(Boolean).map((s) => s.toLowerCase());
  const known = new Set(knownStages);
  for (const n of names) {
    if (!known.has(n)) throw new Error(`STORAGE_READ_ORDER names unknown stage "${n}"; known: ${[...known].join(", ")}`);
  }
  return [...new Set(names)];
}

/**
 * Sort read stages by `order`; stages the order does not name keep their relative order after the
 * named ones (a backend in the set is never left unread).
 */
export function orderStages(stages: ReadStage[], order: readonly string[]): ReadStage[] {
  const rank = (s: ReadStage) => {
    const i = order.indexOf(s.name);
    return i === -1 ? order.length : i;
  };
  return stages.map((s, i) => ({ s, i })).sort((a, b) => rank(a.s) - rank(b.s) || a.i - b.i).map(({ s }) => s);
}
