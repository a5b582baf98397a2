/**
 * Portable catalogue package as one JSON download: lib/catalog `exportCatalog` (what
 * `streamvault export` writes as a folder: catalogue, tags, manifests, the plays-per-day, sales,
 * credits, withdrawals and holders CSVs, addresses.json, MIGRATION.md) run into a temporary folder;
 * the answer is the bundle it stored as a piece,
 * `{ format: "streamvault-export-bundle", files: { "catalog.json": …, "sales.csv": "…", "manifests/<id>.json": … } }`,
 * its PieceCID in `x-piece-cid`. Piece URLs point at this server's `/api/piece/<cid>` route.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catalogLibs, pieceStore, readOnlyContext } from "@/lib/server/creator-catalog";
import { playsPerDay, studioCreator, webOrigin } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const { address } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  const [{ restore }, chain, store] = await Promise.all([catalogLibs(), readOnlyContext(creator), pieceStore()]);
  const outDir = await mkdtemp(join(tmpdir(), "sv-export-"));
  try {
    const result = await restore.exportCatalog(chain, store, { outDir, gatewayUrl: `${webOrigin()}/api`, playsPerDay });
    for (const w of result.warnings) console.warn(`export of ${creator}: ${w}`);
    return new Response(new Uint8Array(await store.get(result.pieceCid)), {
      headers: {
        "x-piece-cid": result.pieceCid,
        "content-type": "application/json",
        "content-disposition": `attachment; filename="streamvault-catalog-${creator}.json"`,
        "cache-control": "no-store",
      },
    });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
