import Link from "next/link";
import type { CatalogItem } from "@/lib/server/catalog";
import { formatAmount, formatDuration } from "@/lib/client/format";
import { CreatorName } from "./CreatorName";

export function Artwork({ cid, title, className = "art" }: { cid?: string; title: string; className?: string }) {
  if (!cid) return <div className={className} aria-hidden>♪</div>;
  // eslint-disable-next-line @next/next/no-img-element
  return <img className={className} src={`/api/piece/${cid}`} alt={`Cover of ${title}`} loading="lazy" />;
}

/** `creatorName`: the creator's profile or coin name (`lib/server/profiles.ts` displayName); without it the short address shows. */
export function ContentCard({ item, stable, creatorName }: { item: CatalogItem; stable?: string; creatorName?: string | null }) {
  return (
    <Link href={`/content/${item.id}`} className="card" data-testid="content-card">
      <Artwork cid={item.artworkCid} title={item.title} />
      <strong>{item.title}</strong>
      <span className="muted small">
        <CreatorName address={item.creator} name={creatorName} className="card-creator" />
        {item.artist && item.artist !== creatorName ? ` · ${item.artist}` : ""}
      </span>
      <span className="small">
        <span className={`tag ${item.tierName}`}>{item.tierName}</span>{" "}
        {item.tier > 0 && BigInt(item.price) > 0n ? formatAmount(item.price, item.paymentToken, stable) : ""}
        {item.duration ? <span className="muted"> · {formatDuration(item.duration)}</span> : null}
      </span>
    </Link>
  );
}
