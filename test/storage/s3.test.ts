/**
 * S3Store against a real Ceph RADOS Gateway on loopback (test/storage/ceph.ts), started once for
 * the whole suite.
 */
import { expect } from "chai";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import * as Piece from "@filoz/synapse-core/piece";
import { DeleteObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { S3Store, S3StoreError, S3_MIN_PART_BYTES, s3StoreFromEnv } from "@streamvault/lib/storage/s3.ts";
import { computePieceCid } from "@streamvault/lib/storage/piece.ts";
import { PieceIntegrityError, PieceNotFoundError } from "@streamvault/lib/storage/types.ts";
import { CEPH_START_TIMEOUT_MS, cephOrSkip, startCeph } from "./ceph.ts";
import type { CephRgw } from "./ceph.ts";
import { describeConformance, testBytes } from "./conformance.ts";

const BUCKET = "sv-pieces";

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("S3Store on Ceph RADOS Gateway", function () {
  this.timeout(120_000);
  let ceph: CephRgw | undefined;
  let store: S3Store;
  const stores: S3Store[] = [];
  /** A store on the suite's gateway; closed in after(). */
  const open = (extra: Parameters<CephRgw["storeOptions"]>[1] = {}, bucket = BUCKET) => {
    const s = new S3Store(ceph!.storeOptions(bucket, extra));
    stores.push(s);
    return s;
  };

  before(async function () {
    if (!cephOrSkip(this)) return;
    this.timeout(CEPH_START_TIMEOUT_MS + 30_000);
    ceph = await startCeph();
    console.log(
      `      ceph: radosgw at ${ceph.endpoint}` +
        (ceph.isolated ? " (daemons in a private network namespace, reached through a unix-socket relay)" : " (bound to 127.0.0.1, no namespace: not root)"),
    );
    store = open();
    await store.ensureBucket();
  });

  after(async function () {
    this.timeout(60_000);
    for (const s of stores) await s.close();
    // stop() throws if any daemon outlived it.
    await ceph?.stop();
  });

  let prefixCount = 0;
  describeConformance("s3 (Ceph RADOS Gateway)", async () => {
    // A fresh key prefix per test: each starts from an empty store on the shared cluster.
    const prefix = `conformance-${++prefixCount}/`;
    const s = open({ prefix });
    return {
      store: s,
      // Every object's ETag and LastModified: a rewrite of the same bytes would bump LastModified.
      writes: async () => {
        const out = await s.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
        return (out.Contents ?? []).map((o) => [o.Key, o.ETag, o.LastModified?.toISOString(), o.Size]);
      },
    };
  });

  it("keys objects by PieceCID and reports s3://bucket/key as the location, also when it existed", async () => {
    const bytes = testBytes(5000, 101);
    const cid = Piece.calculate(bytes).toString();
    const first = await store.put(bytes);
    expect(first).to.deep.equal({ pieceCid: cid, size: 5000, existed: false, location: `s3://${BUCKET}/pieces/${cid}` });
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `pieces/${cid}` }));
    expect(head.ContentLength).to.equal(5000);
    expect(head.Metadata?.["piece-cid"]).to.equal(cid);
    expect(await store.put(bytes)).to.deep.equal({ ...first, existed: true });
  });

  it("uploads a piece over the multipart threshold in parts and reads it back (whole and across a part boundary)", async function () {
    const mp = open({ multipartThreshold: S3_MIN_PART_BYTES, partSize: S3_MIN_PART_BYTES, prefix: "multipart/" });
    const size = 2 * S3_MIN_PART_BYTES + 12_345;
    const bytes = testBytes(size, 102);
    const progress: number[] = [];
    const res = await mp.put(bytes, { onProgress: (done) => progress.push(done) });
    expect(res.existed).to.equal(false);
    // One report per part, ending at the full size: three parts (5 MiB, 5 MiB, 12,345 B).
    expect(progress).to.have.length(3);
    expect(progress[progress.length - 1]).to.equal(size);
    const head = await mp.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: mp.keyFor(res.pieceCid) }));
    expect(head.ETag).to.match(/-3"$/); // S3's multipart ETag: md5-of-part-md5s "-<parts>"
    expect(Buffer.from(await mp.get(res.pieceCid)).equals(Buffer.from(bytes))).to.equal(true);
    const boundary = S3_MIN_PART_BYTES;
    const across = await mp.get(res.pieceCid, { start: boundary - 10, end: boundary + 9 });
    expect(Buffer.from(across).equals(Buffer.from(bytes.subarray(boundary - 10, boundary + 10)))).to.equal(true);
    // The same bytes under the single-put threshold are found, not uploaded again.
    expect((await mp.put(bytes)).existed).to.equal(true);
  });

  it("an aborted multipart upload leaves neither an object nor an open upload behind", async () => {
    const mp = open({ multipartThreshold: S3_MIN_PART_BYTES, partSize: S3_MIN_PART_BYTES, multipartConcurrency: 2, prefix: "aborted/" });
    const bytes = testBytes(4 * S3_MIN_PART_BYTES, 103);
    const ac = new AbortController();
    const err = await mp.put(bytes, { signal: ac.signal, onProgress: () => ac.abort() }).catch((e: unknown) => e);
    expect((err as Error).name).to.equal("AbortError");
    expect(await mp.has(computePieceCid(bytes))).to.equal(false); // the library's fast hasher: 20 MiB
    const uploads = await mp.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "aborted/" }));
    expect(uploads.Uploads ?? []).to.deep.equal([]);
  });

  it("serves ranged and suffix reads, each byte of the verified piece", async () => {
    const bytes = testBytes(70_000, 104);
    const { pieceCid } = await store.put(bytes);
    const fresh = open();
    // Every request the store sends: [Range, If-Match] headers.
    const sent: Array<[string | undefined, string | undefined]> = [];
    fresh.client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        sent.push([headers.range ?? headers.Range, headers["if-match"] ?? headers["If-Match"]]);
        return next(args);
      },
      { step: "finalizeRequest" },
    );
    // First range: verified whole, ETag remembered; later ranges are If-Match reads of just the range.
    for (const [start, end] of [[1000, 1999], [0, 0], [69_000, 69_999], [12_345, 54_321]]) {
      const got = await fresh.get(pieceCid, { start, end });
      expect(Buffer.from(got).equals(Buffer.from(bytes.subarray(start, end + 1))), `${start}-${end}`).to.equal(true);
    }
    expect(sent[0]).to.deep.equal([undefined, undefined]);
    expect(sent.slice(1).map(([range]) => range)).to.deep.equal(["bytes=0-0", "bytes=69000-69999", "bytes=12345-54321"]);
    expect(sent.slice(1).every(([, ifMatch]) => typeof ifMatch === "string" && ifMatch.length > 2)).to.equal(true);
    // Suffix (the last 100 bytes) through the store and as an HTTP suffix range on a signed URL.
    const tail = await fresh.get(pieceCid, { start: bytes.length - 100 });
    expect(Buffer.from(tail).equals(Buffer.from(bytes.subarray(-100)))).to.equal(true);
    const res = await fetch(fresh.urlFor(pieceCid), { headers: { Range: "bytes=-100" } });
    expect(res.status).to.equal(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes.subarray(-100)))).to.equal(true);
  });

  it("signed URLs: fetch() gets the piece; unsigned and expired requests to the private bucket are refused", async () => {
    const bytes = testBytes(3000, 105);
    const { pieceCid } = await store.put(bytes);
    const signed = store.urlFor(pieceCid);
    const ok = await fetch(signed);
    expect(ok.status).to.equal(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(Buffer.from(bytes))).to.equal(true);

    const unsigned = await fetch(`${ceph!.endpoint}/${BUCKET}/${store.keyFor(pieceCid)}`);
    expect(unsigned.status).to.equal(403);
    expect(await unsigned.text()).to.contain("AccessDenied");

    const shortLived = open({ signedUrlTtl: 1 });
    const expired = await fetch(shortLived.urlFor(pieceCid, new Date(Date.now() - 60_000)));
    expect(expired.status).to.equal(403);

    const tampered = await fetch(signed.replace(store.keyFor(pieceCid), store.keyFor(Piece.calculate(testBytes(3000, 106)).toString())));
    expect(tampered.status).to.equal(403);
  });

  it("urlFor signs exactly what the SDK's presigner signs (same time, same TTL)", async () => {
    const cid = Piece.calculate(testBytes(400, 107)).toString();
    const at = new Date("2026-12-01T10:20:30Z");
    const ours = new URL(store.urlFor(cid, at));
    const sdk = new URL(await store.signedUrl(cid, { signingDate: at }));
    expect(ours.origin + ours.pathname).to.equal(sdk.origin + sdk.pathname);
    expect(Object.fromEntries([...ours.searchParams].sort())).to.deep.equal(Object.fromEntries([...sdk.searchParams].sort()));
    expect(ours.searchParams.get("X-Amz-Expires")).to.equal("3600");
  });

  it("urlFor returns the plain public URL when the bucket is public (S3_PUBLIC_URL)", () => {
    const pub = open({ publicUrl: "https://cdn.example.org/media/" });
    const cid = Piece.calculate(testBytes(400, 108)).toString();
    expect(pub.urlFor(cid)).to.equal(`https://cdn.example.org/media/pieces/${cid}`);
  });

  it("never serves corrupt bytes: an object overwritten on the server fails get() whole and ranged, and put() repairs it", async () => {
    const bytes = testBytes(9000, 109);
    const { pieceCid } = await store.put(bytes);
    const key = store.keyFor(pieceCid);
    // The store has verified this version and remembers its ETag.
    expect(Buffer.from(await store.get(pieceCid, { start: 0, end: 99 })).equals(Buffer.from(bytes.subarray(0, 100)))).to.equal(true);

    const corrupt = bytes.slice();
    corrupt[50] ^= 0xff; // inside the range read below, same length
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: corrupt }));

    const ranged = await store.get(pieceCid, { start: 0, end: 99 }).catch((e: unknown) => e);
    expect(ranged).to.be.instanceOf(PieceIntegrityError);
    const whole = await store.get(pieceCid).catch((e: unknown) => e);
    expect(whole).to.be.instanceOf(PieceIntegrityError);
    expect((whole as PieceIntegrityError).backend).to.equal("s3");
    // A store that never saw the good version verifies whole before any range, too.
    for (const mode of ["etag", "whole"] as const) {
      const err = await open({ rangeVerification: mode }).get(pieceCid, { start: 40, end: 60 }).catch((e: unknown) => e);
      expect(err, mode).to.be.instanceOf(PieceIntegrityError);
    }
    // HEAD still shows an object of the right size, but the store knows it is corrupt: put rewrites.
    const repaired = await store.put(bytes);
    expect(repaired.existed).to.equal(false);
    expect(Buffer.from(await store.get(pieceCid)).equals(Buffer.from(bytes))).to.equal(true);

    // A truncated object is not the piece: has() says so and put() replaces it.
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes.subarray(0, 4000) }));
    expect(await open().has(pieceCid)).to.equal(false);
    expect((await open().put(bytes)).existed).to.equal(false);
    expect(Buffer.from(await open().get(pieceCid, { start: 8000 })).equals(Buffer.from(bytes.subarray(8000)))).to.equal(true);
  });

  it("a deleted object reads as PieceNotFoundError even after its ranges were served", async () => {
    const bytes = testBytes(2000, 110);
    const s = open({ prefix: "deleted/" });
    const { pieceCid } = await s.put(bytes);
    await s.get(pieceCid, { start: 0, end: 9 });
    await s.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: s.keyFor(pieceCid) }));
    const err = await s.get(pieceCid, { start: 0, end: 9 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PieceNotFoundError);
    expect((err as PieceNotFoundError).pieceCid).to.equal(pieceCid);
  });

  it("a server that is down gives a clear error naming the endpoint (get, has, put)", async () => {
    const port = await closedPort();
    const down = open({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
    const bytes = testBytes(1000, 111);
    const cid = Piece.calculate(bytes).toString();
    for (const op of [() => down.get(cid), () => down.has(cid), () => down.put(bytes)]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(S3StoreError);
      expect((err as Error).message).to.contain(`127.0.0.1:${port}`);
      expect((err as Error).message).to.contain("ECONNREFUSED");
      expect((err as Error).message).to.contain("unreachable: check S3_ENDPOINT");
    }
  });

  it("a missing bucket and wrong credentials give errors that say what to fix", async () => {
    const bytes = testBytes(1000, 112);
    const noBucket = await open({}, "sv-no-such-bucket").put(bytes).catch((e: unknown) => e);
    expect(noBucket).to.be.instanceOf(S3StoreError);
    expect((noBucket as Error).message).to.contain('Create bucket "sv-no-such-bucket"');
    const badKey = await open({ secretAccessKey: "wrong-secret" }).put(bytes).catch((e: unknown) => e);
    expect(badKey).to.be.instanceOf(S3StoreError);
    expect((badKey as Error).message).to.contain("S3_SECRET_ACCESS_KEY");
  });

  it("s3StoreFromEnv reads S3_* settings and names what is missing or wrong", async () => {
    const ctx = { dataDir: "/unused" };
    expect(() => s3StoreFromEnv({ S3_ENDPOINT: ceph!.endpoint }, ctx)).to.throw(/S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY/);
    const base = { S3_BUCKET: BUCKET, S3_ACCESS_KEY_ID: ceph!.accessKeyId, S3_SECRET_ACCESS_KEY: ceph!.secretAccessKey };
    expect(() => s3StoreFromEnv({ ...base, S3_SIGNED_URL_TTL: "999999" }, ctx)).to.throw(/S3_SIGNED_URL_TTL/);
    expect(() => s3StoreFromEnv({ ...base, S3_PART_SIZE: "1024" }, ctx)).to.throw(/S3_PART_SIZE/);
    expect(() => s3StoreFromEnv({ ...base, S3_FORCE_PATH_STYLE: "maybe" }, ctx)).to.throw(/S3_FORCE_PATH_STYLE/);
    expect(() => s3StoreFromEnv({ ...base, S3_ENDPOINT: "127.0.0.1:7480" }, ctx)).to.throw(/S3_ENDPOINT must be a URL/);
    const fromEnv = s3StoreFromEnv({ ...base, S3_ENDPOINT: ceph!.endpoint, S3_FORCE_PATH_STYLE: "true", S3_SIGNED_URL_TTL: "120" }, ctx) as S3Store;
    stores.push(fromEnv);
    const bytes = testBytes(600, 113);
    const { pieceCid } = await fromEnv.put(bytes);
    expect(new URL(fromEnv.urlFor(pieceCid)).searchParams.get("X-Amz-Expires")).to.equal("120");
    expect(Buffer.from(await fromEnv.get(pieceCid)).equals(Buffer.from(bytes))).to.equal(true);
  });
});
