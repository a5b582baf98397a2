/**
 * What storage really costs per item (from the bytes and copies actually stored, not from the tier),
 * and the cost of the last 12 months rebuilt from the upload dates and the placement journal: the
 * copies of each item are known now and every change since upload is a journal line, so walking the
 * journal back gives the copies (and CDN state) at any time. Pure.
 */
import type { JournalEntry } from "./journal.ts";
import { cdnMonthlyCost, copyMonthlyCost } from "./policy.ts";
import type { CurrentPlacement, PlacementConfig, PlacementItem } from "./policy.ts";

export interface RealItemCost {
  itemId: string;
  /** Bytes of one copy of every piece. */
  bytes: number;
  /** Bytes stored across all copies. */
  storedBytes: number;
  /** Fewest and most copies among the item's pieces (0: a piece is on no backend). */
  minCopies: number;
  maxCopies: number;
  cdn: boolean;
  /** USDFC per month. */
  storage: number;
  egress: number;
  total: number;
}

/** Monthly cost of an item as it is stored now. `playsPerMonth` only matters when it is on the CDN. */
export function realItemCost(item: PlacementItem, current: CurrentPlacement, playsPerMonth: number, config: Pick<PlacementConfig, "prices" | "cacheMissRatio" | "fractionPerPlay">): RealItemCost {
  const counts = item.pieces.map((p) => (current.copies[p.pieceCid] ?? []).length);
  const bytes = item.pieces.reduce((n, p) => n + p.bytes, 0);
  const storedBytes = item.pieces.reduce((n, p, i) => n + p.bytes * counts[i]!, 0);
  const cdn = current.cdn[item.id] === true;
  const storage = copyMonthlyCost(storedBytes, config.prices);
  const egress = cdn ? cdnMonthlyCost(bytes, playsPerMonth, config) : 0;
  return {
    itemId: item.id,
    bytes,
    storedBytes,
    minCopies: counts.length ? Math.min(...counts) : 0,
    maxCopies: counts.length ? Math.max(...counts) : 0,
    cdn,
    storage,
    egress,
    total: storage + egress,
  };
}

export interface HistoryItem extends PlacementItem {
  /** When the item was uploaded (ms since epoch); nothing is charged before. */
  uploadedAt: number;
}

export interface MonthCost {
  /** "YYYY-MM" (UTC). */
  month: string;
  storage: number;
  egress: number;
  total: number;
  /** Bytes stored across all copies at the end of the month (or now). */
  storedBytes: number;
}

const MONTH_MS = 30 * 24 * 3600 * 1000;

/**
 * Cost incurred in each of the last `months` calendar months (UTC; the current one up to `now`),
 * oldest first. Storage follows the copies over time; CDN egress is charged at the item's current
 * play rate while it was on the CDN (plays are not kept per month).
 */
export function costHistory(
  items: readonly HistoryItem[],
  journal: readonly JournalEntry[],
  current: CurrentPlacement,
  playsPerMonth: Readonly<Record<string, number>>,
  config: Pick<PlacementConfig, "prices" | "cacheMissRatio" | "fractionPerPlay">,
  options: { now?: number; months?: number } = {},
): MonthCost[] {
  const now = options.now ?? Date.now();
  const count = options.months ?? 12;
  const end = new Date(now);
  const bounds: { month: string; start: number; end: number }[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const start = Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - i, 1);
    const next = Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - i + 1, 1);
    bounds.push({ month: new Date(start).toISOString().slice(0, 7), start, end: Math.min(next, now) });
  }
  const out: MonthCost[] = bounds.map((b) => ({ month: b.month, storage: 0, egress: 0, total: 0, storedBytes: 0 }));

  for (const item of items) {
    const entries = journal.filter((e) => e.itemId === item.id && Date.parse(e.at) >= item.uploadedAt).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const pieceBytes = new Map(item.pieces.map((p) => [p.pieceCid, p.bytes]));
    const nowCost = realItemCost(item, current, playsPerMonth[item.id] ?? 0, config);
    // Step changes of (stored bytes, CDN) after upload; the state at upload is now minus them all.
    const steps = entries.map((e) => {
      const bytes = e.pieceCid !== undefined ? pieceBytes.get(e.pieceCid) ?? e.bytes : 0;
      return { at: Date.parse(e.at), delta: e.kind === "add-copy" ? bytes : e.kind === "drop-copy" ? -bytes : 0, cdn: e.kind === "cdn-on" ? true : e.kind === "cdn-off" ? false : undefined };
    });
    let stored = Math.max(0, nowCost.storedBytes - steps.reduce((n, s) => n + s.delta, 0));
    const firstCdn = steps.find((s) => s.cdn !== undefined);
    let cdn = firstCdn ? !firstCdn.cdn : nowCost.cdn;
    const segments: { from: number; to: number; stored: number; cdn: boolean }[] = [];
    let from = item.uploadedAt;
    for (const s of steps) {
      segments.push({ from, to: s.at, stored, cdn });
      stored = Math.max(0, stored + s.delta);
      if (s.cdn !== undefined) cdn = s.cdn;
      from = s.at;
    }
    segments.push({ from, to: now, stored, cdn });
    const egressRate = cdnMonthlyCost(nowCost.bytes, playsPerMonth[item.id] ?? 0, config);
    bounds.forEach((b, i) => {
      for (const seg of segments) {
        const overlap = Math.min(seg.to, b.end) - Math.max(seg.from, b.start);
        if (overlap <= 0) continue;
        out[i]!.storage += copyMonthlyCost(seg.stored, config.prices) * (overlap / MONTH_MS);
        if (seg.cdn) out[i]!.egress += egressRate * (overlap / MONTH_MS);
      }
      const last = [...segments].reverse().find((s) => s.from < b.end);
      if (last && item.uploadedAt < b.end) out[i]!.storedBytes += last.stored;
    });
  }
  for (const m of out) m.total = m.storage + m.egress;
  return out;
}
