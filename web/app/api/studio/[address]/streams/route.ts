/**
 * A creator's pay-per-minute channels that are still open or closing, read from the chain
 * (`ChannelOpened` logs with this creator, then `getChannel`), each with the best voucher the
 * key-release service received for it on this deployment (`bestVouchers`): the creator's
 * wallet redeems it (`redeemVoucher`) or closes with it (`closeChannel`). Vouchers only ever pay
 * the content's split, and redeeming reveals them on chain anyway, so they are not secret.
 */
import { createPublicClient, http } from "viem";
import { STATUS_NAMES } from "@streamvault/lib/deployments/contracts.ts";
import { scanLogs } from "@streamvault/lib/chain/logs.ts";
import { RPC_URL, contract, deployBlock } from "@/lib/server/config";
import { bestVouchers, studioCreator } from "@/lib/server/keyrelease";

type BestVoucher = Awaited<ReturnType<typeof bestVouchers>>[number];

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const { address } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  let entry;
  try {
    entry = contract("PaymentChannels");
  } catch (error) {
    return Response.json({ error: "no PaymentChannels in the deployment", message: (error as Error).message }, { status: 503 });
  }
  const client = createPublicClient({ transport: http(RPC_URL, { timeout: 10_000 }) });
  const opened = await scanLogs(client, deployBlock("PaymentChannels"), "latest", (fromBlock, toBlock) =>
    client.getContractEvents({ ...entry, eventName: "ChannelOpened", args: { creator }, fromBlock, toBlock }),
  );
  const channels = await Promise.all(
    opened.map(async (log) => {
      const id = log.args.channelId!;
      const ch = await client.readContract({ ...entry, functionName: "getChannel", args: [id] });
      return { log, id, ch };
    }),
  );
  const live = channels.filter((c) => c.ch.status === 1 || c.ch.status === 2);
  const vouchers = new Map<string, BestVoucher>();
  if (live.length > 0) {
    try {
      for (const v of await bestVouchers(live.map((c) => c.id))) vouchers.set(v.channelId, v);
    } catch (error) {
      console.error("stream vouchers unavailable:", error);
    }
  }
  const streams = live.map(({ log, id, ch }) => {
    const v = vouchers.get(id.toString());
    const lastAmount = v?.cumulativeAmount ?? 0n;
    const payable = lastAmount < ch.deposit ? lastAmount : ch.deposit;
    return {
      id: id.toString(),
      viewer: ch.viewer,
      contentId: ch.contentId,
      token: ch.token,
      status: STATUS_NAMES[ch.status],
      deposit: ch.deposit.toString(),
      redeemed: ch.redeemed.toString(),
      ratePerMinute: (log.args.ratePerMinute ?? 0n).toString(),
      closesAt: Number(ch.closesAt),
      minutesDelivered: Math.floor((v?.deliveredSegments ?? 0) / 6),
      voucher: v?.signature ? { cumulativeAmount: lastAmount.toString(), signature: v.signature, receivedAt: v.updatedAt } : null,
      redeemable: (payable > ch.redeemed ? payable - ch.redeemed : 0n).toString(),
    };
  });
  return Response.json({ creator, streams }, { headers: { "cache-control": "no-store" } });
}
