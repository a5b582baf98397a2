/**
 * The client's address behind a known number of trusted reverse proxies.
 *
 * Each proxy appends the address it received the connection from to X-Forwarded-For, so the list
 * read together with the socket peer is `client-claimed..., proxyN-saw, ..., peer`. Only the
 * right-most entries were written by machines we trust: with `trustedHops` proxies in front, the
 * client is the entry `trustedHops` places left of the peer. Anything further left was written by
 * the client itself and is never believed (the left-most entry is the easiest one to spoof).
 */
import { isIP } from "node:net";

/** Strips the IPv4-mapped IPv6 prefix and brackets/ports some proxies leave ("[::1]:80", "1.2.3.4:5"). */
function normalize(entry: string): string | undefined {
  let value = entry.trim();
  if (value === "") return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) value = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
  if (value.toLowerCase().startsWith("::ffff:") && isIP(value.slice(7)) === 4) value = value.slice(7);
  return isIP(value) !== 0 ? value.toLowerCase() : undefined;
}

/**
 * The client address for rate limits and audit: `peer` (the TCP socket's remote address) when
 * `trustedHops` is 0, else the X-Forwarded-For entry `trustedHops` to the left of the peer.
 * When the header is shorter than the configured hops (a request that skipped a proxy), or the entry
 * is not an IP address, the left-most address that a trusted proxy wrote is used instead of anything
 * the client wrote; "unknown" only when there is no peer at all.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null | undefined, trustedHops: number): string {
  const socket = peer === undefined ? undefined : normalize(peer);
  if (trustedHops <= 0 || forwardedFor == null) return socket ?? "unknown";
  // Repeated X-Forwarded-For headers arrive joined with ", " (Fetch Headers), same as one list.
  const chain = [...forwardedFor.split(","), peer ?? ""];
  const index = chain.length - 1 - trustedHops;
  // Fewer entries than trusted hops: the request did not pass every proxy; the left-most entry is
  // still one a trusted proxy wrote (or the peer itself).
  const chosen = normalize(chain[Math.max(index, 0)]!);
  return chosen ?? socket ?? "unknown";
}

/** TRUSTED_PROXY_HOPS from the environment: a non-negative integer, default 0 (use the socket address). */
export function trustedProxyHops(env: Record<string, string | undefined> = process.env): number {
  const raw = env.TRUSTED_PROXY_HOPS;
  if (raw === undefined || raw.trim() === "") return 0;
  if (!/^\d+$/.test(raw.trim())) throw new Error(`TRUSTED_PROXY_HOPS must be the number of reverse proxies in front of this server (0 when clients connect directly), not "${raw}"`);
  return Number(raw.trim());
}
