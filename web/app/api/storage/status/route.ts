/**
 * `GET /api/storage/status`: per-backend storage counters as JSON (pieces and bytes written, reads,
 * failures, repairs, read latency p50/p99, breaker state), the same report as
 * `streamvault storage status` (lib/storage/stats.ts `storageStatus`), for the studio.
 */
import { pieceStore, storageLib } from "@/lib/server/store";
import { STORAGE_DATA_DIR } from "@/lib/server/config";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(): Promise<Response> {
  const lib = await storageLib();
  const store = await pieceStore();
  const report = await lib.storageStatus({ dataDir: STORAGE_DATA_DIR, file: process.env.STORAGE_STATS_FILE || undefined });
  return Response.json({ store: store.name, ...report }, { headers: { "Cache-Control": "no-store" } });
}
