"use client";
import { useState } from "react";
import { UnlockPanel, useAccess, type CreatorTokens, type UnlockItem } from "./UnlockPanel";
import { Player, type PlayingState } from "./Player";
import { StreamPanel, type StreamSession } from "./StreamPanel";

export function ContentView({ item, tokens, manifestCid, title }: { item: UnlockItem; tokens?: CreatorTokens; manifestCid: string; title: string }) {
  const access = useAccess(item, tokens);
  const [stream, setStream] = useState<StreamSession | null>(null);
  // What the player plays, so the access line says the same (never "no access" while the full track streams).
  const [playing, setPlaying] = useState<PlayingState | undefined>(undefined);
  const hasAccess = access.reason !== "none";
  return (
    <>
      <Player
        contentId={item.id}
        manifestCid={manifestCid}
        hasAccess={hasAccess}
        title={title}
        stream={stream}
        accessSettled={access.connected && !access.loading}
        onPlaying={setPlaying}
      />
      <UnlockPanel
        item={item}
        tokens={tokens}
        access={access}
        playing={playing}
        extra={item.tier > 0 && access.connected && !hasAccess ? <StreamPanel contentId={item.id} onStream={setStream} /> : null}
      />
    </>
  );
}
