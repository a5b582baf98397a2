"use client";
import { useEffect, useRef, useState } from "react";
import Hls, { type HlsConfig, type LoaderCallbacks, type LoaderConfiguration, type LoaderContext } from "hls.js";
import { useAccount, useSignMessage } from "wagmi";
import type { Address, Hex } from "viem";
import type { Manifest, ManifestVariant } from "../../lib/manifest/schema.ts";
import { useAppConfig } from "@/lib/client/config";
import { bufferAheadSeconds, choosePreload, qualityOrder, readDeviceHints } from "@/lib/client/preload";
import { decryptSegment } from "@/lib/client/segment-crypto";
import { requestContentKey, KeyRequestError } from "@/lib/client/keys";
import { MinuteKeySource, type SegmentKeySource } from "@/lib/client/segment-keys";
import type { StreamSession } from "./StreamPanel";

type Mode = { kind: "preview" } | { kind: "full"; variant: ManifestVariant; keys?: SegmentKeySource };

/** Pay per minute buffers at most this far ahead, so a minute's key is asked for (and paid) shortly before playback reaches it. */
const STREAM_BUFFER_SECONDS = 30;

/**
 * An hls.js fragment loader that decrypts each encrypted segment (looked up by its PieceCID in any
 * of the manifest's variants) with the key its SegmentKeySource gives for it, before hls.js parses
 * it. The key is asked for when the download starts, so fetching a minute's key overlaps the download.
 */
function decryptingLoader(manifest: Manifest, keys: SegmentKeySource) {
  const byCid = new Map(manifest.variants.flatMap((v) => (v.encrypted ? v.segments.map((s) => [s.pieceCid, { variant: v, seg: s }] as const) : [])));
  const Base = Hls.DefaultConfig.loader;
  return class DecryptingLoader extends Base {
    load(context: LoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<LoaderContext>) {
      const cid = decodeURIComponent(context.url.split("/").pop() ?? "");
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
            .then((k) => decryptSegment(k, response.data as ArrayBuffer, { contentId: manifest.contentId, variant: variant.name, index: seg.index, nonce: seg.nonce! }))
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

export function Player({
  contentId,
  manifestCid,
  hasAccess,
  title,
  stream = null,
}: {
  contentId: Hex;
  manifestCid: string;
  hasAccess: boolean;
  title: string;
  /** A pay-per-minute session: plays the full stream while set, paying for each minute's keys as playback reaches it. */
  stream?: StreamSession | null;
}) {
  const { address } = useAccount();
  const { chainId } = useAppConfig();
  const { signMessageAsync } = useSignMessage();
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [mode, setMode] = useState<Mode>({ kind: "preview" });
  const [status, setStatus] = useState<string>("");
  const [error, setError] = useState<string>("");
  const mediaRef = useRef<HTMLMediaElement | null>(null);
  /** "Play full" was pressed: start playing as soon as the full stream's playlist is parsed. */
  const autoplay = useRef(false);

  useEffect(() => {
    let stop = false;
    fetch(`/api/manifest/${manifestCid}`)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`manifest ${r.status}`))))
      .then((m: Manifest) => !stop && setManifest(m))
      .catch((e) => !stop && setError(`Could not load the media manifest: ${e.message}`));
    return () => {
      stop = true;
    };
  }, [manifestCid]);

  // Losing access (wallet switched, pass expired) drops back to the preview.
  useEffect(() => {
    if (!hasAccess && !stream) setMode({ kind: "preview" });
  }, [hasAccess, address, stream]);

  const hlsVariants = manifest?.variants.filter((v) => v.kind === "hls") ?? [];
  const preview = hlsVariants.find((v) => v.role === "preview");
  // Where data or bandwidth is scarce the player buffers less and starts with the 192 kbps variant.
  const strategy = choosePreload(readDeviceHints());
  const full = qualityOrder(strategy).flatMap((role) => hlsVariants.filter((v) => v.role === role));
  const current = mode.kind === "full" ? mode.variant : preview;

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
    const src = `/api/hls/${manifestCid}/${current.playlist}.m3u8`;
    const perMinute = mode.kind === "full" && mode.keys instanceof MinuteKeySource;
    const ahead = perMinute ? Math.min(STREAM_BUFFER_SECONDS, bufferAheadSeconds(strategy, manifest.duration ?? 0)) : bufferAheadSeconds(strategy, manifest.duration ?? 0);
    const config: Partial<HlsConfig> = { enableWorker: true, maxBufferLength: ahead, maxMaxBufferLength: ahead, startPosition: 0 };
    if (mode.kind === "full" && mode.keys && current.encrypted) {
      config.fLoader = decryptingLoader(manifest, mode.keys) as unknown as HlsConfig["fLoader"];
    }
    if (!Hls.isSupported()) {
      setError("This browser cannot play HLS (Media Source Extensions are missing).");
      return;
    }
    const hls = new Hls(config);
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) setError(`Playback error: ${data.details}`);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      if (mode.kind !== "full" || !autoplay.current) return;
      autoplay.current = false;
      media.play().catch(() => {}); // the user can still press play if the browser refuses
    });
    hls.loadSource(src);
    hls.attachMedia(media);
    return () => hls.destroy();
  }, [manifest, manifestCid, current, mode]);

  async function playFull() {
    setError("");
    if (!address) return setError("Connect your wallet first.");
    const best = full[0];
    if (!best) return setError("This item has no full-length stream.");
    autoplay.current = true;
    if (!best.encrypted) {
      setMode({ kind: "full", variant: best });
      return;
    }
    try {
      setStatus("Requesting the content key (sign in with your wallet if asked)…");
      const keys = await requestContentKey({ contentId, wallet: address as Address, chainId, signMessage: (message) => signMessageAsync({ message }) });
      setStatus("");
      setMode({ kind: "full", variant: best, keys });
    } catch (e) {
      setStatus("");
      const clear = full.find((v) => !v.encrypted);
      const why = e instanceof KeyRequestError ? `${e.message} (${e.status})` : e instanceof Error ? e.message : String(e);
      if (clear) {
        setMode({ kind: "full", variant: clear });
        setError(`The ${best.name} stream is unavailable (${why}); playing ${clear.name} quality.`);
      } else {
        setError(`Could not get the content key: ${why}`);
      }
    }
  }

  const isVideo = manifest?.kind === "video";
  return (
    <section className="player" aria-label={`Player: ${title}`} data-testid="player" data-mode={mode.kind} data-variant={current?.name ?? ""}>
      {isVideo ? (
        <video ref={(el) => void (mediaRef.current = el)} controls playsInline preload="metadata" data-testid="media" aria-label={title} />
      ) : (
        <audio ref={(el) => void (mediaRef.current = el)} controls preload="metadata" data-testid="media" aria-label={title} />
      )}
      <p className="small muted" data-testid="player-label">
        {mode.kind === "preview"
          ? `Preview (first ${Math.round(preview?.duration ?? 30)} s)${hasAccess ? "" : " · unlock below to hear everything"}`
          : `Full ${mode.variant.name} quality${mode.variant.encrypted ? " · decrypted in your browser" : ""}`}
      </p>
      {hasAccess && mode.kind === "preview" && full.length > 0 && (
        <button className="btn primary" onClick={playFull} data-testid="play-full">
          Play full {manifest?.kind === "video" ? "video" : "track"}
        </button>
      )}
      {status && <p className="status pending" role="status">{status}</p>}
      {error && <p className="status err" role="alert" data-testid="player-error">{error}</p>}
    </section>
  );
}
