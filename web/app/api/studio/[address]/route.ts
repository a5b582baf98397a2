/**
 * Creator dashboard data: releases with stored bytes, plays per release (counted by the key-release
 * service from key releases and segment requests: lib/keyrelease PlayCounts; `plays: null` when it
 * is unavailable) and the monthly storage estimate (lib/storage/cost.ts), plus earnings per day,
 * sales, streams and top fans from the indexer (`indexer: null` when it is not running). Earnings are
 * split per day and per release into gross, platform fee, collaborators' shares and net
 * (lib/server/earnings.ts; the same lines as CSV at ./earnings).
 */
import { listContents } from "@/lib/server/catalog";
import { loadEarnings } from "@/lib/server/earnings";
import { indexerGraphql, indexerJson, indexerPages } from "@/lib/server/indexer";
import { playCounts, studioCreator } from "@/lib/server/keyrelease";
import { loadManifest, storageLib } from "@/lib/server/store";
import type { Address } from "viem";
import { creatorProfiles, displayName } from "@/lib/server/profiles";

export const dynamic = "force-dynamic";

const ASSUMED_PLAYS_PER_MONTH = 20;

type PlayCounts = NonNullable<Awaited<ReturnType<typeof playCounts>>>["items"][number];

/** What the dashboard shows of an item's plays (null: the key-release service is unavailable). */
function playsSummary(p: PlayCounts | undefined) {
  if (p === undefined) return null;
  return { plays: p.plays, keyReleases: p.keyReleases, segmentPlays: p.segmentPlays, minutesStreamed: p.minutesStreamed, uniqueViewers: p.uniqueViewers, lastPlayAt: p.lastPlayAt };
}

export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const { address } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  const { items } = await listContents(creator);
  const counted = await playCounts(items.map((item) => item.id));
  const playsOf = new Map(counted?.items.map((p) => [p.contentId, p]) ?? []);

  const lib = await storageLib();
  const media = await Promise.all(
    items.map(async (item) => {
      const m = await loadManifest(item.manifestCid).catch(() => undefined);
      const bytes = m ? m.variants.reduce((n, v) => n + v.segments.reduce((k, s) => k + s.size, 0), 0) + m.artwork.reduce((n, a) => n + a.bytes, 0) : 0;
      return {
        id: item.id,
        title: item.title,
        artist: item.artist,
        album: item.album ?? "",
        trackNumber: item.trackNumber ?? null,
        description: item.description ?? "",
        tracks: m?.tracks?.length ?? 0,
        tier: item.tierName,
        bytes,
        copies: m?.copies ?? 2,
        plays: playsSummary(playsOf.get(item.id.toLowerCase())),
        rules: {
          price: item.price,
          paymentToken: item.paymentToken,
          duration: item.accessDuration,
          inSubscription: item.inSubscription,
          minPasses: item.minPasses,
          minCoinBalance: item.minCoinBalance,
        },
      };
    }),
  );
  const cost = lib.creatorMonthlyCost(
    media.map((m) => ({ id: m.id, bytes: m.bytes, playsPerMonth: ASSUMED_PLAYS_PER_MONTH, exclusive: m.tier === "exclusive" })),
  );
  const storage = {
    bytes: media.reduce((n, m) => n + m.bytes, 0),
    monthlyUsdfc: cost.total,
    monthlyFormatted: lib.formatUsdfc(cost.total),
    assumedPlaysPerMonth: ASSUMED_PLAYS_PER_MONTH,
  };

  let indexed: unknown = null;
  try {
    const titles = new Map(items.map((i) => [i.id.toLowerCase(), i.title]));
    const [summary, earnings, data] = await Promise.all([
      indexerJson<Record<string, unknown>>(`/api/creators/${creator}/summary`),
      loadEarnings(creator, titles, { pages: indexerPages, graphql: indexerGraphql }),
      indexerGraphql<{
        accessPurchases: { items: { buyer: string; amount: string; token: string; timestamp: string; contentId: string }[] };
        channels: { items: { id: string; viewer: string; deposit: string; redeemed: string; ratePerMinute: string; contentId: string; status: string; token: string }[] };
      }>(
        `query($creator: String!) {
          accessPurchases(where: { creator: $creator }, orderBy: "timestamp", orderDirection: "desc", limit: 1000) { items { buyer amount token timestamp contentId } }
          channels(where: { creator: $creator }, orderBy: "openedBlock", orderDirection: "desc", limit: 1000) { items { id viewer deposit redeemed ratePerMinute contentId status token } }
        }`,
        { creator },
      ),
    ]);
    indexed = {
      summary,
      earnings,
      recentSales: data.accessPurchases.items.slice(0, 20),
      topFans: await topFans(data.accessPurchases.items, data.channels.items),
      activeStreams: data.channels.items.filter((c) => c.status === "open").slice(0, 100),
    };
  } catch {
    indexed = null;
  }
  const plays = counted ? { total: counted.total.plays, uniqueViewers: counted.total.uniqueViewers } : null;
  return Response.json({ items: media, plays, storage, indexer: indexed }, { headers: { "cache-control": "no-store" } });
}

interface Fan {
  buyer: string;
  /** The fan's creator name (their profile's name, else their coin's name) when the fan has launched as a creator too. */
  name: string | null;
  purchases: number;
  streams: number;
  /** Paid to this creator per token: purchases plus redeemed streaming minutes. */
  spent: Record<string, string>;
}

/** The ten fans who bought or streamed most (purchases and streams, then native spent), named where they are creators. */
async function topFans(
  purchases: { buyer: string; amount: string; token: string }[],
  channels: { viewer: string; redeemed: string; token: string }[],
): Promise<Fan[]> {
  const fans = new Map<string, Fan>();
  const fan = (address: string) => {
    const key = address.toLowerCase();
    const f = fans.get(key) ?? { buyer: key, name: null, purchases: 0, streams: 0, spent: {} };
    fans.set(key, f);
    return f;
  };
  const spend = (f: Fan, token: string, amount: string) => (f.spent[token] = (BigInt(f.spent[token] ?? "0") + BigInt(amount)).toString());
  for (const p of purchases) {
    const f = fan(p.buyer);
    f.purchases += 1;
    spend(f, p.token, p.amount);
  }
  for (const c of channels) {
    if (BigInt(c.redeemed) === 0n) continue;
    const f = fan(c.viewer);
    f.streams += 1;
    spend(f, c.token, c.redeemed);
  }
  const native = (f: Fan) => BigInt(f.spent["0x0000000000000000000000000000000000000000"] ?? "0");
  const top = [...fans.values()]
    .sort((a, b) => b.purchases + b.streams - (a.purchases + a.streams) || (native(b) > native(a) ? 1 : native(b) < native(a) ? -1 : 0))
    .slice(0, 10);
  if (top.length > 0) {
    const named = await indexerGraphql<{ creators: { items: { id: string; coinName: string }[] } }>(
      `query($ids: [String!]) { creators(where: { id_in: $ids }, limit: 10) { items { id coinName } } }`,
      { ids: top.map((f) => f.buyer) },
    );
    const profiles = await creatorProfiles(named.creators.items.map((c) => c.id)).catch(() => undefined);
    for (const c of named.creators.items) {
      const f = fans.get(c.id.toLowerCase());
      if (f) f.name = displayName(profiles?.get(c.id.toLowerCase() as Address), c.coinName);
    }
  }
  return top;
}
