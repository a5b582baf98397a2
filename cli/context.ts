/**
 * Shared CLI plumbing: exit codes, the data directory, storage, key store and chain connections.
 * Nothing here prints a secret: the creator key and content keys never reach a log line.
 */
import path from "node:path";
import Table from "cli-table3";
import { erc20Abi, zeroAddress, type Address } from "viem";
import { ChainUnavailableError, connectChain } from "@streamvault/lib/catalog/chain/client.ts";
import type { ChainContext } from "@streamvault/lib/catalog/chain/client.ts";
import { ERROR_CODES, StreamVaultError, type ErrorCode } from "@streamvault/lib/errors.ts";
import { openKeyStore } from "@streamvault/lib/keys";
import type { KeyStore } from "@streamvault/lib/keys";
import { createStore, faultyStore } from "@streamvault/lib/storage";
import type { PieceStore } from "@streamvault/lib/storage";
import { journalPath, placementView } from "@streamvault/lib/storage/placement";

/**
 * Documented exit codes (see cli/README.md). Failures take theirs from the error's code in
 * lib/errors.ts (the one table of codes, HTTP statuses and exit codes); these names are for the
 * commands' own returns and for tests.
 */
export const EXIT = {
  OK: 0,
  /** some items failed (the others succeeded); re-run to retry. Also any error that is not a StreamVaultError. */
  PARTIAL: ERROR_CODES.internal.exit,
  /** bad command line or input file */
  USAGE: ERROR_CODES.bad_input.exit,
  /** chain or storage unreachable, or no deployment for the chain */
  UNAVAILABLE: ERROR_CODES.unavailable.exit,
  /** content / backup not found, or the wallet has no access */
  NOT_FOUND: ERROR_CODES.not_found.exit,
  /** integrity check failed (hash mismatch against the chain, tampered data) */
  INTEGRITY: ERROR_CODES.integrity.exit,
  /** another upload is running in the same data directory */
  BUSY: ERROR_CODES.busy.exit,
} as const;

/** An error that ends the command with a message saying what to do; the exit code comes from `code` (lib/errors.ts). */
export class CliError extends StreamVaultError {
  constructor(message: string, code: ErrorCode, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "CliError";
  }
}

export interface GlobalOptions {
  home?: string;
  rpcUrl?: string;
}

/** The data directory: --home, else STREAMVAULT_HOME, else ./.streamvault. */
export function homeDir(opts: GlobalOptions): string {
  return path.resolve(opts.home ?? (process.env.STREAMVAULT_HOME || ".streamvault"));
}

/** The configured PieceStore (STORAGE_BACKEND etc.), with test-only fault injection. */
export function openStore(home: string): PieceStore {
  let store: PieceStore;
  try {
    // Repair follows the placement journal: a copy `optimize` dropped is not re-made.
    store = createStore({ dataDir: process.env.STORAGE_DATA_DIR || path.join(home, "pieces"), placementView: placementView(journalPath(home)) });
  } catch (err) {
    throw new CliError(`storage is not usable: ${(err as Error).message}`, "unavailable");
  }
  // Hidden, for tests: make a share of writes fail (STREAMVAULT_FAULTY_WRITE_RATE=0.3).
  // STREAMVAULT_FAULTY_LATENCY_MS slows every storage operation down (to kill a run mid-upload).
  const rate = Number(process.env.STREAMVAULT_FAULTY_WRITE_RATE ?? "0");
  const latencyMs = Number(process.env.STREAMVAULT_FAULTY_LATENCY_MS ?? "0");
  if (rate > 0 || latencyMs > 0) {
    const seed = Number(process.env.STREAMVAULT_FAULTY_SEED ?? Date.now() % 1_000_000);
    store = faultyStore(store, { failWriteRate: rate, seed, latencyMs });
  }
  return store;
}

export async function openKeys(home: string): Promise<KeyStore> {
  // KEYSTORE_DIR as for the web server, so a stream started beside it seals its key where key release reads it.
  return openKeyStore({ dataDir: process.env.KEYSTORE_DIR || path.join(home, "keys") });
}

/** A key store opened on first use (the embedded database takes seconds to start; free-tier runs never need it). */
export function lazyKeys(home: string): KeyStore {
  let opened: Promise<KeyStore> | undefined;
  const get = () => (opened ??= openKeys(home));
  return {
    putKey: async (id, key, creator) => (await get()).putKey(id, key, creator),
    getKey: async (id) => (await get()).getKey(id),
    hasKey: async (id) => (await get()).hasKey(id),
    setEscrowKey: async (creator, publicKey, ids) => (await get()).setEscrowKey(creator, publicKey, ids),
    escrowOf: async (creator) => (await get()).escrowOf(creator),
    rotateMasterKey: async (newKey) => (await get()).rotateMasterKey(newKey),
    close: async () => {
      if (opened) await (await opened).close();
    },
  };
}

export async function openChain(opts: GlobalOptions): Promise<ChainContext> {
  try {
    return await connectChain({ rpcUrl: opts.rpcUrl });
  } catch (err) {
    if (err instanceof ChainUnavailableError) throw new CliError(err.message, "unavailable");
    throw new CliError((err as Error).message, "bad_input");
  }
}

/** Decimals of a payment token (native = 18), cached per run. */
export async function tokenDecimals(chain: ChainContext, token: Address, cache = new Map<string, number>()): Promise<number> {
  if (token === zeroAddress) return 18;
  if (!cache.has(token)) cache.set(token, await chain.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "decimals" }));
  return cache.get(token)!;
}

/** Parse a 0x-prefixed 32-byte content id or fail with a usage error. */
export function parseContentId(value: string): `0x${string}` {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new CliError(`"${value}" is not a content id: expected 0x followed by 64 hex characters (see \`streamvault list\`)`, "bad_input");
  }
  return value.toLowerCase() as `0x${string}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A cli-table3 table; plain (no colour codes) when stdout is not a terminal. */
export function table(options: ConstructorParameters<typeof Table>[0] = {}): InstanceType<typeof Table> {
  return new Table(process.stdout.isTTY ? options : { ...options, style: { head: [], border: [] } });
}

/** JSON with bigint support. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}
