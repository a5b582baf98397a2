"use client";
import { useState } from "react";
import { useConnectModal } from "@rainbow-me/rainbowkit";
import { UnlockPanel, useAccess, StreamPlayer, PayPerMinute, type CreatorTokens, type UnlockItem, type StreamSession } from "../../sdk/src/index.ts";

export function ContentView({ item, tokens, manifestCid, title }: { item: UnlockItem; tokens?: CreatorTokens; manifestCid: string; title: string }) {
  const access = useAccess(item, tokens);
  const { openConnectModal } = useConnectModal();
  const [stream, setStream] = useState<StreamSession | null>(null);
  const hasAccess = access.reason !== "none";
  return (
    <>
      <StreamPlayer contentId={item.id} manifestCid={manifestCid} hasAccess={hasAccess} title={title} stream={stream} />
      <UnlockPanel
        item={item}
        tokens={tokens}
        access={access}
        onConnect={openConnectModal}
        extra={item.tier > 0 && access.connected && !hasAccess ? <PayPerMinute contentId={item.id} onStream={setStream} /> : null}
      />
    </>
  );
}
