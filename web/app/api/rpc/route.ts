/**
 * Same-origin JSON-RPC proxy to the configured node (RPC_URL), so the browser only ever talks to
 * this server. Only read and broadcast methods pass: a wallet signs in the browser, never here.
 */
import { RPC_URL } from "@/lib/server/config";

export const dynamic = "force-dynamic";

const ALLOWED = /^(eth_(chainId|blockNumber|call|estimateGas|getBalance|getBlockBy(Number|Hash)|getCode|getLogs|getStorageAt|getTransactionByHash|getTransactionCount|getTransactionReceipt|gasPrice|maxPriorityFeePerGas|feeHistory|sendRawTransaction|createAccessList|blobBaseFee)|net_version|web3_clientVersion)$/;

interface RpcRequest {
  jsonrpc: "2.0";
  id: unknown;
  method: string;
  params?: unknown;
}

export async function POST(request: Request): Promise<Response> {
  let body: RpcRequest | RpcRequest[];
  try {
    body = (await request.json()) as RpcRequest | RpcRequest[];
  } catch {
    return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }, { status: 400 });
  }
  const list = Array.isArray(body) ? body : [body];
  const refused = list.find((r) => typeof r?.method !== "string" || !ALLOWED.test(r.method));
  if (refused) {
    const error = { jsonrpc: "2.0", id: refused?.id ?? null, error: { code: -32601, message: `method ${refused?.method} not available through this proxy` } };
    return Response.json(Array.isArray(body) ? list.map((r) => ({ ...error, id: r?.id ?? null })) : error);
  }
  try {
    const upstream = await fetch(RPC_URL, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      signal: AbortSignal.timeout(15_000),
    });
    return new Response(upstream.body, { status: upstream.status, headers: { "content-type": "application/json", "cache-control": "no-store" } });
  } catch {
    return Response.json({ jsonrpc: "2.0", id: list[0]?.id ?? null, error: { code: -32603, message: "chain node unreachable" } }, { status: 502 });
  }
}
