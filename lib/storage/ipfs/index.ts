/**
 * The `ipfs` storage backend (Helia). Import from here; nothing in this entry point loads Helia
 * (it needs Node 22 and is imported on first use), so it is safe on any Node path.
 *
 *   const store = ipfsStoreFromEnv(process.env, { dataDir: ".streamvault/pieces" });
 */
import { dirname, join, resolve } from "node:path";
import { IpfsStore } from "./store.ts";

export * from "./store.ts";
export * from "./pinning.ts";
export * from "./gateway.ts";
export { RootIndex } from "./root-index.ts";
export type { RootRecord } from "./root-index.ts";

/** Split a comma/whitespace separated list of multiaddrs, checking each looks like one. */
function multiaddrList(value: string | undefined, variable: string): string[] {
  const items = (value ?? "").split(/[\s,]+/).filter(Boolean);
  for (const item of items) {
    if (!item.startsWith("/")) {
      throw new Error(`${variable}: ${JSON.stringify(item)} is not a multiaddr (e.g. /ip4/127.0.0.1/tcp/4001${variable === "IPFS_PEERS" ? "/p2p/12D3Koo..." : ""})`);
    }
    if (variable === "IPFS_PEERS" && !item.includes("/p2p/")) {
      throw new Error(`IPFS_PEERS: ${item} has no /p2p/<peer id>: take the peer's full address from its \`multiaddrs()\``);
    }
  }
  return items;
}

/**
 * IpfsStore from env (sync; the node starts on first use):
 * IPFS_REPO_DIR (default: `ipfs` beside the local piece directory), IPFS_LISTEN, IPFS_PEERS,
 * IPFS_GATEWAY_URL, IPFS_PINNING_ENDPOINT + IPFS_PINNING_TOKEN, IPFS_FETCH_TIMEOUT_MS.
 */
export function ipfsStoreFromEnv(env: NodeJS.ProcessEnv, ctx: { dataDir: string; publicUrl?: string }): IpfsStore {
  const repoDir = env.IPFS_REPO_DIR || join(dirname(resolve(ctx.dataDir)), "ipfs");
  const endpoint = env.IPFS_PINNING_ENDPOINT || undefined;
  const token = env.IPFS_PINNING_TOKEN || undefined;
  if (endpoint && !token) throw new Error("IPFS_PINNING_ENDPOINT is set but IPFS_PINNING_TOKEN is not: set the pinning service's access token");
  if (token && !endpoint) throw new Error("IPFS_PINNING_TOKEN is set but IPFS_PINNING_ENDPOINT is not: set the pinning service's API base URL");
  if (endpoint && !/^https?:\/\//.test(endpoint)) throw new Error(`IPFS_PINNING_ENDPOINT must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  let fetchTimeoutMs: number | undefined;
  if (env.IPFS_FETCH_TIMEOUT_MS) {
    fetchTimeoutMs = Number(env.IPFS_FETCH_TIMEOUT_MS);
    if (!Number.isInteger(fetchTimeoutMs) || fetchTimeoutMs <= 0) {
      throw new Error(`IPFS_FETCH_TIMEOUT_MS must be a positive integer (ms), got ${JSON.stringify(env.IPFS_FETCH_TIMEOUT_MS)}`);
    }
  }
  const gatewayUrl = env.IPFS_GATEWAY_URL || undefined;
  if (gatewayUrl && !/^https?:\/\//.test(gatewayUrl)) throw new Error(`IPFS_GATEWAY_URL must be an http(s) URL, got ${JSON.stringify(gatewayUrl)}`);
  return new IpfsStore({
    repoDir,
    listen: multiaddrList(env.IPFS_LISTEN, "IPFS_LISTEN"),
    peers: multiaddrList(env.IPFS_PEERS, "IPFS_PEERS"),
    gatewayUrl,
    pinning: endpoint && token ? { endpoint, token } : undefined,
    fetchTimeoutMs,
  });
}
