/**
 * A small, faithful in-process IPFS Pinning Service API server
 * (https://ipfs.github.io/pinning-services-api-spec/) for the IpfsStore tests: bearer-token auth,
 * POST /pins, GET /pins (cid, name, status, limit filters), GET/POST/DELETE /pins/:requestid, spec
 * error bodies. It has its own Helia node (an IpfsStore's), and really pins: it dials the pin's
 * `origins`, fetches the whole DAG over bitswap and reports queued -> pinning -> pinned (or failed).
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { IpfsStore } from "@streamvault/lib/storage/ipfs/index.ts";
import type { IpfsNode } from "@streamvault/lib/storage/ipfs/node.ts";
import type { Pin, PinStatus, PinStatusValue } from "@streamvault/lib/storage/ipfs/pinning.ts";

export interface PinningService {
  url: string;
  token: string;
  /** Every status each request went through, in order (for asserting the lifecycle). */
  history: Map<string, PinStatusValue[]>;
  /** Whether the service's own node holds every block of `cid` pinned. */
  holds(cid: string): Promise<boolean>;
  close(): Promise<void>;
}

const STATUSES: PinStatusValue[] = ["queued", "pinning", "pinned", "failed"];

export async function startPinningService(options: { repoDir: string; token: string; fetchTimeoutMs?: number }): Promise<PinningService> {
  const ipfs = new IpfsStore({ repoDir: options.repoDir });
  const node: IpfsNode = await ipfs.start();
  const pins = new Map<string, PinStatus>();
  const history = new Map<string, PinStatusValue[]>();
  const setStatus = (id: string, status: PinStatusValue, info?: Record<string, string>) => {
    const pin = pins.get(id);
    if (!pin) return; // deleted meanwhile
    pin.status = status;
    if (info) pin.info = info;
    history.get(id)!.push(status);
  };

  async function work(id: string): Promise<void> {
    // Let the client see "queued" before work starts, as a real service's queue does.
    await new Promise((r) => setTimeout(r, 50));
    setStatus(id, "pinning");
    const pin = pins.get(id)!;
    try {
      for (const origin of pin.pin.origins ?? []) {
        await node.dial(origin, AbortSignal.timeout(5_000)).catch(() => undefined);
      }
      await node.pin(pin.pin.cid, AbortSignal.timeout(options.fetchTimeoutMs ?? 20_000));
      setStatus(id, "pinned");
    } catch (err) {
      setStatus(id, "failed", { reason: (err as Error).message });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, 500, "INTERNAL_SERVER_ERROR", (err as Error).message));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      return sendError(res, 401, "UNAUTHORIZED", "Access token is missing or invalid");
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const idMatch = /^\/pins\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === "/pins" && req.method === "GET") {
      const cids = url.searchParams.get("cid")?.split(",").filter(Boolean);
      const statuses = (url.searchParams.get("status")?.split(",") ?? ["pinned"]) as PinStatusValue[];
      if (statuses.some((s) => !STATUSES.includes(s))) return sendError(res, 400, "BAD_REQUEST", "unknown status filter");
      if (cids && cids.length > 10) return sendError(res, 400, "BAD_REQUEST", "at most 10 cids per query");
      const name = url.searchParams.get("name");
      const limit = Number(url.searchParams.get("limit") ?? 10);
      const matching = [...pins.values()]
        .filter((p) => (!cids || cids.includes(p.pin.cid)) && statuses.includes(p.status) && (!name || p.pin.name === name))
        .sort((a, b) => b.created.localeCompare(a.created));
      return sendJson(res, 200, { count: matching.length, results: matching.slice(0, limit) });
    }
    if (url.pathname === "/pins" && req.method === "POST") {
      const body = (await readJson(req)) as Pin;
      if (typeof body?.cid !== "string" || !body.cid) return sendError(res, 400, "BAD_REQUEST", "cid is required");
      const id = randomUUID();
      const status: PinStatus = {
        requestid: id,
        status: "queued",
        created: new Date().toISOString(),
        pin: { cid: body.cid, name: body.name, origins: body.origins ?? [], meta: body.meta ?? {} },
        delegates: node.multiaddrs(),
        info: {},
      };
      pins.set(id, status);
      history.set(id, ["queued"]);
      const snapshot = structuredClone(status);
      void work(id);
      return sendJson(res, 202, snapshot);
    }
    if (idMatch) {
      const pin = pins.get(idMatch[1]);
      if (!pin) return sendError(res, 404, "NOT_FOUND", "The specified resource was not found");
      if (req.method === "GET") return sendJson(res, 200, pin);
      if (req.method === "DELETE") {
        pins.delete(idMatch[1]);
        res.writeHead(202).end();
        return;
      }
      if (req.method === "POST") {
        // Replace: the old request is removed and a new one is created for the new pin.
        const body = (await readJson(req)) as Pin;
        pins.delete(idMatch[1]);
        const id = randomUUID();
        const status: PinStatus = { ...pin, requestid: id, status: "queued", created: new Date().toISOString(), pin: { ...pin.pin, ...body } };
        pins.set(id, status);
        history.set(id, ["queued"]);
        const snapshot = structuredClone(status);
        void work(id);
        return sendJson(res, 202, snapshot);
      }
    }
    return sendError(res, 404, "NOT_FOUND", `no route ${req.method} ${url.pathname}`);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    history,
    holds: async (cid) => node.isPinned(cid),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await ipfs.close();
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, reason: string, details: string): void {
  sendJson(res, status, { error: { reason, details } });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
}
