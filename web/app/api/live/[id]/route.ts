/** `GET /api/live/<id>`: a live stream's record (state, segments and bytes stored, failed writes, latest segment time, viewers). */
import { liveLib, liveStatusOf } from "@/lib/server/live";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await ctx.params;
  if (!(await liveLib()).LIVE_ID.test(id)) return Response.json({ error: "a live stream id is 1-64 characters of A-Z a-z 0-9 . _ -" }, { status: 400 });
  const status = await liveStatusOf(id);
  if (!status) return Response.json({ error: `no live stream "${id}" on this server` }, { status: 404 });
  return Response.json(status, { headers: { "Cache-Control": "no-store" } });
}
