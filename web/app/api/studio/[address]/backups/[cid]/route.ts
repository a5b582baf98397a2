/**
 * Restore preview of one anchored backup: lib/catalog `fetchVerifiedSnapshot` fetches the snapshot,
 * checks its PieceCID and its SHA-256 and size against `backupAt` on chain (409 on mismatch), and the
 * answer says what `streamvault restore` would rebuild, without writing anything: each item, whether
 * its manifest is in storage now or would be put back from the snapshot, and whether the chain still
 * registers the same manifest.
 */
import type { Hex } from "viem";
import { catalogLibs, pieceStore, readOnlyContext } from "@/lib/server/creator-catalog";
import { errorResponse, hasErrorCode } from "@streamvault/lib/errors.ts";
import { studioCreator } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, ctx: { params: Promise<{ address: string; cid: string }> }): Promise<Response> {
  const { address, cid } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  const [{ snapshot }, chain, store] = await Promise.all([catalogLibs(), readOnlyContext(creator), pieceStore()]);
  let verified: Awaited<ReturnType<typeof snapshot.fetchVerifiedSnapshot>>;
  try {
    verified = await snapshot.fetchVerifiedSnapshot(chain, store, decodeURIComponent(cid));
  } catch (error) {
    // SnapshotIntegrityError (integrity), NoBackupError / PieceNotFoundError (not_found): status by code.
    if (hasErrorCode(error, "integrity") || hasErrorCode(error, "not_found")) return errorResponse(error);
    throw error;
  }
  const { anchor, snapshot: snap } = verified;
  const content = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/chain/content.ts");
  const items = await Promise.all(
    snap.items.map(async (item) => {
      const inStorage = await store.has(item.manifestCid);
      const current = await content.readContent(chain, item.contentId as Hex).catch(() => undefined);
      return {
        contentId: item.contentId,
        title: item.title ?? null,
        tier: item.tier,
        manifestCid: item.manifestCid,
        manifestInStorage: inStorage,
        manifestInSnapshot: Boolean(item.manifest),
        action: inStorage ? "keep" : item.manifest ? "restore manifest from snapshot" : "manifest missing",
        onChain: current ? (current.manifestCid === item.manifestCid ? "registered, same manifest" : "registered, manifest changed since") : "not registered",
      };
    }),
  );
  return Response.json(
    {
      anchor,
      verified: true,
      createdAt: snap.createdAt,
      profile: snap.profile,
      earnings: snap.earnings,
      stats: snap.stats,
      items,
      wouldRestore: {
        items: items.length,
        manifestsFromSnapshot: items.filter((i) => i.action === "restore manifest from snapshot").length,
        manifestsMissing: items.filter((i) => i.action === "manifest missing").length,
      },
    },
    { headers: { "cache-control": "no-store" } },
  );
}
