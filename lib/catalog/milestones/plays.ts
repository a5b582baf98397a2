/**
 * Where the milestone watcher gets plays: the key-release server counts them (key releases and
 * segment requests, see lib/keyrelease/service.ts `PlayCounts`) and answers `GET /api/plays?ids=`;
 * `<home>/plays.json` is the fallback when no server is configured or it does not answer.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Hex } from "viem";

/** `{ "url": "http://127.0.0.1:3000" }`: the key-release server's base URL, written by `npm run dev`. */
export const PLAYS_SOURCE_FILE = "plays-source.json";

export interface PlaysReading {
  plays: bigint;
  /** "server <url>" or "<home>/plays.json". */
  source: string;
  /** Why the server was not used although one is configured. */
  warning?: string;
}

/** The server URL: `explicit` (--plays-url), else STREAMVAULT_PLAYS_URL, else `<home>/plays-source.json`. */
export function playsServerUrl(home: string, explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromFile = () => {
    try {
      const url = (JSON.parse(readFileSync(path.join(home, PLAYS_SOURCE_FILE), "utf8")) as { url?: unknown }).url;
      return typeof url === "string" ? url : undefined;
    } catch {
      return undefined;
    }
  };
  const url = explicit || env.STREAMVAULT_PLAYS_URL || fromFile();
  return url ? url.replace(/\/+$/, "") : undefined;
}

/** Plays of `contentIds` summed by the server (`GET <url>/api/plays?ids=`, 200 ids per request). */
export async function fetchServerPlays(url: string, contentIds: readonly Hex[], options: { timeoutMs?: number } = {}): Promise<bigint> {
  let plays = 0n;
  for (let i = 0; i < contentIds.length; i += 200) {
    const ids = contentIds.slice(i, i + 200).join(",");
    const res = await fetch(`${url}/api/plays?ids=${ids}`, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000), headers: { accept: "application/json" } });
    const body = (await res.json().catch(() => ({}))) as { total?: { plays?: unknown }; message?: string };
    if (!res.ok) throw new Error(`${res.status}${body.message ? `: ${body.message}` : ""}`);
    if (typeof body.total?.plays !== "number") throw new Error("answer has no total.plays");
    plays += BigInt(body.total.plays);
  }
  return plays;
}

/** Plays per UTC day and item from the server (`GET <url>/api/plays?ids=&by=day`, 200 ids per request). */
export async function fetchServerPlaysPerDay(url: string, contentIds: readonly Hex[], options: { timeoutMs?: number } = {}): Promise<{ day: string; contentId: string; plays: number }[]> {
  const days: { day: string; contentId: string; plays: number }[] = [];
  for (let i = 0; i < contentIds.length; i += 200) {
    const ids = contentIds.slice(i, i + 200).join(",");
    const res = await fetch(`${url}/api/plays?ids=${ids}&by=day`, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000), headers: { accept: "application/json" } });
    const body = (await res.json().catch(() => ({}))) as { days?: { day: string; contentId: string; plays: number }[]; message?: string };
    if (!res.ok) throw new Error(`${res.status}${body.message ? `: ${body.message}` : ""}`);
    if (!Array.isArray(body.days)) throw new Error("answer has no days (a server older than plays per day)");
    days.push(...body.days);
  }
  return days.sort((a, b) => a.day.localeCompare(b.day) || a.contentId.localeCompare(b.contentId));
}

/** `<home>/plays.json`: {"<contentId>": plays, ...} or {"total": n}; 0 when absent or unreadable. */
export function readPlaysFile(home: string): bigint {
  try {
    const raw = JSON.parse(readFileSync(path.join(home, "plays.json"), "utf8")) as Record<string, number>;
    if (typeof raw.total === "number") return BigInt(Math.floor(raw.total));
    return BigInt(Object.values(raw).reduce((s, v) => s + Math.floor(Number(v) || 0), 0));
  } catch {
    return 0n;
  }
}

/** Plays of the creator's items: from the server when one is configured and answers, else from plays.json. */
export async function readPlays(home: string, contentIds: readonly Hex[], serverUrl: string | undefined): Promise<PlaysReading> {
  const file = { source: path.join(home, "plays.json") };
  if (serverUrl === undefined) return { plays: readPlaysFile(home), ...file };
  try {
    return { plays: await fetchServerPlays(serverUrl, contentIds), source: `server ${serverUrl}` };
  } catch (error) {
    const why = error instanceof Error ? (error.name === "TimeoutError" ? "timed out" : error.message) : String(error);
    return { plays: readPlaysFile(home), ...file, warning: `plays server ${serverUrl} did not answer (${why}): using ${file.source}` };
  }
}
