/** ContentAccess: content, purchases, subscriptions, pass revenue, the revenue ledger and admin state. */
import { ponder, type Context } from "ponder:registry";
import {
  accessGrant,
  accessPurchase,
  content,
  contentCollaborator,
  contentRevision,
  passRevenue,
  paymentToken,
  platform,
  subscription,
  subscriptionPayment,
} from "ponder:schema";
import { addVolume, countDaily } from "./lib/daily";
import { recordCredit, recordWithdrawal } from "./lib/ledger";
import { cidToString, lc, nameOf, TIER_NAMES, type Hex } from "./lib/util";

type Rules = {
  minCoinBalance: bigint;
  minPasses: bigint;
  inSubscription: boolean;
  paymentToken: string;
  price: bigint;
  duration: number;
};
type Collaborators = readonly { account: string; shareBps: number }[];

function rulesColumns(rules: Rules) {
  return {
    minCoinBalance: rules.minCoinBalance,
    minPasses: rules.minPasses,
    inSubscription: rules.inSubscription,
    paymentToken: lc(rules.paymentToken),
    price: rules.price,
    duration: BigInt(rules.duration),
  };
}

function collaboratorList(collaborators: Collaborators) {
  return collaborators.map((c) => ({ account: lc(c.account), shareBps: c.shareBps }));
}

/** Replaces the collaborator rows of a content item. */
async function writeCollaborators(db: Context["db"], contentId: Hex, owner: Hex, previous: Collaborators, next: Collaborators) {
  for (const c of previous) await db.delete(contentCollaborator, { contentId, account: lc(c.account) });
  // A repeated account keeps its first position and adds up its shares, as the contract pays it twice.
  const rows = new Map<Hex, { shareBps: number; position: number }>();
  next.forEach((c, position) => {
    const account = lc(c.account);
    const seen = rows.get(account);
    if (seen) seen.shareBps += c.shareBps;
    else rows.set(account, { shareBps: c.shareBps, position });
  });
  if (rows.size > 0) {
    await db
      .insert(contentCollaborator)
      .values([...rows].map(([account, r]) => ({ contentId, account, creator: owner, ...r })));
  }
}

async function revision(
  { event, context }: { event: { id: string; block: { number: bigint; timestamp: bigint }; transaction: { hash: Hex } }; context: Context },
  contentId: Hex,
  kind: string,
  row: typeof content.$inferSelect,
) {
  await context.db.insert(contentRevision).values({
    id: event.id,
    contentId,
    kind,
    minCoinBalance: row.minCoinBalance,
    minPasses: row.minPasses,
    inSubscription: row.inSubscription,
    paymentToken: row.paymentToken,
    price: row.price,
    duration: row.duration,
    termsVersion: row.termsVersion,
    collaborators: row.collaborators,
    manifestCid: row.manifestCid,
    manifestPieceCid: row.manifestPieceCid,
    block: event.block.number,
    timestamp: event.block.timestamp,
    tx: event.transaction.hash,
  });
}

ponder.on("ContentAccess:ContentRegistered", async ({ event, context }) => {
  const id = lc(event.args.contentId);
  const owner = lc(event.args.creator);
  const collaborators = collaboratorList(event.args.collaborators);
  const row = await context.db.insert(content).values({
    id,
    creator: owner,
    externalId: lc(event.args.externalId),
    tier: event.args.tier,
    tierName: nameOf(TIER_NAMES, event.args.tier),
    manifestCid: lc(event.args.manifestCid),
    manifestPieceCid: cidToString(event.args.manifestCid),
    ...rulesColumns(event.args.rules),
    // ContentRegistered carries no version: registration is version 1 (ContentAccess.registerContent).
    termsVersion: 1,
    collaborators,
    registeredBlock: event.block.number,
    registeredTimestamp: event.block.timestamp,
    registeredTx: event.transaction.hash,
    updatedBlock: event.block.number,
    updatedTimestamp: event.block.timestamp,
    revisionCount: 0,
  });
  await writeCollaborators(context.db, id, owner, [], collaborators);
  await revision({ event, context }, id, "registered", row);
  await countDaily(context.db, event.block.timestamp, "contentsRegistered");
});

ponder.on("ContentAccess:RulesUpdated", async ({ event, context }) => {
  const id = lc(event.args.contentId);
  const row = await context.db.update(content, { id }).set((r) => ({
    ...rulesColumns(event.args.rules),
    termsVersion: event.args.termsVersion,
    updatedBlock: event.block.number,
    updatedTimestamp: event.block.timestamp,
    revisionCount: r.revisionCount + 1,
  }));
  await revision({ event, context }, id, "rules", row);
});

ponder.on("ContentAccess:CollaboratorsUpdated", async ({ event, context }) => {
  const id = lc(event.args.contentId);
  const before = await context.db.find(content, { id });
  if (!before) throw new Error(`CollaboratorsUpdated for unknown content ${id}`);
  // Copy now: the row object Ponder hands out reflects the update below.
  const previous = before.collaborators.map((c) => ({ ...c }));
  const { creator: owner, revisionCount } = before;
  const collaborators = collaboratorList(event.args.collaborators);
  const row = await context.db.update(content, { id }).set({
    collaborators,
    updatedBlock: event.block.number,
    updatedTimestamp: event.block.timestamp,
    revisionCount: revisionCount + 1,
  });
  await writeCollaborators(context.db, id, owner, previous, collaborators);
  await revision({ event, context }, id, "collaborators", row);
});

ponder.on("ContentAccess:ManifestUpdated", async ({ event, context }) => {
  const id = lc(event.args.contentId);
  const row = await context.db.update(content, { id }).set((r) => ({
    manifestCid: lc(event.args.manifestCid),
    manifestPieceCid: cidToString(event.args.manifestCid),
    updatedBlock: event.block.number,
    updatedTimestamp: event.block.timestamp,
    revisionCount: r.revisionCount + 1,
  }));
  await revision({ event, context }, id, "manifest", row);
});

ponder.on("ContentAccess:AccessPurchased", async ({ event, context }) => {
  const contentId = lc(event.args.contentId);
  const buyer = lc(event.args.buyer);
  const { amount, expiresAt } = event.args;
  const now = event.block.timestamp;
  const item = await context.db.find(content, { id: contentId });
  if (!item) throw new Error(`AccessPurchased for unknown content ${contentId}`);
  // Read the old expiry before the upsert below changes the row.
  const previousExpiry = (await context.db.find(accessGrant, { contentId, buyer }))?.expiresAt ?? null;
  await context.db
    .insert(accessGrant)
    .values({ contentId, buyer, creator: item.creator, expiresAt, purchases: 1, firstPurchasedAt: now, lastPurchasedAt: now })
    .onConflictDoUpdate((row) => ({ expiresAt, purchases: row.purchases + 1, lastPurchasedAt: now }));
  await context.db.insert(accessPurchase).values({
    id: event.id,
    contentId,
    creator: item.creator,
    buyer,
    token: lc(event.args.token),
    amount,
    expiresAt,
    renewal: previousExpiry !== null && previousExpiry > now,
    block: event.block.number,
    timestamp: now,
    tx: event.transaction.hash,
  });
  await countDaily(context.db, now, "purchases");
  await addVolume(context.db, now, event.args.token, "purchaseVolume", amount);
});

ponder.on("ContentAccess:Subscribed", async ({ event, context }) => {
  const id = lc(event.args.subscriber);
  const { amount, expiresAt } = event.args;
  const periods = BigInt(event.args.periods);
  const now = event.block.timestamp;
  await context.db
    .insert(subscription)
    .values({ id, expiresAt, periods, payments: 1, firstSubscribedAt: now, lastSubscribedAt: now })
    .onConflictDoUpdate((row) => ({ expiresAt, periods: row.periods + periods, payments: row.payments + 1, lastSubscribedAt: now }));
  await context.db.insert(subscriptionPayment).values({
    id: event.id,
    subscriber: id,
    token: lc(event.args.token),
    amount,
    periods,
    expiresAt,
    block: event.block.number,
    timestamp: now,
    tx: event.transaction.hash,
  });
  await countDaily(context.db, now, "subscriptions");
  await addVolume(context.db, now, event.args.token, "subscriptionVolume", amount);
});

ponder.on("ContentAccess:PassRevenueDeposited", async ({ event, context }) => {
  await context.db.insert(passRevenue).values({
    id: event.id,
    creator: lc(event.args.creator),
    pass: lc(event.args.pass),
    amount: event.args.amount,
    block: event.block.number,
    timestamp: event.block.timestamp,
    tx: event.transaction.hash,
  });
  await addVolume(context.db, event.block.timestamp, "0x0000000000000000000000000000000000000000", "passMintVolume", event.args.amount);
});

ponder.on("ContentAccess:Credited", async ({ event, context }) => {
  await recordCredit(context.db, "ContentAccess", event);
});

ponder.on("ContentAccess:Withdrawn", async ({ event, context }) => {
  await recordWithdrawal(context.db, "ContentAccess", event);
});

// ---------------------------------------------------------------- admin state

async function setPlatform(context: Context, block: bigint, values: Partial<typeof platform.$inferInsert>) {
  await context.db
    .insert(platform)
    .values({ id: "ContentAccess", paused: false, ...values, updatedBlock: block })
    .onConflictDoUpdate({ ...values, updatedBlock: block });
}

ponder.on("ContentAccess:TreasuryUpdated", async ({ event, context }) => {
  await setPlatform(context, event.block.number, { treasury: lc(event.args.treasury) });
});
ponder.on("ContentAccess:PlatformFeeUpdated", async ({ event, context }) => {
  await setPlatform(context, event.block.number, { platformFeeBps: event.args.feeBps });
});
ponder.on("ContentAccess:CreatorRegistrySet", async ({ event, context }) => {
  await setPlatform(context, event.block.number, { creatorRegistry: lc(event.args.registry) });
});
ponder.on("ContentAccess:Paused", async ({ event, context }) => {
  await setPlatform(context, event.block.number, { paused: true });
});
ponder.on("ContentAccess:Unpaused", async ({ event, context }) => {
  await setPlatform(context, event.block.number, { paused: false });
});
ponder.on("ContentAccess:PaymentTokenUpdated", async ({ event, context }) => {
  const block = event.block.number;
  await context.db
    .insert(paymentToken)
    .values({ id: lc(event.args.token), allowed: event.args.allowed, subscriptionPrice: 0n, updatedBlock: block })
    .onConflictDoUpdate({ allowed: event.args.allowed, updatedBlock: block });
});
ponder.on("ContentAccess:SubscriptionPriceUpdated", async ({ event, context }) => {
  const block = event.block.number;
  const id = lc(event.args.token);
  // Native currency is always accepted (the contract never emits PaymentTokenUpdated for it).
  await context.db
    .insert(paymentToken)
    .values({ id, allowed: true, subscriptionPrice: event.args.pricePerPeriod, updatedBlock: block })
    .onConflictDoUpdate({ subscriptionPrice: event.args.pricePerPeriod, updatedBlock: block });
});
