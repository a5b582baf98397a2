/**
 * Loader for the native addon (lib/piece/native, built at install by node-gyp). Loading never throws:
 * when the addon is missing or broken the reason is kept and the portable path is used instead.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ChunkRooter } from "./core.ts";

interface PieceAddon {
  chunkRoots(data: Uint8Array, chunkHeight: number, threads: number): Uint8Array;
  chunkRootsAsync(data: Uint8Array, chunkHeight: number, threads: number): Promise<Uint8Array>;
  /** "sha-ni" when the CPU's SHA extensions are used, else "scalar". */
  implementation: string;
}

/** Where node-gyp puts the addon; STREAMVAULT_PIECE_ADDON points elsewhere (a prebuilt copy, or a missing one in tests). */
export const NATIVE_ADDON_PATH =
  process.env.STREAMVAULT_PIECE_ADDON || fileURLToPath(new URL("./native/build/Release/piece_cid.node", import.meta.url));

let loaded: { addon: PieceAddon } | { error: string } | undefined;

function load(): { addon: PieceAddon } | { error: string } {
  if (loaded === undefined) {
    try {
      loaded = { addon: createRequire(import.meta.url)(NATIVE_ADDON_PATH) as PieceAddon };
    } catch (err) {
      const code = (err as { code?: string }).code;
      loaded = { error: code === "MODULE_NOT_FOUND" ? "not built" : (err as Error).message };
    }
  }
  return loaded;
}

/** Why the addon cannot be used, or undefined when it can. */
export function nativeUnavailableReason(): string | undefined {
  const result = load();
  return "error" in result ? result.error : undefined;
}

/** A rooter over the addon using `threads` native threads, or undefined when the addon is unavailable. */
export function nativeRooter(threads: number): (ChunkRooter & { detail: string }) | undefined {
  const result = load();
  if (!("addon" in result)) return undefined;
  const { addon } = result;
  return {
    name: "native",
    detail: `${addon.implementation}, ${threads} thread${threads === 1 ? "" : "s"}`,
    sync: (data, chunkHeight) => addon.chunkRoots(data, chunkHeight, threads),
    async: (data, chunkHeight) => addon.chunkRootsAsync(data, chunkHeight, threads),
  };
}
