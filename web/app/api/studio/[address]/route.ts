/**
 * Creator dashboard data: releases with stored bytes, plays per release (counted by the key-release
 * service from key releases and segment requests: lib/keyrelease PlayCounts; `plays: null` when it
 * is unavailable) and the monthly storage estimate (lib/storage/cost.ts), plus earnings per day,
 * sales, streams and top fans from the indexer (`indexer: null` when it is not running).
 */
import { listContents } from "@/lib/server/catalog";
import { INDEXER_URL } from "@/lib/server/config";
import { playCounts, studioCreator } from "@/lib/server/keyrelease";
import { loadManifest, storageLib } from "@/lib/server/store";

export const dynamic = "force-dynamic";

const ASSUMED_PLAYS_PER_MONTH = 20;

async function indexer<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${INDEXER_URL}${path}`, { ...init, cache: "no-store", signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`indexer ${res.status}`);
  return (await res.json()) as T;
}

async function gql<T>(query: string): Promise<T> {
  const body = await indexer<{ data?: T; errors?: unknown[] }>("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  if (body.errors?.length || !body.data) throw new Error("graphql error");
  return body.data;
}

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
    const [summary, data] = await Promise.all([
      indexer<Record<string, unknown>>(`/api/creators/${creator}/summary`),
      gql<{
        credits: { items: { amount: string; token: string; timestamp: string; roleName: string }[] };
        accessPurchases: { items: { buyer: string; amount: string; token: string; timestamp: string; contentId: string }[] };
        channels: { items: { id: string; viewer: string; deposit: string; redeemed: string; ratePerMinute: string; contentId: string; status: string }[] };
      }>(`{
        credits(where: { payee: "${creator}" }, orderBy: "timestamp", orderDirection: "asc", limit: 1000) { items { amount token timestamp roleName } }
        accessPurchases(where: { creator: "${creator}" }, orderBy: "timestamp", orderDirection: "desc", limit: 1000) { items { buyer amount token timestamp contentId } }
        channels(where: { creator: "${creator}", status: "open" }, limit: 100) { items { id viewer deposit redeemed ratePerMinute contentId status } }
      }`),
    ]);
    const byDay = new Map<string, Record<string, number>>();
    for (const c of data.credits.items) {
      const day = new Date(Number(c.timestamp) * 1000).toISOString().slice(0, 10);
      const row = byDay.get(day) ?? {};
      const decimals = c.token === "0x0000000000000000000000000000000000000000" ? 18 : 6;
      row[c.token] = (row[c.token] ?? 0) + Number(BigInt(c.amount)) / 10 ** decimals;
      byDay.set(day, row);
    }
    const fans = new Map<string, { buyer: string; purchases: number; spent: Record<string, string> }>();
    for (const p of data.accessPurchases.items) {
      const f = fans.get(p.buyer) ?? { buyer: p.buyer, purchases: 0, spent: {} };
      f.purchases += 1;
      f.spent[p.token] = (BigInt(f.spent[p.token] ?? "0") + BigInt(p.amount)).toString();
      fans.set(p.buyer, f);
    }
    indexed = {
      summary,
      earningsByDay: [...byDay.entries()].map(([day, tokens]) => ({ day, ...tokens })),
      recentSales: data.accessPurchases.items.slice(0, 20),
      topFans: [...fans.values()].sort((a, b) => b.purchases - a.purchases).slice(0, 10),
      activeStreams: data.channels.items,
    };
  } catch {
    indexed = null;
  }
  const plays = counted ? { total: counted.total.plays, uniqueViewers: counted.total.uniqueViewers } : null;
  return Response.json({ items: media, plays, storage, indexer: indexed }, { headers: { "cache-control": "no-store" } });
}
