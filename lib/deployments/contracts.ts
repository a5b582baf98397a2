/**
 * Contract facts that need no file system, for every runtime (browser, Node, Ponder): contract
 * names, typed ABIs, the deployment file's shape, and lookups by name that pair an address with
 * its ABI (the way scaffold-eth-2's useScaffoldContract does). lib/deployments/index.ts adds the
 * Node-side loader of `deployments/<chainId>.json` and `contract(name)` over it.
 */
import type { Abi, Address } from "viem";
import {
  backupRegistryAbi,
  contentAccessAbi,
  creatorCoinAbi,
  creatorPassAbi,
  creatorRegistryAbi,
  liveStreamsAbi,
  mockStablecoinAbi,
  paymentChannelsAbi,
} from "./abis.ts";

export * from "./abis.ts";
export * from "./contract-types.ts";

/** Every contract whose address and ABI the deployments file carries. */
export const DEPLOYED_CONTRACTS = [
  "ContentAccess",
  "CreatorRegistry",
  "CreatorCoin",
  "CreatorPass",
  "PaymentChannels",
  "BackupRegistry",
  "MockStablecoin",
  "LiveStreams",
] as const;
export type ContractName = (typeof DEPLOYED_CONTRACTS)[number];

/** ABIs by contract name, typed `as const` for viem. */
export const ABIS = {
  ContentAccess: contentAccessAbi,
  CreatorRegistry: creatorRegistryAbi,
  CreatorCoin: creatorCoinAbi,
  CreatorPass: creatorPassAbi,
  PaymentChannels: paymentChannelsAbi,
  BackupRegistry: backupRegistryAbi,
  MockStablecoin: mockStablecoinAbi,
  LiveStreams: liveStreamsAbi,
} as const satisfies Record<ContractName, Abi>;

export interface DeployedContract {
  address: Address;
  abi: Abi;
  /** Block the contract was created in: where indexers start. */
  blockNumber: number;
}

export interface Deployment {
  chainId: number;
  deployer: Address;
  deployedAt: string;
  /**
   * CreatorCoin and CreatorPass are the implementations behind every creator's clone; their
   * addresses matter less than their ABIs (clones are found through CreatorRegistry events).
   * MockStablecoin exists on local chains only.
   */
  contracts: Partial<Record<ContractName, DeployedContract>>;
}

/** An address with its contract's typed ABI: spread it into viem/wagmi calls (`{ ...c, functionName }`). */
export interface BoundContract<N extends ContractName> {
  address: Address;
  abi: (typeof ABIS)[N];
}

/** `name`'s ABI at `address`: a creator's coin or pass clone, or an address from the public config. */
export function contractAt<N extends ContractName>(name: N, address: Address): BoundContract<N> {
  return { address, abi: ABIS[name] };
}

/** Address, typed ABI and deployment block of one deployed contract; throws when the deployment lacks it. */
export function contractOf<N extends ContractName>(
  deployment: Pick<Deployment, "chainId" | "contracts">,
  name: N,
): BoundContract<N> & { blockNumber: number } {
  const entry = deployment.contracts[name];
  if (!entry) throw new Error(`Chain ${deployment.chainId} has no ${name} deployed: run \`npm run deploy\` for it.`);
  return { address: entry.address, abi: ABIS[name], blockNumber: entry.blockNumber };
}
