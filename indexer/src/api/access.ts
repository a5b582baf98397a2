/**
 * "Which contents can wallet X open now, and why": answered from the indexed holdings,
 * purchases and subscriptions, following the order of ContentAccess.accessOf (creator, free,
 * coin, pass, subscription, purchase).
 *
 * A convenience for listings and dashboards only: the chain (ContentAccess.hasValidAccess /
 * accessOf) stays the authority for key release. The index can lag the chain by a few blocks, and
 * "now" here is a clock reading, not the timestamp of the block that would execute a check.
 */
import { db } from "ponder:api";
import { accessGrant, coinHolding, content, creator, passHolding, subscription } from "ponder:schema";
import { and, eq, gt, gte, inArray, or } from "ponder";

type SQL = ReturnType<typeof eq>;

import { REASON_NAMES, type ReasonName } from "@streamvault/lib/deployments/contract-types.ts";

/** Reasons that grant access (ContentAccess.Reason without `none`). */
export type Reason = Exclude<ReasonName, "none">;
export const REASONS = REASON_NAMES.filter((r): r is Reason => r !== "none");

export interface AccessEntry {
  contentId: `0x${string}`;
  creator: `0x${string}`;
  tier: number;
  tierName: string;
  manifestPieceCid: string;
  /** First reason that applies, in the contract's order. */
  reason: Reason;
  /** Unix seconds the access given by `reason` ends; null = lasts while its condition holds. */
  expiresAt: bigint | null;
  /** Every reason that applies now, each with its own expiry. */
  reasons: { reason: Reason; expiresAt: bigint | null }[];
}

export interface AccessQuery {
  wallet: `0x${string}`;
  /** Unix seconds to evaluate expiries at. */
  now: bigint;
  /** Include free-tier content of every creator (anyone can open it). */
  includeFree: boolean;
  /** Only these contents. */
  contentIds?: `0x${string}`[];
}

export async function accessFor(query: AccessQuery): Promise<{ subscriptionExpiresAt: bigint | null; items: AccessEntry[] }> {
  const wallet = query.wallet.toLowerCase() as `0x${string}`;
  const { now } = query;
  const [sub] = await db.select().from(subscription).where(eq(subscription.id, wallet)).limit(1);
  const subscribed = sub !== undefined && sub.expiresAt > now;

  const conditions: SQL[] = [
    eq(content.creator, wallet),
    and(gt(content.minCoinBalance, 0n), gte(coinHolding.balance, content.minCoinBalance))!,
    and(gt(content.minPasses, 0n), gte(passHolding.count, content.minPasses))!,
    gt(accessGrant.expiresAt, now),
  ];
  if (query.includeFree) conditions.push(eq(content.tier, 0));
  if (subscribed) conditions.push(eq(content.inSubscription, true));

  const where = query.contentIds?.length
    ? and(inArray(content.id, query.contentIds.map((id) => id.toLowerCase() as `0x${string}`)), or(...conditions))
    : or(...conditions);

  const rows = await db
    .select({
      id: content.id,
      creator: content.creator,
      tier: content.tier,
      tierName: content.tierName,
      manifestPieceCid: content.manifestPieceCid,
      minCoinBalance: content.minCoinBalance,
      minPasses: content.minPasses,
      inSubscription: content.inSubscription,
      coinBalance: coinHolding.balance,
      passCount: passHolding.count,
      purchasedUntil: accessGrant.expiresAt,
    })
    .from(content)
    .leftJoin(creator, eq(creator.id, content.creator))
    .leftJoin(coinHolding, and(eq(coinHolding.coin, creator.coin), eq(coinHolding.holder, wallet)))
    .leftJoin(passHolding, and(eq(passHolding.pass, creator.pass), eq(passHolding.holder, wallet)))
    .leftJoin(accessGrant, and(eq(accessGrant.contentId, content.id), eq(accessGrant.buyer, wallet)))
    .where(where)
    .orderBy(content.registeredBlock, content.id);

  const items: AccessEntry[] = [];
  for (const row of rows) {
    const reasons: AccessEntry["reasons"] = [];
    if (row.creator === wallet) reasons.push({ reason: "creator", expiresAt: null });
    if (row.tier === 0) reasons.push({ reason: "free", expiresAt: null });
    if (row.minCoinBalance > 0n && (row.coinBalance ?? 0n) >= row.minCoinBalance) reasons.push({ reason: "coin", expiresAt: null });
    if (row.minPasses > 0n && (row.passCount ?? 0n) >= row.minPasses) reasons.push({ reason: "pass", expiresAt: null });
    if (row.inSubscription && subscribed) reasons.push({ reason: "subscription", expiresAt: sub!.expiresAt });
    if (row.purchasedUntil !== null && row.purchasedUntil > now) reasons.push({ reason: "purchase", expiresAt: row.purchasedUntil });
    // A free item reached only through includeFree=false filters is still free: keep the contract's order.
    if (!query.includeFree && reasons.length === 1 && reasons[0]!.reason === "free") continue;
    if (reasons.length === 0) continue;
    items.push({
      contentId: row.id,
      creator: row.creator,
      tier: row.tier,
      tierName: row.tierName,
      manifestPieceCid: row.manifestPieceCid,
      reason: reasons[0]!.reason,
      expiresAt: reasons[0]!.expiresAt,
      reasons,
    });
  }
  return { subscriptionExpiresAt: sub?.expiresAt ?? null, items };
}
