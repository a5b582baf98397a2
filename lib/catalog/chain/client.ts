/**
 * Chain access for the creator tools: a viem public + wallet client for RPC_URL, the creator
 * account from CREATOR_PRIVATE_KEY (default: dev key #1; the key is never logged), and the
 * deployment of that chain (`deployments/<chainId>.json`).
 */
import { createPublicClient, createWalletClient, defineChain, http } from "viem";
import type { Account, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { contractOf, loadDeployment } from "../../deployments/index.ts";
import type { Deployment } from "../../deployments/index.ts";
import { DEV_PRIVATE_KEYS } from "../../deployments/dev-accounts.ts";
import { StreamVaultError } from "../../errors.ts";

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

/** The chain could not be reached, or it has no StreamVault deployment (CLI exit code 3). */
export class ChainUnavailableError extends StreamVaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("unavailable", message, options);
    this.name = "ChainUnavailableError";
  }
}

export interface ChainContext {
  rpcUrl: string;
  chainId: number;
  account: Account;
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  deployment: Deployment;
  contentAccess: ReturnType<typeof contractOf<"ContentAccess">>;
  backupRegistry: ReturnType<typeof contractOf<"BackupRegistry">>;
  creatorRegistry: ReturnType<typeof contractOf<"CreatorRegistry">>;
  /** Run wallet transactions one at a time (one nonce sequence per account). */
  serialize<T>(fn: () => Promise<T>): Promise<T>;
}

export interface ConnectOptions {
  rpcUrl?: string;
  privateKey?: string;
  deploymentsDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Parse a private key without ever echoing it. */
export function parsePrivateKey(value: string | undefined): Hex {
  const key = value === undefined || value === "" ? DEV_PRIVATE_KEYS[1] : value.trim();
  const normalized = (key.startsWith("0x") ? key : `0x${key}`) as Hex;
  if (!/^0x[0-9a-fA-F]{64}$/.test(normalized)) {
    throw new Error("CREATOR_PRIVATE_KEY must be 32 bytes of hex (64 hex characters, optional 0x prefix)");
  }
  return normalized;
}

/** Connect to RPC_URL, check it answers, and load the deployment of its chain. */
export async function connectChain(options: ConnectOptions = {}): Promise<ChainContext> {
  const env = options.env ?? process.env;
  const rpcUrl = options.rpcUrl ?? (env.RPC_URL || DEFAULT_RPC_URL);
  const account = privateKeyToAccount(parsePrivateKey(options.privateKey ?? env.CREATOR_PRIVATE_KEY));
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 1, timeout: 10_000 }) });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (err) {
    throw new ChainUnavailableError(`Cannot reach the chain at ${rpcUrl}. Start one (\`npm run chain\`) or set RPC_URL.`, { cause: err });
  }
  let deployment: Deployment;
  try {
    deployment = loadDeployment(chainId, options.deploymentsDir ?? env.DEPLOYMENTS_DIR ?? undefined);
  } catch (err) {
    throw new ChainUnavailableError((err as Error).message, { cause: err });
  }
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const transport = http(rpcUrl, { retryCount: 3, timeout: 30_000 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 200 }) as PublicClient;
  const walletClient = createWalletClient({ chain, transport, account });
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  return {
    rpcUrl,
    chainId,
    account,
    publicClient,
    walletClient,
    deployment,
    contentAccess: contractOf(deployment, "ContentAccess"),
    backupRegistry: contractOf(deployment, "BackupRegistry"),
    creatorRegistry: contractOf(deployment, "CreatorRegistry"),
    serialize,
  };
}

/** Send a transaction through `ctx.serialize` and wait for a successful receipt. */
export async function sendAndWait(ctx: ChainContext, send: () => Promise<Hex>, onSent?: (hash: Hex) => void | Promise<void>): Promise<{ hash: Hex; blockNumber: bigint }> {
  const hash = await ctx.serialize(send);
  await onSent?.(hash);
  const receipt = await ctx.publicClient.waitForTransactionReceipt({ hash, timeout: 120_000 });
  if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
  return { hash, blockNumber: receipt.blockNumber };
}
