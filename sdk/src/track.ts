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
import { browserMasterPlaylist, decryptingLoader, playableLevels } from "./StreamPlayer.tsx";
import type { SegmentKeySource } from "./segment-keys.ts";

export interface AttachedTrack {
  /** What plays: the 30 s preview, or the full track (decrypted in the browser when `encrypted`). */
  kind: "preview" | "full";
  /** The variant hls.js starts on. */
  variant: string;
  encrypted: boolean;
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
  /** Needed with access to an encrypted item: the wallet that signs in and receives the key. */
  wallet?: Address;
  chainId: number;
  signMessage?: (message: string) => Promise<Hex>;
  /** The StreamVault server's origin ("" = this page's). */
  apiBase?: string;
  /** Told of a fatal playback error (hls.js gives up) at any time, also after `ready`. */
  onError?: (message: string) => void;
}): Promise<AttachedTrack> {
  const { media, contentId, manifestCid, track, hasAccess, wallet, chainId, signMessage, apiBase = "", onError } = params;
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
  if (hasAccess || full.some((v) => !v.encrypted)) levels = playableLevels(full, keys);
  const start = levels[0] ?? preview;
  if (!start?.playlist) throw new Error("This item has nothing this player can stream.");
  const kind = levels.length > 0 ? "full" : "preview";

  const duration = manifest.tracks?.find((t) => t.number === (track ?? 1))?.duration ?? manifest.duration ?? 0;
  const ahead = bufferAheadSeconds(strategy, duration);
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
    manifest,
    ready,
    destroy() {
      hls.destroy();
      if (masterUrl) URL.revokeObjectURL(masterUrl);
    },
  };
}
