/**
 * Plays per item over the placement window: from the key-release server (`GET /api/plays?ids=&since=`,
 * the same server and URL resolution as the milestone watcher: --plays-url, STREAMVAULT_PLAYS_URL,
 * <home>/plays-source.json), else from `<home>/plays.json` ({"<contentId>": plays in the window}).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export interface ItemPlaysReading {
  /** Plays per item id in the window (items without plays are absent). */
  plays: Record<string, number>;
  /** "server <url>" or the plays.json path. */
  source: string;
  warning?: string;
}

/** Per-item plays since `since` from the server, 200 ids per request. */
export async function fetchItemPlays(url: string, ids: readonly string[], since: Date, options: { timeoutMs?: number } = {}): Promise<Record<string, number>> {
  const plays: Record<string, number> = {};
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const res = await fetch(`${url}/api/plays?ids=${chunk.join(",")}&since=${encodeURIComponent(since.toISOString())}`, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000), headers: { accept: "application/json" } });
    const body = (await res.json().catch(() => ({}))) as { items?: { contentId?: unknown; plays?: unknown }[]; message?: string };
    if (!res.ok) throw new Error(`${res.status}${body.message ? `: ${body.message}` : ""}`);
    if (!Array.isArray(body.items)) throw new Error("answer has no items");
    for (const it of body.items) if (typeof it.contentId === "string" && typeof it.plays === "number" && it.plays > 0) plays[it.contentId.toLowerCase()] = it.plays;
  }
  return plays;
}

/** `<home>/plays.json` per item ({"total": n} alone gives no per-item plays); {} when absent. */
export function readItemPlaysFile(home: string): Record<string, number> {
  try {
    const raw = JSON.parse(readFileSync(path.join(home, "plays.json"), "utf8")) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [id, v] of Object.entries(raw)) if (id !== "total" && Number(v) > 0) out[id.toLowerCase()] = Math.floor(Number(v));
    return out;
  } catch {
    return {};
  }
}

/** Plays per content id over the last `windowDays`: the server when configured and answering, else plays.json. */
export async function readItemPlays(home: string, contentIds: readonly string[], serverUrl: string | undefined, windowDays: number, now: Date = new Date()): Promise<ItemPlaysReading> {
  const file = path.join(home, "plays.json");
  if (serverUrl === undefined || contentIds.length === 0) return { plays: readItemPlaysFile(home), source: file };
  const since = new Date(now.getTime() - windowDays * 24 * 3600 * 1000);
  try {
    return { plays: await fetchItemPlays(serverUrl, contentIds, since), source: `server ${serverUrl}` };
  } catch (error) {
    const why = error instanceof Error ? (error.name === "TimeoutError" ? "timed out" : error.message) : String(error);
    return { plays: readItemPlaysFile(home), source: file, warning: `plays server ${serverUrl} did not answer (${why}): using ${file}` };
  }
}
