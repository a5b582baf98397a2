/**
 * Going live from the browser (the studio's "Go live" page): MediaRecorder's webm chunks arrive
 * one request each, numbered from 0, and are fed in order into the same pipeline as RTMP, files
 * and stdin (lib/live/archiver.ts `archiveLive`, input "-" over a PassThrough). This server process
 * is the archiving process for these streams, so the record (state.json under STREAMVAULT_HOME)
 * and the viewer counts are the ones it serves.
 *
 * The server never signs for creators: archiveLive's `register` hook publishes the manifest to put
 * on chain (`pending`), the page's wallet sends `registerContent` (live manifest) or
 * `updateManifest` (final manifest), and the hook returns once the chain shows it.
 *
 * Bounds: one open stream per creator and LIVE_MAX_BROWSER_STREAMS per process, chunks of at
 * most LIVE_CHUNK_MAX_BYTES, and a stream that gets no chunk for LIVE_IDLE_TIMEOUT seconds ends
 * (as if "End stream" was pressed). Kept on globalThis: Next bundles each route apart.
 */
import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import { createPublicClient, http, type Address, type Hex } from "viem";
import type { RegisterRequest, RegisterResult, Tier } from "@streamvault/lib/catalog/chain/content.ts";
import type { LiveState } from "@streamvault/lib/live/status.ts";
import { cidFromBytes } from "@streamvault/lib/chain/cid.ts";
import { RPC_URL, STREAMVAULT_HOME, contract } from "./config.ts";
import { readOnlyContext } from "./creator-catalog.ts";
import { keyStore } from "./keystore.ts";
import { pieceStore } from "./store.ts";

type ArchiverLib = typeof import("@streamvault/lib/live/archiver.ts");

const envNumber = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/** Largest chunk accepted (MediaRecorder's 1 s webm chunks are tens to hundreds of KB). */
export const CHUNK_MAX_BYTES = envNumber("LIVE_CHUNK_MAX_BYTES", 4 * 1024 * 1024);
/** Seconds without a chunk after which a browser stream ends by itself. */
export const IDLE_TIMEOUT_S = envNumber("LIVE_IDLE_TIMEOUT", 15);
const MAX_STREAMS = envNumber("LIVE_MAX_BROWSER_STREAMS", 4);
/** How long the archiver waits for the creator's wallet to put a manifest on chain. */
const WALLET_TIMEOUT_MS = envNumber("LIVE_WALLET_TIMEOUT", 300) * 1000;

/** A manifest the creator's wallet must put on chain now. */
export interface PendingRegistration {
  /** registerContent for a new item (the live manifest), updateManifest for a registered one (the final manifest) */
  action: "registerContent" | "updateManifest";
  manifestCid: string;
  externalId: Hex;
  contentId: Hex;
  tier: Tier;
}

interface BrowserStream {
  id: string;
  creator: Address;
  contentId: Hex;
  externalId: Hex;
  tier: Tier;
  feed: PassThrough;
  /** the seq the next new chunk must carry */
  nextSeq: number;
  bytesAccepted: number;
  idleTimer?: NodeJS.Timeout;
  ended: boolean;
  /** why the input ended: "End stream", no chunk for the idle timeout, or the archiver stopped (its own idle check, ffmpeg) */
  endedBy?: "creator" | "idle" | "archiver";
  pending?: PendingRegistration;
  done: Promise<LiveState | undefined>;
  error?: string;
}

const shared = globalThis as typeof globalThis & { __streamvaultGoLive?: Map<string, BrowserStream> };
const streams = (shared.__streamvaultGoLive ??= new Map());

/** A refusal the routes answer as JSON `{error, message}` with this status. */
export class GoLiveError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** more fields of the JSON answer (the seq expected) */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function archiverLib(): Promise<ArchiverLib> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/live/archiver.ts");
}

function endFeed(stream: BrowserStream, by: NonNullable<BrowserStream["endedBy"]>): void {
  if (stream.ended) return;
  stream.ended = true;
  stream.endedBy = by;
  clearTimeout(stream.idleTimer);
  stream.feed.end();
}

function armIdle(stream: BrowserStream): void {
  clearTimeout(stream.idleTimer);
  stream.idleTimer = setTimeout(() => endFeed(stream, "idle"), IDLE_TIMEOUT_S * 1000);
  stream.idleTimer.unref();
}

/**
 * archiveLive's `register`: publish what the wallet must send, then wait until the chain shows
 * `manifestCid` for the item (the content id is the creator's, so only the creator can put it there).
 * The deadline is per manifest, so the archiver's retries of a timed-out wait fail at once.
 */
function walletRegistration(stream: BrowserStream) {
  const client = createPublicClient({ transport: http(RPC_URL, { timeout: 10_000 }) });
  const deadlines = new Map<string, number>();
  const onChain = async (): Promise<string | undefined> => {
    try {
      const [, , manifest] = await client.readContract({ ...contract("ContentAccess"), functionName: "contentInfo", args: [stream.contentId] });
      return cidFromBytes(manifest);
    } catch (err) {
      if (String((err as Error).message).includes("UnknownContent")) return undefined;
      throw err;
    }
  };
  return async (request: RegisterRequest): Promise<RegisterResult> => {
    const deadline = deadlines.get(request.manifestCid) ?? Date.now() + WALLET_TIMEOUT_MS;
    deadlines.set(request.manifestCid, deadline);
    const current = await onChain();
    if (current === request.manifestCid) return { contentId: stream.contentId, outcome: "exists" };
    stream.pending = { action: current === undefined ? "registerContent" : "updateManifest", manifestCid: request.manifestCid, externalId: request.externalId, contentId: stream.contentId, tier: stream.tier };
    try {
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        if ((await onChain().catch(() => undefined)) === request.manifestCid) return { contentId: stream.contentId, outcome: current === undefined ? "registered" : "updated" };
      }
      throw new Error(`the creator's wallet did not put manifest ${request.manifestCid} on chain within ${WALLET_TIMEOUT_MS / 1000} s`);
    } finally {
      if (stream.pending?.manifestCid === request.manifestCid) stream.pending = undefined;
    }
  };
}

/** Starts a browser stream for `creator`: archiveLive runs in this process until the feed ends. */
export async function startBrowserStream(creator: Address, options: { title: string; tier: Tier }): Promise<{ id: string; contentId: Hex; externalId: Hex }> {
  const open = [...streams.values()].filter((s) => !s.ended);
  const mine = open.find((s) => s.creator === creator);
  if (mine) throw new GoLiveError(409, "already_live", `you are already live as "${mine.id}": end that stream first`);
  if (open.length >= MAX_STREAMS) throw new GoLiveError(503, "busy", `this server is archiving ${open.length} browser streams, its limit: try again later or stream over RTMP`);
  const lib = await archiverLib();
  const [store, keys, chain] = await Promise.all([pieceStore(), keyStore(), readOnlyContext(creator)]);
  // The id names the stream's directory under STREAMVAULT_HOME/live, shared by every creator: the server picks it.
  const id = `web-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const externalId = lib.liveExternalId(id);
  const { contentIdFor } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/chain/content.ts");
  const contentId = contentIdFor(creator, externalId);
  const feed = new PassThrough({ highWaterMark: CHUNK_MAX_BYTES });
  const stream: BrowserStream = { id, creator, contentId, externalId, tier: options.tier, feed, nextSeq: 0, bytesAccepted: 0, ended: false, done: Promise.resolve(undefined) };
  streams.set(id, stream);
  stream.done = lib
    .archiveLive({
      input: "-",
      stdin: feed,
      id,
      title: options.title,
      tier: options.tier,
      home: STREAMVAULT_HOME,
      store,
      keyStore: keys,
      chain,
      idleTimeoutMs: IDLE_TIMEOUT_S * 1000,
      register: walletRegistration(stream),
    })
    .then(
      (state) => {
        if (state.error) stream.error = state.error;
        return state;
      },
      (err: unknown) => {
        stream.error = (err as Error).message;
        return undefined;
      },
    )
    .finally(() => {
      endFeed(stream, "archiver");
      stream.pending = undefined;
    });
  armIdle(stream);
  return { id, contentId, externalId };
}

function streamOf(creator: Address, id: string): BrowserStream {
  const stream = streams.get(id);
  if (!stream) throw new GoLiveError(404, "not_found", `no browser stream "${id}" on this server: start one with "Go live"`);
  if (stream.creator !== creator) throw new GoLiveError(403, "forbidden", `stream "${id}" belongs to another creator`);
  return stream;
}

function endedError(stream: BrowserStream): GoLiveError {
  const why = stream.endedBy === "idle" ? `ended after ${IDLE_TIMEOUT_S} s without a chunk (did the connection drop?)` : stream.endedBy === "creator" ? "was ended with \"End stream\"" : "has ended";
  return new GoLiveError(409, "ended", `stream "${stream.id}" ${why}: start a new one with "Go live"`);
}

/** Refuses a chunk for a stream that does not take one now, before its body is read. */
export function checkChunkTarget(creator: Address, id: string): void {
  const stream = streamOf(creator, id);
  if (stream.ended || stream.feed.destroyed) throw endedError(stream);
}

/**
 * Appends chunk `seq` (in order, each once): the next seq is appended; an earlier one (a retry
 * whose first try arrived) is acknowledged and dropped; a later one is refused with the seq expected.
 */
export async function acceptChunk(creator: Address, id: string, seq: number, bytes: Uint8Array): Promise<{ appended: boolean; nextSeq: number }> {
  const stream = streamOf(creator, id);
  if (seq < stream.nextSeq) return { appended: false, nextSeq: stream.nextSeq };
  if (stream.ended || stream.feed.destroyed) throw endedError(stream);
  if (seq > stream.nextSeq) throw new GoLiveError(409, "out_of_order", `expected chunk ${stream.nextSeq}, got ${seq}: send chunks in order`, { nextSeq: stream.nextSeq });
  // Taken synchronously (no await between the check and the write): a retry racing the first try sees seq < nextSeq.
  stream.nextSeq++;
  stream.bytesAccepted += bytes.byteLength;
  armIdle(stream);
  if (!stream.feed.write(bytes)) await new Promise<void>((resolve) => { stream.feed.once("drain", resolve); stream.feed.once("close", resolve); });
  return { appended: true, nextSeq: stream.nextSeq };
}

/** "End stream": no more input; the archiver closes the last segment, writes ENDLIST and stores the final manifest. */
export function endBrowserStream(creator: Address, id: string): void {
  endFeed(streamOf(creator, id), "creator");
}

/** What the creator's page needs besides the public record: the seq expected and the manifest its wallet must put on chain. */
export function browserStreamControl(creator: Address, id: string): { id: string; contentId: Hex; externalId: Hex; tier: Tier; nextSeq: number; bytesAccepted: number; inputEnded: boolean; pending: PendingRegistration | null; error: string | null } {
  const s = streamOf(creator, id);
  return { id: s.id, contentId: s.contentId, externalId: s.externalId, tier: s.tier, nextSeq: s.nextSeq, bytesAccepted: s.bytesAccepted, inputEnded: s.ended, pending: s.pending ?? null, error: s.error ?? null };
}
