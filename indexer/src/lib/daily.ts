/** Upserts of the daily platform tables; each handler adds what its own event says. */
import type { Context } from "ponder:registry";
import { dailyStat, dailyVolume } from "ponder:schema";
import { dayOf, lc } from "./util";

type Db = Context["db"];
type StatCounter = Exclude<keyof typeof dailyStat.$inferInsert, "id" | "dayStart">;
type VolumeField = Exclude<keyof typeof dailyVolume.$inferInsert, "day" | "token" | "dayStart">;

const ZERO_STATS = {
  creatorsLaunched: 0,
  contentsRegistered: 0,
  purchases: 0,
  subscriptions: 0,
  passesMinted: 0,
  coinTransfers: 0,
  passTransfers: 0,
  channelsOpened: 0,
  channelsClosed: 0,
  vouchersRedeemed: 0,
  backupsAnchored: 0,
  withdrawals: 0,
} satisfies Record<StatCounter, number>;

const ZERO_VOLUME = {
  purchaseVolume: 0n,
  subscriptionVolume: 0n,
  passMintVolume: 0n,
  streamingVolume: 0n,
  platformFees: 0n,
  creatorEarnings: 0n,
  collaboratorEarnings: 0n,
  refunds: 0n,
  withdrawn: 0n,
} satisfies Record<VolumeField, bigint>;

export async function countDaily(db: Db, timestamp: bigint, field: StatCounter, by = 1): Promise<void> {
  const { day, dayStart } = dayOf(timestamp);
  await db
    .insert(dailyStat)
    .values({ id: day, dayStart, ...ZERO_STATS, [field]: by })
    .onConflictDoUpdate((row) => ({ [field]: row[field] + by }));
}

export async function addVolume(db: Db, timestamp: bigint, token: string, field: VolumeField, amount: bigint): Promise<void> {
  const { day, dayStart } = dayOf(timestamp);
  await db
    .insert(dailyVolume)
    .values({ day, token: lc(token), dayStart, ...ZERO_VOLUME, [field]: amount })
    .onConflictDoUpdate((row) => ({ [field]: row[field] + amount }));
}
