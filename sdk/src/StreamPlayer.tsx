"use client";
import { useEffect, useRef, useState } from "react";
import Hls, { type HlsConfig, type LoaderCallbacks, type LoaderConfiguration, type LoaderContext } from "hls.js";
import { useAccount, useReadContract, useSignMessage } from "wagmi";
import type { Address, Hex } from "viem";
import type { Manifest, ManifestVariant } from "@streamvault/lib/browser";
import { cidFromBytes, decryptSegmentWeb, masterPlaylist, trackVariants } from "@streamvault/lib/browser";
import { useContracts, useStreamVault } from "./config.tsx";
import { ZERO_ADDRESS } from "./format.ts";
import { bufferAheadSeconds, choosePreload, qualityOrder, readDeviceHints } from "./preload.ts";
import { requestContentKey, KeyRequestError } from "./keys.ts";
import { MinuteKeySource, type SegmentKeySource } from "./segment-keys.ts";
import type { StreamSession } from "./PayPerMinute.tsx";

type Mode = { kind: "preview" } | { kind: "full"; variant: ManifestVariant; keys?: SegmentKeySource };

/** What the player is actually playing, for the page's other status lines (UnlockPanel). */
export interface PlayingState {
  kind: "preview" | "full";
  /** the variant heard now */
  variant: string;
  /** the heard variant is encrypted (decrypted in the browser) */
  encrypted: boolean;
  /** keys come minute by minute from a pay-per-minute channel */
  perMinute: boolean;
  /** a full-length variant is in the clear: the creator gives it away (premium/exclusive with a free standard stream) */
  freeFull?: string;
  /** why the full track does not play although it should (the key request failed) */
  blocked?: string;
}

/** Pay per minute buffers at most this far ahead, so a minute's key is asked for (and paid) shortly before playback reaches it. */
export const STREAM_BUFFER_SECONDS = 30;

/**
 * An hls.js fragment loader that decrypts each encrypted segment (looked up by its PieceCID in any
 * of the manifest's variants) with the key its SegmentKeySource gives for it, before hls.js parses
 * it. The key is asked for when the download starts, so fetching a minute's key overlaps the download.
 */
export function decryptingLoader(manifest: Manifest, keys: SegmentKeySource, refresh?: () => Promise<Manifest>) {
  const index = (m: Manifest) => new Map(m.variants.flatMap((v) => (v.encrypted ? v.segments.map((s) => [s.pieceCid, { variant: v, seg: s }] as const) : [])));
  let byCid = index(manifest);
  const Base = Hls.DefaultConfig.loader;
  return class DecryptingLoader extends Base {
    load(context: LoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<LoaderContext>) {
      // Segment URLs may carry ?c=<contentId> (plays counting): the PieceCID is the last path segment.
      const cid = decodeURIComponent(new URL(context.url, window.location.href).pathname.split("/").pop() ?? "");
      // A live stream's playlist names segments newer than the manifest read so far: read it again first.
      if (!byCid.has(cid) && refresh) {
        void refresh()
          .then((m) => (byCid = index(m)), () => undefined)
          .then(() => this.loadKnown(cid, context, config, callbacks));
        return;
      }
      this.loadKnown(cid, context, config, callbacks);
    }

    loadKnown(cid: string, context: LoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<LoaderContext>) {
      const found = byCid.get(cid);
      if (!found?.seg.nonce) return super.load(context, config, callbacks);
      const { variant, seg } = found;
      const key = keys.keyFor(variant, seg);
      key.catch(() => {}); // reported below, once the download is in
      const onSuccess = callbacks.onSuccess;
      const wrapped: LoaderCallbacks<LoaderContext> = {
        ...callbacks,
        onSuccess: (response, stats, ctx, details) => {
          key
            .then((k) => decryptSegmentWeb(k, response.data as ArrayBuffer, { contentId: manifest.contentId, variant: variant.name, index: seg.index, nonce: seg.nonce! }))
            .then(
              (plain) => onSuccess({ ...response, data: plain }, stats, ctx, details),
              (e) => callbacks.onError({ code: 0, text: `segment ${seg.index} of ${variant.name} did not decrypt: ${e instanceof Error ? e.message : String(e)}` }, ctx, null, stats),
            );
        },
      };
      return super.load(context, config, wrapped);
    }
  };
}

/** Reads a live manifest again (the server adds the segments stored so far); concurrent reads share one request. */
function liveManifestReader(apiBase: string, manifestCid: string): () => Promise<Manifest> {
  let pending: Promise<Manifest> | undefined;
  return () =>
    (pending ??= fetch(`${apiBase}/api/manifest/${manifestCid}`, { cache: "no-store" })
      .then((r) => (r.ok ? (r.json() as Promise<Manifest>) : Promise.reject(new Error(`manifest ${r.status}`))))
      .finally(() => (pending = undefined)));
}

/**
 * The variants a full-stream mode can offer hls.js as levels: clear ones, and encrypted ones its
 * keys open. A pay-per-minute session offers only the minute-keyed variants it pays for.
 */
export function playableLevels(full: readonly ManifestVariant[], keys: SegmentKeySource | undefined): ManifestVariant[] {
  if (keys instanceof MinuteKeySource) return full.filter((v) => keys.canDecrypt(v));
  return full.filter((v) => !v.encrypted || (keys?.canDecrypt(v) ?? false));
}

/**
 * A master playlist synthesized here from the manifest, one level per playable variant, so hls.js
 * ABR switches between them during playback. Level URIs are absolute (the master itself is a blob: URL).
 */
export function browserMasterPlaylist(apiBase: string, manifestCid: string, contentId: string, variants: readonly ManifestVariant[]): string {
  const base = `${apiBase || window.location.origin}/api/hls/${encodeURIComponent(manifestCid)}/`;
  return masterPlaylist(
    variants.map((v) => ({ uri: `${base}${v.playlist}.m3u8?c=${contentId}`, peakBandwidth: v.peakBandwidth, averageBandwidth: v.averageBandwidth, codecs: v.codecs, width: v.width, height: v.height })),
  );
}

/** The playlist name (= variant name) of an hls.js level, from its URI. */
export function levelPlaylist(level: { uri?: string; url?: string[] }): string | undefined {
  return /\/([A-Za-z0-9_-]{1,32})\.m3u8(?:[?#]|$)/.exec(level.uri ?? level.url?.[0] ?? "")?.[1];
}

/** The item's manifest CID from ContentAccess.contentInfo, unless the caller knows it. */
function useManifestCid(contentId: Hex, known: string | undefined): { manifestCid?: string; error?: string } {
  const { contracts, chainId } = useStreamVault();
  const contract = useContracts();
  const info = useReadContract({ ...contract("ContentAccess"), functionName: "contentInfo", args: [contentId], chainId, query: { enabled: known === undefined } });
  if (known !== undefined) return { manifestCid: known };
  if (info.error) return { error: `No StreamVault item ${contentId} on chain ${chainId}: check the content id and the deployment.` };
  return { manifestCid: info.data ? cidFromBytes(info.data[2]) : undefined };
}

/** Whether the connected wallet may play the full item now (ContentAccess.accessOf), unless the caller says. */
function useHasAccess(contentId: Hex, known: boolean | undefined): boolean {
  const { address } = useAccount();
  const { contracts, chainId } = useStreamVault();
  const contract = useContracts();
  const access = useReadContract({
    ...contract("ContentAccess"),
    functionName: "accessOf",
    args: [(address ?? ZERO_ADDRESS) as Address, contentId],
    chainId,
    query: { enabled: known === undefined && Boolean(address), refetchInterval: 4000 },
  });
  if (known !== undefined) return known;
  return Boolean(address) && access.data !== undefined && access.data[0] !== 0;
}

/**
 * Plays a StreamVault item: the clear preview for everyone; with access, the full stream decrypted
 * in the browser (content key from key release after a SIWE sign-in), adaptive across the
 * renditions this viewer can open; with a pay-per-minute session, the minute-keyed stream.
 * Only `contentId` is required: the manifest and the viewer's access are read from the chain.
 */
export function StreamPlayer({
  contentId,
  manifestCid: knownManifestCid,
  hasAccess: knownAccess,
  title = "StreamVault item",
  stream = null,
  accessSettled = false,
  onPlaying,
}: {
  contentId: Hex;
  /** The manifest's PieceCID when already known (else read from ContentAccess.contentInfo). */
  manifestCid?: string;
  /** Whether the viewer has access when the host already read it (else read from ContentAccess.accessOf). */
  hasAccess?: boolean;
  title?: string;
  /** A pay-per-minute session: plays the full stream while set, paying for each minute's keys as playback reaches it. */
  stream?: StreamSession | null;
  /** The wallet's access has been read from the chain (so "no access" is an answer, not "still loading"). */
  accessSettled?: boolean;
  /** Told what plays whenever that changes. */
  onPlaying?: (state: PlayingState) => void;
}) {
  const { address } = useAccount();
  const { chainId, apiBase, origin } = useStreamVault();
  const { signMessageAsync } = useSignMessage();
  const found = useManifestCid(contentId, knownManifestCid);
  const manifestCid = found.manifestCid ?? "";
  const hasAccess = useHasAccess(contentId, knownAccess);
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [mode, setMode] = useState<Mode>({ kind: "preview" });
  const [status, setStatus] = useState<string>("");
  const [error, setError] = useState<string>("");
  const mediaRef = useRef<HTMLMediaElement | null>(null);
  /** "Play full" was pressed: start playing as soon as the full stream's playlist is parsed. */
  const autoplay = useRef(false);
  const hlsRef = useRef<Hls | null>(null);
  /** Variant names of the hls.js levels (in hls.js order) when ABR has more than one to choose from. */
  const [levels, setLevels] = useState<string[]>([]);
  /** The variant whose segments are playing now (hls.js FRAG_CHANGED). */
  const [heard, setHeard] = useState<string>("");
  const [quality, setQuality] = useState<string>("auto");
  /** The wallet was seen without access: access that comes later was just bought, so the full track starts playing. */
  const deniedSeen = useRef(false);
  /** A content-key request is under way: a second one (a "Play full" click meanwhile, an access re-read) would set the mode again and re-attach hls.js, resetting the element. */
  const keyPending = useRef(false);

  useEffect(() => {
    if (!manifestCid) return;
    let stop = false;
    fetch(`${apiBase}/api/manifest/${manifestCid}`)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`manifest ${r.status}`))))
      .then((m: Manifest) => !stop && setManifest(m))
      .catch((e) => !stop && setError(`Could not load the media manifest: ${e.message}`));
    return () => {
      stop = true;
    };
  }, [manifestCid, apiBase]);

  // Losing access (wallet switched, pass expired) drops back to the preview.
  useEffect(() => {
    if (!hasAccess && !stream) setMode({ kind: "preview" });
  }, [hasAccess, address, stream]);

  // An album plays its first track here (one track's variants: never another track's as a quality level); its page lists every track (attachTrack plays each).
  const hlsVariants = manifest ? trackVariants(manifest).filter((v) => v.kind === "hls") : [];
  const preview = hlsVariants.find((v) => v.role === "preview");
  // Where data or bandwidth is scarce the player buffers less and starts with the 192 kbps variant.
  const strategy = choosePreload(readDeviceHints());
  const full = qualityOrder(strategy).flatMap((role) => hlsVariants.filter((v) => v.role === role));
  const current = mode.kind === "full" ? mode.variant : preview;
  // A full-length variant in the clear: the creator chose to give it away (premium/exclusive with freeStandard).
  const freeFull = full.find((v) => !v.encrypted);

  // Access starts on the full track: on opening the page with access, and at once when access is bought
  // here (then it also starts playing: no second click).
  useEffect(() => {
    if (accessSettled && !hasAccess) deniedSeen.current = true;
    if (!hasAccess || stream || !manifest || !address) return;
    // Already on the full track with what access opens (keys, or nothing to open); a free stream gets upgraded.
    if (mode.kind === "full" && (mode.keys || !full.some((v) => v.encrypted))) return;
    void playFull(deniedSeen.current);
  }, [hasAccess, accessSettled, manifest, address, stream]); // eslint-disable-line react-hooks/exhaustive-deps

  // A pay-per-minute session plays the best variant keyed per minute: the minute keys of every such
  // variant come in one request per minute, and the player asks for a minute when it loads its first segment.
  useEffect(() => {
    if (!stream || !manifest) return;
    const paid = full.filter((v) => v.encrypted && v.keyScheme === "minute-hkdf");
    const best = paid[0];
    if (!best) {
      if (full.some((v) => v.encrypted)) {
        setError("This item was published before per-minute keys, so it cannot be streamed pay-per-minute (the creator can re-publish it).");
      } else if (full[0]) {
        setMode({ kind: "full", variant: full[0] });
      }
      return;
    }
    autoplay.current = true;
    setMode({ kind: "full", variant: best, keys: new MinuteKeySource(stream.fetchMinute, paid.map((v) => v.name)) });
  }, [stream, manifest]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const media = mediaRef.current;
    if (!manifest || !media || !current?.playlist) return;
    const keys = mode.kind === "full" ? mode.keys : undefined;
    // Full stream: every variant this viewer can play is an hls.js level (ABR); the preview plays alone.
    const levelVariants = mode.kind === "full" ? playableLevels(full, keys) : [];
    const abr = levelVariants.length > 1 && levelVariants.some((v) => v.name === current.name);
    // ?c= lets the server count the full-length segment requests as plays of this item (not the preview).
    let src = `${apiBase}/api/hls/${manifestCid}/${current.playlist}.m3u8?c=${contentId}`;
    let masterUrl: string | undefined;
    if (abr) {
      masterUrl = URL.createObjectURL(new Blob([browserMasterPlaylist(apiBase, manifestCid, contentId, levelVariants)], { type: "application/vnd.apple.mpegurl" }));
      src = masterUrl;
    }
    const perMinute = keys instanceof MinuteKeySource;
    const ahead = perMinute ? Math.min(STREAM_BUFFER_SECONDS, bufferAheadSeconds(strategy, manifest.duration ?? 0)) : bufferAheadSeconds(strategy, manifest.duration ?? 0);
    // With levels, loading starts once the preferred start level is set (MANIFEST_PARSED below).
    // A stream that is live now starts at the live edge (hls.js: a few segments behind it); everything else from the start.
    const live = manifest.live?.status === "live";
    const config: Partial<HlsConfig> = { enableWorker: true, maxBufferLength: ahead, maxMaxBufferLength: ahead, startPosition: live ? -1 : 0, autoStartLoad: !abr };
    // Live: one target duration behind the newest stored segment (hls.js defaults to three), which
    // keeps glass-to-glass near 6 s with 2 s segments (bench/live.json); a player that falls more than
    // four behind jumps forward.
    if (live) Object.assign(config, { liveSyncDurationCount: 1, liveMaxLatencyDurationCount: 4 });
    if (keys && (abr ? levelVariants : [current]).some((v) => v.encrypted)) {
      const refresh = live ? liveManifestReader(apiBase, manifestCid) : undefined;
      config.fLoader = decryptingLoader(manifest, keys, refresh) as unknown as HlsConfig["fLoader"];
    }
    if (!Hls.isSupported()) {
      setError("This browser cannot play HLS (Media Source Extensions are missing).");
      return;
    }
    const hls = new Hls(config);
    hlsRef.current = hls;
    setLevels([]);
    setQuality("auto");
    setHeard(current.name);
    let names: string[] = [];
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) setError(`Playback error: ${data.details}`);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      if (abr) {
        names = hls.levels.map((l) => levelVariants.find((v) => v.playlist === levelPlaylist(l))?.name ?? "");
        setLevels(names);
        // Start at the variant the preload strategy prefers; ABR moves from there as bandwidth allows.
        hls.startLevel = Math.max(0, names.indexOf(current.name));
        hls.startLoad(live ? -1 : 0);
      }
      if (mode.kind !== "full" || !autoplay.current) return;
      autoplay.current = false;
      media.play().catch(() => {}); // the user can still press play if the browser refuses
    });
    hls.on(Hls.Events.FRAG_CHANGED, (_e, data) => {
      if (abr && names[data.frag.level]) setHeard(names[data.frag.level]!);
    });
    hls.loadSource(src);
    hls.attachMedia(media);
    return () => {
      hls.destroy();
      if (hlsRef.current === hls) hlsRef.current = null;
      if (masterUrl) URL.revokeObjectURL(masterUrl);
    };
  }, [manifest, manifestCid, current, mode, contentId, apiBase]); // eslint-disable-line react-hooks/exhaustive-deps

  /** Pins a quality (an immediate switch: hls.js flushes the buffer and refetches at that level) or hands it back to ABR. */
  function chooseQuality(value: string) {
    const hls = hlsRef.current;
    setQuality(value);
    if (!hls) return;
    if (value === "auto") hls.nextLevel = -1;
    else if (levels.includes(value)) hls.currentLevel = levels.indexOf(value);
  }

  async function playFull(play = true) {
    setError("");
    // Without access only a full variant the creator gives away plays (no key, no wallet needed).
    if (!hasAccess) {
      if (!freeFull) return;
      autoplay.current = play;
      setMode({ kind: "full", variant: freeFull });
      return;
    }
    if (!address) return setError("Connect your wallet first.");
    // Start where the preload strategy says; with the content key every variant is a level ABR may move to.
    const start = full[0];
    if (!start) return setError("This item has no full-length stream.");
    if (keyPending.current) {
      // The request under way will switch to the full track; play then if asked now.
      autoplay.current ||= play;
      return;
    }
    autoplay.current = play;
    const locked = full.find((v) => v.encrypted);
    if (!locked) {
      setMode({ kind: "full", variant: start });
      return;
    }
    keyPending.current = true;
    try {
      setStatus("Requesting the content key (sign in with your wallet if asked)…");
      const keys = await requestContentKey({ contentId, wallet: address as Address, chainId, apiBase, signMessage: (message) => signMessageAsync({ message }) });
      setStatus("");
      setMode({ kind: "full", variant: start, keys });
    } catch (e) {
      setStatus("");
      const clear = full.find((v) => !v.encrypted);
      let why = e instanceof KeyRequestError ? `${e.message} (${e.status})` : e instanceof Error ? e.message : String(e);
      // Sign-in names the configured origin: opened elsewhere (localhost vs 127.0.0.1) it cannot work.
      if (origin && window.location.origin !== origin) why = `sign-in works only at ${origin}, and this page is open at ${window.location.origin}: open it at ${origin}`;
      if (clear) {
        setMode({ kind: "full", variant: clear });
        setError(`The ${locked.name} stream is unavailable (${why}); playing ${clear.name} quality.`);
      } else {
        setError(`Could not get the content key: ${why}`);
      }
    } finally {
      keyPending.current = false;
    }
  }

  const isVideo = manifest?.kind === "video";
  const heardVariant = mode.kind === "full" ? (hlsVariants.find((v) => v.name === heard) ?? mode.variant) : undefined;
  const perMinute = mode.kind === "full" && mode.keys instanceof MinuteKeySource;
  const playingName = heardVariant?.name ?? current?.name ?? "";
  const playingEncrypted = heardVariant?.encrypted ?? false;
  useEffect(() => {
    if (!manifest) return;
    onPlaying?.({ kind: mode.kind, variant: playingName, encrypted: playingEncrypted, perMinute, freeFull: freeFull?.name, blocked: error || undefined });
  }, [manifest, mode.kind, playingName, playingEncrypted, perMinute, freeFull?.name, error]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <section className="player" aria-label={`Player: ${title}`} data-testid="player" data-mode={mode.kind} data-variant={heardVariant?.name ?? current?.name ?? ""}>
      {isVideo ? (
        <video ref={(el) => void (mediaRef.current = el)} controls playsInline preload="metadata" data-testid="media" aria-label={title} />
      ) : (
        <audio ref={(el) => void (mediaRef.current = el)} controls preload="metadata" data-testid="media" aria-label={title} />
      )}
      <p className="small muted" data-testid="player-label">
        {mode.kind === "preview" && !preview
          ? `${manifest?.live?.status === "live" ? "Live stream" : "No preview"}${hasAccess ? "" : " · unlock below to watch"}`
          : mode.kind === "preview"
          ? `Preview (first ${Math.round(preview?.duration ?? 30)} s)${hasAccess ? "" : freeFull ? ` · the creator gives the ${freeFull.name}-quality track away; unlock below for every quality` : " · unlock below to hear everything"}`
          : `Full ${heardVariant!.name} quality${levels.length > 1 && quality === "auto" ? " (adaptive)" : ""}${heardVariant!.encrypted ? (perMinute ? " · paid per minute, decrypted in your browser" : " · decrypted in your browser") : hasAccess || stream ? "" : " · free from the creator"}`}
      </p>
      {mode.kind === "full" && levels.length > 1 && (
        <label className="small">
          Quality{" "}
          <select value={quality} onChange={(e) => chooseQuality(e.target.value)} data-testid="quality">
            <option value="auto">Auto</option>
            {levels.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      )}
      {hasAccess && mode.kind === "preview" && full.length > 0 && (
        <button className="btn primary" onClick={() => void playFull()} data-testid="play-full">
          Play full {manifest?.kind === "video" ? "video" : "track"}
        </button>
      )}
      {!hasAccess && !stream && mode.kind === "preview" && freeFull && (
        <button className="btn" onClick={() => void playFull()} data-testid="play-free">
          Play the full {manifest?.kind === "video" ? "video" : "track"} free ({freeFull.name} quality)
        </button>
      )}
      {status && <p className="status pending" role="status">{status}</p>}
      {(error || found.error) && <p className="status err" role="alert" data-testid="player-error">{error || found.error}</p>}
    </section>
  );
}
