/**
 * The web upload endpoints as plain `Request -> Response` handlers (the Next route files mount
 * them; tests and other servers can too):
 *
 *   POST /api/upload?creator=0x…&tier=premium[&freeStandard=1][&previewStart=<seconds>]&name=<file name>&sha256=<hex>
 *        body: the file's raw bytes; headers: the signed request (lib/signed-request)
 *        -> 202 {jobId, job}  once the bytes are in the spool and the job is queued
 *   POST /api/upload?creator=0x…&tier=premium[&freeStandard=1]&album=<title>&track=<sha256>&trackName=<file name>&trackTitle=<title>…
 *        (track, trackName, trackTitle once per track, in track order; at least 2 tracks)
 *        body: the tracks' raw bytes back to back, in order; headers: the signed request covering every track
 *        -> 202 {jobId, job}  one album job (one item: lib/media processAlbum)
 *   GET  /api/upload/jobs/<id>                        -> {job}
 *   GET  /api/upload/jobs?creator=0x…&contentId=0x…   -> {job} (or 404): the job of these bytes
 *   POST /api/upload/jobs/<id>/resume                 signed like the upload, for the job's body -> {job}
 *   POST /api/upload/jobs/<id>/registered {txHash}    the creator's wallet registered it; checked on chain -> {job}
 *
 * The upload's signature is checked from its headers before a byte of the body is read; a
 * declared size over the limit is refused at once; the body is hashed while it streams to disk and
 * cut off at the first byte over its signed size. Every signed body is accepted once.
 */
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Address } from "viem";
import { BodyMismatchError, BodyTooLargeError, claimSignedBody, receiveSignedBodies, signedRequestFromHeaders, verifySignedRequest, type NonceLedger, type SignedBody } from "../../signed-request/index.ts";
import { contentIdFor, externalIdOfSha256, TIERS, type Tier } from "../chain/content.ts";
import { MAX_ALBUM_TRACKS } from "../../media/album.ts";
import { spoolSourceOf, spoolTrackOf } from "./job-worker.ts";
import type { UploadJob, UploadJobAlbum, UploadJobQueue } from "./jobs.ts";
import { albumSha256OfTracks } from "./uploader.ts";

/** The default largest upload: 1 GiB. */
export const DEFAULT_UPLOAD_MAX_BYTES = 1024 * 1024 * 1024;

export interface UploadHttpOptions {
  queue: UploadJobQueue;
  ledger: NonceLedger;
  spoolDir: string;
  /** largest body accepted (default 1 GiB) */
  maxBytes?: number;
  /** this instance's name in the job's lease while it receives */
  owner: string;
  /** Why `wallet` may not upload (for example: it has not launched as a creator), or null. */
  refuseWallet?: (wallet: Address) => Promise<string | null>;
  /** The manifest CID `contentId` is registered with on chain, undefined when not registered. */
  registeredManifest: (contentId: string) => Promise<string | undefined>;
  /** The manifest a manifest was edited from (its `editedFrom`), so an item registered with the job's media under edited details counts as the job's. */
  editedFrom?: (manifestCid: string) => Promise<string | undefined>;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });

/**
 * A refusal sent before (or instead of) reading the whole body: `Connection: close`, so the
 * server does not read and discard the rest of a body it refused.
 */
const refuse = (error: string, status: number) => json({ error }, status, { connection: "close" });

function isAddress(value: string | null): value is Address {
  return value !== null && /^0x[0-9a-fA-F]{40}$/.test(value);
}

export function uploadHttp(options: UploadHttpOptions) {
  const maxBytes = options.maxBytes ?? DEFAULT_UPLOAD_MAX_BYTES;
  const { queue } = options;

  /** POST /api/upload */
  async function receive(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const creator = url.searchParams.get("creator");
    const tier = url.searchParams.get("tier") ?? "premium";
    const name = (url.searchParams.get("name") ?? "upload").slice(0, 200);
    const sha256 = (url.searchParams.get("sha256") ?? "").toLowerCase();
    if (!isAddress(creator)) return refuse("creator must be an address", 400);
    if (!(TIERS as readonly string[]).includes(tier)) return refuse("tier must be free, premium or exclusive", 400);
    const freeStandard = /^(1|true)$/.test(url.searchParams.get("freeStandard") ?? "");
    if (freeStandard && tier === "free") return refuse("freeStandard=1 is for premium and exclusive items (a free item is all in the clear already)", 400);
    const previewText = url.searchParams.get("previewStart") ?? "0";
    if (!/^\d{1,6}(\.\d{1,3})?$/.test(previewText)) return refuse(`previewStart "${previewText}" must be seconds from 0, e.g. 45`, 400);
    const previewStart = Number(previewText);
    const albumTitle = url.searchParams.get("album");
    const isAlbum = albumTitle !== null;
    // A single track is one body; an album is its tracks' bodies back to back, in track order.
    const trackShas = isAlbum ? url.searchParams.getAll("track").map((t) => t.toLowerCase()) : [sha256];
    if (isAlbum) {
      if (!albumTitle.trim()) return refuse("album must be the album's title, e.g. album=Night%20Drive", 400);
      if (trackShas.length < 2) return refuse(`an album needs at least 2 tracks, got ${trackShas.length}: upload a single track without album=, or add tracks (track=<sha256> once per file)`, 400);
      if (trackShas.length > MAX_ALBUM_TRACKS) return refuse(`an album has at most ${MAX_ALBUM_TRACKS} tracks, got ${trackShas.length}: split it into several releases`, 400);
      if (new Set(trackShas).size !== trackShas.length) return refuse("the same file is listed twice as a track: each track must be a different file", 400);
    }
    const bad = trackShas.findIndex((t) => !/^[0-9a-f]{64}$/.test(t));
    if (bad >= 0) return refuse(isAlbum ? `track ${bad + 1}'s sha256 must be its file's SHA-256 in hex (the one you signed)` : "sha256 must be the file's SHA-256 in hex (the one you signed)", 400);

    // 1. The signature, from the headers: nothing of the body has been read yet.
    const { message, signature } = signedRequestFromHeaders(request.headers);
    const verified = await verifySignedRequest({ message, signature, action: "upload", wallet: creator });
    if (!verified.ok) return refuse(verified.reason, verified.status);
    const bodies: SignedBody[] = [];
    for (const [i, t] of trackShas.entries()) {
      const body = verified.fields.bodies.find((b) => b.sha256 === t);
      if (!body) return refuse(isAlbum ? `track ${i + 1}'s SHA-256 is not among the files you signed for: sign the upload again` : "this file's SHA-256 is not among the files you signed for: sign the upload again", 403);
      if (body.size > maxBytes) return refuse(`${isAlbum ? `track ${i + 1}` : "the file"} is ${body.size} bytes, more than the ${maxBytes}-byte upload limit: upload a smaller file`, 413);
      bodies.push(body);
    }
    const size = bodies.reduce((sum, b) => sum + b.size, 0);
    if (size > maxBytes) return refuse(`the album's tracks are ${size} bytes together, more than the ${maxBytes}-byte upload limit: upload fewer or smaller tracks`, 413);
    const declared = request.headers.get("content-length");
    if (declared !== null && Number(declared) !== size) return refuse(`Content-Length ${declared} is not the ${size} bytes signed for`, 400);
    const refusal = await options.refuseWallet?.(creator);
    if (refusal) return refuse(refusal, 403);
    // 2. Single use: each signed body is accepted once, on any instance.
    for (const body of bodies) {
      if (!(await claimSignedBody(options.ledger, verified.fields, body))) return refuse("this signed upload was already used: sign the upload again", 403);
    }

    // 3. One job per creator and bytes: the same file (or album) again gets the job it already has.
    const names = url.searchParams.getAll("trackName");
    const titles = url.searchParams.getAll("trackTitle");
    const album: UploadJobAlbum | undefined = isAlbum
      ? { title: albumTitle.trim().slice(0, 200), tracks: bodies.map((b, i) => ({ fileName: (names[i] || `track ${i + 1}`).slice(0, 200), title: (titles[i] ?? "").trim().slice(0, 200), sha256: b.sha256, size: b.size })) }
      : undefined;
    const jobSha = album ? albumSha256OfTracks(trackShas) : sha256;
    const externalId = externalIdOfSha256(jobSha);
    const contentId = contentIdFor(creator, externalId);
    const reserved = await queue.reserve({ creator, contentId, externalId, sha256: jobSha, size, fileName: album ? album.title : name, tier: tier as Tier, freeStandard, previewStart: album ? 0 : previewStart, album }, options.owner);
    if (!reserved.created) {
      const status = reserved.job.state === "receiving" ? 409 : 200;
      const error = status === 409 ? { error: `this ${album ? "album" : "file"} is being uploaded already (another request holds it); wait for it or try again in a minute` } : {};
      return json({ ...error, jobId: reserved.job.id, job: reserved.job, existing: true }, status, { connection: "close" });
    }
    const { claimed } = reserved;

    // 4. The body, streamed to the spool while hashed and counted; the job is queued when it is whole.
    const targets = album ? album.tracks.map((t, i) => spoolTrackOf(options.spoolDir, claimed.job.id, i + 1, t.fileName)) : [spoolSourceOf(options.spoolDir, claimed.job.id)];
    const parts = targets.map((target, i) => ({ target, file: `${target}.${claimed.token}.part`, expected: bodies[i]! }));
    const heartbeat = setInterval(() => void queue.heartbeat(claimed).catch(() => {}), Math.max(200, Math.floor(queue.leaseMs / 3)));
    try {
      for (const target of targets) await mkdir(path.dirname(target), { recursive: true });
      await receiveSignedBodies(request.body, parts);
      for (const part of parts) await rename(part.file, part.target);
      if (!(await queue.markQueued(claimed))) throw new Error("the upload took so long that its reservation expired: upload it again");
    } catch (err) {
      await queue.abandon(claimed).catch(() => {});
      await rm(path.join(options.spoolDir, claimed.job.id), { recursive: true, force: true }).catch(() => {});
      if (err instanceof BodyTooLargeError || err instanceof BodyMismatchError) return refuse(err.message, err.status);
      return refuse(`the upload did not arrive whole (${(err as Error).message}): try again`, 400);
    } finally {
      clearInterval(heartbeat);
    }
    const job = await queue.get(claimed.job.id);
    return json({ jobId: claimed.job.id, job }, 202);
  }

  /** GET /api/upload/jobs/<id> */
  async function get(id: string): Promise<Response> {
    const job = await queue.get(id);
    return job ? json({ job }) : json({ error: `no upload job ${id}` }, 404);
  }

  /** GET /api/upload/jobs?creator=&contentId= */
  async function find(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const creator = url.searchParams.get("creator");
    const contentId = url.searchParams.get("contentId") ?? "";
    if (!isAddress(creator) || !/^0x[0-9a-fA-F]{64}$/.test(contentId)) return json({ error: "give creator (address) and contentId (bytes32)" }, 400);
    const job = await queue.byContent(creator, contentId);
    return job ? json({ job }) : json({ error: "no upload job for these bytes" }, 404);
  }

  /** POST /api/upload/jobs/<id>/resume: signed by the creator for the job's bytes. */
  async function resume(id: string, request: Request): Promise<Response> {
    const job = await queue.get(id);
    if (!job) return json({ error: `no upload job ${id}` }, 404);
    const { message, signature } = signedRequestFromHeaders(request.headers);
    const verified = await verifySignedRequest({ message, signature, action: "upload", wallet: job.creator as Address });
    if (!verified.ok) return json({ error: verified.reason }, verified.status);
    // An album job is resumed by signing every one of its tracks again.
    const wanted = job.album ? job.album.tracks : [{ sha256: job.sha256, size: job.size }];
    const bodies = wanted.map((w) => verified.fields.bodies.find((b) => b.sha256 === w.sha256 && b.size === w.size));
    if (bodies.some((b) => !b)) return json({ error: job.album ? "sign the upload of every track of this album to resume it" : "sign the upload of this job's file to resume it" }, 403);
    for (const body of bodies) {
      if (!(await claimSignedBody(options.ledger, verified.fields, body))) return json({ error: "this signed request was already used: sign again" }, 403);
    }
    const resumed = await queue.resume(id);
    return typeof resumed === "string" ? json({ error: resumed }, 409) : json({ job: resumed });
  }

  /** POST /api/upload/jobs/<id>/registered: believed only when the chain says so. */
  async function registered(id: string, request: Request): Promise<Response> {
    const job = await queue.get(id);
    if (!job) return json({ error: `no upload job ${id}` }, 404);
    if (!job.result) return json({ error: `upload job ${id} is ${job.state}: nothing to register yet` }, 409);
    const payload = (await request.json().catch(() => ({}))) as { txHash?: unknown };
    const txHash = typeof payload.txHash === "string" && /^0x[0-9a-fA-F]{64}$/.test(payload.txHash) ? payload.txHash : undefined;
    const onChain = await options.registeredManifest(job.contentId);
    if (!onChain) return json({ error: `${job.contentId} is not registered on chain yet: send registerContent, then report it` }, 409);
    if (onChain !== job.result.manifestCid && (await options.editedFrom?.(onChain)) !== job.result.manifestCid) return json({ error: `${job.contentId} is registered with manifest ${onChain}, not this job's ${job.result.manifestCid}` }, 409);
    const updated = await queue.markRegistered(id, txHash);
    return json({ job: updated ?? job });
  }

  return { receive, get, find, resume, registered };
}

export type UploadHttp = ReturnType<typeof uploadHttp>;
export type { UploadJob };
