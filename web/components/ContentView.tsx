"use client";
import { UnlockPanel, useAccess, type CreatorTokens, type UnlockItem } from "./UnlockPanel";
import { Player } from "./Player";

export function ContentView({ item, tokens, manifestCid, title }: { item: UnlockItem; tokens?: CreatorTokens; manifestCid: string; title: string }) {
  const access = useAccess(item, tokens);
  return (
    <>
      <Player contentId={item.id} manifestCid={manifestCid} hasAccess={access.reason !== "none"} title={title} />
      <UnlockPanel item={item} tokens={tokens} access={access} />
    </>
  );
}
