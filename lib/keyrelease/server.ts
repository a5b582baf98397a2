/**
 * node:http adapter for the key-release handlers (tests, benchmarks, a standalone deployment).
 * Next.js route handlers call the same handlers directly (see README in this folder).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BodyTooLargeError, readNodeBody } from "../http/body-limit.ts";
import { MAX_JSON_BODY, responseBodyText, setPeerAddress, setRequestBodyText } from "./http.ts";
import { createKeyReleaseService, type KeyReleaseService, type KeyReleaseServiceOptions } from "./service.ts";

export interface KeyReleaseServer {
  url: string;
  port: number;
  service: KeyReleaseService;
  server: Server;
  close(): Promise<void>;
}

export type StartKeyReleaseServerOptions = { port?: number; host?: string } & ({ service: KeyReleaseService } | KeyReleaseServiceOptions);

/**
 * Converts a node request to a Fetch Request (body buffered, at most 16 KB: a longer one, declared or
 * streamed, throws BodyTooLargeError before more is read) tagged with the peer's IP.
 */
async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const body = await readNodeBody(req, MAX_JSON_BODY);
  const length = body.length;
  // rawHeaders keeps repeated headers as separate pairs.
  const headers: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD" && length > 0;
  // The body goes to the handler as text (see setRequestBodyText), not as a stream to read back.
  const request = new Request(new URL(req.url ?? "/", origin), { method, headers });
  if (hasBody) setRequestBodyText(request, body.toString("utf8"));
  setPeerAddress(request, req.socket.remoteAddress ?? "unknown");
  return request;
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === "set-cookie") return;
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  const text = responseBodyText(response);
  const body = text !== undefined ? Buffer.from(text, "utf8") : Buffer.from(await response.arrayBuffer());
  headers["content-length"] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * 413 and close: the rest of the body is never read (node would otherwise drain it to reuse the
 * connection), so the sender of a 3 GB body learns at once and the server spends nothing on it.
 */
function refuseTooLarge(res: ServerResponse, error: BodyTooLargeError): void {
  const body = JSON.stringify({ error: "too_large", message: error.message });
  res.writeHead(413, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), connection: "close" });
  res.end(body, () => res.socket?.destroy());
}

/** Starts the key-release HTTP server; `port: 0` picks a free port. */
export async function startKeyReleaseServer(options: StartKeyReleaseServerOptions): Promise<KeyReleaseServer> {
  const host = options.host ?? "127.0.0.1";
  const owned = !("service" in options);
  const service = "service" in options ? options.service : await createKeyReleaseService(options);
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const origin = `http://${host.includes(":") ? `[${host}]` : host}`;
    toRequest(req, origin)
      .then((request) => service.handle(request).then((response) => send(res, response)))
      .catch((error: unknown) => {
        if (error instanceof BodyTooLargeError) return refuseTooLarge(res, error);
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "internal_error", message: "the server failed to handle this request" }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    service,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (owned) await service.close();
    },
  };
}
