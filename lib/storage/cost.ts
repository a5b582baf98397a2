/**
 * Storage cost model and placement policy. Pure functions: no I/O, so the UI, CLI and
 * tests can call them freely. Prices are in USDFC (floats are fine for estimates); a live
 * price list comes from `fetchPriceList()` in synapse.ts.
 *
 * Model (Filecoin warm storage, FWSS):
 * - storage is charged per TiB per month per copy; every data set (one per provider copy,
 *   CDN and non-CDN data sets are separate) pays at least a monthly minimum;
 * - CDN (FilBeam) egress is charged per TiB served, plus cache-miss egress when FilBeam has
 *   to fetch from the provider; provider-direct retrieval is not metered.
 */

export interface PriceList {
  /** USDFC per TiB per month, per copy. */
  storagePerTiBMonth: number;
  /** USDFC per TiB served by the CDN. */
  cdnEgressPerTiB: number;
  /** USDFC per TiB the CDN fetches from the provider on a cache miss. */
  cacheMissEgressPerTiB: number;
  /** Floor per data set per month. */
  minimumPerDataSetMonth: number;
}

/** Calibration/mainnet list prices at the time of writing (CDN worst case 7+7 = 14/TiB). */
export const DEFAULT_PRICE_LIST: PriceList = {
  storagePerTiBMonth: 2.5,
  cdnEgressPerTiB: 7,
  cacheMissEgressPerTiB: 7,
  minimumPerDataSetMonth: 0.06,
};

export const TIB = 2 ** 40;

export interface MediaItem {
  id: string;
  /** Stored (encrypted) bytes. */
  bytes: number;
  /** Expected plays per month. */
  playsPerMonth: number;
  /** Average fraction of the file a play fetches (seek/skip); default 1. */
  fractionPerPlay?: number;
  /** Paid/exclusive content: losing it breaks a purchase, so it gets more copies. */
  exclusive?: boolean;
}

export interface PlacementPolicy {
  /** Plays/month at or above which content is hot (served via CDN). Default 100. */
  hotPlaysPerMonth: number;
  /** Plays/month below which content is cold. Default 5. */
  coldPlaysPerMonth: number;
  /** Copies for ordinary content. Default 2. */
  defaultCopies: number;
  /** Copies for cold, non-exclusive content. Default 1. */
  coldCopies: number;
  /** Copies for exclusive content. Default 3. */
  exclusiveCopies: number;
  /** Fraction of CDN traffic that misses FilBeam's cache. Default 1 (worst case). */
  cacheMissRatio: number;
}

export const DEFAULT_POLICY: PlacementPolicy = {
  hotPlaysPerMonth: 100,
  coldPlaysPerMonth: 5,
  defaultCopies: 2,
  coldCopies: 1,
  exclusiveCopies: 3,
  cacheMissRatio: 1,
};

export type Tier = "hot" | "warm" | "cold";

export interface Placement {
  tier: Tier;
  copies: number;
  cdn: boolean;
  /** Human-readable reasons, for UI tooltips and logs. */
  reasons: string[];
}

/** Suggest copies and CDN for one item: hot -> CDN, cold -> fewer copies, exclusive -> more copies. */
export function suggestPlacement(item: MediaItem, policy: Partial<PlacementPolicy> = {}): Placement {
  const p = { ...DEFAULT_POLICY, ...policy };
  const tier: Tier =
    item.playsPerMonth >= p.hotPlaysPerMonth ? "hot" : item.playsPerMonth < p.coldPlaysPerMonth ? "cold" : "warm";
  const reasons: string[] = [];
  let copies = p.defaultCopies;
  if (item.exclusive) {
    // Exclusivity wins over coldness: a lost paid item cannot be re-fetched from anywhere.
    copies = Math.max(p.exclusiveCopies, p.defaultCopies);
    reasons.push(`exclusive: ${copies} copies`);
  } else if (tier === "cold") {
    copies = p.coldCopies;
    reasons.push(`cold (<${p.coldPlaysPerMonth} plays/month): ${copies} cop${copies === 1 ? "y" : "ies"}`);
  } else {
    reasons.push(`${tier}: ${copies} copies`);
  }
  const cdn = tier === "hot";
  if (cdn) reasons.push(`hot (>=${p.hotPlaysPerMonth} plays/month): serve via CDN`);
  return { tier, copies, cdn, reasons };
}

export interface ItemCost {
  id: string;
  placement: Placement;
  /** USDFC per month for storage across all copies (before data-set minimums). */
  storage: number;
  /** USDFC per month for CDN egress. */
  egress: number;
  total: number;
}

/** Monthly cost of one item under a given placement (data-set minimums not included). */
export function itemMonthlyCost(
  item: MediaItem,
  placement: Pick<Placement, "copies" | "cdn"> & Partial<Placement>,
  prices: PriceList = DEFAULT_PRICE_LIST,
  cacheMissRatio = DEFAULT_POLICY.cacheMissRatio,
): ItemCost {
  assertItem(item);
  const storage = (item.bytes / TIB) * prices.storagePerTiBMonth * placement.copies;
  const servedTiB = placement.cdn ? (item.bytes * item.playsPerMonth * (item.fractionPerPlay ?? 1)) / TIB : 0;
  const egress = servedTiB * (prices.cdnEgressPerTiB + cacheMissRatio * prices.cacheMissEgressPerTiB);
  const full: Placement = {
    tier: placement.tier ?? "warm",
    copies: placement.copies,
    cdn: placement.cdn,
    reasons: placement.reasons ?? [],
  };
  return { id: item.id, placement: full, storage, egress, total: storage + egress };
}

export interface CreatorCost {
  items: ItemCost[];
  storage: number;
  egress: number;
  /** Extra paid because some data sets are below the monthly minimum. */
  minimumTopUp: number;
  /** Number of data sets (provider copy x CDN/non-CDN) the placement needs. */
  dataSets: number;
  total: number;
}

/**
 * Monthly cost for a creator's whole catalogue with suggested placements, including the
 * per-data-set minimum (copy i of every item lives in data set i of its CDN group).
 */
export function creatorMonthlyCost(
  items: MediaItem[],
  prices: PriceList = DEFAULT_PRICE_LIST,
  policy: Partial<PlacementPolicy> = {},
): CreatorCost {
  const p = { ...DEFAULT_POLICY, ...policy };
  const costs = items.map((it) => itemMonthlyCost(it, suggestPlacement(it, p), prices, p.cacheMissRatio));
  // bytes per data set, keyed "cdn:i" / "plain:i"
  const dataSetBytes = new Map<string, number>();
  costs.forEach((c, idx) => {
    for (let i = 0; i < c.placement.copies; i++) {
      const key = `${c.placement.cdn ? "cdn" : "plain"}:${i}`;
      dataSetBytes.set(key, (dataSetBytes.get(key) ?? 0) + items[idx].bytes);
    }
  });
  let minimumTopUp = 0;
  for (const bytes of dataSetBytes.values()) {
    const rate = (bytes / TIB) * prices.storagePerTiBMonth;
    minimumTopUp += Math.max(0, prices.minimumPerDataSetMonth - rate);
  }
  const storage = sum(costs.map((c) => c.storage));
  const egress = sum(costs.map((c) => c.egress));
  return {
    items: costs,
    storage,
    egress,
    minimumTopUp,
    dataSets: dataSetBytes.size,
    total: storage + egress + minimumTopUp,
  };
}

/** Format a USDFC amount for display: 2 decimals from 1 up, else 3 significant digits. */
export function formatUsdfc(amount: number): string {
  if (amount === 0) return "0 USDFC";
  const digits = amount >= 1 ? 2 : Math.min(8, Math.max(2, 2 - Math.floor(Math.log10(amount))));
  return `${amount.toFixed(digits)} USDFC`;
}

function assertItem(item: MediaItem): void {
  if (!(item.bytes >= 0) || !(item.playsPerMonth >= 0)) {
    throw new RangeError(`item ${item.id}: bytes and playsPerMonth must be non-negative numbers`);
  }
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
