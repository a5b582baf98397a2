/**
 * A content manifest as JSON (validated shape, never a key), cached forever: PieceCIDs are
 * immutable. A live stream's manifest comes with the segments stored so far and is never cached.
 */
import { loadManifest } from "@/lib/server/store";
import { liveOverlay } from "@/lib/server/live";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, ctx: { params: Promise<{ cid: string }> }): Promise<Response> {
  const { cid } = await ctx.params;
  const pieceCid = decodeURIComponent(cid);
  const manifest = await loadManifest(pieceCid);
  if (!manifest) return Response.json({ error: "manifest not found" }, { status: 404 });
  if (manifest.live?.status === "live") return Response.json(await liveOverlay(manifest, pieceCid), { headers: { "Cache-Control": "no-store" } });
  return Response.json(manifest, { headers: { "Cache-Control": "public, max-age=31536000, immutable" } });
}
