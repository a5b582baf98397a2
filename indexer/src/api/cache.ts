/**
 * Response cache for POST /graphql and the JSON endpoints. An answer depends only on the indexed
 * tables (and, for expiry checks, the second it is asked at, which is part of the key), and
 * those change only when Ponder commits a block, which also moves the checkpoint in
 * `_ponder_checkpoint` (reorgs included). So an answer is reused while the checkpoint it was
 * computed at is still the latest one. Every request reads the checkpoint through a query that
 * starts after the request arrived (requests arriving in the same tick share one), so nobody ever
 * sees data older than the last block committed before their request. Identical concurrent
 * misses share one execution.
 *
 * API_CACHE=off disables it; API_CACHE_ENTRIES bounds it (default 1000, LRU).
 */
import { db } from "ponder:api";
import { sql } from "ponder";

const ENABLED = process.env.API_CACHE !== "off";
const MAX_ENTRIES = Number(process.env.API_CACHE_ENTRIES ?? 1000);
/** Bodies larger than this are not kept. */
const MAX_BODY = 512 * 1024;

interface Entry {
  checkpoint: string;
  status: number;
  contentType: string;
  /** x-graphql-executor of the answer that was kept (what produced it: ./graphql-exec). */
  executor: string | null;
  body: string;
}

const entries = new Map<string, Entry>();
const inFlight = new Map<string, Promise<Entry>>();
let broken = false;

async function latestCheckpoint(): Promise<string | null> {
  if (broken) return null;
  try {
    const result = (await db.execute(sql`select max(latest_checkpoint) as c from _ponder_checkpoint`)) as unknown as
      | { rows: { c: string | null }[] }
      | { c: string | null }[];
    const rows = Array.isArray(result) ? result : result.rows;
    return rows[0]?.c ?? null;
  } catch {
    // A database without the checkpoint table readable here: never cache.
    broken = true;
    return null;
  }
}

/** The latest checkpoint, read by a query that starts after this call (shared within a tick). */
let next: { started: boolean; promise: Promise<string | null> } | null = null;
function freshCheckpoint(): Promise<string | null> {
  if (next && !next.started) return next.promise;
  const entry: { started: boolean; promise: Promise<string | null> } = { started: false, promise: Promise.resolve(null) };
  entry.promise = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    entry.started = true;
    if (next === entry) next = null;
    return latestCheckpoint();
  });
  next = entry;
  return entry.promise;
}

/**
 * Answers the request identified by `key` from the cache or through `execute`. Only 200 answers
 * without GraphQL `errors` are kept.
 */
export async function cached(key: string, execute: () => Promise<Response>): Promise<Response> {
  const checkpoint = ENABLED ? await freshCheckpoint() : null;
  if (checkpoint === null) return execute();
  const hit = entries.get(key);
  if (hit && hit.checkpoint === checkpoint) {
    entries.delete(key);
    entries.set(key, hit); // LRU order
    return respond(hit, "hit");
  }
  const flightKey = `${checkpoint}\n${key}`;
  let pending = inFlight.get(flightKey);
  if (!pending) {
    pending = (async () => {
      const res = await execute();
      const entry: Entry = {
        checkpoint,
        status: res.status,
        contentType: res.headers.get("content-type") ?? "application/json",
        executor: res.headers.get("x-graphql-executor"),
        body: await res.text(),
      };
      if (res.status === 200 && entry.body.length <= MAX_BODY && !entry.body.includes('"errors"')) {
        entries.set(key, entry);
        if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      }
      return entry;
    })().finally(() => inFlight.delete(flightKey));
    inFlight.set(flightKey, pending);
  }
  return respond(await pending, "miss");
}

function respond(entry: Entry, state: "hit" | "miss"): Response {
  return new Response(entry.body, {
    status: entry.status,
    headers: { "content-type": entry.contentType, "x-api-cache": state, ...(entry.executor ? { "x-graphql-executor": entry.executor } : {}) },
  });
}
