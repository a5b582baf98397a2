/**
 * Placement policy that acts: per item, from its tier and its real plays over a window, how many
 * copies each of its pieces must have and whether the item is served through the CDN; and the
 * moves (add a copy, drop a copy, CDN on/off) that take the current placement there, each with its
 * monthly saving from the cost model in ../cost.ts. Pure: no I/O, so the CLI, the studio and tests
 * call it freely; applying the moves is apply.ts.
 */
import { DEFAULT_PRICE_LIST, TIB } from "../cost.ts";
import type { PriceList } from "../cost.ts";

/** Access tiers of content, plus catalogue backups (BackupRegistry snapshots). */
export type PlacementTier = "free" | "premium" | "exclusive" | "backup";

export interface TierRule {
  /** Copies of every piece while the item is played (warm or hot). */
  copies: number;
  /** Copies a cold item keeps: the tier's floor, never gone below. */
  floor: number;
  /** Whether the item may be served through the CDN (when hot). */
  cdn: boolean;
}

export interface PlacementConfig {
  tiers: Record<PlacementTier, TierRule>;
  /** Plays per month at or above which an item is hot (gains CDN). */
  hotPlaysPerMonth: number;
  /** Plays per month below which an item is cold (drops to its tier's floor). */
  coldPlaysPerMonth: number;
  /** Days of plays the decision looks at; plays in the window are scaled to a 30-day month. */
  windowDays: number;
  /**
   * Backend names in order of preference: copies are added to the first ones that lack the piece
   * and dropped from the last ones that hold it (the first backend is the primary copy).
   */
  backends: string[];
  prices: PriceList;
  /** Fraction of CDN traffic that misses the cache (extra provider egress). */
  cacheMissRatio: number;
  /** Average fraction of an item a play fetches. */
  fractionPerPlay: number;
}

/**
 * Defaults: exclusive content is never lost (3 copies even when cold) and never on the CDN;
 * free and premium content is served through the CDN when hot; catalogue backups keep 5 copies.
 */
export const DEFAULT_TIER_RULES: Record<PlacementTier, TierRule> = {
  free: { copies: 2, floor: 1, cdn: true },
  premium: { copies: 2, floor: 2, cdn: true },
  exclusive: { copies: 3, floor: 3, cdn: false },
  backup: { copies: 5, floor: 5, cdn: false },
};

export function placementConfig(backends: string[], overrides: Partial<Omit<PlacementConfig, "backends">> = {}): PlacementConfig {
  const config: PlacementConfig = {
    tiers: DEFAULT_TIER_RULES,
    hotPlaysPerMonth: 100,
    coldPlaysPerMonth: 5,
    windowDays: 30,
    prices: DEFAULT_PRICE_LIST,
    cacheMissRatio: 1,
    fractionPerPlay: 1,
    ...overrides,
    backends,
  };
  validateConfig(config);
  return config;
}

export interface PlacementPiece {
  pieceCid: string;
  bytes: number;
}

export interface PlacementItem {
  /** Content id (0x...), or `backup:<index>` for a snapshot. */
  id: string;
  title?: string;
  tier: PlacementTier;
  pieces: PlacementPiece[];
}

/** Where things are now: backends holding each piece, and the items served through the CDN. */
export interface CurrentPlacement {
  copies: Record<string, string[]>;
  cdn: Record<string, boolean>;
}

export type Heat = "hot" | "warm" | "cold";

export interface ItemDecision {
  itemId: string;
  tier: PlacementTier;
  heat: Heat;
  playsInWindow: number;
  playsPerMonth: number;
  /** Copies every piece should have (before capping at the number of backends). */
  copies: number;
  cdn: boolean;
  reason: string;
  /** Set when there are fewer backends than the copies the policy wants. */
  shortfall?: string;
}

export type MoveKind = "add-copy" | "drop-copy" | "cdn-on" | "cdn-off";

export interface PlacementMove {
  kind: MoveKind;
  itemId: string;
  title?: string;
  tier: PlacementTier;
  /** The piece copied or dropped (copy moves only). */
  pieceCid?: string;
  /** Backend receiving (add-copy) or losing (drop-copy) the copy. */
  backend?: string;
  /** add-copy: backend the bytes are read from. */
  source?: string;
  /** e.g. "2 copies" -> "3 copies", "CDN off" -> "CDN on". */
  from: string;
  to: string;
  /** Copies the piece should have once the move is done (copy moves). */
  targetCopies?: number;
  reason: string;
  /** USDFC per month saved by the move (negative: it costs that much more). */
  monthlySaving: number;
  bytes: number;
}

/** Heat, copies and CDN the policy wants for one item. */
export function decideItem(item: PlacementItem, playsInWindow: number, config: PlacementConfig): ItemDecision {
  const rule = config.tiers[item.tier];
  if (!rule) throw new RangeError(`item ${item.id}: unknown tier "${item.tier}" (expected ${Object.keys(config.tiers).join(", ")})`);
  if (!(playsInWindow >= 0)) throw new RangeError(`item ${item.id}: plays must be a non-negative number, got ${playsInWindow}`);
  const playsPerMonth = (playsInWindow * 30) / config.windowDays;
  const heat: Heat = playsPerMonth >= config.hotPlaysPerMonth ? "hot" : playsPerMonth < config.coldPlaysPerMonth ? "cold" : "warm";
  const copies = heat === "cold" ? rule.floor : rule.copies;
  const cdn = rule.cdn && heat === "hot";
  const rate = `${round(playsPerMonth)} plays/month`;
  const n = `${copies} cop${copies === 1 ? "y" : "ies"}`;
  let reason: string;
  if (item.tier === "backup") reason = `backup: ${n}`;
  else if (heat === "cold") reason = `cold (${rate} < ${config.coldPlaysPerMonth}): ${item.tier} floor ${n}`;
  else if (heat === "hot") reason = `hot (${rate} >= ${config.hotPlaysPerMonth}): ${n}, ${cdn ? "serve via CDN" : `no CDN for ${item.tier}`}`;
  else reason = `warm (${rate}): ${item.tier} ${n}`;
  const decision: ItemDecision = { itemId: item.id, tier: item.tier, heat, playsInWindow, playsPerMonth, copies, cdn, reason };
  if (copies > config.backends.length) decision.shortfall = `${item.tier} wants ${copies} copies but only ${config.backends.length} backend(s) are configured (${config.backends.join(", ") || "none"})`;
  return decision;
}

/** Monthly storage cost of one copy of `bytes`. */
export function copyMonthlyCost(bytes: number, prices: PriceList = DEFAULT_PRICE_LIST): number {
  return (bytes / TIB) * prices.storagePerTiBMonth;
}

/** Monthly CDN egress of an item of `bytes` played `playsPerMonth` times. */
export function cdnMonthlyCost(bytes: number, playsPerMonth: number, config: Pick<PlacementConfig, "prices" | "cacheMissRatio" | "fractionPerPlay">): number {
  const servedTiB = (bytes * playsPerMonth * config.fractionPerPlay) / TIB;
  return servedTiB * (config.prices.cdnEgressPerTiB + config.cacheMissRatio * config.prices.cacheMissEgressPerTiB);
}

/**
 * The moves that take `current` to what the policy wants, for every item: per piece, copies added
 * to the first preferred backends lacking it (read from the first one holding it) or dropped from
 * the last ones holding it; per item, CDN switched on or off. A piece held nowhere gets no move
 * (nothing to copy from). Deterministic: the same inputs give the same moves in the same order.
 * `plays` are the item's plays in the last `config.windowDays` days (absent = 0).
 */
export function planPlacement(items: readonly PlacementItem[], plays: Readonly<Record<string, number>>, current: CurrentPlacement, config: PlacementConfig): PlacementMove[] {
  validateConfig(config);
  const decisions = items.map((item) => decideItem(item, plays[item.id] ?? 0, config));
  // A piece shared by several items (the same cover art on every track of an album) keeps the
  // copies of the most demanding one: otherwise a cold free track would drop what an exclusive one
  // needs, and the next run would add it back.
  const owner = new Map<string, { index: number; want: number; bytes: number }>();
  items.forEach((item, index) => {
    const want = Math.min(decisions[index]!.copies, config.backends.length);
    for (const piece of item.pieces) {
      const o = owner.get(piece.pieceCid);
      if (!o || want > o.want) owner.set(piece.pieceCid, { index, want, bytes: piece.bytes });
    }
  });
  const moves: PlacementMove[] = [];
  const label = (n: number) => `${n} cop${n === 1 ? "y" : "ies"}`;
  items.forEach((item, index) => {
    const decision = decisions[index]!;
    const base = { itemId: item.id, title: item.title, tier: item.tier };
    for (const piece of item.pieces) {
      const o = owner.get(piece.pieceCid)!;
      if (o.index !== index) continue;
      owner.set(piece.pieceCid, { ...o, index: -1 }); // a piece listed twice in one item is planned once
      const want = o.want;
      const holders = current.copies[piece.pieceCid] ?? [];
      // Copies on backends the policy does not know are left alone and not counted.
      const held = config.backends.filter((b) => holders.includes(b));
      if (held.length === 0) continue;
      const saving = copyMonthlyCost(piece.bytes, config.prices);
      if (held.length < want) {
        const missing = config.backends.filter((b) => !held.includes(b)).slice(0, want - held.length);
        missing.forEach((backend, i) => {
          moves.push({ ...base, kind: "add-copy", pieceCid: piece.pieceCid, backend, source: held[0], from: label(held.length + i), to: label(held.length + i + 1), targetCopies: want, reason: decision.reason, monthlySaving: -saving, bytes: piece.bytes });
        });
      } else if (held.length > want) {
        const extra = [...held].reverse().slice(0, held.length - want);
        extra.forEach((backend, i) => {
          moves.push({ ...base, kind: "drop-copy", pieceCid: piece.pieceCid, backend, from: label(held.length - i), to: label(held.length - i - 1), targetCopies: want, reason: decision.reason, monthlySaving: saving, bytes: piece.bytes });
        });
      }
    }
    const cdnNow = current.cdn[item.id] === true;
    if (cdnNow !== decision.cdn) {
      const bytes = item.pieces.reduce((n, p) => n + p.bytes, 0);
      const egress = cdnMonthlyCost(bytes, decision.playsPerMonth, config);
      const reason = decision.cdn ? decision.reason : !config.tiers[item.tier].cdn ? `${item.tier}: never on the CDN` : `${decision.heat} (${round(decision.playsPerMonth)} plays/month, CDN from ${config.hotPlaysPerMonth}): CDN off`;
      moves.push({ ...base, kind: decision.cdn ? "cdn-on" : "cdn-off", from: cdnNow ? "CDN on" : "CDN off", to: decision.cdn ? "CDN on" : "CDN off", reason, monthlySaving: decision.cdn ? -egress : egress, bytes });
    }
  });
  return moves;
}

/** Total monthly saving of a plan. */
export function planSaving(moves: readonly PlacementMove[]): number {
  return moves.reduce((n, m) => n + m.monthlySaving, 0);
}

function validateConfig(config: PlacementConfig): void {
  for (const [tier, rule] of Object.entries(config.tiers)) {
    if (!Number.isInteger(rule.copies) || !Number.isInteger(rule.floor) || rule.floor < 1 || rule.floor > rule.copies) {
      throw new RangeError(`placement tier ${tier}: copies and floor must be integers with 1 <= floor <= copies (got copies ${rule.copies}, floor ${rule.floor})`);
    }
  }
  if (!(config.windowDays > 0)) throw new RangeError(`placement windowDays must be positive, got ${config.windowDays}`);
  if (!(config.coldPlaysPerMonth <= config.hotPlaysPerMonth)) throw new RangeError(`placement coldPlaysPerMonth (${config.coldPlaysPerMonth}) must not exceed hotPlaysPerMonth (${config.hotPlaysPerMonth})`);
  if (new Set(config.backends).size !== config.backends.length) throw new RangeError(`placement backends must have distinct names, got ${config.backends.join(", ")}`);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
