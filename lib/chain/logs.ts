/**
 * Log scans in windows of at most LOG_SCAN_BLOCKS blocks (default 2,000): Filecoin RPC endpoints
 * (Lotus, Glif, Ankr) refuse eth_getLogs over wider ranges, and a scan from the deployment block in
 * one call fails there once the chain has moved on. Windows run a few at a time, results in block
 * order.
 */

/** Default window: the ~2,000-epoch cap of Filecoin RPCs. */
export const DEFAULT_LOG_SCAN_BLOCKS = 2_000;

export function logScanBlocks(env: Record<string, string | undefined> = process.env): number {
  const raw = env.LOG_SCAN_BLOCKS?.trim();
  if (!raw) return DEFAULT_LOG_SCAN_BLOCKS;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`LOG_SCAN_BLOCKS must be a positive whole number of blocks, not "${raw}"`);
  return value;
}

export interface ScanOptions {
  /** Blocks per eth_getLogs call (default LOG_SCAN_BLOCKS, else 2,000). */
  chunkBlocks?: number;
  /** Windows fetched at once (default 4). */
  concurrency?: number;
}

/**
 * Runs `scan(from, to)` (inclusive bounds, e.g. a viem getContractEvents/getLogs call) over
 * `[fromBlock, toBlock]` in windows, and concatenates the results in block order. `toBlock`
 * "latest" is read once, uncached, so every window ends at the same, current head.
 */
export async function scanLogs<T>(
  client: { getBlockNumber(args?: { cacheTime?: number }): Promise<bigint> },
  fromBlock: bigint,
  toBlock: bigint | "latest",
  scan: (fromBlock: bigint, toBlock: bigint) => Promise<readonly T[]>,
  options: ScanOptions = {},
): Promise<T[]> {
  // cacheTime 0: viem caches the block number for its polling interval (4 s by default), and a
  // stale head would miss a log from the block just mined (a channel opened a moment ago).
  const end = toBlock === "latest" ? await client.getBlockNumber({ cacheTime: 0 }) : toBlock;
  if (end < fromBlock) return [];
  const size = BigInt(options.chunkBlocks ?? logScanBlocks());
  const windows: [bigint, bigint][] = [];
  for (let start = fromBlock; start <= end; start += size) windows.push([start, start + size - 1n < end ? start + size - 1n : end]);
  const results: (readonly T[])[] = new Array(windows.length);
  let next = 0;
  const worker = async () => {
    while (next < windows.length) {
      const i = next++;
      results[i] = await scan(windows[i]![0], windows[i]![1]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, windows.length) }, worker));
  return results.flat();
}
