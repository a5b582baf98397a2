"use client";
import { useState } from "react";
import { useConnectModal } from "@rainbow-me/rainbowkit";
import { AlbumTracks } from "@/components/AlbumTracks";
import type { AlbumTrack, PlayerTrack } from "@/lib/client/track";
import { UnlockPanel, useAccess, StreamPlayer, PayPerMinute, type CreatorTokens, type PlayingState, type UnlockItem, type StreamSession } from "@streamvault/sdk";

/** The player and unlock options of a release; an album (`album`) shows its track list, played in the app-wide player, instead of the page's player. */
export function ContentView({ item, tokens, manifestCid, title, album }: { item: UnlockItem; tokens?: CreatorTokens; manifestCid: string; title: string; album?: { track: PlayerTrack; tracks: AlbumTrack[] } }) {
  const access = useAccess(item, tokens);
  const { openConnectModal } = useConnectModal();
  const [stream, setStream] = useState<StreamSession | null>(null);
  // What the player plays, so the access line says the same (never "no access" while the full track streams).
  const [playing, setPlaying] = useState<PlayingState | undefined>(undefined);
  const hasAccess = access.reason !== "none";
  // Albums play in the app-wide player, which pays no channel (yet): they are offered whole, not per minute.
  return (
    <>
      {album ? (
        <AlbumTracks album={album.track} tracks={album.tracks} hasAccess={hasAccess} />
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
        playing={playing}
        onConnect={openConnectModal}
        extra={item.tier > 0 && access.connected && !hasAccess && !album ? <PayPerMinute contentId={item.id} onStream={setStream} /> : null}
      />
    </>
  );
}
