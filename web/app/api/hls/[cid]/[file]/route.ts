/**
 * HLS playlists (lib/server/hls.ts). web/server.ts answers these paths before Next; this route
 * answers them when the app runs under plain `next start` or `next dev`.
 */
import { hlsPlaylist } from "@/lib/server/hls";
import { clientAddressOf } from "@/lib/server/client-address";

export const dynamic = "force-dynamic";

export async function GET(request: Request, ctx: { params: Promise<{ cid: string; file: string }> }): Promise<Response> {
  const { cid, file } = await ctx.params;
  const answer = await hlsPlaylist(cid, file, new URL(request.url).searchParams.get("c"), `${clientAddressOf(request)} ${request.headers.get("user-agent") ?? ""}`);
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
