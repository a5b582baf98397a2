/**
 * Device- and connection-aware preloading: how far ahead the player buffers, and which quality
 * it starts with. Saves data on metered or slow connections and small devices; buffers the whole
 * track where that is cheap, so seeking is instant.
 */
export type PreloadStrategy = "preview-only" | "first-minute" | "full-track";

/** What the browser tells us (Network Information API, Device Memory API); all optional. */
export interface DeviceHints {
  saveData?: boolean;
  /** "slow-2g" | "2g" | "3g" | "4g" */
  effectiveType?: string;
  /** Estimated downlink in Mbit/s. */
  downlinkMbps?: number;
  /** Device memory in GiB (rounded by the browser). */
  deviceMemoryGb?: number;
}

/** Picks the preload strategy for these hints; unknown hints count as a good connection. */
export function choosePreload(hints: DeviceHints): PreloadStrategy {
  if (hints.saveData) return "preview-only";
  if (hints.effectiveType === "slow-2g" || hints.effectiveType === "2g") return "preview-only";
  if (hints.effectiveType === "3g") return "first-minute";
  if (hints.downlinkMbps !== undefined && hints.downlinkMbps < 1.5) return "first-minute";
  if (hints.deviceMemoryGb !== undefined && hints.deviceMemoryGb <= 1) return "first-minute";
  return "full-track";
}

/** Seconds hls.js should buffer ahead under a strategy (one ~10 s segment, a minute, or all). */
export function bufferAheadSeconds(strategy: PreloadStrategy, durationSeconds: number): number {
  if (strategy === "preview-only") return 10;
  if (strategy === "first-minute") return 60;
  return Math.max(60, Math.ceil(durationSeconds));
}

/** Quality roles to try in order: the 192 kbps variant first where bandwidth or data is scarce. */
export function qualityOrder(strategy: PreloadStrategy): readonly ("high" | "standard")[] {
  return strategy === "full-track" ? ["high", "standard"] : ["standard", "high"];
}

/** Reads the hints from `navigator` (absent APIs simply give no hint). */
export function readDeviceHints(nav: unknown = typeof navigator === "undefined" ? undefined : navigator): DeviceHints {
  const n = nav as { connection?: { saveData?: boolean; effectiveType?: string; downlink?: number }; deviceMemory?: number } | undefined;
  return {
    saveData: n?.connection?.saveData,
    effectiveType: n?.connection?.effectiveType,
    downlinkMbps: n?.connection?.downlink,
    deviceMemoryGb: n?.deviceMemory,
  };
}
