/**
 * The creator's storage: per item the real monthly cost (bytes and copies actually stored on each
 * backend), what the placement policy wants from the tier and the plays of the window, the current
 * suggestions (the `streamvault optimize` dry run), 12 months of cost history rebuilt from the
 * placement journal and the registration dates, and the latest moves (lib/storage/placement).
 */
import { TIER_NAMES } from "@streamvault/lib/deployments/contract-types.ts";
import { listContents } from "@/lib/server/catalog";
import { STORAGE_DATA_DIR, STREAMVAULT_HOME } from "@/lib/server/config";
import { catalogLibs, readOnlyContext } from "@/lib/server/creator-catalog";
import { playCounts, studioCreator } from "@/lib/server/keyrelease";
import { loadManifest, pieceStore, placementLib, storageLib } from "@/lib/server/store";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

type PlacementLib = Awaited<ReturnType<typeof placementLib>>;
type HistoryItem = Parameters<PlacementLib["costHistory"]>[0][number];

export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const { address } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  const [lib, placement, store, { items: contents }] = await Promise.all([storageLib(), placementLib(), pieceStore(), listContents(creator)]);

  const items: HistoryItem[] = [];
  for (const c of contents) {
    const m = await loadManifest(c.manifestCid).catch(() => undefined);
    const pieces = new Map<string, number>([[c.manifestCid, lib.isPieceCid(c.manifestCid) ? lib.pieceSize(c.manifestCid) : 0]]);
    for (const v of m?.variants ?? []) for (const s of v.segments) pieces.set(s.pieceCid, s.size);
    for (const a of m?.artwork ?? []) pieces.set(a.pieceCid, a.bytes);
    // An unknown tier gets the strictest placement (exclusive: 3 copies, no CDN).
    const tier = ((TIER_NAMES as readonly string[]).includes(c.tierName) ? c.tierName : "exclusive") as HistoryItem["tier"];
    items.push({ id: c.id.toLowerCase(), title: c.title, tier, uploadedAt: c.registeredAt * 1000, pieces: [...pieces].map(([pieceCid, bytes]) => ({ pieceCid, bytes })) });
  }
  try {
    const [{ snapshot }, chain] = await Promise.all([catalogLibs(), readOnlyContext(creator)]);
    for (const a of await snapshot.listAnchors(chain, creator)) {
      items.push({ id: `backup:${a.index}`, title: `Backup #${a.index}`, tier: "backup", uploadedAt: a.anchoredAt * 1000, pieces: [{ pieceCid: a.pieceCid, bytes: a.size }] });
    }
  } catch (error) {
    console.error("backups unavailable for the storage report:", error);
  }

  const target = new placement.SetPlacementTarget({ store, cdnStateFile: placement.cdnStatePath(STREAMVAULT_HOME) });
  const config = placement.placementConfig([...target.backends]);
  const since = new Date(Date.now() - config.windowDays * 24 * 3600 * 1000);
  const counted = await playCounts(contents.map((c) => c.id), { since });
  const plays = Object.fromEntries((counted?.items ?? []).map((p) => [p.contentId.toLowerCase(), p.plays]));
  const journal = placement.readJournal(placement.journalPath(STREAMVAULT_HOME));
  const report = await placement.storageReport(items, plays, target, config, journal);
  // Health beside the catalogue's pieces and bytes: the stats wrapper's counters (what
  // `streamvault storage status` prints), shared by every process writing this piece directory.
  const status = await lib.storageStatus({ dataDir: STORAGE_DATA_DIR, file: process.env.STORAGE_STATS_FILE || undefined });
  const health = new Map(status.backends.map((b) => [b.backend, b]));
  const backendStats = report.backendStats.map((b) => {
    const h = health.get(b.backend);
    return { ...b, reads: h?.reads ?? 0, failures: h?.failures ?? 0, repairs: h?.repairs ?? 0, breaker: h?.breaker ?? "closed", readLatencyMs: h?.readLatencyMs ?? { p50: null, p99: null, samples: 0 } };
  });
  return Response.json({ creator, playsCounted: counted !== undefined, ...report, backendStats, statsUpdatedAt: status.updatedAt }, { headers: { "cache-control": "no-store" } });
}
