/** PaymentChannels: stream prices, channels, session keys, voucher redemptions and its revenue ledger. */
import { ponder } from "ponder:registry";
import { channel, content, sessionKey, streamPrice, voucherRedemption } from "ponder:schema";
import { addVolume, countDaily } from "./lib/daily";
import { recordCredit, recordWithdrawal } from "./lib/ledger";
import { lc, ZERO_ADDRESS } from "./lib/util";

ponder.on("PaymentChannels:StreamPriceSet", async ({ event, context }) => {
  // Only the item's creator can set it, and only for registered content, so the content row exists.
  const item = await context.db.find(content, { id: lc(event.args.contentId) });
  const values = {
    token: lc(event.args.token),
    ratePerMinute: event.args.ratePerMinute,
    updatedBlock: event.block.number,
    updatedTimestamp: event.block.timestamp,
    updatedTx: event.transaction.hash,
  };
  await context.db
    .insert(streamPrice)
    .values({ id: lc(event.args.contentId), creator: item?.creator ?? ZERO_ADDRESS, updates: 1, ...values })
    .onConflictDoUpdate((row) => ({ ...values, updates: row.updates + 1 }));
});

ponder.on("PaymentChannels:ChannelOpened", async ({ event, context }) => {
  await context.db.insert(channel).values({
    id: event.args.channelId,
    viewer: lc(event.args.viewer),
    creator: lc(event.args.creator),
    contentId: lc(event.args.contentId),
    token: lc(event.args.token),
    deposit: event.args.deposit,
    redeemed: 0n,
    refunded: null,
    ratePerMinute: event.args.ratePerMinute,
    closesAt: event.args.closesAt,
    status: "open",
    vouchers: 0,
    openedBlock: event.block.number,
    openedTimestamp: event.block.timestamp,
    openedTx: event.transaction.hash,
  });
  await countDaily(context.db, event.block.timestamp, "channelsOpened");
});

ponder.on("PaymentChannels:SessionKeyAuthorized", async ({ event, context }) => {
  const key = lc(event.args.key);
  const revoked = key === ZERO_ADDRESS;
  await context.db.update(channel, { id: event.args.channelId }).set({
    sessionKey: revoked ? null : key,
    sessionKeySpendingCap: revoked ? null : event.args.spendingCap,
    sessionKeyExpiresAt: revoked ? null : event.args.expiresAt,
  });
  await context.db.insert(sessionKey).values({
    id: event.id,
    channelId: event.args.channelId,
    key,
    spendingCap: event.args.spendingCap,
    expiresAt: event.args.expiresAt,
    block: event.block.number,
    timestamp: event.block.timestamp,
  });
});

ponder.on("PaymentChannels:ChannelToppedUp", async ({ event, context }) => {
  await context.db
    .update(channel, { id: event.args.channelId })
    .set({ deposit: event.args.deposit, closesAt: event.args.closesAt });
});

ponder.on("PaymentChannels:VoucherRedeemed", async ({ event, context }) => {
  const row = await context.db
    .update(channel, { id: event.args.channelId })
    .set((r) => ({ redeemed: event.args.redeemedTotal, vouchers: r.vouchers + 1 }));
  await context.db.insert(voucherRedemption).values({
    id: event.id,
    channelId: event.args.channelId,
    contentId: row.contentId,
    creator: row.creator,
    signer: lc(event.args.signer),
    cumulativeAmount: event.args.cumulativeAmount,
    paid: event.args.paid,
    redeemedTotal: event.args.redeemedTotal,
    block: event.block.number,
    timestamp: event.block.timestamp,
    tx: event.transaction.hash,
  });
  await countDaily(context.db, event.block.timestamp, "vouchersRedeemed");
  await addVolume(context.db, event.block.timestamp, row.token, "streamingVolume", event.args.paid);
});

ponder.on("PaymentChannels:CloseRequested", async ({ event, context }) => {
  await context.db
    .update(channel, { id: event.args.channelId })
    .set({ status: "closing", closesAt: event.args.closesAt });
});

ponder.on("PaymentChannels:ChannelClosed", async ({ event, context }) => {
  await context.db.update(channel, { id: event.args.channelId }).set({
    status: "closed",
    redeemed: event.args.redeemedTotal,
    refunded: event.args.refunded,
    closedTimestamp: event.block.timestamp,
  });
  await countDaily(context.db, event.block.timestamp, "channelsClosed");
});

ponder.on("PaymentChannels:Credited", async ({ event, context }) => {
  await recordCredit(context.db, "PaymentChannels", event);
});

ponder.on("PaymentChannels:Withdrawn", async ({ event, context }) => {
  await recordWithdrawal(context.db, "PaymentChannels", event);
});
