/**
 * The studio's storage report, in one call: per item the real monthly cost (bytes and copies as
 * stored now), what the policy wants and why, the grouped suggestions (the dry-run plan), 12 months
 * of cost history and the latest journaled moves. The web route only gathers the inputs.
 */
import { readCurrentPlacement } from "./apply.ts";
import { costHistory, realItemCost } from "./history.ts";
import type { HistoryItem, MonthCost, RealItemCost } from "./history.ts";
import type { JournalEntry } from "./journal.ts";
import { decideItem, planPlacement } from "./policy.ts";
import type { Heat, MoveKind, PlacementConfig, PlacementTier } from "./policy.ts";
import type { PlacementTarget } from "./target.ts";

export interface StorageReportItem extends RealItemCost {
  title?: string;
  tier: PlacementTier;
  uploadedAt: string;
  pieces: number;
  heat: Heat;
  playsInWindow: number;
  playsPerMonth: number;
  wantCopies: number;
  wantCdn: boolean;
  reason: string;
  shortfall?: string;
}

export interface Suggestion {
  itemId: string;
  title?: string;
  tier: PlacementTier;
  kind: MoveKind;
  /** Backend gaining or losing copies ("CDN" for CDN moves). */
  backend: string;
  pieces: number;
  bytes: number;
  from: string;
  to: string;
  monthlySaving: number;
  reason: string;
}

export interface StorageReport {
  backends: string[];
  windowDays: number;
  items: StorageReportItem[];
  totals: { bytes: number; storedBytes: number; storage: number; egress: number; total: number };
  suggestions: Suggestion[];
  /** Monthly saving if every suggestion is applied (negative: CDN for hot items costs more). */
  suggestedSaving: number;
  history: MonthCost[];
  /** Latest journaled moves, newest first. */
  recentMoves: JournalEntry[];
}

export async function storageReport(
  items: readonly HistoryItem[],
  plays: Readonly<Record<string, number>>,
  target: PlacementTarget,
  config: PlacementConfig,
  journal: readonly JournalEntry[],
  options: { now?: number; recent?: number } = {},
): Promise<StorageReport> {
  const current = await readCurrentPlacement(items, target);
  const decisions = items.map((item) => decideItem(item, plays[item.id] ?? 0, config));
  const rate = Object.fromEntries(decisions.map((d) => [d.itemId, d.playsPerMonth]));
  const reportItems = items.map((item, i): StorageReportItem => {
    const d = decisions[i]!;
    return {
      ...realItemCost(item, current, d.playsPerMonth, config),
      title: item.title,
      tier: item.tier,
      uploadedAt: new Date(item.uploadedAt).toISOString(),
      pieces: item.pieces.length,
      heat: d.heat,
      playsInWindow: d.playsInWindow,
      playsPerMonth: d.playsPerMonth,
      wantCopies: Math.min(d.copies, config.backends.length),
      wantCdn: d.cdn,
      reason: d.reason,
      ...(d.shortfall ? { shortfall: d.shortfall } : {}),
    };
  });
  const moves = planPlacement(items, plays, current, config);
  const groups = new Map<string, Suggestion>();
  for (const m of moves) {
    const key = `${m.itemId}|${m.kind}|${m.backend ?? ""}`;
    const g = groups.get(key);
    if (g) {
      g.pieces += 1;
      g.bytes += m.bytes;
      g.monthlySaving += m.monthlySaving;
      g.to = m.to;
    } else {
      groups.set(key, { itemId: m.itemId, title: m.title, tier: m.tier, kind: m.kind, backend: m.backend ?? "CDN", pieces: m.pieceCid ? 1 : 0, bytes: m.bytes, from: m.from, to: m.to, monthlySaving: m.monthlySaving, reason: m.reason });
    }
  }
  const sum = (f: (i: StorageReportItem) => number) => reportItems.reduce((n, i) => n + f(i), 0);
  return {
    backends: [...config.backends],
    windowDays: config.windowDays,
    items: reportItems,
    totals: { bytes: sum((i) => i.bytes), storedBytes: sum((i) => i.storedBytes), storage: sum((i) => i.storage), egress: sum((i) => i.egress), total: sum((i) => i.total) },
    suggestions: [...groups.values()],
    suggestedSaving: moves.reduce((n, m) => n + m.monthlySaving, 0),
    history: costHistory(items, journal, current, rate, config, { now: options.now }),
    recentMoves: [...journal].reverse().slice(0, options.recent ?? 20),
  };
}
