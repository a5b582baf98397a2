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
  /** Per backend: the catalogue's pieces it holds and their bytes (asked live). */
  backendStats: { backend: string; pieces: number; bytes: number }[];
  windowDays: number;
  items: StorageReportItem[];
  totals: { bytes: number; storedBytes: number; storage: number; egress: number; total: number };
  suggestions: Suggestion[];
  /** Monthly saving if every suggestion is applied (negative: CDN for hot items costs more). */
  suggestedSaving: number;
  history: MonthCost[];
  /** Latest journaled moves, newest first; one row per item, kind and backend of a run (its pieces counted). */
  recentMoves: RecentMove[];
}

export interface RecentMove extends Omit<JournalEntry, "pieceCid" | "source"> {
  pieces: number;
}

/** Journal lines of one run (same item, kind, backend and actor within a minute) folded into one row. */
export function groupJournal(entries: readonly JournalEntry[], limit = 20): RecentMove[] {
  const out: RecentMove[] = [];
  for (const e of [...entries].reverse()) {
    const last = out.at(-1);
    if (last && last.itemId === e.itemId && last.kind === e.kind && last.backend === e.backend && last.by === e.by && Math.abs(Date.parse(last.at) - Date.parse(e.at)) < 60_000) {
      last.pieces += e.pieceCid ? 1 : 0;
      last.bytes += e.bytes;
      last.monthlySaving += e.monthlySaving;
      last.from = e.from; // walking back in time: the earliest state
      continue;
    }
    if (out.length === limit) break;
    const { pieceCid, source: _source, ...rest } = e;
    out.push({ ...rest, pieces: pieceCid ? 1 : 0 });
  }
  return out;
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
  const pieceBytes = new Map(items.flatMap((i) => i.pieces.map((p) => [p.pieceCid, p.bytes] as const)));
  const backendStats = config.backends.map((backend) => {
    let pieces = 0;
    let bytes = 0;
    for (const [cid, size] of pieceBytes) {
      if ((current.copies[cid] ?? []).includes(backend)) {
        pieces++;
        bytes += size;
      }
    }
    return { backend, pieces, bytes };
  });
  return {
    backends: [...config.backends],
    backendStats,
    windowDays: config.windowDays,
    items: reportItems,
    totals: { bytes: sum((i) => i.bytes), storedBytes: sum((i) => i.storedBytes), storage: sum((i) => i.storage), egress: sum((i) => i.egress), total: sum((i) => i.total) },
    suggestions: [...groups.values()],
    suggestedSaving: moves.reduce((n, m) => n + m.monthlySaving, 0),
    history: costHistory(items, journal, current, rate, config, { now: options.now }),
    recentMoves: groupJournal(journal, options.recent ?? 20),
  };
}
