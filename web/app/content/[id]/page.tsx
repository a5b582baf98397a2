import Link from "next/link";
import { creatorProfiles, displayName } from "@/lib/server/profiles";
import { CreatorName } from "@/components/CreatorName";
import { notFound } from "next/navigation";
import type { Hex } from "viem";
import { getContent, getCreator } from "@/lib/server/catalog";
import { Artwork } from "@/components/ContentCard";
import { ContentView } from "@/components/ContentView";
import { LiveBadge } from "@/components/LiveBadge";
import { formatDuration } from "@/lib/client/format";
import { toTrack } from "@/lib/client/track";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) return { title: "Not found" };
  const item = await getContent(id as Hex);
  return { title: item?.title ?? "Not found" };
}

export default async function ContentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) notFound();
  const item = await getContent(id.toLowerCase() as Hex);
  if (!item) notFound();
  const [creator, profiles] = await Promise.all([getCreator(item.creator).catch(() => undefined), creatorProfiles([item.creator]).catch(() => undefined)]);
  const creatorName = displayName(profiles?.get(item.creator), creator?.coinName);
  return (
    <>
      <div className="content-head">
        <Artwork cid={item.artworkCid} title={item.title} />
        <div>
          <h1 style={{ marginBottom: 4 }} data-testid="content-title">{item.title}</h1>
          <p style={{ margin: 0 }}>
            {item.artist && <span>{item.artist} · </span>}
            <Link href={`/creator/${item.creator}`}><CreatorName address={item.creator} name={creatorName} /></Link>
          </p>
          <p className="small muted">
            {item.liveId && <LiveBadge id={item.liveId} initial={item.live!} />}
            <span className={`tag ${item.tierName}`}>{item.tierName}</span> · {item.tracks ? `album · ${item.tracks.length} tracks` : item.kind} {item.duration && !item.live ? `· ${formatDuration(item.duration)}` : ""}
          </p>
          {!item.tracks && (item.album || item.trackNumber) && (
            <p className="small" data-testid="content-album">
              {item.album ? `${item.album}` : "Track"}
              {item.trackNumber ? ` · track ${item.trackNumber}` : ""}
            </p>
          )}
          {item.description && <p className="description" data-testid="content-description">{item.description}</p>}
          <p className="small muted">
            Content id <code>{item.id}</code>
          </p>
        </div>
      </div>
      <ContentView
        item={{
          id: item.id,
          creator: item.creator,
          tier: item.tier,
          price: item.price,
          paymentToken: item.paymentToken,
          minCoinBalance: item.minCoinBalance,
          minPasses: item.minPasses,
          inSubscription: item.inSubscription,
          accessDuration: item.accessDuration,
        }}
        tokens={creator ? { coin: creator.coin, pass: creator.pass, coinSymbol: creator.coinSymbol, passSymbol: creator.passSymbol } : undefined}
        manifestCid={item.manifestCid}
        title={item.title}
        album={item.tracks ? { track: toTrack(item), tracks: item.tracks } : undefined}
      />
    </>
  );
}
