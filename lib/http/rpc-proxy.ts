/**
 * A same-origin JSON-RPC proxy as a Fetch handler (the web app's /api/rpc is a thin adapter over
 * it), with the limits that keep a hostile client from making the node do unbounded work:
 *   - the body is read with a byte limit while it streams in (413 past it);
 *   - a batch holds at most `maxBatch` calls;
 *   - only read and broadcast methods pass (a wallet signs in the browser, never here);
 *   - `eth_getLogs` needs a bounded block range (fromBlock..toBlock, tags resolved against the
 *     node, at most `maxLogBlocks` blocks: the LOG_SCAN_BLOCKS window lib/chain/logs.ts scans in)
 *     or a blockHash;
 *   - every call counts against a per-client-address rate limit (`rateLimit`).
 * Refusals are JSON-RPC errors with a message that says what to do. In a batch, refused calls get
 * their error and the rest still go upstream; the answers come back together (matched by id).
 */
import { BodyTooLargeError, readBodyText } from "./body-limit.ts";
import { DEFAULT_LOG_SCAN_BLOCKS, logScanBlocks } from "../chain/logs.ts";

/** Methods the proxy relays: reads and eth_sendRawTransaction. */
export const ALLOWED_RPC_METHODS =
  /^(eth_(chainId|blockNumber|call|estimateGas|getBalance|getBlockBy(Number|Hash)|getCode|getLogs|getStorageAt|getTransactionByHash|getTransactionCount|getTransactionReceipt|gasPrice|maxPriorityFeePerGas|feeHistory|sendRawTransaction|createAccessList|blobBaseFee)|net_version|web3_clientVersion)$/;

export interface RpcProxyLimits {
  /** Largest request body, bytes (default 256 KB: a 20-call batch of eth_call is far below it). */
  maxBodyBytes: number;
  /** Calls in one batch (default 20). */
  maxBatch: number;
  /** Blocks one eth_getLogs may span, bounds included (default LOG_SCAN_BLOCKS, else 2,000). */
  maxLogBlocks: number;
}

export const DEFAULT_RPC_PROXY_LIMITS: RpcProxyLimits = { maxBodyBytes: 256 * 1024, maxBatch: 20, maxLogBlocks: DEFAULT_LOG_SCAN_BLOCKS };

/**
 * Charges `points` calls to `clientKey`; resolves null when allowed, or the seconds until the
 * client may call again. A store shared by every instance makes the limit global.
 */
export type RpcRateLimit = (clientKey: string, points: number) => Promise<{ retryAfterSeconds: number } | null>;

export interface RpcProxyOptions {
  /** The node calls are forwarded to. */
  upstreamUrl: string;
  limits?: Partial<RpcProxyLimits>;
  /** The per-client limit; omitted = none. */
  rateLimit?: RpcRateLimit;
  /** The address the rate limit counts under (behind proxies: see lib/http/client-address.ts). */
  clientAddress?: (request: Request) => string;
  /** Upstream deadline, ms (default 15,000). */
  upstreamTimeoutMs?: number;
}

/** JSON-RPC error codes used: standard ones, and EIP-1474's -32005 "limit exceeded". */
export const RPC_ERRORS = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  limitExceeded: -32005,
} as const;

interface RpcCall {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

interface RpcError {
  jsonrpc: "2.0";
  id: unknown;
  error: { code: number; message: string; data?: unknown };
}

const rpcError = (id: unknown, code: number, message: string, data?: unknown): RpcError => ({
  jsonrpc: "2.0",
  id: id ?? null,
  error: data === undefined ? { code, message } : { code, message, data },
});

const NO_STORE = { "cache-control": "no-store" };

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { ...NO_STORE, ...headers } });
}

/** A positive whole-number setting `name` of `env`, `fallback` when unset; throws naming the setting otherwise. */
export function positiveSetting(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, not "${raw}"`);
  return value;
}

/** The limits from the environment: RPC_PROXY_MAX_BODY_BYTES, RPC_PROXY_MAX_BATCH, LOG_SCAN_BLOCKS. */
export function rpcProxyLimitsFromEnv(env: Record<string, string | undefined> = process.env): RpcProxyLimits {
  const positive = (name: string, fallback: number) => positiveSetting(env, name, fallback);
  return {
    maxBodyBytes: positive("RPC_PROXY_MAX_BODY_BYTES", DEFAULT_RPC_PROXY_LIMITS.maxBodyBytes),
    maxBatch: positive("RPC_PROXY_MAX_BATCH", DEFAULT_RPC_PROXY_LIMITS.maxBatch),
    maxLogBlocks: logScanBlocks(env),
  };
}

const BLOCK_TAGS = new Set(["latest", "pending", "safe", "finalized", "earliest"]);

/** A block number (hex quantity) or tag as eth_getLogs takes it; undefined = absent, which the node reads as "latest". */
type BlockRef = { number: bigint } | { tag: string } | undefined;

function blockRef(value: unknown, field: string): BlockRef | string {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && BLOCK_TAGS.has(value)) return value === "earliest" ? { number: 0n } : { tag: value };
  if (typeof value === "string" && /^0x[0-9a-fA-F]{1,16}$/.test(value)) return { number: BigInt(value) };
  return `${field} must be a hex block number (0x…) or one of latest, safe, finalized, pending, earliest`;
}

/**
 * Checks one eth_getLogs call: a reason to refuse, or the tags to resolve before the span is known.
 * Exported for tests.
 */
export function checkGetLogsParams(params: unknown, maxLogBlocks: number): { refuse: string } | { from: BlockRef; to: BlockRef } | { blockHash: true } {
  const filter = Array.isArray(params) ? params[0] : undefined;
  if (filter === null || typeof filter !== "object" || Array.isArray(filter)) {
    return { refuse: "eth_getLogs takes one filter object: [{ address, topics, fromBlock, toBlock }] or [{ address, topics, blockHash }]" };
  }
  const { fromBlock, toBlock, blockHash } = filter as Record<string, unknown>;
  if (blockHash !== undefined) {
    if (fromBlock !== undefined || toBlock !== undefined) return { refuse: "eth_getLogs takes either blockHash or fromBlock/toBlock, not both" };
    if (typeof blockHash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(blockHash)) return { refuse: "blockHash must be a 32-byte hex hash" };
    return { blockHash: true };
  }
  const from = blockRef(fromBlock, "fromBlock");
  const to = blockRef(toBlock, "toBlock");
  if (typeof from === "string") return { refuse: from };
  if (typeof to === "string") return { refuse: to };
  return { from, to };
}

export function spanRefusal(from: bigint, to: bigint, maxLogBlocks: number): string | undefined {
  if (to < from) return undefined; // an empty range: the node answers []
  const span = to - from + 1n;
  if (span <= BigInt(maxLogBlocks)) return undefined;
  return `eth_getLogs over ${span} blocks (${from}..${to}): at most ${maxLogBlocks} blocks per call; scan in windows of ${maxLogBlocks} (lib/chain/logs.ts scanLogs), or give a blockHash`;
}

/** The Fetch handler of the proxy (POST only). */
export function createRpcProxy(options: RpcProxyOptions): (request: Request) => Promise<Response> {
  const limits: RpcProxyLimits = { ...DEFAULT_RPC_PROXY_LIMITS, ...options.limits };
  const timeoutMs = options.upstreamTimeoutMs ?? 15_000;

  const upstream = async (body: unknown): Promise<unknown> => {
    const response = await fetch(options.upstreamUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response.json();
  };

  /** Block numbers of the tags the getLogs calls name, in one upstream batch. */
  const resolveTags = async (tags: Set<string>): Promise<Map<string, bigint>> => {
    const list = [...tags];
    const answers = (await upstream(list.map((tag, id) => ({ jsonrpc: "2.0", id, method: "eth_getBlockByNumber", params: [tag, false] })))) as {
      id: number;
      result?: { number?: string } | null;
    }[];
    const resolved = new Map<string, bigint>();
    for (const answer of Array.isArray(answers) ? answers : []) {
      const tag = list[answer.id];
      const number = answer.result?.number;
      if (tag !== undefined && typeof number === "string") resolved.set(tag, BigInt(number));
    }
    for (const tag of list) if (!resolved.has(tag)) throw new Error(`the node did not resolve block tag ${tag}`);
    return resolved;
  };

  return async (request: Request): Promise<Response> => {
    if (request.method !== "POST") {
      return json(rpcError(null, RPC_ERRORS.invalidRequest, "POST a JSON-RPC request or batch"), 405, { allow: "POST" });
    }
    let text: string;
    try {
      text = await readBodyText(request, limits.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return json(rpcError(null, RPC_ERRORS.invalidRequest, `request body over ${limits.maxBodyBytes} bytes: send smaller requests or batches`), 413);
      }
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(rpcError(null, RPC_ERRORS.parse, "parse error: the body is not JSON"), 400);
    }
    const isBatch = Array.isArray(body);
    const calls = (isBatch ? body : [body]) as RpcCall[];
    if (isBatch && calls.length === 0) return json(rpcError(null, RPC_ERRORS.invalidRequest, "empty batch: send at least one call"), 400);
    if (calls.length > limits.maxBatch) {
      return json(
        rpcError(null, RPC_ERRORS.invalidRequest, `batch of ${calls.length} calls: at most ${limits.maxBatch} per request; split the batch`, { maxBatch: limits.maxBatch }),
        400,
      );
    }

    if (options.rateLimit) {
      const key = options.clientAddress?.(request) ?? "unknown";
      const limited = await options.rateLimit(key, calls.length);
      if (limited) {
        const seconds = Math.max(1, Math.ceil(limited.retryAfterSeconds));
        const error = (id: unknown) =>
          rpcError(id, RPC_ERRORS.limitExceeded, `too many RPC calls from your address: try again in ${seconds} s`, { retryAfterSeconds: seconds });
        return json(isBatch ? calls.map((c) => error(c?.id)) : error(calls[0]?.id), 429, { "retry-after": String(seconds) });
      }
    }

    // Per call: the refusal, or undefined when it goes upstream.
    const refusals: (RpcError | undefined)[] = new Array(calls.length);
    const pendingRanges: { index: number; from: BlockRef; to: BlockRef }[] = [];
    calls.forEach((call, index) => {
      if (call === null || typeof call !== "object" || typeof call.method !== "string") {
        refusals[index] = rpcError(call?.id, RPC_ERRORS.invalidRequest, "not a JSON-RPC call: send { jsonrpc: \"2.0\", id, method, params }");
      } else if (!ALLOWED_RPC_METHODS.test(call.method)) {
        refusals[index] = rpcError(call.id, RPC_ERRORS.methodNotFound, `method ${call.method} not available through this proxy (reads and eth_sendRawTransaction only)`);
      } else if (call.method === "eth_getLogs") {
        const checked = checkGetLogsParams(call.params, limits.maxLogBlocks);
        if ("refuse" in checked) refusals[index] = rpcError(call.id, RPC_ERRORS.invalidParams, checked.refuse, { maxLogBlocks: limits.maxLogBlocks });
        else if ("from" in checked) pendingRanges.push({ index, ...checked });
      }
    });

    const tags = new Set<string>();
    for (const { from, to } of pendingRanges) {
      for (const ref of [from, to]) {
        if (ref === undefined) tags.add("latest");
        else if ("tag" in ref) tags.add(ref.tag);
      }
    }
    if (pendingRanges.length > 0) {
      let resolved = new Map<string, bigint>();
      try {
        if (tags.size > 0) resolved = await resolveTags(tags);
      } catch {
        return unreachable(calls, isBatch);
      }
      const numberOf = (ref: BlockRef) => (ref === undefined ? resolved.get("latest")! : "number" in ref ? ref.number : resolved.get(ref.tag)!);
      for (const { index, from, to } of pendingRanges) {
        const refuse = spanRefusal(numberOf(from), numberOf(to), limits.maxLogBlocks);
        if (refuse) refusals[index] = rpcError(calls[index]!.id, RPC_ERRORS.invalidParams, refuse, { maxLogBlocks: limits.maxLogBlocks });
      }
    }

    const forwarded = calls.filter((_, index) => refusals[index] === undefined);
    const refused = refusals.filter((r): r is RpcError => r !== undefined);
    if (forwarded.length === 0) return json(isBatch ? refused : refused[0]);
    let answer: unknown;
    try {
      answer = await upstream(isBatch ? forwarded : forwarded[0]);
    } catch {
      return unreachable(calls, isBatch);
    }
    if (!isBatch) return json(answer);
    return json([...(Array.isArray(answer) ? answer : [answer]), ...refused]);
  };
}

function unreachable(calls: RpcCall[], isBatch: boolean): Response {
  const error = (id: unknown) => rpcError(id, RPC_ERRORS.internal, "chain node unreachable: try again shortly");
  return json(isBatch ? calls.map((c) => error(c?.id)) : error(calls[0]?.id), 502);
}
