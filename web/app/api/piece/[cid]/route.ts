/**
 * Pieces (segments, manifests, artwork) by PieceCID from the configured store, with HTTP Range,
 * immutable caching (a PieceCID names exactly one byte string) and open CORS. Encrypted segments
 * are served as stored (ciphertext||tag): only a key holder can use them. A segment URL carrying
 * `?c=<contentId>` (the HLS route puts it there) is plays evidence for that item (lib/keyrelease).
 */
import { recordSegmentPlay } from "@/lib/server/keyrelease";
import { pieceStore, storageLib } from "@/lib/server/store";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Range, If-None-Match",
  "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges, ETag",
};

function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...CORS, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", ...extra } });
}

export function OPTIONS(): Response {
  return new Response(null, { status: 204, headers: { ...CORS, "Access-Control-Max-Age": "86400" } });
}

/** bytes=a-b | bytes=a- | bytes=-n, single range only; null = malformed/multi (serve whole); "unsat" = 416. */
function parseRange(header: string, size: number): { start: number; end: number } | null | "unsat" {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsat";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start > end && m[2] !== "") return null;
  }
  if (start >= size) return "unsat";
  return { start, end };
}

async function serve(request: Request, cidParam: string, head: boolean): Promise<Response> {
  const lib = await storageLib();
  const raw = decodeURIComponent(cidParam);
  if (!lib.isPieceCid(raw)) return text(400, "invalid PieceCID\n");
  const cid = lib.normalizePieceCid(raw);
  const size = lib.pieceSize(cid);
  const store = await pieceStore();
  if (!(await store.has(cid))) return text(404, "piece not found\n");

  const etag = `"${cid}"`;
  const base: Record<string, string> = {
    ...CORS,
    "Content-Type": "application/octet-stream",
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Cache-Control": "public, max-age=31536000, immutable",
  };
  const inm = request.headers.get("if-none-match");
  if (inm && inm.split(",").some((t) => ["*", etag].includes(t.trim().replace(/^W\//, "")))) {
    return new Response(null, { status: 304, headers: base });
  }
  let range: { start: number; end: number } | undefined;
  const rangeHeader = request.headers.get("range");
  const ifRange = request.headers.get("if-range");
  if (rangeHeader && (ifRange === null || ifRange === etag)) {
    const parsed = parseRange(rangeHeader, size);
    if (parsed === "unsat") return new Response(null, { status: 416, headers: { ...base, "Content-Range": `bytes */${size}` } });
    if (parsed) range = parsed;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const headers: Record<string, string> = { ...base, "Content-Length": String(end - start + 1) };
  if (range) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  const status = range ? 206 : 200;
  if (head) return new Response(null, { status, headers });
  await recordSegmentPlay(request, cid);
  try {
    const bytes = await store.get(cid, range ? { start, end } : undefined);
    return new Response(bytes as unknown as BodyInit, { status, headers });
  } catch (err) {
    if (err instanceof Error && err.name === "PieceNotFoundError") return text(404, "piece not found\n");
    throw err;
  }
}

export async function GET(request: Request, ctx: { params: Promise<{ cid: string }> }): Promise<Response> {
  return serve(request, (await ctx.params).cid, false);
}

export async function HEAD(request: Request, ctx: { params: Promise<{ cid: string }> }): Promise<Response> {
  return serve(request, (await ctx.params).cid, true);
}
