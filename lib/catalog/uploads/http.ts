/**
 * The web upload endpoints as plain `Request -> Response` handlers (the Next route files mount
 * them; tests and other servers can too):
 *
 *   POST /api/upload?creator=0x…&tier=premium[&freeStandard=1][&previewStart=<seconds>]&name=<file name>&sha256=<hex>
 *        body: the file's raw bytes; headers: the signed request (lib/signed-request)
 *        -> 202 {jobId, job}  once the bytes are in the spool and the job is queued
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
import { BodyMismatchError, BodyTooLargeError, claimSignedBody, receiveSignedBody, signedRequestFromHeaders, verifySignedRequest, type NonceLedger } from "../../signed-request/index.ts";
import { contentIdFor, externalIdOfSha256, TIERS, type Tier } from "../chain/content.ts";
import { spoolSourceOf } from "./job-worker.ts";
import type { UploadJob, UploadJobQueue } from "./jobs.ts";

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
    if (!/^[0-9a-f]{64}$/.test(sha256)) return refuse("sha256 must be the file's SHA-256 in hex (the one you signed)", 400);

    // 1. The signature, from the headers: nothing of the body has been read yet.
    const { message, signature } = signedRequestFromHeaders(request.headers);
    const verified = await verifySignedRequest({ message, signature, action: "upload", wallet: creator });
    if (!verified.ok) return refuse(verified.reason, verified.status);
    const body = verified.fields.bodies.find((b) => b.sha256 === sha256);
    if (!body) return refuse("this file's SHA-256 is not among the files you signed for: sign the upload again", 403);
    if (body.size > maxBytes) return refuse(`the file is ${body.size} bytes, more than the ${maxBytes}-byte upload limit: upload a smaller file`, 413);
    const declared = request.headers.get("content-length");
    if (declared !== null && Number(declared) !== body.size) return refuse(`Content-Length ${declared} is not the ${body.size} bytes signed for`, 400);
    const refusal = await options.refuseWallet?.(creator);
    if (refusal) return refuse(refusal, 403);
    // 2. Single use: this signed body is accepted once, on any instance.
    if (!(await claimSignedBody(options.ledger, verified.fields, body))) return refuse("this signed upload was already used: sign the upload again", 403);

    // 3. One job per creator and bytes: the same file again gets the job it already has.
    const contentId = contentIdFor(creator, externalIdOfSha256(sha256));
    const reserved = await queue.reserve({ creator, contentId, externalId: externalIdOfSha256(sha256), sha256, size: body.size, fileName: name, tier: tier as Tier, freeStandard, previewStart }, options.owner);
    if (!reserved.created) {
      const status = reserved.job.state === "receiving" ? 409 : 200;
      const error = status === 409 ? { error: "this file is being uploaded already (another request holds it); wait for it or try again in a minute" } : {};
      return json({ ...error, jobId: reserved.job.id, job: reserved.job, existing: true }, status, { connection: "close" });
    }
    const { claimed } = reserved;

    // 4. The body, streamed to the spool while hashed and counted; the job is queued when it is whole.
    const source = spoolSourceOf(options.spoolDir, claimed.job.id);
    const partial = `${source}.${claimed.token}.part`;
    const heartbeat = setInterval(() => void queue.heartbeat(claimed).catch(() => {}), Math.max(200, Math.floor(queue.leaseMs / 3)));
    try {
      await mkdir(path.dirname(source), { recursive: true });
      await receiveSignedBody(request.body, partial, body);
      await rename(partial, source);
      if (!(await queue.markQueued(claimed))) throw new Error("the upload took so long that its reservation expired: upload it again");
    } catch (err) {
      await queue.abandon(claimed).catch(() => {});
      await rm(path.dirname(source), { recursive: true, force: true }).catch(() => {});
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
    const body = verified.fields.bodies.find((b) => b.sha256 === job.sha256 && b.size === job.size);
    if (!body) return json({ error: "sign the upload of this job's file to resume it" }, 403);
    if (!(await claimSignedBody(options.ledger, verified.fields, body))) return json({ error: "this signed request was already used: sign again" }, 403);
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
