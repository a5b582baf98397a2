"use client";
import { useState } from "react";
import { useConnectModal } from "@rainbow-me/rainbowkit";
import { AlbumTracks } from "@/components/AlbumTracks";
import { usePlayer } from "@/components/Player";
import { toTracks, type AlbumTrack, type PlayerTrack } from "@/lib/client/track";
import { UnlockPanel, useAccess, StreamPlayer, PayPerMinute, type CreatorTokens, type PlayingState, type UnlockItem, type StreamSession } from "@streamvault/sdk";

/** What the access line says while an album streams on its channel (the app-wide player plays it, not a StreamPlayer here). */
const ALBUM_STREAMING: PlayingState = { kind: "full", variant: "", encrypted: true, perMinute: true };

/** The player and unlock options of a release; an album (`album`) shows its track list, played in the app-wide player, instead of the page's player. */
export function ContentView({ item, tokens, manifestCid, title, album }: { item: UnlockItem; tokens?: CreatorTokens; manifestCid: string; title: string; album?: { track: PlayerTrack; tracks: AlbumTrack[] } }) {
  const access = useAccess(item, tokens);
  const { openConnectModal } = useConnectModal();
  const [stream, setStream] = useState<StreamSession | null>(null);
  // What the player plays, so the access line says the same (never "no access" while the full track streams).
  const [playing, setPlaying] = useState<PlayingState | undefined>(undefined);
  const hasAccess = access.reason !== "none";
  const player = usePlayer();
  // An album plays in the app-wide player: its one channel is handed to it, and opening it starts the album.
  function onStream(session: StreamSession | null) {
    setStream(session);
    if (!album) return;
    player.setStream(item.id, session);
    const queue = toTracks({ ...album.track, tracks: album.tracks });
    if (session) player.play(queue[0]!, queue);
  }
  return (
    <>
      {album ? (
        <AlbumTracks album={album.track} tracks={album.tracks} hasAccess={hasAccess} streaming={stream !== null} />
      ) : (
        <StreamPlayer
          contentId={item.id}
          manifestCid={manifestCid}
          hasAccess={hasAccess}
          title={title}
          stream={stream}
          accessSettled={access.connected && !access.loading}
          onPlaying={setPlaying}
        />
      )}
      <UnlockPanel
        item={item}
        tokens={tokens}
        access={access}
        playing={album ? (stream ? ALBUM_STREAMING : undefined) : playing}
        onConnect={openConnectModal}
        extra={item.tier > 0 && access.connected && !hasAccess ? <PayPerMinute contentId={item.id} onStream={onStream} /> : null}
      />
    </>
  );
}
