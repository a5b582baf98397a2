/**
 * The `rpc` list handed to Ponder for one chain.
 *
 * Ponder warns "Detected public RPC URL" for every listed URL whose string equals viem's default
 * URL for the chain id. For 31337 viem's anvil/hardhat/foundry chains list http://127.0.0.1:8545,
 * so the local anvil (a loopback node with no rate limit) drew one warning per fan-out entry. A
 * loopback URL is therefore given in its canonical WHATWG form (`new URL(url).href`, which adds the
 * "/" path): the same endpoint, and not the string Ponder compares against. Remote URLs are passed
 * as written, so a real public endpoint (Glif's) still gets Ponder's warning.
 */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** `fanout` copies of `rpcUrl` (Ponder's rate limiter is per listed URL); throws on a malformed URL. */
export function ponderRpcUrls(rpcUrl: string, fanout: number): string[] {
  let url: URL;
  try {
    url = new URL(rpcUrl);
  } catch {
    throw new Error(`RPC_URL "${rpcUrl}" is not a URL: set it to the chain's JSON-RPC endpoint, e.g. http://127.0.0.1:8545`);
  }
  const entry = LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith("127.") ? url.href : rpcUrl;
  return Array.from({ length: Math.max(1, fanout) }, () => entry);
}
