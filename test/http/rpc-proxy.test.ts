/**
 * The JSON-RPC proxy's limits (lib/http/rpc-proxy.ts) against a real anvil upstream: bodies cut
 * off while streaming, batch length, eth_getLogs block spans (numbers and tags resolved against
 * the node), refused calls inside a batch, and the per-client rate limit kept in a real PGlite
 * key-release database (two proxy instances on one database share the count). A viem client
 * scanning in windows (scanLogs) passes where one wide getLogs is refused.
 */
import { expect } from "chai";
import { createPublicClient, http, type Hex } from "viem";
import { foundry } from "viem/chains";
import { jsonRpc, startAnvil, type AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import { scanLogs } from "@streamvault/lib/chain/logs.ts";
import { createRpcProxy, RPC_ERRORS } from "@streamvault/lib/http/rpc-proxy.ts";
import { sqlRpcRateLimit } from "@streamvault/lib/http/rpc-rate-limit.ts";
import { openKeyReleaseDb } from "@streamvault/lib/keyrelease/db.ts";
import type { SqlClient } from "@streamvault/lib/db/index.ts";

const URL_ = "http://proxy.test/api/rpc";
type Handler = (request: Request) => Promise<Response>;

const post = (handler: Handler, body: unknown, headers: Record<string, string> = {}) =>
  handler(new Request(URL_, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }));
const call = (id: number, method: string, params: unknown[] = []) => ({ jsonrpc: "2.0", id, method, params });
const hex = (n: number | bigint) => `0x${n.toString(16)}`;

describe("RPC proxy limits (real anvil upstream)", function () {
  this.timeout(120_000);
  let anvil: AnvilNode;
  let proxy: Handler;
  let head: bigint;
  const MAX_LOG_BLOCKS = 2_000;

  before(async () => {
    anvil = await startAnvil();
    await jsonRpc(anvil.rpcUrl, "anvil_mine", [hex(3_000)]);
    head = BigInt(await jsonRpc<string>(anvil.rpcUrl, "eth_blockNumber"));
    proxy = createRpcProxy({ upstreamUrl: anvil.rpcUrl, limits: { maxBatch: 20, maxLogBlocks: MAX_LOG_BLOCKS, maxBodyBytes: 64 * 1024 } });
  });
  after(async () => {
    await anvil?.stop();
  });

  it("relays single calls and batches to the node", async function () {
    const single = await (await post(proxy, call(7, "eth_blockNumber"))).json();
    expect(single).to.deep.include({ id: 7, result: hex(head) });
    const batch = (await (await post(proxy, [call(1, "eth_chainId"), call(2, "eth_blockNumber")])).json()) as { id: number; result: string }[];
    expect(batch.map((a) => [a.id, a.result]).sort()).to.deep.equal([
      [1, hex(31337)],
      [2, hex(head)],
    ]);
  });

  it("refuses batches over the limit as a whole, and accepts one at the limit", async function () {
    const over = await post(proxy, Array.from({ length: 21 }, (_, i) => call(i, "eth_chainId")));
    expect(over.status).to.equal(400);
    const body = (await over.json()) as { error: { code: number; message: string } };
    expect(body.error.code).to.equal(RPC_ERRORS.invalidRequest);
    expect(body.error.message).to.match(/at most 20 per request; split the batch/);
    const atLimit = (await (await post(proxy, Array.from({ length: 20 }, (_, i) => call(i, "eth_chainId")))).json()) as unknown[];
    expect(atLimit).to.have.length(20);
  });

  it("cuts a streamed body off at the limit without reading the rest", async function () {
    let pulled = 0;
    const chunk = new Uint8Array(16 * 1024).fill(0x20);
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    const response = await proxy(new Request(URL_, { method: "POST", body: endless, duplex: "half" } as RequestInit));
    expect(response.status).to.equal(413);
    expect(((await response.json()) as { error: { message: string } }).error.message).to.match(/over 65536 bytes/);
    expect(cancelled).to.equal(true);
    expect(pulled).to.be.at.most(64 * 1024 + 2 * chunk.byteLength);
    // A declared Content-Length over the limit is refused before anything is read.
    const declared = await proxy(new Request(URL_, { method: "POST", headers: { "content-length": String(10 * 1024 * 1024) }, body: "{}" }));
    expect(declared.status).to.equal(413);
  });

  it("answers bad JSON and unlisted methods with JSON-RPC errors", async function () {
    const bad = await proxy(new Request(URL_, { method: "POST", body: "{not json" }));
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: { code: number } }).error.code).to.equal(RPC_ERRORS.parse);
    const signing = (await (await post(proxy, call(3, "eth_sendTransaction", [{}]))).json()) as { id: number; error: { code: number; message: string } };
    expect(signing.id).to.equal(3);
    expect(signing.error.code).to.equal(RPC_ERRORS.methodNotFound);
  });

  it("relays eth_getLogs over at most LOG_SCAN_BLOCKS blocks or one blockHash, and refuses wider spans with what to do", async function () {
    const logs = async (filter: Record<string, unknown>) =>
      (await (await post(proxy, call(9, "eth_getLogs", [filter]))).json()) as { result?: unknown[]; error?: { code: number; message: string } };
    expect((await logs({ fromBlock: "0x0", toBlock: hex(MAX_LOG_BLOCKS - 1) })).result).to.deep.equal([]);
    const wide = await logs({ fromBlock: "0x0", toBlock: hex(MAX_LOG_BLOCKS) });
    expect(wide.error?.code).to.equal(RPC_ERRORS.invalidParams);
    expect(wide.error?.message).to.match(/over 2001 blocks .*at most 2000 blocks per call; scan in windows/);
    // Tags are resolved against the node: earliest..latest is the whole chain.
    expect((await logs({ fromBlock: "earliest", toBlock: "latest" })).error?.message).to.match(new RegExp(`over ${head + 1n} blocks`));
    expect((await logs({ fromBlock: "earliest" })).error?.code).to.equal(RPC_ERRORS.invalidParams); // toBlock defaults to latest
    expect((await logs({ fromBlock: hex(head - 10n), toBlock: "latest" })).result).to.deep.equal([]);
    expect((await logs({ fromBlock: hex(head - 10n), toBlock: "finalized" })).error).to.equal(undefined);
    expect((await logs({})).result).to.deep.equal([]); // latest..latest
    const block = await jsonRpc<{ hash: Hex }>(anvil.rpcUrl, "eth_getBlockByNumber", ["0x5", false]);
    expect((await logs({ blockHash: block.hash })).result).to.deep.equal([]);
    expect((await logs({ blockHash: block.hash, fromBlock: "0x0" })).error?.message).to.match(/either blockHash or fromBlock/);
    expect((await logs({ fromBlock: "yesterday" })).error?.message).to.match(/fromBlock must be a hex block number/);
  });

  it("answers the allowed calls of a batch and refuses only the others", async function () {
    const answers = (await (
      await post(proxy, [
        call(1, "eth_blockNumber"),
        call(2, "eth_getLogs", [{ fromBlock: "earliest", toBlock: "latest" }]),
        call(3, "eth_getLogs", [{ fromBlock: hex(head - 5n), toBlock: "latest" }]),
        call(4, "personal_sign", []),
      ])
    ).json()) as { id: number; result?: unknown; error?: { code: number } }[];
    const byId = new Map(answers.map((a) => [a.id, a]));
    expect(byId.size).to.equal(4);
    expect(byId.get(1)!.result).to.equal(hex(head));
    expect(byId.get(2)!.error!.code).to.equal(RPC_ERRORS.invalidParams);
    expect(byId.get(3)!.result).to.deep.equal([]);
    expect(byId.get(4)!.error!.code).to.equal(RPC_ERRORS.methodNotFound);
  });

  it("lets a viem client scanning in windows (scanLogs) through, where one wide getLogs is refused", async function () {
    const client = createPublicClient({
      chain: foundry,
      transport: http(URL_, { fetchFn: (input, init) => proxy(new Request(input as string, init)), retryCount: 0 }),
    });
    let error: unknown;
    try {
      await client.getLogs({ fromBlock: 0n, toBlock: head });
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/at most 2000 blocks per call/);
    let windows = 0;
    const scanned = await scanLogs(client, 0n, "latest", (fromBlock, toBlock) => {
      windows++;
      return client.getLogs({ fromBlock, toBlock });
    }, { chunkBlocks: MAX_LOG_BLOCKS });
    expect(scanned).to.deep.equal([]);
    expect(windows).to.equal(Math.ceil(Number(head + 1n) / MAX_LOG_BLOCKS));
  });

  it("scanLogs reads the head uncached: a block mined just after viem cached the block number is scanned", async function () {
    // viem caches getBlockNumber for its polling interval (4 s by default); a stale "latest" would
    // end the scan before the block just mined (the key-release channel read hit this under load).
    const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl, { retryCount: 0 }) });
    const cached = await client.getBlockNumber();
    await jsonRpc(anvil.rpcUrl, "anvil_mine", [hex(1)]);
    expect(await client.getBlockNumber(), "viem still answers from its cache").to.equal(cached);
    let lastBlock = -1n;
    await scanLogs(client, cached, "latest", async (_from, to) => {
      lastBlock = to;
      return [];
    });
    expect(lastBlock).to.equal(cached + 1n);
    head = lastBlock;
  });

  describe("per-client rate limit in the key-release database (PGlite)", function () {
    let db: SqlClient;
    before(async () => {
      db = await openKeyReleaseDb({ pgliteWorker: false });
    });
    after(async () => {
      await db?.close();
    });

    it("counts every call of a batch per client address, refuses past the limit with Retry-After, and shares the count across instances", async function () {
      const limit = { points: 5, durationSeconds: 60 };
      const options = { upstreamUrl: anvil.rpcUrl, clientAddress: (r: Request) => r.headers.get("x-test-client") ?? "unknown" };
      const first = createRpcProxy({ ...options, rateLimit: sqlRpcRateLimit(db, limit) });
      const second = createRpcProxy({ ...options, rateLimit: sqlRpcRateLimit(db, limit) }); // another instance on the same database
      const from = (client: string) => ({ "x-test-client": client });
      expect((await post(first, [call(1, "eth_chainId"), call(2, "eth_chainId"), call(3, "eth_chainId")], from("10.0.0.1"))).status).to.equal(200);
      expect((await post(second, call(4, "eth_chainId"), from("10.0.0.1"))).status).to.equal(200);
      expect((await post(first, call(5, "eth_chainId"), from("10.0.0.1"))).status).to.equal(200);
      const refused = await post(second, call(6, "eth_chainId"), from("10.0.0.1"));
      expect(refused.status).to.equal(429);
      expect(Number(refused.headers.get("retry-after"))).to.be.within(1, 60);
      const body = (await refused.json()) as { id: number; error: { code: number; message: string } };
      expect(body.id).to.equal(6);
      expect(body.error.code).to.equal(RPC_ERRORS.limitExceeded);
      expect(body.error.message).to.match(/too many RPC calls from your address: try again in \d+ s/);
      // Another address has its own count.
      expect((await post(first, call(7, "eth_chainId"), from("10.0.0.2"))).status).to.equal(200);
      // A batch larger than what is left is refused whole, each call with its id.
      const batch = (await (await post(first, [call(8, "eth_chainId"), call(9, "eth_chainId")], from("10.0.0.1"))).json()) as { id: number }[];
      expect(batch.map((a) => a.id)).to.deep.equal([8, 9]);
    });
  });
});
