/**
 * Same-origin JSON-RPC proxy to the configured node (RPC_URL), so the browser only ever talks to
 * this server. The checks (methods, body size, batch length, eth_getLogs spans, per-address rate
 * limit) are lib/http/rpc-proxy.ts; the rate limit is counted in the key-release database.
 */
import { createRpcProxy, rpcProxyLimitsFromEnv } from "@streamvault/lib/http/rpc-proxy.ts";
import { RPC_URL } from "@/lib/server/config";
import { clientAddressOf } from "@/lib/server/client-address";
import { rpcRateLimit } from "@/lib/server/keyrelease";

export const dynamic = "force-dynamic";

const proxy = createRpcProxy({ upstreamUrl: RPC_URL, limits: rpcProxyLimitsFromEnv(), rateLimit: rpcRateLimit, clientAddress: clientAddressOf });

export function POST(request: Request): Promise<Response> {
  return proxy(request);
}
