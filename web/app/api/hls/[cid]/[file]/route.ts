/**
 * HLS playlists of a manifest: `/api/hls/<manifestCid>/<name>.m3u8` serves `playlists[name]`
 * with segment URIs pointed at this app's piece route (`/api/piece/<PieceCID>`). With
 * `?c=<contentId>` (the player adds it) the segment URIs carry it too, so the piece route can count
 * the segment requests as plays of that item (the content id is public; no key is ever in a URL).
 * A live stream's variant playlist is the growing EVENT playlist the archiver writes (never cached;
 * it names only stored pieces), until the stream's final manifest replaces the live one on chain.
 */
import { loadManifest } from "@/lib/server/store";
import { livePlaylist, sawViewer } from "@/lib/server/live";
import { clientAddressOf } from "@/lib/server/client-address";

export const dynamic = "force-dynamic";

/**
 * Rewritten playlists by manifest, playlist and `?c=` tag, kept while their source text is the
 * same: every viewer of a stream reloads the same playlist each segment, and a long stream's
 * playlist is long. Bounded: the oldest entry goes first.
 */
const rewritten = new Map<string, { source: string; body: string }>();
const MAX_REWRITTEN = 512;

function rewrite(key: string, source: string, prefix: string, tag: string): string {
  const hit = rewritten.get(key);
  if (hit?.source === source) return hit.body;
  const body = source
    .split("\n")
    .map((line) => (line.startsWith(prefix) ? `/api/piece/${line.slice(prefix.length)}${tag}` : line))
    .join("\n");
  rewritten.delete(key);
  rewritten.set(key, { source, body });
  if (rewritten.size > MAX_REWRITTEN) rewritten.delete(rewritten.keys().next().value!);
  return body;
}

export async function GET(request: Request, ctx: { params: Promise<{ cid: string; file: string }> }): Promise<Response> {
  const { cid, file } = await ctx.params;
  const m = /^([A-Za-z0-9_-]{1,32})\.m3u8$/.exec(file);
  if (!m) return new Response("not found\n", { status: 404 });
  const pieceCid = decodeURIComponent(cid);
  const manifest = await loadManifest(pieceCid);
  let playlist = manifest?.playlists[m[1]!];
  if (!manifest || playlist === undefined) return new Response("playlist not found\n", { status: 404 });
  const live = manifest.live?.status === "live" ? await livePlaylist(manifest, pieceCid, m[1]!) : undefined;
  if (live !== undefined) {
    playlist = live;
    sawViewer(manifest.live!.id, `${clientAddressOf(request)} ${request.headers.get("user-agent") ?? ""}`);
  }
  const prefix = manifest.pieceUrlPrefix;
  const contentId = new URL(request.url).searchParams.get("c");
  const tag = contentId !== null && /^0x[0-9a-fA-F]{64}$/.test(contentId) ? `?c=${contentId.toLowerCase()}` : "";
  const body = rewrite(`${pieceCid}/${m[1]}${tag}`, playlist, prefix, tag);
  return new Response(body, {
    headers: {
      "Content-Type": "application/vnd.apple.mpegurl",
      "Cache-Control": manifest.live?.status === "live" ? "no-store" : "public, max-age=31536000, immutable",
      "Access-Control-Allow-Origin": "*",
    },
  });
}
