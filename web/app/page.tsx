import Link from "next/link";
import { listContents, listCreators, searchItems } from "@/lib/server/catalog";
import { publicConfig } from "@/lib/server/config";
import { ContentGrid } from "@/components/ContentCard";
import { shortAddress } from "@/lib/client/format";
import { CreatorName } from "@/components/CreatorName";
import { Avatar } from "@/components/CreatorProfile";
import { creatorProfiles, displayName, type CreatorProfile } from "@/lib/server/profiles";
import type { Address } from "viem";

export const dynamic = "force-dynamic";

export default async function Discover({ searchParams }: { searchParams: Promise<{ q?: string; creator?: string }> }) {
  const { q = "", creator = "" } = await searchParams;
  const creatorFilter = /^0x[0-9a-fA-F]{40}$/.test(creator) ? (creator.toLowerCase() as Address) : undefined;
  const [{ items, source }, creators] = await Promise.all([listContents(creatorFilter), listCreators().catch(() => [])]);
  // Streams live now come first, then everything newest first.
  const found = searchItems(items, q);
  const onAir = (i: (typeof found)[number]) => i.live === "live" || i.live === "starting";
  const shown = [...found.filter(onAir), ...found.filter((i) => !onAir(i))];
  const liveCount = found.filter(onAir).length;
  const profiles = await creatorProfiles([...shown.map((i) => i.creator), ...creators.map((c) => c.id)]).catch(() => new Map<Address, CreatorProfile>());
  const coinNames = new Map(creators.map((c) => [c.id.toLowerCase(), c.coinName]));
  const nameOf = (a: string) => displayName(profiles.get(a.toLowerCase() as Address), coinNames.get(a.toLowerCase()));
  const stable = publicConfig().contracts.MockStablecoin;
  return (
    <>
      <h1>Discover</h1>
      <form className="toolbar" role="search" action="/">
        <label className="sr-only" htmlFor="q">
          Search by title or artist
        </label>
        <input id="q" type="search" name="q" defaultValue={q} placeholder="Search title or artist" />
        <select name="creator" defaultValue={creatorFilter ?? ""} aria-label="Filter by creator">
          <option value="">All creators</option>
          {creators.map((c) => (
            <option key={c.id} value={c.id}>
              {nameOf(c.id) ?? shortAddress(c.id)} ({c.coinSymbol})
            </option>
          ))}
        </select>
        <button className="btn" type="submit">Search</button>
      </form>
      <p className="muted small" data-testid="catalog-source">
        {shown.length} item{shown.length === 1 ? "" : "s"}, {liveCount > 0 ? `${liveCount} live now first, then ` : ""}newest first{q ? ` matching “${q}”` : ""} · from the {source}
      </p>
      {shown.length === 0 ? (
        <p className="panel">Nothing here yet. Creators publish from the <Link href="/studio">Studio</Link>.</p>
      ) : (
        <ContentGrid items={shown} stable={stable} creatorNames={Object.fromEntries(shown.map((i) => [i.creator.toLowerCase(), nameOf(i.creator)]))} />
      )}
      {creators.length > 0 && (
        <>
          <h2>Creators</h2>
          <ul className="grid" style={{ listStyle: "none", padding: 0 }}>
            {creators.map((c) => (
              <li key={c.id}>
                <Link className="card creator-card" href={`/creator/${c.id}`} data-testid="creator-card">
                  <span className="creator-card-head">
                    <Avatar cid={profiles.get(c.id.toLowerCase() as Address)?.profile?.avatar} name={nameOf(c.id) ?? c.id} size={40} />
                    <strong><CreatorName address={c.id} name={nameOf(c.id)} /></strong>
                  </span>
                  <span className="muted small">
                    ${c.coinSymbol} · pass {c.passSymbol} · <code className="address">{shortAddress(c.id)}</code>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
