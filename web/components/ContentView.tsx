"use client";
import { useState } from "react";
import { useConnectModal } from "@rainbow-me/rainbowkit";
import { UnlockPanel, useAccess, StreamPlayer, PayPerMinute, type CreatorTokens, type PlayingState, type UnlockItem, type StreamSession } from "@streamvault/sdk";

export function ContentView({ item, tokens, manifestCid, title }: { item: UnlockItem; tokens?: CreatorTokens; manifestCid: string; title: string }) {
  const access = useAccess(item, tokens);
  const { openConnectModal } = useConnectModal();
  const [stream, setStream] = useState<StreamSession | null>(null);
  // What the player plays, so the access line says the same (never "no access" while the full track streams).
  const [playing, setPlaying] = useState<PlayingState | undefined>(undefined);
  const hasAccess = access.reason !== "none";
  return (
    <>
      <StreamPlayer
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
        onConnect={openConnectModal}
        extra={item.tier > 0 && access.connected && !hasAccess ? <PayPerMinute contentId={item.id} onStream={setStream} /> : null}
      />
    </>
  );
}
