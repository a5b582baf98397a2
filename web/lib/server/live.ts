/**
 * Live streams on this server: the record and the growing playlist belong to the archiving
 * process (`streamvault live`, lib/live) under STREAMVAULT_HOME; this file only reads them. A
 * live item's stored manifest has no segments yet; `liveOverlay` fills in the ones stored so far,
 * so the player can look up each segment's nonce and minute while the stream grows.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Manifest } from "@streamvault/lib/manifest/schema.ts";
import type { LiveState } from "@streamvault/lib/live/status.ts";
import { STREAMVAULT_HOME } from "./config.ts";

type LiveLib = typeof import("@streamvault/lib/live/status.ts");

let liveLibPromise: Promise<LiveLib> | undefined;

export function liveLib(): Promise<LiveLib> {
  // Kept: every playlist request of a live stream reads through it, and an import() call goes through the module loader each time.
  liveLibPromise ??= import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/live/status.ts");
  return liveLibPromise;
}

export type { LivePhase, LiveStatus } from "@streamvault/lib/live/status.ts";

/** Viewers: a client that fetched a live playlist within this window is watching (players reload it every segment). */
const VIEWER_WINDOW_MS = 15_000;
// On globalThis: web/server.ts counts viewers of the playlists it answers, and the bundled routes
// (GET /api/live/<id>) read the count: two copies of this module, one map.
const viewers: Map<string, Map<string, number>> = ((globalThis as Record<symbol, unknown>)[Symbol.for("streamvault.liveViewers")] ??= new Map()) as Map<string, Map<string, number>>;

/** Counts a live playlist request (per stream: client address + user agent, last seen). In memory: per instance. */
export function sawViewer(id: string, client: string): void {
  let seen = viewers.get(id);
  if (!seen) viewers.set(id, (seen = new Map()));
  seen.set(client, Date.now());
}

export function viewerCount(id: string): number {
  const seen = viewers.get(id);
  if (!seen) return 0;
  const since = Date.now() - VIEWER_WINDOW_MS;
  for (const [k, t] of seen) if (t < since) seen.delete(k);
  return seen.size;
}

/**
 * Files the archiving process rewrites (its record, the growing playlists), read once per change:
 * every viewer reloads the playlist each segment, and the record grows with the stream, so parsing
 * it per request would cost O(stream length) each time. A change is a new mtime (ns) or size,
 * looked for at most every STAT_INTERVAL_MS: with 500 viewers a stat per request is 250 trips a
 * second through libuv's thread pool, and a playlist that is 100 ms late is still one segment (2 s)
 * early for a player, and names only stored pieces either way.
 */
const readCache = new Map<string, { version: string; value: unknown; checkedAt: number }>();
const STAT_INTERVAL_MS = 100;

async function readWhenChanged<T>(file: string, parse: (text: string) => T, fresh = false): Promise<T | undefined> {
  const recent = readCache.get(file);
  if (!fresh && recent !== undefined && Date.now() - recent.checkedAt < STAT_INTERVAL_MS) return recent.value as T;
  let version: string;
  try {
    const s = await stat(file, { bigint: true });
    version = `${s.mtimeNs}:${s.size}:${s.ino}`;
  } catch {
    readCache.delete(file);
    return undefined;
  }
  const hit = readCache.get(file);
  if (hit?.version === version) {
    hit.checkedAt = Date.now();
    return hit.value as T;
  }
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const value = parse(text);
  if (value !== undefined) readCache.set(file, { version, value, checkedAt: Date.now() });
  return value;
}

/** Stream `id`'s record (lib/live readLiveState, re-read only when the file changed), the process check made on every call. */
async function readState(lib: LiveLib, id: string): Promise<LiveState | undefined> {
  if (!lib.LIVE_ID.test(id)) return undefined;
  const file = path.join(lib.liveDir(STREAMVAULT_HOME, id), "state.json");
  const state = await readWhenChanged(file, lib.parseLiveState);
  if (!state) return undefined;
  const checked = lib.withProcessChecked(state);
  // A recording whose process is gone: the process may have written its last record ("complete")
  // and exited since the copy above was read, so look at the file itself before calling it interrupted.
  if (checked.status === "interrupted" && state.status !== "interrupted") {
    const now = await readWhenChanged(file, lib.parseLiveState, true);
    return now && lib.withProcessChecked(now);
  }
  return checked;
}

/** The record of stream `id`, as `GET /api/live/<id>` serves it, or undefined. */
export async function liveStatusOf(id: string): Promise<(import("@streamvault/lib/live/status.ts").LiveStatus & { viewers: number }) | undefined> {
  const lib = await liveLib();
  const state = await readState(lib, id);
  if (!state) return undefined;
  const status = lib.liveStatus(state);
  return { ...status, viewers: status.state === "live" || status.state === "starting" ? viewerCount(id) : 0 };
}

/**
 * The record behind the live manifest stored as `manifestCid`. Anyone can register a manifest
 * naming any stream id, so the id alone is not trusted: the record must name this very manifest
 * as the one its streaming process stored and registered.
 */
async function stateFor(manifest: Manifest, manifestCid: string) {
  if (!manifest.live) return undefined;
  const lib = await liveLib();
  const state = await readState(lib, manifest.live.id);
  return state && state.liveManifestCid === manifestCid && state.contentId.toLowerCase() === manifest.contentId.toLowerCase() ? { lib, state } : undefined;
}

/** Phase of a live item ("live", "starting", ...), or undefined when the manifest is not a live one. */
export async function livePhaseOf(manifest: Manifest | undefined, manifestCid: string): Promise<import("@streamvault/lib/live/status.ts").LivePhase | undefined> {
  if (manifest?.live?.status !== "live") return undefined;
  const found = await stateFor(manifest, manifestCid);
  return found ? found.lib.livePhase(found.state) : "interrupted";
}

/** A live manifest with the segments stored so far (unchanged when it is not live or the record is not here). */
export async function liveOverlay(manifest: Manifest, manifestCid: string): Promise<Manifest> {
  if (manifest.live?.status !== "live") return manifest;
  const found = await stateFor(manifest, manifestCid);
  if (!found) return manifest;
  const { lib, state } = found;
  // Each rendition's own pieces of the stored segments (the record names every rendition of this manifest).
  const known = new Set(lib.renditionsOf(state).map((r) => r.name));
  const variants = manifest.variants.map((v) => {
    const segments = known.has(v.name) ? lib.liveSegments(state, v.encrypted, v.name) : [];
    return { ...v, segments, duration: segments.reduce((s, x) => s + (x.duration ?? 0), 0) };
  });
  const duration = variants[0]?.duration ?? 0;
  return { ...manifest, variants, duration, live: { ...manifest.live, status: lib.livePhase(state) === "ended" ? "ended" : "live" } };
}

/** The growing playlist of a live item's variant, or undefined (not live, or not stored here). */
export async function livePlaylist(manifest: Manifest, manifestCid: string, variant: string): Promise<string | undefined> {
  const found = await stateFor(manifest, manifestCid);
  if (!found || !manifest.variants.some((v) => v.playlist === variant)) return undefined;
  return readWhenChanged(found.lib.livePlaylistPath(STREAMVAULT_HOME, manifest.live!.id, variant), (text) => text);
}
