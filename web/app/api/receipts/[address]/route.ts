/** A wallet's receipts (purchases and subscriptions with their transactions), for the library: lib/server/receipts.ts. */
import { isAddress, type Address } from "viem";
import { receiptsOf } from "@/lib/server/receipts";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const { address } = await ctx.params;
  if (!isAddress(address)) return Response.json({ error: `"${address}" is not a wallet address: use 0x followed by 40 hex digits.` }, { status: 400 });
  try {
    return Response.json(await receiptsOf(address as Address), { headers: { "cache-control": "no-store" } });
  } catch (e) {
    return Response.json({ error: `Could not read receipts from the indexer or the chain: ${e instanceof Error ? e.message : String(e)}` }, { status: 502 });
  }
}
