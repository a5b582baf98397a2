/**
 * Shared fixture for the contract tests: the whole system deployed by the same
 * `deploySystem` the deploy script uses, on Hardhat's in-process EDR chain, plus helpers.
 */
import { network } from "hardhat";
import {
  getAddress,
  keccak256,
  parseEther,
  toHex,
  zeroAddress,
  type Address,
  type Hex,
} from "viem";
import { deploySystem } from "@streamvault/lib/deployments/deploy-system.ts";
import { ABIS, contractOf } from "@streamvault/lib/deployments";

export const NATIVE = zeroAddress;
export const DAY = 24n * 60n * 60n;
export const THIRTY_DAYS = 30n * DAY;
export const Tier = { Free: 0, Premium: 1, Exclusive: 2 } as const;
export const Reason = { None: 0, Creator: 1, Free: 2, Coin: 3, Pass: 4, Subscription: 5, Purchase: 6 } as const;
/** A plausible PieceCID v2 in bytes (content does not matter to the contracts). */
export const SAMPLE_CID: Hex = toHex(new Uint8Array(41).map((_, i) => (i * 7 + 1) & 0xff));

export const connection = await network.getOrCreate();
export const { viem, networkHelpers } = connection;

export async function deployFixture() {
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const [deployer, treasury, creator, fan, fan2, collab1, collab2, stranger] = wallets;
  const deployment = await deploySystem({
    publicClient: publicClient as never,
    walletClient: deployer as never,
    treasury: treasury.account.address,
    mockStablecoin: true,
    subscriptionPriceNative: parseEther("0.01"),
    subscriptionPriceStable: 5_000_000n,
  });
  const at = <N extends keyof typeof ABIS>(name: N) => {
    const { address } = contractOf(deployment, name);
    return viem.getContractAt(name, address);
  };
  const contentAccess = await at("ContentAccess");
  const registry = await at("CreatorRegistry");
  const channels = await at("PaymentChannels");
  const backups = await at("BackupRegistry");
  const stable = await at("MockStablecoin");
  const liveStreams = await at("LiveStreams");
  return {
    publicClient,
    deployment,
    contentAccess,
    registry,
    channels,
    backups,
    stable,
    liveStreams,
    deployer,
    treasury,
    creator,
    fan,
    fan2,
    collab1,
    collab2,
    stranger,
    wallets,
  };
}

export type Fixture = Awaited<ReturnType<typeof deployFixture>>;

export const defaultCoin = { name: "Aria Coin", symbol: "ARIA", supply: parseEther("1000000"), creatorAllocation: parseEther("400000") };
export const defaultPass = { name: "Aria Pass", symbol: "ARIAP", maxSupply: 100n, mintPrice: parseEther("0.05"), mintEnabled: true, royaltyBps: 500 };

/** Launches `creator` with the default coin and pass; returns typed contract handles. */
export async function launch(f: Fixture, creator = f.creator, profileURI = "ipfs://profile") {
  await f.registry.write.launchCreator([defaultCoin, defaultPass, profileURI], { account: creator.account });
  const [coinAddress, passAddress] = await f.registry.read.creatorTokens([creator.account.address]);
  return {
    coin: await viem.getContractAt("CreatorCoin", coinAddress),
    pass: await viem.getContractAt("CreatorPass", passAddress),
  };
}

export const noRules = {
  minCoinBalance: 0n,
  minPasses: 0n,
  inSubscription: false,
  paymentToken: NATIVE as Address,
  price: 0n,
  duration: 0,
};

export function externalId(label: string): Hex {
  return keccak256(toHex(label));
}

/** Registers content for `creator` and returns its id. */
export async function register(
  f: Fixture,
  label: string,
  options: {
    creator?: (typeof f)["creator"];
    tier?: number;
    rules?: Partial<typeof noRules>;
    collaborators?: { account: Address; shareBps: number }[];
  } = {},
): Promise<Hex> {
  const creator = options.creator ?? f.creator;
  const ext = externalId(label);
  await f.contentAccess.write.registerContent(
    [ext, SAMPLE_CID, options.tier ?? Tier.Premium, { ...noRules, ...options.rules }, options.collaborators ?? []],
    { account: creator.account },
  );
  return f.contentAccess.read.contentIdOf([creator.account.address, ext]);
}

export const addr = (w: { account: { address: Address } }) => getAddress(w.account.address);
