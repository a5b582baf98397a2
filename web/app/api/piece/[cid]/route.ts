/**
 * Pieces (segments, manifests, artwork) by PieceCID from the configured store, with HTTP Range,
 * If-Range, immutable caching (a PieceCID names exactly one byte string) and open CORS. The answer
 * comes from `servePiece` of lib/storage/piece-handler.ts: the same handler as the node gateway (read
 * order, breaker, verification, repair when STORAGE_BACKEND names a set). Encrypted segments are
 * served as stored (ciphertext||tag): only a key holder can use them. A segment URL carrying
 * `?c=<contentId>` (the HLS route puts it there) is plays evidence for that item (lib/keyrelease).
 */
import { recordSegmentPlay } from "@/lib/server/keyrelease";
import { pieceStore, storageLib } from "@/lib/server/store";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

async function serve(request: Request, ctx: { params: Promise<{ cid: string }> }): Promise<Response> {
  const [lib, store, { cid }] = await Promise.all([storageLib(), pieceStore(), ctx.params]);
  return lib.servePiece(request, cid, {
    store,
    onPieceServed: (req, _url, pieceCid) => recordSegmentPlay(req, pieceCid),
    onError: (err) => console.error("piece route:", err),
  });
}

export async function OPTIONS(request: Request): Promise<Response> {
  return (await storageLib()).servePiece(request, "", { store: await pieceStore() });
}

export const GET = serve;
export const HEAD = serve;
