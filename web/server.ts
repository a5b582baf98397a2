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
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import next from "next";
import { clientAddress, trustedProxyHops } from "@streamvault/lib/http/client-address.ts";
import { HLS_PATH, hlsPlaylist } from "./lib/server/hls.ts";

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
  const playlist = req.method === "GET" ? HLS_PATH.exec(req.url?.split("?")[0] ?? "") : null;
  if (playlist) return void answerPlaylist(req, res, playlist[1]!, playlist[2]!);
  handle(req, res).catch((error: unknown) => {
    console.error("request failed:", error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error");
  });
});
// WebSocket upgrades (the dev server's hot reload) go to Next as well: a custom server has to pass them on.
const upgrade = app.getUpgradeHandler();
server.on("upgrade", (req, socket, head) => {
  upgrade(req, socket, head).catch(() => socket.destroy());
});
server.listen(port, hostname, () => console.log(`web app (${mode}) on http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`));

/**
 * HLS playlists, answered here rather than by the Next route (the same lib/server/hls.ts): 500 live
 * viewers reload a playlist every 2 s segment, and the route costs far more per request than the
 * playlist does.
 */
async function answerPlaylist(req: IncomingMessage, res: ServerResponse, cid: string, file: string): Promise<void> {
  try {
    const url = new URL(req.url!, "http://localhost");
    const forwardedFor = req.headers["x-forwarded-for"];
    const client = clientAddress(req.socket.remoteAddress, Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor, trustedProxyHops());
    const answer = await hlsPlaylist(cid, file, url.searchParams.get("c"), `${client} ${req.headers["user-agent"] ?? ""}`);
    res.writeHead(answer.status, answer.headers).end(answer.body);
  } catch (error) {
    console.error("playlist request failed:", error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error");
  }
}

const stop = () => server.close(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
