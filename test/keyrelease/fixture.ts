/**
 * Key-release fixture: anvil on a free port, the whole system deployed with viem, a creator with a
 * coin and pass, content registered, an in-memory PGlite key store under a test master key, and
 * helpers to sign in over HTTP. Also used by scripts/bench-keyrelease.ts.
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  keccak256,
  parseEther,
  toHex,
  zeroAddress,
  type Account,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
  type Transport,
  type Chain,
} from "viem";
import { privateKeyToAccount, generatePrivateKey, type PrivateKeyAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { jsonRpc, startAnvil, type AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import type { AccessRules } from "@streamvault/lib/catalog/chain/content.ts";
import { startKeyReleaseServer, type KeyReleaseServer, type StartKeyReleaseServerOptions } from "@streamvault/lib/keyrelease/server.ts";
import { deploySystem } from "@streamvault/lib/deployments/deploy-system.ts";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { ABIS, contractOf, type Deployment } from "@streamvault/lib/deployments";
import { openKeyStore, type KeyStore } from "@streamvault/lib/keys";
import { generateContentKey } from "@streamvault/lib/crypto/segment.ts";

export const TEST_MASTER_KEY = new Uint8Array(32).map((_, i) => (i * 13 + 7) & 0xff);
export const SIWE_DOMAIN = "app.streamvault.test";
export const SIWE_URI = "https://app.streamvault.test";
export const Tier = { Free: 0, Premium: 1, Exclusive: 2 } as const;
export const SAMPLE_CID: Hex = toHex(new Uint8Array(41).map((_, i) => (i * 7 + 1) & 0xff));
export const COIN_MIN = parseEther("100");
export const PASS_PRICE = parseEther("0.05");
export const ITEM_PRICE = parseEther("0.01");
export const SUB_PRICE = parseEther("0.01");

type Wallet = WalletClient<Transport, Chain, Account>;

export interface ChainFixture {
  anvil: AnvilNode;
  chain: Chain;
  publicClient: PublicClient;
  deployment: Deployment;
  keyStore: KeyStore;
  wallet(account: Account): Wallet;
  rpc<T>(method: string, params?: unknown[]): Promise<T>;
  /** Sends a contract write and waits for success. */
  write(account: Account, address: Address, abi: readonly unknown[], functionName: string, args: readonly unknown[], value?: bigint): Promise<void>;
  creator: PrivateKeyAccount;
  coin: Address;
  pass: Address;
  /** Registers a premium item of the creator (coin, pass, subscription or purchase unlock it) with a stored key. */
  registerItem(label: string, rules?: Partial<Rules>, manifestCid?: Hex): Promise<{ contentId: Hex; key: Uint8Array }>;
  /** The creator offers an item per minute (PaymentChannels.setStreamPrice; token default native). */
  setStreamPrice(contentId: Hex, ratePerMinute: bigint, token?: Address): Promise<void>;
  /** `viewer` opens a native-currency channel on an item (7 days, no session key); resolves to its id. */
  openChannel(viewer: Account, contentId: Hex, deposit: bigint, ratePerMinute: bigint): Promise<bigint>;
  /** A fresh funded wallet. */
  newAccount(): Promise<PrivateKeyAccount>;
  /** Buys one access period of a native-priced item (works with purchaseAccess(contentId, price) and (contentId, termsVersion)). */
  purchase(account: Account, contentId: Hex): Promise<void>;
  stop(): Promise<void>;
}

export type Rules = AccessRules;

export const premiumRules: Rules = {
  minCoinBalance: COIN_MIN,
  minPasses: 1n,
  inSubscription: true,
  paymentToken: zeroAddress,
  price: ITEM_PRICE,
  duration: 3600,
};

export async function startChainFixture(): Promise<ChainFixture> {
  const anvil = await startAnvil();
  try {
    const chain = defineChain({
      id: 31337,
      name: "anvil",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    const publicClient = createPublicClient({ chain, transport: http(anvil.rpcUrl), pollingInterval: 20 }) as PublicClient;
    const wallet = (account: Account) => createWalletClient({ chain, account, transport: http(anvil.rpcUrl) }) as Wallet;
    const accounts = DEV_PRIVATE_KEYS.map((k) => privateKeyToAccount(k));
    const deployer = accounts[0]!;
    const creator = accounts[1]!;
    const deployment = await deploySystem({
      publicClient: publicClient as never,
      walletClient: wallet(deployer) as never,
      mockStablecoin: true,
      subscriptionPriceNative: SUB_PRICE,
    });
    const rpc = <T>(method: string, params: unknown[] = []) => jsonRpc<T>(anvil.rpcUrl, method, params);
    const write = async (account: Account, address: Address, abi: readonly unknown[], functionName: string, args: readonly unknown[], value?: bigint) => {
      const hash = await wallet(account).writeContract({ address, abi, functionName, args, value } as never);
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`${functionName} reverted`);
    };
    const registry = contractOf(deployment, "CreatorRegistry");
    await write(creator, registry.address, ABIS.CreatorRegistry, "launchCreator", [
      { name: "Aria Coin", symbol: "ARIA", supply: parseEther("1000000"), creatorAllocation: parseEther("400000") },
      { name: "Aria Pass", symbol: "ARIAP", maxSupply: 1000n, mintPrice: PASS_PRICE, mintEnabled: true, royaltyBps: 500 },
      "ipfs://profile",
    ]);
    const [coin, pass] = await publicClient.readContract({ address: registry.address, abi: ABIS.CreatorRegistry, functionName: "creatorTokens", args: [creator.address] });
    const keyStore = await openKeyStore({ inMemory: true, masterKey: TEST_MASTER_KEY, env: {} });
    const contentAccess = contractOf(deployment, "ContentAccess");
    return {
      anvil,
      chain,
      publicClient,
      deployment,
      keyStore,
      wallet,
      rpc,
      write,
      creator,
      coin,
      pass,
      async registerItem(label, rules = {}, manifestCid = SAMPLE_CID) {
        const externalId = keccak256(toHex(label));
        await write(creator, contentAccess.address, ABIS.ContentAccess, "registerContent", [externalId, manifestCid, Tier.Premium, { ...premiumRules, ...rules }, []]);
        const contentId = await publicClient.readContract({ address: contentAccess.address, abi: ABIS.ContentAccess, functionName: "contentIdOf", args: [creator.address, externalId] });
        const key = generateContentKey();
        await keyStore.putKey(contentId, key);
        return { contentId, key };
      },
      async setStreamPrice(contentId, ratePerMinute, token = zeroAddress) {
        const channels = contractOf(deployment, "PaymentChannels");
        await write(creator, channels.address, ABIS.PaymentChannels, "setStreamPrice", [contentId, token, ratePerMinute]);
      },
      async openChannel(viewer, contentId, deposit, ratePerMinute) {
        const channels = contractOf(deployment, "PaymentChannels");
        const now = Number((await publicClient.getBlock({ blockTag: "latest" })).timestamp);
        await write(viewer, channels.address, ABIS.PaymentChannels, "openChannel", [
          { contentId, token: zeroAddress, deposit, ratePerMinute, expiresAt: BigInt(now + 7 * 86_400), sessionKey: { key: zeroAddress, spendingCap: 0n, expiresAt: 0n } },
        ], deposit);
        return (await publicClient.readContract({ address: channels.address, abi: ABIS.PaymentChannels, functionName: "channelCount" })) as bigint;
      },
      async purchase(account, contentId) {
        const fn = (ABIS.ContentAccess as readonly { type: string; name?: string; inputs?: readonly { name: string }[] }[]).find((e) => e.type === "function" && e.name === "purchaseAccess");
        const read = (functionName: string) =>
          publicClient.readContract({ address: contentAccess.address, abi: ABIS.ContentAccess, functionName, args: [contentId] } as never) as Promise<unknown>;
        if (fn?.inputs?.[1]?.name === "termsVersion") {
          const [, price, , version] = (await read("purchaseTerms")) as [Address, bigint, bigint, number];
          await write(account, contentAccess.address, ABIS.ContentAccess, "purchaseAccess", [contentId, version], price);
        } else {
          const info = (await read("contentInfo")) as [Address, number, Hex, { price: bigint }];
          await write(account, contentAccess.address, ABIS.ContentAccess, "purchaseAccess", [contentId, info[3].price], info[3].price);
        }
      },
      async newAccount() {
        const account = privateKeyToAccount(generatePrivateKey());
        await rpc("anvil_setBalance", [account.address, toHex(parseEther("100"))]);
        return account;
      },
      async stop() {
        await keyStore.close().catch(() => {});
        await anvil.stop();
      },
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

/** The SIWE message a well-behaved client builds from GET /api/auth/nonce. */
export function siweMessage(
  nonce: { nonce: string; domain: string; uri: string; chainId: number; statement: string; expirationTime: string },
  address: Address,
  overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {},
): string {
  return createSiweMessage({
    address,
    domain: nonce.domain,
    uri: nonce.uri,
    chainId: nonce.chainId,
    nonce: nonce.nonce,
    statement: nonce.statement,
    version: "1",
    issuedAt: new Date(),
    expirationTime: new Date(nonce.expirationTime),
    ...overrides,
  });
}

/** Signs in over HTTP; returns the Cookie header value to send. */
export async function signIn(baseUrl: string, account: PrivateKeyAccount): Promise<string> {
  const nonce = await (await fetch(`${baseUrl}/api/auth/nonce`)).json();
  const message = siweMessage(nonce, account.address);
  const signature = await account.signMessage({ message });
  const res = await fetch(`${baseUrl}/api/auth/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message, signature }),
  });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const setCookie = res.headers.get("set-cookie")!;
  return setCookie.split(";")[0]!;
}

/** The key-release server on a free 127.0.0.1 port over this fixture's chain, keys and SIWE domain; `options` add or override. */
export function startFixtureServer(f: ChainFixture, options: Partial<StartKeyReleaseServerOptions> = {}): Promise<KeyReleaseServer> {
  return startKeyReleaseServer({ port: 0, publicClient: f.publicClient, deployment: f.deployment, keyStore: f.keyStore, siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI }, ...options });
}
