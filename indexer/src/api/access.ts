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
import { and, eq, gt, gte, inArray, sql, union } from "ponder";

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
  const values = { wallet, now: now.toString() };
  const [sub] = await subscriptionStatement.execute(values);
  const subscribed = sub !== undefined && sub.expiresAt > now;
  const contentIds = query.contentIds?.map((id) => id.toLowerCase() as `0x${string}`);
  const rows = await (contentIds?.length ? accessQuery(query.includeFree, subscribed, contentIds).prepare(undefined as unknown as string) : namedAccessStatement(query.includeFree, subscribed)).execute(values);

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

// Prepared statements, named so each pooled Postgres connection parses and plans them once: the
// union below took longer to plan (~2 ms) than to run (~0.6 ms). Wallet and time are placeholders.
const WALLET = sql.placeholder("wallet");
const NOW = sql.placeholder("now");
const subscriptionStatement = db.select().from(subscription).where(eq(subscription.id, WALLET)).limit(1).prepare("sv_access_subscription");
const accessStatements = new Map<string, ReturnType<ReturnType<typeof accessQuery>["prepare"]>>();
function namedAccessStatement(includeFree: boolean, subscribed: boolean) {
  const name = `sv_access_${includeFree ? "free" : "paid"}_${subscribed ? "subscribed" : "none"}`;
  let statement = accessStatements.get(name);
  if (statement === undefined) accessStatements.set(name, (statement = accessQuery(includeFree, subscribed).prepare(name)));
  return statement;
}

/** Every content the wallet reaches by some reason, with what the reasons need to be told apart. */
function accessQuery(includeFree: boolean, subscribed: boolean, contentIds?: `0x${string}`[]) {
  // The contents any reason reaches, one index-backed branch per reason (creator; coins and passes
  // held, through the creator's coin and pass; purchases; free and subscription contents when they
  // apply). One OR across the joined tables below made Postgres read every content row instead.
  const branches = [
    db.select({ id: content.id }).from(content).where(eq(content.creator, WALLET)),
    db
      .select({ id: content.id })
      .from(coinHolding)
      .innerJoin(creator, eq(creator.coin, coinHolding.coin))
      .innerJoin(content, eq(content.creator, creator.id))
      .where(and(eq(coinHolding.holder, WALLET), gt(content.minCoinBalance, 0n), gte(coinHolding.balance, content.minCoinBalance))),
    db
      .select({ id: content.id })
      .from(passHolding)
      .innerJoin(creator, eq(creator.pass, passHolding.pass))
      .innerJoin(content, eq(content.creator, creator.id))
      .where(and(eq(passHolding.holder, WALLET), gt(content.minPasses, 0n), gte(passHolding.count, content.minPasses))),
    db.select({ id: accessGrant.contentId }).from(accessGrant).where(and(eq(accessGrant.buyer, WALLET), gt(accessGrant.expiresAt, NOW))),
    ...(includeFree ? [db.select({ id: content.id }).from(content).where(eq(content.tier, 0))] : []),
    ...(subscribed ? [db.select({ id: content.id }).from(content).where(eq(content.inSubscription, true))] : []),
  ];
  // Every branch selects { id }; drizzle types each by the tables it reads, hence the cast.
  const reached = inArray(content.id, union(...(branches as [never, never, ...never[]])));
  return db
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
    .leftJoin(coinHolding, and(eq(coinHolding.coin, creator.coin), eq(coinHolding.holder, WALLET)))
    .leftJoin(passHolding, and(eq(passHolding.pass, creator.pass), eq(passHolding.holder, WALLET)))
    .leftJoin(accessGrant, and(eq(accessGrant.contentId, content.id), eq(accessGrant.buyer, WALLET)))
    .where(contentIds ? and(inArray(content.id, contentIds), reached) : reached)
    .orderBy(content.registeredBlock, content.id);
}
