/**
 * S3-compatible backend (AWS S3, Storj DCS, Ceph RADOS Gateway) with `@aws-sdk/client-s3`.
 *
 * - Objects are keyed by PieceCID: `<prefix><pieceCid>` (default prefix `pieces/`).
 * - put() is idempotent: HeadObject first; an object of the right length means `existed: true` and
 *   nothing is written. Pieces at or over `multipartThreshold` go up as a hand-driven multipart
 *   upload (parts of `partSize`, aborted on failure so no orphaned parts are billed).
 * - Every byte get() returns is verified against the PieceCID. A whole read hashes the object.
 *   A ranged read ("etag" mode, the default) first verifies the whole object once and remembers
 *   its ETag; later ranges are fetched with `If-Match: <that ETag>`, so the server only answers
 *   with bytes of the exact object version that was verified. An overwritten object fails the
 *   precondition (412) and is verified whole again before any byte of it is served. "whole" mode
 *   fetches and verifies the whole object for every range (no trust in ETags, more egress).
 * - urlFor(): the public URL when S3_PUBLIC_URL is set, else a presigned GET URL (SigV4 query
 *   signature, S3_SIGNED_URL_TTL seconds) for private buckets.
 */
import { createHash, createHmac } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { CompletedPart, CreateMultipartUploadCommandOutput, GetObjectCommandOutput, UploadPartCommandOutput } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { assertPieceSize, normalizePieceCid, pieceCidOf, pieceSize, resolveRange, sliceRange, verifyPiece } from "./piece.ts";
import { PieceIntegrityError, PieceNotFoundError } from "./types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "./types.ts";
import { StreamVaultError } from "../errors.ts";

/** S3 refuses multipart parts below 5 MiB (except the last one). */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/** SigV4 presigned URLs live at most 7 days. */
export const S3_MAX_SIGNED_URL_TTL = 7 * 24 * 3600;

export type S3RangeVerification = "etag" | "whole";

export interface S3StoreOptions {
  bucket: string;
  /** Service URL, e.g. "https://gateway.storjshare.io" or "http://127.0.0.1:7480"; omitted = AWS. */
  endpoint?: string;
  /** Default "us-east-1" (Storj and Ceph accept any region name). */
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Path-style URLs (`endpoint/bucket/key`); needed for Ceph and IP endpoints. Default: true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** Key prefix of the pieces. Default "pieces/". */
  prefix?: string;
  /** Base URL of a public bucket or CDN in front of it; urlFor() then returns `<publicUrl>/<key>` unsigned. */
  publicUrl?: string;
  /** Lifetime of presigned URLs in seconds. Default 3600, at most 604800. */
  signedUrlTtl?: number;
  /** Pieces of at least this many bytes use multipart upload. Default 64 MiB. */
  multipartThreshold?: number;
  /** Multipart part size in bytes (at least 5 MiB). Default 16 MiB. */
  partSize?: number;
  /** Parts uploaded at once. Default 4. */
  multipartConcurrency?: number;
  /** How ranged reads are verified (see the module comment). Default "etag". */
  rangeVerification?: S3RangeVerification;
  /** SDK attempts per request (first try + retries). Default 3. */
  maxAttempts?: number;
  /** Milliseconds to wait for a TCP connection. Default 5000. */
  connectionTimeoutMs?: number;
  /** Milliseconds of socket inactivity before a request fails. Default 60000. */
  requestTimeoutMs?: number;
  /** Verified ETags remembered (oldest forgotten first). Default 10000. */
  verifiedCacheSize?: number;
}

/** Any S3 failure that is not "piece absent" or "bytes corrupt": names the endpoint, the operation and what to check. */
export class S3StoreError extends StreamVaultError {
  readonly op: string;
  readonly endpoint: string;
  /** The S3 / network error code ("NoSuchBucket", "ECONNREFUSED"), when there was one. */
  readonly s3Code: string | undefined;
  /** HTTP status of the S3 answer, when there was one. */
  readonly status: number | undefined;
  constructor(op: string, endpoint: string, cause: unknown, hint: string) {
    const c = cause as { name?: string; code?: string; message?: string };
    const code = c?.code ?? c?.name;
    super("unavailable", `S3 ${op} on ${endpoint} failed${code ? ` (${code})` : ""}: ${c?.message ?? String(cause)}. ${hint}`, { cause });
    this.name = "S3StoreError";
    this.op = op;
    this.endpoint = endpoint;
    this.s3Code = code;
    this.status = statusOf(cause);
  }
}

/** PieceStore on an S3 bucket; every read verified against the PieceCID. */
export class S3Store implements PieceStore {
  readonly name = "s3";
  readonly verifiesReads = true;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  readonly #opts: Required<Pick<S3StoreOptions, "region" | "forcePathStyle" | "signedUrlTtl" | "multipartThreshold" | "partSize" | "multipartConcurrency" | "rangeVerification">> &
    S3StoreOptions;
  readonly #endpointLabel: string;
  /** key -> ETag of the object version whose whole bytes hashed to the PieceCID. */
  readonly #verified = new Map<string, string>();
  /** Keys whose object failed verification: the next put() overwrites instead of trusting HeadObject. */
  readonly #corrupt = new Set<string>();
  #closed = false;

  constructor(options: S3StoreOptions) {
    if (!options.bucket) throw new Error("S3Store needs a bucket (set S3_BUCKET)");
    if (!options.accessKeyId || !options.secretAccessKey) {
      throw new Error("S3Store needs credentials (set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)");
    }
    const opts = {
      ...options,
      region: options.region || "us-east-1",
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      signedUrlTtl: options.signedUrlTtl ?? 3600,
      multipartThreshold: options.multipartThreshold ?? 64 * 1024 * 1024,
      partSize: options.partSize ?? 16 * 1024 * 1024,
      multipartConcurrency: options.multipartConcurrency ?? 4,
      rangeVerification: options.rangeVerification ?? "etag",
    };
    if (!Number.isInteger(opts.signedUrlTtl) || opts.signedUrlTtl < 1 || opts.signedUrlTtl > S3_MAX_SIGNED_URL_TTL) {
      throw new Error(`S3 signed URL TTL must be 1..${S3_MAX_SIGNED_URL_TTL} seconds, got ${opts.signedUrlTtl} (S3_SIGNED_URL_TTL)`);
    }
    if (!Number.isInteger(opts.partSize) || opts.partSize < S3_MIN_PART_BYTES) {
      throw new Error(`S3 part size must be at least ${S3_MIN_PART_BYTES} bytes (5 MiB), got ${opts.partSize} (S3_PART_SIZE)`);
    }
    if (!Number.isInteger(opts.multipartThreshold) || opts.multipartThreshold < opts.partSize) {
      throw new Error(`S3 multipart threshold (${opts.multipartThreshold}) must be at least the part size (${opts.partSize}) (S3_MULTIPART_THRESHOLD)`);
    }
    if (opts.rangeVerification !== "etag" && opts.rangeVerification !== "whole") {
      throw new Error(`S3 range verification must be "etag" or "whole", got "${opts.rangeVerification}" (S3_VERIFY_RANGES)`);
    }
    if (opts.endpoint !== undefined) {
      try {
        new URL(opts.endpoint);
      } catch {
        throw new Error(`S3_ENDPOINT must be a URL such as http://127.0.0.1:7480, got "${opts.endpoint}"`);
      }
    }
    this.#opts = opts;
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? "pieces/";
    this.#endpointLabel = `${opts.endpoint ?? `s3.${opts.region}.amazonaws.com`} bucket ${opts.bucket}`;
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, sessionToken: opts.sessionToken },
      maxAttempts: opts.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: opts.connectionTimeoutMs ?? 5000, requestTimeout: opts.requestTimeoutMs ?? 60_000 },
      // Storj and Ceph do not all speak the SDK's newer default CRC checksums; we send Content-MD5
      // on writes and verify reads against the PieceCID ourselves.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  /** Object key of a piece (the CID is validated first, so the key is safe). */
  keyFor(pieceCid: string): string {
    return `${this.prefix}${normalizePieceCid(pieceCid)}`;
  }

  /** `s3://bucket/key`: the address recorded as this copy's mirror location. */
  locationFor(pieceCid: string): string {
    return `s3://${this.bucket}/${this.keyFor(pieceCid)}`;
  }

  /** Create the bucket when it does not exist (setup scripts and tests; the store never does it implicitly). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw this.#wrap("HeadBucket", err);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const name = (err as Error).name;
      if (name !== "BucketAlreadyOwnedByYou") throw this.#wrap("CreateBucket", err);
    }
  }

  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    assertPieceSize(bytes.length);
    options.signal?.throwIfAborted();
    const pieceCid = pieceCidOf(bytes, options.pieceCid);
    const size = bytes.length;
    const key = this.keyFor(pieceCid);
    const location = `s3://${this.bucket}/${key}`;
    // A known-corrupt object is overwritten (repair); otherwise an object of the right length is
    // this piece: the key is its content address.
    if (!this.#corrupt.has(key)) {
      const head = await this.#head(key, options.signal);
      if (head !== undefined && head.size === size) {
        options.onProgress?.(size, size);
        return { pieceCid, size, existed: true, location };
      }
    }
    if (size >= this.#opts.multipartThreshold) await this.#putMultipart(key, pieceCid, bytes, options);
    else {
      await this.#send("PutObject", new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: size, ContentMD5: md5(bytes), ContentType: "application/octet-stream", Metadata: { "piece-cid": pieceCid } }), options.signal);
      options.onProgress?.(size, size);
    }
    this.#corrupt.delete(key);
    this.#verified.delete(key);
    return { pieceCid, size, existed: false, location };
  }

  async #putMultipart(key: string, pieceCid: string, bytes: Uint8Array, options: PutOptions): Promise<void> {
    const size = bytes.length;
    const partSize = this.#opts.partSize;
    const created = await this.#send<CreateMultipartUploadCommandOutput>("CreateMultipartUpload", new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: "application/octet-stream", Metadata: { "piece-cid": pieceCid } }), options.signal);
    const uploadId = created.UploadId;
    if (!uploadId) throw new S3StoreError("CreateMultipartUpload", this.#endpointLabel, new Error("no UploadId in the answer"), "The service does not speak S3 multipart; raise S3_MULTIPART_THRESHOLD above your largest piece.");
    const partCount = Math.ceil(size / partSize);
    const parts: CompletedPart[] = new Array(partCount);
    let uploaded = 0;
    let next = 0;
    let failed = false;
    // Workers take the next part until all are done or one fails (then the others stop too).
    const worker = async () => {
      try {
        while (next < partCount && !failed) {
          const index = next++;
          options.signal?.throwIfAborted();
          const body = bytes.subarray(index * partSize, Math.min((index + 1) * partSize, size));
          const out = await this.#send<UploadPartCommandOutput>("UploadPart", new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: body, ContentLength: body.length, ContentMD5: md5(body) }), options.signal);
          parts[index] = { PartNumber: index + 1, ETag: out.ETag };
          uploaded += body.length;
          options.onProgress?.(uploaded, size);
        }
      } catch (err) {
        failed = true;
        throw err;
      }
    };
    try {
      const results = await Promise.allSettled(Array.from({ length: Math.min(this.#opts.multipartConcurrency, partCount) }, worker));
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (rejected) throw rejected.reason;
      await this.#send("CompleteMultipartUpload", new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), options.signal);
    } catch (err) {
      // Every worker has stopped; abort without the caller's (possibly aborted) signal: uploaded
      // parts are billed until the upload is aborted.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => {});
      throw err;
    }
  }

  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    const cid = normalizePieceCid(pieceCid);
    const key = this.keyFor(cid);
    const size = pieceSize(cid);
    if (range === undefined) return this.#getVerified(cid, key);
    const { start, end } = resolveRange(range, size);
    const etag = this.#verified.get(key);
    if (this.#opts.rangeVerification === "etag" && etag !== undefined) {
      try {
        const out = await this.#send<GetObjectCommandOutput>("GetObject", new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end}`, IfMatch: etag }));
        const bytes = await out.Body!.transformToByteArray();
        // The server promised this is the verified version; a wrong length or ETag means it is not.
        if (bytes.length === end - start + 1 && out.ETag === etag) return bytes;
      } catch (err) {
        if (err instanceof PieceNotFoundError) this.#verified.delete(key);
        // 412 Precondition Failed: the object changed since it was verified.
        if (!(err instanceof S3StoreError && err.status === 412)) throw err;
      }
      // Replaced since it was verified: verify the current version whole before serving any of it.
      this.#verified.delete(key);
    }
    return sliceRange(await this.#getVerified(cid, key), { start, end });
  }

  /** GET the whole object and hash it; remembers the ETag of a version that verified. */
  async #getVerified(cid: string, key: string): Promise<Uint8Array> {
    const out = await this.#send<GetObjectCommandOutput>("GetObject", new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const bytes = await out.Body!.transformToByteArray();
    try {
      verifyPiece(bytes, cid, this.name);
    } catch (err) {
      this.#verified.delete(key);
      if (err instanceof PieceIntegrityError) this.#corrupt.add(key);
      throw err;
    }
    this.#corrupt.delete(key);
    if (out.ETag) this.#remember(key, out.ETag);
    return bytes;
  }

  #remember(key: string, etag: string): void {
    this.#verified.delete(key);
    this.#verified.set(key, etag);
    const max = this.#opts.verifiedCacheSize ?? 10_000;
    while (this.#verified.size > max) this.#verified.delete(this.#verified.keys().next().value!);
  }

  async has(pieceCid: string): Promise<boolean> {
    const cid = normalizePieceCid(pieceCid);
    const head = await this.#head(this.keyFor(cid));
    return head !== undefined && head.size === pieceSize(cid);
  }

  /** Remove the object (placement dropping this copy); false when there was none. */
  async delete(pieceCid: string): Promise<boolean> {
    const cid = normalizePieceCid(pieceCid);
    const key = this.keyFor(cid);
    if ((await this.#head(key)) === undefined) return false;
    await this.#send("DeleteObject", new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    this.#verified.delete(key);
    this.#corrupt.delete(key);
    return true;
  }

  /** HeadObject: size and ETag, or undefined when absent. */
  async #head(key: string, signal?: AbortSignal): Promise<{ size: number; etag?: string } | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return { size: out.ContentLength ?? -1, etag: out.ETag };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.#wrap("HeadObject", err);
    }
  }

  /**
   * A URL a browser can GET the piece from: `<S3_PUBLIC_URL>/<key>` for a public bucket, else a
   * presigned URL valid for S3_SIGNED_URL_TTL seconds (signed here, synchronously: SigV4 is a few
   * HMACs, and callers such as redirects need the URL without awaiting).
   */
  urlFor(pieceCid: string, now: Date = new Date()): string {
    const key = this.keyFor(pieceCid);
    if (this.#opts.publicUrl) return `${this.#opts.publicUrl.replace(/\/+$/, "")}/${encodeKey(key)}`;
    return presignGetUrl({
      objectUrl: this.#objectUrl(key),
      region: this.#opts.region,
      accessKeyId: this.#opts.accessKeyId,
      secretAccessKey: this.#opts.secretAccessKey,
      sessionToken: this.#opts.sessionToken,
      expiresIn: this.#opts.signedUrlTtl,
      now,
    });
  }

  /** The same presigned URL made by the SDK's presigner (async; used to cross-check urlFor). */
  async signedUrl(pieceCid: string, options: { expiresIn?: number; signingDate?: Date } = {}): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.keyFor(pieceCid) }), {
      expiresIn: options.expiresIn ?? this.#opts.signedUrlTtl,
      signingDate: options.signingDate,
    });
  }

  /** Unsigned URL of an object (what a presigned URL signs). */
  #objectUrl(key: string): URL {
    const base = new URL(this.#opts.endpoint ?? `https://s3.${this.#opts.region}.amazonaws.com`);
    const basePath = base.pathname.replace(/\/+$/, "");
    if (this.#opts.forcePathStyle) {
      base.pathname = `${basePath}/${encodeKey(this.bucket)}/${encodeKey(key)}`;
    } else {
      base.hostname = `${this.bucket}.${base.hostname}`;
      base.pathname = `${basePath}/${encodeKey(key)}`;
    }
    return base;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.client.destroy();
  }

  /** Send a command; maps 404 to PieceNotFoundError (for object reads) and other failures to S3StoreError. */
  async #send<T = unknown>(op: string, command: { input: { Key?: string } }, signal?: AbortSignal): Promise<T> {
    try {
      return (await this.client.send(command as never, { abortSignal: signal })) as T;
    } catch (err) {
      const name = (err as Error).name;
      if (op === "GetObject" && (name === "NoSuchKey" || (statusOf(err) === 404 && name !== "NoSuchBucket"))) {
        const key = command.input.Key ?? "";
        throw new PieceNotFoundError(key.slice(this.prefix.length), this.name);
      }
      if (name === "AbortError") throw err;
      throw this.#wrap(op, err);
    }
  }

  #wrap(op: string, err: unknown): S3StoreError {
    const e = err as { name?: string; code?: string };
    const status = statusOf(err);
    let hint = "Check S3_ENDPOINT, S3_BUCKET and the service's status.";
    if (e?.name === "NoSuchBucket") hint = `Create bucket "${this.bucket}" first (or fix S3_BUCKET).`;
    else if (e?.name === "InvalidBucketName") hint = `"${this.bucket}" is not a valid bucket name: 3-63 lowercase letters, digits, dots and hyphens (S3_BUCKET).`;
    else if (status === 403 || e?.name === "InvalidAccessKeyId" || e?.name === "SignatureDoesNotMatch" || e?.name === "AccessDenied") {
      hint = "Check S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY and that the key may use this bucket.";
    } else if (["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT"].includes(e?.code ?? "") || e?.name === "TimeoutError") {
      hint = "The S3 service is unreachable: check S3_ENDPOINT and that the service is up.";
    }
    return new S3StoreError(op, this.#endpointLabel, err, hint);
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("base64");
}

/** RFC 3986 encoding as SigV4 wants it, keeping "/" in keys. */
function encodeKey(key: string): string {
  return key.split("/").map(rfc3986).join("/");
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256Hex = (value: string) => createHash("sha256").update(value).digest("hex");
const hmac = (key: string | Buffer, value: string) => createHmac("sha256", key).update(value).digest();

/**
 * SigV4 query-string presigned GET (the AWS "Authenticating Requests: Using Query Parameters"
 * algorithm), byte-for-byte what `@aws-sdk/s3-request-presigner` produces for a GetObjectCommand.
 */
export function presignGetUrl(p: {
  objectUrl: URL;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiresIn: number;
  now: Date;
}): string {
  const amzDate = p.now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${p.region}/s3/aws4_request`;
  const query: Record<string, string> = {
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD",
    "X-Amz-Credential": `${p.accessKeyId}/${scope}`,
    "X-Amz-Date": amzDate,
    "X-Amz-Expires": String(p.expiresIn),
    "X-Amz-SignedHeaders": "host",
    "x-id": "GetObject",
  };
  if (p.sessionToken) query["X-Amz-Security-Token"] = p.sessionToken;
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${rfc3986(k)}=${rfc3986(query[k])}`)
    .join("&");
  const host = p.objectUrl.host; // includes a non-default port, as the Host header does
  const canonicalRequest = ["GET", p.objectUrl.pathname, canonicalQuery, `host:${host}`, "", "host", "UNSIGNED-PAYLOAD"].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${p.secretAccessKey}`, day), p.region), "s3"), "aws4_request");
  const signature = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  return `${p.objectUrl.origin}${p.objectUrl.pathname}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

/** Parse a boolean env var ("true"/"false"/"1"/"0"); undefined when unset. */
function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (/^(1|true|yes)$/i.test(v)) return true;
  if (/^(0|false|no)$/i.test(v)) return false;
  throw new Error(`${name} must be true or false, got "${v}"`);
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number, got "${v}"`);
  return Number(v);
}

/** Options of an S3Store from S3_* environment variables (see lib/storage/README.md, "S3"). */
export function s3OptionsFromEnv(env: NodeJS.ProcessEnv): S3StoreOptions {
  const missing = ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"].filter((n) => !env[n]);
  if (missing.length > 0) {
    throw new Error(`the s3 storage backend needs ${missing.join(", ")} (and S3_ENDPOINT for anything but AWS); see lib/storage/README.md`);
  }
  const rangeVerification = env.S3_VERIFY_RANGES || undefined;
  return {
    bucket: env.S3_BUCKET!,
    endpoint: env.S3_ENDPOINT || undefined,
    region: env.S3_REGION || undefined,
    accessKeyId: env.S3_ACCESS_KEY_ID!,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
    sessionToken: env.S3_SESSION_TOKEN || undefined,
    forcePathStyle: envBool(env, "S3_FORCE_PATH_STYLE"),
    prefix: env.S3_PREFIX ?? undefined,
    publicUrl: env.S3_PUBLIC_URL || undefined,
    signedUrlTtl: envInt(env, "S3_SIGNED_URL_TTL"),
    multipartThreshold: envInt(env, "S3_MULTIPART_THRESHOLD"),
    partSize: envInt(env, "S3_PART_SIZE"),
    rangeVerification: rangeVerification as S3RangeVerification | undefined,
  };
}

/** The `s3` backend from env (the factory createStore wires by name). */
export function s3StoreFromEnv(env: NodeJS.ProcessEnv, _ctx: { dataDir: string; publicUrl?: string }): PieceStore {
  return new S3Store(s3OptionsFromEnv(env));
}
