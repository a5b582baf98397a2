/**
 * `GET /api/studio/<address>/live/<id>`: the creator's view of a browser stream besides the public
 * record (`GET /api/live/<id>`): the next chunk seq expected, bytes accepted, whether the input
 * ended, `finished` (the archiver is done: nothing more will be pending), and `pending`, what the
 * creator's wallet must send now: a manifest (`{action: registerContent | updateManifest,
 * manifestCid, externalId, contentId, tier}`) or a LiveStreams announcement
 * (`{action: startLive | endLive, contentId, segments?}`).
 */
import { studioCreator } from "@/lib/server/keyrelease";
import { GoLiveError, browserStreamControl } from "@/lib/server/golive";
import { liveStatusOf } from "@/lib/server/live";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, ctx: { params: Promise<{ address: string; id: string }> }): Promise<Response> {
  const { address, id } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  try {
    return Response.json({ ...browserStreamControl(creator, id), status: (await liveStatusOf(id)) ?? null }, { headers: { "cache-control": "no-store" } });
  } catch (err) {
    if (err instanceof GoLiveError) return Response.json({ error: err.code, message: err.message }, { status: err.status });
    throw err;
  }
}
