/**
 * A StreamVault item on a media element the host owns (a persistent mini player, say), without
 * StreamPlayer's UI: the same manifest, preload strategy, content-key request, decrypting fragment
 * loader and browser-made master playlist as StreamPlayer (their functions, imported from it).
 */
import Hls, { type HlsConfig } from "hls.js";
import type { Address, Hex } from "viem";
import { trackVariants, type Manifest, type ManifestVariant } from "@streamvault/lib/browser";
import { bufferAheadSeconds, choosePreload, qualityOrder, readDeviceHints } from "./preload.ts";
import { requestContentKey } from "./keys.ts";
import { browserMasterPlaylist, decryptingLoader, playableLevels, STREAM_BUFFER_SECONDS } from "./StreamPlayer.tsx";
import { MinuteKeySource, variantsByMinute, type SegmentKeySource } from "./segment-keys.ts";
import type { StreamSession } from "./PayPerMinute.tsx";

/**
 * One minute-key source per pay-per-minute session and manifest: every track of an album played on
 * the session draws from it, so a minute window is asked for (and paid) once across tracks.
 */
const sessionKeys = new WeakMap<StreamSession, Map<string, MinuteKeySource>>();

function minuteKeysOf(stream: StreamSession, manifestCid: string, manifest: Manifest, roles: readonly string[]): MinuteKeySource {
  let byManifest = sessionKeys.get(stream);
  if (!byManifest) sessionKeys.set(stream, (byManifest = new Map()));
  let source = byManifest.get(manifestCid);
  if (!source) {
    // Every track's minute-keyed full variants (an album's tracks share the timeline's minute windows).
    const names = manifest.variants.filter((v) => v.kind === "hls" && v.encrypted && v.keyScheme === "minute-hkdf" && roles.includes(v.role)).map((v) => v.name);
    source = new MinuteKeySource(stream.fetchMinute, names, manifest.tracks ? variantsByMinute(manifest, names) : undefined);
    byManifest.set(manifestCid, source);
  }
  return source;
}

export interface AttachedTrack {
  /** What plays: the 30 s preview, or the full track (decrypted in the browser when `encrypted`). */
  kind: "preview" | "full";
  /** The variant hls.js starts on. */
  variant: string;
  encrypted: boolean;
  /** the keys come minute by minute from a pay-per-minute channel (`stream`) */
  perMinute: boolean;
  manifest: Manifest;
  /** Resolves when hls.js has parsed the playlist (the element can play). */
  ready: Promise<void>;
  /** Stops loading and detaches hls.js from the element. */
  destroy(): void;
}

/**
 * Loads item `contentId` onto `media`: the full track when `hasAccess` (the content key is asked for
 * only when a full variant is encrypted: a sign-in prompt when this tab has not signed in yet) or when
 * a full variant is in the clear (free items, a standard stream given away), else the preview.
 */
export async function attachTrack(params: {
  media: HTMLMediaElement;
  contentId: Hex;
  manifestCid: string;
  /** An album's track number (1-based; default 1): only that track's variants play. */
  track?: number;
  hasAccess: boolean;
  /**
   * A pay-per-minute session on this item (PayPerMinute), used without access: the full track
   * plays on minute keys, each minute window of the item's timeline paid once per session (an
   * album's tracks share one timeline, so one channel counts the minutes received across tracks).
   */
  stream?: StreamSession | null;
  /** Needed with access to an encrypted item: the wallet that signs in and receives the key. */
  wallet?: Address;
  chainId: number;
  signMessage?: (message: string) => Promise<Hex>;
  /** The StreamVault server's origin ("" = this page's). */
  apiBase?: string;
  /** Told of a fatal playback error (hls.js gives up) at any time, also after `ready`. */
  onError?: (message: string) => void;
}): Promise<AttachedTrack> {
  const { media, contentId, manifestCid, track, hasAccess, stream, wallet, chainId, signMessage, apiBase = "", onError } = params;
  if (!Hls.isSupported()) throw new Error("This browser cannot play HLS (Media Source Extensions are missing).");
  const res = await fetch(`${apiBase}/api/manifest/${manifestCid}`);
  if (!res.ok) throw new Error(`Could not load the media manifest (${res.status}).`);
  const manifest = (await res.json()) as Manifest;
  let own: ManifestVariant[];
  try {
    own = trackVariants(manifest, track);
  } catch (error) {
    throw new Error(`${(error as Error).message}: reload the page for the album's current track list`);
  }
  const hlsVariants = own.filter((v) => v.kind === "hls");
  const strategy = choosePreload(readDeviceHints());
  const full = qualityOrder(strategy).flatMap((role) => hlsVariants.filter((v) => v.role === role));
  const preview = hlsVariants.find((v) => v.role === "preview");

  let keys: SegmentKeySource | undefined;
  let levels: ManifestVariant[] = [];
  if (hasAccess && full.some((v) => v.encrypted)) {
    if (!wallet || !signMessage) throw new Error("Connect your wallet to play the full track.");
    keys = await requestContentKey({ contentId, wallet, chainId, apiBase, signMessage });
  }
  const perMinute = !hasAccess && Boolean(stream) && full.some((v) => v.encrypted && v.keyScheme === "minute-hkdf");
  if (perMinute) keys = minuteKeysOf(stream!, manifestCid, manifest, qualityOrder(strategy));
  if (hasAccess || perMinute || full.some((v) => !v.encrypted)) levels = playableLevels(full, keys);
  const start = levels[0] ?? preview;
  if (!start?.playlist) throw new Error("This item has nothing this player can stream.");
  const kind = levels.length > 0 ? "full" : "preview";

  const duration = manifest.tracks?.find((t) => t.number === (track ?? 1))?.duration ?? manifest.duration ?? 0;
  // Pay per minute buffers a short way ahead: a minute is asked for (and paid) shortly before playback reaches it.
  const ahead = perMinute ? Math.min(STREAM_BUFFER_SECONDS, bufferAheadSeconds(strategy, duration)) : bufferAheadSeconds(strategy, duration);
  const config: Partial<HlsConfig> = { enableWorker: true, maxBufferLength: ahead, maxMaxBufferLength: ahead, startPosition: 0 };
  if (keys) config.fLoader = decryptingLoader(manifest, keys) as unknown as HlsConfig["fLoader"];
  let src = `${apiBase}/api/hls/${manifestCid}/${start.playlist}.m3u8?c=${contentId}`;
  let masterUrl: string | undefined;
  if (levels.length > 1) {
    masterUrl = URL.createObjectURL(new Blob([browserMasterPlaylist(apiBase, manifestCid, contentId, levels)], { type: "application/vnd.apple.mpegurl" }));
    src = masterUrl;
  }
  const hls = new Hls(config);
  const ready = new Promise<void>((resolve, reject) => {
    hls.once(Hls.Events.MANIFEST_PARSED, () => resolve());
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      reject(new Error(`Playback error: ${data.details}`));
      onError?.(`Playback error: ${data.details}`);
    });
  });
  ready.catch(() => {}); // the caller awaits it; an error after that is reported by the element
  hls.loadSource(src);
  hls.attachMedia(media);
  return {
    kind,
    variant: start.name,
    encrypted: start.encrypted,
    perMinute: perMinute && levels.length > 0,
    manifest,
    ready,
    destroy() {
      hls.destroy();
      if (masterUrl) URL.revokeObjectURL(masterUrl);
    },
  };
}
