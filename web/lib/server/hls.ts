/**
 * HLS playlists of a manifest: `/api/hls/<manifestCid>/<name>.m3u8` serves `playlists[name]`
 * with segment URIs pointed at this app's piece route (`/api/piece/<PieceCID>`). With
 * `?c=<contentId>` (the player adds it) the segment URIs carry it too, so the piece route can count
 * the segment requests as plays of that item (the content id is public; no key is ever in a URL).
 * A live stream's variant playlist is the growing EVENT playlist the archiver writes (never cached;
 * it names only stored pieces), until the stream's final manifest replaces the live one on chain.
 *
 * No framework types here: web/server.ts answers these requests itself, before Next (every live
 * viewer reloads a playlist each segment, and a Next route costs far more per request than the
 * work below), and the Next route (app/api/hls) answers them under plain `next start`/`next dev`.
 */
import { loadManifest } from "./store.ts";
import { livePlaylist, sawViewer } from "./live.ts";

export interface PlaylistAnswer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** Matches the route's path; the groups are the manifest CID (URL-encoded) and the playlist file name. */
export const HLS_PATH = /^\/api\/hls\/([^/]+)\/([^/]+)$/;

const TEXT = { "Content-Type": "text/plain; charset=utf-8" };

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

/**
 * The answer to `GET /api/hls/<cid>/<file>?c=<contentId>`. `viewer` (client address and user agent)
 * is counted as watching when the playlist is a live one.
 */
export async function hlsPlaylist(cid: string, file: string, contentId: string | null, viewer: string): Promise<PlaylistAnswer> {
  const m = /^([A-Za-z0-9_-]{1,32})\.m3u8$/.exec(file);
  if (!m) return { status: 404, body: "not found\n", headers: TEXT };
  let pieceCid: string;
  try {
    pieceCid = decodeURIComponent(cid);
  } catch {
    return { status: 404, body: "not found\n", headers: TEXT };
  }
  const manifest = await loadManifest(pieceCid);
  let playlist = manifest?.playlists[m[1]!];
  if (!manifest || playlist === undefined) return { status: 404, body: "playlist not found\n", headers: TEXT };
  const isLive = manifest.live?.status === "live";
  const live = isLive ? await livePlaylist(manifest, pieceCid, m[1]!) : undefined;
  if (live !== undefined) {
    playlist = live;
    sawViewer(manifest.live!.id, viewer);
  }
  const tag = contentId !== null && /^0x[0-9a-fA-F]{64}$/.test(contentId) ? `?c=${contentId.toLowerCase()}` : "";
  return {
    status: 200,
    body: rewrite(`${pieceCid}/${m[1]}${tag}`, playlist, manifest.pieceUrlPrefix, tag),
    headers: {
      "Content-Type": "application/vnd.apple.mpegurl",
      "Cache-Control": isLive ? "no-store" : "public, max-age=31536000, immutable",
      "Access-Control-Allow-Origin": "*",
    },
  };
}
