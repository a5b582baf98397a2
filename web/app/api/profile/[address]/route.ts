/** GET: a creator's profile as this server resolves it (`lib/server/profiles.ts`): `{creator, profileUri, profile|null}`. */
import type { Address } from "viem";
import { creatorProfiles } from "@/lib/server/profiles";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(_request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const address = (await ctx.params).address;
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return Response.json({ error: "bad_address", message: "bad address: expected 0x followed by 40 hex characters" }, { status: 400 });
  const creator = address.toLowerCase() as Address;
  const found = (await creatorProfiles([creator])).get(creator)!;
  return Response.json(found, { headers: { "cache-control": "no-store" } });
}
