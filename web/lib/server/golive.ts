/**
 * Going live from the browser (the studio's "Go live" page): MediaRecorder's webm chunks arrive
 * one request each, numbered from 0, and are fed in order into the same pipeline as RTMP, files
 * and stdin (lib/live/archiver.ts `archiveLive`, input "-" over a PassThrough). This server process
 * is the archiving process for these streams, so the record (state.json under STREAMVAULT_HOME)
 * and the viewer counts are the ones it serves.
 *
 * The server never signs for creators: archiveLive's `register` hook publishes the manifest to put
 * on chain (`pending`), the page's wallet sends `registerContent` (live manifest) or
 * `updateManifest` (final manifest), and the hook returns once the chain shows it. Its `liveState`
 * hook does the same for LiveStreams: `startLive` after the registration, `endLive` after the final
 * manifest, each published only when the chain does not show it yet (a resumed stream, a reload).
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
import type { LiveStateAnnouncer } from "@streamvault/lib/live/archiver.ts";
import type { ChainContext } from "@streamvault/lib/catalog/chain/client.ts";
import { liveCallsTo } from "@streamvault/lib/chain/live-calls.ts";
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
interface PendingRegistration {
  /** registerContent for a new item (the live manifest), updateManifest for a registered one (the final manifest) */
  action: "registerContent" | "updateManifest";
  manifestCid: string;
  externalId: Hex;
  contentId: Hex;
  tier: Tier;
}

/** A LiveStreams announcement the creator's wallet must send now (the page reads streamOf first and sends only what is missing). */
interface PendingAnnouncement {
  action: "startLive" | "endLive";
  contentId: Hex;
  /** endLive: the segments of the final manifest */
  segments?: number;
}

/** What the creator's wallet must send now (`pending` of GET /api/studio/<address>/live/<id>). */
export type PendingWalletAction = PendingRegistration | PendingAnnouncement;

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
  pending?: PendingWalletAction;
  /** archiveLive has returned: nothing more will be pending */
  finished: boolean;
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
 * Publishes `pending` and waits until `shown()` says the chain has it, or `deadline`, or
 * `giveUp()`; it is unpublished either way (unless another action replaced it).
 */
async function awaitWallet(stream: BrowserStream, pending: PendingWalletAction, shown: () => Promise<boolean>, deadline: number, giveUp: () => string | undefined = () => undefined): Promise<void> {
  stream.pending = pending;
  try {
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      if (await shown().catch(() => false)) return;
      const why = giveUp();
      if (why) throw new Error(why);
    }
    throw new Error(`the creator's wallet did not send ${pending.action} within ${WALLET_TIMEOUT_MS / 1000} s`);
  } finally {
    if (stream.pending === pending) stream.pending = undefined;
  }
}

/**
 * archiveLive's `liveState`: LiveStreams announcements sent by the creator's wallet in the page.
 * Each reads streamOf first (lib/catalog/chain/live.ts readLiveStream, the rule of
 * lib/chain/live-calls.ts) and publishes only what is missing. The start gives up when the input
 * ends (the end announcement then starts the item first, as the CLI's does); a failure is the
 * archiver's warning and never stops the stream; the page offers the announcement again.
 */
function walletLiveState(stream: BrowserStream, chain: ChainContext): LiveStateAnnouncer {
  const lib = () => import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/chain/live.ts");
  const reaches = async (target: "live" | "ended") => liveCallsTo((await (await lib()).readLiveStream(chain, stream.contentId)).status, target).length === 0;
  return {
    async start(contentId) {
      if (await reaches("live")) return undefined;
      await awaitWallet(stream, { action: "startLive", contentId }, () => reaches("live"), Date.now() + WALLET_TIMEOUT_MS, () => (stream.ended ? "the stream's input ended before the creator's wallet announced it live" : undefined));
      return undefined;
    },
    async end(contentId, segments) {
      if (await reaches("ended")) return undefined;
      await awaitWallet(stream, { action: "endLive", contentId, segments }, () => reaches("ended"), Date.now() + WALLET_TIMEOUT_MS);
      return undefined;
    },
  };
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
    const action = current === undefined ? "registerContent" : "updateManifest";
    try {
      await awaitWallet(stream, { action, manifestCid: request.manifestCid, externalId: request.externalId, contentId: stream.contentId, tier: stream.tier }, async () => (await onChain()) === request.manifestCid, deadline);
    } catch {
      throw new Error(`the creator's wallet did not put manifest ${request.manifestCid} on chain within ${WALLET_TIMEOUT_MS / 1000} s`);
    }
    return { contentId: stream.contentId, outcome: action === "registerContent" ? "registered" : "updated" };
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
  const stream: BrowserStream = { id, creator, contentId, externalId, tier: options.tier, feed, nextSeq: 0, bytesAccepted: 0, ended: false, finished: false, done: Promise.resolve(undefined) };
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
      liveState: walletLiveState(stream, chain),
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
      stream.finished = true;
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

/** Ids of `creator`'s browser streams in this process, newest first (at most `limit`): what a reloaded studio page lists. */
export function browserStreamIdsOf(creator: Address, limit = 20): string[] {
  return [...streams.values()].filter((s) => s.creator === creator).reverse().slice(0, limit).map((s) => s.id);
}

/** What the creator's page needs besides the public record: the seq expected, what its wallet must send now, and whether the archiver is done (nothing more to send). */
export function browserStreamControl(creator: Address, id: string): { id: string; contentId: Hex; externalId: Hex; tier: Tier; nextSeq: number; bytesAccepted: number; inputEnded: boolean; finished: boolean; pending: PendingWalletAction | null; error: string | null } {
  const s = streamOf(creator, id);
  return { id: s.id, contentId: s.contentId, externalId: s.externalId, tier: s.tier, nextSeq: s.nextSeq, bytesAccepted: s.bytesAccepted, inputEnded: s.ended, finished: s.finished, pending: s.pending ?? null, error: s.error ?? null };
}
