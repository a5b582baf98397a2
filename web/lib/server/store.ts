/** The piece store the media routes read from (the same local store `npm run dev` and the pipeline write). */
import type { PieceStore } from "@streamvault/lib/storage/types.ts";
import type { Manifest } from "@streamvault/lib/manifest/schema.ts";
import { STORAGE_DATA_DIR, STREAMVAULT_HOME } from "./config.ts";
import { hasErrorCode } from "@streamvault/lib/errors.ts";

type StorageLib = typeof import("@streamvault/lib/storage");
export type PlacementLib = typeof import("@streamvault/lib/storage/placement");

let storePromise: Promise<PieceStore> | undefined;

export function storageLib(): Promise<StorageLib> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/storage");
}

export function placementLib(): Promise<PlacementLib> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/storage/placement");
}

export function pieceStore(): Promise<PieceStore> {
  // The same backend set as the CLI; repair follows the placement journal (no re-copy of dropped copies).
  storePromise ??= Promise.all([storageLib(), placementLib()]).then(([lib, placement]) =>
    lib.createStore({ dataDir: STORAGE_DATA_DIR, placementView: placement.placementView(placement.journalPath(STREAMVAULT_HOME)) }),
  );
  storePromise.catch(() => (storePromise = undefined));
  return storePromise;
}

const manifests = new Map<string, Manifest>();

/** A manifest by PieceCID (pieces are immutable, so parsed manifests are cached forever). */
export async function loadManifest(cid: string): Promise<Manifest | undefined> {
  const hit = manifests.get(cid);
  if (hit) return hit;
  const lib = await storageLib();
  if (!lib.isPieceCid(cid)) return undefined;
  const store = await pieceStore();
  try {
    const bytes = await store.get(cid);
    const manifest = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
    if ((manifest.version !== 1 && manifest.version !== 2) || !Array.isArray(manifest.variants)) return undefined;
    manifests.set(cid, manifest);
    return manifest;
  } catch (err) {
    if (hasErrorCode(err, "not_found")) return undefined;
    throw err;
  }
}
