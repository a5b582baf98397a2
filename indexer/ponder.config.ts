/**
 * StreamVault indexer configuration. Addresses, ABIs and start blocks come only from
 * `deployments/<chainId>.json` through lib/deployments (the same loader every other part of the
 * project uses); nothing here is hard-coded per deployment.
 *
 * Environment:
 *   CHAIN_ID          31337 (local anvil, default), 314159 (Filecoin Calibration) or 314 (Filecoin mainnet)
 *   RPC_URL           JSON-RPC endpoint (default http://127.0.0.1:8545 locally; public Glif endpoints otherwise)
 *   RPC_FANOUT        how many times the RPC URL is listed (Ponder rate-limits per URL; default 4 locally, 1 remote)
 *   POLLING_INTERVAL  ms between head polls (default 100 locally, 5000 on Filecoin)
 *   ETH_GETLOGS_BLOCK_RANGE  max eth_getLogs range (default: automatic locally, 2000 on Filecoin)
 *   DEPLOYMENTS_DIR   folder holding <chainId>.json (default: <repo>/deployments)
 *   DISABLE_RPC_CACHE "true"/"false": skip Ponder's RPC cache (default true on 31337, where a chain
 *                     restarted from genesis reuses block numbers, false elsewhere)
 *   DATABASE_URL      Postgres connection string; PGlite in PONDER_PGLITE_DIR (default .ponder/pglite) otherwise
 */
import { createConfig, factory } from "ponder";
import { getAbiItem } from "viem";
// The library's one deployments loader and the typed `as const` ABIs (DEPLOYMENTS_DIR overrides the folder).
import {
  backupRegistryAbi,
  contentAccessAbi,
  contractOf,
  creatorCoinAbi,
  creatorPassAbi,
  creatorRegistryAbi,
  liveStreamsAbi,
  loadDeployment,
  paymentChannelsAbi,
} from "@streamvault/lib/deployments";
import { ponderRpcUrls } from "./src/lib/rpc";

const KNOWN_CHAINS: Record<number, { name: string; rpc: string; pollingInterval: number; getLogsRange?: number }> = {
  31337: { name: "anvil", rpc: "http://127.0.0.1:8545", pollingInterval: 100 },
  314159: { name: "calibration", rpc: "https://api.calibration.node.glif.io/rpc/v1", pollingInterval: 5_000, getLogsRange: 2_000 },
  314: { name: "filecoin", rpc: "https://api.node.glif.io/rpc/v1", pollingInterval: 5_000, getLogsRange: 2_000 },
};

const chainId = Number(process.env.CHAIN_ID ?? 31337);
const known = KNOWN_CHAINS[chainId];
if (!known) throw new Error(`CHAIN_ID ${chainId} is not supported (use 31337, 314159 or 314).`);

const deployment = loadDeployment(chainId);
const registry = contractOf(deployment, "CreatorRegistry");
const contentAccess = contractOf(deployment, "ContentAccess");
const channels = contractOf(deployment, "PaymentChannels");
const backups = contractOf(deployment, "BackupRegistry");
const liveStreams = contractOf(deployment, "LiveStreams");

const rpcUrl = process.env.RPC_URL ?? known.rpc;
const fanout = Math.max(1, Number(process.env.RPC_FANOUT ?? (chainId === 31337 ? 4 : 1)));
const getLogsRange = process.env.ETH_GETLOGS_BLOCK_RANGE ? Number(process.env.ETH_GETLOGS_BLOCK_RANGE) : known.getLogsRange;

const creatorLaunched = getAbiItem({ abi: creatorRegistryAbi, name: "CreatorLaunched" });

export default createConfig({
  database: process.env.DATABASE_URL
    ? { kind: "postgres", connectionString: process.env.DATABASE_URL }
    : { kind: "pglite", directory: process.env.PONDER_PGLITE_DIR ?? ".ponder/pglite" },
  chains: {
    // One chain per indexer process; the name stays "streamvault" whatever CHAIN_ID says, so
    // queries and handlers are the same everywhere (`_meta`/`/status` report the real chain id).
    streamvault: {
      id: chainId,
      rpc: ponderRpcUrls(rpcUrl, fanout),
      pollingInterval: Number(process.env.POLLING_INTERVAL ?? known.pollingInterval),
      disableCache: (process.env.DISABLE_RPC_CACHE ?? String(chainId === 31337)) === "true",
      ...(getLogsRange ? { ethGetLogsBlockRange: getLogsRange } : {}),
    },
  },
  contracts: {
    CreatorRegistry: {
      chain: "streamvault",
      abi: creatorRegistryAbi,
      address: registry.address,
      startBlock: registry.blockNumber,
    },
    // Every creator's coin and pass is a clone announced by CreatorLaunched.
    CreatorCoin: {
      chain: "streamvault",
      abi: creatorCoinAbi,
      address: factory({ address: registry.address, event: creatorLaunched, parameter: "coin" }),
      startBlock: registry.blockNumber,
    },
    CreatorPass: {
      chain: "streamvault",
      abi: creatorPassAbi,
      address: factory({ address: registry.address, event: creatorLaunched, parameter: "pass" }),
      startBlock: registry.blockNumber,
    },
    ContentAccess: {
      chain: "streamvault",
      abi: contentAccessAbi,
      address: contentAccess.address,
      startBlock: contentAccess.blockNumber,
    },
    PaymentChannels: {
      chain: "streamvault",
      abi: paymentChannelsAbi,
      address: channels.address,
      startBlock: channels.blockNumber,
    },
    BackupRegistry: {
      chain: "streamvault",
      abi: backupRegistryAbi,
      address: backups.address,
      startBlock: backups.blockNumber,
    },
    LiveStreams: {
      chain: "streamvault",
      abi: liveStreamsAbi,
      address: liveStreams.address,
      startBlock: liveStreams.blockNumber,
    },
  },
});
