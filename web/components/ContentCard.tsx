import Link from "next/link";
import type { CatalogItem } from "@/lib/server/catalog";
import { formatAmount, formatDuration, shortAddress } from "@/lib/client/format";

export function Artwork({ cid, title, className = "art" }: { cid?: string; title: string; className?: string }) {
  if (!cid) return <div className={className} aria-hidden>♪</div>;
  // eslint-disable-next-line @next/next/no-img-element
  return <img className={className} src={`/api/piece/${cid}`} alt={`Cover of ${title}`} loading="lazy" />;
}

export function ContentCard({ item, stable }: { item: CatalogItem; stable?: string }) {
  return (
    <Link href={`/content/${item.id}`} className="card" data-testid="content-card">
      <Artwork cid={item.artworkCid} title={item.title} />
      <strong>{item.title}</strong>
      <span className="muted small">{item.artist || shortAddress(item.creator)}</span>
      <span className="small">
        {item.live === "live" || item.live === "starting" ? (
          <span className="tag live" data-testid="live-badge">
            ● Live
          </span>
        ) : null}{" "}
        <span className={`tag ${item.tierName}`}>{item.tierName}</span>{" "}
        {item.tier > 0 && BigInt(item.price) > 0n ? formatAmount(item.price, item.paymentToken, stable) : ""}
        {item.duration ? <span className="muted"> · {formatDuration(item.duration)}</span> : null}
      </span>
    </Link>
  );
}
