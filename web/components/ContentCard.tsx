import Link from "next/link";
import type { CatalogItem } from "@/lib/server/catalog";
import { accessSummary, formatAmount, formatDuration } from "@/lib/client/format";
import { CreatorName } from "./CreatorName";
import { toTracks } from "@/lib/client/track";
import { PlayButton, TrackList } from "@/components/Player";

export function Artwork({ cid, title, className = "art" }: { cid?: string; title: string; className?: string }) {
  if (!cid) return <div className={className} aria-hidden>♪</div>;
  // eslint-disable-next-line @next/next/no-img-element
  return <img className={className} src={`/api/piece/${cid}`} alt={`Cover of ${title}`} loading="lazy" />;
}

/** Price, access rule and per-minute price of a release, as every release row shows them. */
export function ReleaseTerms({ item, stable }: { item: CatalogItem; stable?: string }) {
  const rules = { price: item.price, paymentToken: item.paymentToken, duration: item.accessDuration, inSubscription: item.inSubscription, minPasses: item.minPasses, minCoinBalance: item.minCoinBalance };
  const rate = BigInt(item.streamRatePerMinute);
  return (
    <>
      <span className="small" data-testid="card-price">
        {item.live === "live" || item.live === "starting" ? (
          <span className="tag live" data-testid="live-badge">
            ● Live
          </span>
        ) : null}{" "}
        <span className={`tag ${item.tierName}`}>{item.tierName}</span>{" "}
        {item.tier > 0 ? (BigInt(item.price) > 0n ? formatAmount(item.price, item.paymentToken, stable) : "not for sale") : "free"}
        {item.duration ? <span className="muted"> · {formatDuration(item.duration)}</span> : null}
      </span>
      {item.tier > 0 && <span className="small muted" data-testid="card-access">unlocks with: {accessSummary(item.tierName, rules, stable)}</span>}
      {item.tier > 0 && (
        <span className="small muted" data-testid="card-stream-price">
          {/* An album with a stream price streams on one channel across its tracks; without, it is sold whole. */}
          {rate > 0n ? `or ${formatAmount(rate, item.streamToken, stable)} per minute` : item.tracks ? "one price for every track" : "not offered per minute"}
        </span>
      )}
    </>
  );
}

/**
 * A release: the link to its page, and a play button over the cover (a button cannot sit inside a link).
 * `creatorName`: the creator's profile or coin name (`lib/server/profiles.ts` displayName); without it the short address shows.
 */
export function ContentCard({ item, stable, creatorName }: { item: CatalogItem; stable?: string; creatorName?: string | null }) {
  return (
    <div className="card has-play" data-testid="content-card" data-content={item.id}>
      <Link href={`/content/${item.id}`} className="card-link">
        <Artwork cid={item.artworkCid} title={item.title} />
        <strong data-testid="card-title">{item.title}</strong>
        <span className="muted small">
          <CreatorName address={item.creator} name={creatorName} className="card-creator" />
          {item.artist && item.artist !== creatorName ? ` · ${item.artist}` : ""}
          {item.album && !item.tracks ? ` · ${item.album}` : ""}
        </span>
        {item.tracks && <span className="small" data-testid="card-album">Album · {item.tracks.length} tracks</span>}
        <ReleaseTerms item={item} stable={stable} />
      </Link>
      <div className="card-play">
        <PlayButton track={toTracks(item)[0]!} />
      </div>
    </div>
  );
}

/** A grid of releases whose play buttons queue the whole grid, in its order; `creatorNames` by lower-case creator address. */
export function ContentGrid({ items, stable, creatorNames }: { items: CatalogItem[]; stable?: string; creatorNames?: Record<string, string | null> }) {
  return (
    <TrackList tracks={items.flatMap(toTracks)}>
      <div className="grid">
        {items.map((item) => (
          <ContentCard key={item.id} item={item} stable={stable} creatorName={creatorNames?.[item.creator.toLowerCase()]} />
        ))}
      </div>
    </TrackList>
  );
}
