/**
 * The web app's piece route and the node gateway answer from one handler (lib/storage/gateway.ts
 * servePiece): the same status, headers and bytes for Range / If-Range / If-None-Match requests,
 * through a STORAGE_BACKEND set whose first copy is corrupt; and /api/storage/status reports the
 * per-backend counters the route's reads produced.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Piece from "@filoz/synapse-core/piece";
import { LocalStore, createStore, registerBackend, startGateway } from "@streamvault/lib/storage";
import type { Gateway, StorageStatusReport } from "@streamvault/lib/storage";
import { testBytes } from "../storage/conformance.ts";
import { ensureBuild, startWeb, type WebServer } from "./server.ts";

describe("web: /api/piece shares the gateway's reader; /api/storage/status", function () {
  this.timeout(600_000);
  let root: string;
  let web: WebServer;
  let gw: Gateway;
  const bytes = testBytes(9000, 77);
  const cid = Piece.calculate(bytes).toString();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "sv-web-storage-"));
    const pieces = join(root, "pieces");
    const second = join(root, "second");
    // Two real local directories as a set: "local" (read first) and a second backend.
    const env = { STORAGE_BACKEND: "local+local-b", STORAGE_DATA_DIR: pieces, LOCAL_B_DIR: second, STORAGE_READ_ORDER: "local,local-b", STORAGE_REPAIR_CONCURRENCY: "0" };
    registerBackend("local-b", (e) => new LocalStore({ dir: e.LOCAL_B_DIR! }));
    await new LocalStore({ dir: pieces }).put(bytes);
    await new LocalStore({ dir: second }).put(bytes);
    // The first copy is corrupt: both readers must fall back to the second and never serve it.
    const tampered = Buffer.from(bytes);
    tampered[4500] ^= 0x80;
    await writeFile(new LocalStore({ dir: pieces }).pathFor(cid), tampered);

    await ensureBuild();
    // The web server builds the same set from the environment; the backend "local-b" is registered
    // there by a preload module (how an integrator's registerBackend line would run).
    const preload = join(root, "register.mjs");
    const lib = new URL("../../lib/storage/index.ts", import.meta.url).href;
    await writeFile(preload, `import { LocalStore, registerBackend } from ${JSON.stringify(lib)};\nregisterBackend("local-b", (e) => new LocalStore({ dir: e.LOCAL_B_DIR }));\n`);
    web = await startWeb({ ...env, STORAGE_STATS_FILE: join(root, "stats.json"), NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${preload}`.trim() }, { readyPath: "/api/storage/status" });
    gw = await startGateway({ store: createStore({ env: { ...env, STORAGE_STATS: "off" } }) });
  });
  after(async () => {
    await gw?.close();
    await web?.stop();
    await rm(root, { recursive: true, force: true });
  });

  async function summary(res: Response) {
    const pick = ["content-range", "content-length", "etag", "accept-ranges", "cache-control", "access-control-allow-origin"];
    return { status: res.status, headers: Object.fromEntries(pick.map((h) => [h, res.headers.get(h)])), body: Buffer.from(await res.arrayBuffer()).toString("hex") };
  }

  it("same status, headers and verified bytes for plain, Range, If-Range (match/mismatch), suffix, unsatisfiable and If-None-Match requests", async () => {
    const cases: Record<string, string>[] = [
      {},
      { Range: "bytes=100-199" },
      { Range: "bytes=100-199", "If-Range": `"${cid}"` },
      { Range: "bytes=100-199", "If-Range": '"another-validator"' },
      { Range: "bytes=-10" },
      { Range: "bytes=9000-" },
      { "If-None-Match": `"${cid}"` },
    ];
    const statuses: number[] = [];
    for (const headers of cases) {
      const fromWeb = await summary(await fetch(`${web.url}/api/piece/${cid}`, { headers }));
      const fromGateway = await summary(await fetch(`${gw.url}/piece/${cid}`, { headers }));
      // Next.js may send a whole body chunked (no Content-Length); the bytes must still be exactly as long.
      const length = fromGateway.headers["content-length"];
      if (fromWeb.headers["content-length"] === null && length !== null) expect(fromWeb.body.length / 2, JSON.stringify(headers)).to.equal(Number(length));
      const strip = (x: typeof fromWeb) => ({ ...x, headers: { ...x.headers, "content-length": undefined }, body: x.body.length });
      expect(strip(fromWeb), JSON.stringify(headers)).to.deep.equal(strip(fromGateway));
      expect(fromWeb.body === fromGateway.body, JSON.stringify(headers)).to.equal(true);
      statuses.push(fromWeb.status);
    }
    expect(statuses).to.deep.equal([200, 206, 206, 200, 206, 416, 304]);
    // If-Range with a stale validator: both give the whole piece, not the range.
    for (const base of [`${web.url}/api/piece/${cid}`, `${gw.url}/piece/${cid}`]) {
      const stale = await fetch(base, { headers: { Range: "bytes=100-199", "If-Range": '"another-validator"' } });
      expect(stale.status, base).to.equal(200);
      expect(stale.headers.get("content-range"), base).to.equal(null);
      expect(Buffer.from(await stale.arrayBuffer()).equals(Buffer.from(bytes)), base).to.equal(true);
    }
    const whole = await fetch(`${web.url}/api/piece/${cid}`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(Buffer.from(bytes))).to.equal(true);
  });

  it("/api/storage/status reports per-backend reads, the corrupt copies as failures, and latency", async () => {
    const report = (await (await fetch(`${web.url}/api/storage/status`)).json()) as StorageStatusReport & { store: string };
    expect(report.store).to.equal("local+local-b");
    const row = (name: string) => report.backends.find((b) => b.backend === name);
    // Every GET that reached the bytes read "local" (corrupt: a failure) and then "local-b".
    expect(row("local")!.failures).to.be.greaterThan(0);
    expect(row("local-b")!.reads).to.be.greaterThan(0);
    expect(row("local-b")!.readLatencyMs.p50).to.be.a("number");
    expect(row("local-b")!.failures).to.equal(0);
  });
});
