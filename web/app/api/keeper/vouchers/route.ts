/**
 * The kept vouchers of some channels, for the voucher keeper (lib/keeper HttpVoucherSource) in the
 * embedded profile, where this process owns the key-release database. POST {channelIds: string[]}
 * with `Authorization: Bearer $KEEPER_TOKEN`; absent (404) unless KEEPER_TOKEN is set. A keeper
 * sharing Postgres (production) reads the tables directly and needs no route.
 */
import { timingSafeEqual } from "node:crypto";
import { bestVouchers } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const MAX_CHANNELS = 1000;

export async function POST(request: Request): Promise<Response> {
  const token = process.env.KEEPER_TOKEN;
  if (!token) return Response.json({ error: "not_found" }, { status: 404 });
  const given = Buffer.from(request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "");
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return Response.json({ error: "unauthorized", message: "send Authorization: Bearer <KEEPER_TOKEN>" }, { status: 401 });
  }
  const body = (await request.json().catch(() => undefined)) as { channelIds?: unknown } | undefined;
  const ids = body?.channelIds;
  if (!Array.isArray(ids) || ids.length > MAX_CHANNELS || !ids.every((id) => typeof id === "string" && /^[0-9]{1,78}$/.test(id))) {
    return Response.json({ error: "bad_channel_ids", message: `send {"channelIds": [decimal strings]}, at most ${MAX_CHANNELS}` }, { status: 400 });
  }
  const vouchers = await bestVouchers(ids as string[]);
  return Response.json(
    { vouchers: vouchers.map((v) => ({ channelId: v.channelId, cumulativeAmount: v.cumulativeAmount.toString(), signature: v.signature })) },
    { headers: { "cache-control": "no-store" } },
  );
}
