/**
 * The web app's HTTP server: Next.js (`next start`, or `next dev` with `dev`) behind a node:http
 * server that tells the route handlers which socket each request came from.
 *
 * Why: Next route handlers get a Fetch Request without the socket address. `next start` only sets
 * X-Forwarded-For when the client sent none (`??=` in base-server.js, Next 16), so a client that
 * sends its own X-Forwarded-For chooses the address it is rate-limited as, and without the header
 * every request looked the same to key release ("unknown": one bucket for every fan). This server
 * overwrites `x-streamvault-peer` with the socket's remote address on every request; the route
 * handlers read it (lib/server/client-address.ts) together with TRUSTED_PROXY_HOPS.
 *
 *   node server.ts [start|dev] [--hostname 127.0.0.1] [--port 3000]
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import next from "next";

export const PEER_HEADER = "x-streamvault-peer";

const args = process.argv.slice(2);
const mode = args[0] === "dev" ? "dev" : "start";
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const hostname = option("hostname", "127.0.0.1");
const port = Number(option("port", process.env.PORT ?? "3000"));
process.env.PORT = String(port);
// Route handlers believe the peer header only when this server is the one that set it.
(globalThis as Record<symbol, unknown>)[Symbol.for("streamvault.peerHeader")] = PEER_HEADER;

const app = next({ dev: mode === "dev", dir: dirname(fileURLToPath(import.meta.url)), hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((req, res) => {
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "";
  handle(req, res).catch((error: unknown) => {
    console.error("request failed:", error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error");
  });
});
server.listen(port, hostname, () => console.log(`web app (${mode}) on http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`));

const stop = () => server.close(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
