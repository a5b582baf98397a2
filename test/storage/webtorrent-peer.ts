/**
 * A separate Node process for the WebTorrent tests, driven by JSON lines on stdin (one request
 * per line: {id, op, ...}) and answering JSON lines on stdout ({id, ok, result} or {id, ok:false,
 * error:{name, message}}). It can host a tracker, piece gateways and WebTorrentStores, so the
 * seeder and the leecher are real, distinct peers (and can share one network namespace).
 */
import { createInterface } from "node:readline";
import { Server as TrackerServer } from "bittorrent-tracker";
import { startGateway } from "@streamvault/lib/storage/gateway.ts";
import type { Gateway } from "@streamvault/lib/storage/gateway.ts";
import { faultyStore } from "@streamvault/lib/storage/faulty.ts";
import { WebTorrentStore } from "@streamvault/lib/storage/webtorrent/index.ts";
import type { ByteRange, PieceStore } from "@streamvault/lib/storage/types.ts";

const stores = new Map<string, WebTorrentStore>();
const gateways = new Map<string, Gateway>();
let tracker: TrackerServer | undefined;

type Request = Record<string, unknown> & { id: number; op: string };

const ops: Record<string, (req: Request) => Promise<unknown>> = {
  async tracker() {
    const server = new TrackerServer({ http: true, udp: true, ws: false, stats: false });
    server.on("error", () => {});
    server.on("warning", () => {});
    // Each socket needs its own address (listen(0, '127.0.0.1') fails with EINVAL on udp6).
    await new Promise<void>((resolve) => server.listen(0, { http: "127.0.0.1", udp: "127.0.0.1", udp6: "::1" }, resolve));
    tracker = server;
    const port = (server.http!.address() as { port: number }).port;
    return { announce: `http://127.0.0.1:${port}/announce` };
  },
  async stopTracker() {
    await new Promise<void>((resolve) => (tracker ? tracker.close(() => resolve()) : resolve()));
    tracker = undefined;
    return true;
  },
  /** A piece gateway over a store directory; `corrupt` PieceCIDs come back with a bit flipped. */
  async gateway(req) {
    const backing = new WebTorrentStore({ dir: req.dir as string });
    const corrupt = new Set((req.corrupt as string[] | undefined) ?? []);
    const flipping = faultyStore(backing, { corruptReadRate: 1 });
    const store: PieceStore = {
      name: "gateway-view",
      put: (b, o) => backing.put(b, o),
      has: (cid) => backing.has(cid),
      get: (cid: string, range?: ByteRange) => (corrupt.has(cid) ? flipping.get(cid, range) : backing.get(cid, range)),
    };
    const gw = await startGateway({ store });
    gateways.set(req.name as string, gw);
    return { url: gw.url };
  },
  async open(req) {
    const store = new WebTorrentStore({
      dir: req.dir as string,
      trackers: req.trackers as string[] | undefined,
      webSeedUrl: req.webSeedUrl as string | undefined,
      fetchTimeoutMs: req.fetchTimeoutMs as number | undefined,
    });
    stores.set(req.store as string, store);
    if (req.start) await store.start();
    return true;
  },
  async put(req) {
    const r = await store(req).put(new Uint8Array(Buffer.from(req.base64 as string, "base64")));
    return r;
  },
  async seedItem(req) {
    return store(req).seedItem(req.itemId as string, req.pieceCids as string[]);
  },
  async addTorrent(req) {
    return store(req).addTorrent(req.magnet as string);
  },
  async get(req) {
    const bytes = await store(req).get(req.pieceCid as string, req.range as ByteRange | undefined);
    return { base64: Buffer.from(bytes).toString("base64") };
  },
  async has(req) {
    return store(req).has(req.pieceCid as string);
  },
  async stats(req) {
    return store(req).stats();
  },
  async close(req) {
    await store(req).close();
    stores.delete(req.store as string);
    return true;
  },
};

function store(req: Request): WebTorrentStore {
  const s = stores.get(req.store as string);
  if (!s) throw new Error(`no store ${String(req.store)} in this peer`);
  return s;
}

const reply = (msg: unknown) => process.stdout.write(JSON.stringify(msg) + "\n");
// Mocha loads every file under test/ (this one too): serve only when run as a process.
if (import.meta.main) serve();

function serve(): void {
  const rl = createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const req = JSON.parse(line) as Request;
    const op = ops[req.op];
    if (!op) return reply({ id: req.id, ok: false, error: { name: "Error", message: `unknown op ${req.op}` } });
    op(req).then(
      (result) => reply({ id: req.id, ok: true, result }),
      (err: Error) => reply({ id: req.id, ok: false, error: { name: err?.name ?? "Error", message: err?.message ?? String(err) } }),
    );
  });
  // Parent gone (stdin closed): release sockets and exit.
  rl.on("close", async () => {
    for (const s of stores.values()) await s.close().catch(() => {});
    for (const g of gateways.values()) await g.close().catch(() => {});
    tracker?.close();
    process.exit(0);
  });
  reply({ id: 0, ok: true, result: { ready: true, pid: process.pid } });
}
