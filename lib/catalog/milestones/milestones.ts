/**
 * Milestone watcher: anchors a backup when a configured threshold is crossed (plays, revenue,
 * coin holders, pass holders) and once per calendar quarter. `checkMilestones` is pure (tests
 * and the CLI share it); `runMilestoneCheck` reads metrics from the chain and anchors.
 */
import { readFileSync } from "node:fs";
import { z } from "zod/v4";
import { zeroAddress, type Hex } from "viem";
import type { PieceStore } from "../../storage/types.ts";
import type { ChainContext } from "../chain/client.ts";
import { createBackup, listAnchors, readMetrics } from "../backup/snapshot.ts";
import type { AnchoredBackup, TriggerName } from "../backup/snapshot.ts";
import type { CreatorEscrow } from "../../keys/escrow.ts";
import type { JournalItem } from "../uploads/journal.ts";
import { writeFileAtomic } from "../uploads/journal.ts";

const thresholds = z.array(z.union([z.number().nonnegative(), z.string().regex(/^\d+$/)])).default([]);
export const MilestoneConfigSchema = z.strictObject({
  plays: thresholds,
  /** smallest units of `revenueToken` credited to the creator (all time) */
  revenue: thresholds,
  /** "native" or an ERC-20 address */
  revenueToken: z.string().default("native"),
  coinHolders: thresholds,
  passHolders: thresholds,
  quarterly: z.boolean().default(true),
});
export type MilestoneConfig = z.infer<typeof MilestoneConfigSchema>;

export const DEFAULT_MILESTONES: MilestoneConfig = {
  plays: [100, 1_000, 10_000, 100_000],
  revenue: [],
  revenueToken: "native",
  coinHolders: [10, 100, 1_000],
  passHolders: [10, 100, 1_000],
  quarterly: true,
};

export interface Metrics {
  plays: bigint;
  revenue: bigint;
  coinHolders: bigint;
  passHolders: bigint;
}

export interface MilestoneState {
  /** highest threshold already anchored per metric */
  crossed: Partial<Record<keyof Metrics, string>>;
}

export interface MilestoneHit {
  metric: keyof Metrics | "quarterly";
  trigger: TriggerName;
  /** the threshold crossed (quarterly: the quarter's start as unix seconds) */
  value: bigint;
}

const TRIGGER_OF: Record<keyof Metrics, TriggerName> = { plays: "play", revenue: "revenue", coinHolders: "follower", passHolders: "follower" };

/** "2026-Q4" */
export function quarterOf(unixSeconds: number): { label: string; start: number } {
  const d = new Date(unixSeconds * 1000);
  const q = Math.floor(d.getUTCMonth() / 3);
  return { label: `${d.getUTCFullYear()}-Q${q + 1}`, start: Date.UTC(d.getUTCFullYear(), q * 3, 1) / 1000 };
}

/**
 * Which anchors are due: for each metric the highest configured threshold that the metric has
 * reached and that was not anchored before; plus "quarterly" when no backup was anchored in the
 * current quarter (`lastAnchoredAt` in unix seconds, undefined = never).
 */
export function checkMilestones(metrics: Metrics, config: MilestoneConfig, state: MilestoneState, now: number, lastAnchoredAt: number | undefined): MilestoneHit[] {
  const hits: MilestoneHit[] = [];
  for (const metric of ["plays", "revenue", "coinHolders", "passHolders"] as const) {
    const previous = BigInt(state.crossed[metric] ?? "0");
    const reached = config[metric].map((t) => BigInt(t)).filter((t) => t > 0n && t > previous && metrics[metric] >= t);
    if (reached.length > 0) hits.push({ metric, trigger: TRIGGER_OF[metric], value: reached.reduce((a, b) => (a > b ? a : b)) });
  }
  const quarter = quarterOf(now);
  if (config.quarterly && (lastAnchoredAt === undefined || lastAnchoredAt < quarter.start)) hits.push({ metric: "quarterly", trigger: "quarterly", value: BigInt(quarter.start) });
  return hits;
}

export function loadMilestoneConfig(file: string | undefined): MilestoneConfig {
  if (!file) return DEFAULT_MILESTONES;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return DEFAULT_MILESTONES;
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const parsed = MilestoneConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file} is not a milestone config: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

export function loadState(file: string): MilestoneState {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as MilestoneState;
  } catch {
    return { crossed: {} };
  }
}

export interface CheckResult {
  metrics: Record<keyof Metrics, string>;
  hits: { metric: string; trigger: TriggerName; value: string }[];
  anchored: AnchoredBackup[];
}

/** Read metrics, anchor what is due (one backup per hit, in order), persist the state. */
export async function runMilestoneCheck(
  ctx: ChainContext,
  store: PieceStore,
  journalItems: JournalItem[],
  /** `plays`: a number, or read for the creator's items (content ids from the chain), e.g. from the key-release server (./plays.ts). */
  /** `escrow`: the creator's key escrow to carry in each snapshot (KeyStore.escrowOf), read only when a backup is due. */
  options: { config: MilestoneConfig; stateFile: string; plays: bigint | ((contentIds: Hex[]) => Promise<bigint>); now?: number; escrow?: () => Promise<CreatorEscrow | undefined> },
): Promise<CheckResult> {
  const m = await readMetrics(ctx);
  const token = options.config.revenueToken === "native" ? zeroAddress : options.config.revenueToken.toLowerCase();
  const revenue = Object.entries(m.revenueByToken).filter(([t]) => t.toLowerCase() === token).reduce((s, [, v]) => s + v, 0n);
  const plays = typeof options.plays === "bigint" ? options.plays : await options.plays(m.contentIds);
  const metrics: Metrics = { plays, revenue, coinHolders: BigInt(m.coinHolders), passHolders: BigInt(m.passHolders) };
  const anchors = await listAnchors(ctx);
  const last = anchors.at(-1)?.anchoredAt;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const state = loadState(options.stateFile);
  const hits = checkMilestones(metrics, options.config, state, now, last);
  const anchored: AnchoredBackup[] = [];
  const escrow = hits.length > 0 ? await options.escrow?.() : undefined;
  for (const hit of hits) {
    anchored.push(await createBackup(ctx, store, journalItems, { trigger: hit.trigger, milestoneValue: hit.value, plays: Number(plays), escrow }));
    if (hit.metric !== "quarterly") state.crossed[hit.metric] = hit.value.toString();
    writeFileAtomic(options.stateFile, JSON.stringify(state, null, 2) + "\n");
  }
  return {
    metrics: { plays: metrics.plays.toString(), revenue: metrics.revenue.toString(), coinHolders: metrics.coinHolders.toString(), passHolders: metrics.passHolders.toString() },
    hits: hits.map((h) => ({ metric: h.metric, trigger: h.trigger, value: h.value.toString() })),
    anchored,
  };
}
