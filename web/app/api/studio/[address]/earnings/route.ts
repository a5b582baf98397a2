/**
 * A creator's earnings as CSV (or JSON with `format=json`): `?by=day` one row per UTC day and token,
 * `?by=release` one row per release and token; gross, platform fee, collaborators' shares and net
 * in whole token units, written exactly so the rows add up (lib/server/earnings.ts). The creator's
 * own SIWE session only, like every studio read.
 */
import { tokenDecimals, tokenSymbol } from "@streamvault/sdk/format";
import { listContents } from "@/lib/server/catalog";
import { deployment, INDEXER_URL } from "@/lib/server/config";
import { earningsCsv, earningsCsvFilename, loadEarnings } from "@/lib/server/earnings";
import { indexerGraphql, indexerPages } from "@/lib/server/indexer";
import { studioCreator } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const { address } = await ctx.params;
  // Only the creator's own SIWE session reads this, like every studio route (earnings are private).
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  const url = new URL(request.url);
  const by = url.searchParams.get("by") ?? "day";
  const format = url.searchParams.get("format") ?? "csv";
  if (by !== "day" && by !== "release") return Response.json({ error: "bad_input", message: `by must be "day" or "release", not "${by}"` }, { status: 400 });
  if (format !== "csv" && format !== "json") return Response.json({ error: "bad_input", message: `format must be "csv" or "json", not "${format}"` }, { status: 400 });

  const { items } = await listContents(creator);
  let earnings;
  try {
    earnings = await loadEarnings(creator, new Map(items.map((i) => [i.id.toLowerCase(), i.title])), { pages: indexerPages, graphql: indexerGraphql });
  } catch (err) {
    return Response.json(
      { error: "unavailable", message: `earnings come from the indexer at ${INDEXER_URL}, which did not answer (${(err as Error).message}); start it (npm run dev runs one) and try again` },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }
  if (format === "json") return Response.json(earnings, { headers: { "cache-control": "no-store" } });
  const stable = deployment().contracts.MockStablecoin?.address;
  const csv = earningsCsv(earnings, by, (t) => tokenDecimals(t, stable), (t) => tokenSymbol(t, stable));
  return new Response(csv, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${earningsCsvFilename(creator, by, new Date())}"`,
      "cache-control": "no-store",
    },
  });
}
