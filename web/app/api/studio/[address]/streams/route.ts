/**
 * A creator's pay-per-minute channels that are still open or closing, read from the chain
 * (`ChannelOpened` logs with this creator, then `getChannel`), each with the best voucher the
 * key-release service received for it (its `stream_channels` table, read only): the creator's
 * wallet redeems it (`redeemVoucher`) or closes with it (`closeChannel`). Vouchers only ever pay
 * the content's split, and redeeming reveals them on chain anyway, so they are not secret.
 */
import { createPublicClient, http, type Address } from "viem";
import { paymentChannelsAbi } from "../../../../../../lib/deployments/abis.ts";
import { RPC_URL, deployment } from "@/lib/server/config";
import { keyReleaseDb } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const STATUS = ["none", "open", "closing", "closed"] as const;

export async function GET(_request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const { address } = await ctx.params;
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return Response.json({ error: "bad address" }, { status: 400 });
  const creator = address.toLowerCase() as Address;
  const entry = deployment().contracts.PaymentChannels;
  if (!entry) return Response.json({ error: "no PaymentChannels in the deployment" }, { status: 503 });
  const client = createPublicClient({ transport: http(RPC_URL, { timeout: 10_000 }) });
  const opened = await client.getContractEvents({
    address: entry.address,
    abi: paymentChannelsAbi,
    eventName: "ChannelOpened",
    args: { creator },
    fromBlock: BigInt(entry.blockNumber ?? 0),
  });
  const channels = await Promise.all(
    opened.map(async (log) => {
      const id = log.args.channelId!;
      const ch = await client.readContract({ address: entry.address, abi: paymentChannelsAbi, functionName: "getChannel", args: [id] });
      return { log, id, ch };
    }),
  );
  const live = channels.filter((c) => c.ch.status === 1 || c.ch.status === 2);
  const vouchers = new Map<string, { last_amount: string; last_signature: string | null; delivered_segments: number; updated_at: string }>();
  if (live.length > 0) {
    try {
      const db = await keyReleaseDb();
      const rows = await db.query<{ channel_id: string; last_amount: string; last_signature: string | null; delivered_segments: number; updated_at: string }>(
        "SELECT channel_id, last_amount::text AS last_amount, last_signature, delivered_segments, updated_at FROM stream_channels WHERE contract = $1 AND channel_id = ANY($2::text[])",
        [entry.address.toLowerCase(), live.map((c) => c.id.toString())],
      );
      for (const r of rows.rows) vouchers.set(r.channel_id, r);
    } catch (error) {
      console.error("stream vouchers unavailable:", error);
    }
  }
  const streams = live.map(({ log, id, ch }) => {
    const v = vouchers.get(id.toString());
    const lastAmount = BigInt(v?.last_amount ?? "0");
    const payable = lastAmount < ch.deposit ? lastAmount : ch.deposit;
    return {
      id: id.toString(),
      viewer: ch.viewer,
      contentId: ch.contentId,
      token: ch.token,
      status: STATUS[ch.status],
      deposit: ch.deposit.toString(),
      redeemed: ch.redeemed.toString(),
      ratePerMinute: (log.args.ratePerMinute ?? 0n).toString(),
      closesAt: Number(ch.closesAt),
      minutesDelivered: Math.floor(Number(v?.delivered_segments ?? 0) / 6),
      voucher: v?.last_signature ? { cumulativeAmount: lastAmount.toString(), signature: v.last_signature, receivedAt: new Date(v.updated_at).toISOString() } : null,
      redeemable: (payable > ch.redeemed ? payable - ch.redeemed : 0n).toString(),
    };
  });
  return Response.json({ creator, streams }, { headers: { "cache-control": "no-store" } });
}
