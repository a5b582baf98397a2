/**
 * Deploys the whole StreamVault system with any viem wallet: the deploy script, tests and
 * benchmarks all use this one function, so they run against exactly what production gets.
 */
import { getAddress, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from "viem";
import { readArtifact, type ContractName } from "./artifacts.ts";
import { ABIS, type Deployment, type DeployedContract } from "./index.ts";

export interface DeploySystemOptions {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  /** Platform admin; defaults to the deployer. */
  owner?: Address;
  /** Receives platform fees; defaults to the owner. */
  treasury?: Address;
  /** Platform fee in basis points; defaults to 300 (3%). */
  platformFeeBps?: number;
  /** Deploy and allow-list the 6-decimal mock stablecoin (local chains). Defaults to chain id 31337. */
  mockStablecoin?: boolean;
  /** Premium subscription price per 30 days in native currency (wei); 0 = not offered. */
  subscriptionPriceNative?: bigint;
  /** Premium subscription price per 30 days in the mock stablecoin (6 decimals). */
  subscriptionPriceStable?: bigint;
}

/** Deploys every contract, wires them together and returns the deployment record. */
export async function deploySystem(options: DeploySystemOptions): Promise<Deployment> {
  const { publicClient, walletClient } = options;
  const deployer = walletClient.account.address;
  const owner = options.owner ?? deployer;
  const treasury = options.treasury ?? owner;
  const chainId = await publicClient.getChainId();
  const withMock = options.mockStablecoin ?? chainId === 31337;
  const contracts: Deployment["contracts"] = {};

  async function send(hash: Hex) {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return receipt;
  }

  async function deploy(name: ContractName, args: unknown[]): Promise<DeployedContract> {
    const { abi, bytecode } = readArtifact(name);
    const hash = await walletClient.deployContract({ abi, bytecode, args });
    const receipt = await send(hash);
    const entry = { address: getAddress(receipt.contractAddress!), abi, blockNumber: Number(receipt.blockNumber) };
    contracts[name] = entry;
    return entry;
  }

  // The deployer owns ContentAccess while wiring it, then hands it to `owner` (two-step).
  const contentAccess = await deploy("ContentAccess", [deployer, treasury, options.platformFeeBps ?? 300]);
  const registry = await deploy("CreatorRegistry", [contentAccess.address]);
  const call = (address: Address, functionName: string, args: unknown[]) =>
    walletClient
      .writeContract({ address, abi: ABIS.ContentAccess, functionName, args } as never)
      .then(send);
  await call(contentAccess.address, "setCreatorRegistry", [registry.address]);

  // The registry deploys the coin and pass implementations in its constructor.
  for (const [name, getter] of [
    ["CreatorCoin", "coinImplementation"],
    ["CreatorPass", "passImplementation"],
  ] as const) {
    const address = await publicClient.readContract({
      address: registry.address,
      abi: ABIS.CreatorRegistry,
      functionName: getter,
    });
    contracts[name] = { address, abi: readArtifact(name).abi, blockNumber: registry.blockNumber };
  }

  await deploy("PaymentChannels", [owner, contentAccess.address]);
  await deploy("BackupRegistry", []);

  if (options.subscriptionPriceNative) {
    await call(contentAccess.address, "setSubscriptionPrice", [
      "0x0000000000000000000000000000000000000000",
      options.subscriptionPriceNative,
    ]);
  }
  if (withMock) {
    const stable = await deploy("MockStablecoin", []);
    await call(contentAccess.address, "setPaymentToken", [stable.address, true]);
    if (options.subscriptionPriceStable) {
      await call(contentAccess.address, "setSubscriptionPrice", [stable.address, options.subscriptionPriceStable]);
    }
  }
  // Deployed after everything else so the addresses of the contracts above stay what they were.
  await deploy("LiveStreams", [contentAccess.address]);
  if (owner !== deployer) await call(contentAccess.address, "transferOwnership", [owner]);

  return { chainId, deployer, deployedAt: new Date().toISOString(), contracts };
}
