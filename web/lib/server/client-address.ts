/**
 * The client address of a request to a route handler, for key release's per-address limits.
 * web/server.ts writes the socket's remote address into `x-streamvault-peer` on every request
 * (Next gives route handlers no socket); behind TRUSTED_PROXY_HOPS reverse proxies the client is the
 * X-Forwarded-For entry that many places left of it (lib/http/client-address.ts).
 */
import { clientAddress, trustedProxyHops } from "@streamvault/lib/http/client-address.ts";

let warned = false;

/** The address rate limits apply to: the socket peer, or the client behind TRUSTED_PROXY_HOPS proxies. */
export function clientAddressOf(request: Request): string {
  const forwardedFor = request.headers.get("x-forwarded-for");
  const header = (globalThis as Record<symbol, unknown>)[Symbol.for("streamvault.peerHeader")];
  if (typeof header === "string") return clientAddress(request.headers.get(header) || undefined, forwardedFor, trustedProxyHops());
  // Plain `next start`: it puts the socket address in X-Forwarded-For only when the client sent
  // none, so the right-most entry stands in for the peer (and a client can choose its own).
  if (!warned) {
    warned = true;
    console.warn("started without web/server.ts: client addresses come from X-Forwarded-For as `next start` passes it, which a client can write. Start the app with `node server.ts start` (`npm start` in web/).");
  }
  const entries = forwardedFor?.split(",") ?? [];
  const peer = entries.pop()?.trim();
  return clientAddress(peer, entries.length > 0 ? entries.join(",") : null, trustedProxyHops());
}
