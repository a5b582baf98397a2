/**
 * Portable catalogue package as one JSON download: lib/catalog `exportCatalog` (what
 * `streamvault export` writes as a folder) run into a temporary folder, whose files are returned as
 * `{ format: "streamvault-export-bundle", files: { "catalog.json": …, "tags.json": …, "manifests/<id>.json": … } }`.
 * Piece URLs point at this server's `/api/piece/<cid>` route.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { catalogLibs, pieceStore, readOnlyContext } from "@/lib/server/creator-catalog";
import { studioCreator, webOrigin } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const { address } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  const [{ restore }, chain, store] = await Promise.all([catalogLibs(), readOnlyContext(creator), pieceStore()]);
  const outDir = await mkdtemp(join(tmpdir(), "sv-export-"));
  try {
    const result = await restore.exportCatalog(chain, store, { outDir, gatewayUrl: `${webOrigin()}/api` });
    const files: Record<string, unknown> = {};
    for (const file of result.files) files[relative(outDir, file)] = JSON.parse(await readFile(file, "utf8"));
    const bundle = { format: "streamvault-export-bundle", version: 1, creator, items: result.items, missing: result.missing, files };
    return new Response(JSON.stringify(bundle, null, 1) + "\n", {
      headers: {
        "content-type": "application/json",
        "content-disposition": `attachment; filename="streamvault-catalog-${creator}.json"`,
        "cache-control": "no-store",
      },
    });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
