/** A content manifest as JSON (validated shape, never a key), cached forever: PieceCIDs are immutable. */
import { loadManifest } from "@/lib/server/store";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, ctx: { params: Promise<{ cid: string }> }): Promise<Response> {
  const { cid } = await ctx.params;
  const manifest = await loadManifest(decodeURIComponent(cid));
  if (!manifest) return Response.json({ error: "manifest not found" }, { status: 404 });
  return Response.json(manifest, { headers: { "Cache-Control": "public, max-age=31536000, immutable" } });
}
