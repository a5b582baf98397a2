/** `POST /api/studio/<address>/live/<id>/end`: "End stream" from the creator's session: the input ends, the archiver writes ENDLIST and stores the final manifest for the wallet's `updateManifest`. */
import { studioCreator } from "@/lib/server/keyrelease";
import { GoLiveError, browserStreamControl, endBrowserStream } from "@/lib/server/golive";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(request: Request, ctx: { params: Promise<{ address: string; id: string }> }): Promise<Response> {
  const { address, id } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  try {
    endBrowserStream(creator, id);
    return Response.json(browserStreamControl(creator, id), { headers: { "cache-control": "no-store" } });
  } catch (err) {
    if (err instanceof GoLiveError) return Response.json({ error: err.code, message: err.message }, { status: err.status });
    throw err;
  }
}
