"use client";
/**
 * The app-wide player: one media element owned by PlayerProvider (mounted once in the root layout),
 * so playback goes on across client-side navigation. A queue with previous/next, keyboard shortcuts,
 * and the Media Session API (lock-screen metadata and hardware/media keys). The streaming itself is
 * the SDK's `attachTrack` (the content page player's manifest, key request and decrypting loader).
 */
import Link from "next/link";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useAccount, usePublicClient, useSignMessage } from "wagmi";
import { attachTrack, type AttachedTrack, type StreamSession } from "@streamvault/sdk";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { ZERO_ADDRESS } from "@/lib/client/format";
import { toTrack, trackKey, type PlayerTrack } from "@/lib/client/track";

export { toTrack, type PlayerTrack };

/** 0:00-style position (floors, so 59.6 s is 0:59, not 0:60). */
function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

interface PlayerApi {
  queue: PlayerTrack[];
  index: number;
  current?: PlayerTrack;
  playing: boolean;
  /** Plays `track` now, with `queue` (which contains it) as what previous/next walk through. */
  play(track: PlayerTrack, queue?: PlayerTrack[]): void;
  toggle(): void;
  next(): void;
  previous(): void;
  /**
   * The pay-per-minute session of item `contentId` (an album's page opens one channel for all its
   * tracks), or null when it stops: tracks of the item played without access stream on it.
   */
  setStream(contentId: string, session: StreamSession | null): void;
}

const PlayerCtx = createContext<PlayerApi | null>(null);

export function usePlayer(): PlayerApi {
  const p = useContext(PlayerCtx);
  if (!p) throw new Error("usePlayer outside <PlayerProvider>");
  return p;
}

/** Media control icons as SVG: the system fonts the app uses do not all have the ⏸ ⏮ ⏭ glyphs. */
const ICON_PATHS = {
  play: "M8 5v14l11-7z",
  pause: "M6 5h4v14H6zM14 5h4v14h-4z",
  previous: "M6 5h2v14H6zM9.5 12 18 5v14z",
  next: "M16 5h2v14h-2zM6 5l8.5 7L6 19z",
} as const;
export function Icon({ name }: { name: keyof typeof ICON_PATHS }) {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden focusable="false" fill="currentColor">
      <path d={ICON_PATHS[name]} />
    </svg>
  );
}

/** The list a card's play button queues with (Discover's results, a creator's releases, the library). */
const QueueCtx = createContext<PlayerTrack[] | null>(null);
export function TrackList({ tracks, children }: { tracks: PlayerTrack[]; children: ReactNode }) {
  return <QueueCtx.Provider value={tracks}>{children}</QueueCtx.Provider>;
}

/** Focus in a control that uses the key itself: the shortcut must not steal it. */
function typingTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON|A|AUDIO|VIDEO)$/.test(t.tagName) || t.closest("[role=slider],[role=dialog]") !== null;
}

type Loaded = { trackId: string; kind: AttachedTrack["kind"]; variant: string; encrypted: boolean; perMinute: boolean };

export function PlayerProvider({ children }: { children: ReactNode }) {
  const { chainId, origin } = useAppConfig();
  const contract = useContracts();
  const client = usePublicClient({ chainId });
  const { address } = useAccount();
  const { signMessageAsync } = useSignMessage();
  const mediaRef = useRef<HTMLVideoElement | null>(null);
  const attached = useRef<AttachedTrack | null>(null);
  const [queue, setQueue] = useState<PlayerTrack[]>([]);
  const [index, setIndex] = useState(-1);
  /** Bumped on every explicit play of a track, so playing the same track again restarts it. */
  const [request, setRequest] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState({ now: 0, duration: 0 });
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const current = index >= 0 ? queue[index] : undefined;
  /** Pay-per-minute sessions by item (lowercase content id). */
  const streams = useRef(new Map<string, StreamSession>());

  // Loads the current track whenever an explicit play asks for it: full with access (chain), else what is free.
  useEffect(() => {
    const media = mediaRef.current;
    if (!current || !media || request === 0) return;
    let cancelled = false;
    attached.current?.destroy();
    attached.current = null;
    setLoaded(null);
    setError("");
    setStatus("Loading…");
    void (async () => {
      try {
        const access = address && client ? await client.readContract({ ...contract("ContentAccess"), functionName: "accessOf", args: [address, current.id] }) : undefined;
        const hasAccess = access !== undefined && access[0] !== 0;
        if (cancelled) return;
        const stream = hasAccess ? undefined : streams.current.get(current.id.toLowerCase());
        if (hasAccess) setStatus("Opening the full track (sign in with your wallet if asked)…");
        else if (stream) setStatus("Streaming on your pay-per-minute channel…");
        const track = await attachTrack({
          media,
          contentId: current.id,
          manifestCid: current.manifestCid,
          track: current.track,
          hasAccess,
          stream,
          wallet: address ?? ZERO_ADDRESS,
          chainId,
          signMessage: (message) => signMessageAsync({ message }),
          onError: (message) => !cancelled && setError(`Could not play “${current.title}”: ${message}`),
        });
        if (cancelled) return track.destroy();
        attached.current = track;
        setLoaded({ trackId: trackKey(current), kind: track.kind, variant: track.variant, encrypted: track.encrypted, perMinute: track.perMinute });
        await track.ready;
        if (cancelled) return;
        setStatus("");
        startPlaying(media);
      } catch (e) {
        if (cancelled) return;
        setStatus("");
        let why = e instanceof Error ? e.message : String(e);
        if (origin && window.location.origin !== origin) why = `sign-in works only at ${origin}, and this page is open at ${window.location.origin}: open it at ${origin}`;
        setError(`Could not play “${current.title}”: ${why}`);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [current && trackKey(current), request]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => () => attached.current?.destroy(), []);

  // Another wallet (or none): a track decrypted with the previous wallet's key is loaded again with
  // what this one may open (so a disconnect drops back to the preview, like the content page player).
  const lastAddress = useRef(address);
  useEffect(() => {
    if (lastAddress.current === address) return;
    lastAddress.current = address;
    if (loaded?.encrypted) setRequest((r) => r + 1);
  }, [address, loaded?.encrypted]);

  /** An explicit play in the mini player: it pauses every other player on the page (the content page's). */
  function startPlaying(media: HTMLMediaElement) {
    for (const other of document.querySelectorAll<HTMLMediaElement>("audio, video")) if (other !== media && !other.paused) other.pause();
    media.play().catch((e: unknown) => {
      // AbortError: a newer load (the next track) interrupted this one, nothing to tell.
      if (e instanceof DOMException && e.name === "NotAllowedError") setError("The browser blocked playback: press play.");
    });
  }

  // Another player on the page starts (the content page's): the mini player yields to it. Play events
  // do not bubble, so listen in the capture phase.
  useEffect(() => {
    const onPlay = (e: Event) => {
      const media = mediaRef.current;
      if (media && e.target !== media && e.target instanceof HTMLMediaElement && !media.paused) media.pause();
    };
    document.addEventListener("play", onPlay, true);
    return () => document.removeEventListener("play", onPlay, true);
  }, []);

  const play = useCallback((track: PlayerTrack, list?: PlayerTrack[]) => {
    const key = trackKey(track);
    const q = list && list.some((t) => trackKey(t) === key) ? list : [track];
    setQueue(q);
    setIndex(q.findIndex((t) => trackKey(t) === key));
    setRequest((r) => r + 1);
  }, []);

  const toggle = useCallback(() => {
    const media = mediaRef.current;
    if (!media || index < 0) return;
    if (media.paused) startPlaying(media);
    else media.pause();
  }, [index]);

  const next = useCallback(() => {
    if (index + 1 >= queue.length) return;
    setIndex(index + 1);
    setRequest((r) => r + 1);
  }, [index, queue.length]);

  const previous = useCallback(() => {
    const media = mediaRef.current;
    // Like every music player: past the first seconds, "previous" restarts the track.
    if (media && (media.currentTime > 3 || index <= 0)) {
      media.currentTime = 0;
      return;
    }
    setIndex(index - 1);
    setRequest((r) => r + 1);
  }, [index]);

  // Keyboard: Space/K play-pause, J/L 10 s back/ahead, Shift+N/Shift+P next/previous; never while typing.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const media = mediaRef.current;
      if (!media || index < 0 || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typingTarget(e.target)) return;
      const key = e.key.toLowerCase();
      if (key === " " || key === "k") toggle();
      else if (key === "j") media.currentTime = Math.max(0, media.currentTime - 10);
      else if (key === "l") media.currentTime = Math.min(media.duration || 0, media.currentTime + 10);
      else if (e.shiftKey && key === "n") next();
      else if (e.shiftKey && key === "p") previous();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [index, toggle, next, previous]);

  // Media Session: lock-screen / notification metadata and the hardware media keys.
  useEffect(() => {
    if (!("mediaSession" in navigator) || !current) return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: current.title,
      artist: current.artist,
      album: current.album ?? "StreamVault",
      artwork: current.artworkCid ? [{ src: `${window.location.origin}/api/piece/${current.artworkCid}` }] : [],
    });
    const media = mediaRef.current;
    const handlers: [MediaSessionAction, MediaSessionActionHandler][] = [
      ["play", () => media && startPlaying(media)],
      ["pause", () => media?.pause()],
      ["previoustrack", previous],
      ["nexttrack", next],
      ["seekbackward", (d) => media && (media.currentTime = Math.max(0, media.currentTime - (d.seekOffset ?? 10)))],
      ["seekforward", (d) => media && (media.currentTime = Math.min(media.duration || 0, media.currentTime + (d.seekOffset ?? 10)))],
      ["seekto", (d) => media && d.seekTime !== undefined && (media.currentTime = d.seekTime)],
    ];
    for (const [action, handler] of handlers) {
      try {
        navigator.mediaSession.setActionHandler(action, handler);
      } catch {
        // an action this browser does not know
      }
    }
  }, [current, next, previous]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = current ? (playing ? "playing" : "paused") : "none";
  }, [playing, current]);

  function onTime() {
    const media = mediaRef.current;
    if (!media) return;
    const duration = Number.isFinite(media.duration) ? media.duration : 0;
    setTime({ now: media.currentTime, duration });
    if ("mediaSession" in navigator && duration > 0) {
      try {
        navigator.mediaSession.setPositionState({ duration, position: Math.min(media.currentTime, duration), playbackRate: media.playbackRate });
      } catch {
        // position out of range while seeking
      }
    }
  }

  // What plays now, for setStream (called from a page's cleanup, which holds an old render's callback).
  const playingNow = useRef<{ current?: PlayerTrack; perMinute: boolean }>({ perMinute: false });
  playingNow.current = { current, perMinute: loaded?.perMinute ?? false };
  const setStream = useCallback((contentId: string, session: StreamSession | null) => {
    const id = contentId.toLowerCase();
    if (session) streams.current.set(id, session);
    else if (streams.current.delete(id) && playingNow.current.current?.id.toLowerCase() === id && playingNow.current.perMinute) {
      // The channel stopped (closed, or its page left): nothing more is paid; the track goes back to what the wallet may open (the preview).
      mediaRef.current?.pause();
      setRequest((r) => r + 1);
    }
  }, []);

  const api = useMemo<PlayerApi>(() => ({ queue, index, current, playing, play, toggle, next, previous, setStream }), [queue, index, current, playing, play, toggle, next, previous, setStream]);
  const mine = loaded && current && loaded.trackId === trackKey(current) ? loaded : null;
  return (
    <PlayerCtx.Provider value={api}>
      {children}
      <section className={`mini-player${current ? "" : " empty"}`} aria-label="Player" data-testid="mini-player" data-state={playing ? "playing" : "paused"} hidden={!current}>
        {/* One element for the whole visit: a video element also plays audio-only streams. */}
        <video ref={mediaRef} className="mini-media" playsInline preload="metadata" data-testid="mini-media" aria-label={current?.title ?? "Player"}
          onPlay={() => setPlaying(true)} onPause={() => setPlaying(false)} onTimeUpdate={onTime} onDurationChange={onTime} onEnded={next} />
        {current && (
          <>
            <div className="mini-track">
              {current.artworkCid ? (
                // eslint-disable-next-line @next/next/no-img-element
                <img className="mini-art" src={`/api/piece/${current.artworkCid}`} alt="" />
              ) : (
                <div className="mini-art" aria-hidden>♪</div>
              )}
              <div className="mini-text">
                <Link href={`/content/${current.id}`} className="mini-title" data-testid="mini-title">{current.title}</Link>
                <span className="muted small" data-testid="mini-mode">
                  {current.artist ? `${current.artist} · ` : ""}
                  {current.track !== undefined ? `Track ${current.track}${current.album ? ` of ${current.album}` : ""} · ` : ""}
                  {error ? "" : status || (mine ? (mine.kind === "full" ? `Full track${mine.perMinute ? ", paid per minute" : ""}${mine.encrypted ? ", decrypted in your browser" : ""}` : "Preview (30 s): unlock for the full track") : "")}
                </span>
              </div>
            </div>
            <div className="mini-controls">
              <button className="icon-btn" onClick={previous} aria-label="Previous (Shift+P)" data-testid="mini-previous"><Icon name="previous" /></button>
              <button className="icon-btn primary" onClick={toggle} aria-label={playing ? "Pause (Space)" : "Play (Space)"} data-testid="mini-toggle"><Icon name={playing ? "pause" : "play"} /></button>
              <button className="icon-btn" onClick={next} aria-label="Next (Shift+N)" disabled={index + 1 >= queue.length} data-testid="mini-next"><Icon name="next" /></button>
            </div>
            <div className="mini-seek">
              <span className="small muted">{clock(time.now)}</span>
              <input type="range" min={0} max={time.duration || 0} step={0.1} value={Math.min(time.now, time.duration || 0)} aria-label="Seek"
                onChange={(e) => mediaRef.current && (mediaRef.current.currentTime = Number(e.target.value))} />
              <span className="small muted">{time.duration ? clock(time.duration) : "–:––"}</span>
            </div>
            {error && <p className="status err small mini-error" role="alert" data-testid="mini-error">{error}</p>}
            <span className="sr-only" aria-live="polite">{queue.length > 1 ? `Track ${index + 1} of ${queue.length}` : ""}</span>
          </>
        )}
      </section>
    </PlayerCtx.Provider>
  );
}

/** A play button for one item: plays it in the mini player with the surrounding list as the queue. */
export function PlayButton({ track, label = "Play", className = "play-btn" }: { track: PlayerTrack; label?: string; className?: string }) {
  const player = usePlayer();
  const list = useContext(QueueCtx);
  const isCurrent = player.current !== undefined && trackKey(player.current) === trackKey(track);
  return (
    <button
      type="button"
      className={className}
      data-testid="play-button"
      aria-label={`${isCurrent && player.playing ? "Pause" : label} ${track.title}`}
      onClick={(e) => {
        e.preventDefault();
        if (isCurrent) player.toggle();
        else player.play(toTrack(track), list ?? undefined);
      }}
    >
      <Icon name={isCurrent && player.playing ? "pause" : "play"} />
    </button>
  );
}
