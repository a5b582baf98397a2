/**
 * Plays: the `plays` table, play starts and their window (`play_windows`), anonymous viewers (a
 * salted hash whose salt, `anonymous_salts`, is one per UTC day and shared by every instance), the
 * counts (`GET /api/plays...`), and the evidence from segment requests: which segment of which item
 * a requested piece is, and the hook that counts the pieces a storage gateway serves. Everything
 * that decides whether a play is new is in the database, so instances sharing it count a play once.
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Address, Hex, PublicClient } from "viem";
import { cidFromBytes } from "../chain/cid.ts";
import { isUnknownContentError } from "./gate.ts";
import { contractOf, type Deployment } from "../deployments/index.ts";
import { parseManifest } from "../manifest/index.ts";
import type { Manifest } from "../manifest/schema.ts";
import type { AuditLog } from "./audit.ts";
import { SEGMENTS_PER_MINUTE } from "./channels.ts";
import type { SqlClient } from "./db.ts";
import { CONTENT_ID, failure, json, pathParam, Refusal, setPeerAddress, toDate, type Logger } from "./http.ts";
import { tryConsume, type Limiter, type RequestLimits } from "./ratelimit.ts";
import type { Sessions } from "./sessions.ts";


/**
 * Plays of one item (`GET /api/plays/:contentId`), for dashboards and milestone backups. A play is
 * counted on the server from two kinds of evidence, recorded in the `plays` table:
 *   - key releases (`POST /api/keys/:id`, a wallet) and pay-per-minute stream releases (`/stream`);
 *   - segment requests for a full-length variant (not the preview) served by the media route or the
 *     piece gateway, from a signed-in wallet (session cookie) or an anonymous viewer (a salted hash of
 *     IP and User-Agent; the IP itself is not stored).
 * Evidence from one viewer for one item starts a play only if that viewer has no play start of the
 * item in the last `playWindowSeconds` (30 min): a key release followed by the segments it decrypts,
 * a minute-by-minute stream, a seek or a reload are one play. `plays` counts play starts.
 */
export interface PlayCounts {
  contentId: string;
  /** Play starts (see above). */
  plays: number;
  /** Key releases (each one, including repeats within a play). */
  keyReleases: number;
  /** Plays started by a segment request (no key release or stream release in the window before). */
  segmentPlays: number;
  /** Pay-per-minute segments released. */
  segments: number;
  minutesStreamed: number;
  uniqueWallets: number;
  /** Distinct wallets and anonymous viewers. */
  uniqueViewers: number;
  lastPlayAt: string | null;
}

/** What {@link KeyReleaseService.recordSegmentRequest} made of a segment request. */
export interface SegmentPlay {
  /** The request is evidence of a play of the item (a new one or one under way). */
  counted: boolean;
  /** It started a new play (a `plays` row was written). */
  playStart: boolean;
  reason: "play-start" | "same-play" | "no-content" | "bad-content-id" | "no-resolver" | "not-a-segment" | "preview" | "anonymous-limit" | "error";
}


export interface PlayLedgerOptions {
  db: SqlClient;
  sessions: Sessions;
  limits: RequestLimits;
  /** New anonymous plays per IP (rate_limits rows "anon-plays:<ip>"). */
  anonLimiter: Limiter;
  audit: AuditLog;
  segments: SegmentResolver | undefined;
  windowSeconds: number;
  now: () => number;
  log: Logger;
}

/** Plays of the key-release database: play starts, anonymous viewers, counts. */
export class PlayLedger {
  readonly #o: PlayLedgerOptions;
  readonly #db: SqlClient;
  readonly #windowMs: number;
  /**
   * Play starts this instance knows of (claimed here or read back): evidence within the window of a
   * known start is the same play without a database round trip. Only ever a subset of the table:
   * no start can be claimed anywhere within the window of another, so a hit is the table's answer.
   */
  readonly #knownStarts = new Map<string, number>();
  /** The day's salt, once read (salts never change once written). */
  #salt: { day: string; salt: Uint8Array } | undefined;
  #claims = 0;

  constructor(options: PlayLedgerOptions) {
    this.#o = options;
    this.#db = options.db;
    this.#windowMs = options.windowSeconds * 1000;
  }

  /**
   * Does evidence from `viewer` for `contentId` at `now` start a play? Yes unless the viewer has a
   * play start of the item within the window. One statement claims the start in `play_windows`
   * (insert, or move a start older than the window), so of concurrent requests on any instances
   * exactly one starts the play.
   */
  async claimStart(viewer: string, contentId: string, now: number): Promise<boolean> {
    const item = contentId.toLowerCase();
    const key = `${viewer}|${item}`;
    const known = this.#knownStarts.get(key);
    if (known !== undefined && now >= known && now - known < this.#windowMs) return false;
    const result = await this.#db.query<{ claimed: unknown; existing: unknown }>(
      `WITH claim AS (
         INSERT INTO play_windows (viewer, content_id, started_at) VALUES ($1, $2, $3)
         ON CONFLICT (viewer, content_id) DO UPDATE SET started_at = EXCLUDED.started_at
          WHERE play_windows.started_at <= $4
         RETURNING started_at)
       SELECT (SELECT started_at FROM claim) AS claimed,
              (SELECT started_at FROM play_windows WHERE viewer = $1 AND content_id = $2) AS existing`,
      [viewer, item, new Date(now), new Date(now - this.#windowMs)],
    );
    const row = result.rows[0]!;
    if (this.#knownStarts.size >= 100_000) this.#knownStarts.clear();
    if (++this.#claims % 1024 === 0) await this.#db.query("DELETE FROM play_windows WHERE started_at < $1", [new Date(now - 2 * this.#windowMs)]);
    if (row.claimed !== null && row.claimed !== undefined) {
      this.#knownStarts.set(key, now);
      return true;
    }
    // Not claimed: `existing` (the statement's snapshot, from before the claim) is the start within the window.
    if (row.existing !== null && row.existing !== undefined) this.#knownStarts.set(key, toDate(row.existing).getTime());
    return false;
  }

  /** The signed-in wallet (valid session cookie), else an anonymous viewer id (salted hash of IP and User-Agent). */
  async viewerOf(request: Request): Promise<{ id: string; wallet: Address | null; ip: string }> {
    const ip = this.#o.limits.ip(request);
    if (this.#o.sessions.hasCookie(request)) {
      try {
        const session = await this.#o.sessions.session(request);
        return { id: session.wallet.toLowerCase(), wallet: session.wallet, ip };
      } catch (error) {
        if (!(error instanceof Refusal)) throw error; // expired or ended: counted as anonymous
      }
    }
    const salt = await this.#anonymousSalt(this.#o.now());
    const hash = createHash("sha256").update(salt).update(ip).update("\0").update(request.headers.get("user-agent") ?? "").digest("hex");
    return { id: `anon:${hash.slice(0, 32)}`, wallet: null, ip };
  }

  /**
   * The anonymous-viewer salt of the UTC day of `now`: random, written once by whichever instance
   * needs it first, read by all. Salts older than yesterday are deleted, so an old id cannot be
   * recomputed from an IP, and ids are not linkable across days.
   */
  async #anonymousSalt(now: number): Promise<Uint8Array> {
    const day = new Date(now).toISOString().slice(0, 10);
    if (this.#salt?.day === day) return this.#salt.salt;
    const inserted = await this.#db.query("INSERT INTO anonymous_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING RETURNING day", [day, randomBytes(32)]);
    if (inserted.rows.length > 0) await this.#db.query("DELETE FROM anonymous_salts WHERE day < $1::date - 1", [day]);
    const row = (await this.#db.query<{ salt: Uint8Array }>("SELECT salt FROM anonymous_salts WHERE day = $1", [day])).rows[0]!;
    const salt = new Uint8Array(row.salt);
    this.#salt = { day, salt };
    return salt;
  }

  /**
   * Counts a segment request as plays evidence. The item is the `c` query parameter of the request
   * URL (the media routes put it on the segment URIs of a playlist fetched with `?c=<contentId>`);
   * the piece must be a segment of a full-length variant of that item's manifest (the segment
   * resolver checks, so a URL cannot credit a piece to another item). The viewer is the signed-in
   * wallet (session cookie) or an anonymous id. Never throws: a failure here must not fail the
   * segment, so errors are logged and reported as `reason: "error"`.
   */
  async recordSegmentRequest(request: Request, pieceCid: string): Promise<SegmentPlay> {
    const no = (reason: SegmentPlay["reason"]): SegmentPlay => ({ counted: false, playStart: false, reason });
    let contentId: string | undefined;
    try {
      contentId = new URL(request.url).searchParams.get("c")?.toLowerCase();
      if (!contentId) return no("no-content");
      if (!CONTENT_ID.test(contentId)) return no("bad-content-id");
      if (this.#o.segments === undefined) return no("no-resolver");
      const segment = await this.#o.segments.resolve(contentId as Hex, pieceCid);
      if (segment === undefined) return no("not-a-segment");
      if (segment.role === "preview") return no("preview");
      const viewer = await this.viewerOf(request);
      const now = this.#o.now();
      if (!(await this.claimStart(viewer.id, contentId, now))) return { counted: true, playStart: false, reason: "same-play" };
      if (viewer.wallet === null && !(await tryConsume(this.#o.anonLimiter, viewer.ip))) return no("anonymous-limit");
      await this.#o.audit.writePlay({ contentId, wallet: viewer.wallet, kind: "segment-request", segments: 0, at: new Date(now), viewer: viewer.id, playStart: true });
      return { counted: true, playStart: true, reason: "play-start" };
    } catch (error) {
      this.#o.log.warn("segment play not recorded", { contentId, error: error instanceof Error ? error.message : String(error) });
      return no("error");
    }
  }

  /** `GET /api/plays/:contentId` -> aggregate play counts (no wallets). */
  async plays(request: Request): Promise<Response> {
    const contentId = pathParam(request, /\/api\/plays\/([^/]+)\/?$/);
    try {
      await this.#o.limits.limitIp(request);
      if (contentId === undefined || !CONTENT_ID.test(contentId)) throw new Refusal(400, "bad_content_id", "content id must be 0x followed by 64 hex characters");
      return json(200, await this.playCounts(contentId));
    } catch (error) {
      return failure(this.#o.log, error, "plays");
    }
  }

  /**
   * `GET /api/plays?ids=0x..,0x..` (at most 200) -> `{ items: PlayCounts[], total }`: the counts of
   * several items at once (a creator's catalogue, for the milestone watcher and the dashboard).
   * `total.uniqueWallets` / `uniqueViewers` count each wallet or viewer once across the items.
   */
  async playsTotals(request: Request): Promise<Response> {
    try {
      await this.#o.limits.limitIp(request);
      const raw = new URL(request.url).searchParams.get("ids") ?? "";
      const ids = [...new Set(raw.split(",").map((id) => id.trim().toLowerCase()).filter((id) => id !== ""))];
      if (ids.length === 0 || ids.length > 200 || !ids.every((id) => CONTENT_ID.test(id))) {
        throw new Refusal(400, "bad_content_ids", "send ?ids= with 1 to 200 comma-separated content ids (0x followed by 64 hex characters)");
      }
      // ?since=<ISO time>: only plays from then on (the placement policy's window).
      const sinceParam = new URL(request.url).searchParams.get("since");
      const since = sinceParam === null ? undefined : new Date(sinceParam);
      if (since !== undefined && Number.isNaN(since.getTime())) throw new Refusal(400, "bad_since", "since must be an ISO date-time, e.g. 2026-01-01T00:00:00Z");
      // ?by=day adds `days`: plays per UTC day and item (`streamvault export` writes them as CSV).
      const byDay = new URL(request.url).searchParams.get("by") === "day";
      return json(200, { ...(await this.playCountsMany(ids, { since })), ...(byDay ? { days: await this.playsPerDay(ids) } : {}) });
    } catch (error) {
      return failure(this.#o.log, error, "plays-totals");
    }
  }

  /** Play counts of one item, for dashboards and milestone backups (see {@link PlayCounts}). */
  async playCounts(contentId: string): Promise<PlayCounts> {
    return (await this.playCountsMany([contentId])).items[0]!;
  }

  /** Plays per UTC day and item, oldest day first; days without a play are left out. */
  async playsPerDay(contentIds: readonly string[]): Promise<{ day: string; contentId: string; plays: number }[]> {
    const ids = contentIds.map((id) => id.toLowerCase());
    if (ids.length === 0) return [];
    const list = ids.map((_, i) => `$${i + 1}`).join(", ");
    const rows = await this.#db.query<{ day: string; content_id: string; plays: unknown }>(
      `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, content_id, count(*) AS plays FROM plays
        WHERE play_start AND content_id IN (${list}) GROUP BY 1, 2 ORDER BY 1, 2`,
      ids,
    );
    return rows.rows.map((r) => ({ day: r.day, contentId: r.content_id, plays: Number(r.plays) }));
  }

  /** Play counts of several items, in the order given, and their total. */
  async playCountsMany(contentIds: readonly string[], options: { since?: Date } = {}): Promise<{ items: PlayCounts[]; total: Omit<PlayCounts, "contentId"> }> {
    const ids = contentIds.map((id) => id.toLowerCase());
    const list = ids.map((_, i) => `$${i + 1}`).join(", ");
    const params: unknown[] = options.since === undefined ? ids : [...ids, options.since];
    const window = options.since === undefined ? "" : ` AND at >= $${ids.length + 1}`;
    const columns = `count(*) FILTER (WHERE play_start) AS plays,
                count(*) FILTER (WHERE kind = 'key-release') AS releases,
                count(*) FILTER (WHERE kind = 'segment-request' AND play_start) AS segment_plays,
                COALESCE(sum(segments) FILTER (WHERE kind = 'segment'), 0) AS segments,
                count(DISTINCT wallet) AS wallets,
                count(DISTINCT viewer) AS viewers,
                max(at) AS last_at`;
    type Row = { content_id?: string; plays: unknown; releases: unknown; segment_plays: unknown; segments: unknown; wallets: unknown; viewers: unknown; last_at: unknown };
    const [perItem, total] = ids.length === 0
      ? [{ rows: [] as Row[] }, { rows: [] as Row[] }]
      : await Promise.all([
          this.#db.query<Row>(`SELECT content_id, ${columns} FROM plays WHERE content_id IN (${list})${window} GROUP BY content_id`, params),
          this.#db.query<Row>(`SELECT ${columns} FROM plays WHERE content_id IN (${list})${window}`, params),
        ]);
    const counts = (row: Row | undefined): Omit<PlayCounts, "contentId"> => {
      const segments = Number(row?.segments ?? 0);
      return {
        plays: Number(row?.plays ?? 0),
        keyReleases: Number(row?.releases ?? 0),
        segmentPlays: Number(row?.segment_plays ?? 0),
        segments,
        minutesStreamed: segments / SEGMENTS_PER_MINUTE,
        uniqueWallets: Number(row?.wallets ?? 0),
        uniqueViewers: Number(row?.viewers ?? 0),
        lastPlayAt: row?.last_at === null || row?.last_at === undefined ? null : toDate(row.last_at).toISOString(),
      };
    };
    const byId = new Map(perItem.rows.map((row) => [row.content_id!, row]));
    return { items: ids.map((contentId) => ({ contentId, ...counts(byId.get(contentId)) })), total: counts(total.rows[0]) };
  }
}

/** One segment of an item's manifest. */
export interface SegmentRef {
  variant: string;
  role: Manifest["variants"][number]["role"];
  index: number;
}

/** Answers "is this piece a segment of this item, and of which variant?" */
export interface SegmentResolver {
  resolve(contentId: Hex, pieceCid: string): Promise<SegmentRef | undefined>;
}

export interface ManifestSegmentResolverOptions {
  publicClient: PublicClient;
  /** Where ContentAccess lives: the item's manifest CID is read from `contentInfo`. */
  deployment: Deployment;
  /** Where manifests are stored (a PieceStore, or anything with `get`). */
  store: { get(pieceCid: string): Promise<Uint8Array> };
  /** How long an item's segment list is trusted before the chain is asked again (default 60 s; the manifest of an item can be updated). */
  cacheSeconds?: number;
  now?: () => number;
}

/**
 * Resolves segments from the chain (ContentAccess.contentInfo -> manifest PieceCID) and the manifest
 * in storage. Per item, cached: one chain read and one manifest read per `cacheSeconds`.
 */
export class ManifestSegmentResolver implements SegmentResolver {
  readonly #options: ManifestSegmentResolverOptions;
  readonly #contentAccess: ReturnType<typeof contractOf<"ContentAccess">>;
  readonly #cache = new Map<string, { until: number; segments: Promise<Map<string, SegmentRef> | undefined> }>();

  constructor(options: ManifestSegmentResolverOptions) {
    this.#options = options;
    this.#contentAccess = contractOf(options.deployment, "ContentAccess");
  }

  async resolve(contentId: Hex, pieceCid: string): Promise<SegmentRef | undefined> {
    const segments = await this.#segmentsOf(contentId.toLowerCase() as Hex);
    return segments?.get(pieceCid);
  }

  #segmentsOf(contentId: Hex): Promise<Map<string, SegmentRef> | undefined> {
    const now = (this.#options.now ?? Date.now)();
    const hit = this.#cache.get(contentId);
    if (hit !== undefined && now < hit.until) return hit.segments;
    if (this.#cache.size >= 10_000) this.#cache.clear();
    const segments = this.#load(contentId);
    const entry = { until: now + (this.#options.cacheSeconds ?? 60) * 1000, segments };
    this.#cache.set(contentId, entry);
    // A failed read is not cached: the next request tries again.
    segments.catch(() => this.#cache.get(contentId) === entry && this.#cache.delete(contentId));
    return segments;
  }

  async #load(contentId: Hex): Promise<Map<string, SegmentRef> | undefined> {
    let manifestBytes: Hex;
    try {
      [, , manifestBytes] = await this.#options.publicClient.readContract({ address: this.#contentAccess.address, abi: this.#contentAccess.abi, functionName: "contentInfo", args: [contentId] });
    } catch (error) {
      if (isUnknownContentError(error)) return undefined;
      throw error;
    }
    const manifest = parseManifest(await this.#options.store.get(cidFromBytes(manifestBytes)));
    const segments = new Map<string, SegmentRef>();
    for (const variant of manifest.variants) {
      for (const segment of variant.segments) segments.set(segment.pieceCid, { variant: variant.name, role: variant.role, index: segment.index });
    }
    return segments;
  }
}

/**
 * `startGateway({ ..., onPieceServed: countSegmentPlays(service) })`: every piece the gateway serves
 * with a `?c=<contentId>` query counts as a segment request of that item (see
 * `KeyReleaseService.recordSegmentRequest`). The client address is the socket's (`trustedProxyHops`
 * of the service decides how much of X-Forwarded-For is believed).
 */
export function countSegmentPlays(service: { recordSegmentRequest(request: Request, pieceCid: string): Promise<SegmentPlay> }): (req: IncomingMessage, url: URL, pieceCid: string) => Promise<SegmentPlay | undefined> {
  return async (req, url, pieceCid) => {
    if (!url.searchParams.has("c")) return undefined;
    const headers = new Headers();
    for (const name of ["cookie", "user-agent", "x-forwarded-for", "x-real-ip"]) {
      const value = req.headers[name];
      if (typeof value === "string") headers.set(name, value);
    }
    const request = new Request(url, { headers });
    setPeerAddress(request, req.socket.remoteAddress ?? "unknown");
    return service.recordSegmentRequest(request, pieceCid);
  };
}
