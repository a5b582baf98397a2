import Link from "next/link";
import type { CatalogItem } from "@/lib/server/catalog";
import { formatAmount, formatDuration, shortAddress } from "@/lib/client/format";
import { toTrack } from "@/lib/client/track";
import { PlayButton, TrackList } from "@/components/Player";

export function Artwork({ cid, title, className = "art" }: { cid?: string; title: string; className?: string }) {
  if (!cid) return <div className={className} aria-hidden>♪</div>;
  // eslint-disable-next-line @next/next/no-img-element
  return <img className={className} src={`/api/piece/${cid}`} alt={`Cover of ${title}`} loading="lazy" />;
}

/** A release: the link to its page, and a play button over the cover (a button cannot sit inside a link). */
export function ContentCard({ item, stable }: { item: CatalogItem; stable?: string }) {
  return (
    <div className="card has-play" data-testid="content-card" data-content={item.id}>
      <Link href={`/content/${item.id}`} className="card-link">
        <Artwork cid={item.artworkCid} title={item.title} />
        <strong>{item.title}</strong>
        <span className="muted small">{item.artist || shortAddress(item.creator)}</span>
        <span className="small">
          <span className={`tag ${item.tierName}`}>{item.tierName}</span>{" "}
          {item.tier > 0 && BigInt(item.price) > 0n ? formatAmount(item.price, item.paymentToken, stable) : ""}
          {item.duration ? <span className="muted"> · {formatDuration(item.duration)}</span> : null}
        </span>
      </Link>
      <div className="card-play">
        <PlayButton track={toTrack(item)} />
      </div>
    </div>
  );
}

/** A grid of releases whose play buttons queue the whole grid, in its order. */
export function ContentGrid({ items, stable }: { items: CatalogItem[]; stable?: string }) {
  return (
    <TrackList tracks={items.map(toTrack)}>
      <div className="grid">
        {items.map((item) => (
          <ContentCard key={item.id} item={item} stable={stable} />
        ))}
      </div>
    </TrackList>
  );
}
