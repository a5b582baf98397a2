import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Piece from "@filoz/synapse-core/piece";
import { startGateway } from "@streamvault/lib/storage/gateway.ts";
import type { Gateway } from "@streamvault/lib/storage/gateway.ts";
import { LocalStore } from "@streamvault/lib/storage/local.ts";
import { ReplicatedStore } from "@streamvault/lib/storage/replicated.ts";
import { faultyStore } from "@streamvault/lib/storage/faulty.ts";
import { testBytes } from "./conformance.ts";

describe("piece gateway", function () {
  let dir: string;
  let store: LocalStore;
  let gw: Gateway;
  const bytes = testBytes(5000, 42);
  let cid: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sv-gw-"));
    store = new LocalStore({ dir });
    cid = (await store.put(bytes)).pieceCid;
    gw = await startGateway({ store, port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await gw.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("listens on a free 127.0.0.1 port and answers /health", async () => {
    expect(gw.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.port).to.be.greaterThan(0);
    const res = await fetch(`${gw.url}/health`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ ok: true, backend: "local" });
  });

  it("GET /piece/:cid returns the bytes with immutable caching, ETag and CORS", async () => {
    const res = await fetch(`${gw.url}/piece/${cid}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("cache-control")).to.equal("public, max-age=31536000, immutable");
    expect(res.headers.get("etag")).to.equal(`"${cid}"`);
    expect(res.headers.get("access-control-allow-origin")).to.equal("*");
    expect(res.headers.get("accept-ranges")).to.equal("bytes");
    expect(res.headers.get("content-length")).to.equal("5000");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(Piece.calculate(body).toString()).to.equal(cid);
  });

  it("HEAD returns headers and no body", async () => {
    const res = await fetch(`${gw.url}/piece/${cid}`, { method: "HEAD" });
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-length")).to.equal("5000");
    expect((await res.arrayBuffer()).byteLength).to.equal(0);
  });

  it("Range requests give 206 with Content-Range (closed, open and suffix ranges)", async () => {
    const r1 = await fetch(`${gw.url}/piece/${cid}`, { headers: { Range: "bytes=10-19" } });
    expect(r1.status).to.equal(206);
    expect(r1.headers.get("content-range")).to.equal("bytes 10-19/5000");
    expect(Buffer.from(await r1.arrayBuffer()).equals(Buffer.from(bytes.subarray(10, 20)))).to.equal(true);

    const r2 = await fetch(`${gw.url}/piece/${cid}`, { headers: { Range: "bytes=4990-" } });
    expect(r2.status).to.equal(206);
    expect(r2.headers.get("content-range")).to.equal("bytes 4990-4999/5000");
    expect(Buffer.from(await r2.arrayBuffer()).equals(Buffer.from(bytes.subarray(4990)))).to.equal(true);

    const r3 = await fetch(`${gw.url}/piece/${cid}`, { headers: { Range: "bytes=-5" } });
    expect(r3.status).to.equal(206);
    expect(r3.headers.get("content-range")).to.equal("bytes 4995-4999/5000");
    expect(r3.headers.get("content-length")).to.equal("5");
    await r3.arrayBuffer();

    const head = await fetch(`${gw.url}/piece/${cid}`, { method: "HEAD", headers: { Range: "bytes=0-99" } });
    expect(head.status).to.equal(206);
    expect(head.headers.get("content-length")).to.equal("100");
  });

  it("unsatisfiable Range gives 416 with Content-Range: bytes */size", async () => {
    const res = await fetch(`${gw.url}/piece/${cid}`, { headers: { Range: "bytes=5000-6000" } });
    expect(res.status).to.equal(416);
    expect(res.headers.get("content-range")).to.equal("bytes */5000");
    await res.arrayBuffer();
  });

  it("If-None-Match with the ETag gives 304; If-Range mismatch gives the full 200", async () => {
    const r1 = await fetch(`${gw.url}/piece/${cid}`, { headers: { "If-None-Match": `"${cid}"` } });
    expect(r1.status).to.equal(304);
    const r2 = await fetch(`${gw.url}/piece/${cid}`, { headers: { Range: "bytes=0-9", "If-Range": '"other"' } });
    expect(r2.status).to.equal(200);
    expect((await r2.arrayBuffer()).byteLength).to.equal(5000);
  });

  it("a store whose reads fail answers with its error code's status (503 unavailable), not a bare 500", async () => {
    const errors: unknown[] = [];
    const failing = await startGateway({ store: faultyStore(store, { failReadRate: 1 }), onError: (err) => errors.push(err) });
    try {
      const res = await fetch(`${failing.url}/piece/${cid}`);
      expect(res.status).to.equal(503);
      expect(await res.text()).to.equal("unavailable\n");
      expect(errors.map((e) => (e as Error).name)).to.deep.equal(["InjectedFaultError"]);
    } finally {
      await failing.close();
    }
  });

  it("404 for an absent piece, 400 for a malformed CID, 405 for writes, 204 for CORS preflight", async () => {
    const absent = Piece.calculate(testBytes(300, 7)).toString();
    const r404 = await fetch(`${gw.url}/piece/${absent}`);
    expect(r404.status).to.equal(404);
    await r404.text();
    const r400 = await fetch(`${gw.url}/piece/not-a-cid`);
    expect(r400.status).to.equal(400);
    await r400.text();
    const r405 = await fetch(`${gw.url}/piece/${cid}`, { method: "PUT", body: "x" });
    expect(r405.status).to.equal(405);
    await r405.text();
    const pre = await fetch(`${gw.url}/piece/${cid}`, { method: "OPTIONS" });
    expect(pre.status).to.equal(204);
    expect(pre.headers.get("access-control-allow-headers")).to.contain("Range");
  });

  it("serves through a non-streaming store (ReplicatedStore) with verified bytes", async () => {
    const rep = new ReplicatedStore({ writeTo: [store] });
    const gw2 = await startGateway({ store: rep, port: 0 });
    try {
      const res = await fetch(`${gw2.url}/piece/${cid}`, { headers: { Range: "bytes=100-109" } });
      expect(res.status).to.equal(206);
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes.subarray(100, 110)))).to.equal(true);
    } finally {
      await gw2.close();
    }
  });
});
