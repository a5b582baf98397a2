/** The catalogue as JSON (newest first; ?creator=0x… and ?q= filter) for client pages. */
import type { Address } from "viem";
import { listContents, searchItems } from "@/lib/server/catalog";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const creator = url.searchParams.get("creator");
  const q = url.searchParams.get("q") ?? "";
  const { items, source } = await listContents(creator && /^0x[0-9a-fA-F]{40}$/.test(creator) ? (creator.toLowerCase() as Address) : undefined);
  return Response.json({ source, items: searchItems(items, q) }, { headers: { "cache-control": "no-store" } });
}
